"""Train, calibrate, threshold and evaluate a LightGBM risk model on a feature frame."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cin_ml.errors import DataError
from cin_ml.features import FeatureFrame
from cin_ml.models import _metrics as M
from cin_ml.models._baselines import logistic_baseline
from cin_ml.models._booster import category_maps, encode, fit_booster, fit_platt, fold_platt, tune
from cin_ml.models._monotone import monotone_constraints, monotone_record
from cin_ml.models._settings import ModelSettings, load_model_settings
from cin_ml.models._split import CohortSplit, cohort_split


@dataclass(frozen=True)
class TrainingResult:
    """Everything a training run produced (the booster returns calibrated probabilities).

    ``test`` has student_id, cohort_year, y_true, score, flagged, the audit attributes,
    ``indicator``, ``logistic`` (baseline scores) and ``p_true`` when a truth was given;
    ``test_features`` has student_id and the model's (encoded) input columns.
    """

    task: str
    booster: object
    features: tuple[str, ...]
    category_maps: dict
    params: dict
    best_iteration: int
    cv: tuple[dict, ...]
    calibration: dict
    threshold: dict
    split: CohortSplit
    metrics: dict
    test: pd.DataFrame
    test_features: pd.DataFrame
    policy: dict
    timings: dict = field(default_factory=dict)
    monotone: dict = field(default_factory=dict)

    def model_meta(self) -> dict:
        """Contents of ``model_meta.json``."""
        return {"task": self.task, "features": list(self.features),
                "category_maps": self.category_maps, "threshold": self.threshold,
                "calibrator": self.calibration, "best_iteration": self.best_iteration,
                "monotone": self.monotone,
                "output": "calibrated probability of the event (calibration folded into "
                          "the booster)"}

    def to_dict(self) -> dict:
        return {"task": self.task, "features": list(self.features), "params": self.params,
                "best_iteration": self.best_iteration, "cv": list(self.cv),
                "calibration": self.calibration, "threshold": self.threshold,
                "split": self.split.to_dict(), "metrics": self.metrics,
                "timings": self.timings, "monotone": self.monotone}


def choose_threshold(y: np.ndarray, p: np.ndarray, settings) -> dict:
    """Probability threshold from the validation cohort: top ``capacity`` share, or the
    highest threshold whose recall reaches ``target_recall``."""
    if settings.mode == "capacity":
        thr = float(np.quantile(p, 1 - settings.capacity))
    else:
        pos = np.sort(p[np.asarray(y, bool)])[::-1]
        k = max(int(np.ceil(settings.target_recall * pos.size)) - 1, 0)
        thr = float(pos[k]) if pos.size else 0.5
    return {"mode": settings.mode, "capacity": settings.capacity,
            "target_recall": settings.target_recall, "value": round(thr, 8)}


def _calibrate(booster, X_val, y_val, settings) -> tuple[object, dict]:
    raw = booster.predict(X_val, raw_score=True)
    p0 = 1 / (1 + np.exp(-raw))
    a, b = fit_platt(raw, y_val)
    p1 = 1 / (1 + np.exp(-(a * raw + b)))
    b0, b1 = M.brier(y_val, p0), M.brier(y_val, p1)
    use = settings.method == "platt" or (settings.method == "auto"
                                         and b0 - b1 >= settings.min_brier_gain)
    info = {"method": "platt" if use else "none", "policy": settings.method,
            "platt_a": round(a, 8) if use else None, "platt_b": round(b, 8) if use else None,
            "valid_brier_raw": round(b0, 6), "valid_brier_platt": round(b1, 6)}
    return (fold_platt(booster, a, b) if use else booster), info


def train_model(frame: FeatureFrame, settings: ModelSettings | None = None,
                p_true: pd.Series | None = None) -> TrainingResult:
    """Train and evaluate the task's LightGBM model on a :class:`FeatureFrame`.

    Cohort-over-time validation: tuning by grouped CV (schools) on the training cohorts,
    early stopping and calibration on the validation cohort, test on the latest labelled
    cohort. Baselines (traditional indicator, logistic regression) and, when ``p_true``
    (true probabilities by student_id) is given, the oracle AUC are computed on the same
    test students.

    Raises
    ------
    DataError
        Too few labelled cohorts, or a split with a single class.
    """
    s = settings or load_model_settings()
    t0 = time.perf_counter()
    pop = frame.population
    split = cohort_split(pop, s.validation, frame.task.name)
    lab = pop["label"].notna()
    part = {"train": lab & pop["cohort_year"].isin(split.train),
            "valid": lab & (pop["cohort_year"] == split.valid),
            "test": lab & (pop["cohort_year"] == split.test)}
    maps = category_maps(frame.X)
    Xe = encode(frame.X, maps)
    y = pop["label"].astype("float64").fillna(-1).to_numpy().astype(int)
    for name, m in part.items():
        if len(np.unique(y[m.to_numpy()])) < 2:
            raise DataError(f"task '{frame.task.name}': {name} cohort(s) have a single class")
    tr, va, te = (part[k].to_numpy() for k in ("train", "valid", "test"))
    lg = s.lightgbm
    cats = list(maps)
    families = s.monotone.families()
    constraints = monotone_constraints(list(frame.X.columns), families, cats)
    mono = monotone_record(list(frame.X.columns), families, constraints, s.monotone.method)
    base = lg.params(n_rows=int(tr.sum()))
    if any(constraints):
        base.update(monotone_constraints=constraints,
                    monotone_constraints_method=s.monotone.method)
    groups = pop["school_id"].fillna("?").astype(str).to_numpy()
    t1 = time.perf_counter()
    chosen, cv = tune(Xe[tr], y[tr], groups[tr], base, s.tuning.candidates, s.tuning.n_folds,
                      lg.max_rounds, lg.early_stopping_rounds, cats)
    t2 = time.perf_counter()
    params = {**base, **chosen}
    booster, best = fit_booster(Xe[tr], y[tr], Xe[va], y[va], params, lg.max_rounds,
                                lg.early_stopping_rounds, cats)
    t3 = time.perf_counter()
    booster, calib = _calibrate(booster, Xe[va], y[va], s.calibration)
    p_val = booster.predict(Xe[va])
    threshold = choose_threshold(y[va], p_val, s.threshold)
    t4 = time.perf_counter()

    p_test = booster.predict(Xe[te])
    y_te = y[te]
    flagged = (p_test >= threshold["value"]).astype("int8")
    ind = frame.indicator.to_numpy()[te].astype(float)
    logit = logistic_baseline(Xe[tr], y[tr], Xe[te], s.baselines.logistic_c,
                              s.baselines.logistic_max_iter)
    t5 = time.perf_counter()
    scores = {"model": p_test, "indicator": ind, "logistic": logit}
    test = pd.DataFrame({"student_id": pop.index[te], "cohort_year":
                         pop["cohort_year"].to_numpy()[te].astype("int64"),
                         "y_true": y_te.astype("int8"), "score": p_test, "flagged": flagged})
    for col in frame.audit.columns:
        test[col] = frame.audit[col].to_numpy()[te]
    test["indicator"] = ind.astype("int8")
    test["logistic"] = logit
    metrics = {"n_train": int(tr.sum()), "n_valid": int(va.sum()), "n_test": int(te.sum()),
               "test_event_rate": round(float(y_te.mean()), 6)}
    if p_true is not None:
        pt = p_true.reindex(test["student_id"]).to_numpy(dtype=float)
        if np.isnan(pt).any():
            raise DataError(f"truth: {int(np.isnan(pt).sum())} test student(s) have no true "
                            f"probability (is the truth keyed with the same pseudonyms?)")
        test["p_true"] = pt
        scores["oracle"] = pt
    ci = M.bootstrap_ci(y_te, scores, flagged, s.evaluation.n_boot, s.evaluation.ci_level,
                        s.evaluation.seed)
    metrics.update({
        "test_auc": ci["model_auc"]["estimate"],
        "test_average_precision": ci["model_average_precision"]["estimate"],
        "test_brier": ci["model_brier"]["estimate"],
        "indicator_auc": ci["indicator_auc"]["estimate"],
        "logistic_auc": ci["logistic_auc"]["estimate"],
        "at_threshold": {k: (round(v, 6) if isinstance(v, float) else v)
                         for k, v in M.rates_at(y_te, flagged).items()},
        "indicator_at_flag": {k: (round(v, 6) if isinstance(v, float) else v)
                              for k, v in M.rates_at(y_te, ind.astype(bool)).items()},
        # the model flagging as many students as the indicator: a like-for-like comparison
        "model_at_indicator_rate": {k: (round(v, 6) if isinstance(v, float) else v)
                                    for k, v in M.rates_at(
                                        y_te, _top_k(p_test, int(ind.astype(bool).sum()))
                                    ).items()},
        "reliability": M.reliability(y_te, p_test, s.calibration.n_bins),
        "bootstrap": {"n_boot": s.evaluation.n_boot, "ci_level": s.evaluation.ci_level,
                      "intervals": ci},
    })
    if p_true is not None:
        metrics["oracle_auc"] = ci["oracle_auc"]["estimate"]
        metrics["auc_gap_to_oracle"] = round(metrics["oracle_auc"] - metrics["test_auc"], 6)
        metrics["oracle_brier"] = round(M.brier(y_te, scores["oracle"]), 6)
    tf = Xe[te].reset_index()
    timings = {"prepare_s": t1 - t0, "tune_s": t2 - t1, "fit_s": t3 - t2,
               "calibrate_threshold_s": t4 - t3, "evaluate_s": time.perf_counter() - t4,
               "baseline_s": t5 - t4}
    return TrainingResult(frame.task.name, booster, tuple(frame.X.columns), maps, params,
                          int(best), tuple(cv), calib, threshold, split, metrics, test, tf,
                          frame.policy.to_dict(),
                          {k: round(v, 4) for k, v in timings.items()}, mono)


def _top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Flags for the ``k`` highest scores (ties broken by position, deterministic)."""
    flagged = np.zeros(len(scores), dtype=bool)
    if k > 0:
        flagged[np.argsort(-scores, kind="stable")[:k]] = True
    return flagged
