"""ROC, precision-recall and reliability plots (matplotlib ``Figure`` objects, no pyplot,
so no GUI backend and no global state)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def _curve(y: np.ndarray, s: np.ndarray):
    order = np.argsort(-s, kind="mergesort")
    ys = y[order].astype(bool)
    tp = np.r_[0, np.cumsum(ys)]
    fp = np.r_[0, np.cumsum(~ys)]
    return tp, fp


def evaluation_figures(test: pd.DataFrame, n_bins: int = 10) -> dict:
    """``{"plots/roc.png": Figure, "plots/pr.png": ..., "plots/calibration.png": ...}`` for
    the model and the baselines present in ``test``."""
    from matplotlib.figure import Figure

    from cin_ml.models._metrics import reliability

    y = test["y_true"].to_numpy().astype(bool)
    series = {"LightGBM": test["score"].to_numpy()}
    for col, label in (("logistic", "logistic regression"), ("indicator", "indicator"),
                       ("p_true", "oracle (true p)")):
        if col in test:
            series[label] = test[col].to_numpy(dtype=float)
    roc = Figure(figsize=(5, 5))
    ax = roc.subplots()
    pr = Figure(figsize=(5, 5))
    bx = pr.subplots()
    for label, s in series.items():
        tp, fp = _curve(y, s)
        ax.plot(fp / max(fp[-1], 1), tp / max(tp[-1], 1), label=label)
        prec = tp[1:] / np.arange(1, len(tp))
        bx.plot(tp[1:] / max(tp[-1], 1), prec, label=label)
    ax.plot([0, 1], [0, 1], ls=":", c="grey")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC (test cohort)")
    ax.legend(loc="lower right")
    bx.set(xlabel="recall", ylabel="precision", title="Precision-recall (test cohort)")
    bx.legend(loc="upper right")
    cal = Figure(figsize=(5, 5))
    cx = cal.subplots()
    rel = reliability(y, series["LightGBM"], n_bins)
    xs = [b["mean_predicted"] for b in rel["bins"]]
    cx.plot(xs, [b["observed_rate"] for b in rel["bins"]], marker="o", label="LightGBM")
    lim = max(xs + [b["observed_rate"] for b in rel["bins"]] + [0.05])
    cx.plot([0, lim], [0, lim], ls=":", c="grey", label="perfect")
    cx.set(xlabel="mean predicted probability", ylabel="observed rate",
           title=f"Reliability (ECE {rel['ece']:.3f})")
    cx.legend(loc="upper left")
    return {"plots/roc.png": roc, "plots/pr.png": pr, "plots/calibration.png": cal}
