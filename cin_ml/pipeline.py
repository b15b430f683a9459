"""Composes the boxes of the data flow (DESIGN.md section 2); the only module that does.

Each ``run_*`` function reads its inputs, calls the pure steps, writes outputs atomically and
returns a small JSON-safe summary for the CLI (which prints it) or a notebook.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

Progress = Callable[[str], None]


def _quiet(message: str) -> None:
    """Default progress callback: say nothing."""


# ----------------------------------------------------------------------------- simulate
def run_simulate(out: Path | str = "data/source", truth_out: Path | str | None = None, *,
                 css: int | None = None, students: int | None = None, seed: int | None = None,
                 extract_year: int | None = None, disparity: str | None = None,
                 missingness: float | None = None, config: Path | str | None = None,
                 progress: Progress = _quiet) -> dict:
    """Simulate a source extract and its ground truth; returns a summary for display.

    Config values come from ``configs/simulate.toml`` (or ``config``), overridden by the
    keyword arguments that are not None. The truth goes to ``truth_out`` (default
    ``<out>_truth``), apart from the extract.
    """
    from cin_ml.virtual_css import Disparity, simulate_to_disk
    from cin_ml.virtual_css._sim_config import load_simulation_config

    cfg = load_simulation_config(
        config, n_css=css, n_students=students, seed=seed, extract_year=extract_year,
        missingness=missingness,
        disparity=Disparity.parse(disparity).model_dump() if disparity else None)
    out = Path(out)
    truth_out = Path(truth_out) if truth_out is not None else out.with_name(out.name + "_truth")
    if out.resolve() == truth_out.resolve() or truth_out.resolve().is_relative_to(out.resolve()):
        from cin_ml.errors import ConfigError

        raise ConfigError(f"--truth-out {truth_out} must be outside the extract folder {out}")
    progress(f"simulating {cfg.n_students:,} students in {cfg.n_css} CSS (seed {cfg.seed})")
    summary = simulate_to_disk(cfg, out, truth_out, progress=progress)
    return {**summary, "out": str(out), "truth_out": str(truth_out)}
# ----------------------------------------------------------------------------- virtual-css
def _outside(path: Path, *folders: Path) -> bool:
    p = path.resolve()
    return all(p != f.resolve() and not p.is_relative_to(f.resolve()) for f in folders)


def _deidentify_step(source: Path, outs: list[Path], key_file, demo_key: bool, config,
                     progress: Progress):
    """Read ``source`` and return ``(key, Deidentified)``; refuses a key inside an output."""
    from cin_ml.errors import PolicyError
    from cin_ml.extract import read_extract
    from cin_ml.virtual_css import DeidentifyConfig, deidentify, resolve_pseudonym_key
    from cin_ml.virtual_css._deidentify import REQUIRED_TABLES

    cfg = DeidentifyConfig.load(config)
    if key_file is not None and not _outside(Path(key_file), *outs):
        raise PolicyError(f"key file {key_file} lies inside an output folder; keep the key "
                          "outside everything that is shared")
    key = resolve_pseudonym_key(key_file, demo=demo_key, min_bytes=cfg.min_key_bytes)
    if key.demo:
        progress("WARNING: using the PUBLIC demo pseudonymization key: pseudonyms are not "
                 "secret. Simulated data only, never a real extract.")
    tables = read_extract(source, required=REQUIRED_TABLES)
    return key, deidentify(tables, key, cfg, progress=progress)


def run_deidentify(source: Path | str = "data/source", out: Path | str = "data/deidentified",
                   *, truth: Path | str | None = None, truth_out: Path | str | None = None,
                   key_file: Path | str | None = None, demo_key: bool = False,
                   config: Path | str | None = None, progress: Progress = _quiet) -> dict:
    """De-identify a source extract folder into ``out`` (deidentified form, atomic).

    With ``truth`` (a simulation's ground-truth folder), the truth is re-keyed with the same
    pseudonyms and written apart to ``truth_out`` (default ``<out>_truth``), for evaluation
    only. The key comes from ``key_file``, ``$CIN_ML_PSEUDONYM_KEY`` or, with ``demo_key``,
    the public demo key.
    """
    from cin_ml.errors import ConfigError
    from cin_ml.extract import write_extract

    source, out = Path(source), Path(out)
    if not _outside(out, source) or not _outside(source, out):
        raise ConfigError(f"--out {out} must be apart from the source folder {source}")
    truth_dir = None
    if truth is not None:
        truth_dir = Path(truth_out) if truth_out else out.with_name(out.name + "_truth")
        if not _outside(truth_dir, out):
            raise ConfigError(f"--truth-out {truth_dir} must be outside the extract {out}")
    outs = [out] + ([truth_dir] if truth_dir else [])
    key, d = _deidentify_step(source, outs, key_file, demo_key, config, progress)
    truth_rec = None
    if truth is not None:
        from cin_ml.virtual_css import read_truth

        truth_rec = read_truth(truth)  # read before writing anything: fail with no output
    write_extract(d.tables, out, extra_files={"deidentification.json": d.report.to_dict()})
    from cin_ml.virtual_css._agreements import carry_agreements  # access: not student data

    carry_agreements(source, out)
    summary = {"out": str(out), "report": d.report.to_dict(),
               "rows": {k: len(v) for k, v in d.tables.items()}}
    if truth_rec is not None:
        from cin_ml.virtual_css._deidentify import write_pseudonymized_truth

        write_pseudonymized_truth(truth_rec, key, truth_dir, d.tables["students"]["student_id"])
        summary["truth_out"] = str(truth_dir)
    progress(f"de-identified extract written to {out}")
    return summary


def run_virtualize(source: Path | str = "data/source", out: Path | str = "data/virtual", *,
                   model_out: Path | str | None = None, report_out: Path | str | None = None,
                   key_file: Path | str | None = None, demo_key: bool = False,
                   seed: int = 0, students: int | None = None, config: Path | str | None = None,
                   track: bool = True, tracking_uri: str | None = None,
                   progress: Progress = _quiet) -> dict:
    """De-identify (if needed), synthesize and evaluate: a virtual CSS in ``out``.

    ``source`` may be a source extract (de-identified first, in memory: a key is needed) or
    an already de-identified one. A share of the students is held out from the synthesizer
    to judge privacy and utility. Writes the virtual tables (``out``), the fitted synthesizer
    (``model_out``, default ``<out>_model``) and the report JSON + HTML (``report_out``,
    default ``reports/virtual_css/<out name>``), then logs the report to the MLflow
    experiment ``virtual-css``. Nothing is written unless every step succeeded.
    """
    import tempfile

    from cin_ml.errors import ConfigError
    from cin_ml.extract import atomic_dir, read_extract, write_extract, write_json_atomic
    from cin_ml.schema import direct_identifier_columns
    from cin_ml.virtual_css import (
        EvaluationConfig,
        SynthesisConfig,
        evaluate_virtual_css,
        render_report_html,
        synthesize,
    )
    from cin_ml.virtual_css._evaluate import split_students
    from cin_ml.virtual_css._report import report_figures

    source, out = Path(source), Path(out)
    model_out = Path(model_out) if model_out else out.with_name(out.name + "_model")
    report_out = Path(report_out) if report_out else Path("reports/virtual_css") / out.name
    for o in (out, model_out, report_out):
        if not _outside(o, source) or not _outside(source, o):
            raise ConfigError(f"output {o} must be apart from the source folder {source}")
    syn_cfg, ev_cfg = SynthesisConfig.load(config), EvaluationConfig.load(config)
    probe = read_extract(source, tables=["students"], required=["students"])["students"]
    dropped = [c for c in direct_identifier_columns()["students"]
               if c in probe.columns and c != "student_id"]
    deid_report = None
    if dropped:
        progress("source extract: de-identifying first")
        _, d = _deidentify_step(source, [out, model_out, report_out], key_file, demo_key,
                                config, progress)
        tables, deid_report = d.tables, d.report.to_dict()
    else:
        from cin_ml.schema import validate_extract
        from cin_ml.virtual_css._deidentify import REQUIRED_TABLES

        tables = validate_extract(read_extract(source, required=REQUIRED_TABLES),
                                  required=REQUIRED_TABLES, form="deidentified")
    train, holdout = split_students(tables, ev_cfg.holdout_share, seed)
    progress(f"holding out {len(holdout['students']):,} source students for evaluation")
    virt = synthesize(train, syn_cfg, seed=seed, n_students=students, progress=progress)
    report = evaluate_virtual_css(train, holdout, virt.tables, ev_cfg, seed=seed,
                                  synthesized=(virt.source_students, virt.virtual_students),
                                  progress=progress, source_table=virt.source_table)
    full = {**report.to_dict(), "synthesis": virt.to_dict(), "deidentification": deid_report}
    figs = report_figures(report, virt.source_students, virt.virtual_students)
    page = render_report_html(report, figs, title=f"Virtual CSS report: {out.name}")
    with tempfile.TemporaryDirectory(prefix=".cin-model-") as tmp:
        virt.save_model(tmp)
        with atomic_dir(model_out) as mtmp, atomic_dir(report_out) as rtmp:
            for f in Path(tmp).iterdir():
                (mtmp / f.name).write_bytes(f.read_bytes())
            write_json_atomic(rtmp / "report.json", full)
            (rtmp / "report.html").write_text(page, encoding="utf-8")
    # the marker records where the report is (absolute) and, once logged, its MLflow run, so
    # a card finds the report wherever the virtual CSS and the report were written
    marker = {"synthesis": virt.to_dict(), "digests": report.digests, "passed": report.passed,
              "report": str((report_out / "report.json").resolve()), "run_id": None}
    write_extract(virt.tables, out, extra_files={"virtual_css.json": marker})
    from cin_ml.virtual_css._agreements import carry_agreements  # access: not student data

    carry_agreements(source, out)
    run_id = None
    if track:
        from cin_ml.tracking import log_virtual_css_report

        run_id = log_virtual_css_report(
            full, {"report.json": full, "report.html": page}, report.digests,
            tags={"cin.data_form": "virtual", "cin.data_dir": str(out),
                  "cin.source_dir": str(source), "cin.seed": str(seed)},
            store=tracking_uri)
        write_json_atomic(out / "virtual_css.json", {**marker, "run_id": run_id})
    progress(f"virtual CSS written to {out}; report in {report_out}")
    return {"out": str(out), "model_out": str(model_out), "report_out": str(report_out),
            "run_id": run_id, "report": full}


# ----------------------------------------------------------------------------- models
_TRAIN_TABLES = ("students", "enrolments", "marks", "absences", "intervention_plans",
                 "schools", "ministry_exams", "outcomes")


def _require_deidentified(tables: dict, data: Path) -> None:
    """Refuse a source extract: tracked runs only see de-identified data."""
    from cin_ml.errors import PolicyError
    from cin_ml.schema import TABLES, Role

    leaked = [f"{t}.{c.name}" for t, df in tables.items() if t in TABLES
              for c in TABLES[t].columns
              if c.role == Role.DIRECT_IDENTIFIER and not c.pseudonymize and c.name in df]
    if leaked:
        raise PolicyError(f"{data} is a source extract (direct identifier column(s) "
                          f"{', '.join(leaked[:4])}{'…' if len(leaked) > 4 else ''}); tracked "
                          f"runs need the de-identified form: run `cin-ml deidentify` first")


def run_harmonize(data: Path | str, out: Path | str | None = None, *,
                  config: Path | str | None = None, truth: Path | str | None = None,
                  progress: Progress = _quiet) -> dict:
    """Harmonize the absence reasons of an extract and write the per-CSS report.

    Writes ``<out>/harmonization.json`` (summary, and coverage against ``truth`` when given)
    and ``<out>/unmapped.csv`` (unmapped and ambiguous strings per CSS), atomically.
    """
    from cin_ml.extract import atomic_dir, read_extract, write_json_atomic
    from cin_ml.virtual_css import (
        harmonize_absences,
        load_harmonize_settings,
        read_truth,
        score_harmonization,
    )

    data = Path(data)
    out = Path(out) if out is not None else data.parent / f"{data.name}_harmonization"
    tables = read_extract(data, ("students", "absences"), required=("students", "absences"))
    settings = load_harmonize_settings(config)
    progress(f"harmonizing {len(tables['absences']):,} absence records")
    h = harmonize_absences(tables["absences"], tables["students"], settings)
    summary = h.summary()
    if truth is not None:
        summary["against_truth"] = score_harmonization(h, read_truth(truth).absence_reasons)
    with atomic_dir(out) as tmp:
        write_json_atomic(tmp / "harmonization.json", summary)
        h.report().to_csv(tmp / "unmapped.csv", index=False)
        h.mapping.to_csv(tmp / "mapping.csv", index=False)
    return {"out": str(out), **summary}


def run_train(data: Path | str, task: str, truth: Path | str | None = None, *,
              features_config: Path | str | None = None,
              models_config: Path | str | None = None,
              tracking_uri: str | None = None, data_form: str | None = None,
              agreements: Path | str | None = None,
              progress: Progress = _quiet) -> dict:
    """Build features, train, evaluate and log one task's model to MLflow.

    ``data`` must be a de-identified (or virtual) extract; ``truth`` an optional ground-truth
    folder keyed with the same pseudonyms (then ``oracle_auc`` is logged on the same test
    students). The run is marked FAILED if any step raises. Every CSS of ``data`` must have
    a valid data-use agreement for each dataset read (``check_training_consent``; the
    agreements relied on are logged as ``consent/scope.json``).
    """
    from cin_ml import tracking
    from cin_ml.extract import read_extract
    from cin_ml.features import build_features, get_task, load_feature_settings
    from cin_ml.models import evaluation_figures, load_model_settings, train_model

    data = Path(data)
    get_task(task)
    fset = load_feature_settings(features_config)
    mset = load_model_settings(models_config)
    tables = read_extract(data, _TRAIN_TABLES, required=_TRAIN_TABLES)
    _require_deidentified(tables, data)
    consent = check_training_consent(tables, data, agreements)
    # virtual CSS folders carry virtual_css.json (synthesize); anything else that passed the
    # identifier check is treated as de-identified
    form = data_form or ("virtual" if (data / "virtual_css.json").is_file() else "deidentified")
    p_true = None
    if truth is not None:
        from cin_ml.virtual_css import read_truth

        ts = read_truth(truth).students
        p_true = ts.set_index("student_id")[f"p_{task}"]
    store = tracking.resolve_store(tracking_uri)
    tags = {"cin.data_form": form, "cin.data_dir": str(data.resolve()),
            "cin.truth": str(Path(truth).resolve()) if truth is not None else "",
            "cin.consent.agreements": ",".join(consent["agreement_ids"])}
    with tracking.training_run(task, tags, store=store) as run_id:
        progress(f"run {run_id}: building features for {task}")
        frame = build_features(tables, task, fset)
        progress(f"{frame.X.shape[1]} features for {len(frame.X):,} students; training")
        result = train_model(frame, mset, p_true=p_true)
        pop = frame.population
        lab = frame.X.assign(label=pop["label"].astype("float64"),
                             cohort_year=pop["cohort_year"].astype("float64"))
        datasets = {"train": lab.loc[pop["cohort_year"].isin(result.split.train)
                                     & pop["label"].notna()],
                    "test": lab.loc[lab.index.isin(result.test["student_id"])]}
        progress("logging to MLflow")
        logged = tracking.log_training(
            run_id, result, data_dir=str(data.resolve()), data_form=form, datasets=datasets,
            figures=evaluation_figures(result.test, mset.calibration.n_bins),
            extra_files={"features/harmonization.json": frame.harmonization,
                         "features/feature_frame.json": frame.to_dict(),
                         "consent/scope.json": consent},
            store=store)
    m = result.metrics
    return {"run_id": run_id, "task": task, "model_uri": logged["model_uri"],
            "experiment": tracking.experiment_name(task), "tracking_uri": store.tracking_uri,
            "n_features": len(result.features), "split": result.split.to_dict(),
            "calibration": result.calibration["method"], "threshold": result.threshold,
            "metrics": {k: m.get(k) for k in ("test_auc", "oracle_auc", "auc_gap_to_oracle",
                                              "indicator_auc", "logistic_auc", "test_brier",
                                              "n_train", "n_test")},
            "at_threshold": m["at_threshold"],
            "ci": {k: m["bootstrap"]["intervals"][k] for k in ("model_auc",)},
            "agreements": list(consent["agreement_ids"])}


# ----------------------------------------------------------------------------- fairness
def run_audit(run_id: str, policy_path: Path | str | None = None, *,
              n_boot: int | None = None, progress: Progress = _quiet,
              policy=None) -> dict:
    """Audit a training run's test predictions for fairness and log the results to the run.

    Logs ``fairness/audit.json`` (published form: small cells suppressed),
    ``fairness/mitigation.json`` (post-processing experiment) and plots under
    ``fairness/plots/``. The audit is at the run's own operating threshold. ``policy`` (a
    :class:`~cin_ml.fairness.FairnessPolicy`) replaces the file, e.g. for a dataset spec's
    own audit attributes.
    """
    from cin_ml.errors import DataError, PolicyError
    from cin_ml.fairness import (
        audit,
        load_policy,
        mitigation_experiment,
        plot_disparities,
        plot_group_rates,
        plot_tradeoff,
    )
    from cin_ml.tracking import load_run_bundle, log_artifacts

    policy = policy if policy is not None else load_policy(policy_path)
    progress(f"loading run {run_id}")
    bundle = load_run_bundle(run_id)
    form = bundle.tags.get("cin.data_form")
    if form not in ("virtual", "deidentified"):
        raise PolicyError(f"run {run_id} was trained on data_form={form!r}: audits are "
                          "published only for virtual or de-identified data "
                          "(run cin-ml deidentify first)")
    preds = bundle.test_predictions
    missing = [c for c in ("y_true", "score", *policy.attributes) if c not in preds.columns]
    if missing:
        raise DataError(f"run {run_id}: evaluation/test_predictions.parquet lacks column(s) "
                        f"{missing} needed by the fairness policy")
    threshold = bundle.threshold
    if "flagged" in preds.columns:
        off = int(((preds["score"] >= threshold).astype(int)
                   != preds["flagged"].astype(int)).sum())
        if off:
            raise DataError(f"run {run_id}: 'flagged' disagrees with score >= threshold "
                            f"({threshold:g}) for {off} students")
    p_true = preds["p_true"] if "p_true" in preds.columns and preds["p_true"].notna().all() \
        else None
    progress(f"auditing {len(preds):,} test students on {len(policy.groupings)} breakdowns")
    result = audit(preds["y_true"], preds["score"], threshold, preds[list(policy.attributes)],
                   policy, n_boot=n_boot, p_true=p_true)
    attr = policy.mitigation_attribute or _worst_attribute(result, policy.primary_metric)
    progress(f"mitigation experiment on {attr}")
    mit = mitigation_experiment(preds["y_true"], preds["score"], threshold, preds[attr], policy)
    primary = policy.primary_metric
    figs = {f"fairness/plots/disparities_{primary}.png": plot_disparities(result, primary),
            "fairness/plots/mitigation_tradeoff.png": plot_tradeoff(mit)}
    inter = [b.name for b in result.breakdowns if len(b.attributes) > 1]
    if inter:
        figs[f"fairness/plots/disparities_{primary}_intersections.png"] = plot_disparities(
            result, primary, breakdowns=inter)
    for a in policy.attributes:
        figs[f"fairness/plots/rates_{a}.png"] = plot_group_rates(result, a)
    files = {"fairness/audit.json": result.to_dict(),
             "fairness/mitigation.json": mit.to_dict(), **figs}
    progress(f"logging {len(files)} fairness artifacts to run {run_id}")
    logged = log_artifacts(run_id, files)
    return {"run_id": run_id, "task": bundle.task, "n": result.n, "threshold": threshold,
            "n_boot": result.n_boot, "worst_verdict": result.worst_verdict,
            "verdicts": result.verdict_table,
            "fnr_ceiling_flags": [f.to_dict() for f in result.fnr_flags],
            "mitigation": mit.to_dict(), "artifacts": logged}


def _worst_attribute(result, metric: str) -> str:
    """Single attribute with the largest published |difference| on ``metric``."""
    best, worst = -1.0, None
    for b in result.breakdowns:
        if len(b.attributes) != 1:
            continue
        for g in b.groups:
            d = g.difference[metric].value
            if g.suppressed is None and d == d and abs(d) > best:
                best, worst = abs(d), b.attributes[0]
    return worst or result.breakdowns[0].attributes[0]


# ----------------------------------------------------------------------------- explain
def _policy_sensitive(policy: dict) -> tuple[list[str], list[str]]:
    """(sensitive features, approved ones) from a run's ``policy/feature_policy.json``."""
    sens = [d["feature"] for d in policy.get("decisions", ()) if d.get("role") == "sensitive"]
    ok = [d["feature"] for d in policy.get("decisions", ())
          if d.get("role") == "sensitive" and d.get("included") and d.get("justification")]
    return sens, ok


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

    from cin_ml.errors import ConfigError, PolicyError, TrackingError
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
    from cin_ml.tracking import load_artifact, load_run_bundle, log_artifacts

    if lang not in ("fr", "en"):
        raise ConfigError(f"[explain] --lang must be fr or en; got '{lang}'")
    settings, sheet_cfg = load_explain_settings(config)
    progress(f"loading run {run_id}")
    bundle = load_run_bundle(run_id)
    form = bundle.tags.get("cin.data_form")
    if form not in ("virtual", "deidentified"):
        raise PolicyError(f"run {run_id} was trained on data_form={form!r}: explanations are "
                          "written only for virtual or de-identified data "
                          "(run cin-ml deidentify first)")
    X = bundle.test_features.set_index("student_id")[bundle.features]
    preds = bundle.test_predictions
    cache = None
    try:
        cached = load_artifact(run_id, "explain/contributions.parquet")
        meta = load_artifact(run_id, "explain/global.json")
    except TrackingError:
        cached = None
    if cached is not None and list(cached.columns[1:-2]) == bundle.features:
        from cin_ml.explain import ExplainerInfo

        cache = contributions_from_frame(cached, ExplainerInfo(**meta["explainer"]))
        progress(f"reusing {len(cache):,} cached contributions")
    sens, approved = _policy_sensitive(bundle.feature_policy)
    groups = [c for c in AUDIT_ATTRIBUTES if c in preds.columns]
    progress(f"explaining {len(X):,} test students ({'all' if full else 'where needed'})")
    e = explain_cohort(bundle.model, X, preds, asked=[student] if student else [],
                       settings=settings, approved_sensitive=approved, sensitive=sens,
                       group_columns=groups, full=full, cache=cache)
    sample = e.contributions.subset(e.selection.sample)
    figs = {"explain/plots/beeswarm.png": beeswarm(sample, X, max_rows=settings.beeswarm_max_rows,
                                                   seed=settings.seed),
            "explain/plots/families.png": family_bars(e.global_)}
    for f in e.global_.ranking[:settings.dependence_plots]:
        figs[f"explain/plots/dependence_{f}.png"] = dependence(sample, X, f, seed=settings.seed)
    for attr in e.global_.per_group:
        figs[f"explain/plots/groups_{attr}.png"] = group_bars(e.global_, attr)
    files: dict = {"explain/global.json": e.to_dict(),
                   "explain/students.json": e.students_dict(),
                   "explain/contributions.parquet": e.contributions.frame(), **figs}
    summary = {"run_id": run_id, "task": bundle.task, **e.selection.to_dict(),
               "timings_s": e.to_dict()["timings_s"],
               "top_features": [list(x[:3]) for x in e.global_.per_feature[:8]],
               "top_families": [list(x) for x in e.global_.per_family[:5]],
               "stability": (e.global_.stability.to_dict() if e.global_.stability else None),
               "additivity_max_error": e.contributions.max_additivity_error}
    if student:
        st = e.student(student)
        html = render_sheet(st, lang=lang, task=bundle.task,
                            contact=getattr(sheet_cfg, f"contact_{lang}"),
                            model_ref=f"{bundle.task} · run {run_id}")
        name = f"explain/sheets/{student}.{lang}.html"
        files[name] = html
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
        summary["artifacts"] = log_artifacts(run_id, files)
    finally:
        for f in figs.values():
            plt.close(f)
    return summary


