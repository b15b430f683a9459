"""Figures of the global explanation: beeswarm (sampled rows), dependence plots of the top
drivers, mean |SHAP| per family and per audited group. Returns matplotlib Figures; the
caller saves or logs them (and closes them)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._contrib import Contributions
from ._global import GlobalExplanation


def _plt():
    # pyplot (shap draws on it) without switching the backend: headless processes get
    # Agg by matplotlib's own fallback, a notebook keeps its inline backend
    import matplotlib.pyplot as plt

    return plt


def beeswarm(contribs: Contributions, X: pd.DataFrame, *, max_rows: int = 2000,
             max_display: int = 12, seed: int = 7):
    """shap beeswarm of at most ``max_rows`` students (sampled, seeded)."""
    import shap

    plt = _plt()
    n = len(contribs)
    rows = (np.sort(np.random.default_rng(seed).choice(n, max_rows, replace=False))
            if n > max_rows else np.arange(n))
    data = X.loc[list(contribs.student_ids[rows]), list(contribs.features)]
    expl = shap.Explanation(values=contribs.values[rows],
                            base_values=np.full(len(rows), contribs.base_value),
                            data=data.to_numpy(dtype=float), feature_names=list(data.columns))
    fig = plt.figure(figsize=(8, 6))
    ax = fig.add_subplot(111)
    shap.plots.beeswarm(expl, max_display=max_display, ax=ax, show=False, plot_size=None)
    ax.set_title(f"Contributions (log-odds), {len(rows):,} students")
    fig.tight_layout()
    return fig


def dependence(contribs: Contributions, X: pd.DataFrame, feature: str, *,
               max_rows: int = 5000, seed: int = 7):
    """Contribution of ``feature`` against its value (missing values drawn at the left)."""
    plt = _plt()
    n = len(contribs)
    rows = (np.random.default_rng(seed).choice(n, max_rows, replace=False)
            if n > max_rows else np.arange(n))
    j = contribs.features.index(feature)
    x = pd.to_numeric(X.loc[list(contribs.student_ids[rows]), feature],
                      errors="coerce").to_numpy(dtype=float)
    y = contribs.values[rows, j]
    fig, ax = plt.subplots(figsize=(5.5, 4))
    ok = ~np.isnan(x)
    ax.scatter(x[ok], y[ok], s=6, alpha=0.4, color="#095797", linewidths=0)
    if (~ok).any():
        left = np.nanmin(x) if ok.any() else 0.0
        ax.scatter(np.full((~ok).sum(), left), y[~ok], s=6, alpha=0.4, color="#c0392b",
                   marker="x", label=f"missing ({int((~ok).sum())})")
        ax.legend(loc="best", fontsize=8)
    ax.axhline(0, color="#888", lw=0.8)
    ax.set_xlabel(feature)
    ax.set_ylabel("contribution (log-odds)")
    ax.set_title(f"Dependence: {feature}")
    fig.tight_layout()
    return fig


def family_bars(g: GlobalExplanation):
    """Mean |SHAP| per feature family."""
    plt = _plt()
    fams = [f for f, _ in g.per_family][::-1]
    vals = [v for _, v in g.per_family][::-1]
    fig, ax = plt.subplots(figsize=(5.5, 0.4 * len(fams) + 1.2))
    ax.barh(fams, vals, color="#095797")
    ax.set_xlabel("mean |contribution| (log-odds)")
    ax.set_title("Drivers by feature family")
    fig.tight_layout()
    return fig


def group_bars(g: GlobalExplanation, attribute: str, top: int = 8):
    """Mean |SHAP| of the top features, one bar per group of ``attribute``."""
    plt = _plt()
    groups = g.per_group[attribute]
    feats = list(g.ranking[:top])[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(feats) * max(len(groups), 1) / 2 + 1.5))
    h = 0.8 / max(len(groups), 1)
    for k, (level, d) in enumerate(groups.items()):
        label = f"{level} (n={d['n']}{', too small' if d['too_small'] else ''})"
        ax.barh(np.arange(len(feats)) + k * h, [d["mean_abs"][f] for f in feats], height=h,
                label=label)
    ax.set_yticks(np.arange(len(feats)) + 0.4 - h / 2, feats)
    ax.set_xlabel("mean |contribution| (log-odds)")
    ax.set_title(f"Drivers by {attribute}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
