"""Score the students due for a prediction now, and explain a school's students.

The model is any object with the :class:`cin_ml.tracking.RunBundle` surface used here
(``task``, ``features``, ``threshold``, ``encode(X)``, ``model`` a LightGBM booster returning
calibrated probabilities, ``feature_policy``): this package never imports mlflow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cin_ml.access._settings import BandSettings
from cin_ml.errors import DataError

RISK_BANDS = ("eleve", "a_surveiller", "faible")
"""Risk bands of the nominative list, highest first."""
GROUPS = ("sex", "intervention_plan", "language_group", "immigration_generation")
"""Breakdowns of the network's reports (seed case, section 5)."""
GROUP_LEVELS = {"sex": ("F", "M"), "intervention_plan": ("oui", "non"),
                "language_group": ("francophone", "anglophone", "allophone"),
                "immigration_generation": ("1re", "2e", "3e+")}


@dataclass(frozen=True, eq=False)
class ScoredCohort:
    """Students due for a prediction at the extract's date, scored.

    ``frame`` is indexed by ``student_id`` with ``css_id``, ``school_id``, ``grade``
    (grade just completed), ``score`` (calibrated probability), ``flagged`` (bool, score
    at or above ``threshold``), ``risk_band`` and the breakdown columns of :data:`GROUPS`
    (strings; ``intervention_plan`` is ``oui``/``non``). ``X`` holds the encoded model inputs
    (same index), for explanations.
    """

    task: str
    threshold: float
    school_year: int
    frame: pd.DataFrame
    X: pd.DataFrame

    def to_dict(self) -> dict:
        f = self.frame
        return {"task": self.task, "threshold": self.threshold,
                "school_year": self.school_year, "n_students": int(len(f)),
                "n_flagged": int(f["flagged"].sum()), "n_css": int(f["css_id"].nunique()),
                "n_schools": int(f["school_id"].nunique())}


def risk_band(score: np.ndarray, threshold: float, bands: BandSettings) -> np.ndarray:
    """``eleve`` at or above ``threshold``, ``a_surveiller`` at or above
    ``watch_ratio * threshold``, ``faible`` below."""
    s = np.asarray(score, float)
    return np.where(s >= threshold, RISK_BANDS[0],
                    np.where(s >= bands.watch_ratio * threshold, RISK_BANDS[1], RISK_BANDS[2]))


def score_cohort(model, tables: Mapping[str, pd.DataFrame], bands: BandSettings,
                 feature_settings=None) -> ScoredCohort:
    """Build the model's features on ``tables`` and score the students due now.

    "Due now" is the task's population whose prediction point is the end of the extract's
    last school year (for ``ecriture_4e``: the students who just finished grade 3).

    Raises
    ------
    DataError
        Nobody is due for a prediction in the extract, or a model input is missing.
    """
    from cin_ml.features import build_features
    from cin_ml.tasks import get_task

    spec = get_task(model.task)
    frame = build_features(dict(tables), model.task, feature_settings)
    last_year = int(tables["enrolments"]["school_year"].max())
    pop = frame.population
    due = pop.index[(pop["cutoff_year"] == last_year + 1) & pop["label"].isna()]
    if len(due) == 0:
        raise DataError(f"no student is due for a {model.task} prediction at the end of "
                        f"{last_year}-{(last_year + 1) % 100:02d} in this extract")
    missing = [f for f in model.features if f not in frame.X.columns]
    if missing:
        raise DataError(f"the extract does not yield model input(s) {', '.join(missing[:6])} "
                        f"(check configs/features.toml against the model's)")
    X = model.encode(frame.X.loc[due, list(model.features)])
    score = np.asarray(model.model.predict(X), float)
    students = tables["students"].set_index("student_id")
    audit = frame.audit.loc[due]
    out = pd.DataFrame({
        "css_id": students["css_id"].reindex(due).astype(str).to_numpy(),
        "school_id": pop.loc[due, "school_id"].astype(str).to_numpy(),
        "grade": spec.target_grade - 1,
        "score": score,
        "flagged": score >= model.threshold,
        "risk_band": risk_band(score, model.threshold, bands),
        "sex": audit["sex"].astype(str).to_numpy(),
        "intervention_plan": np.where(audit["intervention_plan"].astype(int) == 1, "oui",
                                      "non"),
        "language_group": audit["language_group"].astype(str).to_numpy(),
        "immigration_generation": audit["immigration_generation"].astype(str).to_numpy(),
    }, index=pd.Index(due.astype(str), name="student_id"))
    X.index = out.index
    return ScoredCohort(model.task, float(model.threshold), last_year, out, X)


def _approved_sensitive(policy: Mapping) -> tuple[list[str], list[str]]:
    decisions = policy.get("decisions", ()) if policy else ()
    sens = [d["feature"] for d in decisions if d.get("role") == "sensitive"]
    ok = [d["feature"] for d in decisions
          if d.get("role") == "sensitive" and d.get("included") and d.get("justification")]
    return sens, ok


def explain_scored(model, cohort: ScoredCohort, student_ids: Sequence[str], *, top_k: int,
                   explain_settings=None) -> dict:
    """Per-student reasons (``cin_ml.explain``) for ``student_ids`` of ``cohort``.

    Reasons are verified counterfactually on the model (``cin_ml.explain``); only flagged
    students get risk reasons. Reference values (medians) come from the whole scored cohort;
    categorical values are read through the model's category maps; sensitive features are
    named only when the model's feature policy approved them with a justification.

    Returns
    -------
    dict
        ``{student_id: StudentExplanation}``.
    """
    from cin_ml.explain import (
        compute_contributions,
        explain_students,
        family_map,
        load_explain_settings,
        model_directions,
        reference_values,
        sensitive_features,
    )
    from cin_ml.models import resolve_threads

    if not student_ids:
        return {}
    es = explain_settings or load_explain_settings()[0]
    ids = [str(s) for s in student_ids]
    X = cohort.X
    meta = getattr(model, "model_meta", None) or {}
    maps = {k: v for k, v in (meta.get("category_maps") or {}).items() if k in X.columns}
    monotone = (meta.get("monotone") or {}).get("features", {})
    sens, approved = _approved_sensitive(getattr(model, "feature_policy", {}) or {})
    features = list(X.columns)
    sensitive = tuple(dict.fromkeys(sensitive_features(features)
                                    + tuple(f for f in sens if f in features)))
    f = cohort.frame
    ref = reference_values(X, list(maps))
    # the model's direction on each feature, from TreeSHAP over (a sample of) the cohort
    sample = X if len(X) <= es.global_sample else X.sample(es.global_sample,
                                                           random_state=es.seed)
    threads = resolve_threads(es.num_threads, len(sample))
    directions = model_directions(
        compute_contributions(model.model, sample, np.array(sample.index, dtype=object),
                              num_threads=threads, chunk_rows=es.chunk_rows), X, ref)
    exps = explain_students(
        model.model, X, ids, families=family_map(features),
        reference=ref, sensitive=sensitive,
        approved_sensitive=tuple(a for a in approved if a in features), top_k=top_k,
        top_k_protective=es.top_k_protective, materiality=es.materiality,
        level=es.level_for(cohort.task), monotone=monotone, category_maps=maps,
        directions=directions, min_direction=es.min_direction_consistency,
        scores=f.loc[ids, "score"].to_dict(), flagged=f.loc[ids, "flagged"].to_dict(),
        num_threads=threads)
    return {e.student_id: e for e in exps}
