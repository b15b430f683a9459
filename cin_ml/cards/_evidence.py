"""Evidence sections of a card, read from the plain dicts a run logged (no mlflow here).

Each reader takes the published ``to_dict()`` form of an upstream record, or ``None`` when
that step has not been run, and returns a card section whose ``status`` says so.
"""

from __future__ import annotations

from collections.abc import Mapping

from cin_ml.cards._labels import family_label, feature_label
from cin_ml.cards._schema import (
    CalibrationGroupRow,
    Driver,
    Explanations,
    FairnessBreakdown,
    FairnessGroup,
    FamilyShare,
    FeaturePolicy,
    FnrFlagRow,
    Interval,
    Justification,
    MonotoneFamily,
    Text,
    VirtualCheck,
    VirtualCSS,
)
from cin_ml.cards._schema import Fairness as FairnessSection
from cin_ml.explain import additivity_bound
from cin_ml.glossary import has_label, label

N_DRIVERS = 8
_FORBIDDEN_ROLES = ("direct_identifier", "workforce", "target")


def _interval(d: Mapping | None, value_key: str = "value") -> Interval:
    d = d or {}
    return Interval(estimate=d.get(value_key, d.get("estimate")), low=d.get("low"),
                    high=d.get("high"))


def fairness_section(audit: Mapping | None, mitigation: Mapping | None = None
                     ) -> FairnessSection:
    """Fairness section from ``fairness/audit.json`` (``None``: audit not run)."""
    if audit is None:
        return FairnessSection(status="not_run", note=Text(
            fr="L'audit d'équité n'a pas été exécuté pour ce modèle (cin-ml audit).",
            en="The fairness audit has not been run for this model (cin-ml audit)."))
    pol = audit.get("policy", {})
    primary = pol.get("primary_metric", "fnr")
    breakdowns = []
    for b in audit.get("breakdowns", []):
        single = len(b["attributes"]) == 1
        groups = []
        for g in b["groups"]:
            v = g["verdicts"].get(primary)
            # intersections: only the groups the committee must look at
            if not single and (g["suppressed"] or v not in ("fail", "inconclusive")):
                continue
            hidden = g["suppressed"] is not None
            groups.append(FairnessGroup(
                label=" × ".join(g["labels"]), is_reference=g["is_reference"],
                suppressed=g["suppressed"], n=None if hidden else g["n"],
                rate=Interval() if hidden else _interval(g["metrics"].get(primary)),
                difference=(Interval() if hidden or g["is_reference"]
                            else _interval(g["difference"].get(primary))),
                verdict=v))
        breakdowns.append(FairnessBreakdown(
            name=b["name"], reference=" × ".join(b["reference"]),
            verdicts=dict(b["verdicts"]), groups=tuple(groups),
            mdd={k: v for k, v in (b.get("mdd") or {}).items() if v is not None}))
    flags = tuple(FnrFlagRow(breakdown=f["breakdown"], group=" × ".join(f["labels"]),
                             fnr=_interval(f["fnr"]), confirmed=f["confirmed"])
                  for f in sorted(audit.get("fnr_ceiling_flags", []),   # worst first
                                  key=lambda f: -((f.get("fnr") or {}).get("value") or 0.0))
                  if not f.get("suppressed"))  # say nothing about a suppressed cell
    tol = {m: {"ratio": tuple(t["ratio"]) if t.get("ratio") else None,
               "difference": t.get("difference")}
           for m, t in sorted(pol.get("tolerances", {}).items())}
    metrics = (primary, *pol.get("secondary_metrics", ()))
    mit = Text()
    if mitigation is not None:
        st = mitigation.get("statement", {})
        mit = Text(fr=st.get("fr", ""), en=st.get("en", ""))
    return FairnessSection(
        status="available", primary_metric=primary, metrics=tuple(metrics),
        worst_verdict=audit.get("worst_verdict"), n=audit.get("n"),
        suppress_below=pol.get("suppress_below"), min_group_size=pol.get("min_group_size"),
        min_outcome_count=pol.get("min_outcome_count"),
        confidence_level=pol.get("confidence_level"),
        fnr_ceiling=_ceiling(audit, pol),
        fnr_ceiling_factor=(pol.get("fnr_ceiling_factor")
                            if pol.get("fnr_ceiling") == "relative" else None),
        fnr_flags_shown=int(pol.get("fnr_flags_shown", 5)),
        tolerances={m: tol[m] for m in metrics if m in tol},
        breakdowns=tuple(breakdowns), fnr_flags=flags, mitigation=mit,
        **_calibration_rows(audit.get("calibration_within_groups")))


