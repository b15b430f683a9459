"""Review page fixtures: a governed store (one approved champion, one pending version with
fairness fails; the governance template's runs), restored before each test, and the app
served on a free loopback port.

The governance history authenticates absolute artifact paths, so a governed store cannot be
copied to another folder (``copy_store`` rewrites paths); instead one *live* store at a
fixed path is governed once, snapshotted, and restored in place before each test (SQLite's
backup API, so connections MLflow keeps open see the restored database).
"""

from __future__ import annotations

import shutil
import sqlite3

import pytest

from tests.governance.conftest import governance_key

from ._store import ReviewRuns, govern


def _restore(src, dst) -> None:
    """``dst`` (store folder) made identical to ``src``: artifacts copied, database restored
    through SQLite's backup API."""
    if (dst / "artifacts").exists():
        shutil.rmtree(dst / "artifacts")
    shutil.copytree(src / "artifacts", dst / "artifacts")
    a, b = sqlite3.connect(src / "mlflow.db"), sqlite3.connect(dst / "mlflow.db")
    try:
        a.backup(b)
    finally:
        a.close()
        b.close()


@pytest.fixture(scope="session")
def review_template(tmp_path_factory, gov_runs):
    """The governance template's runs copied to the live store, governed once
    (``_store.govern``), and their snapshot (store and governance anchor)."""
    from tests.governance._runs import copy_store

    root = tmp_path_factory.mktemp("review")
    live = root / "live"
    uri = copy_store(gov_runs.root, live)
    runs = ReviewRuns.of(gov_runs, live)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", uri)
        mp.setenv("CIN_ML_ARTIFACT_ROOT", str(live / "artifacts"))
        governance_key(mp, root)
        versions = govern(runs)
        import mlflow

        mlflow.set_tracking_uri(None)
    snap = root / "snapshot"
    snap.mkdir()
    _restore(live, snap)
    shutil.copytree(root / "anchor", snap / "anchor")
    return {"root": root, "uri": uri, "runs": runs, "versions": versions}


@pytest.fixture()
def review_store(monkeypatch, review_template):
    """The live store restored to its governed snapshot for this test."""
    root = review_template["root"]
    _restore(root / "snapshot", root / "live")
    shutil.rmtree(root / "anchor")
    shutil.copytree(root / "snapshot" / "anchor", root / "anchor")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", review_template["uri"])
    monkeypatch.setenv("CIN_ML_ARTIFACT_ROOT", str(root / "live" / "artifacts"))
    monkeypatch.delenv("CIN_ML_USER", raising=False)
    governance_key(monkeypatch, root)
    return {"uri": review_template["uri"], "runs": review_template["runs"],
            **review_template["versions"]}


@pytest.fixture()
def app_url(review_store):
    """The review app on this test's store (test policy, fixed day), on a free port."""
    from cin_ml.config import settings_from_dict
    from cin_ml.consent import ConsentRegistry
    from cin_ml.registry import GovernanceSettings
    from cin_ml.review_app import create_app, running
    from tests.governance._policy import AGREEMENTS, POLICY, TODAY

    app = create_app(settings=settings_from_dict(GovernanceSettings, POLICY, "test policy"),
                     consent=ConsentRegistry(agreements=AGREEMENTS), today=TODAY)
    with running(app) as url:
        yield url


@pytest.fixture()
def page(browser):
    """A fresh browser context (own cookies) and page at desktop width."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-CA")
    p = context.new_page()
    yield p
    context.close()
