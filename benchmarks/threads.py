"""LightGBM threads on this machine: one thread against every core, across data sizes, on an
idle machine and beside a busy process (issue 19: two OpenMP threads beside another job made
small fits 5-70x slower).

For each size, a fixed 200-round fit (the default [lightgbm] parameters, no early stopping)
on a synthetic matrix as wide as the tasks' feature frames; medians of ``--repeats``, the
alternatives interleaved so they see the same load. "busy" runs a pure-Python busy loop in
another process during the fit (one core taken). The last columns say what
``cin_ml.models.resolve_threads`` picks for that size and load, and how far that pick is from
the faster choice measured in the same run.

Run: .venv/bin/python benchmarks/threads.py [--sizes 2000,5000,20000,50000] [--repeats 3]
(on a quiet machine: the "idle" column means nothing otherwise).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import time

import numpy as np


def _matrix(n: int, width: int = 70, seed: int = 3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, width))
    logit = X[:, :8] @ rng.normal(size=8) - 1.5
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return X, y


def _fit(X, y, threads: int) -> float:
    import lightgbm as lgb

    from cin_ml.models import load_model_settings

    params = load_model_settings().lightgbm.params(num_threads=threads)
    t = time.perf_counter()
    lgb.train(params, lgb.Dataset(X, label=y), num_boost_round=200)
    return time.perf_counter() - t


def _spin(stop) -> None:
    x = 0
    while not stop.is_set():
        x += 1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="2000,5000,20000,50000")
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    os.environ.pop("CIN_ML_THREADS", None)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as cin_ml.models imports lightgbm
    from cin_ml.models import PARALLEL_MIN_ROWS, available_cores, resolve_threads

    cores = available_cores()
    print(f"cores available: {cores}; PARALLEL_MIN_ROWS = {PARALLEL_MIN_ROWS:,}; "
          f"OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}")
    if cores < 2:
        print("one core: nothing to compare")
        return
    print(f"{'rows':>7} {'load':>5} {'1 thread s':>11} {f'{cores} threads s':>12} "
          f"{'ratio':>6}  policy  pick/best")
    for n in (int(s) for s in a.sizes.split(",")):
        X, y = _matrix(n)
        _fit(X[:500], y[:500], 1)  # warm-up: import, OpenMP pool
        for load in ("idle", "busy"):
            stop, spinner = mp.Event(), None
            if load == "busy":
                spinner = mp.Process(target=_spin, args=(stop,), daemon=True)
                spinner.start()
                time.sleep(1.0)
            times: dict[int, list[float]] = {1: [], cores: []}
            for _ in range(a.repeats):
                for t in (1, cores):
                    times[t].append(_fit(X, y, t))
            if spinner is not None:
                stop.set()
                spinner.join()
            med = {t: statistics.median(v) for t, v in times.items()}
            # what the policy would pick under this load (the busy check reads the load
            # average, which a 1-s spinner has not moved yet: judge by the condition itself)
            pick = resolve_threads(0, n) if load == "idle" else 1
            best = min(med.values())
            print(f"{n:>7,} {load:>5} {med[1]:>11.2f} {med[cores]:>12.2f} "
                  f"{med[cores] / med[1]:>6.2f}  {pick:>6}  {med[pick] / best:>9.2f}")


if __name__ == "__main__":
    main()
