"""Generated predictions with known group structure (no model, no simulator needed)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cin_ml.config import packaged_config_dir
from cin_ml.fairness import load_policy


def make_predictions(n: int, seed: int = 0, miss_group: tuple[str, str] | None = None,
                     miss_strength: float = 0.0, small_cell: bool = False,
                     decimals: int | None = 4):
    """Calibrated-ish scores and labels with audit attributes shaped like the contract.

    ``miss_group=("language_group", "allophone")`` with ``miss_strength`` > 0 lowers the scores
    of that group's at-risk students (a feature measured worse for them): their FNR rises.
    ``small_cell`` adds a handful of students in a rare group ("autre") to test suppression.
    ``decimals=None`` keeps the raw scores (as ``cin-ml audit`` sees a calibrated model's).
    """
    rng = np.random.default_rng(seed)
    groups = pd.DataFrame({
        "sex": rng.choice(["F", "M"], n),
        "intervention_plan": rng.choice(["non", "oui"], n, p=[0.8, 0.2]),
        "language_group": rng.choice(["francophone", "anglophone", "allophone"], n,
                                     p=[0.7, 0.15, 0.15]),
        "immigration_generation": rng.choice(["1re", "2e", "3e+"], n, p=[0.15, 0.15, 0.7]),
        "imse_band": rng.choice(["1-3", "4-7", "8-10"], n, p=[0.3, 0.4, 0.3]),
    })
    if small_cell:
        groups.loc[: 5, "language_group"] = "autre"
    logit = rng.normal(-1.6, 1.1, n)
    p_true = 1 / (1 + np.exp(-logit))
    y = (rng.random(n) < p_true).astype(int)
    noise = rng.normal(0, 0.6, n)
    score_logit = logit + noise
    if miss_group is not None:
        hit = (groups[miss_group[0]] == miss_group[1]).to_numpy() & (y == 1)
        score_logit = np.where(hit, score_logit - miss_strength, score_logit)
    score = 1 / (1 + np.exp(-score_logit))
    return y, (score if decimals is None else np.round(score, decimals)), groups, p_true


@pytest.fixture(scope="session")
def policy():
    return load_policy(packaged_config_dir() / "fairness.toml")
