"""On the team server a data scientist keeps EDIT on the task experiment (to log runs), so
the stock client lets them overwrite the model files a registered version points to: the
pins of registration make ``predict`` refuse to score them, naming the file."""

from __future__ import annotations

import pytest

from .test_roles import act

M = "cin-ecriture-4e"


def test_data_scientist_overwriting_the_model_is_refused_at_predict(
        team_server, server_runs, user_env, monkeypatch, tmp_path):
    import mlflow.artifacts
    from mlflow import MlflowClient

    from cin_ml.errors import PolicyError
    from cin_ml.pipeline import run_predict

    from ._team import KEY

    rid = server_runs.fresh()
    v = act(team_server, "d.lavoie", "register", run_id=rid)["version"]
    act(team_server, "a.tremblay", "review", model=M, version=v, approve=True, comment="ok")
    act(team_server, "ops.bouchard", "promote", model=M, version=v, alias="champion")
    monkeypatch.setenv("CIN_ML_GOVERNANCE_KEY", KEY)
    # the history is verified with the server's key and anchor (read only)
    monkeypatch.setenv("CIN_ML_GOVERNANCE_ANCHOR_DIR", str(team_server.root / "anchor"))

    def predict():
        with user_env("ops.bouchard", team_server.url):
            return run_predict(f"{M}@champion", tmp_path / "no-data", "school", "S1",
                               out=tmp_path / "out", tracking_uri=team_server.url)

    with pytest.raises(Exception) as before:  # noqa: PT011 - the missing extract, not the model
        predict()
    assert "not served" not in str(before.value) and "no-data" in str(before.value)

    with user_env("d.lavoie", team_server.url):
        c = MlflowClient(tracking_uri=team_server.url)
        model_id = c.get_run(rid).data.tags["cin.model_uri"].removeprefix("models:/")
        names = [f.path for f in c.list_logged_model_artifacts(model_id)]
        name = next(n for n in names if n.endswith(".lgb"))
        original = tmp_path / "original" / name
        mlflow.artifacts.download_artifacts(
            artifact_uri=f"{c.get_logged_model(model_id).artifact_location}/{name}",
            dst_path=str(original.parent), tracking_uri=team_server.url)
        swapped = tmp_path / "swapped" / name
        swapped.parent.mkdir()
        swapped.write_bytes(original.read_bytes() + b"\n")
        c.log_model_artifact(model_id, str(swapped))  # EDIT on the experiment: allowed
    try:
        with pytest.raises(PolicyError,
                           match=f"model file model/{name} changed since registration"):
            predict()
    finally:  # one server per session: later tests promote versions of this logged model
        with user_env("d.lavoie", team_server.url):
            MlflowClient(tracking_uri=team_server.url).log_model_artifact(model_id,
                                                                          str(original))
    with pytest.raises(Exception) as after:  # noqa: PT011
        predict()
    assert "not served" not in str(after.value)
