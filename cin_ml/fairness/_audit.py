"""``audit``: per-group metrics, disparities with bootstrap intervals, verdicts.

How a verdict is reached (policy in ``configs/fairness.toml``):

- Every metric of every group is reported with its interval, and so are the difference and
  ratio of each group to the reference group of its breakdown (the largest group, unless
  ``[fairness.reference_groups]`` names one). *Informational* metrics
  (``informational_metrics``, by default ``selection_rate``) stop there: no verdict.
- A judged metric has a *harm direction* (``[fairness.harm_direction]``): ``higher`` (a
  higher FNR, FPR or FDR harms the group), ``lower`` (a lower recall, precision or AUC harms
  it) or ``two_sided``. Only a disparity in the harm direction can fail: a group that is
  better off than the reference passes, and its difference and interval are still reported.
- The reference is judged too. If a group is better off than the reference by more than the
  tolerance, the *reference* is the worse-off group: its own verdict is then ``fail`` (or
  ``inconclusive`` when the interval straddles the tolerance), tested with the mirrored
  tolerance (difference ``-d`` and ratio ``1 / high`` for a ``higher`` metric). So whichever
  group is worse off, the largest one included, the comparison catches it; what the
  direction decides is *which* group is named as harmed. (For a two-group attribute the
  breakdown verdict is therefore the same whichever group is the reference, and the same as
  ``two_sided``; only the harmed group named differs.) A ``two_sided`` metric judges each
  group against the reference both ways and gives the reference no verdict of its own
  ("reference").
- FNR ceiling: a group judgeable on FNR (both size rules met, not suppressed) whose FNR is
  above the ceiling (``policy.resolved_fnr_ceiling``: explicit, or relative to the overall
  FNR) is flagged, worst first; a group too small to judge is never flagged.
- Only group-versus-reference pairs are compared (not every pair of groups); a breakdown
  takes the worst verdict of its groups, the reference included.
- pass: the interval lies inside the tolerance on the harm side; fail: beyond it; inconclusive:
  straddles; insufficient_data: the group (or the reference) has fewer than
  ``min_group_size`` students (group-size rule) or fewer than ``min_outcome_count``
  students in the metric's denominator (outcome-count rule: at-risk students for FNR). With
  ``verdict_rule = "both"`` a fail needs the difference and the ratio beyond tolerance and a
  pass needs either inside; ``"either"`` is the stricter reading.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from cin_ml.errors import DataError, SmallGroupWarning
from cin_ml.fairness._core import build_design, indices_to_counts, resample_counts, statistics
from cin_ml.fairness._mdd import breakdown_mdd, group_mdd
from cin_ml.fairness._policy import DIFFERENCE_ONLY, METRICS, FairnessPolicy
from cin_ml.fairness._records import (
    NAN,
    VERDICT_ORDER,
    BreakdownResult,
    Estimate,
    FairnessAudit,
    FnrFlag,
    GroupResult,
)
from cin_ml.fairness._suppress import suppression

__all__ = ["audit"]

_ALL = "__overall__"
TRUTH_METRICS = ("mean_p_true", "fnr_true", "fpr_true", "precision_true",
                 "calibration_gap_true")
# Students in the denominator of each metric (too few: insufficient data).
_DENOMINATOR = {"recall": "positives", "fnr": "positives", "fpr": "negatives",
                "precision": "flagged", "fdr": "flagged", "selection_rate": "n",
                "calibration_gap": "n", "auc": "min_class"}


def _vector(x, name: str, n: int | None = None) -> np.ndarray:
    a = np.asarray(x, dtype=float).ravel() if not isinstance(x, pd.Series) else \
        x.to_numpy(dtype=float, na_value=np.nan)
    if a.ndim != 1 or (n is not None and len(a) != n):
        raise DataError(f"{name}: expected {n} values, got {len(a)}")
    if not np.isfinite(a).all():
        raise DataError(f"{name}: {int((~np.isfinite(a)).sum())} missing or infinite values")
    if ((a < 0) | (a > 1)).any():
        raise DataError(f"{name}: values must lie in [0, 1]")
    return a


def _quantiles(reps: np.ndarray, q: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval per column, ignoring replicates where a value is undefined."""
    lo = np.full(reps.shape[1], np.nan)
    hi = np.full(reps.shape[1], np.nan)
    ok = np.isfinite(reps).any(axis=0)
    if ok.any():
        sub = np.where(np.isfinite(reps[:, ok]), reps[:, ok], np.nan)
        lo[ok], hi[ok] = np.nanquantile(sub, q, axis=0)
    return lo, hi


