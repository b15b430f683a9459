"""Scoring by role (predict), dataset specs (run), the demo and the MLflow UI."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cin_ml.cli._app import _progress, _run, app, console, err_console, esc  # noqa: F401
from cin_ml.cli._data import _print_simulation_summary

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
    demo_key: Annotated[bool, typer.Option(
        "--demo-key", help="Without a configured governance key, check the history with the "
        "PUBLIC demo key (simulated data only).")] = False,
) -> None:
    """Score an extract with a promoted model for one role: a school's nominative list, a
    CSS's aggregates, or the ministry's de-identified aggregates of consenting CSS."""

    def go() -> None:
        from cin_ml.pipeline import run_predict

        s = run_predict(model, data, role, scope, out=out, agreements=agreements, lang=lang,
                        config=config, tracking_uri=tracking_uri, demo_key=demo_key,
                        progress=_progress)
        c = s["cohort"]
        n = s.get("scope_counts") or c  # a school's own counts; an aggregate's as published

        def count(n: int | None) -> str:  # an aggregate role's manifest hides small counts
            return "(hidden)" if n is None else f"{n:,}"

        console.print(f"{esc(s['model']['name'])} v{esc(s['model']['version'])} · "
                      f"{esc(s['role'])} {esc(s['scope'])}: {esc(count(n['n_students']))} "
                      f"students scored, {esc(count(n['n_flagged']))} at "
                      f"or above the threshold ({c['threshold']:.3f})")
        if s.get("suppression"):
            sup = s["suppression"]
            console.print(f"cells below {esc(sup['min_cell_size'])} hidden: {sup['n_primary']:,} "
                          f"primary, {sup['n_complementary']:,} complementary")
        if s["role"] == "ministry":
            excl = s["consent"]["excluded"]
            console.print(f"CSS included: {esc(', '.join(s['css_included']))}; excluded (no valid "
                          f"agreement): {esc(', '.join(excl) if excl else 'none')}")
        console.print(f"report: {esc(s['html'])}")

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
        t = Table(title=f"{esc(s['spec'])} · {esc(d['n_labelled'])} rows, "
                  f"{esc(d['n_events'])} events "
                  f"({esc(d['event'])}) · {esc(how)} · threshold {esc(cv['threshold'])}")
        for col in ("predictor", "accuracy", f"{round(100 * cv['accuracy']['model']['level'])}"
                    "% CI"):
            t.add_column(esc(col), justify="left" if col == "predictor" else "right")
        for name, a in cv["accuracy"].items():
            if a is None:
                continue
            label = {"model": "LightGBM", "naive": f"naive rule ({d['naive_rule']})",
                     "majority": "majority class"}[name]
            ci = "—" if a["low"] is None else f"{a['low']:.4f} – {a['high']:.4f}"
            t.add_row(esc(label), f"{a['mean']:.4f}", esc(ci))
        console.print(t)
        console.print(f"AUC {cv['auc']['mean']:.3f}; fairness worst verdict: "
                      f"[bold]{esc(s['audit']['worst_verdict'])}[/]")
        c = s["card"]
        console.print(f"card: {esc(c['skipped'])}" if "skipped" in c else
                      f"card ({esc(c['status'])}): {esc(c['html'])}")
        console.print(f"run {esc(s['run_id'])} in experiment {esc(s['experiment'])} "
                      f"({esc(s['tracking_uri'])})")

    _run(go)
# ----------------------------------------------------------------------------- demo


@app.command()
def demo(
    workdir: Annotated[Path, typer.Option(help="Where data/ and reports/ go.")] = Path("."),
    students: Annotated[int, typer.Option(
        help="Students in the simulated CSS (at least 20,000: smaller test cohorts cannot "
             "show the dropout model beating the traditional indicator).")] = 20000,
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
        t.add_column(esc(col))
    for task, r in s["tasks"].items():
        t.add_row(esc(task), f"{esc(r['model'])} (v{esc(r['version'])})", f"{r['test_auc']:.3f}",
                  f"{r['indicator_auc']:.3f}", esc(r["fairness"]),
                  esc(", ".join(r["accepted_fairness_fails"]) or "—"))
    console.print(t)
    console.print(f"[bold]Done in {s['total_s']:.0f} s.[/] Where everything is:")
    console.print(f"  source extract      {esc(s['simulate']['out'])}  (truth: "
                  f"{esc(s['simulate']['truth_out'])})")
    console.print(f"  virtual CSS         {esc(s['virtualize']['out'])}  (report: "
                  f"{esc(s['virtualize']['report_out'])}/report.html)")
    for task, r in s["tasks"].items():
        console.print(f"  model cards {esc(task):<12} {esc(r['cards']['fr'])}  ·  "
                      f"{esc(r['cards']['en'])}")
        if r.get("reviewed_cards"):
            shown = "  ·  ".join(r["reviewed_cards"].values())
            console.print(f"  with the decision   {esc(shown)}")
    for role, path in s["predict"].items():
        console.print(f"  predictions ({esc(role):<8}) {esc(path)}/report.html")
    from cin_ml.store import resolve_store

    store = resolve_store()
    console.print(f"  MLflow store        {esc(store.tracking_uri)} (artifacts in "
                  f"{esc(store.artifact_root or 'the server')})")
    g = s.get("governance_key")
    if g:
        console.print(f"  governance history  anchored in {esc(g['anchor'])}")
        if g["demo"]:
            console.print("[bold yellow]The governance history is authenticated with the "
                          "PUBLIC demo key[/]: anyone can forge its events. To act on this "
                          "demo store, pass [bold]--demo-key[/] (e.g. `cin-ml history "
                          "--verify --demo-key`) or export CIN_ML_GOVERNANCE_DEMO_KEY=1. "
                          "For real use, set "
                          "CIN_ML_GOVERNANCE_KEY_FILE to a secret file outside the store.")
    console.print("Open the MLflow UI on it with: [bold]cin-ml ui[/] (then http://127.0.0.1:5000)")
    from cin_ml.cli._review import REVIEW_APP_PORT, review_app_command

    console.print(f"Review the models in a browser (ethics committee) with: [bold]"
                  f"{esc(review_app_command(store.tracking_uri, bool(g and g['demo'])))}[/] "
                  f"(then http://127.0.0.1:{esc(REVIEW_APP_PORT)}/ and sign in as "
                  f"{esc(s.get('reviewer') or 'a committee member')})", soft_wrap=True)


@app.command()
def ui(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 5000,
    tracking_uri: Annotated[str | None, typer.Option(
        help="Store to browse (default: $MLFLOW_TRACKING_URI or the embedded store).")] = None,
) -> None:
    """Open the MLflow UI on the tracking store (loopback only, one worker)."""

    def go() -> None:
        from cin_ml.tracking import serve_ui

        console.print(f"starting the MLflow UI on port {esc(port)}…", style="dim")
        serve_ui(port, tracking_uri, on_ready=lambda url, s: console.print(
            f"MLflow UI on {esc(url)} (answered after {s:.0f} s; Ctrl-C to stop)"))
        console.print("MLflow UI stopped")

    _run(go)


