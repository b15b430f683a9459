"""Vectorised counts, metrics and bootstrap for every group of every breakdown at once.

One resample per replicate serves all groups and intersections: a replicate is a vector of
row multiplicities ``c`` (index resampling, as Fairlearn's ``MetricFrame`` does), and every
statistic is a linear map of ``c`` (sparse matrix products) followed by cheap arithmetic:

- confusion counts and score sums per *joint cell* (one cell per observed combination of all
  audited attributes × label × flag), then summed into the groups of each breakdown;
- AUC per group by one sort and cumulative sums: negatives are ordered by (group, score)
  once; each positive knows, from the data alone, how many negatives precede it (earlier
  groups or a lower score in its own group) and how many share its score. Per replicate,
  the cumulative weight of the negatives read at those positions gives the Mann-Whitney
  statistic with ties counted one half, which is exactly ``roc_auc_score``. The cost is
  linear in the number of students whatever the number of distinct scores (raw calibrated
  scores are all distinct), and every sum is of integer or half-integer counts, so it is
  exact.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

__all__ = ["Breakdown", "Design", "build_design", "statistics", "resample_counts"]

_CHUNK = 25  # replicates per block: bounds memory at ~25 x n x 8 bytes per array


@dataclass(frozen=True)
class Breakdown:
    """Groups of one attribute or intersection and the matrices that sum into them."""

    attributes: tuple[str, ...]
    labels: tuple[tuple[str, ...], ...]   # one tuple of levels per group, sorted
    cell_to_group: np.ndarray              # joint cell -> group index
    neg_rows: np.ndarray                   # negatives (y = 0) ordered by (group, score)
    pos_rows: np.ndarray                   # positives ordered by group
    below: np.ndarray                      # per positive: negatives before it in neg_rows
    tie_pos: np.ndarray                    # positives sharing their score with a negative
    tie_end: np.ndarray                    # ... and the end of that tie in neg_rows
    neg_bounds: np.ndarray                 # G + 1 boundaries of the groups in neg_rows
    pos_bounds: np.ndarray                 # G + 1 boundaries of the groups in pos_rows


@dataclass(frozen=True)
class Design:
    """Everything the statistics need, built once from the data."""

    n: int
    cell_matrix: sp.csr_matrix             # rows -> (joint cell, y, flag) columns
    sum_matrix: sp.csr_matrix              # rows -> joint cell columns, values = score [, p]
    n_cells: int
    n_sums: int                            # 1 (score) or 3 (score, p_true, p_true*(1-flag))
    breakdowns: tuple[Breakdown, ...]


def _codes(col: pd.Series) -> tuple[np.ndarray, list[str]]:
    values = col.astype("object").where(col.notna(), "(missing)").astype(str)
    levels = sorted(values.unique())
    return pd.Categorical(values, categories=levels).codes.astype(np.int64), levels


def build_design(y: np.ndarray, flag: np.ndarray, score: np.ndarray, groups: pd.DataFrame,
                 groupings: Sequence[tuple[str, ...]], p_true: np.ndarray | None) -> Design:
    """Encode attributes, joint cells and per-breakdown AUC orders (no statistics yet)."""
    n = len(y)
    attrs = list(groups.columns)
    codes, levels = {}, {}
    for a in attrs:
        codes[a], levels[a] = _codes(groups[a])
    stacked = np.column_stack([codes[a] for a in attrs])
    joint_rows, joint = np.unique(stacked, axis=0, return_inverse=True)
    joint = joint.ravel()
    k = len(joint_rows)
    rows = np.arange(n)
    cell = joint * 4 + y * 2 + flag
    cell_matrix = sp.csr_matrix((np.ones(n), (rows, cell)), shape=(n, 4 * k))
    sums = [score] if p_true is None else [score, p_true, p_true * (1 - flag)]
    sum_matrix = sp.csr_matrix(
        (np.concatenate(sums), (np.tile(rows, len(sums)),
                                np.concatenate([joint * len(sums) + j for j in range(len(sums))]))),
        shape=(n, k * len(sums)))
    score_rank = np.unique(score, return_inverse=True)[1].ravel().astype(np.int64)
    n_scores = int(score_rank.max()) + 1 if n else 1
    breakdowns = []
    for combo in groupings:
        cols = [attrs.index(a) for a in combo]
        sub, cell_to_group = np.unique(joint_rows[:, cols], axis=0, return_inverse=True)
        cell_to_group = cell_to_group.ravel()
        labels = tuple(tuple(levels[a][c] for a, c in zip(combo, r, strict=True)) for r in sub)
        group = cell_to_group[joint]
        breakdowns.append(_auc_index(tuple(combo), labels, cell_to_group, group, y,
                                     score_rank, n_scores))
    return Design(n=n, cell_matrix=cell_matrix, sum_matrix=sum_matrix, n_cells=k,
                  n_sums=len(sums), breakdowns=tuple(breakdowns))


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _auc_index(attributes, labels, cell_to_group, group, y, score_rank, n_scores
               ) -> Breakdown:
    """Orders and positions of one breakdown's AUC (built once, from the data alone)."""
    g = len(labels)
    neg = np.flatnonzero(y == 0)
    pos = np.flatnonzero(y == 1)
    key = group * n_scores + score_rank           # (group, score) as one sortable integer
    neg = neg[np.argsort(key[neg], kind="stable")]
    pos = pos[np.argsort(group[pos], kind="stable")]
    neg_key, pos_key = key[neg], key[pos]
    below = np.searchsorted(neg_key, pos_key, side="left")
    end = np.searchsorted(neg_key, pos_key, side="right")
    tie = np.flatnonzero(end != below)
    return Breakdown(
        attributes=attributes, labels=labels, cell_to_group=cell_to_group,
        neg_rows=neg, pos_rows=pos, below=below, tie_pos=tie, tie_end=end[tie],
        neg_bounds=np.searchsorted(group[neg], np.arange(g + 1), side="left"),
        pos_bounds=np.searchsorted(group[pos], np.arange(g + 1), side="left"))


