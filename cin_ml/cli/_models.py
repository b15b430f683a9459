"""Commands of the research side: harmonize, train, audit, explain, card."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cin_ml.cli._app import _progress, _run, app, console, err_console, esc  # noqa: F401
from cin_ml.cli._data import _print_simulation_summary  # noqa: F401

# ----------------------------------------------------------------------------- models

@app.command()
def harmonize(
    data: Annotated[Path, typer.Option(help="Extract folder (students + absences).")]
    = Path("data/virtual"),
    out: Annotated[Path | None, typer.Option(
        help="Report folder (default: <data>_harmonization).")] = None,
    truth: Annotated[Path | None, typer.Option(
        help="Ground-truth folder: also score coverage against the true nomenclature.")]
    = None,
    config: Annotated[Path | None, typer.Option(help="Harmonization rules TOML.")] = None,
) -> None:
    """Map each CSS's free-text absence reasons to the network nomenclature; report the rest."""

    def go() -> None:
        from cin_ml.pipeline import run_harmonize

        s = run_harmonize(data, out, config=config, truth=truth, progress=_progress)
        console.print(f"{s['n_records']:,} absence records, {s['n_strings']:,} distinct "
                      f"strings; by method: {esc(s['records_by_method'])}")
        if "against_truth" in s:
            t = s["against_truth"]
            console.print(f"against the truth: coverage {t['coverage']:.2%}, "
                          f"accuracy {t['accuracy']:.2%}")
        console.print(f"report: {esc(s['out'])}/unmapped.csv")

    _run(go)


@app.command()
def train(
    task: Annotated[str, typer.Option(help="ecriture_4e or decrochage.")] = "ecriture_4e",
    data: Annotated[Path, typer.Option(help="De-identified or virtual extract folder.")]
    = Path("data/virtual"),
    truth: Annotated[Path | None, typer.Option(
        help="Ground truth keyed with the same pseudonyms (logs oracle_auc).")] = None,
    tracking_uri: Annotated[str | None, typer.Option(
        help="MLflow store (default $MLFLOW_TRACKING_URI, else the nearest mlruns/mlflow.db "
        "from here up, else a new one here).")]
    = None,
    features_config: Annotated[Path | None, typer.Option(help="features.toml to use.")]
    = None,
    models_config: Annotated[Path | None, typer.Option(help="models.toml to use.")] = None,
    agreements: Annotated[Path | None, typer.Option(
        help="Data-use agreements (default: <data>/agreements.parquet, else "
        "configs/consent.toml).")] = None,
) -> None:
    """Train a LightGBM risk model for TASK, evaluate it and log it to MLflow."""

    def go() -> None:
        from cin_ml.pipeline import run_train

        s = run_train(data, task, truth, features_config=features_config,
                      models_config=models_config, tracking_uri=tracking_uri,
                      agreements=agreements,
                      progress=_progress)
        _print_train_summary(s)

    _run(go)


def _print_train_summary(s: dict) -> None:
    from rich.table import Table

    m, ci = s["metrics"], s["ci"]["model_auc"]
    t = Table(title=f"{esc(s['task'])}: test cohort {esc(s['split']['test_cohort'])} "
                    f"({m['n_test']:,} students)")
    t.add_column("model")
    t.add_column("test AUC", justify="right")
    t.add_row("LightGBM", f"{m['test_auc']:.3f} [{ci['low']:.3f}, {ci['high']:.3f}]")
    t.add_row("logistic regression", f"{m['logistic_auc']:.3f}")
    t.add_row("traditional indicator", f"{m['indicator_auc']:.3f}")
    if m.get("oracle_auc") is not None:
        t.add_row("oracle (true probabilities)", f"{m['oracle_auc']:.3f}")
    console.print(t)
    a = s["at_threshold"]
    console.print(f"threshold {s['threshold']['value']:.3f} ({esc(s['threshold']['mode'])}): "
                  f"recall {a['recall']:.2f}, precision {a['precision']:.2f}, "
                  f"FNR {a['fnr']:.2f}, FPR {a['fpr']:.2f}; calibration {esc(s['calibration'])}")
    console.print(f"run {esc(s['run_id'])} in {esc(s['experiment'])} ({esc(s['tracking_uri'])})")

# ----------------------------------------------------------------------------- fairness

