"""``cin-ml compare``: @challenger against @champion on the same test cohort."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cin_ml.errors import GovernanceError, TrackingError
from cin_ml.registry._context import Ctx, alias_version
from cin_ml.run_contract import Artifact, VersionTag

PREDICTIONS = Artifact.TEST_PREDICTIONS


@dataclass(frozen=True)
class Comparison:
    """Both versions scored on the same test students, with a paired bootstrap interval of
    the AUC difference (challenger − champion)."""

    model: str
    champion: str
    challenger: str
    test_cohort: str
    n: int
    metrics: dict
    auc_diff: dict
    fairness: dict

    def to_dict(self) -> dict:
        return {"model": self.model, "champion": self.champion,
                "challenger": self.challenger, "test_cohort": self.test_cohort, "n": self.n,
                "metrics": self.metrics, "auc_diff": self.auc_diff, "fairness": self.fairness}


def _predictions(ctx: Ctx, model: str, version: str):
    tags = ctx.client.get_model_version(model, version).tags
    run_id = tags.get(VersionTag.RUN_ID, "")
    reader = ctx.reader
    try:
        preds = reader.artifact(run_id, PREDICTIONS)
    except TrackingError:
        raise GovernanceError(f"{model} v{version}: run {run_id} has no {PREDICTIONS}"
                              ) from None
    params = reader.run(run_id).data.params
    return preds, params.get("test_cohort", "?"), tags


def _scores(y: np.ndarray, score: np.ndarray, flagged: np.ndarray) -> dict:
    from cin_ml.models import auc, brier, rates_at

    r = rates_at(y, flagged)
    return {"auc": round(float(auc(y, score)), 6), "brier": round(float(brier(y, score)), 6),
            "recall": round(float(r["recall"]), 6), "precision": round(float(r["precision"]), 6),
            "flag_rate": round(float(r["flag_rate"]), 6)}


def compare(ctx: Ctx, model: str, challenger: str | None = None) -> Comparison:
    """Compare the versions behind ``@champion`` and ``@challenger`` of ``model`` (or
    ``challenger``, a version number, instead of ``@challenger``: a version under review)."""
    from cin_ml.models import auc

    champ = alias_version(ctx.client, model, "champion")
    chall = (str(challenger) if challenger is not None
             else alias_version(ctx.client, model, "challenger"))
    if champ is None or chall is None:
        missing = " and ".join(a for a, v in (("@champion", champ), ("@challenger", chall))
                               if v is None)
        raise GovernanceError(f"compare {model}: no {missing} to compare")
    a, cohort_a, tags_a = _predictions(ctx, model, champ)
    b, cohort_b, tags_b = _predictions(ctx, model, chall)
    if cohort_a != cohort_b:
        raise GovernanceError(f"compare {model}: champion v{champ} was tested on cohort "
                              f"{cohort_a} and challenger v{chall} on {cohort_b}; compare on "
                              f"the same test cohort")
    ids_a, ids_b = set(a["student_id"]), set(b["student_id"])
    if ids_a != ids_b:
        raise GovernanceError(f"compare {model}: the test students differ (champion "
                              f"{len(ids_a):,}, challenger {len(ids_b):,}, common "
                              f"{len(ids_a & ids_b):,}); retrain on the same extract")
    m = a.merge(b, on="student_id", suffixes=("_a", "_b"), validate="one_to_one")
    y = m["y_true_a"].to_numpy(bool)
    if not np.array_equal(y, m["y_true_b"].to_numpy(bool)):
        raise GovernanceError(f"compare {model}: the two runs disagree on the test labels")
    sa, sb = m["score_a"].to_numpy(float), m["score_b"].to_numpy(float)
    fa, fb = m["flagged_a"].to_numpy(bool), m["flagged_b"].to_numpy(bool)
    cs = ctx.settings.compare
    rng = np.random.default_rng(cs.seed)
    diffs = []
    for _ in range(cs.n_boot):
        ii = rng.integers(0, y.size, y.size)
        if y[ii].all() or not y[ii].any():
            continue
        diffs.append(auc(y[ii], sb[ii]) - auc(y[ii], sa[ii]))
    lo_q = (1 - cs.ci_level) / 2
    lo, hi = (np.quantile(diffs, [lo_q, 1 - lo_q]) if diffs else (np.nan, np.nan))
    est = float(auc(y, sb) - auc(y, sa))
    return Comparison(
        model, champ, chall, str(cohort_a), int(y.size),
        {"champion": _scores(y, sa, fa), "challenger": _scores(y, sb, fb)},
        {"estimate": round(est, 6), "low": None if np.isnan(lo) else round(float(lo), 6),
         "high": None if np.isnan(hi) else round(float(hi), 6), "n_boot": len(diffs),
         "ci_level": cs.ci_level},
        {"champion": tags_a.get(VersionTag.FAIRNESS_WORST, "?"),
         "challenger": tags_b.get(VersionTag.FAIRNESS_WORST, "?")})