# ----------------------------------------------------------------------------- cards
def _virtual_report(tags: dict, explicit: Path | str | None) -> tuple[dict | None, str | None,
                                                                      dict]:
    """(report, why none, dataset digests) for a run trained on a virtual CSS.

    The report is ``explicit``, else the one recorded in the data folder's marker
    (``virtual_css.json``: ``report``, an absolute path written by ``cin-ml virtualize``),
    else ``reports/virtual_css/<data folder name>/report.json`` (the default location); it is
    used only if its ``virtual`` digest equals the one recorded in the marker.
    """
    import json

    data_dir = Path(tags.get("cin.data_dir", ""))
    info: dict = {}
    marker = data_dir / "virtual_css.json"
    if marker.is_file():
        info = json.loads(marker.read_text(encoding="utf-8"))
    digests: dict = info.get("digests", {})
    if tags.get("cin.data_form") != "virtual":
        return None, None, digests
    default = Path("reports/virtual_css") / data_dir.name / "report.json"
    if explicit:
        tried = [Path(explicit)]
    else:
        tried = [Path(info["report"])] if info.get("report") else []
        tried += [default] if default not in tried else []
    path = next((p for p in tried if p.is_file()), None)
    if path is None:
        return None, f"{' / '.join(map(str, tried))} not found", digests
    report = json.loads(path.read_text(encoding="utf-8"))
    want, got = digests.get("virtual"), (report.get("digests") or {}).get("virtual")
    if not want or want != got:
        return None, (f"{path} describes another dataset (digest {str(got)[:12]}, training "
                      f"data {str(want)[:12]})"), digests
    return report, None, digests


