"""``cin-ml server --backup DIR``: a consistent copy of a team server.

1. ``pg_dump`` (custom format) of the PostgreSQL database: runs, registry, governance
   history and MLflow's users and grants, as one transaction snapshot;
2. then the served artifacts folder (copied after the dump, so every artifact the dump
   refers to is in the copy; artifacts are written once, never rewritten in place);
3. ``manifest.json``: what was copied, when, from where, and the restore commands.

Restore (README, "Team deployment"): create an empty database, ``pg_restore`` the dump into
it, copy ``artifacts/`` back under the data folder, start ``cin-ml server`` on it.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path

from cin_ml.errors import GovernanceError


def libpq_uri(sqlalchemy_uri: str) -> str:
    """The libpq form (``postgresql://...``) of a SQLAlchemy PostgreSQL URI."""
    return "postgresql://" + sqlalchemy_uri.split("://", 1)[1]


def backup(backend_store_uri: str, artifacts_dir: Path, dest: Path) -> dict:
    """Write ``dest/db.dump``, ``dest/artifacts/`` and ``dest/manifest.json``; ``dest`` must
    not exist or be empty. Returns the manifest."""
    dest = Path(dest).expanduser().resolve()
    if dest.exists() and any(dest.iterdir()):
        raise GovernanceError(f"backup folder {dest} is not empty: name a new folder")
    if shutil.which("pg_dump") is None:
        raise GovernanceError("pg_dump not found: install PostgreSQL's client tools "
                              "(apt-get install postgresql-client)")
    tmp = dest.with_name(dest.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    done = subprocess.run(["pg_dump", "--format=custom", "--no-owner",
                           "--file", str(tmp / "db.dump"), libpq_uri(backend_store_uri)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        last = (done.stderr.strip().splitlines() or ["failed"])[-1]
        raise GovernanceError(f"pg_dump failed: {last}")
    n_files = 0
    if artifacts_dir.is_dir():
        shutil.copytree(artifacts_dir, tmp / "artifacts")
        n_files = sum(1 for p in (tmp / "artifacts").rglob("*") if p.is_file())
    else:
        (tmp / "artifacts").mkdir()
    manifest = {"at": at, "database": libpq_uri(backend_store_uri).rsplit("/", 1)[-1],
                "dump": "db.dump", "dump_bytes": (tmp / "db.dump").stat().st_size,
                "artifacts": "artifacts", "artifact_files": n_files,
                "restore": ["createdb NEW_DB",
                            "pg_restore --no-owner -d postgresql://USER@HOST:PORT/NEW_DB "
                            "db.dump",
                            "cp -a artifacts DATA_DIR/artifacts",
                            "cin-ml server --backend-store-uri "
                            "postgresql+psycopg://USER@HOST:PORT/NEW_DB --data-dir DATA_DIR"]}
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    if dest.exists():
        dest.rmdir()
    tmp.rename(dest)
    return manifest
