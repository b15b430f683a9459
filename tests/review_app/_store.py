"""A small store for the review page, made the way production makes it (cheaper than the
governance template: one trained model).

Once per session the real chain trains, audits, explains and cards one run on a small
simulated CSS, and copies it (before its card) into a second run whose logged audit is then
rewritten with fairness fails (as ``tests/governance/_runs.py`` does). Each test works on its
own copy of that store (``copy_store``), then :func:`govern` registers the first run, has the
committee approve it and an operator promote it to ``@champion``, and registers the second
run as a pending version: the queue then holds one approved champion and one version
awaiting a decision whose card has two fairness fails.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

from tests.governance._policy import make_test_ctx
from tests.governance._runs import (
    AUTHOR,
    N_BOOT,
    SEED,
    _copy_run,
    _models_config,
    _rewrite_json,
    _with_fails,
)

STUDENTS = 2500
COMMITTEE, OTHER_MEMBER = "a.tremblay", "m.gagnon"
OPERATOR = "ops.bouchard"
MODEL = "cin-ecriture-4e"


@dataclass(frozen=True)
class ReviewRuns:
    root: Path  # holds mlflow.db and artifacts/
    champion_run: str
    pending_run: str


def build_template(root: Path, fast_models_config) -> ReviewRuns:
    """Simulate, de-identify, train/audit/explain/card one run and its fairness-fail copy."""
    import os

    import mlflow
    import pytest
    from mlflow import MlflowClient

    from cin_ml.pipeline import (
        run_audit,
        run_card,
        run_deidentify,
        run_explain,
        run_simulate,
        run_train,
    )

    data, store = root / "data", root / "store"
    run_simulate(data / "source", data / "source_truth", students=STUDENTS, seed=SEED)
    run_deidentify(data / "source", data / "deidentified", demo_key=True)
    (root / "configs").mkdir()
    models = _models_config(root / "configs", fast_models_config)
    uri = f"sqlite:///{store / 'mlflow.db'}"
    with pytest.MonkeyPatch.context() as mp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        store.mkdir()
        mp.setenv("MLFLOW_TRACKING_URI", uri)
        mp.setenv("CIN_ML_ARTIFACT_ROOT", str(store / "artifacts"))
        mp.setenv("CIN_ML_THREADS", os.environ.get("CIN_ML_THREADS", "1"))
        client = MlflowClient(tracking_uri=uri)
        rid = run_train(data / "deidentified", "ecriture_4e", models_config=models,
                        tracking_uri=uri)["run_id"]
        run_audit(rid, n_boot=N_BOOT)
        run_explain(rid, out=root / "explain")
        pending = _copy_run(client, rid)
        for r in (rid, pending):
            run_card(r, out=root / "cards", ready=True, tracking_uri=uri)
        _rewrite_json(client, pending, "fairness/audit.json", _with_fails)
        mlflow.set_tracking_uri(None)
    return ReviewRuns(store, rid, pending)


def govern(runs: ReviewRuns) -> dict[str, str]:
    """v1 approved (with a condition) and promoted to @champion; v2 pending, by the author.
    Returns the version numbers."""
    from cin_ml.registry import promote, register, review

    ctx = make_test_ctx()
    v1 = str(register(ctx, runs.champion_run, author=AUTHOR)["version"])
    review(ctx, MODEL, v1, reviewer=OTHER_MEMBER, approve=True, comment="ok",
           conditions="<script>window.__pwned = 1</script> monitor every year")
    promote(ctx, MODEL, v1, operator=OPERATOR, why="approved")
    v2 = str(register(ctx, runs.pending_run, author=AUTHOR)["version"])
    return {"champion": v1, "pending": v2}
