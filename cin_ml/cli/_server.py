"""``cin-ml server``: the team deployment (MLflow on PostgreSQL, basic-auth, governance
service); ``--backup DIR`` copies it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cin_ml.cli._app import _run, app, console, esc


@app.command()
def server(
    backend_store_uri: Annotated[str | None, typer.Option(
        help="PostgreSQL URI, postgresql+psycopg://USER@HOST:PORT/DB (default: "
        "configs/server.toml).")] = None,
    data_dir: Annotated[Path | None, typer.Option(
        help="Served artifacts, auth config, passwords and log (default: [server] "
        "data_dir).")] = None,
    port: Annotated[int | None, typer.Option(help="MLflow port (default: [server] port).")]
    = None,
    governance_port: Annotated[int | None, typer.Option(
        help="Governance service port (default: --port + 1, or [server] "
        "governance_port).")] = None,
    host: Annotated[str | None, typer.Option(
        help="Interface to bind (default: [server] host, loopback).")] = None,
    passwords: Annotated[Path | None, typer.Option(
        help="TOML file user = \"password\" (default: DATA_DIR/passwords.toml; missing "
        "users get generated passwords written there).")] = None,
    config: Annotated[Path | None, typer.Option(
        help="Server settings (default: configs/server.toml).")] = None,
    governance_config: Annotated[Path | None, typer.Option(
        help="Roles and policy (default: configs/governance.toml).")] = None,
    backup: Annotated[Path | None, typer.Option(
        "--backup", help="Do not serve: write a consistent copy (pg_dump + artifacts) to "
        "this new folder.")] = None,
    demo_key: Annotated[bool, typer.Option(
        "--demo-key", help="Without a configured governance key, use the PUBLIC demo key "
        "(simulated data only).")] = False,
) -> None:
    """Run the team server: MLflow on PostgreSQL with basic-auth and the governance
    service; creates users, permissions, experiments and models from governance.toml."""

    def go() -> None:
        from cin_ml.server import backup as do_backup
        from cin_ml.server import load_server_settings, make_plan, serve

        plan = make_plan(load_server_settings(config), backend_store_uri=backend_store_uri,
                         data_dir=data_dir, port=port, governance_port=governance_port,
                         host=host, passwords_file=passwords,
                         governance_config=governance_config, demo_key=demo_key)
        if backup is not None:
            m = do_backup(plan.backend_store_uri, plan.artifacts_dir, backup)
            console.print(f"backup written to {esc(backup.resolve())}: database "
                          f"{esc(m['database'])} ({m['dump_bytes']:,} bytes, pg_dump) · "
                          f"{m['artifact_files']:,} artifact files")
            return
        serve(plan, say=lambda line: console.print(esc(line), soft_wrap=True))
        console.print("team server stopped")

    _run(go)
