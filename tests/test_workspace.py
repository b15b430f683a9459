"""Behaviour does not depend on the working directory: configs, the store, the code version,
and the registry's model lookups (docs/architecture.md, the store and the run contract)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import cin_ml
from cin_ml.config import config_dir, config_path, packaged_config_dir
from cin_ml.store import find_workspace_db, resolve_store


@pytest.fixture()
def no_store_env(monkeypatch):
    """No MLFLOW_TRACKING_URI / CIN_ML_ARTIFACT_ROOT: the default store is resolved."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("CIN_ML_ARTIFACT_ROOT", raising=False)


def _fresh(tmp_path: Path) -> Path:
    if find_workspace_db(tmp_path) is not None:  # pragma: no cover - depends on the machine
        pytest.skip(f"a folder above {tmp_path} holds mlruns/mlflow.db")
    return tmp_path


# ----------------------------------------------------------------------------- configs


def test_configs_ship_inside_the_package():
    pkg = Path(cin_ml.__file__).resolve().parent
    assert packaged_config_dir() == pkg / "configs"
    for name in ("access", "consent", "explain", "fairness", "features", "governance",
                 "harmonize", "models", "simulate", "virtual_css", "cards/ecriture_4e",
                 "cards/decrochage"):
        assert (packaged_config_dir() / f"{name}.toml").is_file(), name


def test_configs_resolve_the_same_from_any_directory(tmp_path, monkeypatch):
    monkeypatch.delenv("CIN_ML_CONFIG_DIR", raising=False)
    decoy = tmp_path / "configs"  # a ./configs in the cwd is no longer read
    decoy.mkdir()
    (decoy / "models.toml").write_text("not = [valid", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert config_dir() == packaged_config_dir()
    from cin_ml.models import load_model_settings

    load_model_settings()  # the packaged file, not the decoy


def test_config_dir_env_overrides_and_is_made_absolute(tmp_path, monkeypatch):
    (tmp_path / "policy").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CIN_ML_CONFIG_DIR", "policy")
    assert config_dir() == tmp_path.resolve() / "policy"
    assert config_path("fairness") == tmp_path.resolve() / "policy" / "fairness.toml"


# ----------------------------------------------------------------------------- the store


def test_sub_folder_finds_the_workspace_store(tmp_path, monkeypatch, no_store_env):
    ws = _fresh(tmp_path) / "ws"
    (ws / "mlruns").mkdir(parents=True)
    from mlflow import MlflowClient

    top = resolve_store(f"sqlite:///{ws / 'mlruns' / 'mlflow.db'}")
    MlflowClient(top.tracking_uri).create_experiment("made-at-the-top")
    sub = ws / "data" / "virtual"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    s = resolve_store()
    assert s.tracking_uri == f"sqlite:///{ws.resolve() / 'mlruns' / 'mlflow.db'}"
    assert s.artifact_root == str(ws.resolve() / "mlruns" / "artifacts")
    assert MlflowClient(s.tracking_uri).get_experiment_by_name("made-at-the-top") is not None
    assert not (sub / "mlruns").exists()  # no second, empty store


def test_fresh_folder_gets_its_own_store(tmp_path, monkeypatch, no_store_env):
    fresh = _fresh(tmp_path) / "fresh"
    fresh.mkdir()
    monkeypatch.chdir(fresh)
    s = resolve_store()
    assert s.tracking_uri == f"sqlite:///{fresh.resolve() / 'mlruns' / 'mlflow.db'}"
    assert (fresh / "mlruns").is_dir()


def test_tracking_uri_env_still_overrides_the_workspace(tmp_path, monkeypatch, no_store_env):
    ws = _fresh(tmp_path)
    (ws / "mlruns").mkdir()
    (ws / "mlruns" / "mlflow.db").touch()
    monkeypatch.chdir(ws)
    other = f"sqlite:///{tmp_path / 'elsewhere' / 'm.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", other)
    assert resolve_store().tracking_uri == other


# ----------------------------------------------------------------------------- code version


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org",
                           "-c", "commit.gpgsign=false", *args], cwd=cwd, check=True,
                          capture_output=True, text=True).stdout.strip()


