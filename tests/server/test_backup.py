"""`cin-ml server --backup DIR`: a pg_dump and the artifacts; restored as the README says,
the database holds the same runs, versions, history and users."""

from __future__ import annotations

import json
import subprocess

from ._team import PG_ADMIN, drop_database, pg_uri

COUNTS = {"runs": "SELECT count(*) FROM runs",
          "model versions": "SELECT count(*) FROM model_versions",
          "aliases": "SELECT count(*) FROM registered_model_aliases",
          "users": "SELECT count(*) FROM users"}


def _counts(db: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(PG_ADMIN.rsplit("/", 1)[0] + f"/{db}") as con:
        return {k: con.execute(q).fetchone()[0] for k, q in COUNTS.items()}


def test_backup_then_restore_holds_the_same_store(team_server, server_runs, tmp_path):
    import uuid

    import psycopg
    from typer.testing import CliRunner

    from cin_ml.cli import app

    from .test_roles import act

    act(team_server, "d.lavoie", "register", run_id=server_runs.fresh())
    dest = tmp_path / "backup"
    r = CliRunner().invoke(app, ["server", "--backup", str(dest), "--backend-store-uri",
                                 pg_uri(team_server.db), "--data-dir",
                                 str(team_server.data_dir)])
    assert r.exit_code == 0, r.output
    manifest = json.loads((dest / "manifest.json").read_text())
    assert (dest / "db.dump").stat().st_size == manifest["dump_bytes"] > 0
    copied = sorted(p.relative_to(dest / "artifacts")
                    for p in (dest / "artifacts").rglob("*") if p.is_file())
    assert len(copied) == manifest["artifact_files"] > 0
    assert any(p.name == "card.json" for p in copied)
    again = CliRunner().invoke(app, ["server", "--backup", str(dest), "--backend-store-uri",
                                     pg_uri(team_server.db)])
    assert again.exit_code == 1 and "not empty" in again.output

    restored = f"cinml_restore_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{restored}"')
    try:
        done = subprocess.run(["pg_restore", "--no-owner", "-d",
                               f"postgresql://postgres@127.0.0.1:5432/{restored}",
                               str(dest / "db.dump")], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-2000:]
        before = _counts(team_server.db)
        assert before["model versions"] > 0 and before["users"] >= 7
        assert _counts(restored) == before
    finally:
        drop_database(restored)
