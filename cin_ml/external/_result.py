"""The tracked model of a spec, as a :class:`cin_ml.models.TrainingResult`, so that the
tracking, fairness, explanation and card steps read it exactly like a CSS training run."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cin_ml.external._dataset import Dataset
from cin_ml.external._evaluate import CVResult, protocol_splits
from cin_ml.models import (
    TrainingResult,
    bootstrap_ci,
    fit_plain,
    rates_at,
    reliability,
)

__all__ = ["ProtocolSplit", "model_datasets", "training_result"]


@dataclass(frozen=True)
class ProtocolSplit:
    """Stands where a CSS run has its cohort split: the spec's protocol has no cohorts
    (``train``, ``valid`` and ``test`` are empty), and says which rows were evaluated."""

    protocol: dict
    n_train: int
    n_test: int
    evaluation: str
    train: tuple = ()
    valid: str = ""
    test: str = ""
    test_cohorts: tuple = ()

    def to_dict(self) -> dict:
        return {"protocol": self.protocol, "n_train": self.n_train, "n_test": self.n_test,
                "evaluation": self.evaluation}


def training_result(ds: Dataset, cv: CVResult, *, n_boot: int = 200, ci_level: float = 0.95,
                    seed: int = 11) -> TrainingResult:
    """Fit the model to track and package its evaluation.

    Hold-out: the model is fit on the training part and evaluated on the test part. k-fold
    and repeated k-fold: the model is fit on every row, and its evaluation is the first
    run's out-of-fold predictions (each row scored once by a model that did not see it);
    accuracy over all runs is in ``metrics["accuracy"]``.
    """
    spec = ds.spec
    lg = spec.lightgbm()
    if spec.validation.protocol == "holdout":
        train = protocol_splits(spec.validation, ds.y, ds.group)[0][0][0]
        note = "hold-out test rows, scored by the tracked model"
    else:
        train = np.arange(len(ds.y))
        note = ("out-of-fold predictions of the first cross-validation run (the tracked model "
                "is refit on every row)")
    model = fit_plain(ds.X.iloc[train], ds.y[train], lg,
                      inner_valid_fraction=spec.model.inner_valid_fraction, seed=lg.seed,
                      groups=None if ds.group is None else ds.group[train])
    oof = cv.oof
    y, score = oof["y_true"].to_numpy().astype(int), oof["score"].to_numpy()
    flagged = oof["flagged"].to_numpy().astype(bool)
    naive = oof["naive"].to_numpy().astype(float)
    # the naive rule is kept apart from the CSS "indicator" keys: cards and plots describe
    # those as the network's traditional indicator (a mark below 60), which it is not
    test = oof.join(ds.groups, on="student_id")
    ci = bootstrap_ci(y, {"model": score, "naive": naive}, flagged, n_boot, ci_level, seed)
    accuracy = {"model": cv.model.to_dict(), "majority": cv.majority.to_dict(),
                **({"naive": cv.naive.to_dict()} if cv.naive else {})}
    metrics = {
        "n_train": int(len(train)), "n_valid": 0, "n_test": int(len(oof)),
        "test_event_rate": round(float(y.mean()), 6),
        "test_auc": ci["model_auc"]["estimate"],
        "test_average_precision": ci["model_average_precision"]["estimate"],
        "test_brier": ci["model_brier"]["estimate"],
        "naive_auc": ci["naive_auc"]["estimate"],
        "test_accuracy": round(float((flagged == y.astype(bool)).mean()), 6),
        "at_threshold": _rounded(rates_at(y, flagged)),
        "naive_at_flag": _rounded(rates_at(y, naive.astype(bool))),
        "reliability": reliability(y, score, 10),
        "bootstrap": {"n_boot": n_boot, "ci_level": ci_level, "intervals": ci},
        "accuracy": accuracy, "cross_validation": cv.to_dict(),
        "naive_rule": spec.baseline.naive or "majority class of the training rows",
    }
    X_test = ds.X.loc[oof["student_id"]]
    tf = model.encode(X_test).reset_index()
    split = ProtocolSplit(cv.protocol, int(len(train)), int(len(oof)), note)
    return TrainingResult(
        task=spec.name, booster=model.booster, features=model.features,
        category_maps=model.category_maps, params=model.params, best_iteration=model.n_rounds,
        cv=(), calibration={"method": "none", "policy": "none: LightGBM log-loss "
                            "probabilities, reliability reported on the evaluation rows"},
        threshold={"mode": "probability", "value": spec.model.decision_threshold,
                   "capacity": None, "target_recall": None},
        split=split, metrics=metrics, test=test.reset_index(drop=True), test_features=tf,
        policy=ds.policy, timings={"cross_validation_s": round(cv.seconds, 3)})


def _rounded(d: dict) -> dict:
    return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in d.items()}


def model_datasets(ds: Dataset) -> dict[str, pd.DataFrame]:
    """The frames logged as MLflow dataset inputs (features + label; numbers as float64,
    as the model sees them)."""
    X = ds.X.copy()
    for c in X.columns:
        X[c] = X[c].astype("float64") if X[c].dtype != "string" else X[c].astype(object)
    return {"train": X.assign(label=ds.y.astype("float64"))}
