"""Log a virtual-CSS evaluation to the ``virtual-css`` experiment (issue 3)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from cin_ml.run_contract import RunKind, Tag
from cin_ml.tracking._artifacts import log_artifacts, log_metrics
from cin_ml.tracking._store import Store, as_store, tracked_run

EXPERIMENT = "virtual-css"


def _numbers(d: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    out = {}
    for k, v in d.items():
        if isinstance(v, Mapping):
            out.update(_numbers(v, f"{prefix}{k}."))
        elif isinstance(v, bool | int | float) and math.isfinite(float(v)):
            out[f"{prefix}{k}"] = float(v)
    return out


def log_virtual_css_report(report: Mapping[str, Any], files: Mapping[str, Any],
                           digests: Mapping[str, str], tags: Mapping[str, str] | None = None,
                           store: Store | str | None = None) -> str:
    """Create a run in experiment ``virtual-css`` with the report's scores and files.

    Parameters
    ----------
    report
        ``VirtualCSSReport.to_dict()`` (plus any summary): numbers under fidelity, privacy,
        utility and verdicts become metrics (per-column scores excluded).
    files
        Artifacts as for :func:`log_artifacts` (report.json, report.html, plots).
    digests
        ``{dataset: sha256}``, logged as ``cin.digest.<dataset>`` tags.

    Returns
    -------
    str
        The run id (run FINISHED; FAILED if logging raised).
    """
    all_tags = {Tag.KIND: RunKind.VIRTUAL_CSS,
                **{f"cin.digest.{k}": v for k, v in digests.items()}, **(tags or {})}
    store = as_store(store)
    with tracked_run(EXPERIMENT, all_tags, store, "virtualize",
                     failure="virtual-css run") as run_id:
        metrics = {}
        for section in ("fidelity", "privacy", "utility", "verdicts"):
            sec = {k: v for k, v in dict(report.get(section, {})).items() if k != "per_column"}
            metrics.update(_numbers(sec, f"{section}."))
        log_metrics(run_id, {k.replace(" ", "_"): v for k, v in metrics.items()}, store)
        log_artifacts(run_id, files, store)
    return run_id
