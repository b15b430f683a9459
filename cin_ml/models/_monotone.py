"""Domain directions as LightGBM monotone constraints, declared per feature family.

``[monotone]`` in ``configs/models.toml`` gives each feature family a direction of the risk
as the family's *level* rises: ``decreasing`` (better marks, lower risk), ``increasing``
(more absences, higher risk) or ``free``. How a feature inherits it depends on what its
value measures (its kind in the feature-name grammar, ``cin_ml.features.parse_feature``):

- level features (marks ``mean``/``min``/``last``, the ``trend`` of marks, absence rates,
  counts, deciles, plan, education) take the family's direction;
- ``count_below`` counts *low* marks, so it takes the opposite direction;
- ``volatility`` (swings between report cards) has no domain direction: always free;
- categorical columns (a category map) and unparsed extra columns (kind ``other``) are free.

The constraint vector is recorded with the run (``model_meta.json["monotone"]``, param
``monotone_families``) and shown on the card.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cin_ml.features import parse_feature

DIRECTION_SIGN = {"increasing": 1, "decreasing": -1, "free": 0}
_FREE_KINDS = ("volatility", "other")


def feature_constraint(feature: str, families: Mapping[str, str],
                       categorical: bool = False) -> int:
    """LightGBM monotone constraint of ``feature`` (+1, -1 or 0) under ``families``
    (``{family: increasing | decreasing | free}``)."""
    if categorical:
        return 0
    info = parse_feature(feature)
    if info.kind in _FREE_KINDS:
        return 0
    sign = DIRECTION_SIGN[families.get(info.family, "free")]
    return -sign if info.kind == "count_below" else sign


def monotone_constraints(features: Sequence[str], families: Mapping[str, str],
                         categorical: Sequence[str] = ()) -> list[int]:
    """One constraint per feature, in order (see the module docstring)."""
    cats = set(categorical)
    return [feature_constraint(f, families, f in cats) for f in features]


def monotone_record(features: Sequence[str], families: Mapping[str, str],
                    constraints: Sequence[int], method: str) -> dict:
    """What the run records: the declared families, the method and each constrained
    feature's sign (free features omitted)."""
    return {"families": {k: v for k, v in families.items()},
            "constrained_families": sorted(k for k, v in families.items() if v != "free"),
            "method": method,
            "features": {f: int(c) for f, c in zip(features, constraints, strict=True) if c},
            "n_constrained": int(sum(1 for c in constraints if c))}
