"""Sequential synthesis of the school-exit outcome (diploma, qualification, dropout).

Why not let the copula learn it: the extract stops at its last school year, so a student can
only have exited if ``cohort_year + years in school <= last year``. The observed exit is the
true exit *censored by a known, deterministic rule*. A Gaussian copula sees ``exit_status``
as one more column correlated with ``cohort_year`` and cannot reproduce a step like "every
student of the old cohorts has an exit, none of the recent ones": measured on 20k students it
gave exits to only 40-60 % of the oldest cohorts (source: > 97 %), no cohort reached the 95 %
label coverage ``cin_ml.models`` requires, and the dropout rate among labelled students was
half the source's (the censoring keeps early leavers, i.e. dropouts, and the copula blurred
even that).

So, as in sequential synthesis (synthpop: one column at a time, each from a model of its
conditional distribution given the columns already synthesized):

1. the copula synthesizes the student row *without* the outcome columns (``exit_status``,
   ``exit_offset``, ``rep_secondary``);
2. :func:`fit_outcome_model` learns, on the source students of **complete cohorts** (cohorts
   where at least ``outcome_complete_coverage`` of the students who reached secondary have an
   exit row, so the outcome is observed, not censored, and early leavers are not
   over-represented), the *uncensored* outcome given what is known at entry to secondary:
   a small seeded LightGBM multiclass for the status given the primary history (marks of
   grades 1-6, term trend and spread, exam, retentions, plan, absences, school IMSE, mother's
   education, sex, language, immigration; no ``cohort_year``: the model is assumed stable
   over cohorts), and the empirical joint distribution, per status, of the years spent in
   secondary and secondary repeats (population counts with at least ``min_string_support``
   students);
3. :func:`draw_outcomes` draws each virtual student's status and secondary path; years to
   exit = primary years (6 + repeats, as re-expansion lays them out) + secondary years - 1;
4. re-expansion (:mod:`._expand`) applies the extract's truncation: an exit after the last
   school year becomes "still enrolled", exactly the censoring of the source.

Students of complete cohorts still enrolled at the end (long stays, under 2 %) are left out
of the fit, a slight bias towards shorter stays. Secondary paths do not depend on the
student beyond the status: no model feature is measured after entry to secondary.

The fitted model is JSON-safe (the LightGBM text dump, stored with the expansion context):
its leaves average at least ``outcome_min_leaf`` students.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from cin_ml.virtual_css.synthesis._student_table import MARK_COLUMNS

__all__ = ["OUTCOME_COLUMNS", "draw_outcomes", "fit_outcome_model", "observed_outcomes"]

OUTCOME_COLUMNS = ("exit_status", "exit_offset", "rep_secondary")
_NUMERIC = (*MARK_COLUMNS, "term_trend", "term_sd", "exam_mark", "abs_per_year", "abs_hours",
            "rep_primary", "rep_grade", "mother_education")
_ONE_HOT = ("sex", "language_group", "immigration_generation")


def _num(s: pd.Series) -> np.ndarray:
    return pd.to_numeric(s, errors="coerce").to_numpy(float)


def _design(wide: pd.DataFrame, spec: dict) -> np.ndarray:
    """Features of the status model (same columns for source and virtual wide rows)."""
    w = wide.reset_index(drop=True)
    cols = [_num(w[c]) if c in w else np.full(len(w), np.nan) for c in spec["numeric"]]
    plan = w["plan_type"].astype(object).fillna("none").to_numpy() != "none"
    cols += [plan.astype(float), np.where(plan, _num(w["plan_offset"]), np.nan)]
    imse = spec["imse"]
    cols.append(w["school_g1"].astype(object).map(imse).astype(float).to_numpy())
    for c, levels in spec["levels"].items():
        v = w[c].astype(object).to_numpy()
        cols += [(v == lv).astype(float) for lv in levels]
    return np.column_stack(cols)


def primary_years(wide: pd.DataFrame) -> np.ndarray:
    """Years in grades 1-6 as re-expansion lays them out (repeats at ``rep_grade``)."""
    rg = np.nan_to_num(np.round(_num(wide["rep_grade"])), nan=0)
    rp = np.nan_to_num(np.round(_num(wide["rep_primary"])), nan=0)
    return (6 + np.where((rg >= 1) & (rg <= 6), np.maximum(rp, 1), 0)).astype("int64")


def fit_outcome_model(wide: pd.DataFrame, schools: pd.DataFrame, *, complete_coverage: float,
                      min_support: int, n_trees: int, min_leaf: int, seed: int,
                      num_threads: int = 1) -> dict:
    """Fit the uncensored outcome model on the complete cohorts of a source wide table.

    Returns a JSON-safe dict (see the module docstring); ``{"kind": "none"}`` when the source
    has no exit at all.
    """
    w = wide.reset_index(drop=True)
    status = w["exit_status"].astype(object).fillna("none")
    exited = (status != "none").to_numpy()
    if not exited.any():
        return {"kind": "none"}
    cohort = _num(w["cohort_year"])
    in_sec = w["school_sec"].notna().to_numpy() | exited
    cov = pd.Series(exited[in_sec]).groupby(cohort[in_sec]).mean()
    complete = cov.index[cov >= complete_coverage]
    note = f"cohorts {int(min(complete))}-{int(max(complete))}" if len(complete) else \
        "no complete cohort: every observed exit (biased towards early leavers)"
    use = exited & (np.isin(cohort, complete) if len(complete) else True)
    sec_years = (_num(w["exit_offset"]) + 1 - primary_years(w))[use]
    rep_sec = np.nan_to_num(np.round(_num(w["rep_secondary"])), nan=0)[use]
    y = status.to_numpy()[use]
    paths: dict[str, list[list[int]]] = {}
    for s in sorted(set(y)):
        m = y == s
        counts = pd.Series(1, index=pd.MultiIndex.from_arrays(
            [sec_years[m].astype(int), rep_sec[m].astype(int)])).groupby(level=[0, 1]).sum()
        kept = counts[counts >= min_support]
        if kept.empty:  # keep the status, with its most common path only
            kept = counts.nlargest(1)
        paths[s] = [[int(a), int(b), int(n)] for (a, b), n in kept.items() if a >= 1]
    classes = sorted(s for s in paths if paths[s])
    prior = [float(np.mean(y == s)) for s in classes]
    spec = {"kind": "prior", "classes": classes, "prior": prior, "paths": paths,
            "numeric": [c for c in _NUMERIC if c in w], "imse": {
                str(k): float(v) for k, v in zip(schools["school_id"], schools["imse_decile"],
                                                 strict=True)},
            "levels": {c: sorted(w[c].dropna().astype(str).unique().tolist())
                       for c in _ONE_HOT if c in w},
            "n_fit": int(use.sum()), "fit_on": note,
            "offset_fill": float(np.nanmedian(_num(w["exit_offset"])))}
    keep = np.isin(y, classes)
    if len(classes) < 2 or keep.sum() < 2 * min_leaf:
        return spec
    import lightgbm as lgb

    X = _design(w.loc[use].loc[keep], spec)
    codes = np.searchsorted(classes, y[keep])
    booster = lgb.train({"objective": "multiclass", "num_class": len(classes),
                         "learning_rate": 0.05, "num_leaves": 15, "min_data_in_leaf": min_leaf,
                         "lambda_l2": 1.0, "feature_fraction": 0.8, "bagging_fraction": 0.8,
                         "bagging_freq": 1, "seed": seed, "deterministic": True,
                         "num_threads": num_threads, "verbosity": -1},
                        lgb.Dataset(X, codes), num_boost_round=n_trees)
    return {**spec, "kind": "lightgbm", "booster": booster.model_to_string()}


def _calibrate_in_the_large(probs: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """Shift each class's log-odds so the mean probability equals the source's share.

    The copula narrows the tails of the primary history a little (the weakest students are
    rarer), which alone lowered the virtual dropout rate by ~1.5 points; the shift keeps the
    source's status shares (as the copula keeps marginals) and the model's ranking.
    """
    logp = np.log(np.clip(probs, 1e-12, 1.0))
    shift = np.zeros(probs.shape[1])
    for _ in range(50):
        p = np.exp(logp + shift)
        p /= p.sum(axis=1, keepdims=True)
        step = np.log(prior / p.mean(axis=0))
        shift += step
        if np.abs(step).max() < 1e-6:
            break
    return p


def draw_outcomes(wide: pd.DataFrame, model: Mapping, rng: np.random.Generator) -> pd.DataFrame:
    """Add uncensored ``exit_status``, ``exit_offset``, ``rep_secondary`` to virtual rows."""
    w = wide.reset_index(drop=True).copy()
    n = len(w)
    if model.get("kind", "none") == "none":
        return w.assign(exit_status="none", exit_offset=np.nan, rep_secondary="0")
    classes = list(model["classes"])
    if model["kind"] == "lightgbm":
        import lightgbm as lgb

        booster = lgb.Booster(model_str=model["booster"])
        probs = _calibrate_in_the_large(booster.predict(_design(w, model), num_threads=1),
                                        np.asarray(model["prior"], float))
    else:
        probs = np.tile(np.asarray(model["prior"], float), (n, 1))
    cum = probs.cumsum(axis=1)
    pick = (rng.random(n)[:, None] * cum[:, -1:] > cum).sum(axis=1)
    status = np.array(classes, dtype=object)[np.minimum(pick, len(classes) - 1)]
    sec = np.zeros(n, dtype="int64")
    rep = np.zeros(n, dtype="int64")
    for s in classes:
        m = np.flatnonzero(status == s)
        table = np.asarray(model["paths"][s], dtype="int64")
        k = rng.choice(len(table), len(m), p=table[:, 2] / table[:, 2].sum())
        sec[m], rep[m] = table[k, 0], table[k, 1]
    w["exit_status"] = status
    w["exit_offset"] = (primary_years(w) + sec - 1).astype(float)
    w["rep_secondary"] = rep.astype(str).astype(object)
    return w


def observed_outcomes(wide: pd.DataFrame, last_year: int, fill: float) -> pd.DataFrame:
    """The outcome columns as the extract would record them (the source's censoring).

    An exit after ``last_year`` becomes ``none`` (offset imputed with ``fill``, as the copula's
    input frame does); secondary repeats count only the years inside the extract (re-expansion
    places them at the first secondary grade).
    """
    w = wide.copy()
    cohort = _num(w["cohort_year"])
    off = _num(w["exit_offset"])
    seen = cohort + off <= last_year
    w["exit_status"] = np.where(seen, w["exit_status"].astype(object), "none")
    w["exit_offset"] = np.where(seen, off, fill)
    years_seen = np.minimum(off, last_year - cohort) + 1
    sec_seen = np.maximum(years_seen - primary_years(w), 0)
    rep = np.nan_to_num(_num(w["rep_secondary"]), nan=0)
    w["rep_secondary"] = np.minimum(rep, np.maximum(sec_seen - 1, 0)).astype(int).astype(
        str).astype(object)
    return w
