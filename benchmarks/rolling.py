"""Cost of rolling-origin validation: train + evaluation + audit, K test cohorts against the
single-cohort path, in one run on the same feature frame (issue 17; goal: <= 2.5x).

    .venv/bin/python benchmarks/rolling.py [--n 50000] [--k 3] [--task ecriture_4e]
                                           [--no-packaged]

Single-cohort path: ``test_cohorts = 1``, ``refit_on_all = false`` (train, valid, test; the
tested model is served). Rolling: ``test_cohorts = K``, ``refit_on_all = true`` (K fold
models + the served model refit on every labelled cohort, each fold with its logistic and
context-only baselines), the power rule off (``min_test_at_risk = 0``). Packaged: the
packaged ``[validation]`` as is, the power rule choosing K (at 50,000 students, K = 4; at
the demo's 20,000, K = 9). All use the packaged models.toml otherwise (grouped-CV tuning
included) and audit their test predictions with the packaged fairness policy, calibration
within groups included. Timings on a shared machine vary: compare them in the same run.
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
            "timings": res.timings, "k": res.metrics["rolling"]["k"]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=50_000)
    ap.add_argument("--k", type=int, default=3)
    ap.add_argument("--task", default="ecriture_4e")
    ap.add_argument("--no-packaged", action="store_true",
                    help="skip the packaged [validation] (power rule) run")
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
    runs = [("single", {"test_cohorts": 1, "refit_on_all": False, "min_test_at_risk": 0}),
            ("rolling", {"test_cohorts": a.k, "refit_on_all": True, "min_test_at_risk": 0})]
    if not a.no_packaged:
        runs.append(("packaged", {}))
    for name, update in runs:
        ms = base.model_copy(update={"validation": base.validation.model_copy(update=update)})
        out[name] = _run(frame, ms, policy)
        r = out[name]
        print(f"{name:8s} K={r['k']}: train+evaluation {r['train']:7.1f} s, audit "
              f"{r['audit']:6.1f} s, total {r['total']:7.1f} s, {r['n_test']:,} test students;"
              f" {r['timings']}")
    for name in out:
        if name != "single":
            ratio = out[name]["total"] / out["single"]["total"]
            goal = f" (goal <= 2.5x: {'met' if ratio <= 2.5 else 'NOT met'})" \
                if name == "rolling" else ""
            print(f"{name} / single: {ratio:.2f}x{goal}")


if __name__ == "__main__":
    main()
