"""Benchmark of monitoring (issue 22): time for a 50,000-student cohort, the direct
implementation beside Evidently and NannyML (speed and agreement), and, with --seeds N, the
no-shift false-alarm rate and the label-free interval's coverage on N full simulations.

1. Simulate a CSS (--students, no pandemic year), train the task's model (no CV tuning),
   build the training reference; score its newest cohort and resample it to --cohort rows
   (a 50k-student cohort is a network's grade: too big to simulate whole here).
2. Time cin-ml's report on it: drift per input and per CSS, score/flag-rate shift, the
   label-free estimate (1,000 label draws), group gaps, conditions; the realized path (a
   labelled cohort of the same size: AUC, calibration, fairness audit); both HTML pages.
3. Libraries (--libs, or when the benchmark venv exists): Evidently 0.7 and NannyML 0.13
   cannot share the pinned venv (NannyML needs lightgbm < 4.6, the stack pins 4.7; Evidently
   resolves but adds ~25 packages: litestar, uvicorn, nltk, statsmodels, plotly...), so they
   run in their own venv (created on demand: python -m venv + pip install "pandas<3"
   evidently nannyml pyarrow) on Parquet files this script writes; it prints their times
   and the agreement of PSI (rank correlation, alarms at 0.1) and of the CBPE AUC estimate.
4. --seeds N: N independent simulations, each with its own model: drift alarms on its newest
   cohort (no shift injected) per check, and whether the label-free interval made from the
   probabilities of its latest labelled cohort covers that cohort's realized AUC.

Run: .venv/bin/python benchmarks/monitor.py [--libs] [--seeds 20]. Timings printed here were
measured on a shared, busy 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

os.environ.setdefault("CIN_ML_THREADS", "1")
TASK = "ecriture_4e"
VENV = Path(__file__).resolve().parent / ".bench-venv"


class _Model:
    """The RunBundle surface monitoring uses, over a TrainingResult."""

    def __init__(self, res):
        from cin_ml.models import encode

        self.task, self.features = TASK, list(res.features)
        self.threshold, self.model = float(res.threshold["value"]), res.booster
        self._maps = res.category_maps
        self._encode = encode

    def encode(self, X):
        return self._encode(X, self._maps, self.features)


def _settings(folder: Path):
    from cin_ml.config import config_path
    from cin_ml.models import load_model_settings

    text = config_path("models").read_text(encoding="utf-8")
    for key, value in (("n_folds", 0), ("n_boot", 50), ("num_threads", 1)):
        text = re.sub(rf"(?m)^{key} = \d+", f"{key} = {value}", text)
    (folder / "models.toml").write_text(text, encoding="utf-8")
    return load_model_settings(folder / "models.toml")


def train(n_students: int, seed: int, folder: Path):
    """(simulation, model, training result, reference, encoded training inputs)."""
    from cin_ml.features import build_features
    from cin_ml.models import train_model
    from cin_ml.monitoring import build_reference
    from cin_ml.simulator import SimulationConfig, simulate

    sim = simulate(SimulationConfig(n_students=n_students, seed=seed, pandemic_year=1990))
    frame = build_features(sim.tables, TASK)
    res = train_model(frame, _settings(folder))
    model = _Model(res)
    pop = frame.population
    rows = pop.index[pop["cohort_year"].isin(res.split.train)]
    X = model.encode(frame.X.loc[rows])
    css = sim.tables["students"].set_index("student_id")["css_id"].reindex(rows)
    ref = build_reference(X, css.astype(str).to_numpy(), scores=res.test["score"],
                          threshold=model.threshold)
    return sim, model, res, ref, X


def timed(fn, *a, **k):
    t = time.perf_counter()
    out = fn(*a, **k)
    return out, time.perf_counter() - t


def big_cohort(args, folder: Path) -> None:
    from cin_ml.cards import render_monitoring_report
    from cin_ml.fairness import load_policy
    from cin_ml.monitoring import (
        LabelledCohort,
        build_report,
        drift_report,
        estimate_performance,
        load_monitoring_settings,
        parse_conditions,
        score_cohorts,
    )

    (sim, model, res, ref, X_train), t_train = timed(train, args.students, 1, folder)
    print(f"simulated {args.students:,} students and trained in {t_train:.1f} s "
          f"(test AUC {res.metrics['test_auc']:.3f})")
    (newest, _), t_score = timed(score_cohorts, model, sim.tables, after_cohort=None)
    print(f"features + scoring of the extract's newest cohort ({len(newest.scores):,} "
          f"students, from {args.students:,}): {t_score:.1f} s")
    rng = np.random.default_rng(0)
    ix = rng.integers(0, len(newest.scores), args.cohort)
    X = newest.X.iloc[ix].reset_index(drop=True)
    scores, css = newest.scores[ix], newest.css[ix]
    groups = newest.groups.iloc[ix].reset_index(drop=True)
    st = load_monitoring_settings()
    conds = parse_conditions(["estimated_auc >= 0.85", "flag_rate_gap(sex) <= 0.1",
                              "fnr_gap(intervention_plan) <= 0.25"])
    rep, t_rep = timed(build_report, model={"task": TASK}, reference=ref, X=X, css=css,
                       scores=scores, threshold=model.threshold, groups=groups, year=2024,
                       settings=st, conditions=conds)
    test = res.test
    tix = rng.integers(0, len(test), args.cohort)
    lab = LabelledCohort(2023, test["y_true"].to_numpy(float)[tix],
                         test["score"].to_numpy(float)[tix],
                         test[["sex", "intervention_plan", "language_group",
                               "immigration_generation", "imse_band"]].iloc[tix]
                         .astype(str).reset_index(drop=True))
    rep2, t_lab = timed(build_report, model={"task": TASK}, reference=ref, X=X, css=css,
                        scores=scores, threshold=model.threshold, groups=groups, year=2024,
                        settings=st, conditions=conds, labelled=lab,
                        fairness_policy=load_policy())
    d = rep2.to_dict()
    _, t_html = timed(lambda: [render_monitoring_report(d, lang, "bench") for lang in
                               ("fr", "en")])
    _, t_drift = timed(drift_report, ref, X, css, psi_threshold=st.drift.psi_threshold,
                       alpha=st.drift.alpha, min_students=st.drift.min_students)
    _, t_drift1 = timed(drift_report, ref, X, None, psi_threshold=st.drift.psi_threshold,
                        alpha=st.drift.alpha, min_students=st.drift.min_students)
    est, t_est = timed(estimate_performance, scores, model.threshold,
                       n_simulations=st.estimate.n_simulations, level=st.estimate.level)
    print(f"\n{args.cohort:,}-student cohort, {X.shape[1]} inputs:")
    print(f"  report before labels (drift + shift + estimate + conditions): {t_rep:.2f} s")
    print(f"    of which drift per input and per CSS {t_drift:.2f} s (overall only "
          f"{t_drift1:.2f} s), "
          f"label-free estimate ({st.estimate.n_simulations} draws) {t_est:.2f} s")
    print(f"  report with a labelled {args.cohort:,}-student cohort (+ realized, fairness "
          f"audit): {t_lab:.2f} s")
    print(f"  both HTML pages: {t_html:.2f} s")
    print(f"  (plus features and scoring of the extract; {t_score:.1f} s for "
          f"{len(newest.scores):,} students above)")
    if args.libs or VENV.exists() or args.venv:
        shifted = _shift(X)
        drift_shifted = drift_report(ref, shifted, None, psi_threshold=st.drift.psi_threshold,
                                     alpha=st.drift.alpha, min_students=st.drift.min_students)
        compare_libs(args, X_train, X, shifted, test, scores, model.threshold, rep.to_dict(),
                     drift_shifted, est)
    else:
        print(f"\nlibraries: skipped (no {VENV}); run with --libs to create it")


def _shift(X: pd.DataFrame) -> pd.DataFrame:
    """A pandemic-like shift of every input of the same kind, of graded strength: marks of
    grade g lowered by 2 g points, absence rates multiplied by 1.2-1.8, so PSIs spread from
    ~0 to well above 0.1 and the two implementations can be compared on a real range."""
    out = X.copy()
    for i, c in enumerate(out.columns):
        m = re.search(r"_g(\d)_(mean|min|last)$", c)
        if m:
            out[c] = out[c] - 2 * int(m.group(1))
        elif c.startswith("absence_rate"):
            out[c] = out[c] * (1.2 + 0.1 * (i % 7))
    return out


def _venv(args) -> Path:
    venv = Path(args.venv) if args.venv else VENV
    py = venv / "bin" / "python"
    if not py.exists():
        print(f"creating {venv} (Evidently + NannyML, apart from the pinned stack)…")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "pandas<3", "evidently",
                        "nannyml", "pyarrow"], check=True)
    return py


def compare_libs(args, X_train, X, shifted, test, scores, threshold, rep, drift_shifted,
                 est) -> None:
    from scipy.stats import spearmanr

    py = _venv(args)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        X_train.reset_index(drop=True).to_parquet(folder / "ref_X.parquet")
        X.to_parquet(folder / "cur_X.parquet")
        shifted.to_parquet(folder / "shift_X.parquet")
        pd.DataFrame({"y": test["y_true"].to_numpy(int), "p": test["score"].to_numpy(float),
                      "flag": (test["score"].to_numpy() >= threshold)}
                     ).to_parquet(folder / "ref_pred.parquet")
        pd.DataFrame({"p": scores, "flag": scores >= threshold}
                     ).to_parquet(folder / "cur_pred.parquet")
        script = Path(__file__).resolve().parent / "monitor_libs" / "compare.py"
        t = time.perf_counter()
        subprocess.run([str(py), str(script), str(folder)], check=True)
        wall = time.perf_counter() - t
        libs = json.loads((folder / "libs.json").read_text(encoding="utf-8"))
    nm = libs["nannyml"]
    print(f"\nlibraries (own venv, Parquet exchange; subprocess wall {wall:.1f} s incl. "
          f"imports evidently {libs['evidently_import_s']:.1f} s, nannyml "
          f"{libs['nannyml_import_s']:.1f} s)")
    print(f"  PSI per input, Evidently {libs['evidently']['version']} psi stat test: "
          f"{libs['evidently']['seconds']:.2f} s per cohort (overall only; cin-ml: above)")
    for name, drift, ev in (("no shift", rep["drift"], libs["evidently"]["psi"]),
                            ("pandemic-like shift", drift_shifted,
                             libs["evidently"]["psi_shift"])):
        ours = {f: v["psi"] for f, v in drift["features"].items()}
        common = sorted(set(ours) & set(ev))
        rho = spearmanr([ours[f] for f in common], [ev[f] for f in common]).statistic
        a, b = {f for f in common if ours[f] >= 0.1}, {f for f in common if ev[f] >= 0.1}
        print(f"    {name}: Spearman rho {rho:.2f}, max |diff| "
              f"{max(abs(ours[f] - ev[f]) for f in common):.3f}; PSI >= 0.1: cin-ml {len(a)}, "
              f"Evidently {len(b)}, both {len(a & b)} (cin-ml flags {len(drift['drifted'])} "
              f"after its noise bound)")
    print("  label-free AUC / recall estimate:")
    print(f"    NannyML {nm['version']} CBPE: {nm['seconds']:.2f} s · AUC {nm['auc']:.4f} "
          f"[{nm['auc_interval'][0]:.4f}, {nm['auc_interval'][1]:.4f}] · recall "
          f"{nm['recall']:.4f}")
    print(f"    cin-ml: AUC {est['auc']:.4f} [{est['auc_interval'][0]:.4f}, "
          f"{est['auc_interval'][1]:.4f}] · recall {est['recall']:.4f} "
          f"(|ΔAUC| {abs(nm['auc'] - est['auc']):.4f}, |Δrecall| "
          f"{abs(nm['recall'] - est['recall']):.4f})")


def seeds_study(args, folder: Path) -> None:
    from cin_ml.monitoring import (
        estimate_performance,
        load_monitoring_settings,
        monitor_extract,
        realized_performance,
        score_cohorts,
    )

    st = load_monitoring_settings()
    alarms = {"inputs": 0, "css": 0, "scores": 0, "flag_rate": 0}
    covered, rows = 0, []
    t0 = time.perf_counter()
    for seed in range(1, args.seeds + 1):
        sim, model, res, ref, _ = train(args.seed_students, 100 + seed, folder)
        rep = monitor_extract(model, sim.tables, ref, st, after_cohort=None).to_dict()
        alarms["inputs"] += bool(rep["drift"]["drifted"])
        alarms["css"] += bool(rep["drift"]["drifted_css"])
        alarms["scores"] += bool(rep["shift"].get("drift"))
        alarms["flag_rate"] += bool(rep["shift"].get("flag_rate_alarm"))
        _, latest = score_cohorts(model, sim.tables, after_cohort=res.split.test)
        if latest is None:
            continue
        est = estimate_performance(latest.scores, model.threshold,
                                   n_simulations=st.estimate.n_simulations,
                                   level=st.estimate.level, seed=seed)
        real = realized_performance(latest.y, latest.scores, model.threshold)
        lo, hi = est["auc_interval"]
        covered += lo <= real["auc"] <= hi
        rows.append((seed, latest.year, len(latest.y), est["auc"], lo, hi, real["auc"]))
    print(f"\n{args.seeds} simulations of {args.seed_students:,} students (no shift), "
          f"{time.perf_counter() - t0:.0f} s:")
    print("  runs with at least one alarm, per check: "
          + ", ".join(f"{k} {v}/{args.seeds}" for k, v in alarms.items()))
    print(f"  label-free {st.estimate.level:.0%} interval covers the realized AUC of the "
          f"latest labelled cohort: {covered}/{len(rows)}")
    for r in rows:
        print(f"    seed {r[0]} cohort {r[1]} n={r[2]}: estimate {r[3]:.3f} "
              f"[{r[4]:.3f}, {r[5]:.3f}] realized {r[6]:.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--students", type=int, default=20000)
    ap.add_argument("--cohort", type=int, default=50000)
    ap.add_argument("--libs", action="store_true", help="compare Evidently and NannyML "
                    "(creates benchmarks/.bench-venv when missing)")
    ap.add_argument("--venv", default=None, help="an existing venv with the libraries")
    ap.add_argument("--seeds", type=int, default=0)
    ap.add_argument("--seed-students", type=int, default=4000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        big_cohort(args, Path(tmp))
        if args.seeds:
            seeds_study(args, Path(tmp))


if __name__ == "__main__":
    main()
