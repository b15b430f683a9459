"""Governance fixtures: an isolated (pre-initialised) store, a policy and agreements."""

from __future__ import annotations

import shutil

import pytest

from ._policy import AGREEMENTS, POLICY, TODAY


@pytest.fixture(scope="session")
def _template_db(tmp_path_factory):
    """An empty MLflow SQLite store, migrated once per session (copied for each test)."""
    from mlflow import MlflowClient

    path = tmp_path_factory.mktemp("tpl") / "mlflow.db"
    MlflowClient(tracking_uri=f"sqlite:///{path}").search_experiments()
    return path


@pytest.fixture()
def gov_store(tmp_path, monkeypatch, _template_db):
    """A throw-away store (MLFLOW_TRACKING_URI + CIN_ML_ARTIFACT_ROOT) for one test."""
    import mlflow

    db = tmp_path / "mlflow.db"
    shutil.copyfile(_template_db, db)
    uri = f"sqlite:///{db}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("CIN_ML_ARTIFACT_ROOT", str(tmp_path / "artifacts"))
    monkeypatch.delenv("CIN_ML_USER", raising=False)
    mlflow.set_tracking_uri(uri)
    return uri


@pytest.fixture()
def settings():
    from cin_ml.config import settings_from_dict
    from cin_ml.registry import GovernanceSettings

    return settings_from_dict(GovernanceSettings, POLICY, "test policy")


@pytest.fixture()
def agreements():
    from cin_ml.consent import ConsentRegistry

    return ConsentRegistry(agreements=AGREEMENTS)


@pytest.fixture()
def ctx(gov_store, settings, agreements):
    from cin_ml.registry import make_ctx

    return make_ctx(settings, agreements, today=TODAY)


@pytest.fixture()
def ctx_on(gov_store, settings, agreements):
    """ctx_on(date): the same store and policy, another day."""
    from cin_ml.registry import make_ctx

    return lambda day: make_ctx(settings, agreements, today=day)
