"""Monitoring runs (``cin-ml monitor``): one run of experiment ``cin-monitoring`` per report.

Tags (``cin_ml.run_contract.Tag``): ``cin.kind=monitor``, ``cin.monitor.model``,
``cin.monitor.version``, ``cin.monitor.alias``, ``cin.monitor.run_id`` (the training run),
``cin.monitor.cohort`` (school year at whose end the newest cohort is predicted),
``cin.monitor.alarms`` (count), ``cin.monitor.breached``; metrics: the report's ``values``
(the numbers conditions name); artifacts: ``monitoring/report.json`` and
``monitoring/report.{fr,en}.html``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cin_ml.run_contract import MONITORING_EXPERIMENT, RunKind, Tag
from cin_ml.tracking._artifacts import log_artifacts, log_metrics
from cin_ml.tracking._store import Store, _client, as_store, tracked_run

__all__ = ["find_monitoring_runs", "log_monitoring_run"]


def _metric_name(key: str) -> str:
    return key.replace("(", ".").replace(")", "")


def log_monitoring_run(tags: Mapping[str, str], values: Mapping[str, float | None],
                       files: Mapping[str, Any], store: Store | str | None = None) -> str:
    """Create a FINISHED run in ``cin-monitoring`` with ``tags``, the report's ``values`` as
    metrics (``fnr_gap(sex)`` logged as ``fnr_gap.sex``) and ``files`` as artifacts."""
    store = as_store(store)
    name = f"monitor {tags.get(Tag.MONITOR_MODEL, '')} v{tags.get(Tag.MONITOR_VERSION, '')}"
    with tracked_run(MONITORING_EXPERIMENT, {Tag.KIND: RunKind.MONITOR, **tags}, store, name,
                     failure="monitoring run") as run_id:
        log_metrics(run_id, {_metric_name(k): v for k, v in values.items()}, store)
        log_artifacts(run_id, files, store)
    return run_id


def find_monitoring_runs(model: str, store: Store | str | None = None, *,
                         version: str | None = None, cohort: int | None = None,
                         max_results: int = 50) -> list[tuple[str, dict[str, str], int]]:
    """FINISHED monitoring runs of ``model`` (one version, one cohort), newest first:
    ``(run_id, tags, start_time_ms)``."""
    store = as_store(store)
    client = _client(store)
    exp = client.get_experiment_by_name(MONITORING_EXPERIMENT)
    if exp is None:
        return []
    flt = [f"tags.`{Tag.KIND.value}` = '{RunKind.MONITOR.value}'",
           f"tags.`{Tag.MONITOR_MODEL.value}` = '{model}'", "attributes.status = 'FINISHED'"]
    if version is not None:
        flt.append(f"tags.`{Tag.MONITOR_VERSION.value}` = '{version}'")
    if cohort is not None:
        flt.append(f"tags.`{Tag.MONITOR_COHORT.value}` = '{int(cohort)}'")
    runs = client.search_runs([exp.experiment_id], " and ".join(flt),
                              order_by=["attributes.start_time DESC"],
                              max_results=max_results)
    return [(r.info.run_id, dict(r.data.tags), int(r.info.start_time or 0)) for r in runs]
