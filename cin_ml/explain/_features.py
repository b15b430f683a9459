"""What explanations need to know about a feature beyond its name: its family (the
caller's mapping, else ``cin_ml.features.feature_family``) and whether it is a sensitive
attribute (read from the schema roles, never a fixed list).

The names themselves (docs/architecture.md, "Package seams") are parsed by the one grammar
in ``cin_ml.features`` (:func:`cin_ml.features.parse_feature`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from cin_ml.features import FAMILIES as FEATURE_FAMILIES
from cin_ml.features import FeatureName, feature_family, parse_feature
from cin_ml.schema import TABLES, Role

FAMILIES = (*FEATURE_FAMILIES, "autre")
"""Families an explanation shows: the feature families, and ``autre`` for a feature missing
from the family mapping."""


def describe_feature(name: str, family: str | None = None) -> FeatureName:
    """Parse ``name`` (:func:`cin_ml.features.parse_feature`); ``family`` overrides the parsed
    family."""
    info = parse_feature(name)
    if family is not None and family != info.family:
        info = replace(info, family=family)
    return info


def family_map(features: list[str] | tuple[str, ...],
               families: Mapping[str, str] | None = None) -> dict[str, str]:
    """``{feature: family}``: from ``families`` when given, else ``cin_ml.features``."""
    return {f: (families[f] if families is not None and f in families else feature_family(f))
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


__all__ = ["FAMILIES", "describe_feature", "family_map", "sensitive_features"]