def run_card(run_id: str, lang: str = "fr", out: Path | str = "reports/cards", *,
             sections: Path | str | None = None, ready: bool = False,
             virtual_report: Path | str | None = None, tracking_uri: str | None = None,
             log: bool = True, progress: Progress = _quiet) -> dict:
    """Build, render and log the model card of a training run.

    Reads the run's evidence (metrics, feature policy, and ``fairness/audit.json`` and
    ``explain/global.json`` when those steps have run), the human sections
    (``configs/cards/<task>.toml`` or ``sections``) and, for a virtual CSS, its evaluation
    report. Writes ``<out>/<run_id>/card.{json,sha256,fr.md,en.md,fr.html,en.html}``
    atomically and logs the same files under ``card/`` in the run. With ``ready``, refuses
    (:class:`~cin_ml.cards.IncompleteCardError`) while a section or evidence is missing.
    """
    from cin_ml import tracking
    from cin_ml.cards import LANGS, CardEvidence, build_card, load_sections, render_card
    from cin_ml.errors import ConfigError, PolicyError, TrackingError
    from cin_ml.extract import atomic_dir

    if lang not in LANGS:
        raise ConfigError(f"[cards] --lang must be one of {', '.join(LANGS)}; got '{lang}'")
    store = tracking.resolve_store(tracking_uri)
    progress(f"loading run {run_id}")
    bundle = tracking.load_run_bundle(run_id, store)
    if bundle.tags.get("cin.data_form") not in ("virtual", "deidentified"):
        raise PolicyError(f"run {run_id} was trained on data_form="
                          f"{bundle.tags.get('cin.data_form')!r}: cards are written only for "
                          "virtual or de-identified data")
    sec = load_sections(bundle.task, sections)

    def optional(path: str):
        try:
            return tracking.load_artifact(run_id, path, store)
        except TrackingError:
            return None

    report, problem, digests = _virtual_report(bundle.tags, virtual_report)
    evidence = CardEvidence(
        run={"run_id": bundle.run_id, "task": bundle.task, "experiment_id": bundle.experiment_id,
             "status": bundle.status, "tags": bundle.tags, "model_uri": bundle.model_uri,
             "consent": optional("consent/scope.json")},
        model_meta=bundle.model_meta, evaluation=bundle.evaluation,
        feature_policy=bundle.feature_policy, fairness=optional("fairness/audit.json"),
        mitigation=optional("fairness/mitigation.json"), explain=optional("explain/global.json"),
        virtual_css=report, virtual_css_problem=problem, dataset_digests=digests)
    progress("building the card")
    card = build_card(evidence, sec, ready_for_review=ready)
    rendering = render_card(card)
    local = Path(out) / run_id
    with atomic_dir(local) as tmp:
        for name, text in rendering.files.items():
            (tmp / Path(name).name).write_text(text, encoding="utf-8")
    if log:
        progress(f"logging {len(rendering.files)} card files to run {run_id}")
        tracking.log_artifacts(run_id, rendering.files, store)
    return {"run_id": run_id, "task": bundle.task, "status": card.status,
            "sha256": rendering.sha256, "gaps": [g.message.get(lang) for g in card.gaps],
            "html": str(local / f"card.{lang}.html"), "markdown": str(local / f"card.{lang}.md"),
            "json": str(local / "card.json"), "logged": sorted(rendering.files) if log else [],
            "fairness": card.fairness.worst_verdict or card.fairness.status,
            "risks": [r.text.get(lang) for r in card.considerations.risks]}


