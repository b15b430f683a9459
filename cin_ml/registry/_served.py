"""What may be served: a cin-ml model's alias only where the verified history put it."""

from __future__ import annotations

from cin_ml.errors import GovernanceError
from cin_ml.registry._context import ALIASES, Ctx, alias_version
from cin_ml.registry._gates import pinned_evidence
from cin_ml.registry._history import verify_history
from cin_ml.registry._model_files import judge, model_copy, unpinned_line, version_location
from cin_ml.registry._state import alias_disagreement, tag_disagreements
from cin_ml.run_contract import VersionTag


def _managed(client, model: str) -> bool:
    try:
        rm = client.get_registered_model(model)
    except Exception:
        return False
    return rm.tags.get(VersionTag.MANAGED) == "true"


def served_version(ctx: Ctx, model: str, alias: str) -> dict:
    """``{"model", "alias", "version", "run_id", "tags", "booster", "notes"}`` of
    ``model@alias`` when cin-ml may serve it: a model cin-ml manages, a verified history,
    the live alias where the history put it, the version's tags as the history wrote them
    (``tags`` is that replay, not the live cache) and model files whose bytes are those
    pinned at registration. ``booster`` is loaded from the local copy whose bytes were
    checked: score with it, never with a fresh download. ``notes``: plain lines for the
    user (a version registered before model pinning). GovernanceError naming what
    disagrees otherwise."""
    client = ctx.client
    if not _managed(client, model):
        raise GovernanceError(f"{model}@{alias}: not a cin-ml model (no {VersionTag.MANAGED} "
                              f"tag); only models registered through cin-ml are served")
    exp_id = ctx.history_experiment(create=False)
    rep = verify_history(client, exp_id, ctx.key)
    if not rep.ok:
        raise GovernanceError(f"{model}@{alias} not served: the governance history failed "
                              f"verification ({'; '.join(rep.problems[:3])}); see "
                              f"`cin-ml history --verify`")
    state = ctx.replay(exp_id, model)
    live = alias_version(client, model, alias)
    moved = alias_disagreement(state, alias, live)
    if moved:
        raise GovernanceError(f"{model}@{alias} not served: {moved}; run `cin-ml governance "
                              f"check` to restore it")
    if live is None:
        raise GovernanceError(f"{model} has no version under @{alias} (promote one first)")
    bad = tag_disagreements(state, live, dict(client.get_model_version(model, live).tags))
    if bad:
        raise GovernanceError(f"{model}@{alias} (v{live}) not served: {'; '.join(bad[:3])}; "
                              f"run `cin-ml governance check` to restore the tags")
    tags = state.tags[live]
    booster, notes = _checked_model(ctx, model, alias, live, tags)
    return {"model": model, "alias": alias, "version": live,
            "run_id": tags.get(VersionTag.RUN_ID), "tags": dict(tags), "booster": booster,
            "notes": notes}


def _checked_model(ctx: Ctx, model: str, alias: str, version: str,
                   tags: dict) -> tuple[object, list[str]]:
    """The version's booster, loaded from a local copy of the files the registry points to
    after hashing that very copy against the pins of registration (GovernanceError naming
    each file changed, added or removed); a version registered before model pinning is
    loaded with a note saying its files are not checked."""
    from cin_ml.tracking import load_local_model

    location = version_location(ctx.client, model, version)
    with model_copy(ctx.store, location) as (local, files):
        mc = judge(ctx.reader, tags.get(VersionTag.RUN_ID, ""), pinned_evidence(tags), files)
        if mc.problems:
            raise GovernanceError(f"{model}@{alias} (v{version}) not served: "
                                  + "; ".join(mc.problems)
                                  + "; run `cin-ml governance check`")
        if local is None:
            raise GovernanceError(f"{model}@{alias} (v{version}) not served: its model files "
                                  f"cannot be read at {location}")
        notes = [] if mc.pinned else [unpinned_line(model, version)]
        try:
            return load_local_model(local), notes
        except Exception as exc:
            raise GovernanceError(f"{model}@{alias} (v{version}) not served: its model cannot "
                                  f"be loaded ({type(exc).__name__})") from None


def registry_disagreements(ctx: Ctx, exp_id: str | None) -> list[str]:
    """Every live alias and version tag of the cin-ml models that disagrees with the
    history (what ``governance check`` would repair)."""
    out = []
    for rm in ctx.client.search_registered_models():
        if rm.tags.get(VersionTag.MANAGED) != "true":
            continue
        state = ctx.replay(exp_id, rm.name)
        for alias in ALIASES:
            moved = alias_disagreement(state, alias, alias_version(ctx.client, rm.name, alias))
            if moved:
                out.append(f"{rm.name}: {moved}")
        for mv in ctx.client.search_model_versions(f"name = '{rm.name}'"):
            out.extend(f"{rm.name} v{mv.version}: {d}"
                       for d in tag_disagreements(state, str(mv.version), dict(mv.tags)))
    return out