@app.command()
def audit(
    run: Annotated[str, typer.Option("--run", help="Training run id (MLflow).")],
    policy: Annotated[Path | None, typer.Option(
        help="Fairness policy TOML (default: configs/fairness.toml).")] = None,
    n_boot: Annotated[int | None, typer.Option(
        help="Bootstrap replicates (default: the policy's).")] = None,
) -> None:
    """Audit a run's test predictions for fairness; log audit.json and plots to the run."""

    def go() -> None:
        from rich.table import Table
        from rich.text import Text

        from cin_ml.pipeline import run_audit

        s = run_audit(run, policy, n_boot=n_boot, progress=_progress)
        metrics = list(next(iter(s["verdicts"].values()), {}))
        t = Table(title=f"Fairness verdicts · {esc(s['task'])} · run {esc(s['run_id'])} "
                  f"(n={s['n']:,}, threshold {s['threshold']:.3f}, {esc(s['n_boot'])} replicates)")
        t.add_column("breakdown")
        for m in metrics:
            t.add_column(m)
        colour = {"pass": "green", "fail": "bold red", "inconclusive": "yellow"}
        for name, vs in s["verdicts"].items():
            t.add_row(esc(name), *[Text(vs[m], style=colour.get(vs[m], "dim")) for m in metrics])
        console.print(t)
        for f in s["fnr_ceiling_flags"]:
            fnr = f["fnr"]["value"]
            console.print(f"[bold red]FNR above ceiling[/] {esc(f['breakdown'])}: "
                          f"{esc(' × '.join(f['labels']))}"
                          + (f" (FNR {fnr:.2f})" if fnr is not None else " (suppressed)"))
        mit = s["mitigation"]
        m = Table(title=f"Mitigation experiment on {esc(mit['attribute'])} (held-out half)")
        for col in ("strategy", "recall", "precision", "worst FNR", "FNR gap"):
            m.add_column(esc(col), justify="left" if col == "strategy" else "right")
        for r in mit["rows"]:
            m.add_row(esc(r["strategy"]), *[f"{r[k]:.3f}" if r[k] is not None else "—"
                                       for k in ("recall", "precision", "worst_fnr", "fnr_gap")])
        console.print(m)
        console.print(f"[dim]{esc(mit['statement']['en'])}[/]", soft_wrap=True)
        console.print(f"worst verdict: [bold]{esc(s['worst_verdict'])}[/]; "
                      f"{len(s['artifacts'])} artifacts logged under fairness/")

    _run(go)


# ----------------------------------------------------------------------------- explain


@app.command()
def explain(
    run: Annotated[str, typer.Option("--run", help="Training run id (MLflow).")],
    student: Annotated[str | None, typer.Option(
        help="Pseudonymous student id: explain this student and write their sheet.")] = None,
    lang: Annotated[str, typer.Option(help="Language of sentences and sheet: fr or en.")]
    = "fr",
    full: Annotated[bool, typer.Option(
        help="Explain every test student (default: flagged, asked and a global sample).")]
    = False,
    out: Annotated[Path, typer.Option(help="Folder for the local copy of the sheet.")]
    = Path("reports/explain"),
) -> None:
    """Explain a run: global drivers, per-student reasons, one-page sheet (logged to the run)."""

    def go() -> None:
        from cin_ml.pipeline import run_explain

        summary = run_explain(run, student=student, lang=lang, full=full, out=out,
                              progress=_progress)
        _print_explain_summary(summary)

    _run(go)