# ----------------------------------------------------------------------------- governance
def _governance_ctx(config: Path | str | None = None, consent: Path | str | None = None,
                    tracking_uri: str | None = None, today=None):
    """The registry context: ``configs/governance.toml`` (or ``config``), the data-use
    agreements (``configs/consent.toml`` or ``consent``) and the store."""
    from cin_ml.consent import load_agreements
    from cin_ml.registry import load_governance_settings, make_ctx

    return make_ctx(load_governance_settings(config), load_agreements(consent),
                    tracking_uri, today)


def run_register(run_id: str, *, author: str | None = None, actor: str | None = None,
                 config: Path | str | None = None, tracking_uri: str | None = None,
                 progress: Progress = _quiet) -> dict:
    """Register a training run with a complete card as a pending model version."""
    from cin_ml.registry import register

    ctx = _governance_ctx(config, tracking_uri=tracking_uri)
    progress(f"reading the evidence of run {run_id}")
    return register(ctx, run_id, author=author, actor=actor)


def run_review(model: str, version: str, *, approve: bool, reviewer: str | None,
               comment: str = "", conditions: str = "", accept_fairness: tuple = (),
               expires: str | None = None, config: Path | str | None = None,
               tracking_uri: str | None = None, progress: Progress = _quiet) -> dict:
    """Record the ethics committee's decision (``expires`` as YYYY-MM-DD)."""
    import datetime as dt

    from cin_ml.errors import GovernanceError
    from cin_ml.registry import review

    try:
        until = dt.date.fromisoformat(expires) if expires else None
    except ValueError:
        raise GovernanceError(f"--expires must be YYYY-MM-DD; got {expires!r}") from None
    ctx = _governance_ctx(config, tracking_uri=tracking_uri)
    return review(ctx, model, version, reviewer=reviewer, approve=approve, comment=comment,
                  conditions=conditions, accept_fairness=accept_fairness, expires=until)