def _test(lo: float, hi: float, low_tol: float, high_tol: float) -> str:
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return "undefined"
    if lo >= low_tol and hi <= high_tol:
        return "inside"
    if lo > high_tol or hi < low_tol:
        return "outside"
    return "straddles"


def _region(metric: str, policy: FairnessPolicy, harmed: str
            ) -> tuple[tuple[float, float], tuple[float, float] | None]:
    """Acceptable (difference, ratio) region of group - reference / group ÷ reference.

    ``harmed`` is ``"group"`` (is the group worse off than the reference?) or
    ``"reference"`` (is the reference worse off than the group?); two-sided metrics ignore it.
    """
    tol = policy.tolerances[metric]
    d, r = tol.difference, (None if metric in DIFFERENCE_ONLY else tol.ratio)
    direction = policy.direction(metric)
    if direction == "two_sided":
        return (-d, d), r
    up = (direction == "higher") == (harmed == "group")  # harm shows as group > reference
    if up:
        return (-math.inf, d), None if r is None else (
            -math.inf, r[1] if direction == "higher" else 1 / r[0])
    return (-d, math.inf), None if r is None else (
        r[0] if direction == "lower" else 1 / r[1], math.inf)


def _verdict(diff: Estimate, ratio: Estimate, metric: str, policy: FairnessPolicy,
             harmed: str = "group") -> str:
    (d_lo, d_hi), ratio_region = _region(metric, policy, harmed)
    tests = [_test(diff.low, diff.high, d_lo, d_hi)]
    if ratio_region is not None:
        r = _test(ratio.low, ratio.high, *ratio_region)
        if r != "undefined":  # reference rate 0: the ratio says nothing, the difference does
            tests.append(r)
    if tests[0] == "undefined":
        return "insufficient_data"
    if policy.verdict_rule == "both":
        if all(t == "outside" for t in tests):
            return "fail"
        return "pass" if "inside" in tests else "inconclusive"
    if "outside" in tests:
        return "fail"
    return "pass" if all(t == "inside" for t in tests) else "inconclusive"


def _counts(stats: dict, j: int) -> dict[str, int]:
    pos, neg = int(stats["positives"][0, j]), int(stats["negatives"][0, j])
    return {"positives": pos, "negatives": neg, "flagged": int(stats["flagged"][0, j]),
            "min_class": min(pos, neg), "n": int(stats["n"][0, j])}


