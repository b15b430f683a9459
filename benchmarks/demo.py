"""Benchmark `make demo`'s chain (after installation): total and per-step times.

Runs ``run_demo`` in a fresh temporary folder with its own embedded MLflow store, as
``cin-ml demo`` does from the repository root. Target: under 3 minutes on 2 cores.

Usage: python benchmarks/demo.py [--students N]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--students", type=int, default=20000)
    a = ap.parse_args()
    from cin_ml.pipeline import run_demo

    with tempfile.TemporaryDirectory(prefix="cin-demo-") as tmp:
        os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{Path(tmp) / 'mlruns' / 'mlflow.db'}"
        t = time.perf_counter()
        out = run_demo(tmp, students=a.students)
        wall = time.perf_counter() - t
    print(f"demo chain, {a.students:,} students: {wall:.0f} s wall "
          f"[target 180 s, ratio {wall / 180:.2f}]")
    for step, sec in sorted(out["times"].items(), key=lambda kv: -kv[1]):
        print(f"  {sec:7.1f} s  {step}")
    for task, r in out["tasks"].items():
        print(f"  {task}: test AUC {r['test_auc']:.3f} vs indicator {r['indicator_auc']:.3f}, "
              f"fairness {r['fairness']}")


if __name__ == "__main__":
    main()
