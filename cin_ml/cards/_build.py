"""Build a :class:`ModelCard` from a run's evidence (plain dicts) and the human sections."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from cin_ml.cards._complete import find_gaps
from cin_ml.cards._evidence import (
    explanations_section,
    fairness_section,
    feature_policy_section,
    virtual_css_section,
)
from cin_ml.cards._labels import attribute_label, feature_label, group_label, term
from cin_ml.cards._over_time import over_time
from cin_ml.cards._schema import (
    Considerations,
    DataSplit,
    Factors,
    IntendedUse,
    Interval,
    MetricRow,
    Metrics,
    ModelCard,
    ModelDetails,
    Provenance,
    Recourse,
    Risk,
    Text,
)
from cin_ml.cards._sections import CardSections
from cin_ml.cards._subject import subject_section
from cin_ml.errors import DataError, GovernanceError
from cin_ml.glossary import fmt_number, has_label, label
from cin_ml.run_contract import Tag

__all__ = ["CardEvidence", "IncompleteCardError", "build_card"]

# headline metrics, in card order (keys of evaluation["bootstrap"]["intervals"])
_MAX_LISTED = 6
# the model type says nothing of calibration when there is none (the Calibration row does)
_UNCALIBRATED = "LightGBM gradient-boosted trees, probability of the event"
METRIC_KEYS = ("model_auc", "indicator_auc", "logistic_auc", "oracle_auc",
               "model_average_precision", "model_brier", "recall", "precision", "fnr", "fpr")


class IncompleteCardError(GovernanceError):
    """A "ready for review" card was asked for while sections or evidence are missing."""

    def __init__(self, message: str, gaps: tuple = ()) -> None:
        super().__init__(message)
        self.gaps = tuple(gaps)


@dataclass(frozen=True)
class CardEvidence:
    """What a card is built from: the run's records as plain JSON-like data.

    ``run`` holds ``run_id``, ``task``, ``experiment_id``, ``status``, ``tags``,
    ``model_uri``, ``start_time`` (ISO date of training, optional); ``evaluation`` is
    ``evaluation/metrics.json``; ``fairness`` is ``fairness/audit.json``, ``explain`` is
    ``explain/global.json``, ``virtual_css`` the virtual CSS evaluation report: each
    ``None`` when that step has not been run (``virtual_css_problem`` then says why no
    report could be used). ``dataset_digests`` maps a dataset name to its SHA-256.
    ``spec`` and ``dataset`` are a dataset spec's ``external/spec.json`` and
    ``external/dataset.json`` (``None`` for a CSS task): the card then takes its title,
    target sentence, baselines and reference groups from the spec.
    """

    run: Mapping
    model_meta: Mapping
    evaluation: Mapping
    feature_policy: Mapping | None = None
    fairness: Mapping | None = None
    mitigation: Mapping | None = None
    explain: Mapping | None = None
    virtual_css: Mapping | None = None
    virtual_css_problem: str | None = None
    dataset_digests: Mapping[str, str] = field(default_factory=dict)
    spec: Mapping | None = None
    dataset: Mapping | None = None


def _metrics(ev: Mapping) -> Metrics:
    boot = ev.get("bootstrap", {})
    iv = boot.get("intervals", {})
    rows = tuple(MetricRow(key=k, value=Interval(**{x: iv[k].get(x) for x in
                                                    ("estimate", "low", "high")}))
                 for k in METRIC_KEYS if k in iv)
    at, ind = ev.get("at_threshold", {}), ev.get("indicator_at_flag", {})
    cohorts, stab = over_time(ev.get("rolling"))
    ctx = ev.get("context_baseline") or {}
    gain = ctx.get("difference")
    return Metrics(rows=rows, cohorts=cohorts, stability=stab,
                   context_recall=ctx.get("context_recall_at_capacity"),
                   recall_at_capacity=ctx.get("recall_at_capacity"),
                   context_gain=Interval(**{x: gain.get(x) for x in ("estimate", "low", "high")})
                   if gain else None,
                   ci_level=boot.get("ci_level"), n_boot=boot.get("n_boot"),
                   oracle_available="oracle_auc" in iv,
                   auc_gap_to_oracle=ev.get("auc_gap_to_oracle"),
                   flag_rate=at.get("flag_rate"), ece=(ev.get("reliability") or {}).get("ece"),
                   indicator_recall=ind.get("recall"), indicator_flag_rate=ind.get("flag_rate"),
                   recall_at_indicator_rate=ev.get("model_at_indicator_rate", {}).get("recall"))


def _provenance(ev: CardEvidence, s: CardSections, has_truth: bool) -> Provenance:
    tags = ev.run.get("tags", {})
    form = tags.get(Tag.DATA_FORM, "unknown")
    if has_truth:
        origin, basis = "simulated", Text(
            fr="simulées : l'exécution a été évaluée contre la vérité du simulateur (AUC oracle)",
            en="simulated: the run was evaluated against the simulator's ground truth "
               "(oracle AUC)")
    else:
        origin = s.provenance.origin
        basis = Text(fr=f"déclarée par l'auteur de la fiche ({label(f'origin.{origin}', 'fr')}), "
                        f"non vérifiée par l'exécution",
                     en=f"declared by the card's author ({label(f'origin.{origin}', 'en')}), "
                        f"not verified by the run")
    agreements = tuple(a.record() for a in s.provenance.agreements)
    if not agreements:  # [access] the agreements training relied on (consent/scope.json)
        from cin_ml.cards._schema import Agreement

        agreements = tuple(
            Agreement(agreement_id=r["id"], css_id=r["css_id"], dataset=r["dataset"],
                      purpose=r.get("purpose", ""), valid_until=r.get("retention_end", ""),
                      signatory=r.get("signatory", ""))
            for r in (ev.run.get("consent") or {}).get("agreement_records", ()))
    if agreements:
        status, note = "available", Text()
    elif origin == "simulated":
        status, note = "not_applicable", Text(
            fr="Données simulées : aucun élève réel, aucune entente d'utilisation requise.",
            en="Simulated data: no real student, no data-use agreement required.")
    else:
        status, note = "not_run", Text(
            fr="Aucune entente d'utilisation des données n'est consignée pour ces données.",
            en="No data-use agreement is recorded for these data.")
    return Provenance(
        data_form=form, origin=origin, origin_basis=basis, data_dir=tags.get(Tag.DATA_DIR, ""),
        css=tuple(s.provenance.css), agreements_status=status, agreements=agreements,
        agreements_note=note, retention=s.provenance.retention.text(),
        dataset_digests=dict(sorted(ev.dataset_digests.items())))


def _fairness_risks(fair) -> list[Risk]:
    out = []
    m = fair.primary_metric
    for b in fair.breakdowns:
        if b.verdicts.get(m) == "fail":
            lab, mn = attribute_label(b.name), metric_label(m)
            out.append(Risk(code=f"fairness_fail:{b.name}", text=Text(
                fr=f"Écart d'équité au-delà de la tolérance ({mn.fr}) selon : {lab.fr}.",
                en=f"Fairness disparity beyond tolerance ({mn.en}) by: {lab.en}.")))
    too_small = [b.name for b in fair.breakdowns
                 if "×" not in b.name and b.verdicts.get(m) == "insufficient_data"]
    if too_small:
        fr = ", ".join(attribute_label(x).fr for x in too_small)
        en = ", ".join(attribute_label(x).en for x in too_small)
        out.append(Risk(code="fairness_insufficient", text=Text(
            fr=f"Équité non jugeable (groupes trop petits dans la cohorte de test) selon : {fr}.",
            en=f"Fairness cannot be judged (groups too small in the test cohort) by: {en}.")))
    confirmed = [f for f in fair.fnr_flags if f.confirmed]
    possible = [f for f in fair.fnr_flags if not f.confirmed]
    ceiling = fair.fnr_ceiling if fair.fnr_ceiling is not None else 0.5
    c_fr, c_en = fmt_number(ceiling, "fr", 2), fmt_number(ceiling, "en", 2)
    for f in confirmed:
        lab, grp = attribute_label(f.breakdown), group_label(f.breakdown, f.group)
        out.append(Risk(code=f"fnr_ceiling:{f.breakdown}={f.group}", text=Text(
            fr=f"{lab.fr} — {grp.fr} : les élèves à risque de ce groupe sont manqués plus "
               f"souvent que le plafond le permet (taux de faux négatifs au-dessus de {c_fr}).",
            en=f"{lab.en} — {grp.en}: the at-risk students of this group are missed more "
               f"often than the ceiling allows (false negative rate above {c_en}).")))
    if possible:
        def listed(lang: str) -> str:
            names = [f"{attribute_label(f.breakdown).get(lang)} — "
                     f"{group_label(f.breakdown, f.group).get(lang)}" for f in possible]
            rest = len(names) - _MAX_LISTED
            more = "" if rest <= 0 else (f" et {rest} autre(s)" if lang == "fr"
                                         else f" and {rest} more")
            return "; ".join(names[:_MAX_LISTED]) + more

        out.append(Risk(code="fnr_ceiling_possible", text=Text(
            fr=f"{len(possible)} groupe(s) ont un taux de faux négatifs estimé au-dessus du "
               f"plafond ({c_fr}), sans certitude statistique, du pire au moins grave : "
               f"{listed('fr')}.",
            en=f"{len(possible)} group(s) have an estimated false negative rate above the "
               f"ceiling ({c_en}), without statistical certainty, worst first: "
               f"{listed('en')}.")))
    return out


def metric_label(metric: str) -> Text:
    """Short words for a fairness metric (``fnr`` -> "faux négatifs" / "false negatives")."""
    return term(f"metric_short.{metric}") if has_label(f"metric_short.{metric}") else term(
        f"metric.{metric}")


def _risks(card_parts: dict) -> tuple[Risk, ...]:
    """Risks derived from the evidence (the human text adds the rest)."""
    fair, expl, pol = card_parts["fairness"], card_parts["explanations"], card_parts["policy"]
    out = _fairness_risks(fair) if fair.status == "available" else []
    for j in pol.justified:
        if j.role == "sensitive":
            out.append(Risk(code=f"sensitive_feature:{j.feature}", text=Text(
                fr=f"Donnée sensible utilisée comme variable : {feature_label(j.feature).fr} "
                   f"(justification "
                   f"écrite à la section Politique des variables).",
                en=f"Sensitive attribute used as a feature: {feature_label(j.feature).en} (written "
                   f"justification in the Feature policy section).")))
    for status, code, fr, en in (
            (fair.status, "fairness_not_run", "Équité non vérifiée : audit non exécuté.",
             "Fairness not checked: audit not run."),
            (expl.status, "explain_not_run", "Facteurs du modèle inconnus : explications non "
             "calculées.", "Model drivers unknown: explanations not computed.")):
        if status == "not_run":
            out.append(Risk(code=code, text=Text(fr=fr, en=en)))
    return tuple(out)


def build_card(evidence: CardEvidence, sections: CardSections, *,
               ready_for_review: bool = False) -> ModelCard:
    """Build the model card of a run.

    Parameters
    ----------
    evidence
        The run's records (see :class:`CardEvidence`); nothing is invented for a step that
        has not been run: its section says so.
    sections
        The human-written sections (``configs/cards/<task>.toml``).
    ready_for_review
        Ask for a "ready for review" card: refused while a required human section or a
        required piece of evidence is missing. Otherwise the card is a ``draft`` (with its
        gaps listed) unless it is complete, in which case it is ``ready_for_review``.

    Raises
    ------
    DataError
        The evidence is not a training run of the sections' task.
    IncompleteCardError
        ``ready_for_review`` was asked for and the card has gaps (listed on ``.gaps``).
    """
    run, ev, meta = evidence.run, evidence.evaluation, evidence.model_meta
    task = run.get("task") or meta.get("task")
    if task != sections.task:
        raise DataError(f"run {run.get('run_id')} is for task '{task}'; the card sections "
                        f"are for '{sections.task}'")
    thr = meta.get("threshold") or ev.get("threshold") or {}
    if "value" not in thr or "bootstrap" not in ev:
        raise DataError(f"run {run.get('run_id')}: evaluation/metrics.json or model_meta.json "
                        f"lacks the threshold or bootstrap intervals")
    split = ev.get("split", {})
    tags = run.get("tags", {})
    calibration = (meta.get("calibrator") or {}).get("method", "unknown")
    metrics = _metrics(ev)
    details = ModelDetails(
        task=task, run_id=str(run["run_id"]), experiment_id=str(run.get("experiment_id", "")),
        model_uri=str(run.get("model_uri", "")), run_status=str(run.get("status", "")),
        trained_at=run.get("start_time"), git_commit=tags.get(Tag.GIT_COMMIT, "unknown"),
        n_features=len(meta.get("features", ())), calibration=calibration,
        **({"model_type": _UNCALIBRATED} if calibration == "none" else {}),
        threshold=float(thr["value"]), threshold_mode=str(thr.get("mode", "")),
        capacity=thr.get("capacity"), target_recall=thr.get("target_recall"),
        prepared_by=sections.prepared_by)
    fair = fairness_section(evidence.fairness, evidence.mitigation)
    expl = explanations_section(evidence.explain, meta.get("monotone"))
    pol = feature_policy_section(evidence.feature_policy)
    iu = sections.intended_use
    parts = dict(
        status="draft", model_details=details,
        intended_use=IntendedUse(primary_uses=iu.primary_uses.text(),
                                 primary_users=iu.primary_users.text(),
                                 out_of_scope=tuple(o.text() for o in iu.out_of_scope)),
        factors=Factors(
            audited_attributes=tuple(b.name for b in fair.breakdowns if "×" not in b.name),
            intersections=tuple(b.name for b in fair.breakdowns if "×" in b.name),
            relevant=sections.relevant_factors.text()),
        metrics=metrics,
        evaluation_data=DataSplit(cohorts=tuple(split.get("test_cohorts") or (
                                      (split["test_cohort"],) if "test_cohort" in split
                                      else ())), n=ev.get("n_test"),
                                  event_rate=ev.get("test_event_rate")),
        training_data=DataSplit(cohorts=tuple(split.get("train_cohorts", ())),
                                n=ev.get("n_train")),
        validation_data=DataSplit(cohorts=(split["valid_cohort"],)
                                  if split.get("valid_cohort") is not None else (),
                                  n=ev.get("n_valid")),
        fairness=fair, explanations=expl, feature_policy=pol,
        provenance=_provenance(evidence, sections, metrics.oracle_available),
        virtual_css=virtual_css_section(tags.get(Tag.DATA_FORM, ""), evidence.virtual_css,
                                        evidence.virtual_css_problem),
        considerations=Considerations(
            ethical=sections.ethical_considerations.text(), caveats=sections.caveats.text(),
            risks=_risks({"fairness": fair, "explanations": expl, "policy": pol})),
        human_oversight=sections.human_oversight.text(),
        subject=subject_section(evidence.spec, evidence.dataset, ev),
        recourse=Recourse(how=sections.recourse.how.text(),
                          contact=sections.recourse.contact.text()))
    draft = ModelCard(**parts)
    gaps = find_gaps(draft)
    if ready_for_review and gaps:
        raise IncompleteCardError(
            f"card for run {details.run_id} is not ready for review: "
            + "; ".join(g.message.en for g in gaps), gaps)
    return draft.model_copy(update={"gaps": gaps,
                                    "status": "draft" if gaps else "ready_for_review"})
