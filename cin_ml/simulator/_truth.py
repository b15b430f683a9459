"""The ground truth of a simulation: what only the simulator knows.

True outcome probabilities and labels (columns ``p_<task>`` / ``y_<task>`` of
:class:`cin_ml.tasks.TaskSpec`), the causal drivers and the true category of every raw
absence reason. A real extract has none. The truth is written apart from the extract and
serves evaluation only: it never reaches features, a model or a virtual CSS (the import
contracts keep :mod:`cin_ml.simulator` out of those packages; docs/architecture.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cin_ml.errors import DataError
from cin_ml.extract import atomic_dir, write_json_atomic

__all__ = ["TRUTH_FILES", "GroundTruth", "read_truth", "write_truth"]

TRUTH_FILES = ("students.parquet", "absence_reasons.parquet", "drivers.parquet",
               "summary.json")


@dataclass(frozen=True)
class GroundTruth:
    """What only the simulator knows. Evaluation only: never features, never a model."""

    students: pd.DataFrame
    drivers: pd.DataFrame
    absence_reasons: pd.DataFrame
    summary: dict = field(default_factory=dict)


def _write_files(gt: GroundTruth, folder: Path) -> None:
    """Write the truth files into ``folder`` (a temp folder of :class:`atomic_dir`)."""
    gt.students.to_parquet(folder / "students.parquet", index=False)
    gt.absence_reasons.to_parquet(folder / "absence_reasons.parquet", index=False)
    gt.drivers.to_parquet(folder / "drivers.parquet", index=False)
    write_json_atomic(folder / "summary.json", gt.summary)


def write_truth(truth: GroundTruth, out: Path | str) -> Path:
    """Write a ground truth atomically to the folder ``out`` (the format :func:`read_truth`
    reads), e.g. a truth re-keyed with an extract's pseudonyms."""
    with atomic_dir(out) as tmp:
        _write_files(truth, tmp)
    return Path(out)


def read_truth(path: Path | str) -> GroundTruth:
    """Read a ground-truth folder written by :func:`write_simulation` or :func:`write_truth`."""
    p = Path(path)
    missing = [f for f in TRUTH_FILES if not (p / f).is_file()]
    if missing:
        raise DataError(f"{p}: not a ground-truth folder (missing {', '.join(missing)})")
    return GroundTruth(pd.read_parquet(p / "students.parquet"),
                       pd.read_parquet(p / "drivers.parquet"),
                       pd.read_parquet(p / "absence_reasons.parquet"),
                       json.loads((p / "summary.json").read_text(encoding="utf-8")))
