"""Monitoring of a served model (monitor): drift, label-free estimates, conditions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cin_ml.cli._app import _progress, _run, app, console, esc


@app.command()
def monitor(
    model: Annotated[str, typer.Option(help="Registered model and alias, NAME@champion.")],
    data: Annotated[Path, typer.Option(help="Extract folder whose newest cohort to watch.")],
    out: Annotated[Path, typer.Option(help="Reports folder (writes <out>/monitor/...).")]
    = Path("reports"),
    config: Annotated[Path | None, typer.Option(help="monitoring.toml to use.")] = None,
    tracking_uri: Annotated[str | None, typer.Option(help="MLflow store.")] = None,
    demo_key: Annotated[bool, typer.Option(
        "--demo-key", help="Without a configured governance key, check the history with the "
        "PUBLIC demo key (simulated data only).")] = False,
) -> None:
    """Watch a served model on the newest cohort: input and score drift, flag-rate change,
    AUC and recall estimated before the labels, realized once they are in, and the state of
    the approval's conditions (HTML fr/en + JSON, logged to MLflow)."""

    def go() -> None:
        from cin_ml.pipeline import run_monitor

        s = run_monitor(model, data, out=out, config=config, tracking_uri=tracking_uri,
                        demo_key=demo_key, progress=_progress)
        e, c = s["estimate"], s["cohort"]
        lo, hi = e["auc_interval"]
        console.print(f"{esc(s['model'])} v{esc(s['version'])} · cohort {esc(c['year'])}: "
                      f"{c['n_students']:,} students · estimated AUC {e['auc']:.3f} "
                      f"[{lo:.3f}, {hi:.3f}] · estimated recall {e['recall']:.3f}")
        if s["realized"]:
            r = s["realized"]
            auc = "—" if r["auc"] is None else f"{r['auc']:.3f}"
            console.print(f"cohort {esc(r['year'])} (labels in): realized AUC {esc(auc)}")
        for cond in s["conditions"]:
            obs = "—" if cond["observed"] is None else f"{cond['observed']:.3f}"
            colour = {"breached": "red", "holds": "green"}.get(cond["state"], "yellow")
            console.print(f"  condition {esc(cond['text'])}: [{esc(colour)}]{esc(cond['state'])}[/]"
                          f" ({esc(obs)})")
        for a in s["alarms"]:
            console.print(f"  [bold red]alarm[/] {esc(a)}", soft_wrap=True)
        if not s["alarms"]:
            console.print("  no alarm")
        console.print(f"report: {esc(s['html'])}"
                      + (f" · monitoring run {esc(s['run_id'])}" if s["run_id"] else ""))

    _run(go)
