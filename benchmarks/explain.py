"""Benchmark of the explain step (issue 6), in one run on the same 200-tree model:

1. shap.TreeExplainer on 100k students (it calls LightGBM's pred_contrib underneath);
2. our full-cohort path (compute_contributions over every student, all cores);
3. our default path (explain_cohort: flagged + asked + global sample), on 100k and on a
   50k-student CSS (target: under 15 s on 2 cores);

with times, per-row cost, ratios, exact agreement with shap and the agreement of the
sample's global ranking with the full-cohort ranking. Run: .venv/bin/python benchmarks/explain.py
"""

from __future__ import annotations

import os
import time

import numpy as np
import pandas as pd


def make_frame(n: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    cols = {}
    for comp in ("lecture", "ecriture", "resoudre", "raisonner"):
        base = rng.normal(74, 11, n)
        for g in (1, 2, 3):
            cols[f"{comp}_g{g}_mean"] = np.clip(base + rng.normal(0, 6, n), 0, 100)
        cols[f"{comp}_g3_min"] = np.clip(cols[f"{comp}_g3_mean"] - np.abs(rng.normal(6, 3, n)),
                                         0, 100)
        cols[f"{comp}_g3_trend"] = rng.normal(0, 2, n)
        cols[f"{comp}_n_below_60"] = rng.poisson(np.clip((70 - base) / 8, 0.05, None))
    for cat in ("maladie", "non_motivee", "raison_familiale", "suspension"):
        cols[f"absence_rate_{cat}"] = rng.beta(1.2, 50, n)
    cols["absence_rate_total"] = sum(cols[f"absence_rate_{c}"] for c in
                                     ("maladie", "non_motivee", "raison_familiale",
                                      "suspension"))
    cols["n_retentions"] = rng.binomial(1, 0.07, n).astype(float)
    cols["n_school_changes"] = rng.poisson(0.4, n).astype(float)
    cols["intervention_plan"] = rng.binomial(1, 0.15, n).astype(float)
    cols["imse_decile"] = rng.integers(1, 11, n).astype(float)
    cols["mother_education"] = rng.integers(0, 4, n).astype(float)
    df = pd.DataFrame(cols)
    logit = (-2.2 - 0.08 * (df["lecture_g3_mean"] - 74) - 0.06 * (df["ecriture_g3_mean"] - 74)
             + 20 * df["absence_rate_non_motivee"] + 1.0 * df["n_retentions"]
             + 0.08 * (df["imse_decile"] - 5))
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int).to_numpy()
    df.index = pd.Index([f"P{i:07d}" for i in range(n)], name="student_id")
    return df, y


def main() -> None:
    import lightgbm as lgb
    import shap

    from cin_ml.explain import (
        ExplainSettings,
        compare_rankings,
        compute_contributions,
        explain_cohort,
        mean_abs,
    )
    from cin_ml.models import resolve_threads

    threads = resolve_threads(0)
    n = 100_000
    X, y = make_frame(n, seed=11)
    t = time.perf_counter()
    booster = lgb.train({"objective": "binary", "num_leaves": 31, "learning_rate": 0.05,
                         "num_threads": threads, "verbose": -1, "seed": 1,
                         "deterministic": True, "force_col_wise": True},
                        lgb.Dataset(X, label=y), num_boost_round=200)
    print(f"machine: {os.cpu_count()} cpu(s), {threads} usable; model: {booster.num_trees()} "
          f"trees, {X.shape[1]} features; fit {time.perf_counter() - t:.1f} s")

    # 1. shap.TreeExplainer (with the booster's num_threads = the same core count)
    import warnings

    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ref = shap.TreeExplainer(booster).shap_values(X)
    t_shap = time.perf_counter() - t

    # 2. our full-cohort path
    full = compute_contributions(booster, X, num_threads=threads)
    t_full = full.seconds
    one = compute_contributions(booster, X.iloc[:10_000], num_threads=1)
    diff = float(np.max(np.abs(full.values - ref)))

    # 3. our default path on 100k, and on a 50k CSS
    score = booster.predict(X, num_threads=threads)
    preds = pd.DataFrame({"student_id": X.index, "score": score,
                          "flagged": (score >= np.quantile(score, 0.9)).astype(int)})
    settings = ExplainSettings(num_threads=0)
    t = time.perf_counter()
    e100 = explain_cohort(booster, X, preds, asked=[X.index[17]], settings=settings)
    t_def100 = time.perf_counter() - t
    X50, p50 = X.iloc[:50_000], preds.iloc[:50_000]
    t = time.perf_counter()
    e50 = explain_cohort(booster, X50, p50, asked=[X50.index[3]], settings=settings)
    t_def50 = time.perf_counter() - t

    agr = compare_rankings(mean_abs(full), mean_abs(e100.contributions.subset(
        e100.selection.sample)), top_k=10)
    stab = e100.global_.stability

    rows = [
        ("shap.TreeExplainer, 100k (same native code)", t_shap, n),
        ("ours, full cohort 100k", t_full, n),
        ("ours, default path 100k (flagged+asked+sample, incl. reasons)", t_def100,
         len(e100.contributions)),
        ("ours, default path 50k CSS (incl. reasons)", t_def50, len(e50.contributions)),
    ]
    print(f"\n{'path':66s} {'time s':>8s} {'rows':>8s} {'vs shap':>8s}")
    for name, sec, rows_ in rows:
        print(f"{name:66s} {sec:8.2f} {rows_:8,d} {t_shap / sec:7.1f}x")
    print(f"\nper-row cost, 1 thread: {1000 * one.seconds / 10_000:.3f} ms "
          f"(10k rows in {one.seconds:.2f} s); {threads} threads: "
          f"{1000 * t_full / n:.3f} ms wall")
    print(f"default-path split 100k: {e100.selection.to_dict()} timings "
          f"{ {k: round(v, 2) for k, v in e100.timings.items()} }")
    print(f"default-path split 50k:  {e50.selection.to_dict()} timings "
          f"{ {k: round(v, 2) for k, v in e50.timings.items()} }")
    print(f"\nagreement with shap: max |diff| = {diff:.2e}; additivity max error "
          f"{full.max_additivity_error:.2e}")
    print(f"global ranking, sample of {stab.n_sample:,} vs full 100k: Spearman "
          f"{agr.spearman:.4f}, top-10 overlap {agr.top_k_overlap:.2f}, same top-1 "
          f"{agr.same_top_1}")
    print(f"sample half-resamples ({stab.resamples}): Spearman min {stab.spearman_min:.4f} "
          f"median {stab.spearman_median:.4f}, top-10 overlap min {stab.top_k_overlap_min:.2f}")
    print(f"50k target (< 15 s on 2 cores): {'met' if t_def50 < 15 else 'NOT met'} "
          f"({t_def50:.2f} s)")


if __name__ == "__main__":
    main()
