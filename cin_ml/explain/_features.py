"""What explanations need to know about a feature: family, kind, plain-language label parts,
and whether it is a sensitive attribute (read from the schema roles, never a fixed list).

Feature names follow docs/CONTRACTS.md: ``{competency}_g{grade}_{stat}``,
``{competency}_n_below_60``, ``absence_rate_{category}``, ``intervention_plan``,
``n_retentions``, ``n_school_changes``, ``imse_decile``, ``mother_education``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from cin_ml.schema import COMPETENCIES, TABLES, Role

FAMILIES = ("lecture", "ecriture", "resoudre", "raisonner", "absences", "parcours", "contexte",
            "plan", "autre")

_COMP = "|".join(COMPETENCIES)
_MARK_RE = re.compile(rf"^({_COMP})_g(\d+)_(mean|min|last|trend|volatility)$")
_BELOW_RE = re.compile(rf"^({_COMP})_n_below_(\d+)$")
_ABS_RE = re.compile(r"^absence_rate_(\w+)$")


@dataclass(frozen=True)
class FeatureInfo:
    """Parsed feature name.

    ``kind`` drives value formatting and sentence templates: ``mark`` (0-100), ``trend``
    (points per term), ``volatility`` (points), ``count_below``, ``absence_rate`` (share 0-1),
    ``plan`` (0/1), ``count``, ``decile``, ``education`` (0-3) or ``other``.
    """

    name: str
    family: str
    kind: str
    competency: str | None = None
    grade: int | None = None
    stat: str | None = None
    detail: str | None = None


def parse_family(name: str) -> str:
    """Family of a feature from the naming convention alone (fallback of ``feature_family``)."""
    return describe_feature(name).family


def describe_feature(name: str, family: str | None = None) -> FeatureInfo:
    """Parse ``name`` into a :class:`FeatureInfo`; ``family`` overrides the parsed family."""
    m = _MARK_RE.match(name)
    if m:
        comp, grade, stat = m.group(1), int(m.group(2)), m.group(3)
        kind = stat if stat in ("trend", "volatility") else "mark"
        info = FeatureInfo(name, comp, kind, comp, grade, stat)
    elif (m := _BELOW_RE.match(name)):
        info = FeatureInfo(name, m.group(1), "count_below", m.group(1), detail=m.group(2))
    elif (m := _ABS_RE.match(name)):
        info = FeatureInfo(name, "absences", "absence_rate", detail=m.group(1))
    elif name.startswith("intervention_plan"):
        info = FeatureInfo(name, "plan", "plan")
    elif name in ("n_retentions", "n_school_changes"):
        info = FeatureInfo(name, "parcours", "count", detail=name)
    elif name == "imse_decile":
        info = FeatureInfo(name, "contexte", "decile")
    elif name == "mother_education":
        info = FeatureInfo(name, "contexte", "education")
    else:
        info = FeatureInfo(name, "autre", "other")
    if family is not None and family != info.family:
        info = FeatureInfo(info.name, family, info.kind, info.competency, info.grade, info.stat,
                           info.detail)
    return info


def _default_family_fn() -> Callable[[str], str]:
    """``cin_ml.features.feature_family`` when importable, else the naming-convention parser."""
    try:
        from cin_ml.features import feature_family
    except ImportError:
        return parse_family

    def safe(name: str) -> str:
        try:
            fam = feature_family(name)
        except Exception:  # an unknown name in another engineer's mapping: fall back
            return parse_family(name)
        return fam if isinstance(fam, str) and fam else parse_family(name)

    return safe


def family_map(features: list[str] | tuple[str, ...],
               families: Mapping[str, str] | None = None) -> dict[str, str]:
    """``{feature: family}``: from ``families`` when given, else ``cin_ml.features``, else names."""
    fn = _default_family_fn()
    return {f: (families[f] if families is not None and f in families else fn(f))
            for f in features}


def sensitive_features(features: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Features that carry a sensitive (audit) attribute according to the schema roles.

    A feature is sensitive when its name is a column with role ``sensitive``, or when it is
    derived from a table whose non-key columns are all sensitive (``intervention_plans`` →
    ``intervention_plan*``).
    """
    names: set[str] = set()
    prefixes: set[str] = set()
    for table in TABLES.values():
        kept = [c for c in table.columns if c.role != Role.DIRECT_IDENTIFIER]
        names.update(c.name for c in kept if c.role == Role.SENSITIVE)
        if kept and all(c.role == Role.SENSITIVE for c in kept):
            prefixes.add(table.name.rstrip("s"))
    return tuple(f for f in features
                 if f in names or any(f.startswith(p) for p in prefixes))


__all__ = ["FAMILIES", "FeatureInfo", "describe_feature", "family_map", "parse_family",
           "sensitive_features"]
