"""Shared fixtures: a small simulated CSS (session-scoped) and an isolated MLflow store."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("CIN_ML_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def small_sim():
    """A 3,000-student simulated CSS with its ground truth (in memory)."""
    from cin_ml.simulator import SimulationConfig, simulate

    return simulate(SimulationConfig(n_students=3000, seed=11))


@pytest.fixture(scope="session")
def small_css(tmp_path_factory):
    """The 3,000-student simulated CSS (seed 11) on disk, as a data scientist receives it:
    ``.source`` (the source extract) and ``.deidentified`` (its de-identified copy, demo key).
    Built once per session for the governance template, the review page and the team server;
    tests only read it."""
    from types import SimpleNamespace

    from cin_ml.pipeline import run_deidentify, run_simulate

    root = tmp_path_factory.mktemp("small-css")
    run_simulate(root / "source", root / "source_truth", students=3000, seed=11)
    run_deidentify(root / "source", root / "deidentified", demo_key=True)
    return SimpleNamespace(source=root / "source", deidentified=root / "deidentified")


@pytest.fixture(scope="session")
def gov_runs(tmp_path_factory, small_css, fast_models_config):
    """Every kind of training run (tests/governance/_runs.py), trained, audited, explained and
    carded once per session by the real pipeline in a template store; the governance tests
    and the review page (tests/review_app) work on copies of it."""
    from tests.governance._runs import build_template

    return build_template(tmp_path_factory.mktemp("gov"), small_css, fast_models_config)


@pytest.fixture(scope="session")
def small_evidence(small_sim):
    """``make(task, suppress_below) -> Made``: card evidence on ``small_sim``
    (tests/cards/_evidence_factory.py), each task trained and explained once per session and
    audited under each ``suppress_below`` asked for (the card tests and the page-language
    tests share the training)."""
    from tests.cards._evidence_factory import make_evidence, train_and_explain

    trained = {}

    def make(task: str = "ecriture_4e", suppress_below: int | None = None):
        if task not in trained:
            trained[task] = train_and_explain(small_sim, task)
        return make_evidence(small_sim, task, suppress_below, trained=trained[task])

    return make


@pytest.fixture()
def mlflow_store(tmp_path, monkeypatch):
    """Point MLflow at a throw-away SQLite store and artifact root under tmp_path."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("CIN_ML_ARTIFACT_ROOT", str(tmp_path / "artifacts"))
    return uri


@pytest.fixture(autouse=True)
def _restore_tracking_uri():
    """mlflow.set_tracking_uri sets a process-global URI *and* $MLFLOW_TRACKING_URI: undo both
    after each test so no test (or notebook kernel) inherits another test's store."""
    import sys

    before = os.environ.get("MLFLOW_TRACKING_URI")
    yield
    if "mlflow" in sys.modules:
        import mlflow

        mlflow.set_tracking_uri(None)  # clears the global and the variable
    if before is None:
        os.environ.pop("MLFLOW_TRACKING_URI", None)
    else:
        os.environ["MLFLOW_TRACKING_URI"] = before


@pytest.fixture(scope="session")
def fast_models_config():
    """``make(folder, n_boot, rolling=True) -> path`` of a models.toml for fast tests: no CV
    tuning, one thread, ``n_boot`` bootstrap replicates, the audit's power rule off
    (``min_test_at_risk = 0``: K = test_cohorts rolling-origin folds, not as many as small data
    allow) (the rest as the active config folder's models.toml, the packaged one unless
    $CIN_ML_CONFIG_DIR is set).

    ``rolling=False`` is the single-cohort path (``test_cohorts = 1``, ``refit_on_all =
    false``: train, valid, test; the tested model is served): one model trained instead of
    K + 1, for every test whose claim is not about rolling-origin validation, the pooled
    audit or the card's stability section."""
    import re

    from cin_ml.config import config_path

    def make(folder, n_boot: int, rolling: bool = True):
        base = config_path("models")
        text = base.read_text(encoding="utf-8")
        values = {"n_folds": 0, "n_boot": n_boot, "num_threads": 1, "min_test_at_risk": 0}
        if not rolling:
            values |= {"test_cohorts": 1, "refit_on_all": "false"}
        for key, value in values.items():
            text, n = re.subn(rf"(?m)^{key} = \S+", f"{key} = {value}", text)
            assert n >= 1, f"{base} has no '{key} =' line"
        p = folder / "models.toml"
        p.write_text(text, encoding="utf-8")
        return p

    return make


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium driven by Playwright (no browser download): the pages are
    checked as their readers open them. ``make test`` installs the chromium package."""
    import shutil
    from pathlib import Path

    from playwright.sync_api import sync_playwright

    exe = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(exe).is_file():
        pytest.fail("Debian's chromium is not installed (make test installs it)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, headless=True,
                              args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()
