"""Completeness: what keeps a card from being "ready for review".

Required human sections (both languages): primary uses, primary users, at least one
out-of-scope use, human oversight, recourse (how and whom to contact), ethical
considerations, caveats. Required evidence: the fairness audit, the explanations, a clean
feature policy, the virtual-CSS report when the model was trained on a virtual CSS, and the
data-use agreements unless the data are shown to be simulated.
"""

from __future__ import annotations

from cin_ml.cards._schema import Gap, ModelCard, Text
from cin_ml.cards._sections import is_blank

__all__ = ["find_gaps"]

# (code, section, label fr, label en, getter)
_HUMAN = (
    ("intended_use.primary_uses", "intended_use", "usages prévus", "intended uses",
     lambda c: c.intended_use.primary_uses),
    ("intended_use.primary_users", "intended_use", "utilisateurs prévus", "intended users",
     lambda c: c.intended_use.primary_users),
    ("human_oversight", "human_oversight", "supervision humaine", "human oversight",
     lambda c: c.human_oversight),
    ("recourse.how", "recourse", "recours (démarche)", "recourse (how to ask)",
     lambda c: c.recourse.how),
    ("recourse.contact", "recourse", "recours (personne à joindre)", "recourse (contact)",
     lambda c: c.recourse.contact),
    ("ethical_considerations", "considerations", "considérations éthiques",
     "ethical considerations", lambda c: c.considerations.ethical),
    ("caveats", "considerations", "mises en garde", "caveats",
     lambda c: c.considerations.caveats),
)


def _human(code: str, section: str, fr: str, en: str, langs: list[str]) -> Gap:
    return Gap(code=f"human:{code}", section=section, kind="human", message=Text(
        fr=f"section à rédiger : {fr} ({', '.join(langs)})",
        en=f"section to write: {en} ({', '.join(langs)})"))


def _evidence(code: str, section: str, fr: str, en: str) -> Gap:
    return Gap(code=f"evidence:{code}", section=section, kind="evidence",
               message=Text(fr=fr, en=en))


def find_gaps(card: ModelCard) -> tuple[Gap, ...]:
    """Every missing human section and missing piece of evidence of ``card``, in card order.

    An empty tuple means the card may be marked ready for review.
    """
    gaps: list[Gap] = []
    for code, section, fr, en, get in _HUMAN:
        t: Text = get(card)
        missing = [lang for lang in ("fr", "en") if is_blank(t.get(lang))]
        if missing:
            gaps.append(_human(code, section, fr, en, missing))
    oos = card.intended_use.out_of_scope
    if not oos or any(is_blank(o.fr) or is_blank(o.en) for o in oos):
        gaps.append(_human("intended_use.out_of_scope", "intended_use",
                           "usages hors du champ (au moins un, fr et en)",
                           "out-of-scope uses (at least one, fr and en)", ["fr", "en"]))
    if card.fairness.status != "available":
        gaps.append(_evidence("fairness", "fairness", "audit d'équité non exécuté",
                              "fairness audit not run"))
    if card.explanations.status != "available":
        gaps.append(_evidence("explanations", "explanations", "explications non calculées",
                              "explanations not computed"))
    fp = card.feature_policy
    if fp.status != "available":
        gaps.append(_evidence("feature_policy", "feature_policy",
                              "résultat de la politique des variables absent",
                              "feature-policy result missing"))
    elif not fp.clean:
        gaps.append(_evidence("feature_policy.clean", "feature_policy",
                              "politique des variables non respectée "
                              f"({', '.join(fp.forbidden_used) or 'justification manquante'})",
                              "feature policy not met "
                              f"({', '.join(fp.forbidden_used) or 'missing justification'})"))
    if card.virtual_css.status == "not_run":
        gaps.append(_evidence("virtual_css", "virtual_css",
                              "rapport de fidélité et de confidentialité du CSS virtuel absent",
                              "virtual CSS fidelity and privacy report missing"))
    if card.provenance.agreements_status == "not_run":
        gaps.append(_evidence("agreements", "provenance",
                              "ententes d'utilisation des données non consignées",
                              "data-use agreements not recorded"))
    return tuple(gaps)
