"""Small generated data and a LightGBM model with known causal and inert features."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

CAUSAL = ("lecture_g3_mean", "absence_rate_non_motivee", "n_retentions")
INERT = ("raisonner_g2_volatility", "absence_rate_maladie", "n_school_changes")


def make_frame(n: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Feature frame named as docs/architecture.md ("Package seams") says, and labels driven
    by CAUSAL only."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "lecture_g3_mean": np.clip(rng.normal(74, 12, n), 0, 100),
        "ecriture_g3_mean": np.clip(rng.normal(72, 12, n), 0, 100),
        "raisonner_g2_volatility": np.abs(rng.normal(6, 3, n)),
        "absence_rate_non_motivee": rng.beta(1.2, 40, n),
        "absence_rate_maladie": rng.beta(2, 50, n),
        "n_retentions": rng.binomial(1, 0.08, n).astype(float),
        "n_school_changes": rng.poisson(0.4, n).astype(float),
        "intervention_plan": rng.binomial(1, 0.15, n).astype(float),
        "imse_decile": rng.integers(1, 11, n).astype(float),
    })
    df.loc[rng.random(n) < 0.03, "lecture_g3_mean"] = np.nan
    lec = df["lecture_g3_mean"].fillna(74)
    logit = (-2.0 - 0.09 * (lec - 74) + 0.05 * (df["ecriture_g3_mean"] - 72) * -1
             + 25 * df["absence_rate_non_motivee"] + 1.2 * df["n_retentions"])
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    df.index = pd.Index([f"P{i:06d}" for i in range(n)], name="student_id")
    return df, y.to_numpy()


def fit(df: pd.DataFrame, y: np.ndarray, n_trees: int = 60, seed: int = 0):
    import lightgbm as lgb

    params = {"objective": "binary", "num_leaves": 15, "learning_rate": 0.1,
              "min_data_in_leaf": 20, "num_threads": 1, "verbose": -1, "seed": seed,
              "deterministic": True}
    return lgb.train(params, lgb.Dataset(df, label=y), num_boost_round=n_trees)


@pytest.fixture(scope="session")
def data():
    return make_frame(3000, seed=1)


@pytest.fixture(scope="session")
def booster(data):
    df, y = data
    return fit(df, y)