def run_promote(model: str, version: str, *, alias: str = "champion",
                operator: str | None = None, why: str = "",
                config: Path | str | None = None, consent: Path | str | None = None,
                tracking_uri: str | None = None, progress: Progress = _quiet) -> dict:
    """Move ``@alias`` to a version if every gate holds (GateError lists the failures)."""
    from cin_ml.registry import promote

    ctx = _governance_ctx(config, consent, tracking_uri)
    progress(f"checking the {alias} gates of {model} v{version}")
    return promote(ctx, model, version, alias=alias, operator=operator, why=why)


def run_rollback(model: str, *, operator: str | None = None, why: str = "",
                 config: Path | str | None = None, consent: Path | str | None = None,
                 tracking_uri: str | None = None, progress: Progress = _quiet) -> dict:
    """Move ``@champion`` back to the last earlier champion that still passes the gates."""
    from cin_ml.registry import rollback

    return rollback(_governance_ctx(config, consent, tracking_uri), model,
                    operator=operator, why=why)


def run_compare(model: str, *, config: Path | str | None = None,
                tracking_uri: str | None = None, progress: Progress = _quiet) -> dict:
    """@challenger against @champion on the same test students."""
    from cin_ml.registry import compare

    return compare(_governance_ctx(config, tracking_uri=tracking_uri), model).to_dict()


def run_governance_check(*, actor: str | None = None, on_date: str | None = None,
                         config: Path | str | None = None, consent: Path | str | None = None,
                         tracking_uri: str | None = None, progress: Progress = _quiet) -> dict:
    """Expire approvals, flag versions without valid consent, withdraw and restore aliases."""
    import datetime as dt

    from cin_ml.errors import GovernanceError
    from cin_ml.registry import check

    try:
        day = dt.date.fromisoformat(on_date) if on_date else None
    except ValueError:
        raise GovernanceError(f"--on must be YYYY-MM-DD; got {on_date!r}") from None
    return check(_governance_ctx(config, consent, tracking_uri, day), actor=actor).to_dict()


def run_history(model: str | None = None, *, verify: bool = False,
                config: Path | str | None = None, tracking_uri: str | None = None,
                progress: Progress = _quiet) -> dict:
    """The governance history (``model``'s events only when given) and, with ``verify``,
    the chain check."""
    from cin_ml import registry

    ctx = _governance_ctx(config, tracking_uri=tracking_uri)
    out: dict = {"events": [e.to_dict() for e in registry.history(ctx, model)]}
    if verify:
        out["verify"] = registry.verify(ctx).to_dict()
    return out


# ----------------------------------------------------------------------------- access
def _use_purpose(config: Path | str | None = None) -> str:
    """The purpose uses must be covered for: ``[serving] purpose`` of access.toml, else
    ``[governance] purpose`` of governance.toml."""
    from cin_ml.access import load_access_settings
    from cin_ml.config import config_path, read_toml

    purpose = load_access_settings(config).serving.purpose
    if purpose:
        return purpose
    gov = config_path("governance")
    return (read_toml(gov).get("governance", {}).get("purpose") if gov.is_file() else None) \
        or "student_success_prediction"


def _agreements_for(data: Path, agreements: Path | str | None):
    """(registry, source) of the agreements covering ``data``: ``agreements`` (a consent
    TOML, an agreements Parquet table or a folder holding one), else the
    ``agreements.parquet`` written next to the extract, else ``configs/consent.toml``."""
    import pandas as pd

    from cin_ml.consent import agreements_from_frame, load_agreements
    from cin_ml.errors import ConfigError
    from cin_ml.virtual_css._agreements import AGREEMENTS_FILE, read_agreements

    if agreements is not None:
        p = Path(agreements)
        if p.is_dir():
            reg = read_agreements(p)
            if reg is None:
                raise ConfigError(f"--agreements {p}: no {AGREEMENTS_FILE} in this folder")
            return reg, str(p / AGREEMENTS_FILE)
        if p.suffix == ".parquet" and p.is_file():
            return agreements_from_frame(pd.read_parquet(p)), str(p)
        return load_agreements(p), str(p)
    reg = read_agreements(data)
    if reg is not None:
        return reg, str(data / AGREEMENTS_FILE)
    from cin_ml.config import config_path

    return load_agreements(), str(config_path("consent"))


