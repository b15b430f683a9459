"""The ``cin-ml`` command line (Typer).

The only module that prints for humans or turns a :class:`~cin_ml.errors.CinMLError` into an
exit code: every command runs inside :func:`_run`, which prints one red line on stderr and
exits 1 on a CinMLError (no traceback). Heavy imports happen inside the commands so that
``cin-ml --help`` stays instant.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console

from cin_ml.errors import CinMLError

app = typer.Typer(
    name="cin-ml",
    help="ML research and model-governance workbench for Quebec's school service centres: "
    "virtual CSS, LightGBM risk models, fairness audits, explanations, model cards, "
    "review and promotion.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

T = TypeVar("T")


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """cin-ml warnings as one yellow line; library chatter stays out of the user's way."""
    from cin_ml.errors import CinMLWarning

    if issubclass(category, CinMLWarning):
        err_console.print(f"[yellow]warning:[/] {message}", soft_wrap=True)


def _quiet_libraries() -> None:
    import logging
    import os
    import warnings

    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    warnings.showwarning = _show_warning
    for name in ("mlflow", "alembic", "sdv", "rdt", "copulas", "sdmetrics"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _run(fn: Callable[[], T]) -> T:
    """Run ``fn``; a CinMLError becomes one line on stderr and exit code 1."""
    _quiet_libraries()
    try:
        return fn()
    except CinMLError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", soft_wrap=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        err_console.print("[bold red]interrupted[/]")
        raise typer.Exit(130) from None


def _progress(message: str) -> None:
    console.print(f"[dim]·[/] {message}")


# ----------------------------------------------------------------------------- simulate

@app.command()
def simulate(
    out: Annotated[Path, typer.Option(help="Folder for the source extract (Parquet tables).")]
    = Path("data/source"),
    truth_out: Annotated[Path | None, typer.Option(
        help="Folder for the ground truth (default: <out>_truth). Never part of the extract.")]
    = None,
    css: Annotated[int, typer.Option(help="Number of school service centres.")] = 1,
    students: Annotated[int, typer.Option(help="Total number of students.")] = 20000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same bytes).")] = 7,
    extract_year: Annotated[int | None, typer.Option(
        help="Calendar year of the extract (last complete school year ends then).")] = None,
    disparity: Annotated[str | None, typer.Option(
        help="Injected disparity KIND:ATTRIBUTE=GROUP:STRENGTH, e.g. "
        "mark_inflation:language_group=allophone:8 or label_bias:sex=M:0.3.")] = None,
    missingness: Annotated[float | None, typer.Option(
        help="Share of marks missing at random (0-0.5).")] = None,
    config: Annotated[Path | None, typer.Option(help="Simulation config TOML.")] = None,
) -> None:
    """Simulate a CSS (or a network of CSS) extract with a known ground truth."""

    def go() -> None:
        from cin_ml.pipeline import run_simulate

        summary = run_simulate(out=out, truth_out=truth_out, css=css, students=students,
                               seed=seed, extract_year=extract_year, disparity=disparity,
                               missingness=missingness, config=config, progress=_progress)
        _print_simulation_summary(summary)

    _run(go)


def _print_simulation_summary(summary: dict) -> None:
    from rich.table import Table

    t = Table(title=f"Source extract → {summary['out']}")
    t.add_column("table")
    t.add_column("rows", justify="right")
    for name, n in summary["rows"].items():
        t.add_row(name, f"{n:,}")
    console.print(t)
    o = Table(title="Outcomes and ceilings (ground truth)")
    for col in ("task", "labelled students", "observed rate", "oracle AUC"):
        o.add_column(col, justify="right" if col != "task" else "left")
    for task, s in summary["tasks"].items():
        o.add_row(task, f"{s['n_labelled']:,}", f"{s['rate']:.1%}", f"{s['oracle_auc']:.3f}")
    console.print(o)
    console.print(f"Ground truth (evaluation only): {summary['truth_out']}")


# [lead] more commands are registered below by area; keep one section per area.
# ----------------------------------------------------------------------------- virtual-css
_KEY_HELP = ("File holding the pseudonymization secret (outside every output folder); "
             "default: $CIN_ML_PSEUDONYM_KEY.")
