"""Team server fixtures: ONE real ``cin-ml server`` per session on a fresh PostgreSQL
database (dropped after), and training runs logged on it by a data scientist (on the
session's ``small_css``, de-identified)."""

from __future__ import annotations

import os
import tempfile
import warnings

import pytest

from ._team import TeamServer, create_database, drop_database, free_port, postgres_reachable
from ._team import user_env as _user_env

N_BOOT = 20


@pytest.fixture(scope="session")
def team_server(tmp_path_factory, request):
    """``cin-ml server`` on 127.0.0.1 (free port), PostgreSQL 127.0.0.1:5432, torn down
    after the session with its database."""
    if not postgres_reachable():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not running on 127.0.0.1:5432 (make test starts it)")
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    db = create_database()
    srv = TeamServer(tmp_path_factory.mktemp("team"), db, free_port())
    try:
        srv.launch()
        data = request.getfixturevalue("small_css").deidentified  # while it starts
        for attempt in range(3):
            try:
                srv.wait()
                break
            except RuntimeError as exc:
                # a free port can be taken by another process before the server binds it
                if attempt == 2 or "in use" not in str(exc):
                    raise
                srv = TeamServer(tmp_path_factory.mktemp("team"), db, free_port())
                srv.launch()
        srv.data = data
        yield srv
    finally:
        srv.stop()
        drop_database(db)


def copy_run(client, run_id: str) -> str:
    """A new run in the same experiment of the server with ``run_id``'s tags (so the same
    logged model), params, metrics and artifacts, card included: another registrable run."""
    from mlflow.entities import Metric, Param

    run = client.get_run(run_id)
    tags = {k: v for k, v in run.data.tags.items() if not k.startswith("mlflow.")}
    new = client.create_run(run.info.experiment_id, tags=tags).info.run_id
    now = run.info.start_time
    client.log_batch(new, metrics=[Metric(k, v, now, 0) for k, v in run.data.metrics.items()],
                     params=[Param(k, v) for k, v in run.data.params.items()])
    if run.inputs and run.inputs.dataset_inputs:
        client.log_inputs(new, datasets=list(run.inputs.dataset_inputs))
    with tempfile.TemporaryDirectory() as tmp:
        client.download_artifacts(run_id, "", tmp)
        client.log_artifacts(new, tmp)
    client.set_terminated(new, "FINISHED")
    return new


class ServerRuns:
    """The training run d.lavoie logged on the server, and fresh copies of it."""

    def __init__(self, server: TeamServer, run_id: str) -> None:
        self.server, self.run_id = server, run_id

    def fresh(self) -> str:
        """A new registrable run (a copy logged by the data scientist)."""
        from mlflow import MlflowClient

        with _user_env("d.lavoie", self.server.url):
            return copy_run(MlflowClient(tracking_uri=self.server.url), self.run_id)


@pytest.fixture(scope="session")
def server_runs(team_server, tmp_path_factory, fast_models_config):
    """A ready training run logged on the server by data scientist d.lavoie through the real
    chain (train, audit, explain, card --ready): a data scientist's EDIT suffices. Single
    test cohort (``rolling=False``): no server test is about rolling-origin validation."""
    from cin_ml.pipeline import run_audit, run_card, run_explain, run_train

    root = tmp_path_factory.mktemp("server-runs")
    models = fast_models_config(root, N_BOOT, rolling=False)
    with _user_env("d.lavoie", team_server.url), warnings.catch_warnings(), \
            pytest.MonkeyPatch.context() as mp:
        warnings.simplefilter("ignore")
        mp.setenv("CIN_ML_USER", "d.lavoie")
        mp.setenv("CIN_ML_THREADS", "1")
        rid = run_train(team_server.data, "ecriture_4e", models_config=models,
                        tracking_uri=team_server.url)["run_id"]
        run_audit(rid, n_boot=N_BOOT)
        run_explain(rid, out=root / "explain")
        run_card(rid, out=root / "cards", ready=True, tracking_uri=team_server.url)
    return ServerRuns(team_server, rid)


@pytest.fixture()
def user_env():
    """``user_env(user, url)``: act as ``user`` in this process for a block."""
    return _user_env