def audit(y_true, y_score, threshold: float, groups: pd.DataFrame, policy: FairnessPolicy, *,
          seed: int | None = None, n_boot: int | None = None, p_true=None,
          resamples: Sequence[np.ndarray] | None = None) -> FairnessAudit:
    """Audit a model's predictions at its operating threshold.

    Parameters
    ----------
    y_true : array-like of 0/1
        Observed outcome (1 = the adverse outcome the model flags, e.g. exam failure).
    y_score : array-like in [0, 1]
        Predicted probability; a student is flagged when ``y_score >= threshold``.
    threshold : float or array-like
        The model's operating threshold, or one per student (pooled out-of-time predictions
        of several models, each at its own threshold; the record keeps their median).
    groups : DataFrame
        One column per audited attribute (``policy.attributes``), aligned with ``y_true``.
        Missing values form their own group, ``"(missing)"``.
    policy : FairnessPolicy
        Attributes, intersections, metrics, tolerances, sizes (``load_policy()``).
    seed, n_boot : int, optional
        Bootstrap seed and replicates; default to the policy's.
    p_true : array-like in [0, 1], optional
        True probabilities when known (simulation): adds ``mean_p_true``, ``fnr_true``
        (expected share of truly at-risk students missed), ``fpr_true`` (expected share of
        truly not-at-risk students flagged), ``precision_true`` (expected share of flagged
        students truly at risk) and ``calibration_gap_true``.
    resamples : sequence of index arrays, optional
        Explicit bootstrap resamples (row indices drawn with replacement), e.g. to replay
        another tool's resampling; overrides ``seed`` and ``n_boot``.

    Returns
    -------
    FairnessAudit
        Frozen record; ``to_dict()`` is the published (suppressed) JSON form.

    Raises
    ------
    DataError
        Misaligned or invalid inputs, or a missing attribute column.
    """
    y = _vector(y_true, "y_true")
    n = len(y)
    if n == 0:
        raise DataError("y_true: no predictions to audit")
    if not np.isin(y, (0.0, 1.0)).all():
        raise DataError("y_true: labels must be 0 or 1")
    score = _vector(y_score, "y_score", n)
    thr = np.asarray(threshold, dtype=float)
    if thr.ndim and len(thr) != n:
        raise DataError(f"threshold: expected one value or {n}, got {len(thr)}")
    if not (np.isfinite(thr).all() and (thr > 0).all() and (thr <= 1).all()):
        shown = threshold if not thr.ndim else "a value outside"
        raise DataError(f"threshold must lie in (0, 1]; got {shown}")
    if not isinstance(groups, pd.DataFrame) or len(groups) != n:
        raise DataError(f"groups: expected a DataFrame of {n} rows")
    missing = [a for a in policy.attributes if a not in groups.columns]
    if missing:
        raise DataError(f"groups: audit attribute column(s) {missing} missing "
                        f"(have {list(groups.columns)})")
    p = None if p_true is None else _vector(p_true, "p_true", n)
    seed = policy.seed if seed is None else int(seed)
    n_boot = policy.n_boot if n_boot is None else int(n_boot)
    if resamples is not None:
        n_boot = len(resamples)
    if n_boot < 2:
        raise DataError(f"n_boot must be >= 2; got {n_boot}")

    yi, flag = y.astype(np.int64), (score >= thr).astype(np.int64)
    frame = groups[list(policy.attributes)].reset_index(drop=True).assign(**{_ALL: "all"})
    design = build_design(yi, flag, score, frame, ((_ALL,), *policy.groupings), p)
    point = statistics(design, np.ones((1, n)))
    names = list(METRICS) + (list(TRUTH_METRICS) if p is not None else [])
    refs = [_reference(b.labels, point[i]["n"][0], b.attributes, policy)
            for i, b in enumerate(design.breakdowns)]

    reps: list[dict[str, list[np.ndarray]]] = [
        {k: [] for k in ("m", "d", "r")} for _ in design.breakdowns]
    blocks = (indices_to_counts(resamples, n) if resamples is not None
              else resample_counts(n, n_boot, seed))
    for block in blocks:
        for i, st in enumerate(statistics(design, block)):
            m = np.stack([st[k] for k in names], axis=-1)           # (r, groups, metrics)
            ref = m[:, refs[i]: refs[i] + 1, :]
            reps[i]["m"].append(m)
            reps[i]["d"].append(m - ref)
            with np.errstate(divide="ignore", invalid="ignore"):
                reps[i]["r"].append(np.where(ref > 0, m / np.where(ref > 0, ref, 1), np.nan))
    alpha = 1 - policy.confidence_level
    q = (alpha / 2, 1 - alpha / 2)

    breakdowns, flags, small, overall = [], [], 0, {}
    for i, b in enumerate(design.breakdowns):
        st, ref = point[i], refs[i]
        pm = np.stack([st[k][0] for k in names], axis=-1)            # (groups, metrics)
        ci = {}
        for key, pv in (("m", pm), ("d", pm - pm[ref]), ("r", _safe_ratio(pm, pm[ref]))):
            arr = np.concatenate(reps[i][key])
            lo, hi = _quantiles(arr.reshape(len(arr), -1), q)
            ci[key] = (pv, lo.reshape(pv.shape), hi.reshape(pv.shape))
        if b.attributes == (_ALL,):
            overall = {k: Estimate(float(ci["m"][0][0, c]), float(ci["m"][1][0, c]),
                                   float(ci["m"][2][0, c])) for c, k in enumerate(names)}
            ceiling = policy.resolved_fnr_ceiling(overall["fnr"].value)
            continue
        sizes = st["n"][0].astype(int)
        hidden = suppression(b.labels, sizes, b.attributes, policy.suppress_below)
        ests, counts, verdicts = [], [], []
        for j in range(len(b.labels)):
            ests.append({key: {k: Estimate(float(v[j, c]), float(lo[j, c]), float(hi[j, c]))
                               for c, k in enumerate(names)}
                         for key, (v, lo, hi) in ci.items()})
            counts.append(_counts(st, j))
        for j in range(len(b.labels)):
            verdicts.append(_group_verdicts(j, ref, ests, counts, policy))
        mdds = [group_mdd(j, ref, ests, verdicts, policy) for j in range(len(b.labels))]
        groups_out = []
        for j, labels in enumerate(b.labels):
            est, cnt = ests[j], counts[j]
            if cnt["n"] < policy.min_group_size:
                small += 1
            sup = hidden.get(j)
            fnr = est["m"]["fnr"]
            # a group too small to judge on FNR (students or at-risk students) is never a
            # finding: it is dropped from the tables, so it is not listed here either
            if (math.isfinite(fnr.value) and fnr.value > ceiling and sup is None
                    and _judgeable(cnt, cnt, "fnr", policy)):
                flags.append(FnrFlag(breakdown=" × ".join(b.attributes), labels=labels,
                                     fnr=fnr, suppressed=False,
                                     confirmed=bool(fnr.low > ceiling)))
            groups_out.append(GroupResult(
                labels=labels, n=None if sup else cnt["n"],
                counts={k: (None if sup else cnt[k])
                        for k in ("positives", "negatives", "flagged")},
                metrics={k: NAN if sup else e for k, e in est["m"].items()},
                difference={k: NAN if sup or j == ref else e for k, e in est["d"].items()},
                ratio={k: NAN if sup or j == ref or k in DIFFERENCE_ONLY else e
                       for k, e in est["r"].items()},
                verdicts=verdicts[j], is_reference=j == ref, suppressed=sup,
                mdd={} if sup else mdds[j]))
        breakdowns.append(BreakdownResult(
            attributes=b.attributes, reference=b.labels[ref], groups=tuple(groups_out),
            verdicts={m: _worst([g.verdicts[m] for g in groups_out
                                 if g.verdicts[m] != "reference"])
                      for m in policy.verdict_metrics},
            mdd=breakdown_mdd(groups_out, policy)))
    if small:
        warnings.warn(f"{small} group(s) have fewer than {policy.min_group_size} students "
                      "(min_group_size): reported as insufficient_data", SmallGroupWarning,
                      stacklevel=2)
    flags.sort(key=lambda f: (-f.fnr.value, f.breakdown, f.labels))   # worst first
    return FairnessAudit(
        n=n, threshold=float(np.median(thr)), n_boot=n_boot, seed=seed,
        policy=policy.model_dump(mode="json"),
        overall=overall,
        breakdowns=tuple(breakdowns), fnr_flags=tuple(flags), has_truth=p is not None,
        fnr_ceiling=ceiling)


