"""The model files of a registered version are pinned by SHA-256 at registration: changing,
adding or deleting one (on disk in the embedded store's artifact folder, or with the stock
``MlflowClient``) is refused by promote, review, predict and ``governance check``, each
naming the file; serving loads the copy whose bytes it checked."""

from __future__ import annotations

import functools
import hashlib
import json
import re
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from cin_ml.errors import GateError, GovernanceError, PolicyError
from cin_ml.registry import check, history, promote, register, review, served_version
from cin_ml.run_contract import Artifact, VersionTag

from ._runs import AUTHOR, _artifact_dir
from .test_cli import cli  # noqa: F401 - the CLI fixture (configs for the check)
from .test_workflow import M, _approved


@pytest.fixture(autouse=True)
def _fresh_artifact_repos():
    """MLflow caches artifact repositories by run id for the process: the template store's
    runs have this copy's ids, so an upload would otherwise land in the template."""
    from mlflow.tracking._tracking_service import utils

    utils._artifact_repos_cache.clear()
    yield
    utils._artifact_repos_cache.clear()


def _stock():
    from mlflow import MlflowClient

    return MlflowClient()  # on $MLFLOW_TRACKING_URI, as anyone on the machine would


def _model_dir(ctx, v) -> Path:
    """The version's model folder on disk (where the registry points)."""
    uri = ctx.client.get_model_version_download_uri(M, str(v))
    return Path(unquote(urlparse(uri).path)) if uri.startswith("file:") else Path(uri)


def _booster_file(folder: Path) -> Path:
    return next(p for p in folder.rglob("*") if p.suffix in (".lgb", ".txt", ".pkl")
                and p.name != "requirements.txt")


def _manifest_pin(ctx, v) -> str | None:
    ev = json.loads(dict(ctx.client.get_model_version(M, str(v)).tags)[VersionTag.EVIDENCE])
    return ev.get(Artifact.MODEL_FILES.value)


def _promoted(ctx, rid):
    v, _ = _approved(ctx, rid)
    promote(ctx, M, v, operator="ops.bouchard", why="go")
    return v


def test_register_pins_every_model_file_in_the_evidence_record(ctx, runs):
    v = register(ctx, runs["ready"], author=AUTHOR)["version"]
    folder = _model_dir(ctx, v)
    on_disk = {f"model/{p.relative_to(folder).as_posix()}":
               hashlib.sha256(p.read_bytes()).hexdigest()
               for p in folder.rglob("*") if p.is_file()}
    assert "model/MLmodel" in on_disk and len(on_disk) >= 3
    # the digests are in the run's manifest, whose own hash the evidence record pins
    raw = (_artifact_dir(ctx.client, runs["ready"]) / Artifact.MODEL_FILES.value).read_bytes()
    assert json.loads(raw) == on_disk
    assert _manifest_pin(ctx, v) == hashlib.sha256(raw).hexdigest()
    # recorded in the authenticated history, not only the version tag (a cache), and
    # compact: one entry, so the register event stays far below the 7,900-character cap
    reg = [e for e in history(ctx, M) if e.type == "register.started"][-1]
    assert hashlib.sha256(raw).hexdigest() in json.dumps(reg.details)
    assert "model.lgb" not in json.dumps(reg.details)
    # the card gate says how many model files it checked
    review(ctx, M, v, reviewer="a.tremblay", approve=True, comment="ok")
    rep = promote(ctx, M, v, operator="ops.bouchard")
    card = next(r for r in rep["gates"]["results"] if r["gate"] == "card")
    assert f"{len(on_disk)} model files unchanged" in card["detail"]
    served = served_version(ctx, M, "champion")
    assert served["notes"] == [] and served["booster"] is not None


def test_a_stock_mlflow_load_of_the_champion_does_not_unseat_it(ctx, runs):
    """MLflow's own ``load_model("models:/…@champion")`` writes ``registered_model_meta``
    into the embedded store's model folder (the README shows that stock load): serving and
    the gates must still accept the champion, and a real change must still be caught."""
    import mlflow.pyfunc

    v = _promoted(ctx, runs["ready"])
    folder = _model_dir(ctx, v)
    mlflow.pyfunc.load_model(f"models:/{M}@champion")
    assert (folder / "registered_model_meta").is_file()  # the trap is real on this store
    served = served_version(ctx, M, "champion")
    assert served["notes"] == [] and served["booster"] is not None
    assert check(ctx).withdrawn == ()
    line = _change(folder)
    with pytest.raises(GovernanceError, match=f"model file {line} since registration"):
        served_version(ctx, M, "champion")


