"""Bring your own dataset: a TOML dataset spec runs the cin-ml chain on any student table.

::

    spec = load_spec("specs/uci-por-B.toml")     # validated: unknown keys are errors
    ds = load_dataset(spec)                       # file, format, target rule, feature policy
    cv = cross_validate(ds)                       # the spec's protocol (repeated k-fold, ...)
    cv.model.mean, cv.model.low, cv.model.high    # accuracy with a CI across runs

The target and baseline are *rules* (``G3 < 10``) parsed with a whitelist grammar, never
evaluated by Python (:func:`parse_rule`). Training reuses :func:`cin_ml.models.fit_plain`;
:func:`cin_ml.pipeline.run_spec` wires training, fairness audit, explanations and the card
into an MLflow run. This package never imports mlflow, fairness or explain.
"""

from cin_ml.external._dataset import Dataset, build_dataset, load_dataset
from cin_ml.external._evaluate import (
    Accuracy,
    CVResult,
    cross_validate,
    protocol_splits,
    summarize,
)
from cin_ml.external._read import file_sha256, read_table
from cin_ml.external._result import ProtocolSplit, model_datasets, training_result
from cin_ml.external._rule import Rule, parse_rule
from cin_ml.external._spec import SMALL_DATA_LIGHTGBM, DatasetSpec, load_spec, spec_from_dict

__all__ = [
    "SMALL_DATA_LIGHTGBM",
    "Accuracy",
    "CVResult",
    "Dataset",
    "DatasetSpec",
    "ProtocolSplit",
    "Rule",
    "build_dataset",
    "cross_validate",
    "file_sha256",
    "load_dataset",
    "load_spec",
    "model_datasets",
    "parse_rule",
    "protocol_splits",
    "read_table",
    "spec_from_dict",
    "summarize",
    "training_result",
]
