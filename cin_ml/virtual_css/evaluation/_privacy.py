"""Privacy of a virtual CSS: exact copies, distance to closest record and membership
inference (see :mod:`._evaluate` for why each check is there)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cin_ml.virtual_css.evaluation._fidelity import _sdmetrics_quiet
from cin_ml.virtual_css.synthesis import MARK_COLUMNS

if TYPE_CHECKING:
    from cin_ml.virtual_css.evaluation._evaluate import EvaluationConfig

_QI = ("css_id", "cohort_year", "birth_offset", "fsa", "sex")


def _row_keys(df: pd.DataFrame) -> pd.Series:
    cols = [c for c in (*_QI, *MARK_COLUMNS) if c in df.columns]
    k = df[cols].copy()
    for c in MARK_COLUMNS:
        if c in k:
            k[c] = pd.to_numeric(k[c]).round(1)
    return pd.util.hash_pandas_object(k.astype(str), index=False)


def _encode(df: pd.DataFrame, ref: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows as ``(continuous, binary, weights)`` such that the L1 distance of the continuous
    part plus the weighted L1 distance of the 0/1 part, over n_columns, is SDMetrics' DCR
    distance (numbers scaled by the reference range and capped, categories one-hot with
    weight 0.5, nulls flagged)."""
    cont, binary, weight = [], [], []
    for c in ref.columns:
        if pd.api.types.is_float_dtype(ref[c]):
            lo, hi = ref[c].min(), ref[c].max()
            span = (hi - lo) if hi > lo else 1.0
            v = pd.to_numeric(df[c]).to_numpy(float)
            cont.append(np.nan_to_num(np.clip((v - lo) / span, 0, 1), nan=0.0))
            binary.append(np.isnan(v)[:, None])
            weight.append([1.0])
        else:
            levels = pd.Index(ref[c].astype(object).fillna("\x00").unique())
            codes = levels.get_indexer(df[c].astype(object).fillna("\x00"))
            onehot = np.zeros((len(df), len(levels) + 1), dtype=bool)
            onehot[np.arange(len(df)), np.where(codes < 0, len(levels), codes)] = True
            binary.append(onehot)
            weight.append([0.5] * (len(levels) + 1))
    k = len(ref.columns)
    return (np.column_stack(cont) / k if cont else np.zeros((len(df), 0)),
            np.hstack(binary).astype(float), np.concatenate(weight) / k)


def _nearest_distance(probe: pd.DataFrame, reference: pd.DataFrame, scale: pd.DataFrame,
                      chunk: int = 500) -> np.ndarray:
    """Distance of each probe row to its closest reference row (exact, all reference rows).

    Vectorised by blocks of probe rows: the continuous columns by a pairwise L1 (few
    dimensions), the one-hot and null-flag columns by a matrix product (for 0/1 values,
    ``|a - b| = a + b - 2ab``), 3x faster than a brute-force L1 over ~300 one-hot columns.
    """
    from sklearn.metrics import pairwise_distances

    rc, rb, w = _encode(reference, scale)
    pc, pb, _ = _encode(probe, scale)
    rbw = rb * w
    r_norm = rbw.sum(axis=1)
    out = np.empty(len(probe))
    for i in range(0, len(probe), chunk):
        b = pb[i:i + chunk]
        d = pairwise_distances(pc[i:i + chunk], rc, metric="manhattan", n_jobs=1)
        d += (b @ w)[:, None] + r_norm[None, :] - 2.0 * (b @ rbw.T)
        out[i:i + chunk] = d.min(axis=1)
    return np.maximum(out, 0.0)


def _privacy(train: pd.DataFrame, hold: pd.DataFrame, virt: pd.DataFrame, meta: dict,
             cfg: EvaluationConfig, seed: int) -> dict:
    from sdmetrics.single_table import DCROverfittingProtection
    from sklearn.metrics import roc_auc_score

    vk = _row_keys(virt)
    exact_train = float(vk.isin(set(_row_keys(train))).mean())
    exact_hold = float(vk.isin(set(_row_keys(hold))).mean())
    rng = np.random.default_rng(seed)
    n = min(cfg.dcr_rows, len(train), len(hold), len(virt))

    def sub(df, k=n):
        return df.iloc[np.sort(rng.choice(len(df), k, replace=False))].reset_index(drop=True)

    s_v, s_t, s_h = sub(virt), sub(train), sub(hold)
    n_sdm = min(cfg.sdmetrics_dcr_rows, n)  # informational; quadratic and slow (pandas join)
    pick = np.random.default_rng([seed, 2])

    def few(df):
        return df.iloc[np.sort(pick.choice(len(df), n_sdm, replace=False))]

    with _sdmetrics_quiet():
        dcr = DCROverfittingProtection.compute_breakdown(few(s_t), few(s_v), few(s_h), meta,
                                                         "students")
    closer = float(dcr["synthetic_data_percentages"]["closer_to_training"])
    # exact DCR on equal-size references, one common scale (SDMetrics scales each reference
    # by its own range, which on small subsamples biases the comparison either way)
    n_ref = min(len(train), len(hold))
    t_ref = train.iloc[np.sort(rng.choice(len(train), n_ref, replace=False))]
    v_probe = virt.iloc[np.sort(rng.choice(len(virt), min(len(virt), cfg.dcr_rows * 2),
                                           replace=False))]
    d_t = _nearest_distance(v_probe, t_ref, train)
    d_h = _nearest_distance(v_probe, hold, train)
    closer_exact = float(np.mean(d_t < d_h))
    m = n // 2
    probe = pd.concat([s_t.iloc[:m], s_h.iloc[:m]], ignore_index=True)
    dist = _nearest_distance(probe, virt, train)
    member = np.r_[np.ones(m), np.zeros(m)]
    mia_auc = float(roc_auc_score(member, -dist))
    return {"exact_match_rate": round(exact_train, 6),
            "exact_match_rate_holdout_baseline": round(exact_hold, 6),
            "dcr": {"closer_to_training": round(closer_exact, 4),
                    "closer_to_holdout": round(1 - closer_exact, 4),
                    "n_virtual": int(len(v_probe)), "n_reference_each": int(n_ref),
                    "median_dcr_virtual_to_training": round(float(np.median(d_t)), 4),
                    "median_dcr_virtual_to_holdout": round(float(np.median(d_h)), 4),
                    "score": round(float(min((1 - closer_exact) * 2, 1.0)), 4),
                    "sdmetrics": {"metric": "DCROverfittingProtection",
                                  "rows_per_sample": n_sdm,
                                  "score": round(float(dcr["score"]), 4),
                                  "closer_to_training": round(closer, 4)}},
            "membership_inference": {"auc": round(mia_auc, 4), "n_members": m,
                                     "n_non_members": m, "reference": "all virtual rows"}}