def _calibration_rows(cal: Mapping | None) -> dict:
    """Calibration within groups (``audit.json``), suppressed groups without numbers."""
    if not cal:
        return {}
    rows = []
    for b in cal.get("breakdowns", []):
        for g in b["groups"]:
            hidden = g.get("suppressed")
            rows.append(CalibrationGroupRow(
                attribute=b["attribute"], group=str(g["group"]),
                n=None if hidden else g.get("n"),
                intercept=Interval() if hidden else _interval(g.get("intercept")),
                slope=Interval() if hidden else _interval(g.get("slope")),
                verdict=g["verdict"]))
    return {"calibration_groups": tuple(rows),
            "calibration_tolerance": {"intercept": cal["intercept_tolerance"],
                                      "slope": tuple(cal["slope_range"])}}


def _ceiling(audit: Mapping, pol: Mapping) -> float | None:
    """The FNR ceiling the audit applied (older audits: the policy's number)."""
    if audit.get("fnr_ceiling") is not None:
        return float(audit["fnr_ceiling"])
    value = pol.get("fnr_ceiling")
    return float(value) if isinstance(value, int | float) else None


def explanations_section(explain: Mapping | None,
                         monotone: Mapping | None = None) -> Explanations:
    """Explanation section from ``explain/global.json`` (``None``: explain not run) and the
    model's monotone constraints (``model_meta.json["monotone"]``)."""
    if explain is None:
        return Explanations(status="not_run", note=Text(
            fr="Les explications n'ont pas été calculées pour ce modèle (cin-ml explain).",
            en="Explanations have not been computed for this model (cin-ml explain)."))
    g = explain["global"]
    total = sum(f["mean_abs"] for f in g["per_feature"]) or 1.0
    drivers = tuple(Driver(feature=f["feature"], label=feature_label(f["feature"]),
                           family=f["family"], mean_abs=round(f["mean_abs"], 6),
                           share=round(f["mean_abs"] / total, 4), mean=round(f["mean"], 6))
                    for f in g["per_feature"][:N_DRIVERS])
    fam_total = sum(f["mean_abs"] for f in g["per_family"]) or 1.0
    fams = tuple(FamilyShare(family=f["family"], label=family_label(f["family"]),
                             share=round(f["mean_abs"] / fam_total, 4))
                 for f in g["per_family"])
    stab = g.get("stability") or {}
    ex = explain.get("explainer", {})
    add = explain.get("additivity_max_error")
    rs = explain.get("reasons") or {}
    check, truth = rs.get("check") or {}, rs.get("truth") or {}
    mono = monotone or {}
    fams_m = tuple(MonotoneFamily(family=f, label=family_label(f), direction=d)
                   for f, d in (mono.get("families") or {}).items() if d != "free")
    return Explanations(
        status="available", method=str(ex.get("method", ex.get("name", "tree SHAP"))),
        n_students=g.get("n_students"), drivers=drivers, families=fams,
        stability_spearman_median=stab.get("spearman_median"),
        stability_top_k_overlap_min=stab.get("top_k_overlap_min"),
        additivity_max_error=None if add is None else additivity_bound(add),
        reasons_method=str(rs.get("method", "")), reason_level=str(rs.get("level", "")),
        materiality_points=rs.get("materiality_points"), monotone_families=fams_m,
        monotone_method=str(mono.get("method", "")) if fams_m else "",
        reasons_checked=check.get("n_reasons"), students_checked=check.get("n_students"),
        contradictions=check.get("contradictions"), truth_agreement=truth.get("agreement"),
        truth_pairs=truth.get("n_judged"), truth_inert_first=truth.get("inert_first_reason"))


def _justification_fr(decision: Mapping) -> str:
    """The French justification: the policy's own, else the glossary's words for a catalogued
    aggregate's reason; empty when neither exists."""
    if decision.get("justification"):
        return decision.get("justification_fr") or ""
    key = f"policy_reason.{decision['feature']}"
    return label(key, "fr") if has_label(key) else ""