@pytest.fixture()
def other_repo(tmp_path):
    repo = tmp_path / "other"
    repo.mkdir()
    _git(repo, "init", "-q")
    (repo / "x.txt").write_text("x", encoding="utf-8")
    _git(repo, "add", "x.txt")
    _git(repo, "commit", "-q", "-m", "other")
    return repo, _git(repo, "rev-parse", "HEAD")


def test_git_commit_is_cin_mls_own_not_the_cwds(other_repo, monkeypatch):
    from cin_ml.tracking import git_commit

    repo, other_sha = other_repo
    monkeypatch.chdir(repo)
    got = git_commit()
    assert not got.startswith(other_sha)
    pkg = Path(cin_ml.__file__).resolve().parent
    mine = subprocess.run(["git", "-C", str(pkg), "ls-files", "--error-unmatch",
                           "__init__.py"], capture_output=True).returncode == 0
    if mine:  # installed from a checkout: that checkout's commit
        assert got.removesuffix("+dirty") == _git(pkg, "rev-parse", "HEAD")
    else:  # a wheel install
        assert got == "unknown"


def test_git_commit_unknown_when_the_package_is_not_tracked(other_repo, tmp_path, monkeypatch):
    from cin_ml.tracking import git_commit

    repo, _ = other_repo
    fake = repo / "site-packages" / "cin_ml"  # inside a checkout, but not tracked by it
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("", encoding="utf-8")
    monkeypatch.setattr(cin_ml, "__file__", str(fake / "__init__.py"))
    assert git_commit() == "unknown"
    outside = tmp_path / "plain" / "cin_ml"  # not in git at all
    outside.mkdir(parents=True)
    monkeypatch.setattr(cin_ml, "__file__", str(outside / "__init__.py"))
    assert git_commit() == "unknown"


def test_training_run_records_version_and_commit(mlflow_store, other_repo, monkeypatch):
    from mlflow import MlflowClient

    from cin_ml.tracking import git_commit, training_run

    monkeypatch.chdir(other_repo[0])
    with training_run("ecriture_4e", {}, mlflow_store) as run_id:
        pass
    tags = MlflowClient(mlflow_store).get_run(run_id).data.tags
    assert tags["cin.version"] == cin_ml.__version__
    assert tags["cin.git_commit"] == git_commit()
    assert not tags["cin.git_commit"].startswith(other_repo[1])


# ----------------------------------------------------------------------------- registry


def test_model_version_from_a_logged_model_uses_the_resolved_store(tmp_path, monkeypatch,
                                                                   no_store_env):
    """MLflow's SQL registry resolves ``models:/m-...`` with a default MlflowClient() (the
    global URI: ./mlflow.db in a fresh process); cin-ml passes the location it resolved."""
    import mlflow
    from mlflow import MlflowClient

    from cin_ml.registry._store import registry_client, version_source

    store = resolve_store(f"sqlite:///{tmp_path / 'ws' / 'mlruns' / 'mlflow.db'}")
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    mlflow.set_tracking_uri(None)  # a fresh process: no global URI
    client = registry_client(store)
    exp = client.create_experiment("e", artifact_location=(tmp_path / "art").as_uri())
    run = client.create_run(exp)
    lm = client.create_logged_model(exp, name="model", source_run_id=run.info.run_id)
    source = version_source(client, store, f"models:/{lm.model_id}")
    assert source == lm.artifact_location
    client.create_registered_model("m")
    mv = client.create_model_version("m", source, run_id=run.info.run_id,
                                     model_id=lm.model_id)
    assert str(mv.version) == "1"
    assert not (cwd / "mlflow.db").exists()
    assert MlflowClient(store.tracking_uri).get_model_version("m", "1").run_id == \
        run.info.run_id
    # a tracking server resolves models:/ itself: the URI is passed on unchanged
    server = type(store)("https://mlflow.example.internal", None)
    assert version_source(client, server, f"models:/{lm.model_id}") == \
        f"models:/{lm.model_id}"
