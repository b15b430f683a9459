"""Plain-language labels (fr, en) for tasks, feature families, features and audited
attributes, so a committee member reads "reading mark, grade 3", not ``lecture_g3_mean``.
The words come from the one glossary (:mod:`cin_ml.glossary`)."""

from __future__ import annotations

from cin_ml.cards._schema import Text
from cin_ml.features import parse_feature
from cin_ml.glossary import attribute_label as _attribute_label
from cin_ml.glossary import group_label as _group_label
from cin_ml.glossary import has_label, label
from cin_ml.tasks import task_label


def _text(key: str, fallback: str | None = None) -> Text:
    if has_label(key) or fallback is None:
        return Text(fr=label(key, "fr"), en=label(key, "en"))
    return Text(fr=fallback, en=fallback)


def _grade(g: int, lang: str) -> str:
    key = f"grade.{g}"
    return label(key, lang) if has_label(key) else (f"{g}e année" if lang == "fr"
                                                     else f"grade {g}")


def feature_label(name: str) -> Text:
    """Plain-language label of a feature name (docs/architecture.md, "Package seams")."""
    info = parse_feature(name)
    if info.kind in ("mark", "trend", "volatility") and info.competency and info.stat:
        s, c = _text(f"stat.{info.stat}"), _text(f"competency.{info.competency}")
        return Text(fr=f"{s.fr} en {c.fr}, {_grade(info.grade, 'fr')}",
                    en=f"{s.en} in {c.en}, {_grade(info.grade, 'en')}")
    if info.kind == "count_below" and info.competency:
        c, b = _text(f"competency.{info.competency}"), _text("feature.n_below")
        return Text(fr=f"{b.fr.format(threshold=info.detail)} en {c.fr}",
                    en=f"{b.en.format(threshold=info.detail)} in {c.en}")
    if info.kind == "absence_rate":
        a, r = _text(f"absence.{info.detail}", info.detail or ""), _text("feature.absence_rate")
        return Text(fr=f"{r.fr} ({a.fr})", en=f"{r.en} ({a.en})")
    return _text(f"feature.{name}", name)


def family_label(family: str) -> Text:
    return _text(f"family.{family}", family)


def attribute_label(name: str) -> Text:
    """Label of an audited attribute or an intersection (``sex × language_group``)."""
    return Text(fr=_attribute_label(name, "fr"), en=_attribute_label(name, "en"))


def group_label(attribute: str, value: str) -> Text:
    """Label of one group (``imse_band`` / ``8-10``, or an intersection's ``0 × 1re``)."""
    return Text(fr=_group_label(attribute, value, "fr"), en=_group_label(attribute, value, "en"))


def term(key: str) -> Text:
    """A glossary entry as a :class:`Text`."""
    return _text(key)


def task_text(task: str, key: str) -> Text:
    """A task's label (:attr:`cin_ml.tasks.TaskSpec.labels`); the name itself for a task
    cin-ml does not define (a dataset spec)."""
    return Text(fr=task_label(task, key, "fr"), en=task_label(task, key, "en"))