def _print_explain_summary(s: dict) -> None:
    from rich.table import Table

    console.print(f"Explained {s['n_explained']:,} of {s['n_cohort']:,} test students "
                  f"({s['n_flagged']:,} flagged, {esc(s['n_asked'])} asked, "
                  f"sample {s['n_sample']:,}) "
                  f"in {s['timings_s']['total']:.2f} s; additivity error below "
                  f"{s['additivity_max_error']:.0e}")
    t = Table(title=f"Top drivers ({esc(s['task'])}), mean |SHAP| in log-odds")
    for col in ("feature", "family", "mean |SHAP|"):
        t.add_column(esc(col), justify="right" if col == "mean |SHAP|" else "left")
    for f, fam, v in s["top_features"]:
        t.add_row(esc(f), esc(fam), f"{v:.4f}")
    console.print(t)
    st = s.get("stability")
    if st:
        console.print(f"Ranking stability over {esc(st['resamples'])} half-samples of "
                      f"{st['n_sample']:,}: Spearman min {st['spearman_min']:.3f}, top-"
                      f"{esc(st['top_k'])} overlap min {st['top_k_overlap_min']:.2f}")
        if st.get("versus_full"):
            vf = st["versus_full"]
            console.print(f"Default sample vs full cohort: Spearman {vf['spearman']:.3f}, "
                          f"top-{esc(vf['top_k'])} overlap {vf['top_k_overlap']:.2f}")
    rc = s.get("reasons_check")
    if rc:
        console.print(f"Reasons: {rc['n_reasons']:,} stated for {rc['n_students']:,} students, "
                      f"each re-checked on the model: {esc(rc['contradictions'])} contradiction(s) "
                      f"(materiality {rc['materiality_points']:g} point(s))")
    tr = s.get("reasons_truth")
    if tr and tr.get("agreement") is not None:
        console.print(f"Agreement with the simulator's truth: {100 * tr['agreement']:.1f}% of "
                      f"{tr['n_judged']:,} (student, reason) pairs; inert first reason: "
                      f"{esc(tr['inert_first_reason'])}")
    if "student" in s:
        console.print(f"\n[bold]{esc(s['student'])}[/] flagged={esc(s['flagged'])} score="
                      f"{esc(s['score'] if s['score'] is None else round(s['score'], 3))}")
        for r in s["reasons"]:
            console.print(f"  [red]+[/] {esc(r)}", soft_wrap=True)
        for r in s["protective"]:
            console.print(f"  [green]-[/] {esc(r)}", soft_wrap=True)
        console.print(f"Sheet: {esc(s['sheet'])}")
    if s.get("examples") and "student" not in s:
        console.print(f"Student ids are the run's pseudonyms (evaluation/test_predictions."
                      f"parquet); highest-risk flagged: {esc(', '.join(s['examples']))}. Sheet: "
                      f"cin-ml explain --run {esc(s['run_id'])} --student "
                      f"{esc(s['examples'][0])}", soft_wrap=True)
    console.print(f"Logged {len(s['artifacts'])} artifacts under explain/ in run "
                  f"{esc(s['run_id'])}")
# ----------------------------------------------------------------------------- cards
@app.command()
def card(
    run: Annotated[str, typer.Option("--run", help="Training run id (MLflow).")],
    lang: Annotated[str, typer.Option(help="Language printed and shown first: fr or en "
                                           "(both are always rendered).")] = "fr",
    out: Annotated[Path, typer.Option(help="Folder for the local copy (<out>/<run>/).")]
    = Path("reports/cards"),
    sections: Annotated[Path | None, typer.Option(
        help="Human-written sections TOML (default: configs/cards/<task>.toml).")] = None,
    ready: Annotated[bool, typer.Option(
        "--ready", help="Refuse unless the card is complete (ready for ethics review).")]
    = False,
    virtual_report: Annotated[Path | None, typer.Option(
        help="Virtual CSS report.json (default: reports/virtual_css/<data folder>/).")]
    = None,
    pdf: Annotated[bool, typer.Option(
        "--pdf", help="Also print the card (fr + en) to A4 PDF with Chromium; print it "
                      "before `register`, which pins every card file.")] = False,
) -> None:
    """Build the run's model card (fr + en: Markdown, HTML, JSON, SHA-256); log it to the run."""

    def go() -> None:
        from cin_ml.pipeline import run_card

        s = run_card(run, lang=lang, out=out, sections=sections, ready=ready,
                     virtual_report=virtual_report, pdf=pdf, progress=_progress)
        console.print(f"Model card · {esc(s['task'])} · run {esc(s['run_id'])}: "
                      + ("[bold green]ready for review[/]" if s["status"] == "ready_for_review"
                         else "[bold yellow]draft[/]"), soft_wrap=True)
        for g in s["gaps"]:
            console.print(f"  [yellow]missing[/] {esc(g)}", soft_wrap=True)
        for r in s["risks"]:
            console.print(f"  [red]risk[/] {esc(r)}", soft_wrap=True)
        console.print(f"fairness (worst verdict): {esc(s['fairness'])}")
        console.print(f"SHA-256 {esc(s['sha256'])}", soft_wrap=True)
        console.print(f"HTML {esc(s['html'])}\nMarkdown {esc(s['markdown'])}\n"
                      f"JSON {esc(s['json'])}",
                      soft_wrap=True)
        if s["logged"]:
            console.print(f"{len(s['logged'])} files logged under card/ in the run")
        if s.get("pdf"):
            console.print(f"PDF {esc(s['pdf'])}", soft_wrap=True)
        if s.get("reviewed_html"):
            console.print(f"Reviewed card (committee decision) {esc(s['reviewed_html'])}",
                          soft_wrap=True)

    _run(go)


