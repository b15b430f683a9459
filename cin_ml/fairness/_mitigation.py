"""Mitigation as an experiment: post-processing against the base model, never a default."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cin_ml.errors import DataError
from cin_ml.fairness._policy import FairnessPolicy

__all__ = ["MITIGATION_STATEMENT", "MitigationExperiment", "MitigationRow",
           "mitigation_experiment"]

MITIGATION_STATEMENT = {
    "en": "Both mitigations need each student's sensitive attribute at prediction time (a "
          "different threshold per group), and Fairlearn's ThresholdOptimizer randomizes "
          "decisions: two students with the same score and group can be treated differently. "
          "Using either is a policy choice for the ethics committee, not a default; cin-ml "
          "never applies them to served predictions.",
    "fr": "Les deux atténuations exigent l'attribut sensible de chaque élève au moment de la "
          "prédiction (un seuil différent par groupe), et le ThresholdOptimizer de Fairlearn "
          "rend les décisions aléatoires : deux élèves de même score et de même groupe peuvent "
          "être traités différemment. Les utiliser est un choix de politique qui revient au "
          "comité d'éthique, pas un réglage par défaut; cin-ml ne les applique jamais aux "
          "prédictions servies.",
}


@dataclass(frozen=True)
class MitigationRow:
    """One strategy evaluated on the held-out half.

    An arm that could not be computed has ``computed=False``, every number NaN (``None`` in
    ``to_dict``) and ``reason`` saying why; numbers that are undefined for a computed arm
    (e.g. no group large enough for a worst-group figure) are NaN too, never made up.
    """

    strategy: str
    recall: float
    precision: float
    selection_rate: float
    worst_fnr: float
    worst_group: str
    fnr_gap: float      # max - min group FNR over judged groups
    fnr_ratio: float    # max / min group FNR over judged groups
    randomized: bool
    needs_attribute: bool
    computed: bool = True
    reason: str = ""
    n_judged_groups: int = 0

    def to_dict(self) -> dict:
        def r(x):
            return round(float(x), 6) if math.isfinite(x) else None
        return {"strategy": self.strategy, "computed": self.computed, "reason": self.reason,
                "recall": r(self.recall),
                "precision": r(self.precision), "selection_rate": r(self.selection_rate),
                "worst_fnr": r(self.worst_fnr), "worst_group": self.worst_group,
                "fnr_gap": r(self.fnr_gap), "fnr_ratio": r(self.fnr_ratio),
                "n_judged_groups": self.n_judged_groups,
                "randomized": self.randomized, "needs_attribute": self.needs_attribute}


def _not_computed(name: str, reason: str, randomized: bool, needs: bool) -> MitigationRow:
    nan = math.nan
    return MitigationRow(strategy=name, recall=nan, precision=nan, selection_rate=nan,
                         worst_fnr=nan, worst_group="", fnr_gap=nan, fnr_ratio=nan,
                         randomized=randomized, needs_attribute=needs, computed=False,
                         reason=reason)


@dataclass(frozen=True)
class MitigationExperiment:
    """Base model vs group-aware thresholds vs ThresholdOptimizer on one attribute."""

    attribute: str
    n_fit: int
    n_eval: int
    rows: tuple[MitigationRow, ...]
    group_thresholds: dict[str, float]
    statement: dict[str, str]

    def table(self) -> pd.DataFrame:
        return pd.DataFrame([r.to_dict() for r in self.rows]).set_index("strategy")

    @property
    def complete(self) -> bool:
        """Whether every arm was computed."""
        return all(r.computed for r in self.rows)

    def to_dict(self) -> dict:
        return {"kind": "mitigation_experiment", "attribute": self.attribute,
                "n_fit": self.n_fit, "n_eval": self.n_eval, "complete": self.complete,
                "not_computed": {r.strategy: r.reason for r in self.rows if not r.computed},
                "group_thresholds": {k: round(v, 6) for k, v in self.group_thresholds.items()},
                "rows": [r.to_dict() for r in self.rows], "statement": dict(self.statement)}


def _score_estimator():
    """A fitted scikit-learn classifier whose probability is the score already computed."""
    from sklearn.base import BaseEstimator, ClassifierMixin

    class ScoreEstimator(ClassifierMixin, BaseEstimator):
        def fit(self, X, y, **kwargs):  # noqa: N803 - scikit-learn signature
            self.classes_ = np.array([0, 1])
            self.fitted_ = True
            return self

        def predict_proba(self, X):  # noqa: N803
            s = np.asarray(X, dtype=float)[:, 0]
            return np.column_stack([1 - s, s])

        def predict(self, X):  # noqa: N803
            return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

    return ScoreEstimator().fit(None, None)


def _row(name, y, pred, g, policy, randomized, needs) -> MitigationRow:
    tp = float((pred * y).sum())
    fnr = {}
    for level in np.unique(g):
        m = g == level
        pos = y[m].sum()
        if m.sum() >= policy.min_group_size and pos >= policy.min_outcome_count:
            fnr[str(level)] = 1 - (pred[m] * y[m]).sum() / pos
    worst = max(fnr, key=fnr.get) if fnr else ""
    lo = min(fnr.values()) if fnr else math.nan
    hi = max(fnr.values()) if fnr else math.nan
    return MitigationRow(
        strategy=name, recall=tp / y.sum() if y.sum() else math.nan,
        precision=tp / pred.sum() if pred.sum() else math.nan,
        selection_rate=float(pred.mean()) if len(pred) else math.nan, worst_fnr=hi,
        worst_group=worst, fnr_gap=hi - lo,
        fnr_ratio=hi / lo if lo > 0 else (math.inf if fnr else math.nan),
        randomized=randomized, needs_attribute=needs, n_judged_groups=len(fnr))


def _judged_levels(y, g, policy) -> list[str]:
    """Levels with at least ``min_group_size`` students and ``min_outcome_count`` positives
    *and* negatives (a group whose fit labels are all one class has nothing to fit)."""
    out = []
    for level in np.unique(g):
        m = g == level
        pos = int(y[m].sum())
        if m.sum() >= policy.min_group_size and pos >= policy.min_outcome_count \
                and m.sum() - pos >= policy.min_outcome_count:
            out.append(str(level))
    return out


def _group_thresholds(y, s, g, target_recall, policy) -> dict[str, float]:
    """Per group, the highest threshold whose recall on the fit half reaches the target.

    Groups too small to judge keep the base threshold (and no threshold of theirs, which is
    one student's score, is published).
    """
    out = {}
    for level in np.unique(g):
        pos = np.sort(s[(g == level) & (y == 1)])[::-1]
        if (g == level).sum() < policy.min_group_size or len(pos) < policy.min_outcome_count:
            continue
        k = max(1, math.ceil(target_recall * len(pos)))
        out[str(level)] = float(pos[k - 1])
    return out


def mitigation_experiment(y_true, y_score, threshold: float, sensitive, policy: FairnessPolicy,
                          *, seed: int | None = None,
                          fit_fraction: float = 0.5) -> MitigationExperiment:
    """Compare the base model with two post-processing mitigations on one attribute.

    The predictions are split (stratified by group and label) into a fit half, on which the
    group thresholds and the ``ThresholdOptimizer`` (``true_positive_rate_parity``: equal
    opportunity) are fitted, and an evaluation half, on which all strategies are compared:
    overall recall, precision and selection rate vs the worst-group FNR and the FNR gap.
    Groups below ``policy.min_group_size`` (or ``min_outcome_count`` positives) are left out
    of the worst-group figures and keep the base threshold in both mitigations. See
    :data:`MITIGATION_STATEMENT`.

    The experiment is secondary to the audit, so data too thin for it are a result, not an
    error: an arm that cannot be computed (no positives in a half, fewer than two groups
    large enough to compare, or Fairlearn refusing the fit, e.g. "Degenerate labels") comes
    back with ``computed=False``, no numbers and the reason.

    Parameters
    ----------
    y_true, y_score, threshold
        As for :func:`audit`.
    sensitive : Series
        The attribute to mitigate on (named Series; missing values form a group).
    policy : FairnessPolicy
    seed : int, optional
        Split and randomization seed (policy's by default).
    fit_fraction : float
        Share of students used for fitting.


    Raises
    ------
    DataError
        Inputs of different lengths, or ``fit_fraction`` outside [0.1, 0.9].
    """
    y = np.asarray(y_true, dtype=float).astype(int)
    s = np.asarray(y_score, dtype=float)
    name = getattr(sensitive, "name", None) or "attribute"
    g = pd.Series(sensitive).astype("object").fillna("(missing)").astype(str).to_numpy()
    if not (len(y) == len(s) == len(g)):
        raise DataError("mitigation: y_true, y_score and the attribute differ in length")
    if not 0.1 <= fit_fraction <= 0.9:
        raise DataError(f"fit_fraction must lie in [0.1, 0.9]; got {fit_fraction}")
    seed = policy.seed if seed is None else seed
    rng = np.random.default_rng(seed)
    fit = np.zeros(len(y), dtype=bool)
    strata = pd.Series(g).str.cat(y.astype(str), sep="|").to_numpy()
    for key in np.unique(strata):
        idx = np.flatnonzero(strata == key)
        fit[rng.permutation(idx)[: int(round(fit_fraction * len(idx)))]] = True
    ev = ~fit
    t = np.broadcast_to(np.asarray(threshold, dtype=float), s.shape)  # one, or per student
    base = (s[ev] >= t[ev]).astype(int)
    rows = [_row("base", y[ev], base, g[ev], policy, False, False)]
    judged = _judged_levels(y[fit], g[fit], policy)
    gt_name, to_name = "group_thresholds", "threshold_optimizer"
    thr: dict[str, float] = {}
    if y[fit].sum() == 0 or y[ev].sum() == 0:
        why = (f"no positive outcome in the {'fit' if y[fit].sum() == 0 else 'evaluation'} "
               f"half ({int(y.sum())} in all): recall and FNR are undefined")
        rows += [_not_computed(gt_name, why, False, True), _not_computed(to_name, why, True, True)]
    elif len(judged) < 2:
        why = (f"fewer than two groups of {name} have at least {policy.min_group_size} "
               f"students and {policy.min_outcome_count} positive and negative outcomes in "
               f"the fit half ({', '.join(judged) or 'none'}): there is no group disparity "
               "to mitigate that these data can measure")
        rows += [_not_computed(gt_name, why, False, True), _not_computed(to_name, why, True, True)]
    else:
        base_fit = (s[fit] >= t[fit]).astype(int)
        target = (base_fit * y[fit]).sum() / y[fit].sum()
        thr = _group_thresholds(y[fit], s[fit], g[fit], target, policy)
        per_row = pd.Series(g[ev]).map(thr).fillna(pd.Series(t[ev])).to_numpy(dtype=float)
        rows.append(_row(gt_name, y[ev], (s[ev] >= per_row).astype(int), g[ev], policy,
                         False, True))
        rows.append(_threshold_optimizer(y, s, g, fit, ev, base, judged, threshold, name,
                                         policy, seed))
    return MitigationExperiment(attribute=str(name), n_fit=int(fit.sum()), n_eval=int(ev.sum()),
                                rows=tuple(rows), group_thresholds=thr,
                                statement=MITIGATION_STATEMENT)


def _threshold_optimizer(y, s, g, fit, ev, base, judged, threshold, name, policy, seed
                         ) -> MitigationRow:
    """Fairlearn's ThresholdOptimizer fitted on the judged groups; the other groups keep the
    base threshold (as with group thresholds). Not computed when Fairlearn refuses."""
    from fairlearn.postprocessing import ThresholdOptimizer

    opt = ThresholdOptimizer(estimator=_score_estimator(), constraints="true_positive_rate_parity",
                             objective=policy.mitigation_objective, prefit=True,
                             predict_method="predict_proba")
    in_fit = fit & np.isin(g, judged)
    in_ev = ev & np.isin(g, judged)
    pred = base.copy()
    sel = np.isin(g[ev], judged)
    try:
        opt.fit(pd.DataFrame({"score": s[in_fit]}), y[in_fit], sensitive_features=g[in_fit])
        pred[sel] = np.asarray(opt.predict(pd.DataFrame({"score": s[in_ev]}),
                                           sensitive_features=g[in_ev],
                                           random_state=seed)).astype(int)
    except ValueError as exc:  # e.g. "Degenerate labels for sensitive feature value ..."
        return _not_computed("threshold_optimizer", f"Fairlearn ThresholdOptimizer could not "
                             f"be fitted on {name}: {exc}", True, True)
    return _row("threshold_optimizer", y[ev], pred, g[ev], policy, True, True)
