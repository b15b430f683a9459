"""Governance fixtures: this test's copy of the training runs (``gov_runs``, in
tests/conftest.py), a policy and agreements."""

from __future__ import annotations

import pytest

from ._policy import AGREEMENTS, POLICY, TODAY


@pytest.fixture()
def gov_store(tmp_path, monkeypatch, gov_runs):
    """This test's own copy of the template store (MLFLOW_TRACKING_URI + CIN_ML_ARTIFACT_ROOT)."""
    import mlflow

    from ._runs import copy_store

    uri = copy_store(gov_runs.root, tmp_path / "store")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("CIN_ML_ARTIFACT_ROOT", str(tmp_path / "store" / "artifacts"))
    monkeypatch.delenv("CIN_ML_USER", raising=False)
    governance_key(monkeypatch, tmp_path)
    mlflow.set_tracking_uri(uri)
    return uri


KEY = "test-governance-key-0123456789abcdef"


def governance_key(monkeypatch, folder):
    """A governance key in the environment and this test's anchor folder (outside the
    store): what an operator's machine holds and the store does not."""
    for var in ("CIN_ML_GOVERNANCE_KEY_FILE", "CIN_ML_GOVERNANCE_DEMO_KEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("CIN_ML_GOVERNANCE_KEY", KEY)
    monkeypatch.setenv("CIN_ML_GOVERNANCE_ANCHOR_DIR", str(folder / "anchor"))


@pytest.fixture()
def runs(gov_store, gov_runs):
    """Run ids by kind (``runs["ready"]``…) in this test's store."""
    return dict(gov_runs.ids)


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


@pytest.fixture()
def fresh_artifact_repos():
    """MLflow caches each run's artifact repository by run id for the whole process: the
    template store's runs have the same ids as this test's copy, so an upload would land in
    the template (a test-harness artefact: a real store has one location per run). For tests
    that write artifacts into a copied run (the reviewed card) and read them back."""
    from mlflow.tracking._tracking_service import utils

    utils._artifact_repos_cache.clear()
    yield
    utils._artifact_repos_cache.clear()
