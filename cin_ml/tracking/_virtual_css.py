"""Log a virtual-CSS evaluation to the ``virtual-css`` experiment (issue 3)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from cin_ml.errors import TrackingError
from cin_ml.run_contract import RunKind, Tag
from cin_ml.tracking._artifacts import log_artifacts
from cin_ml.tracking._store import (
    Store,
    _client,
    _experiment_id,
    as_store,
    git_commit,
    package_version,
)

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
    store = as_store(store)
    client = _client(store)
    exp_id = _experiment_id(client, EXPERIMENT, store)
    all_tags = {str(k): str(v) for k, v in {
        Tag.KIND: RunKind.VIRTUAL_CSS, Tag.GIT_COMMIT: git_commit(), Tag.VERSION: package_version(),
        **{f"cin.digest.{k}": v for k, v in digests.items()}, **(tags or {})}.items()}
    run_id = client.create_run(exp_id, tags=all_tags, run_name="virtualize").info.run_id
    try:
        metrics = {}
        for section in ("fidelity", "privacy", "utility", "verdicts"):
            sec = {k: v for k, v in dict(report.get(section, {})).items() if k != "per_column"}
            metrics.update(_numbers(sec, f"{section}."))
        for k, v in sorted(metrics.items()):
            client.log_metric(run_id, k.replace(" ", "_"), v)
        log_artifacts(run_id, files, store)
    except BaseException as exc:
        client.set_terminated(run_id, "FAILED")
        if isinstance(exc, TrackingError | KeyboardInterrupt):
            raise
        raise TrackingError(f"virtual-css run {run_id}: {type(exc).__name__}: {exc}") from None
    client.set_terminated(run_id, "FINISHED")
    return run_id