_DEMO_HELP = ("Use the PUBLIC demo key when no key is set (simulated data only: its "
              "pseudonyms are not secret).")


@app.command()
def deidentify(
    source: Annotated[Path, typer.Option(help="Source extract folder.")] = Path("data/source"),
    out: Annotated[Path, typer.Option(help="De-identified extract folder.")]
    = Path("data/deidentified"),
    truth: Annotated[Path | None, typer.Option(
        help="Ground-truth folder of a simulation, re-keyed with the same pseudonyms.")] = None,
    truth_out: Annotated[Path | None, typer.Option(
        help="Where the re-keyed truth goes (default <out>_truth; evaluation only).")] = None,
    key_file: Annotated[Path | None, typer.Option(help=_KEY_HELP)] = None,
    demo_key: Annotated[bool, typer.Option("--demo-key", help=_DEMO_HELP)] = False,
    config: Annotated[Path | None, typer.Option(help="virtual_css TOML.")] = None,
) -> None:
    """Pseudonymize ids, drop direct identifiers and enforce k-anonymity."""

    def go() -> None:
        from cin_ml.pipeline import run_deidentify

        s = run_deidentify(source, out, truth=truth, truth_out=truth_out, key_file=key_file,
                           demo_key=demo_key, config=config, progress=_progress)
        r = s["report"]
        ka = r["k_anonymity"]
        if r["key"]["demo"]:
            err_console.print("[bold yellow]WARNING: public demo key used — pseudonyms are "
                              "not secret (simulated data only).[/]")
        console.print(f"De-identified {r['n_students_in']:,} → {r['n_students_out']:,} students"
                      f" → {s['out']} (key id {r['key']['key_id']})")
        console.print(f"k-anonymity over {', '.join(ka['quasi_identifiers'])}: k "
                      f"{ka['k_before']} → {ka['k_after']} (target {ka['k_target']}); "
                      f"generalized {ka['generalization']}; {ka['n_cells_suppressed']} cells "
                      f"and {ka['n_records_suppressed']} students suppressed")
        if "truth_out" in s:
            console.print(f"Re-keyed ground truth (evaluation only): {s['truth_out']}")

    _run(go)


@app.command()
def virtualize(
    source: Annotated[Path, typer.Option(
        help="Source or de-identified extract folder.")] = Path("data/source"),
    out: Annotated[Path, typer.Option(help="Virtual CSS folder.")] = Path("data/virtual"),
    model_out: Annotated[Path | None, typer.Option(
        help="Fitted synthesizer folder (default <out>_model).")] = None,
    report_out: Annotated[Path | None, typer.Option(
        help="Report folder (default reports/virtual_css/<out name>).")] = None,
    key_file: Annotated[Path | None, typer.Option(help=_KEY_HELP)] = None,
    demo_key: Annotated[bool, typer.Option("--demo-key", help=_DEMO_HELP)] = False,
    seed: Annotated[int, typer.Option(help="Seed of the split, sampling and expansion.")] = 0,
    students: Annotated[int | None, typer.Option(
        help="Virtual students (default: as many as the synthesizer saw).")] = None,
    config: Annotated[Path | None, typer.Option(help="virtual_css TOML.")] = None,
    track: Annotated[bool, typer.Option(help="Log the report to MLflow (virtual-css).")]
    = True,
) -> None:
    """De-identify + synthesize (SDV) + evaluate fidelity, privacy and utility."""

    def go() -> None:
        from cin_ml.pipeline import run_virtualize

        s = run_virtualize(source, out, model_out=model_out, report_out=report_out,
                           key_file=key_file, demo_key=demo_key, seed=seed, students=students,
                           config=config, track=track, progress=_progress)
        _print_virtual_summary(s)

    _run(go)