def _judgeable(cnt: dict[str, int], ref_cnt: dict[str, int], metric: str,
               policy: FairnessPolicy) -> bool:
    need = policy.min_outcome_count if metric != "selection_rate" else 1
    den = _DENOMINATOR[metric]
    return (cnt["n"] >= policy.min_group_size and cnt[den] >= need
            and ref_cnt[den] >= need)


def _group_verdicts(j: int, ref: int, ests: list[dict], counts: list[dict],
                    policy: FairnessPolicy) -> dict[str, str]:
    """Verdict of group ``j`` on each judged metric (see the module docstring)."""
    out = {}
    for metric in policy.verdict_metrics:
        if j != ref:
            out[metric] = (_verdict(ests[j]["d"][metric], ests[j]["r"][metric], metric, policy)
                           if _judgeable(counts[j], counts[ref], metric, policy)
                           else "insufficient_data")
        elif policy.direction(metric) == "two_sided":
            out[metric] = "reference"  # each group's two-sided test covers both directions
        else:  # is the reference itself worse off than some group?
            out[metric] = _worst([
                _verdict(ests[k]["d"][metric], ests[k]["r"][metric], metric, policy,
                         harmed="reference")
                for k in range(len(counts))
                if k != ref and _judgeable(counts[k], counts[ref], metric, policy)])
    return out


def _safe_ratio(a: np.ndarray, ref: np.ndarray) -> np.ndarray:
    out = np.full(a.shape, np.nan)
    np.divide(a, np.broadcast_to(ref, a.shape), out=out, where=np.broadcast_to(ref, a.shape) > 0)
    return out


def _worst(verdicts: list[str]) -> str:
    return next((v for v in VERDICT_ORDER if v in verdicts), "insufficient_data")


def _reference(labels, sizes: np.ndarray, attributes: tuple[str, ...],
               policy: FairnessPolicy) -> int:
    named = [policy.reference_groups.get(a) for a in attributes]
    if all(x is not None for x in named):
        want = tuple(named)
        if want not in labels:
            raise DataError(f"[fairness] reference_groups: {' × '.join(want)} is not a group "
                            f"of {' × '.join(attributes)} in these data")
        return labels.index(want)
    return int(np.argmax(sizes))  # largest group; ties: first in sorted label order
