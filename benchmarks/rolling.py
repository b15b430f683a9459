"""Cost of rolling-origin validation: train + evaluation + audit, K test cohorts against the
single-cohort path, in one run on the same feature frame (issue 17; goal: <= 2.5x).

    .venv/bin/python benchmarks/rolling.py [--n 50000] [--k 3] [--task ecriture_4e]

Single-cohort path: ``test_cohorts = 1``, ``refit_on_all = false`` (train, valid, test; the
tested model is served). Rolling: ``test_cohorts = K``, ``refit_on_all = true`` (K fold
models + the served model refit on every labelled cohort, each fold with its logistic and
context-only baselines). Both use the packaged models.toml otherwise (grouped-CV tuning
included) and audit their test predictions with the packaged fairness policy, calibration
within groups included. Timings on a shared machine vary: compare the two in the same run.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _run(frame, ms, policy) -> dict:
    from cin_ml.fairness import audit, calibration_within_groups
    from cin_ml.models import train_model

    t = time.perf_counter()
    res = train_model(frame, ms)
    t_train = time.perf_counter() - t
    te = res.test
    t = time.perf_counter()
    audit(te["y_true"], te["score"], te["threshold"].to_numpy(),
          te[list(policy.attributes)].astype(str), policy)
    calibration_within_groups(te["y_true"], te["score"], te[list(policy.attributes)], policy)
    t_audit = time.perf_counter() - t
    return {"train": t_train, "audit": t_audit, "total": t_train + t_audit, "n_test": len(te),
            "timings": res.timings}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=50_000)
    ap.add_argument("--k", type=int, default=3)
    ap.add_argument("--task", default="ecriture_4e")
    a = ap.parse_args()
    from cin_ml.errors import SmallGroupWarning
    from cin_ml.fairness import load_policy
    from cin_ml.features import build_features
    from cin_ml.models import load_model_settings
    from cin_ml.simulator import SimulationConfig, simulate

    warnings.simplefilter("ignore", SmallGroupWarning)
    warnings.simplefilter("ignore", UserWarning)
    frame = build_features(simulate(SimulationConfig(n_students=a.n, seed=7)).tables, a.task)
    base = load_model_settings()
    policy = load_policy()
    out = {}
    for name, k, refit in (("single", 1, False), ("rolling", a.k, True)):
        ms = base.model_copy(update={"validation": base.validation.model_copy(
            update={"test_cohorts": k, "refit_on_all": refit})})
        out[name] = _run(frame, ms, policy)
        r = out[name]
        print(f"{name:8s} K={k}: train+evaluation {r['train']:7.1f} s, audit {r['audit']:6.1f} s,"
              f" total {r['total']:7.1f} s, {r['n_test']:,} test students; {r['timings']}")
    ratio = out["rolling"]["total"] / out["single"]["total"]
    print(f"rolling / single: {ratio:.2f}x (goal <= 2.5x: {'met' if ratio <= 2.5 else 'NOT met'})")


if __name__ == "__main__":
    main()
