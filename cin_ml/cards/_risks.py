"""The risks a card shows: ranked by kind (fairness failures first, missing evidence last)
and grouped, so many near-identical findings (one per group of every pair of columns) read
as one line naming the worst few and how many more. ``card.json`` keeps every risk."""

from __future__ import annotations

from cin_ml.cards._labels import attribute_label, feature_label
from cin_ml.cards._schema import ModelCard, Risk
from cin_ml.cards._words import metric_name
from cin_ml.glossary import fmt_number, group_label

__all__ = ["risk_lines"]

#: kinds (``Risk.code`` before ``:``), most serious first (a judged failure, a fairness
#: question left open, groups missed above the ceiling, then choices and missing steps);
#: any other kind comes last. The order :func:`cin_ml.cards.build_card` records them in.
RANK = ("fairness_fail", "fairness_insufficient", "fnr_ceiling", "fnr_ceiling_possible",
        "sensitive_feature", "fairness_not_run", "explain_not_run")
GROUP_ABOVE = 2
"""A kind with more risks than this is shown as one line."""
N_NAMED = 5
"""Items a grouped line names before "and N more"."""


def _kind(r: Risk) -> str:
    return r.code.split(":", 1)[0]


def _rank(kind: str) -> int:
    return RANK.index(kind) if kind in RANK else len(RANK)


def _items(names: list[str], lang: str) -> str:
    shown = "; ".join(names[:N_NAMED])
    rest = len(names) - N_NAMED
    if rest <= 0:
        return shown
    return shown + (f" et {rest} autre(s)" if lang == "fr" else f" and {rest} more")


def _grouped(kind: str, risks: list[Risk], card: ModelCard, lang: str) -> str:
    fr = lang == "fr"
    metric = metric_name(card.fairness.primary_metric, lang, short=True)
    subjects = [r.code.split(":", 1)[1] for r in risks]
    if kind == "fairness_fail":
        names = [attribute_label(x).get(lang) for x in subjects]
        return (f"Écart d'équité au-delà de la tolérance ({metric}) selon {len(names)} "
                f"découpages : {_items(names, lang)}." if fr else
                f"Fairness disparity beyond tolerance ({metric}) by {len(names)} breakdowns: "
                f"{_items(names, lang)}.")
    if kind == "fnr_ceiling":
        fnr = {f"{f.breakdown}={f.group}": f.fnr.estimate or 0.0 for f in card.fairness.fnr_flags}
        ranked = sorted(subjects, key=lambda x: -fnr.get(x, 0.0))       # worst first
        names = []
        for x in ranked:
            b, g = x.split("=", 1)
            est = fnr.get(x)
            val = "" if est is None else f" ({fmt_number(est, lang, 2)})"
            names.append(f"{attribute_label(b).get(lang)} — {group_label(b, g, lang)}{val}")
        return (f"{len(names)} groupes dont les élèves à risque sont manqués plus souvent "
                f"que le plafond le permet (taux de faux négatifs au-dessus du plafond), du "
                f"pire au moins grave : {_items(names, lang)}." if fr else
                f"{len(names)} groups whose at-risk students are missed more often than the "
                f"ceiling allows (false negative rate above the ceiling), worst first: "
                f"{_items(names, lang)}.")
    if kind == "sensitive_feature":
        subjects = [feature_label(x).get(lang) for x in subjects]
        return (f"{len(subjects)} données sensibles utilisées comme variables : "
                f"{_items(subjects, lang)} (justifications écrites à la section Politique des "
                f"variables)." if fr else
                f"{len(subjects)} sensitive attributes used as features: "
                f"{_items(subjects, lang)} (written justifications in the Feature policy "
                f"section).")
    return "\n".join(r.text.get(lang) for r in risks)        # not a kind that repeats


def risk_lines(card: ModelCard, lang: str) -> list[str]:
    """The card's risks in ``lang``: most serious kind first, a kind with more than
    :data:`GROUP_ABOVE` risks as one line."""
    by_kind: dict[str, list[Risk]] = {}
    for r in card.considerations.risks:
        by_kind.setdefault(_kind(r), []).append(r)
    lines = []
    for kind in sorted(by_kind, key=_rank):
        risks = by_kind[kind]
        if len(risks) > GROUP_ABOVE and kind in ("fairness_fail", "fnr_ceiling",
                                                 "sensitive_feature"):
            lines.append(_grouped(kind, risks, card, lang))
        else:
            lines += [r.text.get(lang) for r in risks]
    return lines