def _css_ids(tables: dict, data: Path) -> list[str]:
    from cin_ml.errors import SchemaError

    st = tables.get("students")
    if st is None or "css_id" not in st.columns:
        raise SchemaError(f"{data}: students.css_id is needed to check data-use agreements")
    return sorted(st["css_id"].dropna().astype(str).unique())


def check_training_consent(tables: dict, data: Path | str,
                           agreements: Path | str | None = None,
                           on_date=None) -> dict:
    """Refuse training data from a CSS without a valid agreement for every dataset read.

    Returns the consent scope a training run records (``consent/scope.json``):
    ``css_ids``, ``datasets``, ``purpose``, ``on_date``, ``agreements`` (ids),
    ``agreement_records`` and ``source``.

    Raises
    ------
    ConsentError
        Naming each CSS and dataset without a valid agreement, and why.
    """
    from cin_ml.consent import check_consent
    from cin_ml.errors import ConsentError
    from cin_ml.schema import TABLES

    data = Path(data)
    registry, source = _agreements_for(data, agreements)
    datasets = sorted({TABLES[t].dataset for t in tables if t in TABLES})
    purpose = _use_purpose()
    chk = check_consent(registry, _css_ids(tables, data), datasets, purpose, on_date)
    if not chk.ok:
        raise ConsentError(f"training on {data} refused: {chk.describe()} "
                           f"(agreements: {source})")
    used = {a.id: a for a in registry.agreements}
    return {**chk.to_dict(), "source": source,
            "agreement_records": [used[i].to_dict() for i in chk.agreement_ids]}


def _restrict_to_css(tables: dict, css_ids) -> dict:
    """The tables of ``css_ids`` only (the others' data is never processed)."""
    keep = set(css_ids)
    st = tables["students"]
    st = st.loc[st["css_id"].astype(str).isin(keep)]
    ids = set(st["student_id"])
    out = {}
    for name, df in tables.items():
        if name == "students":
            out[name] = st
        elif "student_id" in df.columns:
            out[name] = df.loc[df["student_id"].isin(ids)]
        elif "css_id" in df.columns:
            out[name] = df.loc[df["css_id"].astype(str).isin(keep)]
        else:
            out[name] = df
    return out


def _model_datasets(features) -> list[str]:
    """Datasets a model's inputs come from (``academic`` always: population, marks)."""
    from cin_ml.features import feature_sources
    from cin_ml.schema import TABLES

    found = {"academic"}
    for f in features:
        found.update(TABLES[t].dataset for t, _ in feature_sources(f) if t in TABLES)
    return sorted(found)


_PREDICT_TABLES = ("css", "students", "enrolments", "marks", "absences", "intervention_plans",
                   "schools", "ministry_exams", "outcomes")


def run_predict(model: str, data: Path | str, role: str, scope: str, *,
                out: Path | str = "reports", agreements: Path | str | None = None,
                lang: str | None = None, config: Path | str | None = None,
                features_config: Path | str | None = None, tracking_uri: str | None = None,
                on_date=None, progress: Progress = _quiet) -> dict:
    """Score ``data`` with the registered model ``NAME@ALIAS`` for one role and scope.

    - ``school`` (scope: a school id): the school's students ranked by risk, with band,
      reasons and an explanation sheet each (``sheets/``), and the school's tables;
    - ``css`` (scope: a CSS id): aggregates by school and grade, no student row;
    - ``ministry`` (scope: ``network`` or a CSS id): aggregates by CSS over the CSS whose
      agreements cover the model's datasets for the purpose (the others' data is dropped
      before scoring); small cells suppressed with complementary suppression.

    Writes ``<out>/predict/<role>-<scope>/`` atomically: ``report.html``, ``risk.csv`` /
    ``.parquet``, ``results.csv`` / ``.parquet``, ``students.*`` (school), ``sheets/``
    (school) and ``manifest.json``. Aggregate outputs are scanned for identifiers and small
    cells before anything is written.
    """
    import dataclasses
    import json

    from cin_ml.access import (
        ROLES,
        css_report,
        explain_scored,
        identifier_values,
        load_access_settings,
        ministry_report,
        render_report,
        scan_frames,
        scan_text,
        school_report,
        score_cohort,
    )
    from cin_ml.consent import check_consent
    from cin_ml.errors import ConfigError, DataError, PolicyError
    from cin_ml.extract import atomic_dir, read_extract, write_json_atomic
    from cin_ml.features import load_feature_settings
    from cin_ml.tracking import load_run_bundle, resolve_served_model, resolve_store

    settings = load_access_settings(config)
    if role not in ROLES:
        raise ConfigError(f"--role {role!r}: expected one of {', '.join(ROLES)}")
    rs = settings.role(role)
    lang = lang or rs.lang
    if lang not in ("fr", "en"):
        raise ConfigError(f"--lang must be fr or en; got {lang!r}")
    if not scope or "/" in scope or scope.startswith("."):
        raise ConfigError(f"--scope {scope!r}: expected a school id, a CSS id or 'network'")
    data = Path(data)
    store = resolve_store(tracking_uri)
    served = resolve_served_model(model, store)
    if served.alias not in settings.serving.aliases:
        raise PolicyError(f"{served.ref}: only {', '.join(settings.serving.aliases)} may be "
                          f"scored for a role ([serving] aliases in access.toml)")
    if (settings.serving.refuse_invalid_consent
            and served.tags.get("cin.consent.state") == "invalid"):
        raise PolicyError(f"{served.ref} (v{served.version}) is flagged by the governance "
                          f"check: {served.tags.get('cin.consent.flag') or 'consent invalid'}")
    progress(f"{served.ref} is version {served.version} (run {served.run_id})")
    bundle = load_run_bundle(served.run_id, store)
    tables = read_extract(data, _PREDICT_TABLES, required=_PREDICT_TABLES[1:7])
    meta: dict = {"model": {**served.to_dict(), "task": bundle.task},
                  "data": str(data.resolve()), "role": role, "scope": scope}
    if role == "school":
        sch = tables["schools"].assign(school_id=tables["schools"]["school_id"].astype(str))
        if scope not in set(sch["school_id"]):
            raise DataError(f"school {scope!r} is not in {data}/schools.parquet")
        css_of = str(sch.set_index("school_id").loc[scope, "css_id"])
        tables = _restrict_to_css(tables, [css_of])
    elif role == "css":
        known = _css_ids(tables, data)
        if scope not in known:
            raise DataError(f"CSS {scope!r} is not in {data} (known: {', '.join(known[:8])})")
        tables = _restrict_to_css(tables, [scope])
    else:
        registry, source = _agreements_for(data, agreements)
        datasets = _model_datasets(bundle.features)
        purpose = _use_purpose(config)
        consenting, excluded, used = [], {}, []
        for css in _css_ids(tables, data):
            chk = check_consent(registry, [css], datasets, purpose, on_date)
            if chk.ok:
                consenting.append(css)
                used.extend(chk.agreement_ids)
            else:
                excluded[css] = "; ".join(f"{g.dataset}: {g.detail}" for g in chk.missing)
        meta["consent"] = {"purpose": purpose, "datasets": datasets, "source": source,
                           "agreements": sorted(used), "excluded": excluded}
        progress(f"{len(consenting)} CSS with valid agreements, {len(excluded)} excluded")
        if scope != "network" and scope not in consenting:
            why = excluded.get(scope, "not in the extract")
            raise PolicyError(f"ministry scope {scope!r}: no valid data-use agreement covers "
                              f"{', '.join(datasets)} for {purpose!r} ({why})")
        if not consenting:
            raise PolicyError("ministry report: no CSS in the extract has a valid data-use "
                              "agreement for this use; nothing may be published")
        tables = _restrict_to_css(tables, consenting)
    progress(f"scoring {len(tables['students']):,} students' extract with {served.ref}")
    cohort = score_cohort(bundle, tables, settings.bands, load_feature_settings(features_config))
    meta["cohort"] = cohort.to_dict()
    ref = f"{served.ref} (v{served.version})"
    sheets: dict[str, str] = {}
    if role == "school":
        from cin_ml.explain import load_explain_settings, render_sheet

        es, sheet_cfg = load_explain_settings()
        ids = list(cohort.frame.index[cohort.frame["school_id"] == scope])
        progress(f"explaining {len(ids)} students of school {scope}")
        exps = explain_scored(bundle, cohort, ids, top_k=rs.top_reasons, explain_settings=es)
        report = school_report(cohort, tables, scope, settings.bands, explanations=exps,
                               lang=lang, min_cell_size=rs.min_cell_size)
        contact = getattr(sheet_cfg, f"contact_{lang}")
        sheets = {s: render_sheet(e, lang=lang, task=bundle.task, contact=contact,
                                  model_ref=ref) for s, e in exps.items()}
        report = dataclasses.replace(report, sheets=sheets)
    elif role == "css":
        report = css_report(cohort, tables, scope, settings.bands,
                            min_cell_size=rs.min_cell_size)
    else:
        report = ministry_report(cohort, tables, consenting, excluded, settings.bands,
                                 scope=scope, min_cell_size=rs.min_cell_size)
    html = render_report(report, lang=lang, model_ref=ref)
    if role != "school":
        ids = identifier_values(tables)
        findings = scan_frames(report.tables, ids, rs.min_cell_size) + scan_text(html, ids)
        if findings:
            raise PolicyError(f"{role} report for {scope} not published: "
                              + "; ".join(findings))
    target = Path(out) / "predict" / f"{role}-{scope}"
    with atomic_dir(target) as tmp:
        (tmp / "report.html").write_text(html, encoding="utf-8")
        for name, df in report.tables.items():
            df.to_csv(tmp / f"{name}.csv", index=False)
            df.to_parquet(tmp / f"{name}.parquet", index=False)
        for sid, page in sheets.items():
            (tmp / "sheets").mkdir(exist_ok=True)
            (tmp / "sheets" / f"{sid}.{lang}.html").write_text(page, encoding="utf-8")
        write_json_atomic(tmp / "manifest.json", {**meta, "report": report.to_dict()})
    progress(f"wrote {target}")
    return json.loads(json.dumps({**report.to_dict(), **meta, "out": str(target),
                                  "html": str(target / "report.html")}, default=str))
