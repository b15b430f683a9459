"""Governance fixtures: an isolated (pre-initialised) store, a policy and agreements."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest

TODAY = dt.date(2026, 3, 2)


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


POLICY = {
    "governance": {"purpose": "student_success_prediction"},
    "people": {"committee": ["a.tremblay", "m.gagnon"], "operators": ["ops.bouchard",
                                                                        "ops.cote"]},
    "approval": {"max_validity_days": 365},
    "floors": {"min": {"test_auc": 0.7, "test_recall_at_threshold": 0.35},
               "beat": {"test_auc": "indicator_auc"}, "margin": 0.0},
    "compare": {"n_boot": 100, "seed": 1, "ci_level": 0.95},
    "lock": {"timeout_s": 60, "stale_after_s": 300},
}

AGREEMENTS = [
    {"id": f"CSS001-{d}", "css_id": "CSS001", "dataset": d,
     "purpose": "student_success_prediction", "data": ["marks"],
     "retention_end": dt.date(2027, 6, 30), "signatory": "DG CSS001",
     "signed": dt.date(2024, 1, 10)} for d in ("academic", "absences")
] + [
    {"id": "CSS002-academic", "css_id": "CSS002", "dataset": "academic",
     "purpose": "student_success_prediction", "data": ["marks"],
     "retention_end": dt.date(2026, 4, 30), "signatory": "DG CSS002",
     "signed": dt.date(2023, 1, 10)},
]


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
