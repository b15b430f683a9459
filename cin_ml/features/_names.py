"""The feature-name grammar: how a feature is named, and what a name says.

Names (docs/architecture.md, "Package seams"), each with its constructor:

- ``{competency}_g{grade}_{stat}``: a statistic of one competency's marks in one grade
  (:func:`mark_feature`; competency in ``cin_ml.schema.COMPETENCIES``, stat in
  :data:`MARK_STATS`);
- ``{competency}_n_below_{threshold}``: number of marks below the pass mark
  (:func:`below_feature`; the threshold is ``[features] pass_mark``, 60 by default);
- ``absence_rate_{category}`` and ``absence_rate_total`` (:func:`absence_feature`);
- the fixed names :data:`INTERVENTION_PLAN`, :data:`N_RETENTIONS`, :data:`N_SCHOOL_CHANGES`,
  :data:`IMSE_DECILE`, :data:`MOTHER_EDUCATION`.

:func:`parse_feature` reads a name back into a :class:`FeatureName`; :func:`feature_family` is
its family. Any other name (a raw extra column, a spec's column) is family ``contexte``, kind
``other``, unless it extends a known prefix (``lecture_…``, ``absence_rate_…``,
``intervention_plan…``, …), whose family it keeps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from cin_ml.schema import COMPETENCIES

MARK_STATS = ("mean", "min", "last", "trend", "volatility")
"""Statistics of a competency's marks in one grade (``{competency}_g{grade}_{stat}``)."""

INTERVENTION_PLAN = "intervention_plan"
N_RETENTIONS = "n_retentions"
N_SCHOOL_CHANGES = "n_school_changes"
IMSE_DECILE = "imse_decile"
MOTHER_EDUCATION = "mother_education"
ABSENCE_TOTAL = "total"
"""Category of ``absence_rate_total`` (all reasons)."""

FAMILIES = (*COMPETENCIES, "absences", "parcours", "contexte", "plan")
"""Feature families, in display order."""

KINDS = ("mark", "trend", "volatility", "count_below", "absence_rate", "plan", "count", "decile",
         "education", "other")
"""Kinds of value a feature holds (they drive formatting and sentence templates)."""

_COMP = "|".join(map(re.escape, COMPETENCIES))
_STATS = "|".join(map(re.escape, MARK_STATS))
_MARK_RE = re.compile(rf"({_COMP})_g([0-9]+)_({_STATS})")
_BELOW_RE = re.compile(rf"({_COMP})_n_below_([0-9]+(?:\.[0-9]+)?)")
_ABSENCE_PREFIX = "absence_rate_"
_CATEGORY_RE = re.compile(r"\w+")

# fixed name -> (family, kind)
_FIXED = {INTERVENTION_PLAN: ("plan", "plan"), N_RETENTIONS: ("parcours", "count"),
          N_SCHOOL_CHANGES: ("parcours", "count"), IMSE_DECILE: ("contexte", "decile"),
          MOTHER_EDUCATION: ("contexte", "education")}
# a name outside the grammar that starts with one of these keeps its family
_PREFIXES = {**{f"{c}_": c for c in COMPETENCIES}, _ABSENCE_PREFIX: "absences",
             **{name: fam for name, (fam, _) in _FIXED.items()}}


@dataclass(frozen=True)
class FeatureName:
    """A feature name and the parts it was built from.

    ``kind`` is one of :data:`KINDS`: ``mark`` (0-100), ``trend`` (points per term),
    ``volatility`` (points), ``count_below``, ``absence_rate`` (share 0-1), ``plan`` (0/1),
    ``count``, ``decile``, ``education`` (0-3) or ``other``. ``detail`` is the threshold of a
    ``count_below`` (``"60"``), the category of an ``absence_rate`` and the name of a ``count``.
    """

    name: str
    family: str
    kind: str
    competency: str | None = None
    grade: int | None = None
    stat: str | None = None
    detail: str | None = None


def mark_feature(competency: str, grade: int, stat: str) -> str:
    """``{competency}_g{grade}_{stat}``.

    >>> mark_feature("lecture", 3, "mean")
    'lecture_g3_mean'
    """
    if competency not in COMPETENCIES or stat not in MARK_STATS or int(grade) != grade:
        raise ValueError(f"no mark feature for ({competency!r}, {grade!r}, {stat!r})")
    return f"{competency}_g{int(grade)}_{stat}"


def below_feature(competency: str, threshold: float) -> str:
    """``{competency}_n_below_{threshold}`` (``60.0`` reads ``60``).

    >>> below_feature("lecture", 60.0)
    'lecture_n_below_60'
    """
    t = float(threshold)
    if competency not in COMPETENCIES or not 0 <= t <= 100:
        raise ValueError(f"no below-threshold feature for ({competency!r}, {threshold!r})")
    return f"{competency}_n_below_{int(t) if t.is_integer() else t!r}"


def absence_feature(category: str) -> str:
    """``absence_rate_{category}`` (:data:`ABSENCE_TOTAL` for all reasons).

    >>> absence_feature("maladie")
    'absence_rate_maladie'
    """
    if not _CATEGORY_RE.fullmatch(category):
        raise ValueError(f"absence category {category!r} is not a word")
    return f"{_ABSENCE_PREFIX}{category}"


@lru_cache(maxsize=4096)
def parse_feature(name: str) -> FeatureName:
    """Read ``name`` back into its parts (see the module docstring for the grammar).

    >>> parse_feature("lecture_g3_mean")
    FeatureName(name='lecture_g3_mean', family='lecture', kind='mark', competency='lecture', \
grade=3, stat='mean', detail=None)
    """
    if m := _MARK_RE.fullmatch(name):
        comp, grade, stat = m.group(1), int(m.group(2)), m.group(3)
        kind = stat if stat in ("trend", "volatility") else "mark"
        return FeatureName(name, comp, kind, comp, grade, stat)
    if m := _BELOW_RE.fullmatch(name):
        return FeatureName(name, m.group(1), "count_below", m.group(1), detail=m.group(2))
    if name.startswith(_ABSENCE_PREFIX) and _CATEGORY_RE.fullmatch(
            cat := name[len(_ABSENCE_PREFIX):]):
        return FeatureName(name, "absences", "absence_rate", detail=cat)
    if name in _FIXED:
        family, kind = _FIXED[name]
        return FeatureName(name, family, kind, detail=name if kind == "count" else None)
    if name.startswith(INTERVENTION_PLAN):
        return FeatureName(name, "plan", "plan")
    for prefix, family in _PREFIXES.items():
        if name.startswith(prefix):
            return FeatureName(name, family, "other")
    return FeatureName(name, "contexte", "other")


def feature_family(name: str) -> str:
    """Family of a feature name (one of :data:`FAMILIES`); raw extra columns map to
    ``contexte``.

    >>> feature_family("lecture_g3_mean"), feature_family("absence_rate_maladie")
    ('lecture', 'absences')
    """
    return parse_feature(name).family


__all__ = ["ABSENCE_TOTAL", "FAMILIES", "IMSE_DECILE", "INTERVENTION_PLAN", "KINDS",
           "MARK_STATS", "MOTHER_EDUCATION", "N_RETENTIONS", "N_SCHOOL_CHANGES", "FeatureName",
           "absence_feature", "below_feature", "feature_family", "mark_feature",
           "parse_feature"]