# ----------------------------------------------------------------------------- external
def spec_fairness_policy(spec, policy_path: Path | str | None = None):
    """The fairness policy (``configs/fairness.toml`` or ``policy_path``) restricted to the
    spec's sensitive columns, with the spec's reference groups."""
    from cin_ml.errors import ConfigError
    from cin_ml.fairness import load_policy

    cols = tuple(spec.sensitive.columns)
    if not cols:
        raise ConfigError(f"{spec.where} [sensitive] columns: empty, nothing to audit")
    base = load_policy(policy_path)
    # the file's intersections and mitigation attribute name CSS columns: start from scratch
    pol = base.model_copy(update={"attributes": cols, "intersections": "all_pairs",
                                  "mitigation_attribute": None, "reference_groups": {}})
    return pol.model_copy(update={"reference_groups": dict(spec.sensitive.reference_groups)})


def run_spec(spec_path: Path | str, *, policy_path: Path | str | None = None, explain: bool = True,
             card: bool = True, card_out: Path | str = "reports/cards",
             explain_out: Path | str = "reports/explain", n_repeats: int | None = None,
             n_splits: int | None = None, progress: Progress = _quiet) -> dict:
    """Run a dataset spec through the chain: validate, cross-validate, train, track, audit,
    explain and write the card.

    The spec's protocol is run first (``n_repeats`` / ``n_splits`` override it, e.g. for a
    quick check); the tracked model and its evaluation rows are described in
    :func:`cin_ml.external.training_result`. The run lives in experiment
    ``cin-<spec name>`` of the default store (``MLFLOW_TRACKING_URI``, as for the audit,
    explain and card steps); the fairness audit covers the spec's sensitive columns (all pairs
    too); the card uses ``[card] sections`` of the spec and is skipped (with the reason in
    the summary) when the spec names none.
    """
    from cin_ml import tracking
    from cin_ml.external import (
        cross_validate,
        load_dataset,
        load_spec,
        model_datasets,
        training_result,
    )
    from cin_ml.models import evaluation_figures, load_model_settings

    spec = load_spec(spec_path)
    policy = spec_fairness_policy(spec, policy_path)  # fail on a bad policy before training
    ds = load_dataset(spec)
    progress(f"{spec.name}: {len(ds.y)} rows, {int(ds.y.sum())} events "
             f"({spec.target.event}), {len(ds.features)} features")
    v = spec.validation
    if n_repeats is not None or n_splits is not None:
        v = v.model_copy(update={k: val for k, val in (("n_repeats", n_repeats),
                                                       ("n_splits", n_splits))
                                 if val is not None})
    cv = cross_validate(ds, validation=v, progress=progress)
    progress(f"accuracy {cv.model.mean:.4f} [{cv.model.low:.4f}, {cv.model.high:.4f}] over "
             f"{len(cv.model.runs)} run(s)")
    ev = load_model_settings().evaluation
    result = training_result(ds, cv, n_boot=ev.n_boot, ci_level=ev.ci_level, seed=ev.seed)
    store = tracking.resolve_store()
    data_file = spec.data_path().resolve()
    tags = {"cin.data_form": spec.dataset.data_form, "cin.data_dir": str(data_file),
            "cin.spec": str(Path(spec_path).resolve()), "cin.dataset": spec.name,
            "cin.dataset_sha256": ds.sha256, "cin.origin": spec.dataset.origin,
            "cin.licence": spec.dataset.licence}
    with tracking.training_run(spec.name, tags, store=store) as run_id:
        progress(f"run {run_id}: logging model and evaluation")
        logged = tracking.log_training(
            run_id, result, data_dir=str(data_file), data_form=spec.dataset.data_form,
            datasets=model_datasets(ds), figures=evaluation_figures(result.test),
            extra_files={"external/spec.toml": Path(spec_path).read_text(encoding="utf-8"),
                         "external/spec.json": spec.to_dict(),
                         "external/dataset.json": ds.to_dict(),
                         "external/cross_validation.json": cv.to_dict()},
            store=store)
        acc = {"cv_accuracy_mean": cv.model.mean, "cv_accuracy_ci_low": cv.model.low,
               "cv_accuracy_ci_high": cv.model.high, "cv_auc_mean": cv.auc.mean,
               "majority_accuracy": cv.majority.mean,
               "test_accuracy": result.metrics["test_accuracy"]}
        if cv.naive is not None:
            acc["naive_accuracy"] = cv.naive.mean
        tracking.log_metrics(run_id, acc, store)
    summary = {"run_id": run_id, "spec": spec.name, "experiment": tracking.experiment_name(
        spec.name), "tracking_uri": store.tracking_uri, "model_uri": logged["model_uri"],
        "dataset": ds.to_dict(), "cross_validation": cv.to_dict()}
    progress("fairness audit on " + ", ".join(policy.attributes))
    summary["audit"] = run_audit(run_id, policy=policy, progress=progress)
    if explain:
        summary["explain"] = run_explain(run_id, lang="en", out=explain_out, progress=progress)
    if card and spec.card_sections_path() is not None:
        summary["card"] = run_card(run_id, lang="en", out=card_out,
                                   sections=spec.card_sections_path(), progress=progress)
    else:
        summary["card"] = {"skipped": "--no-card" if not card else
                           f"{spec.where} has no [card] sections"}
    return summary


