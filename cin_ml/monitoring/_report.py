"""One monitoring report: drift, shift, label-free estimate, realized figures, conditions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cin_ml.monitoring._conditions import Condition, evaluate_conditions
from cin_ml.monitoring._drift import drift_report, score_shift
from cin_ml.monitoring._estimate import estimate_performance, group_gaps, realized_performance
from cin_ml.monitoring._settings import MonitoringSettings

__all__ = ["LabelledCohort", "MonitoringReport", "build_report"]


@dataclass(frozen=True, eq=False)
class LabelledCohort:
    """A cohort scored by the model whose labels are now in.

    ``year`` is the school year at whose end it was predicted; ``groups`` holds its audit
    attributes (aligned with ``y`` and ``p``); ``prior_estimate`` the label-free estimate
    an earlier monitoring report made for it (when one exists).
    """

    year: int
    y: np.ndarray
    p: np.ndarray
    groups: pd.DataFrame
    prior_estimate: Mapping | None = None


@dataclass(frozen=True)
class MonitoringReport:
    """What ``cin-ml monitor`` found; ``to_dict()`` is the JSON report."""

    model: Mapping
    cohort: Mapping
    drift: Mapping
    shift: Mapping
    estimate: Mapping
    realized: Mapping | None
    approved: Mapping
    values: Mapping[str, float | None]
    conditions: tuple = field(default_factory=tuple)

    @property
    def alarms(self) -> list[str]:
        """Plain-English alarm lines (the HTML has them in each language)."""
        out = [f"input {f} drifted (PSI {self.drift['features'][f]['psi']:.2f})"
               for f in self.drift["drifted"]]
        for c in self.drift["drifted_css"]:
            r = self.drift["css"][c]
            out.append(f"CSS {c}: " + ("new (not in the training cohorts)" if r["new"]
                                       else "drift in " + ", ".join(r["drifted"][:5])))
        if self.shift.get("drift"):
            out.append(f"score distribution shifted (PSI {self.shift['psi']:.2f})")
        if self.shift.get("flag_rate_alarm"):
            out.append(f"flag rate {self.shift['flag_rate']:.3f} vs "
                       f"{self.shift['reference_flag_rate']:.3f}")
        out += [f"condition breached: {c['text']} (observed {c['observed']:.3f})"
                for c in self.conditions if c["state"] == "breached"]
        return out

    @property
    def breached(self) -> list[dict]:
        return [c for c in self.conditions if c["state"] == "breached"]

    def to_dict(self) -> dict:
        return {"model": dict(self.model), "cohort": dict(self.cohort),
                "drift": dict(self.drift), "shift": dict(self.shift),
                "estimate": dict(self.estimate),
                "realized": dict(self.realized) if self.realized else None,
                "approved": dict(self.approved), "values": dict(self.values),
                "conditions": list(self.conditions), "alarms": self.alarms}


def build_report(*, model: Mapping, reference: Mapping, X: pd.DataFrame, css, scores,
                 threshold: float, groups: pd.DataFrame, year: int,
                 settings: MonitoringSettings, labelled: LabelledCohort | None = None,
                 conditions: Iterable[Condition | Mapping] = (),
                 approved: Mapping | None = None, fairness_policy=None) -> MonitoringReport:
    """Monitor the newest cohort (``X`` encoded model inputs, ``scores`` calibrated
    probabilities, ``css`` and ``groups`` per student) against the training ``reference``.

    ``labelled`` adds the realized AUC, recall, calibration, group gaps and (with a
    ``fairness_policy``) the fairness verdicts of the latest cohort whose labels are in;
    ``approved`` holds the approved card's figures for comparison.
    """
    d, sh, es = settings.drift, settings.shift, settings.estimate
    scores = np.asarray(scores, float)
    drift = drift_report(reference, X, css, psi_threshold=d.psi_threshold, alpha=d.alpha,
                         min_students=d.min_students)
    shift = score_shift(reference, scores, threshold, psi_threshold=d.psi_threshold,
                        alpha=d.alpha, flag_rate_change=sh.flag_rate_change,
                        rate_alpha=sh.alpha)
    est = estimate_performance(scores, threshold, n_simulations=es.n_simulations,
                               level=es.level, seed=es.seed)
    values: dict[str, float | None] = {
        "estimated_auc": est["auc"], "estimated_auc_low": est["auc_interval"][0],
        "estimated_recall": est["recall"], "estimated_event_rate": est["event_rate"],
        "flag_rate": est["flag_rate"], "flag_rate_change": shift.get("flag_rate_change"),
        "score_psi": shift.get("psi"), "max_feature_psi": drift["max_psi"],
        "drifted_features": float(len(drift["drifted"])),
        "drifted_css": float(len(drift["drifted_css"])),
        **group_gaps(groups, scores, threshold)}
    realized = None
    if labelled is not None:
        realized = {"year": labelled.year, **realized_performance(labelled.y, labelled.p,
                                                                   threshold),
                    "prior_estimate": dict(labelled.prior_estimate)
                    if labelled.prior_estimate else None}
        gaps = group_gaps(labelled.groups, labelled.p, threshold, labelled.y)
        realized["gaps"] = gaps
        values.update({k: realized[k] for k in ("auc", "recall", "calibration_gap", "ece")})
        values.update({k: v for k, v in gaps.items() if not k.startswith("flag_rate_gap")})
        if fairness_policy is not None:
            realized["fairness"] = _verdicts(labelled, threshold, fairness_policy)
    states = [s.to_dict() for s in evaluate_conditions(conditions, values)]
    cohort = {"year": int(year), "n_students": int(scores.size),
              "n_css": int(len(set(np.asarray(css).astype(str)))) if css is not None else None}
    return MonitoringReport(dict(model), cohort, drift, shift, est, realized,
                            dict(approved or {}), values, tuple(states))


def _verdicts(labelled: LabelledCohort, threshold: float, policy) -> dict:
    import warnings

    from cin_ml.errors import CinMLWarning
    from cin_ml.fairness import audit

    attrs = [a for a in policy.attributes if a in labelled.groups.columns]
    if not attrs:
        return {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CinMLWarning)
        res = audit(labelled.y, labelled.p, threshold, labelled.groups[attrs], policy,
                    seed=0)
    return res.verdict_table
