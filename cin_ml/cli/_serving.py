"""Scoring by role (predict), dataset specs (run), the demo and the MLflow UI."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cin_ml.cli._app import _progress, _run, app, console, err_console  # noqa: F401
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
    from cin_ml.store import resolve_store

    store = resolve_store()
    console.print(f"  MLflow store        {store.tracking_uri} (artifacts in "
                  f"{store.artifact_root or 'the server'})")
    g = s.get("governance_key")
    if g:
        console.print(f"  governance history  anchored in {g['anchor']}")
        if g["demo"]:
            console.print("[bold yellow]The governance history is authenticated with the "
                          "PUBLIC demo key[/]: anyone can forge its events. To act on this "
                          "demo store, pass [bold]--demo-key[/] (e.g. `cin-ml history "
                          "--verify --demo-key`) or export CIN_ML_GOVERNANCE_DEMO_KEY=1. "
                          "For real use, set "
                          "CIN_ML_GOVERNANCE_KEY_FILE to a secret file outside the store.")
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


