"""Benchmark of training (issue 4), in one run on the same feature matrix:

1. a bare ``lightgbm.train`` with the same params, on the same training matrix, for the same
   number of boosting rounds as our early-stopped fit actually ran (the reference);
2. our core fit: encode + early-stopped fit (validation scored every round) + Platt
   calibration folded into the booster + threshold (``train_model`` without tuning);
   the overhead ratio against 1 excludes MLflow logging (target <= 1.2);
3. the rest of ``train_model`` reported by component (grouped-CV tuning, baselines,
   bootstrap evaluation), and the MLflow logging time (``log_training`` into a temporary
   SQLite store) separately.

Medians over ``--repeats`` runs. Run: .venv/bin/python benchmarks/train.py [--million]
(--million adds a 1M-student network: minutes and several GB of memory).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import numpy as np


def bench(n_students: int, n_css: int, repeats: int, threads: int, task: str) -> dict:
    import lightgbm as lgb

    from cin_ml.features import build_features
    from cin_ml.models import encode, load_model_settings, train_model
    from cin_ml.simulator import SimulationConfig, simulate

    t = time.perf_counter()
    sim = simulate(SimulationConfig(n_css=n_css, n_students=n_students, seed=7))
    t_sim = time.perf_counter() - t
    t = time.perf_counter()
    frame = build_features(sim.tables, task)
    t_feat = time.perf_counter() - t
    del sim
    s = load_model_settings()
    lg = s.lightgbm.model_copy(update={"num_threads": threads})
    no_tune = s.model_copy(update={"lightgbm": lg,
                                   "tuning": s.tuning.model_copy(update={"n_folds": 0})})
    # ours and the bare reference alternate, so both see the same load on a shared box
    r = train_model(frame, no_tune)
    rounds = min(r.best_iteration + lg.early_stopping_rounds, lg.max_rounds)
    pop = frame.population
    tr = (pop["label"].notna() & pop["cohort_year"].isin(r.split.train)).to_numpy()
    X = encode(frame.X, r.category_maps)[tr]
    y = pop["label"].to_numpy()[tr].astype(int)

    def bare():
        return lgb.train(r.params, lgb.Dataset(X, label=y), num_boost_round=rounds)

    ours_t, cores, bares = [], [], []
    for _ in range(repeats):
        t = time.perf_counter()
        r = train_model(frame, no_tune)
        ours_t.append(time.perf_counter() - t)
        cores.append(r.timings["prepare_s"] + r.timings["fit_s"]
                     + r.timings["calibrate_threshold_s"])
        t = time.perf_counter()
        bare()
        bares.append(time.perf_counter() - t)
    t_ours, core, t_bare = (statistics.median(v) for v in (ours_t, cores, bares))
    tuned = s.model_copy(update={"lightgbm": lg})
    t = time.perf_counter()
    r_tuned = train_model(frame, tuned)
    t_tuned = time.perf_counter() - t

    from cin_ml import tracking
    from cin_ml.models import evaluation_figures

    with tempfile.TemporaryDirectory() as tmp:
        store = tracking.resolve_store(f"sqlite:///{tmp}/mlflow.db")
        t = time.perf_counter()
        with tracking.training_run(task, {"cin.data_form": "virtual"}, store=store) as rid:
            tracking.log_training(rid, r, data_dir=tmp, data_form="virtual",
                                  figures=evaluation_figures(r.test), store=store,
                                  datasets={"test": r.test_features})
        t_log = time.perf_counter() - t
    return {"students": n_students, "task": task, "threads": threads,
            "train_rows": int(tr.sum()), "features": X.shape[1], "rounds": rounds,
            "simulate_s": t_sim, "features_s": t_feat, "bare_lgb_train_s": t_bare,
            "ours_core_s": core, "overhead_ratio": core / t_bare,
            "ours_train_model_no_tuning_s": t_ours, "ours_train_model_tuned_s": t_tuned,
            "tune_s": r_tuned.timings["tune_s"], "baseline_s": r.timings["baseline_s"],
            "evaluate_s": r.timings["evaluate_s"], "mlflow_logging_s": t_log,
            "test_auc": r.metrics["test_auc"]}


def main() -> None:
    from cin_ml.models import resolve_threads

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=int, default=50000)
    ap.add_argument("--million", action="store_true", help="also 1M students (72 CSS)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0, help="0 = cores available")
    ap.add_argument("--task", default="ecriture_4e")
    a = ap.parse_args()
    threads = resolve_threads(a.threads)
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    runs = [(a.students, 1)] + ([(1_000_000, 72)] if a.million else [])
    for n, n_css in runs:
        res = bench(n, n_css, a.repeats if n < 200_000 else 1, threads, a.task)
        print(f"\n== {n:,} students, task {res['task']}, {threads} thread(s) ==")
        for k, v in res.items():
            print(f"  {k:30s} {v:.3f}" if isinstance(v, float) else f"  {k:30s} {v}")
        verdict = "OK" if res["overhead_ratio"] <= 1.2 else "ABOVE TARGET"
        print(f"  overhead ratio (core fit / bare lightgbm.train): "
              f"{res['overhead_ratio']:.2f} ({verdict}; target <= 1.2)")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
