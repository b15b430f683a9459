"""Benchmark: virtualize a 50k-student CSS (de-identify + synthesize + evaluate).

Prints the time of each step, the peak resident memory and the report's headline numbers.
Target: under 90 s on 2 cores for de-identify + synthesize + evaluate (the simulation of the
source is timed apart). Usage::

    .venv/bin/python benchmarks/virtualize.py [--students 50000] [--seed 7]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=int, default=50_000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)

    from cin_ml.simulator import SimulationConfig, simulate
    from cin_ml.virtual_css import (
        EvaluationConfig,
        SynthesisConfig,
        deidentify,
        evaluate_virtual_css,
        resolve_pseudonym_key,
        split_students,
        synthesize,
    )

    times = {}
    t = time.perf_counter()
    sim = simulate(SimulationConfig(n_css=1, n_students=args.students, seed=args.seed))
    times["simulate (not counted)"] = time.perf_counter() - t

    t0 = time.perf_counter()
    d = deidentify(sim.tables, resolve_pseudonym_key(demo=True))
    times["deidentify"] = time.perf_counter() - t0
    del sim
    ev = EvaluationConfig.load()
    train, holdout = split_students(d.tables, ev.holdout_share, args.seed)
    t = time.perf_counter()
    virt = synthesize(train, SynthesisConfig.load(), seed=args.seed)
    times["synthesize"] = time.perf_counter() - t
    for k, v in virt.timings.items():
        times[f"  {k}"] = v
    t = time.perf_counter()
    report = evaluate_virtual_css(train, holdout, virt.tables, ev, seed=args.seed,
                                  synthesized=(virt.source_students, virt.virtual_students),
                                  source_table=virt.source_table)
    times["evaluate"] = time.perf_counter() - t
    for k, v in report.details["timings_s"].items():
        times[f"  {k}"] = v
    total = time.perf_counter() - t0

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"virtualize benchmark: {args.students:,} students, "
          f"{len(train['students']):,} fitted, {len(virt.virtual_students):,} virtual")
    for k, v in times.items():
        print(f"  {k:<26} {v:7.1f} s")
    print(f"  {'total (deid+synth+eval)':<26} {total:7.1f} s   (target < 90 s)")
    print(f"  peak RSS                   {peak_mb:7.0f} MB")
    r = report.to_dict()
    f, p = r["fidelity"], r["privacy"]
    print(f"quality {f['quality']} (shapes {f['column_shapes']}, pairs "
          f"{f['column_pair_trends']}), validity {f['validity']}; round trip quality "
          f"{f['round_trip']['quality']}")
    print(f"exact matches {p['exact_match_rate']}, DCR closer-to-training "
          f"{p['dcr']['closer_to_training']} (score {p['dcr']['score']}), MIA AUC "
          f"{p['membership_inference']['auc']}")
    for task, u in r["utility"].items():
        if "ratio" in u:
            print(f"utility {task}: AUC virtual {u['auc_virtual']} / source {u['auc_source']} "
                  f"= {u['ratio']}; top-{len(u['top_drivers']['source'])} overlap "
                  f"{u['top_driver_overlap']}; label rate source {u['rate']['source']} "
                  f"virtual {u['rate']['virtual']}")
    print("verdicts:", r["verdicts"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
