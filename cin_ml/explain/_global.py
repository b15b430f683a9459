"""Global importance: mean |SHAP| per feature, per family, per audited group, and how stable
the ranking from a sample is (half-sample resamples; against the full cohort when known)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cin_ml.errors import SmallGroupWarning

from ._contrib import Contributions


@dataclass(frozen=True)
class RankAgreement:
    """Agreement of two importance rankings over the same features."""

    spearman: float
    top_k: int
    top_k_overlap: float
    same_top_1: bool

    def to_dict(self) -> dict:
        return {"spearman": round(self.spearman, 6), "top_k": self.top_k,
                "top_k_overlap": round(self.top_k_overlap, 6), "same_top_1": self.same_top_1}


@dataclass(frozen=True)
class Stability:
    """Stability of the sample ranking: half-sample resamples, and the full cohort if known."""

    n_sample: int
    resamples: int
    spearman_min: float
    spearman_median: float
    top_k: int
    top_k_overlap_min: float
    versus_full: RankAgreement | None

    def to_dict(self) -> dict:
        return {"n_sample": self.n_sample, "resamples": self.resamples,
                "spearman_min": round(self.spearman_min, 6),
                "spearman_median": round(self.spearman_median, 6), "top_k": self.top_k,
                "top_k_overlap_min": round(self.top_k_overlap_min, 6),
                "versus_full": None if self.versus_full is None else self.versus_full.to_dict()}


@dataclass(frozen=True)
class GlobalExplanation:
    """Mean |contribution| (log-odds) per feature, family and audited group."""

    n_students: int
    per_feature: tuple[tuple[str, str, float, float], ...]
    """(feature, family, mean |SHAP|, mean SHAP), by decreasing mean |SHAP|."""
    per_family: tuple[tuple[str, float], ...]
    """(family, mean over students of the summed |SHAP| of its features), decreasing."""
    per_group: dict
    """{attribute: {group: {"n", "too_small", "mean_abs": {feature: value}}}}."""
    stability: Stability | None

    @property
    def ranking(self) -> tuple[str, ...]:
        return tuple(f for f, *_ in self.per_feature)

    def to_dict(self) -> dict:
        return {
            "n_students": self.n_students,
            "per_feature": [{"feature": f, "family": fam, "mean_abs": round(a, 8),
                             "mean": round(m, 8)} for f, fam, a, m in self.per_feature],
            "per_family": [{"family": f, "mean_abs": round(a, 8)} for f, a in self.per_family],
            "per_group": self.per_group,
            "stability": None if self.stability is None else self.stability.to_dict(),
        }


def _ranks(v: np.ndarray) -> np.ndarray:
    return pd.Series(v).rank(method="average").to_numpy()


def compare_rankings(a: Mapping[str, float], b: Mapping[str, float],
                     top_k: int = 10) -> RankAgreement:
    """Spearman correlation and top-k overlap of two ``{feature: importance}`` maps."""
    feats = sorted(set(a) & set(b))
    va = np.array([a[f] for f in feats])
    vb = np.array([b[f] for f in feats])
    if len(feats) < 2 or np.ptp(va) == 0 or np.ptp(vb) == 0:
        rho = 1.0 if np.allclose(va, vb) else 0.0
    else:
        rho = float(np.corrcoef(_ranks(va), _ranks(vb))[0, 1])
    k = min(top_k, len(feats))
    ta = set(sorted(feats, key=lambda f: -a[f])[:k])
    tb = set(sorted(feats, key=lambda f: -b[f])[:k])
    top1 = max(feats, key=lambda f: a[f]) == max(feats, key=lambda f: b[f]) if feats else True
    return RankAgreement(rho, k, len(ta & tb) / k if k else 1.0, bool(top1))


def mean_abs(contribs: Contributions) -> dict[str, float]:
    """``{feature: mean |SHAP|}`` over the students of ``contribs``."""
    return dict(zip(contribs.features, np.abs(contribs.values).mean(axis=0).tolist(),
                    strict=True))


def stability(contribs: Contributions, *, resamples: int = 20, top_k: int = 10,
              seed: int = 7, full: Mapping[str, float] | None = None) -> Stability:
    """Stability of the mean |SHAP| ranking of ``contribs``: Spearman and top-k overlap
    between the whole set and ``resamples`` random halves of it; and its agreement with the
    ranking on the ``full`` cohort (``{feature: mean |SHAP|}``) when given."""
    values, features = contribs.values, contribs.features
    rng = np.random.default_rng(seed)
    n = len(values)
    ref = dict(zip(features, np.abs(values).mean(axis=0), strict=True))
    rhos, overlaps = [], []
    for _ in range(resamples):
        half = rng.choice(n, size=max(n // 2, 1), replace=False)
        other = dict(zip(features, np.abs(values[half]).mean(axis=0), strict=True))
        agr = compare_rankings(ref, other, top_k)
        rhos.append(agr.spearman)
        overlaps.append(agr.top_k_overlap)
    vs_full = None if full is None else compare_rankings(full, ref, top_k)
    return Stability(n, resamples, float(np.min(rhos)), float(np.median(rhos)),
                     min(top_k, len(features)), float(np.min(overlaps)), vs_full)


def global_importance(contribs: Contributions, families: Mapping[str, str],
                      groups: pd.DataFrame | None = None, *, min_group_size: int = 30,
                      resamples: int = 20, top_k: int = 10, seed: int = 7,
                      full: Mapping[str, float] | None = None) -> GlobalExplanation:
    """Summarize contributions of a (sampled) set of students.

    Parameters
    ----------
    contribs
        Contributions of the students to summarize (typically the global sample).
    families
        ``{feature: family}`` (see ``family_map``).
    groups
        Audit attributes indexed by student id (e.g. sex, intervention_plan); mean |SHAP|
        is reported per group of each column. Groups below ``min_group_size`` are reported,
        marked ``too_small``, and raise a :class:`SmallGroupWarning`.
    resamples, top_k, seed
        Half-sample resamples used to report ranking stability.
    full
        ``{feature: mean |SHAP|}`` on the full cohort, when computed: reported as agreement.
    """
    absval = np.abs(contribs.values)
    feats = contribs.features
    m_abs = absval.mean(axis=0) if len(contribs) else np.zeros(len(feats))
    m = contribs.values.mean(axis=0) if len(contribs) else np.zeros(len(feats))
    order = np.argsort(-m_abs, kind="stable")
    per_feature = tuple((feats[j], families.get(feats[j], "autre"), float(m_abs[j]),
                         float(m[j])) for j in order)
    fam_names = sorted({families.get(f, "autre") for f in feats})
    fam_sum = {fam: float(absval[:, [j for j, f in enumerate(feats)
                                     if families.get(f, "autre") == fam]].sum(axis=1).mean())
               if len(contribs) else 0.0 for fam in fam_names}
    per_family = tuple(sorted(fam_sum.items(), key=lambda kv: (-kv[1], kv[0])))
    per_group: dict = {}
    if groups is not None and len(contribs):
        g = groups.reindex(pd.Index(contribs.student_ids))
        for attr in g.columns:
            out = {}
            codes = g[attr].astype("string").fillna("(manquant)")
            for level in sorted(codes.unique()):
                rows = (codes == level).to_numpy()
                n = int(rows.sum())
                small = n < min_group_size
                if small:
                    warnings.warn(f"[explain] group {attr}={level} has {n} student(s) "
                                  f"(< {min_group_size}): reported, too small to judge",
                                  SmallGroupWarning, stacklevel=2)
                vals = absval[rows].mean(axis=0)
                out[str(level)] = {"n": n, "too_small": small,
                                   "mean_abs": {feats[j]: round(float(vals[j]), 8)
                                                for j in order}}
            per_group[str(attr)] = out
    stab = (stability(contribs, resamples=resamples, top_k=top_k, seed=seed, full=full)
            if len(contribs) >= 4 else None)
    return GlobalExplanation(len(contribs), per_feature, per_family, per_group, stab)