def _change(folder: Path) -> str:
    f = _booster_file(folder)
    f.write_bytes(f.read_bytes().replace(b"\n", b"\n\n", 1))
    return f"model/{f.relative_to(folder).as_posix()} changed"


def _add(folder: Path) -> str:
    (folder / "extra.py").write_text("import os\n", encoding="utf-8")
    return "model/extra.py added"


def _remove(folder: Path) -> str:
    (folder / "requirements.txt").unlink()
    return "model/requirements.txt removed"


@pytest.mark.parametrize("attack", [_change, _add, _remove], ids=["changed", "added",
                                                                   "removed"])
def test_model_file_edited_on_disk_is_refused_everywhere(ctx, runs, attack, tmp_path):
    from cin_ml.pipeline import run_predict

    v = _promoted(ctx, runs["ready"])
    line = attack(_model_dir(ctx, v))
    named = f"model file {line} since registration"
    # predict (served_version) refuses the champion, naming the file
    with pytest.raises(GovernanceError, match=named):
        served_version(ctx, M, "champion")
    with pytest.raises(PolicyError, match=named):
        run_predict(f"{M}@champion", tmp_path / "no-data", "school", "S1", out=tmp_path / "o")
    # promote (card gate) refuses it, to either alias
    with pytest.raises(GateError) as exc:
        promote(ctx, M, v, alias="challenger", operator="ops.bouchard")
    assert exc.value.failed_gates == ["card"] and named in str(exc.value)
    assert history(ctx, M)[-1].type == "promote.refused"
    # governance check withdraws it and says why
    rep = check(ctx)
    assert rep.withdrawn == ((M, "champion", v, None),) and rep.repaired
    assert named in rep.to_dict()["withdrawn"][0]["why"]
    assert "champion" not in ctx.client.get_registered_model(M).aliases


def test_rewriting_the_manifest_with_the_model_is_refused(ctx, runs, tmp_path):
    """Whoever can write the model can write the run's manifest too: its pinned hash
    catches it."""
    v = _promoted(ctx, runs["ready"])
    folder = _model_dir(ctx, v)
    _change(folder)
    manifest = _artifact_dir(ctx.client, runs["ready"]) / Artifact.MODEL_FILES.value
    manifest.write_text(json.dumps({f"model/{p.relative_to(folder).as_posix()}":
                                    hashlib.sha256(p.read_bytes()).hexdigest()
                                    for p in folder.rglob("*") if p.is_file()},
                                   sort_keys=True, separators=(",", ":")), encoding="utf-8")
    named = f"{Artifact.MODEL_FILES.value} (the model files' digests) changed since registration"
    with pytest.raises(GovernanceError, match=re.escape(named)):
        served_version(ctx, M, "champion")
    with pytest.raises(GateError) as exc:
        promote(ctx, M, v, alias="challenger", operator="ops.bouchard")
    assert exc.value.failed_gates == ["card"] and named in str(exc.value)
    manifest.unlink()
    with pytest.raises(GovernanceError, match="model_files.json .* removed since registration"):
        served_version(ctx, M, "champion")


def test_model_file_changed_before_review_is_refused_by_review(ctx, runs):
    v = register(ctx, runs["ready"], author=AUTHOR)["version"]
    line = _add(_model_dir(ctx, v))
    with pytest.raises(GovernanceError, match=f"tampered model: model file {line}"):
        review(ctx, M, v, reviewer="a.tremblay", approve=True, comment="ok")
    assert history(ctx, M)[-1].type == "review.refused"


def _logged_dir(model) -> Path:
    loc = model.artifact_location
    return Path(unquote(urlparse(loc).path)) if loc.startswith("file:") else Path(loc)


