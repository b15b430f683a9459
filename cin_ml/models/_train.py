"""Train, calibrate, threshold and evaluate a LightGBM risk model on a feature frame."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cin_ml.errors import DataError
from cin_ml.features import FeatureFrame
from cin_ml.models import _metrics as M
from cin_ml.models._baselines import (
    CONTEXT_COLUMNS,
    context_baseline,
    context_frame,
    logistic_baseline,
)
from cin_ml.models._booster import category_maps, encode, fit_booster, fit_platt, fold_platt, tune
from cin_ml.models._monotone import monotone_constraints, monotone_record
from cin_ml.models._settings import ModelSettings, load_model_settings
from cin_ml.models._split import CohortSplit, rolling_plan


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


def _fit_fold(Xe, y, tr, va, params, s, cats) -> tuple[object, int, dict, dict]:
    """Early-stopped booster on ``tr``, calibrated and thresholded on ``va``."""
    lg = s.lightgbm
    booster, best = fit_booster(Xe[tr], y[tr], Xe[va], y[va], params, lg.max_rounds,
                                lg.early_stopping_rounds, cats)
    booster, calib = _calibrate(booster, Xe[va], y[va], s.calibration)
    threshold = choose_threshold(y[va], booster.predict(Xe[va]), s.threshold)
    return booster, int(best), calib, threshold


def _masks(pop: pd.DataFrame, split: CohortSplit, task: str, y: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lab = pop["label"].notna()
    part = {"train": lab & pop["cohort_year"].isin(split.train),
            "valid": lab & (pop["cohort_year"] == split.valid),
            "test": lab & (pop["cohort_year"] == split.test)}
    for name, m in part.items():
        if len(np.unique(y[m.to_numpy()])) < 2:
            raise DataError(f"task '{task}': {name} cohort(s) have a single class")
    return tuple(part[k].to_numpy() for k in ("train", "valid", "test"))


def train_model(frame: FeatureFrame, settings: ModelSettings | None = None,
                p_true: pd.Series | None = None) -> TrainingResult:
    """Train and evaluate the task's LightGBM model on a :class:`FeatureFrame`.

    Rolling-origin validation (``[validation]`` of ``configs/models.toml``): each of the
    last ``test_cohorts`` labelled cohorts is the test cohort of a model trained on the
    cohorts before it (early stopping, calibration and threshold on the cohort just before
    it); hyperparameters are tuned once, by grouped CV (schools) on the training cohorts of
    the oldest fold, so no test cohort informs them. The pooled out-of-time predictions
    (each student once, at the threshold of the model that made them) are ``test``: every
    metric is computed on them, per cohort too (``metrics["rolling"]``). The served model
    is retrained on every labelled cohort (the latest for early stopping, calibration and
    threshold) when ``refit_on_all``, else it is the latest fold's model. Baselines
    (traditional indicator, logistic regression per fold) and, when ``p_true`` (true
    probabilities by student_id) is given, the oracle AUC are computed on the same students.

    Raises
    ------
    DataError
        Too few labelled cohorts, or a split with a single class.
    """
    from cin_ml.models._cohorts import cohort_table, context_comparison, stability

    s = settings or load_model_settings()
    t0 = time.perf_counter()
    pop = frame.population
    plan = rolling_plan(pop, s.validation, frame.task.name)
    maps = category_maps(frame.X)
    Xe = encode(frame.X, maps)
    y = pop["label"].astype("float64").fillna(-1).to_numpy().astype(int)
    masks = [_masks(pop, f, frame.task.name, y) for f in plan.folds]
    cats = list(maps)
    families = s.monotone.families()
    constraints = monotone_constraints(list(frame.X.columns), families, cats)
    mono = monotone_record(list(frame.X.columns), families, constraints, s.monotone.method)
    first_tr = masks[0][0]
    base = s.lightgbm.params(n_rows=int(first_tr.sum()))
    if any(constraints):
        base.update(monotone_constraints=constraints,
                    monotone_constraints_method=s.monotone.method)
    groups = pop["school_id"].fillna("?").astype(str).to_numpy()
    ctx = context_frame(pop, frame.X).to_numpy(dtype=object)
    ctx = pd.DataFrame(ctx, columns=list(CONTEXT_COLUMNS)).astype(
        {"imse_decile": float, "cohort_year": float})
    t1 = time.perf_counter()
    chosen, cv = tune(Xe[first_tr], y[first_tr], groups[first_tr], base, s.tuning.candidates,
                      s.tuning.n_folds, s.lightgbm.max_rounds,
                      s.lightgbm.early_stopping_rounds, cats)
    t2 = time.perf_counter()
    params = {**base, **chosen}
    parts, folds_meta, booster = [], [], None
    for split, (tr, va, te) in zip(plan.folds, masks, strict=True):
        booster, best, calib, threshold = _fit_fold(Xe, y, tr, va, params, s, cats)
        p_te = booster.predict(Xe[te])
        logit = logistic_baseline(Xe[tr], y[tr], Xe[te], s.baselines.logistic_c,
                                  s.baselines.logistic_max_iter)
        ctx_p = context_baseline(ctx[tr], y[tr], ctx[te], s.baselines.logistic_c,
                                 s.baselines.logistic_max_iter)
        parts.append((te, p_te, threshold["value"], logit, ctx_p))
        folds_meta.append({"test_cohort": split.test, "train_cohorts": list(split.train),
                           "valid_cohort": split.valid, "best_iteration": best,
                           "calibration": calib["method"], "threshold": threshold["value"],
                           "n_train": int(tr.sum()), "n_valid": int(va.sum())})
    t3 = time.perf_counter()
    final = plan.final
    if plan.refit:
        tr_f, va_f, _ = _masks(pop, final, frame.task.name, y)
        booster, best, calib, threshold = _fit_fold(Xe, y, tr_f, va_f, params, s, cats)
    else:
        tr_f, va_f = masks[-1][0], masks[-1][1]
    t4 = time.perf_counter()

    te = np.zeros(len(y), dtype=bool)
    p_all, thr_all, logit_all, ctx_all = (np.full(len(y), np.nan) for _ in range(4))
    for m, p_te, thr, logit, ctx_p in parts:
        te |= m
        p_all[m], thr_all[m], logit_all[m], ctx_all[m] = p_te, thr, logit, ctx_p
    p_test, thr_test, logit = p_all[te], thr_all[te], logit_all[te]
    y_te = y[te]
    flagged = (p_test >= thr_test).astype("int8")
    ind = frame.indicator.to_numpy()[te].astype(float)
    t5 = time.perf_counter()
    scores = {"model": p_test, "indicator": ind, "logistic": logit}
    test = pd.DataFrame({"student_id": pop.index[te], "cohort_year":
                         pop["cohort_year"].to_numpy()[te].astype("int64"),
                         "y_true": y_te.astype("int8"), "score": p_test, "flagged": flagged,
                         "threshold": thr_test})
    for col in frame.audit.columns:
        test[col] = frame.audit[col].to_numpy()[te]
    test["indicator"] = ind.astype("int8")
    test["logistic"] = logit
    test["context"] = ctx_all[te]
    # what the served model (trained on every labelled cohort) gives the same students: not
    # an evaluation (it has seen most of them), the reference a deployed copy must reproduce
    test["served_score"] = booster.predict(Xe[te])
    metrics = {"n_train": int(tr_f.sum()), "n_valid": int(va_f.sum()), "n_test": int(te.sum()),
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
    metrics["context_baseline"] = {
        "inputs": list(CONTEXT_COLUMNS),
        **context_comparison(y_te, p_test, ctx_all[te], test["cohort_year"].to_numpy(),
                             s.threshold.capacity, s.evaluation.n_boot,
                             s.evaluation.ci_level, s.evaluation.seed)}
    rows = cohort_table(test, s.threshold.capacity, s.calibration.n_bins,
                        s.evaluation.n_boot, s.evaluation.ci_level, s.evaluation.seed)
    metrics["rolling"] = {"k": len(plan.folds), "k_configured": s.validation.test_cohorts,
                          "min_test_at_risk": s.validation.min_test_at_risk,
                          "test_at_risk": plan.test_at_risk,
                          "refit_on_all": plan.refit, "folds": folds_meta, "cohorts": rows,
                          "stability": stability(rows)}
    tf = Xe[te].reset_index()
    timings = {"prepare_s": t1 - t0, "tune_s": t2 - t1, "folds_s": t3 - t2,
               "final_fit_s": t4 - t3, "evaluate_s": time.perf_counter() - t5}
    split = CohortSplit(final.train, final.valid, plan.folds[-1].test, final.excluded,
                        final.coverage, tuple(f.test for f in plan.folds))
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
