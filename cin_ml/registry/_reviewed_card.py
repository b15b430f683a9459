"""After a decision or a move of an alias, the card a reader opens tells the truth: the
registry renders the run's pinned card with its review section filled (decision, reviewer,
date, conditions, expiry, serving status) as ``card/reviewed/card.{fr,en}.html``. The pinned
card files are read, never rewritten, so the ``card`` gate keeps passing."""

from __future__ import annotations

from cin_ml.errors import CinMLError
from cin_ml.registry._context import ALIASES, Ctx, alias_version
from cin_ml.registry._gates import review_record
from cin_ml.run_contract import Artifact, VersionTag

__all__ = ["publish_reviewed_card"]

_STATES = ("approved", "rejected", "pending", "expired")


def _review(model: str, version: str, tags: dict, aliases: tuple[str, ...]):
    from cin_ml.cards import Review

    rec = review_record(tags) or {}
    state = rec.get("state") if rec.get("state") in _STATES else tags.get(
        VersionTag.REVIEW_STATE, "pending")
    return Review(status=state if state in _STATES else "pending", model_name=model,
                  model_version=version, reviewer=rec.get("reviewer"),
                  decided_at=rec.get("at"), comment=rec.get("comment") or None,
                  conditions=rec.get("conditions") or None, expires=rec.get("expires"),
                  author=tags.get(VersionTag.AUTHOR), aliases=aliases)


def publish_reviewed_card(ctx: Ctx, model: str, version: str, state=None) -> dict:
    """Render and log ``card/reviewed/card.{fr,en}.html`` for one version, from the
    governance history (``state``: its replay, else read now).

    Returns ``{"run_id", "files"}``, or ``{"note"}`` saying why nothing was rendered (the
    decision itself is already recorded: a failure here never undoes it).
    """
    from cin_ml.cards import load_card, render_reviewed

    try:
        if state is None:
            state = ctx.replay(ctx.history_experiment(False), model)
        tags = dict(state.tags.get(str(version), {}))
        run_id = tags.get(VersionTag.RUN_ID)
        reader = ctx.reader                    # one reader: the run is fetched once
        raw = reader.raw(run_id, Artifact.CARD_JSON) if run_id else None
        if raw is None:
            return {"note": f"{model} v{version}: no card to render the review into"}
        aliases = tuple(a for a in ALIASES if alias_version(ctx.client, model, a) == str(version))
        pinned = {lang: reader.raw(run_id, Artifact.card_html(lang)) for lang in ("fr", "en")}
        files = render_reviewed(load_card(raw), _review(model, str(version), tags, aliases),
                                pinned)
        reader.log_artifacts(run_id, files)
        return {"run_id": run_id, "files": sorted(files)}
    except CinMLError as exc:
        return {"note": f"{model} v{version}: reviewed card not rendered ({exc})"}