def feature_policy_section(policy: Mapping | None) -> FeaturePolicy:
    """Feature-policy section from ``policy/feature_policy.json``."""
    if policy is None:
        return FeaturePolicy(status="not_run", note=Text(
            fr="L'exécution ne contient aucun résultat de politique des variables.",
            en="The run holds no feature-policy result."))
    decisions = policy.get("decisions", [])
    used = set(policy.get("features_used", []))
    forbidden = tuple(d["feature"] for d in decisions
                      if d.get("included") and d.get("role") in _FORBIDDEN_ROLES)
    justified = tuple(Justification(feature=d["feature"], role=d["role"],
                                    text=d.get("justification") or d.get("reason", ""),
                                    text_fr=_justification_fr(d))
                      for d in decisions
                      if d.get("included") and d.get("role") in ("sensitive",
                                                                 "quasi_identifier"))
    unjustified_sensitive = [j.feature for j in justified
                             if j.role == "sensitive" and not j.text.strip()]
    return FeaturePolicy(
        status="available", features_used=tuple(policy.get("features_used", [])),
        features_excluded=tuple(policy.get("features_excluded", [])), justified=justified,
        forbidden_used=forbidden,
        clean=not forbidden and not unjustified_sensitive and bool(used))


def _targets(report: Mapping) -> dict:
    return (report.get("details") or {}).get("targets") or {}


def _virtual_checks(report: Mapping) -> list[VirtualCheck]:
    fid, priv = report.get("fidelity") or {}, report.get("privacy") or {}
    ver, tg = report.get("verdicts") or {}, _targets(report)
    dcr, mia = priv.get("dcr") or {}, priv.get("membership_inference") or {}
    rows = [
        ("fidelity", "quality", fid.get("quality"), f"≥ {tg.get('quality_target', '?')}",
         ver.get("quality")),
        ("fidelity", "column_shapes", fid.get("column_shapes"), "", None),
        ("fidelity", "column_pair_trends", fid.get("column_pair_trends"), "", None),
        ("fidelity", "validity", fid.get("validity"), f"≥ {tg.get('validity_target', '?')}",
         ver.get("validity")),
        ("privacy", "exact_match_rate", priv.get("exact_match_rate"), "= 0",
         ver.get("no_exact_copies")),
        ("privacy", "dcr_closer_to_training", dcr.get("closer_to_training"),
         f"≤ {tg.get('dcr_max_closer_to_training', '?')}", ver.get("dcr")),
        ("privacy", "membership_inference_auc", mia.get("auc"),
         f"≤ {tg.get('mia_max_auc', '?')}", ver.get("membership_inference")),
    ]
    for task, u in sorted((report.get("utility") or {}).items()):
        if "ratio" in u:
            rows += [("utility", f"{task}.auc_ratio", u["ratio"],
                      f"≥ {tg.get('utility_min_ratio', '?')}", None),
                     ("utility", f"{task}.top_driver_overlap", u.get("top_driver_overlap"),
                      "", None)]
    if "utility" in ver:
        rows.append(("utility", "verdict", None, "", ver["utility"]))
    return [VirtualCheck(area=a, key=k, value=None if v is None else float(v), target=t,
                         passed=None if p is None else bool(p))
            for a, k, v, t, p in rows if v is not None or p is not None]


def virtual_css_section(data_form: str, report: Mapping | None,
                        problem: str | None = None) -> VirtualCSS:
    """Virtual-CSS section: not applicable unless the model was trained on a virtual CSS.

    ``report`` is the virtual CSS evaluation report (``report.json`` of ``cin-ml
    virtualize``: fidelity, privacy, utility, verdicts, passed, synthesis); ``problem`` says
    why no report could be used (e.g. its digest does not match the training data).
    """
    if data_form != "virtual":
        return VirtualCSS(status="not_applicable", note=Text(
            fr="Modèle entraîné sur des données dépersonnalisées, pas sur un CSS virtuel.",
            en="Model trained on de-identified data, not on a virtual CSS."))
    if report is None:
        why = f" ({problem})" if problem else ""
        return VirtualCSS(status="not_run", note=Text(
            fr="Aucun rapport de fidélité et de confidentialité n'accompagne le CSS virtuel "
               f"utilisé pour l'entraînement{why}.",
            en="No fidelity and privacy report accompanies the virtual CSS used for "
               f"training{why}."))
    synth = (report.get("synthesis") or {}).get("synthesizer", "")
    passed = report.get("passed")
    return VirtualCSS(status="available", synthesizer=str(synth),
                      checks=tuple(_virtual_checks(report)),
                      overall_pass=None if passed is None else bool(passed))
