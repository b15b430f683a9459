"""How many at-a-glance fairness verdicts of ``ecriture_4e`` decide on the demo's CSS, and
whether any decision contradicts the simulator's truth.

    .venv/bin/python benchmarks/pooled_audit.py [--n 20000] [--seed 7]

Trains with the packaged models.toml (rolling-origin validation: the last K labelled cohorts
pooled, each student once) and audits with the packaged fairness.toml, as ``cin-ml demo``
does, on the demo's simulated source CSS (the demo itself trains on a virtual copy of it,
about 16,000 synthetic students, where fewer verdicts decide). The at-a-glance rows and
their truth check are ``tests/fairness/_glance.py``'s (shared with
tests/fairness/test_against_truth.py). Prints the minimum detectable difference
of every inconclusive row.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--test-cohorts", type=int, default=None,
                    help="fixed K of rolling-origin validation, power rule off "
                         "(default: models.toml's test_cohorts and min_test_at_risk)")
    a = ap.parse_args()
    from cin_ml.errors import SmallGroupWarning
    from cin_ml.fairness import audit, load_policy
    from cin_ml.features import build_features
    from cin_ml.models import load_model_settings, train_model
    from cin_ml.simulator import SimulationConfig, simulate
    from tests.fairness._glance import at_a_glance

    warnings.simplefilter("ignore", SmallGroupWarning)
    warnings.simplefilter("ignore", UserWarning)
    sim = simulate(SimulationConfig(n_students=a.n, seed=a.seed))
    p = sim.truth.students.set_index("student_id")["p_ecriture_4e"]
    t = time.perf_counter()
    ms = load_model_settings()
    if a.test_cohorts:
        ms = ms.model_copy(update={"validation": ms.validation.model_copy(
            update={"test_cohorts": a.test_cohorts, "min_test_at_risk": 0})})
    res = train_model(build_features(sim.tables, "ecriture_4e"), ms, p_true=p)
    t_train = time.perf_counter() - t
    te = res.test
    policy = load_policy()
    t = time.perf_counter()
    fair = audit(te["y_true"], te["score"], te["threshold"].to_numpy(),
                 te[list(policy.attributes)].astype(str), policy, p_true=te["p_true"])
    t_audit = time.perf_counter() - t
    print(f"n={a.n:,} students; pooled test cohorts {sorted(map(int, te['cohort_year'].unique()))}"
          f": {len(te):,} students, {int(te['y_true'].sum()):,} at risk; "
          f"train {t_train:.0f} s, audit {t_audit:.1f} s")
    rows = at_a_glance(fair, policy)
    for r in rows:
        gap = f"true worst FNR gap {r.true_gap:.3f}" if r.true_gap is not None else r.detail
        print(f"  {r.name:24s} {r.verdict:18s} {gap}"
              f"{'  CONTRADICTS TRUTH' if r.contradicts else ''}"
              f"{f'  MDD {r.mdd:.3f}' if r.mdd is not None else ''}")
    decided = sum(r.verdict in ("pass", "fail") for r in rows)
    contradictions = sum(r.contradicts for r in rows)
    print(f"decided: {decided} of {len(rows)}; contradictions of the truth: {contradictions}")
    print(f"FNR ceiling {fair.fnr_ceiling:.3f} (overall FNR {fair.overall['fnr'].value:.3f}); "
          f"groups above it: {len(fair.fnr_flags)}")


if __name__ == "__main__":
    main()
