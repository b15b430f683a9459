"""Plain-language labels (fr, en) for tasks, feature families, features and audited
attributes, so a committee member reads "reading mark, grade 3", not ``lecture_g3_mean``."""

from __future__ import annotations

from cin_ml.cards._schema import Text
from cin_ml.features import parse_feature
from cin_ml.tasks import task_label

FAMILIES = {
    "lecture": Text(fr="Lecture", en="Reading"),
    "ecriture": Text(fr="Écriture", en="Writing"),
    "resoudre": Text(fr="Résolution de problèmes (math.)", en="Problem solving (math)"),
    "raisonner": Text(fr="Raisonnement mathématique", en="Mathematical reasoning"),
    "absences": Text(fr="Absences", en="Absences"),
    "parcours": Text(fr="Parcours scolaire", en="School path"),
    "contexte": Text(fr="Contexte (école, famille)", en="Context (school, family)"),
    "plan": Text(fr="Plan d'intervention", en="Intervention plan"),
    "autre": Text(fr="Autre", en="Other"),
}

ATTRIBUTES = {
    "sex": Text(fr="Sexe", en="Sex"),
    "intervention_plan": Text(fr="Plan d'intervention", en="Intervention plan"),
    "language_group": Text(fr="Groupe linguistique", en="Language group"),
    "immigration_generation": Text(fr="Génération d'immigration", en="Immigration generation"),
    "imse_band": Text(fr="Milieu socio-économique (IMSE)", en="Socio-economic index (IMSE)"),
}

_COMP = {"lecture": ("lecture", "reading"), "ecriture": ("écriture", "writing"),
         "resoudre": ("résolution de problèmes", "problem solving"),
         "raisonner": ("raisonnement mathématique", "mathematical reasoning")}
_STAT = {"mean": ("Résultat moyen", "Mean mark"), "min": ("Résultat le plus faible", "Lowest mark"),
         "last": ("Dernier résultat", "Last mark"),
         "trend": ("Évolution des résultats", "Trend of marks"),
         "volatility": ("Variation des résultats", "Variability of marks")}
_ABS = {"maladie": ("maladie", "illness"),
        "rendez_vous_medical": ("rendez-vous médical", "medical appointment"),
        "raison_familiale": ("raison familiale", "family reason"),
        "suspension": ("suspension", "suspension"), "non_motivee": ("non motivées", "unexcused"),
        "autre": ("autre motif", "other reason"), "total": ("tous motifs", "all reasons")}
_OTHER = {"intervention_plan": ("Plan d'intervention actif", "Active intervention plan"),
          "n_retentions": ("Années reprises (redoublements)", "Repeated years (retentions)"),
          "n_school_changes": ("Changements d'école", "School changes"),
          "imse_decile": ("IMSE de l'école (milieu socio-économique)",
                          "School IMSE (socio-economic index)"),
          "mother_education": ("Scolarité de la mère", "Mother's education")}


def _grade(g: int, lang: str) -> str:
    if lang == "fr":
        return f"{g}{'re' if g == 1 else 'e'} année"
    return f"grade {g}"


def feature_label(name: str) -> Text:
    """Plain-language label of a feature name (docs/architecture.md, "Package seams")."""
    info = parse_feature(name)
    if info.kind in ("mark", "trend", "volatility") and info.competency and info.stat:
        (sf, se), (cf, ce) = _STAT[info.stat], _COMP[info.competency]
        return Text(fr=f"{sf} en {cf}, {_grade(info.grade, 'fr')}",
                    en=f"{se} in {ce}, {_grade(info.grade, 'en')}")
    if info.kind == "count_below" and info.competency:
        cf, ce = _COMP[info.competency]
        return Text(fr=f"Nombre de résultats sous {info.detail} en {cf}",
                    en=f"Number of marks below {info.detail} in {ce}")
    if info.kind == "absence_rate":
        af, ae = _ABS.get(info.detail or "", (info.detail, info.detail))
        return Text(fr=f"Taux d'absence ({af})", en=f"Absence rate ({ae})")
    if name in _OTHER:
        f, e = _OTHER[name]
        return Text(fr=f, en=e)
    return Text(fr=name, en=name)


def family_label(family: str) -> Text:
    return FAMILIES.get(family, Text(fr=family, en=family))


def attribute_label(name: str) -> Text:
    """Label of an audited attribute or an intersection (``sex × language_group``)."""
    parts = [ATTRIBUTES.get(p.strip(), Text(fr=p.strip(), en=p.strip()))
             for p in name.split("×")]
    return Text(fr=" × ".join(p.fr for p in parts), en=" × ".join(p.en for p in parts))


def task_text(task: str, key: str) -> Text:
    """A task's label (:attr:`cin_ml.tasks.TaskSpec.labels`); the name itself for a task
    cin-ml does not define (a dataset spec)."""
    return Text(fr=task_label(task, key, "fr"), en=task_label(task, key, "en"))
