"""Commands of the ethics committee and the operators: register, review, promote, rollback,
compare, history, governance check."""

from __future__ import annotations

from typing import Annotated

import typer

from cin_ml.cli._app import _progress, _run, app, console, err_console, esc  # noqa: F401

# ----------------------------------------------------------------------------- governance
DemoKey = Annotated[bool, typer.Option(
    "--demo-key", help="Without a configured governance key (CIN_ML_GOVERNANCE_KEY_FILE), "
    "use the PUBLIC demo key: it protects nothing; simulated data only.")]
_WHO_HELP = "(default: $CIN_ML_USER). Declared, not authenticated, in the embedded store."


@app.command()
def register(
    run: Annotated[str, typer.Option("--run", help="Training run id with a complete card.")],
    author: Annotated[str | None, typer.Option(
        help="Who built the model (default: the run's cin.author, then $CIN_ML_USER).")]
    = None,
    demo_key: DemoKey = False,
) -> None:
    """Register a run as a pending version of its task's model (needs a complete card)."""

    def go() -> None:
        from cin_ml.pipeline import run_register

        s = run_register(run, author=author, demo_key=demo_key, progress=_progress)
        console.print(f"Registered [bold]{esc(s['model'])} v{esc(s['version'])}[/] from run "
                      f"{esc(s['run_id'])}"
                      f" · author {esc(s['author'])} · review pending")
        console.print(f"card SHA-256 {esc(s['card_sha256'])} · fairness (worst): "
                      f"{esc(s['fairness_worst'])}"
                      + (f" · fails: {esc(', '.join(s['fairness_fails']))}"
                                                  if s["fairness_fails"] else ""))
        console.print(f"history event #{esc(s['event'])}")

    _run(go)


@app.command()
def review(
    model: Annotated[str, typer.Option(help="Registered model, e.g. cin-ecriture-4e.")],
    version: Annotated[str, typer.Option(help="Model version number, or latest (the highest).")],
    approve: Annotated[bool | None, typer.Option(
        "--approve/--reject", help="The committee's decision.")] = None,
    reviewer: Annotated[str | None, typer.Option(
        help="Committee member deciding " + _WHO_HELP)] = None,
    comment: Annotated[str, typer.Option(help="Why (required to reject).")] = "",
    conditions: Annotated[str, typer.Option(help="Conditions attached to an approval.")] = "",
    condition: Annotated[list[str] | None, typer.Option(
        "--condition", help="A condition as code that monitoring checks, e.g. "
        "'fnr_gap(intervention_plan) <= 0.25' or 'estimated_auc >= 0.85'; repeatable. "
        "governance check withdraws @champion when one is breached.")] = None,
    accept_fairness: Annotated[list[str] | None, typer.Option(
        "--accept-fairness", help="Accept a fairness fail verdict, BREAKDOWN:METRIC "
        "(e.g. sex:fnr, language_group:*); repeatable.")] = None,
    expires: Annotated[str | None, typer.Option(
        help="Approval end date YYYY-MM-DD (default and maximum: [approval] "
        "max_validity_days).")] = None,
    demo_key: DemoKey = False,
) -> None:
    """Record the ethics committee's decision on a model version."""

    def go() -> None:
        from cin_ml.errors import GovernanceError
        from cin_ml.pipeline import run_review

        if approve is None:
            raise GovernanceError("say --approve or --reject")
        s = run_review(model, version, approve=approve, demo_key=demo_key, reviewer=reviewer,
                       comment=comment, conditions=conditions,
                       accept_fairness=tuple(accept_fairness or ()), expires=expires,
                       condition_rules=tuple(condition or ()), progress=_progress)
        colour = "green" if s["state"] == "approved" else "red"
        console.print(f"{esc(s['model'])} v{esc(s['version'])}: "
                      f"[bold {esc(colour)}]{esc(s['state'])}[/] by {esc(s['reviewer'])}"
                      + (f" until {esc(s['expires'])}" if s["expires"] else ""))
        if s["accepted_fairness"]:
            console.print(f"accepted fairness fails: {esc(', '.join(s['accepted_fairness']))}")
        for c in s.get("monitoring_conditions", []):
            console.print(f"condition: {esc(c['text'])}")
        console.print(f"bound to card {esc(s['card_sha256'])} · history event #{esc(s['event'])}")
        _print_reviewed(s)

    _run(go)


def _print_reviewed(s: dict) -> None:
    """Where the reader finds the card with the decision (or why it was not rendered): the
    version's and, when an alias moved away from another version, that version's."""
    for key, local, label in (
            ("reviewed_card", "reviewed_local", "card with the decision"),
            ("previous_reviewed_card", "previous_reviewed_local",
             f"card of v{(s.get('previous_reviewed_card') or {}).get('version')} "
             f"(no longer @{s.get('alias', 'champion')})")):
        rc, paths = s.get(key), s.get(local)
        if not rc:
            continue
        if paths:
            console.print(f"{esc(label)}: {esc(', '.join(paths.values()))}", soft_wrap=True)
        elif rc.get("files"):
            console.print(f"{esc(label)}: {esc(', '.join(rc['files']))} in run "
                          f"{esc(rc['run_id'])}", soft_wrap=True)
        elif rc.get("note"):
            err_console.print(f"[yellow]note:[/] {esc(rc['note'])}", soft_wrap=True)