def _cumsum0(a: np.ndarray) -> np.ndarray:
    """Cumulative sums down the rows of ``a`` (n, r), with a leading row of zeros (same
    dtype: float32 counts stay exact integers below 2**24)."""
    out = np.zeros((a.shape[0] + 1, a.shape[1]), dtype=a.dtype)
    np.cumsum(a, axis=0, out=out[1:])
    return out


def _auc(wt: np.ndarray, b: Breakdown, npos: np.ndarray, nneg: np.ndarray) -> np.ndarray:
    """Weighted Mann-Whitney AUC per group; ``wt`` is the (n, replicates) transposed row
    weights (rows gathered contiguously); ``npos`` and ``nneg`` (replicates, groups) are the
    weighted counts of positives and negatives."""
    cn = _cumsum0(wt[b.neg_rows])                 # negatives' cumulative weight
    wp = wt[b.pos_rows].astype(np.float64)
    contrib = wp * cn[b.below]                    # negatives strictly before each positive
    if len(b.tie_pos):                            # same group, same score: one half each
        t = b.tie_pos
        contrib[t] += 0.5 * wp[t] * (cn[b.tie_end] - cn[b.below[t]])
    cp = _cumsum0(contrib)
    num = (cp[b.pos_bounds[1:]] - cp[b.pos_bounds[:-1]]).T
    num -= npos * cn[b.neg_bounds[:-1]].T.astype(np.float64)  # earlier groups do not count
    return _ratio(num, npos * nneg)


def statistics(design: Design, weights: np.ndarray) -> list[dict[str, np.ndarray]]:
    """Per-breakdown metric arrays of shape (replicates, groups) for row weights (r, n).

    The full sample is ``weights = np.ones((1, n))``.
    """
    r = len(weights)
    cells = np.asarray((design.cell_matrix.T @ weights.T).T).reshape(r, design.n_cells, 4)
    sums = np.asarray((design.sum_matrix.T @ weights.T).T).reshape(
        r, design.n_cells, design.n_sums)
    # (n, r): gathering rows is contiguous; replicate weights are counts whose running sums
    # (at most their total) are exact in float32 below 2**24, which halves the memory traffic
    exact32 = float(weights.sum(axis=1).max()) < 2 ** 24 and np.array_equal(
        weights, np.round(weights))
    wt = np.ascontiguousarray(weights.T, dtype=np.float32 if exact32 else np.float64)
    out = []
    for b in design.breakdowns:
        g = len(b.labels)
        onehot = np.zeros((design.n_cells, g))
        onehot[np.arange(design.n_cells), b.cell_to_group] = 1.0
        c = np.einsum("rkq,kg->rgq", cells, onehot)
        s = np.einsum("rkq,kg->rgq", sums, onehot)
        tn, fp, fn, tp = c[..., 0], c[..., 1], c[..., 2], c[..., 3]
        n = tn + fp + fn + tp
        pos, flagged = tp + fn, tp + fp
        m = {
            "n": n, "positives": pos, "negatives": tn + fp, "flagged": flagged,
            "prevalence": _ratio(pos, n), "selection_rate": _ratio(flagged, n),
            "recall": _ratio(tp, pos), "fnr": _ratio(fn, pos), "fpr": _ratio(fp, tn + fp),
            "precision": _ratio(tp, flagged), "fdr": _ratio(fp, flagged),
            "mean_score": _ratio(s[..., 0], n),
        }
        m["calibration_gap"] = m["mean_score"] - m["prevalence"]
        m["auc"] = _auc(wt, b, pos, tn + fp)
        if design.n_sums == 3:
            m["mean_p_true"] = _ratio(s[..., 1], n)
            m["fnr_true"] = _ratio(s[..., 2], s[..., 1])
            m["calibration_gap_true"] = m["mean_score"] - m["mean_p_true"]
            caught = s[..., 1] - s[..., 2]                      # expected at-risk flagged
            m["fpr_true"] = _ratio(flagged - caught, n - s[..., 1])
            m["precision_true"] = _ratio(caught, flagged)
        out.append(m)
    return out


def resample_counts(n: int, n_boot: int, seed: int) -> Iterator[np.ndarray]:
    """Yield blocks of bootstrap row multiplicities (index resampling with replacement)."""
    rng = np.random.default_rng(seed)
    for start in range(0, n_boot, _CHUNK):
        size = min(_CHUNK, n_boot - start)
        block = np.empty((size, n))
        for i in range(size):
            block[i] = np.bincount(rng.integers(0, n, n), minlength=n)
        yield block


def indices_to_counts(indices: Sequence[np.ndarray], n: int) -> Iterator[np.ndarray]:
    """Blocks of multiplicities from explicit resample indices (e.g. to replay Fairlearn's)."""
    for start in range(0, len(indices), _CHUNK):
        yield np.stack([np.bincount(ix, minlength=n).astype(float)
                        for ix in indices[start:start + _CHUNK]])
