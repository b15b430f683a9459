"""Figures of an audit and of a mitigation experiment (matplotlib, no pyplot state).

Every figure is drawn from the published form (``to_dict``), so suppressed cells cannot
appear: they are listed by label only, in a footnote.
"""

from __future__ import annotations

from cin_ml.fairness._mitigation import MitigationExperiment
from cin_ml.fairness._records import FairnessAudit

__all__ = ["plot_disparities", "plot_group_rates", "plot_tradeoff"]

_COLOURS = {"pass": "#2e7d32", "fail": "#c62828", "inconclusive": "#ef6c00",
            "insufficient_data": "#757575", "reference": "#1565c0"}


def _figure(width: float, height: float):
    from matplotlib.figure import Figure  # Agg canvas by default; no GUI, no global state

    return Figure(figsize=(width, height), layout="constrained")


def _footnote(fig, hidden: list[str], cell: int) -> None:
    if hidden:
        fig.text(0.01, 0.0, f"Not shown (fewer than {cell} students, or complementary "
                 f"suppression): {', '.join(hidden)}", fontsize=7, color="#555555",
                 ha="left", va="bottom", wrap=True)


def plot_disparities(audit: FairnessAudit, metric: str | None = None,
                     breakdowns: list[str] | None = None):
    """Difference to the reference group with its interval, coloured by verdict.

    Parameters
    ----------
    audit : FairnessAudit
    metric : str, optional
        Defaults to the policy's primary metric.
    breakdowns : list of str, optional
        Breakdown names (``"sex"``, ``"sex × language_group"``); single attributes by default.

    Returns
    -------
    matplotlib.figure.Figure
    """
    d = audit.to_dict()
    metric = metric or d["policy"]["primary_metric"]
    tol = d["policy"]["tolerances"].get(metric, {}).get("difference")
    names = breakdowns or [b["name"] for b in d["breakdowns"] if len(b["attributes"]) == 1]
    rows, hidden = [], []
    for b in d["breakdowns"]:
        if b["name"] not in names:
            continue
        for g in b["groups"]:
            label = f"{b['name']}: {' × '.join(g['labels'])}"
            if g["suppressed"]:
                hidden.append(label)
            elif not g["is_reference"]:
                rows.append((label, g["difference"][metric], g["verdicts"].get(metric, "")))
            else:
                rows.append((label + " (ref.)", {"value": 0.0, "low": 0.0, "high": 0.0},
                             "reference"))
    fig = _figure(7.5, 1.2 + 0.3 * max(len(rows), 1))
    ax = fig.add_subplot()
    for i, (_label, e, verdict) in enumerate(rows):
        if e["value"] is None:
            continue
        lo = e["value"] - (e["low"] if e["low"] is not None else e["value"])
        hi = (e["high"] if e["high"] is not None else e["value"]) - e["value"]
        ax.errorbar(e["value"], i, xerr=[[lo], [hi]], fmt="o", capsize=3,
                    color=_COLOURS.get(verdict, "black"))
    ax.set_yticks(range(len(rows)), [r[0] for r in rows], fontsize=8)
    ax.invert_yaxis()
    ax.axvline(0, color="black", lw=0.8)
    if tol:
        ax.axvspan(-tol, tol, color="#c8e6c9", alpha=0.5, label=f"tolerance ±{tol:g}")
        ax.legend(loc="lower right", fontsize=7)
    ax.set_xlabel(f"{metric}: group − reference (95% bootstrap interval)")
    ax.set_title(f"Disparities in {metric} (colour = verdict)")
    _footnote(fig, hidden, d["policy"]["suppress_below"])
    return fig


def plot_group_rates(audit: FairnessAudit, breakdown: str,
                     metrics: tuple[str, ...] = ("fnr", "fpr", "selection_rate", "precision")):
    """Per-group absolute rates with intervals for one breakdown (one panel per metric)."""
    d = audit.to_dict()
    b = next((x for x in d["breakdowns"] if x["name"] == breakdown), None)
    if b is None:
        raise KeyError(f"no breakdown {breakdown!r} in this audit")
    shown = [g for g in b["groups"] if not g["suppressed"]]
    hidden = [" × ".join(g["labels"]) for g in b["groups"] if g["suppressed"]]
    fig = _figure(3.2 * len(metrics), 1.4 + 0.3 * max(len(shown), 1))
    axes = fig.subplots(1, len(metrics), sharey=True, squeeze=False)[0]
    labels = [" × ".join(g["labels"]) + (" (ref.)" if g["is_reference"] else "")
              + f"\nn={g['n']}" for g in shown]
    for ax, m in zip(axes, metrics, strict=True):
        overall = d["overall"][m]["value"]
        for i, g in enumerate(shown):
            e = g["metrics"][m]
            if e["value"] is None:
                continue
            lo = e["value"] - (e["low"] if e["low"] is not None else e["value"])
            hi = (e["high"] if e["high"] is not None else e["value"]) - e["value"]
            ax.errorbar(e["value"], i, xerr=[[lo], [hi]], fmt="o", capsize=3,
                        color=_COLOURS.get(g["verdicts"].get(m, ""), "black"))
        if overall is not None:
            ax.axvline(overall, color="#555555", ls="--", lw=0.8)
        if m == "fnr":
            ax.axvline(d["policy"]["fnr_ceiling"], color=_COLOURS["fail"], ls=":", lw=1)
        ax.set_title(m)
        ax.set_xlim(0, 1)
    axes[0].set_yticks(range(len(shown)), labels, fontsize=8)
    axes[0].invert_yaxis()
    fig.suptitle(f"Rates by {breakdown} (dashed: overall; dotted: FNR ceiling)")
    _footnote(fig, hidden, d["policy"]["suppress_below"])
    return fig


def plot_tradeoff(experiment: MitigationExperiment):
    """Overall recall and precision against the worst-group FNR gap, per strategy."""
    fig = _figure(6.5, 4.2)
    ax = fig.add_subplot()
    for r in experiment.rows:
        if r.fnr_gap != r.fnr_gap:  # NaN: no judged groups
            continue
        ax.scatter(r.fnr_gap, r.recall, marker="o", color="#1565c0")
        ax.scatter(r.fnr_gap, r.precision, marker="s", color="#6a1b9a")
        ax.annotate(r.strategy + (" (randomized)" if r.randomized else ""),
                    (r.fnr_gap, r.recall), textcoords="offset points", xytext=(5, 5),
                    fontsize=8)
    ax.scatter([], [], marker="o", color="#1565c0", label="overall recall")
    ax.scatter([], [], marker="s", color="#6a1b9a", label="overall precision")
    ax.set_xlabel(f"worst-group FNR gap across {experiment.attribute} (max − min)")
    ax.set_ylabel("overall rate (held-out half)")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    ax.set_title("Mitigation trade-off: needs the attribute at prediction time")
    skipped = [f"{r.strategy}: {r.reason}" for r in experiment.rows if not r.computed]
    if skipped:
        fig.text(0.01, 0.0, "Not computed — " + "; ".join(skipped), fontsize=7,
                 color="#555555", ha="left", va="bottom", wrap=True)
    return fig
