"""Benchmark the source-extract simulator: time and peak memory.

Scenarios (each in a fresh subprocess so peak RSS is its own):
  * one CSS of 50,000 students          target < 15 s
  * a 72-CSS network of ~1,000,000      target < 5 min, < 8 GB

Usage: python benchmarks/simulate.py [--quick] [--repeat N]
  --quick   50k only (and a 200k network instead of 1M)
Prints the median over repeats, the per-student cost, and rows written.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile

CHILD = r"""
import json, resource, sys, time, tempfile, pathlib
from cin_ml.simulator import SimulationConfig, simulate_to_disk
n_css, n = int(sys.argv[1]), int(sys.argv[2])
out = pathlib.Path(tempfile.mkdtemp())
t = time.perf_counter()
s = simulate_to_disk(SimulationConfig(n_css=n_css, n_students=n, seed=1),
                     out / "src", out / "truth")
dt = time.perf_counter() - t
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
size = sum(f.stat().st_size for f in (out / "src").iterdir()) / 1024**2
print(json.dumps({"seconds": dt, "peak_gb": rss, "rows": s["rows"], "mb": size,
                  "tasks": s["tasks"]}))
"""


def run(n_css: int, n: int) -> dict:
    r = subprocess.run([sys.executable, "-c", CHILD, str(n_css), str(n)], capture_output=True,
                       text=True, check=True, cwd=tempfile.gettempdir())
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    scenarios = [("1 CSS, 50k students", 1, 50_000, 15.0, a.repeat),
                 ("72 CSS network", 72, 200_000 if a.quick else 1_000_000, 300.0, 1)]
    for label, k, n, target, rep in scenarios:
        res = [run(k, n) for _ in range(rep)]
        sec = statistics.median(r["seconds"] for r in res)
        peak = max(r["peak_gb"] for r in res)
        rows = res[0]["rows"]
        tasks = res[0]["tasks"]
        print(f"{label} ({n:,} students): median {sec:.1f} s over {rep} run(s) "
              f"[target {target:.0f} s, ratio {sec / target:.2f}], peak RSS {peak:.2f} GB, "
              f"{sec / n * 1e6:.0f} µs/student, {res[0]['mb']:.0f} MB Parquet")
        print(f"   rows: marks {rows['marks']:,}, absences {rows['absences']:,}, "
              f"enrolments {rows['enrolments']:,}")
        print("   " + ", ".join(f"{t}: rate {v['rate']:.1%}, oracle AUC {v['oracle_auc']:.3f}"
                               for t, v in tasks.items()))


if __name__ == "__main__":
    main()
