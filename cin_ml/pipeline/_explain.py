"""Explanations of a training run (``cin-ml explain``)."""

from __future__ import annotations

from pathlib import Path

from cin_ml.pipeline._common import Progress, _quiet, load_publishable_run
from cin_ml.run_contract import Artifact, Tag


def _policy_sensitive(policy: dict) -> tuple[list[str], list[str]]:
    """(sensitive features, approved ones) from a run's ``policy/feature_policy.json``."""
    sens = [d["feature"] for d in policy.get("decisions", ()) if d.get("role") == "sensitive"]
    ok = [d["feature"] for d in policy.get("decisions", ())
          if d.get("role") == "sensitive" and d.get("included") and d.get("justification")]
    return sens, ok


def _model_ref(task: str, run_id: str, lang: str) -> str:
    """The model a sheet comes from, in the sheet's language (no task code, no "run")."""
    from cin_ml.tasks import task_label

    return (f"{task_label(task, 'name', lang)} · "
            f"{'exécution' if lang == 'fr' else 'run'} {run_id}")


def run_explain(run_id: str, student: str | None = None, lang: str = "fr", *,
                full: bool = False, out: Path | str = "reports/explain",
                config: Path | str | None = None, progress: Progress = _quiet) -> dict:
    """Explain a training run: contributions where needed (flagged students, ``student``,
    a global sample; every test student with ``full``), global importance, plots, reasons
    and, for ``student``, the explanation sheet in ``lang``. Contributions are cached with
    the run (``explain/contributions.parquet``) and reused on the next call. Everything is
    logged under ``explain/`` in the run; the sheet is also written to ``out``.
    """
    import matplotlib.pyplot as plt

    from cin_ml.errors import ConfigError, TrackingError
    from cin_ml.explain import (
        beeswarm,
        contributions_from_frame,
        dependence,
        explain_cohort,
        family_bars,
        group_bars,
        load_explain_settings,
        render_sheet,
    )
    from cin_ml.extract import write_json_atomic
    from cin_ml.features import AUDIT_ATTRIBUTES

    if lang not in ("fr", "en"):
        raise ConfigError(f"[explain] --lang must be fr or en; got '{lang}'")
    settings, sheet_cfg = load_explain_settings(config)
    bundle = load_publishable_run(run_id, "explanations are written", progress)
    X = bundle.test_features.set_index("student_id")[bundle.features]
    preds = bundle.test_predictions
    cache = None
    try:
        cached = bundle.artifact(Artifact.EXPLAIN_CONTRIBUTIONS)
        meta = bundle.artifact(Artifact.EXPLAIN_GLOBAL)
    except TrackingError:
        cached = None
    if cached is not None and list(cached.columns[1:-2]) == bundle.features:
        from cin_ml.explain import ExplainerInfo

        cache = contributions_from_frame(cached, ExplainerInfo(**meta["explainer"]))
        progress(f"reusing {len(cache):,} cached contributions")
    sens, approved = _policy_sensitive(bundle.feature_policy)
    groups = [c for c in AUDIT_ATTRIBUTES if c in preds.columns]
    progress(f"explaining {len(X):,} test students ({'all' if full else 'where needed'})")
    meta = bundle.model_meta
    e = explain_cohort(bundle.model, X, preds, asked=[student] if student else [],
                       settings=settings, approved_sensitive=approved, sensitive=sens,
                       group_columns=groups, full=full, cache=cache,
                       monotone=(meta.get("monotone") or {}).get("features", {}),
                       category_maps=meta.get("category_maps") or {}, task=bundle.task)
    sample = e.contributions.subset(e.selection.sample)
    plots = Artifact.EXPLAIN_PLOTS
    figs = {Artifact.plot(plots, "beeswarm"): beeswarm(
                sample, X, max_rows=settings.beeswarm_max_rows, seed=settings.seed),
            Artifact.plot(plots, "families"): family_bars(e.global_)}
    for f in e.global_.ranking[:settings.dependence_plots]:
        figs[Artifact.plot(plots, f"dependence_{f}")] = dependence(sample, X, f,
                                                                   seed=settings.seed)
    for attr in e.global_.per_group:
        figs[Artifact.plot(plots, f"groups_{attr}")] = group_bars(e.global_, attr)
    global_ = e.to_dict()
    if bundle.tags.get(Tag.TRUTH):
        # simulated data with a known truth: do the stated directions agree with it?
        from cin_ml.explain import truth_agreement
        from cin_ml.simulator import true_feature_signs

        global_["reasons"]["truth"] = truth_agreement(
            e.students, true_feature_signs(bundle.task, bundle.features))
    files: dict = {Artifact.EXPLAIN_GLOBAL: global_,
                   Artifact.EXPLAIN_STUDENTS: e.students_dict(),
                   Artifact.EXPLAIN_CONTRIBUTIONS: e.contributions.frame(), **figs}
    summary = {"run_id": run_id, "task": bundle.task, **e.selection.to_dict(),
               "timings_s": e.to_dict()["timings_s"],
               "top_features": [list(x[:3]) for x in e.global_.per_feature[:8]],
               "top_families": [list(x) for x in e.global_.per_family[:5]],
               "stability": (e.global_.stability.to_dict() if e.global_.stability else None),
               "additivity_max_error": global_["additivity_max_error"],
               "examples": _flagged_examples(preds),
               "reasons_check": global_["reasons"]["check"],
               "reasons_truth": global_["reasons"].get("truth")}
    if student:
        st = e.student(student)
        html = render_sheet(st, lang=lang, task=bundle.task,
                            contact=getattr(sheet_cfg, f"contact_{lang}"),
                            model_ref=_model_ref(bundle.task, run_id, lang),
                            id_kind="synthetic" if bundle.data_form == "virtual" else "pseudonym",
                            materiality_points=settings.materiality_points)
        files[Artifact.explain_sheet(student, lang)] = html
        local = Path(out) / run_id / f"{student}.{lang}.html"
        local.parent.mkdir(parents=True, exist_ok=True)
        tmp = local.with_suffix(".tmp")
        tmp.write_text(html, encoding="utf-8")
        tmp.replace(local)
        write_json_atomic(local.with_suffix(".json"), st.to_dict())
        summary.update(student=student, sheet=str(local), flagged=st.flagged, score=st.score,
                       reasons=st.sentences(lang),
                       protective=[r.text(lang) for r in st.protective])
    progress(f"logging {len(files)} explain artifacts to run {run_id}")
    try:
        summary["artifacts"] = bundle.log_artifacts(files)
    finally:
        for f in figs.values():
            plt.close(f)
    return summary


def _flagged_examples(preds, n: int = 3) -> list[str]:
    """Ids of the ``n`` highest-scored flagged test students: where ``--student`` ids come
    from (the run's ``evaluation/test_predictions.parquet`` holds them all)."""
    flagged = preds.loc[preds["flagged"].astype(bool)] if "flagged" in preds else preds
    return flagged.sort_values("score", ascending=False)["student_id"].astype(str).head(n).tolist()