def _print_virtual_summary(s: dict) -> None:
    from rich.table import Table

    r = s["report"]
    t = Table(title=f"Virtual CSS → {s['out']}")
    t.add_column("check")
    t.add_column("value", justify="right")
    t.add_column("verdict")
    v = r["verdicts"]
    rows = [("quality", r["fidelity"]["quality"], v["quality"]),
            ("validity", r["fidelity"]["validity"], v["validity"]),
            ("exact copies", r["privacy"]["exact_match_rate"], v["no_exact_copies"]),
            ("DCR closer to training", r["privacy"]["dcr"]["closer_to_training"], v["dcr"]),
            ("membership AUC", r["privacy"]["membership_inference"]["auc"],
             v["membership_inference"])]
    for task, u in r["utility"].items():
        if "ratio" in u:
            rows.append((f"utility {task} (AUC {u['auc_virtual']} / {u['auc_source']})",
                         u["ratio"], u["ratio"] >= r["details"]["targets"]["utility_min_ratio"]))
    for name, val, ok in rows:
        t.add_row(name, f"{val:.4g}", "[green]pass[/]" if ok else "[red]FAIL[/]")
    console.print(t)
    if (r.get("deidentification") or {}).get("key", {}).get("demo"):
        err_console.print("[bold yellow]WARNING: public demo key used — pseudonyms are not "
                          "secret (simulated data only).[/]")
    console.print(f"Report: {s['report_out']}/report.html · synthesizer: {s['model_out']}"
                  + (f" · MLflow run {s['run_id']}" if s["run_id"] else ""))


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
                      f"strings; by method: {s['records_by_method']}")
        if "against_truth" in s:
            t = s["against_truth"]
            console.print(f"against the truth: coverage {t['coverage']:.2%}, "
                          f"accuracy {t['accuracy']:.2%}")
        console.print(f"report: {s['out']}/unmapped.csv")

    _run(go)


