"""LightGBM pieces: integer encoding, early-stopped fits, grouped-CV tuning and Platt
recalibration folded into the booster's leaves (so the stock booster, and the stock MLflow
pyfunc that wraps it, return calibrated probabilities)."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from cin_ml.errors import DataError
from cin_ml.models._metrics import auc


def _lgb():
    """Import lightgbm with OpenMP threads that sleep instead of spinning when they wait
    (docs/architecture.md, "Known traps": spinning threads collapse on a shared 2-core
    box). Only effective if this is the first import of lightgbm in the process;
    ``OMP_WAIT_POLICY`` wins if set."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import lightgbm

    return lightgbm


def category_maps(X: pd.DataFrame) -> dict[str, list[str]]:
    """Levels of every non-numeric column (code = position in the list)."""
    return {c: sorted(map(str, X[c].dropna().unique())) for c in X.columns
            if not pd.api.types.is_numeric_dtype(X[c])}


def encode(X: pd.DataFrame, maps: dict[str, list[str]],
           features: list[str] | None = None) -> pd.DataFrame:
    """The model's input matrix, the same for training and serving.

    Columns are ``features`` (default: all of ``X``), in that order, as float64: a column
    with a category map becomes integer codes (position in the map; NaN for missing or
    unseen levels), any other column must hold numbers (NaN for missing).

    Raises
    ------
    DataError
        A feature missing from ``X``, or a numeric feature holding non-numeric values.
    """
    cols = list(X.columns) if features is None else list(features)
    missing = [c for c in cols if c not in X.columns]
    if missing:
        raise DataError(f"input lacks feature(s) {', '.join(missing)}")
    out = {}
    for c in cols:
        if c in maps:
            codes = {v: float(i) for i, v in enumerate(maps[c])}
            out[c] = X[c].astype("string").map(codes).astype("float64")
            continue
        try:
            out[c] = pd.to_numeric(X[c], errors="raise").astype("float64")
        except (TypeError, ValueError):
            raise DataError(f"feature '{c}' must be numeric (the model has no category "
                            f"map for it); got values like {X[c].dropna().iloc[:3].tolist()}"
                            ) from None
    return pd.DataFrame(out, index=X.index)


def fit_booster(X: pd.DataFrame, y: np.ndarray, X_val: pd.DataFrame, y_val: np.ndarray,
                params: dict, max_rounds: int, early_stopping_rounds: int,
                categorical: list[str]):
    """Train with early stopping on ``(X_val, y_val)``; return the booster cut at the best
    iteration."""
    lgb = _lgb()
    cat = categorical or "auto"
    dtrain = lgb.Dataset(X, label=y, categorical_feature=cat, free_raw_data=True)
    dval = lgb.Dataset(X_val, label=y_val, reference=dtrain, categorical_feature=cat)
    booster = lgb.train(params, dtrain, num_boost_round=max_rounds, valid_sets=[dval],
                        callbacks=[lgb.early_stopping(early_stopping_rounds, verbose=False)])
    best = booster.best_iteration or booster.current_iteration()
    return lgb.Booster(model_str=booster.model_to_string(num_iteration=best)), best


def tune(X: pd.DataFrame, y: np.ndarray, groups: np.ndarray, base_params: dict,
         candidates: tuple[dict, ...], n_folds: int, max_rounds: int,
         early_stopping_rounds: int, categorical: list[str]) -> tuple[dict, list[dict]]:
    """Grouped K-fold CV (groups = schools) of each candidate; best mean AUC wins.

    Returns the chosen parameter overrides and one record per candidate.
    """
    from sklearn.model_selection import GroupKFold

    if n_folds < 2 or len(candidates) < 2 or len(np.unique(groups)) < n_folds:
        return (dict(candidates[0]) if candidates else {}), []
    folds = list(GroupKFold(n_splits=n_folds).split(X, y, groups))
    results = []
    for cand in candidates:
        aucs, iters = [], []
        for tr, va in folds:
            b, best = fit_booster(X.iloc[tr], y[tr], X.iloc[va], y[va],
                                  {**base_params, **cand}, max_rounds, early_stopping_rounds,
                                  categorical)
            aucs.append(auc(y[va], b.predict(X.iloc[va])))
            iters.append(best)
        results.append({"params": dict(cand), "cv_auc_mean": round(float(np.mean(aucs)), 6),
                        "cv_auc_std": round(float(np.std(aucs)), 6),
                        "best_iterations": iters})
    best = max(results, key=lambda r: r["cv_auc_mean"])
    return dict(best["params"]), results


def fit_platt(margin: np.ndarray, y: np.ndarray, ridge: float = 1e-6,
              n_iter: int = 50) -> tuple[float, float]:
    """Fit ``p = sigmoid(a * margin + b)`` by Newton's method (log-loss)."""
    x = np.asarray(margin, float)
    t = np.asarray(y, float)
    a, b = 1.0, 0.0
    for _ in range(n_iter):
        p = 1.0 / (1.0 + np.exp(-(a * x + b)))
        w = p * (1 - p)
        g = np.array([np.sum((p - t) * x) + ridge * a, np.sum(p - t)])
        h = np.array([[np.sum(w * x * x) + ridge, np.sum(w * x)],
                      [np.sum(w * x), np.sum(w) + 1e-12]])
        step = np.linalg.solve(h, g)
        a, b = a - step[0], b - step[1]
        if np.max(np.abs(step)) < 1e-10:
            break
    return float(a), float(b)


def fold_platt(booster, a: float, b: float):
    """A copy of ``booster`` whose raw score is ``a * raw + b`` (leaves scaled by ``a``;
    ``b`` added to every leaf of the first tree)."""
    lgb = _lgb()
    out = lgb.Booster(model_str=booster.model_to_string())
    info = out.dump_model()["tree_info"]
    for i, tree in enumerate(info):
        for leaf in range(tree["num_leaves"]):
            v = out.get_leaf_output(i, leaf) * a + (b if i == 0 else 0.0)
            out.set_leaf_output(i, leaf, v)
    return lgb.Booster(model_str=out.model_to_string())
