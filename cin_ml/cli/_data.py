"""Commands of the data side: simulate, de-identify, virtualize."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cin_ml.cli._app import _progress, _run, app, console, err_console, esc  # noqa: F401

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

    t = Table(title=f"Source extract → {esc(summary['out'])}")
    t.add_column("table")
    t.add_column("rows", justify="right")
    for name, n in summary["rows"].items():
        t.add_row(esc(name), f"{n:,}")
    console.print(t)
    o = Table(title="Outcomes and ceilings (ground truth)")
    for col in ("task", "labelled students", "observed rate", "oracle AUC"):
        o.add_column(esc(col), justify="right" if col != "task" else "left")
    for task, s in summary["tasks"].items():
        o.add_row(esc(task), f"{s['n_labelled']:,}", f"{s['rate']:.1%}", f"{s['oracle_auc']:.3f}")
    console.print(o)
    console.print(f"Ground truth (evaluation only): {esc(summary['truth_out'])}")


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
                      f" → {esc(s['out'])} (key id {esc(r['key']['key_id'])})")
        console.print(f"k-anonymity over {esc(', '.join(ka['quasi_identifiers']))}: k "
                      f"{esc(ka['k_before'])} → {esc(ka['k_after'])} "
                      f"(target {esc(ka['k_target'])}); "
                      f"generalized {esc(ka['generalization'])}; "
                      f"{esc(ka['n_cells_suppressed'])} cells "
                      f"and {esc(ka['n_records_suppressed'])} students suppressed")
        if "truth_out" in s:
            console.print(f"Re-keyed ground truth (evaluation only): {esc(s['truth_out'])}")

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
    t = Table(title=f"Virtual CSS → {esc(s['out'])}")
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
        t.add_row(esc(name), f"{val:.4g}", "[green]pass[/]" if ok else "[red]FAIL[/]")
    console.print(t)
    if (r.get("deidentification") or {}).get("key", {}).get("demo"):
        err_console.print("[bold yellow]WARNING: public demo key used — pseudonyms are not "
                          "secret (simulated data only).[/]")
    console.print(f"Report: {esc(s['report_out'])}/report.html · synthesizer: {esc(s['model_out'])}"
                  + (f" · MLflow run {esc(s['run_id'])}" if s["run_id"] else ""))