def test_stock_client_log_model_artifact_over_the_model_is_refused(ctx, runs, tmp_path):
    """The attack a data scientist can make on a team server (EDIT on the task experiment):
    upload another valid booster over the registered version's model file."""
    from cin_ml.pipeline import run_predict

    v = _promoted(ctx, runs["ready"])
    folder = _model_dir(ctx, v)
    target = _booster_file(folder)
    rel = target.relative_to(folder)
    ours, theirs = (_stock().get_logged_model(_stock().get_run(runs[k]).data
                                              .tags["cin.model_uri"].removeprefix("models:/"))
                    for k in ("ready", "reseeded"))
    assert _logged_dir(ours) == folder
    swapped = tmp_path / "swap" / target.name
    swapped.parent.mkdir()
    swapped.write_bytes((_logged_dir(theirs) / rel).read_bytes())
    assert swapped.read_bytes() != target.read_bytes()  # another model, still loadable
    _stock().log_model_artifact(ours.model_id, str(swapped),
                                None if rel.parent == Path(".") else rel.parent.as_posix())
    assert target.read_bytes() == swapped.read_bytes()  # the upload landed
    named = f"model file model/{rel.as_posix()} changed since registration"
    with pytest.raises(PolicyError, match=named):
        run_predict(f"{M}@champion", tmp_path / "no-data", "school", "S1", out=tmp_path / "o")
    rep = check(ctx)
    assert rep.withdrawn == ((M, "champion", v, None),)
    assert named in rep.to_dict()["withdrawn"][0]["why"]


def test_served_booster_is_the_checked_copy(ctx, runs):
    """No time-of-check to time-of-use gap: the booster comes from the very local copy whose
    bytes were hashed; the store's files are never read again to load it."""
    import cin_ml.registry._served as served_mod

    v = _promoted(ctx, runs["ready"])
    folder = _model_dir(ctx, v)
    loaded = []
    real = served_mod.model_copy

    @functools.wraps(real)
    def spy(store, location):
        cm = real(store, location)

        class Wrapped:
            def __enter__(self):
                local, files = cm.__enter__()
                loaded.append(local)
                # the attacker swaps the store's bytes right after the check: loading
                # them would fail, loading the checked copy does not
                _booster_file(folder).write_bytes(b"not a model")
                return local, files

            def __exit__(self, *exc):
                return cm.__exit__(*exc)

        return Wrapped()

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(served_mod, "model_copy", spy)
        out = served_version(ctx, M, "champion")
    assert loaded and loaded[0] is not None and folder not in loaded[0].parents
    assert out["booster"].num_trees() > 0  # loaded from the copy checked before the swap
    with pytest.raises(GovernanceError, match="changed since registration"):
        served_version(ctx, M, "champion")


# --------------------------------------------- versions registered before model pinning


def _register_unpinned(ctx, rid):
    """A version as an earlier cin-ml registered it: no model/ entry in its evidence."""
    import cin_ml.registry._workflow as wf

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(wf, "write_manifest", lambda *a, **k: {})
        v = register(ctx, rid, author=AUTHOR)["version"]
    assert _manifest_pin(ctx, v) is None
    return v


def test_unpinned_version_is_refused_at_promote_with_a_plain_line(ctx, runs):
    v = _register_unpinned(ctx, runs["ready"])
    review(ctx, M, v, reviewer="a.tremblay", approve=True, comment="ok")
    with pytest.raises(GateError) as exc:
        promote(ctx, M, v, operator="ops.bouchard")
    assert exc.value.failed_gates == ["card"]
    assert f"{M} v{v}: its model files are not pinned" in str(exc.value)
    assert "Traceback" not in str(exc.value)


def test_unpinned_champion_keeps_serving_with_a_note(ctx, runs, cli):  # noqa: F811
    """A champion promoted by an earlier cin-ml stays served (withdrawing it at upgrade would
    leave nothing to serve), with a plain line at predict and in governance check."""
    import cin_ml.registry._workflow as wf

    v = _register_unpinned(ctx, runs["ready"])
    review(ctx, M, v, reviewer="a.tremblay", approve=True, comment="ok")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(wf, "gate_report", functools.partial(wf.gate_report, unpinned_ok=True))
        promote(ctx, M, v, operator="ops.bouchard")  # as the earlier cin-ml did
    out = served_version(ctx, M, "champion")
    assert out["notes"] == [f"{M} v{v}: its model files are not pinned (registered before "
                            f"cin-ml pinned them), so their bytes cannot be checked; retrain "
                            f"and register a new version to promote it"]
    rep = check(ctx)
    assert not rep.withdrawn and not rep.repaired
    assert rep.unpinned == ((M, "champion", v),)
    assert rep.to_dict()["unpinned"][0]["note"] == out["notes"][0]
    # the CLI says it in one plain line, exit 0 (nothing repaired)
    r = cli("governance", "check", "--on", ctx.today.isoformat())
    assert r.exit_code == 0, r.output
    assert f"model files not pinned {M}@champion: {M} v{v}: its model files are not " \
           f"pinned" in " ".join(r.output.split())
    assert "Traceback" not in r.output