# ----------------------------------------------------------------------------- demo
def prepare_workspace(workdir: Path | str = "workspace", *, students: int = 20000,
                      seed: int = 7, progress: Progress = _quiet) -> dict[str, Path]:
    """Simulated source extract, its de-identified copy (with re-keyed truth) and a virtual
    CSS under ``workdir``, each built only if missing: what the notebooks start from.

    Uses the public demo pseudonymization key: simulated data only.
    """
    work = Path(workdir)
    paths = {"source": work / "data" / "source", "truth": work / "data" / "source_truth",
             "deidentified": work / "data" / "deidentified",
             "deidentified_truth": work / "data" / "deidentified_truth",
             "virtual": work / "data" / "virtual",
             "virtual_report": work / "reports" / "virtual_css" / "virtual"}
    if not (paths["source"] / "students.parquet").is_file():
        run_simulate(paths["source"], paths["truth"], students=students, seed=seed,
                     progress=progress)
    if not (paths["deidentified"] / "students.parquet").is_file():
        run_deidentify(paths["source"], paths["deidentified"], truth=paths["truth"],
                       truth_out=paths["deidentified_truth"], demo_key=True, progress=progress)
    if not (paths["virtual"] / "students.parquet").is_file():
        run_virtualize(paths["source"], paths["virtual"], demo_key=True, seed=seed,
                       report_out=paths["virtual_report"], progress=progress)
    return paths


DEMO_AUTHOR = "ds.demo"


def _fairness_fails(verdicts: dict) -> list[str]:
    """``BREAKDOWN:METRIC`` of every fail verdict of an audit summary."""
    return sorted(f"{b}:{m}" for b, per in verdicts.items() for m, v in per.items()
                  if v == "fail")


def _demo_school(source: Path) -> str:
    """The primary school with the most students due to be scored (end of grade 3)."""
    import pandas as pd

    enr = pd.read_parquet(source / "enrolments.parquet", columns=["school_year", "school_id",
                                                                   "grade"])
    last = enr[(enr["school_year"] == enr["school_year"].max()) & (enr["grade"] == 3)]
    return str(last["school_id"].value_counts().idxmax())


def run_demo(workdir: Path | str = ".", *, students: int = 20000, seed: int = 7,
             progress: Progress = _quiet, show: Callable[[dict], None] | None = None) -> dict:
    """The whole chain on the embedded store, as a data scientist, the ethics committee and
    an operator would run it, then scoring of the latest cohort by role.

    simulate → virtualize (de-identify + SDV + report) → for each task: train on the virtual
    CSS → audit → explain → cards (fr, en) → register → scripted committee review (known
    fairness fails are accepted explicitly, with conditions) → promote to @champion; then
    ``cin-ml predict`` for a school, the CSS and the ministry on the latest cohort.
    Returns a summary with every output's location and the time of each step.
    """
    import time

    from cin_ml.features import TASKS
    from cin_ml.registry import load_governance_settings

    work = Path(workdir)
    data, reports = work / "data", work / "reports"
    gov = load_governance_settings()
    reviewer, operator = gov.people.committee[0], gov.people.operators[0]
    times: dict[str, float] = {}
    out: dict = {"tasks": {}}

    def step(name: str, fn: Callable[[], dict]) -> dict:
        t = time.perf_counter()
        progress(f"[bold]{name}[/]")
        result = fn()
        times[name] = round(time.perf_counter() - t, 1)
        return result

    sim = step("simulate", lambda: run_simulate(
        data / "source", data / "source_truth", students=students, seed=seed,
        progress=progress))
    if show is not None:
        show(sim)
    out["simulate"] = {k: sim[k] for k in ("out", "truth_out", "tasks")}
    virt = step("virtualize", lambda: run_virtualize(
        data / "source", data / "virtual", demo_key=True, seed=seed,
        report_out=reports / "virtual_css" / "virtual", progress=progress))
    out["virtualize"] = virt
    for task in TASKS:
        tr = step(f"{task}: train", lambda t=task: run_train(data / "virtual", t,
                                                             progress=progress))
        rid = tr["run_id"]
        audit = step(f"{task}: audit", lambda r=rid: run_audit(r, progress=progress))
        step(f"{task}: explain", lambda r=rid: run_explain(r, out=reports / "explain",
                                                            progress=progress))
        cards = {lang: step(f"{task}: card ({lang})", lambda r=rid, lg=lang: run_card(
            r, lang=lg, out=reports / "cards", ready=True, progress=progress))
            for lang in ("fr", "en")}
        reg = step(f"{task}: register", lambda r=rid: run_register(r, author=DEMO_AUTHOR))
        fails = _fairness_fails(audit["verdicts"])
        conditions = (
            "Decision support only; a person decides. Accepted fairness findings are to be "
            "monitored at every scoring: " + ", ".join(fails) if fails else
            "Decision support only; a person decides.")
        step(f"{task}: review", lambda m=reg["model"], v=reg["version"], c=conditions, f=fails:
             run_review(m, str(v), approve=True, reviewer=reviewer,
                        comment="Demo: approved for a supervised pilot (scripted review).",
                        conditions=c, accept_fairness=tuple(f)))
        step(f"{task}: promote", lambda m=reg["model"], v=reg["version"]: run_promote(
            m, str(v), alias="champion", operator=operator,
            why="Demo: approved by the committee"))
        out["tasks"][task] = {
            "run_id": rid, "model": f"{reg['model']}@champion", "version": reg["version"],
            "test_auc": tr["metrics"]["test_auc"], "indicator_auc": tr["metrics"]["indicator_auc"],
            "fairness": audit["worst_verdict"], "accepted_fairness_fails": fails,
            "cards": {lang: c["html"] for lang, c in cards.items()}}
    model = out["tasks"]["ecriture_4e"]["model"]
    school = _demo_school(data / "source")
    preds = {}
    for role, scope in (("school", school), ("css", "CSS001"), ("ministry", "network")):
        preds[role] = step(f"predict ({role} {scope})", lambda r=role, sc=scope: run_predict(
            model, data / "source", r, sc, out=reports, progress=progress))
    out["predict"] = {r: p.get("out") for r, p in preds.items()}
    out["times"] = times
    out["total_s"] = round(sum(times.values()), 1)
    return out
