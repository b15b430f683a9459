"""Vectorised counts, metrics and bootstrap for every group of every breakdown at once.

One resample per replicate serves all groups and intersections: a replicate is a vector of
row multiplicities ``c`` (index resampling, as Fairlearn's ``MetricFrame`` does), and every
statistic is a linear map of ``c`` (sparse matrix products) followed by cheap arithmetic:

- confusion counts and score sums per *joint cell* (one cell per observed combination of all
  audited attributes × label × flag), then summed into the groups of each breakdown;
- AUC per group from *runs* (rows of one group sharing one score), ordered by group then
  score: within-group cumulative negatives below each run give the Mann-Whitney statistic
  with ties counted one half, which is exactly ``roc_auc_score``.
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
    run_matrix: sp.csr_matrix              # rows -> (run, label) columns, runs ordered
    run_group_starts: np.ndarray           # first run of each group (runs are contiguous)
    run_counts: np.ndarray                 # runs per group


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
    """Encode attributes, joint cells and per-breakdown AUC runs (no statistics yet)."""
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
    breakdowns = []
    for combo in groupings:
        cols = [attrs.index(a) for a in combo]
        sub, cell_to_group = np.unique(joint_rows[:, cols], axis=0, return_inverse=True)
        cell_to_group = cell_to_group.ravel()
        labels = tuple(tuple(levels[a][c] for a, c in zip(combo, r, strict=True)) for r in sub)
        group = cell_to_group[joint]
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
        run_matrix = sp.csr_matrix((np.ones(n), (rows, run * 2 + y)), shape=(n, 2 * n_runs))
        breakdowns.append(Breakdown(
            attributes=tuple(combo), labels=labels, cell_to_group=cell_to_group,
            run_matrix=run_matrix, run_group_starts=starts,
            run_counts=np.diff(np.r_[starts, n_runs])))
    return Design(n=n, cell_matrix=cell_matrix, sum_matrix=sum_matrix, n_cells=k,
                  n_sums=len(sums), breakdowns=tuple(breakdowns))


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _auc(weights: np.ndarray, b: Breakdown) -> np.ndarray:
    """Weighted Mann-Whitney AUC per group; ``weights`` is (replicates, n)."""
    pn = np.asarray((b.run_matrix.T @ weights.T).T).reshape(len(weights), -1, 2)
    neg, pos = pn[:, :, 0], pn[:, :, 1]
    cum = np.cumsum(neg, axis=1)
    offset = np.repeat((cum - neg)[:, b.run_group_starts], b.run_counts, axis=1)
    below = cum - neg - offset
    num = np.add.reduceat(pos * (below + 0.5 * neg), b.run_group_starts, axis=1)
    npos = np.add.reduceat(pos, b.run_group_starts, axis=1)
    nneg = np.add.reduceat(neg, b.run_group_starts, axis=1)
    return _ratio(num, npos * nneg)


def statistics(design: Design, weights: np.ndarray) -> list[dict[str, np.ndarray]]:
    """Per-breakdown metric arrays of shape (replicates, groups) for row weights (r, n).

    The full sample is ``weights = np.ones((1, n))``.
    """
    r = len(weights)
    cells = np.asarray((design.cell_matrix.T @ weights.T).T).reshape(r, design.n_cells, 4)
    sums = np.asarray((design.sum_matrix.T @ weights.T).T).reshape(
        r, design.n_cells, design.n_sums)
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
        m["auc"] = _auc(weights, b)
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