@app.command()
def train(
    task: Annotated[str, typer.Option(help="ecriture_4e or decrochage.")] = "ecriture_4e",
    data: Annotated[Path, typer.Option(help="De-identified or virtual extract folder.")]
    = Path("data/virtual"),
    truth: Annotated[Path | None, typer.Option(
        help="Ground truth keyed with the same pseudonyms (logs oracle_auc).")] = None,
    tracking_uri: Annotated[str | None, typer.Option(
        help="MLflow store (default $MLFLOW_TRACKING_URI, else sqlite:///mlruns/mlflow.db).")]
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
    t = Table(title=f"{s['task']}: test cohort {s['split']['test_cohort']} "
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
    console.print(f"threshold {s['threshold']['value']:.3f} ({s['threshold']['mode']}): "
                  f"recall {a['recall']:.2f}, precision {a['precision']:.2f}, "
                  f"FNR {a['fnr']:.2f}, FPR {a['fpr']:.2f}; calibration {s['calibration']}")
    console.print(f"run {s['run_id']} in {s['experiment']} ({s['tracking_uri']})")

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

        from cin_ml.pipeline import run_audit

        s = run_audit(run, policy, n_boot=n_boot, progress=_progress)
        metrics = list(next(iter(s["verdicts"].values()), {}))
        t = Table(title=f"Fairness verdicts · {s['task']} · run {s['run_id']} "
                  f"(n={s['n']:,}, threshold {s['threshold']:.3f}, {s['n_boot']} replicates)")
        t.add_column("breakdown")
        for m in metrics:
            t.add_column(m)
        colour = {"pass": "green", "fail": "bold red", "inconclusive": "yellow"}
        for name, vs in s["verdicts"].items():
            t.add_row(name, *[f"[{colour.get(vs[m], 'dim')}]{vs[m]}[/]" for m in metrics])
        console.print(t)
        for f in s["fnr_ceiling_flags"]:
            fnr = f["fnr"]["value"]
            console.print(f"[bold red]FNR above ceiling[/] {f['breakdown']}: "
                          f"{' × '.join(f['labels'])}"
                          + (f" (FNR {fnr:.2f})" if fnr is not None else " (suppressed)"))
        mit = s["mitigation"]
        m = Table(title=f"Mitigation experiment on {mit['attribute']} (held-out half)")
        for col in ("strategy", "recall", "precision", "worst FNR", "FNR gap"):
            m.add_column(col, justify="left" if col == "strategy" else "right")
        for r in mit["rows"]:
            m.add_row(r["strategy"], *[f"{r[k]:.3f}" if r[k] is not None else "—"
                                       for k in ("recall", "precision", "worst_fnr", "fnr_gap")])
        console.print(m)
        console.print(f"[dim]{mit['statement']['en']}[/]", soft_wrap=True)
        console.print(f"worst verdict: [bold]{s['worst_verdict']}[/]; "
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
                  f"({s['n_flagged']:,} flagged, {s['n_asked']} asked, sample {s['n_sample']:,}) "
                  f"in {s['timings_s']['total']:.2f} s; additivity error "
                  f"{s['additivity_max_error']:.1e}")
    t = Table(title=f"Top drivers ({s['task']}), mean |SHAP| in log-odds")
    for col in ("feature", "family", "mean |SHAP|"):
        t.add_column(col, justify="right" if col == "mean |SHAP|" else "left")
    for f, fam, v in s["top_features"]:
        t.add_row(f, fam, f"{v:.4f}")
    console.print(t)
    st = s.get("stability")
    if st:
        console.print(f"Ranking stability over {st['resamples']} half-samples of "
                      f"{st['n_sample']:,}: Spearman min {st['spearman_min']:.3f}, top-"
                      f"{st['top_k']} overlap min {st['top_k_overlap_min']:.2f}")
        if st.get("versus_full"):
            vf = st["versus_full"]
            console.print(f"Default sample vs full cohort: Spearman {vf['spearman']:.3f}, "
                          f"top-{vf['top_k']} overlap {vf['top_k_overlap']:.2f}")
    if "student" in s:
        console.print(f"\n[bold]{s['student']}[/] flagged={s['flagged']} score="
                      f"{s['score'] if s['score'] is None else round(s['score'], 3)}")
        for r in s["reasons"]:
            console.print(f"  [red]+[/] {r}", soft_wrap=True)
        for r in s["protective"]:
            console.print(f"  [green]-[/] {r}", soft_wrap=True)
        console.print(f"Sheet: {s['sheet']}")
    console.print(f"Logged {len(s['artifacts'])} artifacts under explain/ in run {s['run_id']}")
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
) -> None:
    """Build the run's model card (fr + en: Markdown, HTML, JSON, SHA-256); log it to the run."""

    def go() -> None:
        from cin_ml.pipeline import run_card

        s = run_card(run, lang=lang, out=out, sections=sections, ready=ready,
                     virtual_report=virtual_report, progress=_progress)
        state = ("[bold green]ready for review[/]" if s["status"] == "ready_for_review"
                 else "[bold yellow]draft[/]")
        console.print(f"Model card · {s['task']} · run {s['run_id']}: {state}", soft_wrap=True)
        for g in s["gaps"]:
            console.print(f"  [yellow]missing[/] {g}", soft_wrap=True)
        for r in s["risks"]:
            console.print(f"  [red]risk[/] {r}", soft_wrap=True)
        console.print(f"fairness (worst verdict): {s['fairness']}")
        console.print(f"SHA-256 {s['sha256']}", soft_wrap=True)
        console.print(f"HTML {s['html']}\nMarkdown {s['markdown']}\nJSON {s['json']}",
                      soft_wrap=True)
        if s["logged"]:
            console.print(f"{len(s['logged'])} files logged under card/ in the run")

    _run(go)


# ----------------------------------------------------------------------------- governance
_WHO_HELP = "(default: $CIN_ML_USER). Declared, not authenticated, in the embedded store."


@app.command()
def register(
    run: Annotated[str, typer.Option("--run", help="Training run id with a complete card.")],
    author: Annotated[str | None, typer.Option(
        help="Who built the model (default: the run's cin.author, then $CIN_ML_USER).")]
    = None,
) -> None:
    """Register a run as a pending version of its task's model (needs a complete card)."""

    def go() -> None:
        from cin_ml.pipeline import run_register

        s = run_register(run, author=author, progress=_progress)
        console.print(f"Registered [bold]{s['model']} v{s['version']}[/] from run {s['run_id']}"
                      f" · author {s['author']} · review pending")
        console.print(f"card SHA-256 {s['card_sha256']} · fairness (worst): "
                      f"{s['fairness_worst']}" + (f" · fails: {', '.join(s['fairness_fails'])}"
                                                  if s["fairness_fails"] else ""))
        console.print(f"history event #{s['event']}")

    _run(go)


@app.command()
def review(
    model: Annotated[str, typer.Option(help="Registered model, e.g. cin-ecriture-4e.")],
    version: Annotated[str, typer.Option(help="Model version number.")],
    approve: Annotated[bool | None, typer.Option(
        "--approve/--reject", help="The committee's decision.")] = None,
    reviewer: Annotated[str | None, typer.Option(
        help="Committee member deciding " + _WHO_HELP)] = None,
    comment: Annotated[str, typer.Option(help="Why (required to reject).")] = "",
    conditions: Annotated[str, typer.Option(help="Conditions attached to an approval.")] = "",
    accept_fairness: Annotated[list[str] | None, typer.Option(
        "--accept-fairness", help="Accept a fairness fail verdict, BREAKDOWN:METRIC "
        "(e.g. sex:fnr, language_group:*); repeatable.")] = None,
    expires: Annotated[str | None, typer.Option(
        help="Approval end date YYYY-MM-DD (default and maximum: [approval] "
        "max_validity_days).")] = None,
) -> None:
    """Record the ethics committee's decision on a model version."""

    def go() -> None:
        from cin_ml.errors import GovernanceError
        from cin_ml.pipeline import run_review

        if approve is None:
            raise GovernanceError("say --approve or --reject")
        s = run_review(model, version, approve=approve, reviewer=reviewer, comment=comment,
                       conditions=conditions, accept_fairness=tuple(accept_fairness or ()),
                       expires=expires, progress=_progress)
        colour = "green" if s["state"] == "approved" else "red"
        console.print(f"{s['model']} v{s['version']}: [bold {colour}]{s['state']}[/] by "
                      f"{s['reviewer']}" + (f" until {s['expires']}" if s["expires"] else ""))
        if s["accepted_fairness"]:
            console.print(f"accepted fairness fails: {', '.join(s['accepted_fairness'])}")
        console.print(f"bound to card {s['card_sha256']} · history event #{s['event']}")

    _run(go)


@app.command()
def promote(
    model: Annotated[str, typer.Option(help="Registered model, e.g. cin-ecriture-4e.")],
    version: Annotated[str, typer.Option(help="Model version number.")],
    alias: Annotated[str, typer.Option(help="champion or challenger.")] = "champion",
    operator: Annotated[str | None, typer.Option(help="Operator acting " + _WHO_HELP)] = None,
    why: Annotated[str, typer.Option(help="Reason, recorded in the history.")] = "",
) -> None:
    """Move @champion (or @challenger) to a version if every gate holds."""

    def go() -> None:
        from cin_ml.errors import GateError
        from cin_ml.pipeline import run_promote

        try:
            s = run_promote(model, version, alias=alias, operator=operator, why=why,
                            progress=_progress)
        except GateError as exc:
            err_console.print(f"[bold red]refused:[/] {model} v{version} @{alias}: "
                              f"{len(exc.failed_gates)} gate(s) failed")
            for line in str(exc).split(": ", 1)[1].split("; "):
                err_console.print(f"  [red]✗[/] {line}", soft_wrap=True)
            raise typer.Exit(1) from None
        for r in s["gates"]["results"]:
            console.print(f"  [green]✓[/] {r['gate']}: {r['detail']}", soft_wrap=True)
        prev = f" (was v{s['previous']})" if s["previous"] else ""
        console.print(f"[bold]{s['model']}@{s['alias']}[/] → v{s['version']}{prev} · "
                      f"history event #{s['event']}")

    _run(go)


@app.command()
def rollback(
    model: Annotated[str, typer.Option(help="Registered model.")],
    operator: Annotated[str | None, typer.Option(help="Operator acting " + _WHO_HELP)] = None,
    why: Annotated[str, typer.Option(help="Reason (required), recorded in the history.")]
    = "",
) -> None:
    """Move @champion back to the last earlier champion that still passes the gates."""

    def go() -> None:
        from cin_ml.pipeline import run_rollback

        s = run_rollback(model, operator=operator, why=why, progress=_progress)
        console.print(f"[bold]{s['model']}@champion[/] → v{s['version']} (was "
                      f"v{s['previous']}) · history event #{s['event']}")

    _run(go)


@app.command()
def compare(
    model: Annotated[str, typer.Option(help="Registered model.")],
) -> None:
    """Compare @challenger with @champion on the same test cohort."""

    def go() -> None:
        from rich.table import Table

        from cin_ml.pipeline import run_compare

        s = run_compare(model, progress=_progress)
        t = Table(title=f"{s['model']} · test cohort {s['test_cohort']} · {s['n']:,} students")
        t.add_column("metric")
        t.add_column(f"champion v{s['champion']}", justify="right")
        t.add_column(f"challenger v{s['challenger']}", justify="right")
        for k in s["metrics"]["champion"]:
            t.add_row(k, f"{s['metrics']['champion'][k]:.3f}",
                      f"{s['metrics']['challenger'][k]:.3f}")
        t.add_row("fairness (worst)", s["fairness"]["champion"], s["fairness"]["challenger"])
        console.print(t)
        d = s["auc_diff"]
        ci = (f" [{d['low']:+.3f}, {d['high']:+.3f}]" if d["low"] is not None else "")
        console.print(f"AUC challenger − champion: {d['estimate']:+.3f}{ci} "
                      f"({d['ci_level']:.0%} paired bootstrap, {d['n_boot']} draws)")

    _run(go)


@app.command()
def history(
    model: Annotated[str | None, typer.Option(help="Only this model's events.")] = None,
    verify: Annotated[bool, typer.Option(
        "--verify", help="Check that no event was edited or removed (exit 1 if so).")]
    = False,
) -> None:
    """Print the append-only governance history (who, when, what, why)."""

    def go() -> None:
        from rich.table import Table

        from cin_ml.errors import GovernanceError
        from cin_ml.pipeline import run_history

        s = run_history(model, verify=verify, progress=_progress)
        t = Table(title="Governance history" + (f" · {model}" if model else ""))
        for col in ("#", "when (UTC)", "event", "model", "v", "who", "why"):
            t.add_column(col)
        for e in s["events"]:
            t.add_row(str(e["seq"]), e["at"][:19].replace("T", " "), e["type"],
                      e["model"] or "", e["version"] or "", e["actor"], e["why"][:80])
        console.print(t)
        if verify:
            v = s["verify"]
            for n in v["notes"]:
                console.print(f"[dim]note:[/] {n}")
            if not v["ok"]:
                raise GovernanceError("history verification failed: "
                                      + "; ".join(v["problems"]))
            console.print(f"[bold green]history verified[/]: {v['n_events']} events, "
                          f"chain intact, head {v['head'] or '(empty)'}")

    _run(go)


governance_app = typer.Typer(help="Periodic governance checks.", no_args_is_help=True)
app.add_typer(governance_app, name="governance")


@governance_app.command("check")
def governance_check(
    actor: Annotated[str | None, typer.Option(
        help="Who runs the check (default: system:governance-check).")] = None,
    on: Annotated[str | None, typer.Option(help="Check as of YYYY-MM-DD (default: today).")]
    = None,
) -> None:
    """Expire approvals, flag models whose data-use agreements lapsed, withdraw @champion
    from versions no longer valid and restore the last valid one."""

    def go() -> None:
        from cin_ml.pipeline import run_governance_check

        s = run_governance_check(actor=actor, on_date=on, progress=_progress)
        for e in s["expired"]:
            console.print(f"[yellow]expired[/] approval of {e['model']} v{e['version']}")
        for e in s["consent_flagged"]:
            console.print(f"[red]consent[/] {e['model']} v{e['version']}: {e['reason']}",
                          soft_wrap=True)
        for e in s["consent_cleared"]:
            console.print(f"[green]consent valid again[/] {e['model']} v{e['version']}")
        for w in s["withdrawn"]:
            to = f"restored v{w['to']}" if w["to"] else "no valid version left: alias removed"
            console.print(f"[bold red]withdrawn[/] {w['model']}@{w['alias']} from "
                          f"v{w['from']}; {to}")
        if not s["changed"]:
            console.print(f"governance check {s['on_date']}: nothing to do")

    _run(go)


# ----------------------------------------------------------------------------- access


@app.command()
def predict(
    model: Annotated[str, typer.Option(help="Registered model and alias, NAME@champion.")],
    data: Annotated[Path, typer.Option(help="Extract folder to score.")],
    role: Annotated[str, typer.Option(help="school, css or ministry.")],
    scope: Annotated[str, typer.Option(
        help="School id (school), CSS id (css), or 'network' / a CSS id (ministry).")],
    out: Annotated[Path, typer.Option(help="Reports folder (writes <out>/predict/...).")]
    = Path("reports"),
    agreements: Annotated[Path | None, typer.Option(
        help="Data-use agreements (consent TOML, agreements.parquet or its folder); default: "
        "<data>/agreements.parquet, else configs/consent.toml.")] = None,
    lang: Annotated[str | None, typer.Option(help="fr or en (default: the role's).")] = None,
    config: Annotated[Path | None, typer.Option(help="access.toml to use.")] = None,
    tracking_uri: Annotated[str | None, typer.Option(help="MLflow store.")] = None,
) -> None:
    """Score an extract with a promoted model for one role: a school's nominative list, a
    CSS's aggregates, or the ministry's de-identified aggregates of consenting CSS."""

    def go() -> None:
        from cin_ml.pipeline import run_predict

        s = run_predict(model, data, role, scope, out=out, agreements=agreements, lang=lang,
                        config=config, tracking_uri=tracking_uri, progress=_progress)
        c = s["cohort"]
        console.print(f"{s['model']['name']} v{s['model']['version']} · {s['role']} {s['scope']}"
                      f": {c['n_students']:,} students scored, {c['n_flagged']:,} at or above "
                      f"the threshold ({c['threshold']:.3f})")
        if s.get("suppression"):
            sup = s["suppression"]
            console.print(f"cells below {sup['min_cell_size']} hidden: {sup['n_primary']:,} "
                          f"primary, {sup['n_complementary']:,} complementary")
        if s["role"] == "ministry":
            excl = s["consent"]["excluded"]
            console.print(f"CSS included: {', '.join(s['css_included'])}; excluded (no valid "
                          f"agreement): {', '.join(excl) if excl else 'none'}")
        console.print(f"report: {s['html']}")

    _run(go)
# ----------------------------------------------------------------------------- external


@app.command("run")
def run_spec_cmd(
    spec: Annotated[Path, typer.Option("--spec", help="Dataset spec (TOML), e.g. "
                                       "specs/uci-por-B.toml.")],
    policy: Annotated[Path | None, typer.Option(
        help="Fairness policy TOML (default configs/fairness.toml; attributes come from the "
        "spec).")] = None,
    repeats: Annotated[int | None, typer.Option(
        help="Override [validation] n_repeats (e.g. 1 for a quick check).")] = None,
    folds: Annotated[int | None, typer.Option(
        help="Override [validation] n_splits.")] = None,
    explain: Annotated[bool, typer.Option(help="Compute explanations.")] = True,
    card: Annotated[bool, typer.Option(help="Write the model card ([card] sections).")]
    = True,
) -> None:
    """Run a dataset spec: validate, cross-validate, train, audit, explain, card (MLflow)."""

    def go() -> None:
        from rich.table import Table

        from cin_ml.pipeline import run_spec

        s = run_spec(spec, policy_path=policy, explain=explain, card=card,
                     n_repeats=repeats, n_splits=folds, progress=_progress)
        cv, d = s["cross_validation"], s["dataset"]
        p = cv["protocol"]
        how = (f"{p['n_repeats']} × {p['n_splits']}-fold" if p["n_splits"]
               else f"hold-out {p['test_size']:.0%}")
        t = Table(title=f"{s['spec']} · {d['n_labelled']} rows, {d['n_events']} events "
                  f"({d['event']}) · {how} · threshold {cv['threshold']}")
        for col in ("predictor", "accuracy", f"{round(100 * cv['accuracy']['model']['level'])}"
                    "% CI"):
            t.add_column(col, justify="left" if col == "predictor" else "right")
        for name, a in cv["accuracy"].items():
            if a is None:
                continue
            label = {"model": "LightGBM", "naive": f"naive rule ({d['naive_rule']})",
                     "majority": "majority class"}[name]
            ci = "—" if a["low"] is None else f"{a['low']:.4f} – {a['high']:.4f}"
            t.add_row(label, f"{a['mean']:.4f}", ci)
        console.print(t)
        console.print(f"AUC {cv['auc']['mean']:.3f}; fairness worst verdict: "
                      f"[bold]{s['audit']['worst_verdict']}[/]")
        c = s["card"]
        console.print(f"card: {c['skipped']}" if "skipped" in c else
                      f"card ({c['status']}): {c['html']}")
        console.print(f"run {s['run_id']} in experiment {s['experiment']} "
                      f"({s['tracking_uri']})")

    _run(go)
# ----------------------------------------------------------------------------- demo


@app.command()
def demo(
    workdir: Annotated[Path, typer.Option(help="Where data/ and reports/ go.")] = Path("."),
    students: Annotated[int, typer.Option(help="Students in the simulated CSS.")] = 20000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
) -> None:
    """Run the whole chain on the embedded store and print where everything is.

    simulate → virtualize → train both tasks → audit → explain → cards (fr/en) → register →
    scripted committee review → promote to @champion → score the latest cohort by role.
    """

    def go() -> None:
        from cin_ml.pipeline import run_demo

        summary = run_demo(workdir=workdir, students=students, seed=seed, progress=_progress,
                           show=_print_simulation_summary)
        _print_demo_summary(summary)

    _run(go)


def _print_demo_summary(s: dict) -> None:
    from rich.table import Table

    t = Table(title="Models promoted to @champion (trained on the virtual CSS)")
    for col in ("task", "model", "test AUC", "indicator AUC", "fairness", "accepted fails"):
        t.add_column(col)
    for task, r in s["tasks"].items():
        t.add_row(task, f"{r['model']} (v{r['version']})", f"{r['test_auc']:.3f}",
                  f"{r['indicator_auc']:.3f}", r["fairness"],
                  ", ".join(r["accepted_fairness_fails"]) or "—")
    console.print(t)
    console.print(f"[bold]Done in {s['total_s']:.0f} s.[/] Where everything is:")
    console.print(f"  source extract      {s['simulate']['out']}  (truth: "
                  f"{s['simulate']['truth_out']})")
    console.print(f"  virtual CSS         {s['virtualize']['out']}  (report: "
                  f"{s['virtualize']['report_out']}/report.html)")
    for task, r in s["tasks"].items():
        console.print(f"  model cards {task:<12} {r['cards']['fr']}  ·  {r['cards']['en']}")
    for role, path in s["predict"].items():
        console.print(f"  predictions ({role:<8}) {path}/report.html")
    console.print("  MLflow store        mlruns/mlflow.db (artifacts in mlruns/artifacts)")
    console.print("Open the MLflow UI on it with: [bold]cin-ml ui[/] (then http://127.0.0.1:5000)")


@app.command()
def ui(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 5000,
    tracking_uri: Annotated[str | None, typer.Option(
        help="Store to browse (default: $MLFLOW_TRACKING_URI or the embedded store).")] = None,
) -> None:
    """Open the MLflow UI on the tracking store (loopback only, one worker)."""

    def go() -> None:
        import subprocess

        from cin_ml.tracking import ui_command

        argv = ui_command(port=port, tracking_uri=tracking_uri)
        console.print(f"MLflow UI on http://127.0.0.1:{port} (Ctrl-C to stop)")
        subprocess.run(argv, check=False)

    _run(go)


def cli_reference() -> str:
    """The CLI reference table of the README (Markdown), generated from this Typer app."""
    lines = ["| command | what it does | options |", "|---|---|---|"]

    def walk(group, prefix: list[str]) -> None:
        for name, sub in group.commands.items():
            if sub.hidden:
                continue
            if hasattr(sub, "commands"):
                walk(sub, [*prefix, name])
                continue
            text = " ".join((sub.help or "").strip().split("\n\n")[0].split())
            opts = " ".join(f"`{p.opts[0]}`" for p in sub.params
                            if getattr(p, "param_type_name", "") == "option"
                            and p.opts[0] != "--help")
            lines.append(f"| `cin-ml {' '.join([*prefix, name])}` | {text} | {opts} |")

    walk(typer.main.get_command(app), [])
    return "\n".join(lines) + "\n"


@app.command(hidden=True)
def reference() -> None:
    """Print the CLI reference table (Markdown) for the README."""
    sys.stdout.write(cli_reference())


def main() -> None:  # pragma: no cover - console-script entry
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
