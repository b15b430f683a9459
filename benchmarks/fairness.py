"""Fairness audit speed: cin-ml's vectorised audit vs Fairlearn's MetricFrame, same n_boot.

    .venv/bin/python benchmarks/fairness.py [--n 100000] [--n-boot 500] [--mf-boot 5]
                                            [--decimals D]

Scores are the raw calibrated probabilities ``cin-ml audit`` sees (all distinct), unless
``--decimals`` rounds them (the audit's AUC costs one sort and cumulative sums per breakdown
and replicate, whatever the number of distinct scores).

The audit runs 4 attributes + all 6 pairs with ``n_boot`` replicates. MetricFrame's cost is
measured in the same run on the same data for one attribute with ``--mf-boot`` replicates and
extrapolated linearly to 10 breakdowns x ``n_boot`` (its bootstrap recomputes every metric on
each resample, so its cost is linear in both). Also prints the largest point-estimate gap.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cin_ml.config import packaged_config_dir  # noqa: E402
from cin_ml.errors import SmallGroupWarning  # noqa: E402
from cin_ml.fairness import audit, load_policy  # noqa: E402
from tests.fairness.conftest import make_predictions  # noqa: E402

ATTRS = ("sex", "intervention_plan", "language_group", "immigration_generation")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--n-boot", type=int, default=500)
    ap.add_argument("--mf-boot", type=int, default=5)
    ap.add_argument("--decimals", type=int, default=None)
    a = ap.parse_args()
    from fairlearn.metrics import (
        MetricFrame,
        false_negative_rate,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )
    from sklearn.metrics import precision_score, roc_auc_score

    policy = load_policy(packaged_config_dir() / "fairness.toml")
    policy = policy.with_attributes(ATTRS)
    y, s, g, _ = make_predictions(a.n, seed=0, decimals=a.decimals)
    thr = 0.25
    warnings.simplefilter("ignore", SmallGroupWarning)
    t = time.perf_counter()
    res = audit(y, s, thr, g, policy, n_boot=a.n_boot)
    t_audit = time.perf_counter() - t
    n_breakdowns = len(res.breakdowns)

    flagged = (s >= thr).astype(int)
    metrics = {"selection_rate": selection_rate, "recall": true_positive_rate,
               "fnr": false_negative_rate, "fpr": false_positive_rate,
               "precision": precision_score}
    t = time.perf_counter()
    mf = MetricFrame(metrics=metrics, y_true=y, y_pred=flagged,
                     sensitive_features=g["language_group"])
    mf_auc = MetricFrame(metrics={"auc": roc_auc_score}, y_true=y, y_pred=s,
                         sensitive_features=g["language_group"])
    t_point = time.perf_counter() - t
    t = time.perf_counter()
    MetricFrame(metrics=metrics, y_true=y, y_pred=flagged, sensitive_features=g["language_group"],
                n_boot=a.mf_boot, ci_quantiles=[0.025, 0.975], random_state=0)
    MetricFrame(metrics={"auc": roc_auc_score}, y_true=y, y_pred=s,
                sensitive_features=g["language_group"], n_boot=a.mf_boot,
                ci_quantiles=[0.025, 0.975], random_state=0)
    t_boot = time.perf_counter() - t - t_point
    per_rep = t_boot / a.mf_boot
    mf_est = n_breakdowns * (t_point + per_rep * a.n_boot)

    gap = 0.0
    for grp in res.breakdown("language_group").groups:
        for m in metrics:
            gap = max(gap, abs(grp.metrics[m].value - mf.by_group.loc[grp.labels[0], m]))
        gap = max(gap, abs(grp.metrics["auc"].value - mf_auc.by_group.loc[grp.labels[0], "auc"]))
    print(f"n={a.n:,}  breakdowns={n_breakdowns} (4 attributes + all pairs)  n_boot={a.n_boot}"
          f"  distinct scores={len(set(s.tolist())):,}")
    print(f"cin-ml audit (all breakdowns, {a.n_boot} replicates): {t_audit:8.2f} s")
    print(f"MetricFrame, one attribute, point estimates:          {t_point:8.2f} s")
    print(f"MetricFrame, one attribute, per bootstrap replicate:  {per_rep:8.2f} s "
          f"(measured on {a.mf_boot})")
    print(f"MetricFrame, same work (extrapolated):                {mf_est:8.0f} s")
    print(f"speed-up: {mf_est / t_audit:,.0f}x   max point-estimate gap vs MetricFrame: {gap:.2e}")
    print(f"target < 10 s: {'met' if t_audit < 10 else 'NOT met'}")


if __name__ == "__main__":
    main()
