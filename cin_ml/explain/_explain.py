"""Explain a scored cohort where it is needed: every flagged student, every student asked
about, and a uniform sample for global importance (or the full cohort on request)."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from cin_ml.errors import DataError
from cin_ml.models import resolve_threads

from ._contrib import (
    Contributions,
    additivity_bound,
    compute_contributions,
    merge_contributions,
)
from ._counterfactual import check_reasons, model_directions
from ._features import family_map, sensitive_features
from ._global import GlobalExplanation, global_importance, mean_abs, stability
from ._reasons import StudentExplanation, explain_students, reference_values
from ._settings import ExplainSettings


@dataclass(frozen=True)
class Selection:
    """Which students get contributions, and why."""

    flagged: tuple[str, ...]
    asked: tuple[str, ...]
    sample: tuple[str, ...]
    full: bool
    n_cohort: int

    @property
    def explained(self) -> tuple[str, ...]:
        """Union of the three sets (flagged, asked, sample), each id once, in that order."""
        return tuple(dict.fromkeys(self.flagged + self.asked + self.sample))

    def to_dict(self) -> dict:
        return {"n_cohort": self.n_cohort, "n_flagged": len(self.flagged),
                "n_asked": len(self.asked), "n_sample": len(self.sample), "full": self.full,
                "n_explained": len(self.explained)}


@dataclass(frozen=True, eq=False)
class Explanation:
    """Everything the explain step produced for one model and cohort."""

    selection: Selection
    contributions: Contributions
    global_: GlobalExplanation
    students: tuple[StudentExplanation, ...]
    families: dict
    sensitive: tuple[str, ...]
    approved_sensitive: tuple[str, ...]
    reference: dict
    timings: dict
    settings: ExplainSettings
    reasons_check: dict = field(default_factory=dict)
    monotone: dict = field(default_factory=dict)
    directions: dict = field(default_factory=dict)
    level: str = ""

    def student(self, student_id: str) -> StudentExplanation:
        for s in self.students:
            if s.student_id == student_id:
                return s
        raise DataError(f"student '{student_id}' was not explained (neither flagged nor asked)")

    def to_dict(self) -> dict:
        """``global.json``: settings, selection, timings and global importance (no student).

        The additivity error is recorded as the power of ten it is below
        (:func:`additivity_bound`): its exact value is float noise that changes from one
        call to the next, and the card reads it."""
        return {"explainer": self.contributions.explainer.to_dict(),
                "settings": self.settings.model_dump(), "selection": self.selection.to_dict(),
                "additivity_max_error": additivity_bound(
                    self.contributions.max_additivity_error),
                "base_value": self.contributions.base_value,
                "timings_s": {k: round(v, 4) for k, v in self.timings.items()},
                "families": self.families, "sensitive_features": list(self.sensitive),
                "approved_sensitive_features": list(self.approved_sensitive),
                "reference": self.reference, "global": self.global_.to_dict(),
                "reasons": self.reasons_dict()}

    def reasons_dict(self) -> dict:
        """How reasons are chosen and the check of every stated reason against the model."""
        st = self.settings
        return {"method": REASONS_METHOD, "level": self.level or st.reason_level,
                "materiality_points": st.materiality_points, "top_k": st.top_k,
                "top_k_protective": st.top_k_protective,
                "min_direction_consistency": st.min_direction_consistency,
                "monotone_features": self.monotone, "model_directions": self.directions,
                "check": self.reasons_check}

    def students_dict(self) -> dict:
        """``students.json``: reasons of every flagged or asked student."""
        return {"students": [s.to_dict() for s in self.students]}


REASONS_METHOD = (
    "counterfactual on the calibrated model: a reason is stated only if setting its "
    "feature(s) to the quoted reference (same-level median) moves the predicted probability "
    "by at least the materiality in the stated direction; weight = that change in "
    "probability points; a feature without a monotone constraint only in the direction the "
    "model consistently gives it (TreeSHAP direction consistency); risk reasons for flagged "
    "students only; global importance by TreeSHAP (pred_contrib)")


def _indexed(features: pd.DataFrame) -> pd.DataFrame:
    if "student_id" in features.columns:
        features = features.set_index("student_id")
    if not features.index.is_unique:
        raise DataError("feature frame: student_id is not unique")
    features.index = features.index.astype(str)
    return features


def select_students(ids: Sequence[str], *, flagged: Sequence[str] = (),
                    asked: Sequence[str] = (), sample_size: int = 4000, seed: int = 7,
                    full: bool = False) -> Selection:
    """Choose the students to explain (see :class:`Selection`); asked ids must exist."""
    ids = [str(s) for s in ids]
    known = set(ids)
    missing = [s for s in asked if str(s) not in known]
    if missing:
        raise DataError(f"student(s) {', '.join(map(str, missing[:5]))} not in the scored "
                        f"cohort ({len(ids):,} students)")
    if full or sample_size >= len(ids):
        sample = tuple(ids)
    else:
        rows = np.sort(np.random.default_rng(seed).choice(len(ids), sample_size,
                                                          replace=False))
        sample = tuple(ids[i] for i in rows)
    return Selection(tuple(str(s) for s in flagged if str(s) in known),
                     tuple(str(s) for s in asked), sample, full or len(sample) == len(ids),
                     len(ids))


def explain_cohort(model, features: pd.DataFrame, predictions: pd.DataFrame | None = None, *,
                   asked: Sequence[str] = (), settings: ExplainSettings | None = None,
                   families: Mapping[str, str] | None = None,
                   approved_sensitive: Sequence[str] = (), sensitive: Sequence[str] = (),
                   group_columns: Sequence[str] = (), full: bool = False,
                   cache: Contributions | None = None,
                   monotone: Mapping[str, int] | None = None,
                   category_maps: Mapping[str, Sequence[str]] | None = None,
                   task: str | None = None) -> Explanation:
    """Explain a scored cohort.

    Parameters
    ----------
    model
        LightGBM Booster or fitted estimator.
    features
        Model inputs, indexed by student id or with a ``student_id`` column.
    predictions
        Optional frame with ``student_id`` and ``flagged`` (0/1), ``score`` and the audit
        columns named in ``group_columns``.
    asked
        Students to explain whatever their flag (e.g. a parent's request).
    settings
        ``[explain]`` settings (default: ``configs/explain.toml``).
    families
        ``{feature: family}`` overriding ``cin_ml.features.feature_family``.
    approved_sensitive
        Sensitive features approved in the feature policy: only these may be named.
    sensitive
        Features the feature policy classed sensitive, added to those the schema roles give.
    group_columns
        Audit attributes in ``predictions`` for mean |SHAP| per group.
    full
        Compute every student (the global ranking is then exact, and the sample's agreement
        with it is reported).
    cache
        Contributions already computed for this model (rows reused, not recomputed).
    monotone
        ``{feature: +1 | -1}``: the model's monotone constraints (``model_meta.json``).
    category_maps
        ``{feature: labels}``: categorical features are quoted as labels.
    task
        The model's task: picks the reason level (``ExplainSettings.level_for``).
    """
    if settings is None:
        from ._settings import load_explain_settings

        settings = load_explain_settings()[0]
    X = _indexed(features)
    preds = None if predictions is None else _indexed(predictions)
    flagged: list[str] = []
    if preds is not None and "flagged" in preds.columns:
        flagged = [s for s in preds.index[preds["flagged"].astype(bool).to_numpy()]]
    sel = select_students(list(X.index), flagged=flagged, asked=asked,
                          sample_size=settings.global_sample, seed=settings.seed, full=full)
    threads = resolve_threads(settings.num_threads, n_rows=len(sel.explained))
    t0 = time.perf_counter()
    need = list(sel.explained)
    if cache is not None:
        have = set(cache.student_ids)
        need = [s for s in need if s not in have]
    fresh = compute_contributions(model, X.loc[need], np.array(need, dtype=object),
                                  num_threads=threads, chunk_rows=settings.chunk_rows)
    contribs = fresh if cache is None else merge_contributions(cache, fresh)
    t1 = time.perf_counter()
    fam = family_map(list(contribs.features), families)
    sens = tuple(dict.fromkeys(sensitive_features(list(contribs.features))
                               + tuple(f for f in sensitive if f in contribs.features)))
    unknown = sorted(set(approved_sensitive) - set(contribs.features))
    if unknown:
        raise DataError(f"approved sensitive feature(s) {', '.join(unknown)} are not model "
                        "inputs")
    groups = None
    if preds is not None and group_columns:
        absent = [c for c in group_columns if c not in preds.columns]
        if absent:
            raise DataError(f"predictions lack audit column(s) {', '.join(absent)}")
        groups = preds[list(group_columns)]
    sample_c = contribs.subset(sel.sample)
    g = global_importance(sample_c, fam, groups, min_group_size=settings.min_group_size,
                          resamples=settings.stability_resamples,
                          top_k=settings.stability_top_k, seed=settings.seed)
    if sel.full and len(sel.sample) > settings.global_sample:
        # how far the default path's sample ranking is from this exact full-cohort ranking
        default = select_students(sel.sample, sample_size=settings.global_sample,
                                  seed=settings.seed).sample
        g = replace(g, stability=stability(
            contribs.subset(default), resamples=settings.stability_resamples,
            top_k=settings.stability_top_k, seed=settings.seed, full=mean_abs(sample_c)))
    t2 = time.perf_counter()
    ref = reference_values(X[list(contribs.features)], list(category_maps or {}))
    scores = None if preds is None or "score" not in preds.columns else preds["score"]
    flags = None if preds is None or "flagged" not in preds.columns else preds["flagged"]
    who = list(dict.fromkeys(sel.flagged + sel.asked))
    directions = model_directions(sample_c, X, ref)
    level = settings.level_for(task)
    students = explain_students(
        model, X, who, families=fam, reference=ref, sensitive=sens,
        approved_sensitive=tuple(approved_sensitive), top_k=settings.top_k,
        top_k_protective=settings.top_k_protective, materiality=settings.materiality,
        level=level, monotone=monotone, category_maps=category_maps,
        contribs=contribs, directions=directions,
        min_direction=settings.min_direction_consistency,
        scores=None if scores is None else scores.to_dict(),
        flagged=None if flags is None else flags.astype(bool).to_dict(), num_threads=threads)
    check = check_reasons(model, X, students, materiality=settings.materiality,
                          num_threads=threads)
    t3 = time.perf_counter()
    timings = {"contributions": t1 - t0, "global": t2 - t1, "reasons": t3 - t2,
               "total": t3 - t0}
    return Explanation(sel, contribs, g, students, fam, sens, tuple(approved_sensitive), ref,
                       timings, settings, check, dict(monotone or {}), directions, level)
