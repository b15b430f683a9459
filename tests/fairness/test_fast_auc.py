"""The audit's AUC by one sort and cumulative sums equals the former run-based computation
(kept here as the reference) and scikit-learn's weighted ``roc_auc_score``, ties included."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from cin_ml.fairness._core import build_design, resample_counts, statistics
from tests.fairness.conftest import make_predictions

GROUPINGS = (("sex",), ("language_group",), ("sex", "language_group"),
             ("immigration_generation", "imse_band"))


def _reference_auc(y, score, group, weights) -> np.ndarray:
    """The former implementation: runs (rows of one group sharing one score)."""
    n = len(y)
    order = np.lexsort((score, group))
    g_s, s_s = group[order], score[order]
    new_run = np.ones(n, dtype=bool)
    new_run[1:] = (g_s[1:] != g_s[:-1]) | (s_s[1:] != s_s[:-1])
    run_sorted = np.cumsum(new_run) - 1
    run = np.empty(n, dtype=np.int64)
    run[order] = run_sorted
    n_runs = int(run_sorted[-1]) + 1
    run_group = g_s[new_run]
    starts = np.flatnonzero(np.r_[True, run_group[1:] != run_group[:-1]])
    counts = np.diff(np.r_[starts, n_runs])
    m = sp.csr_matrix((np.ones(n), (np.arange(n), run * 2 + y)), shape=(n, 2 * n_runs))
    pn = np.asarray((m.T @ weights.T).T).reshape(len(weights), -1, 2)
    neg, pos = pn[:, :, 0], pn[:, :, 1]
    cum = np.cumsum(neg, axis=1)
    offset = np.repeat((cum - neg)[:, starts], counts, axis=1)
    below = cum - neg - offset
    num = np.add.reduceat(pos * (below + 0.5 * neg), starts, axis=1)
    npos = np.add.reduceat(pos, starts, axis=1)
    nneg = np.add.reduceat(neg, starts, axis=1)
    out = np.full(num.shape, np.nan)
    np.divide(num, npos * nneg, out=out, where=npos * nneg > 0)
    return out


@pytest.mark.parametrize("decimals", [None, 4, 1])
def test_auc_unchanged_against_the_run_based_reference(decimals):
    y, s, g, _ = make_predictions(4000, seed=5, decimals=decimals)
    g = g.copy()
    g.loc[:3, "language_group"] = "autre"          # a group with no positive or no negative
    y = y.copy()
    y[:4] = 0
    flag = (s >= 0.3).astype(np.int64)
    design = build_design(y, flag, s, g, GROUPINGS, None)
    blocks = [np.ones((1, len(y))), next(resample_counts(len(y), 30, seed=2))]
    for w in blocks:
        stats = statistics(design, w)
        for b, st in zip(design.breakdowns, stats, strict=True):
            codes = pd.Series(list(zip(*(g[a].astype(str) for a in b.attributes),
                                       strict=True)))
            group = codes.map({lab: i for i, lab in enumerate(b.labels)}).to_numpy()
            np.testing.assert_array_equal(st["auc"], _reference_auc(y, s, group, w))


def test_weighted_auc_matches_scikit_learn_with_ties():
    from sklearn.metrics import roc_auc_score

    y, s, g, _ = make_predictions(3000, seed=8, decimals=2)       # many ties
    design = build_design(y, (s >= 0.3).astype(np.int64), s, g, (("language_group",),), None)
    w = next(resample_counts(len(y), 3, seed=1))
    st = statistics(design, w)[0]
    b = design.breakdowns[0]
    for r in range(len(w)):
        for j, (lab,) in enumerate(b.labels):
            m = (g["language_group"] == lab).to_numpy() & (w[r] > 0)
            ref = roc_auc_score(y[m], s[m], sample_weight=w[r][m])
            assert st["auc"][r, j] == pytest.approx(ref, abs=1e-12)