@app.command()
def promote(
    model: Annotated[str, typer.Option(help="Registered model, e.g. cin-ecriture-4e.")],
    version: Annotated[str, typer.Option(help="Model version number, or latest (the highest).")],
    alias: Annotated[str, typer.Option(help="champion or challenger.")] = "champion",
    operator: Annotated[str | None, typer.Option(help="Operator acting " + _WHO_HELP)] = None,
    why: Annotated[str, typer.Option(help="Reason, recorded in the history.")] = "",
    demo_key: DemoKey = False,
) -> None:
    """Move @champion (or @challenger) to a version if every gate holds."""

    def go() -> None:
        from cin_ml.errors import GateError
        from cin_ml.pipeline import run_promote

        try:
            s = run_promote(model, version, alias=alias, demo_key=demo_key,
                            operator=operator, why=why, progress=_progress)
        except GateError as exc:
            err_console.print(f"[bold red]refused:[/] {esc(model)} v{esc(version)} @{esc(alias)}: "
                              f"{len(exc.failed_gates)} gate(s) failed")
            for line in str(exc).split(": ", 1)[1].split("; "):
                err_console.print(f"  [red]✗[/] {esc(line)}", soft_wrap=True)
            raise typer.Exit(1) from None
        for r in s["gates"]["results"]:
            console.print(f"  [green]✓[/] {esc(r['gate'])}: {esc(r['detail'])}", soft_wrap=True)
        prev = f" (was v{s['previous']})" if s["previous"] else ""
        console.print(f"[bold]{esc(s['model'])}@{esc(s['alias'])}[/] → "
                      f"v{esc(s['version'])}{esc(prev)} · "
                      f"history event #{esc(s['event'])}")
        _print_reviewed(s)

    _run(go)


@app.command()
def rollback(
    model: Annotated[str, typer.Option(help="Registered model.")],
    operator: Annotated[str | None, typer.Option(help="Operator acting " + _WHO_HELP)] = None,
    why: Annotated[str, typer.Option(help="Reason (required), recorded in the history.")]
    = "",
    demo_key: DemoKey = False,
) -> None:
    """Move @champion back to the last earlier champion that still passes the gates."""

    def go() -> None:
        from cin_ml.pipeline import run_rollback

        s = run_rollback(model, operator=operator, demo_key=demo_key, why=why,
                         progress=_progress)
        console.print(f"[bold]{esc(s['model'])}@champion[/] → v{esc(s['version'])} (was "
                      f"v{esc(s['previous'])}) · history event #{esc(s['event'])}")
        _print_reviewed(s)

    _run(go)


@app.command()
def compare(
    model: Annotated[str, typer.Option(help="Registered model.")],
    demo_key: DemoKey = False,
) -> None:
    """Compare @challenger with @champion on the same test cohort."""

    def go() -> None:
        from rich.table import Table

        from cin_ml.pipeline import run_compare

        s = run_compare(model, demo_key=demo_key, progress=_progress)
        t = Table(title=f"{esc(s['model'])} · test cohort {esc(s['test_cohort'])} · "
                        f"{s['n']:,} students")
        t.add_column("metric")
        t.add_column(f"champion v{esc(s['champion'])}", justify="right")
        t.add_column(f"challenger v{esc(s['challenger'])}", justify="right")
        for k in s["metrics"]["champion"]:
            t.add_row(esc(k), f"{s['metrics']['champion'][k]:.3f}",
                      f"{s['metrics']['challenger'][k]:.3f}")
        t.add_row("fairness (worst)", esc(s["fairness"]["champion"]),
                  esc(s["fairness"]["challenger"]))
        console.print(t)
        d = s["auc_diff"]
        ci = (f" [{d['low']:+.3f}, {d['high']:+.3f}]" if d["low"] is not None else "")
        console.print(f"AUC challenger − champion: {d['estimate']:+.3f}{esc(ci)} "
                      f"({d['ci_level']:.0%} paired bootstrap, {esc(d['n_boot'])} draws)")

    _run(go)


