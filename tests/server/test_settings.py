"""configs/server.toml is validated like every config; bad input is one line, exit 1."""

from __future__ import annotations

import pytest

from cin_ml.errors import ConfigError


def test_packaged_server_settings_load_and_default_to_loopback():
    from cin_ml.server import load_server_settings, make_plan

    s = load_server_settings()
    assert s.server.host == "127.0.0.1" and s.server.default_permission == "READ"
    plan = make_plan(s, port=6100, data_dir="/tmp/x")
    assert (plan.port, plan.governance_port) == (6100, 6101)
    assert plan.backend_store_uri.startswith("postgresql+psycopg://")


@pytest.mark.parametrize(("text", "key"), [
    ('[server]\nbackend_store_uri = "sqlite:///x.db"\n', "server.backend_store_uri"),
    ('[server]\nbackend_store_uri = "postgresql://p@h/db"\ndefault_permission = "EDIT"\n',
     "server.default_permission"),
    ('[server]\nbackend_store_uri = "postgresql://p@h/db"\nworkerz = 2\n', "server.workerz"),
])
def test_bad_server_settings_name_the_key(tmp_path, text, key):
    from cin_ml.server import load_server_settings

    p = tmp_path / "server.toml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")) as err:
        load_server_settings(p)
    assert str(p) in str(err.value)


def test_cli_refuses_a_non_postgres_store_in_one_line():
    from typer.testing import CliRunner

    from cin_ml.cli import app

    r = CliRunner().invoke(app, ["server", "--backend-store-uri", "sqlite:///x.db"])
    assert r.exit_code == 1 and "must be a PostgreSQL URI" in r.output
    assert "Traceback" not in r.output
