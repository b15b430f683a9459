"""How many at-a-glance fairness verdicts of ``ecriture_4e`` decide on the demo's CSS, and
whether any decision contradicts the simulator's truth.

    .venv/bin/python benchmarks/pooled_audit.py [--n 20000] [--seed 7]

Trains with the packaged models.toml (rolling-origin validation: the last K labelled cohorts
pooled, each student once) and audits with the packaged fairness.toml, as ``cin-ml demo``
does. The at-a-glance rows are the 5 audited attributes and the intersections (worst of the
pairs). Truth check, per row: the true FNR of every group is the expected share of its truly
at-risk students left unflagged, ``sum(p_true * (1 - flagged)) / sum(p_true)``; a "fail" is
contradicted when no judged group is truly worse off than its reference by more than the
difference tolerance; a "pass" is contradicted when one is. Prints the minimum detectable
difference of every inconclusive row.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _true_worse(b, policy) -> float:
    """Largest true FNR gap (harm direction) of a judged group against its reference."""
    ref = next(g for g in b.groups if g.is_reference)
    worst = 0.0
    for g in b.groups:
        if g.is_reference or g.verdicts["fnr"] in ("insufficient_data",):
            continue
        gap = g.metrics["fnr_true"].value - ref.metrics["fnr_true"].value
        if gap == gap:
            worst = max(worst, abs(gap))   # either side harmed: the reference is judged too
    return worst


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--test-cohorts", type=int, default=None,
                    help="K of rolling-origin validation (default: models.toml's)")
    a = ap.parse_args()
    from cin_ml.errors import SmallGroupWarning
    from cin_ml.fairness import audit, load_policy
    from cin_ml.features import build_features
    from cin_ml.models import load_model_settings, train_model
    from cin_ml.simulator import SimulationConfig, simulate

    warnings.simplefilter("ignore", SmallGroupWarning)
    warnings.simplefilter("ignore", UserWarning)
    sim = simulate(SimulationConfig(n_students=a.n, seed=a.seed))
    p = sim.truth.students.set_index("student_id")["p_ecriture_4e"]
    t = time.perf_counter()
    ms = load_model_settings()
    if a.test_cohorts:
        ms = ms.model_copy(update={"validation": ms.validation.model_copy(
            update={"test_cohorts": a.test_cohorts})})
    res = train_model(build_features(sim.tables, "ecriture_4e"), ms, p_true=p)
    t_train = time.perf_counter() - t
    te = res.test
    policy = load_policy()
    t = time.perf_counter()
    fair = audit(te["y_true"], te["score"], te["threshold"].to_numpy(),
                 te[list(policy.attributes)].astype(str), policy, p_true=te["p_true"])
    t_audit = time.perf_counter() - t
    tol = policy.tolerances["fnr"].difference
    print(f"n={a.n:,} students; pooled test cohorts {sorted(te['cohort_year'].unique())}: "
          f"{len(te):,} students; train {t_train:.0f} s, audit {t_audit:.1f} s")
    decided, contradictions = 0, 0
    rows = [b for b in fair.breakdowns if len(b.attributes) == 1]
    inter = [b for b in fair.breakdowns if len(b.attributes) > 1]
    for b in rows:
        v = b.verdicts["fnr"]
        truth = _true_worse(b, policy)
        bad = (v == "fail" and truth <= tol) or (v == "pass" and truth > tol)
        decided += v in ("pass", "fail")
        contradictions += bad
        mdd = b.mdd.get("fnr")
        print(f"  {b.name:24s} {v:18s} true worst FNR gap {truth:.3f}"
              f"{'  CONTRADICTS TRUTH' if bad else ''}"
              f"{f'  MDD {mdd:.3f}' if mdd is not None else ''}")
    order = ("fail", "inconclusive", "insufficient_data", "pass")
    worst = next((o for o in order if any(b.verdicts["fnr"] == o for b in inter)), "—")
    bad_inter = [b.name for b in inter if b.verdicts["fnr"] in ("pass", "fail") and (
        (b.verdicts["fnr"] == "fail") != (_true_worse(b, policy) > tol))]
    decided += worst in ("pass", "fail")
    contradictions += bool(bad_inter)
    print(f"  {'intersections (worst)':24s} {worst:18s} contradicting pairs: {bad_inter}")
    print(f"decided: {decided} of {len(rows) + 1}; contradictions of the truth: {contradictions}")
    print(f"FNR ceiling {fair.fnr_ceiling:.3f} (overall FNR {fair.overall['fnr'].value:.3f}); "
          f"groups above it: {len(fair.fnr_flags)}")


if __name__ == "__main__":
    main()