@app.command()
def history(
    model: Annotated[str | None, typer.Option(help="Only this model's events.")] = None,
    verify: Annotated[bool, typer.Option(
        "--verify", help="Check that no event was edited or removed (exit 1 if so).")]
    = False,
    demo_key: DemoKey = False,
) -> None:
    """Print the append-only governance history (who, when, what, why)."""

    def go() -> None:
        from rich.table import Table

        from cin_ml.errors import GovernanceError
        from cin_ml.pipeline import run_history

        s = run_history(model, verify=verify, demo_key=demo_key, progress=_progress)
        t = Table(title="Governance history" + (f" · {esc(model)}" if model else ""))
        for col in ("#", "when (UTC)", "event", "model", "v", "who", "why"):
            t.add_column(esc(col))
        for e in s["events"]:
            t.add_row(esc(e["seq"]), esc(e["at"][:19].replace("T", " ")), esc(e["type"]),
                      esc(e["model"] or ""), esc(e["version"] or ""), esc(e["actor"]),
                      esc(e["why"][:80]))
        console.print(t)
        if verify:
            v = s["verify"]
            for n in v["notes"]:
                console.print(f"[dim]note:[/] {esc(n)}")
            if not v["ok"]:
                raise GovernanceError("history verification failed: "
                                      + "; ".join(v["problems"]))
            console.print(f"[bold green]history verified[/]: {esc(v['n_events'])} events, "
                          f"chain intact, head {esc(v['head'] or '(empty)')}")

    _run(go)


governance_app = typer.Typer(help="Periodic governance checks.", no_args_is_help=True)
app.add_typer(governance_app, name="governance")


@governance_app.command("check")
def governance_check(
    actor: Annotated[str | None, typer.Option(
        help="Who runs the check (default: system:governance-check).")] = None,
    on: Annotated[str | None, typer.Option(help="Check as of YYYY-MM-DD (default: today).")]
    = None,
    demo_key: DemoKey = False,
) -> None:
    """Reconcile the registry with the governance history: restore tags and aliases changed
    outside cin-ml, expire approvals, flag models whose data-use agreements lapsed, withdraw
    @champion from versions no longer valid and restore the last valid one, mark killed
    training runs FAILED. Exit code 2 when the registry had to be repaired."""

    def go() -> bool:
        from cin_ml.pipeline import run_governance_check

        s = run_governance_check(actor=actor, demo_key=demo_key, on_date=on, progress=_progress)
        for e in s["tags_restored"]:
            console.print(f"[bold red]tags restored[/] {esc(e['model'])} v{esc(e['version'])}: "
                          f"{esc(e['why'])}", soft_wrap=True)
        for e in s["foreign"]:
            console.print(f"[red]not registered by cin-ml[/] {esc(e['model'])} "
                          f"v{esc(e['version'])} (never promoted nor served)")
        for e in s["expired"]:
            console.print(f"[yellow]expired[/] approval of {esc(e['model'])} v{esc(e['version'])}")
        for e in s.get("breached", []):
            texts = "; ".join(f"{c['text']} (observed {c['observed']:.4g})"
                              for c in e["conditions"])
            console.print(f"[bold red]condition breached[/] {esc(e['model'])} "
                          f"v{esc(e['version'])}: {esc(texts)} · needs a new review",
                          soft_wrap=True)
        for e in s["consent_flagged"]:
            console.print(f"[red]consent[/] {esc(e['model'])} v{esc(e['version'])}: "
                          f"{esc(e['reason'])}",
                          soft_wrap=True)
        for e in s["consent_cleared"]:
            console.print(f"[green]consent valid again[/] {esc(e['model'])} v{esc(e['version'])}")
        for w in s["withdrawn"]:
            to = f"restored v{w['to']}" if w["to"] else "no valid version left: alias removed"
            why = f" ({w['why']})" if w.get("why") else ""
            console.print(f"[bold red]withdrawn[/] {esc(w['model'])}@{esc(w['alias'])} from "
                          f"v{esc(w['from'])}{esc(why)}; {esc(to)}", soft_wrap=True)
        for u in s.get("unpinned", []):
            console.print(f"[yellow]model files not pinned[/] {esc(u['model'])}"
                          f"@{esc(u['alias'])}: {esc(u['note'])}", soft_wrap=True)
        for r in s["restored"]:
            to = f"v{r['to']}" if r["to"] else "no alias (as the history has it)"
            console.print(f"[bold red]restored[/] {esc(r['model'])}@{esc(r['alias'])} → "
                          f"{esc(to)}: {esc(r['why'])}", soft_wrap=True)
        for rc in s.get("reviewed_cards", []):
            where = ", ".join((rc.get("local") or {}).values()) or ", ".join(rc.get("files", []))
            if where:
                console.print(f"card of {esc(rc['model'])} v{esc(rc['version'])} "
                              f"(serving status): {esc(where)}", soft_wrap=True)
            elif rc.get("note"):
                err_console.print(f"[yellow]note:[/] {esc(rc['note'])}", soft_wrap=True)
        for rid in s["stale_runs"]:
            console.print(f"[yellow]run marked FAILED[/] {esc(rid)} (left RUNNING: its "
                          f"process was killed)")
        if not s["changed"]:
            console.print(f"governance check {esc(s['on_date'])}: nothing to do")
        if s["repaired"]:
            err_console.print("[bold red]governance check repaired the registry[/] (exit 2): "
                              "changes made outside cin-ml or versions no longer valid")
        return s["repaired"]

    if _run(go):
        raise typer.Exit(2)
