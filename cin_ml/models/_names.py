"""The names a LightGBM booster sees: positional (``f_000``, ``f_001``, ...) for tables that
are not a CSS extract.

LightGBM rewrites feature names (a space becomes ``_``) and refuses JSON characters
(``,:[]{}"``), so a real table's column names ("study time", "absences (n)", "G1/G2") cannot
name a booster's inputs. :func:`cin_ml.models.fit_plain` trains on positional names; the
original names stay the model's ``features`` (``model_meta.json``, every artifact, every page
a person reads), in the same order. Position ``i`` of ``features`` is booster input
``f_{i:03d}``: :func:`model_input_names` is that one mapping, read by training and by
explanations (:func:`is_positional`). A CSS model's names follow the feature grammar and are
given to LightGBM unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["is_positional", "model_input_names"]

_POSITIONAL = re.compile(r"^f_\d{3,}$")


def model_input_names(n: int) -> list[str]:
    """The booster's input names for ``n`` features: ``f_000`` ... (at least 3 digits)."""
    width = max(3, len(str(max(n - 1, 0))))
    return [f"f_{i:0{width}d}" for i in range(n)]


def is_positional(names: Sequence[str]) -> bool:
    """True when ``names`` (a booster's ``feature_name()``) are :func:`model_input_names`."""
    return list(names) == model_input_names(len(names)) and all(
        _POSITIONAL.match(n) for n in names)
