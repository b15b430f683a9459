"""Register, review, promote, roll back, compare, check and the history."""

from __future__ import annotations

from pathlib import Path

from cin_ml.pipeline._card import CARDS_OUT, refresh_reviewed_card
from cin_ml.pipeline._common import Progress, _quiet


def _governance_ctx(config: Path | str | None = None, consent: Path | str | None = None,
                    tracking_uri: str | None = None, today=None, demo_key: bool = False):
    """The registry context: ``configs/governance.toml`` (or ``config``), the data-use
    agreements (``configs/consent.toml`` or ``consent``) and the store. ``demo_key`` allows
    the public demo governance key when none is configured (simulated data only)."""
    from cin_ml.consent import load_agreements
    from cin_ml.registry import load_governance_settings, make_ctx

    return make_ctx(load_governance_settings(config), load_agreements(consent),
                    tracking_uri, today, demo_key=demo_key)


def _server(tracking_uri: str | None) -> str | None:
    """The tracking server's URL when the store is one (governance actions then go to its
    governance service as the authenticated user: docs/architecture.md, "Team server")."""
    from cin_ml.registry import is_server_uri
    from cin_ml.store import resolve_store

    uri = resolve_store(tracking_uri).tracking_uri
    return uri if is_server_uri(uri) else None


def _on_server(url: str, action: str, progress: Progress, **params) -> dict:
    from cin_ml.registry import act_on_server

    progress(f"{action}: sent to the governance service of {url}")
    return act_on_server(url, action, {k: v for k, v in params.items() if v is not None})


def run_register(run_id: str, *, author: str | None = None, actor: str | None = None,
                 config: Path | str | None = None, tracking_uri: str | None = None,
                 demo_key: bool = False, progress: Progress = _quiet) -> dict:
    """Register a training run with a complete card as a pending model version."""
    from cin_ml.registry import register

    if url := _server(tracking_uri):
        return _on_server(url, "register", progress, run_id=run_id, author=author,
                          actor=actor)
    ctx = _governance_ctx(config, tracking_uri=tracking_uri, demo_key=demo_key)
    progress(f"reading the evidence of run {run_id}")
    return register(ctx, run_id, author=author, actor=actor)


def run_review(model: str, version: str, *, approve: bool, reviewer: str | None,
               comment: str = "", conditions: str = "", accept_fairness: tuple = (),
               expires: str | None = None, config: Path | str | None = None,
               tracking_uri: str | None = None, demo_key: bool = False,
               condition_rules: tuple = (), cards_out: Path | str = CARDS_OUT,
               progress: Progress = _quiet) -> dict:
    """Record the ethics committee's decision (``expires`` as YYYY-MM-DD; ``condition_rules``:
    conditions as code, checked by ``cin-ml monitor`` and ``governance check``); the card
    with the decision is copied to ``<cards_out>/<run>/reviewed/`` (``reviewed_local``)."""
    from cin_ml.registry import parse_day, review

    until = parse_day(expires, "--expires")
    if url := _server(tracking_uri):
        return _on_server(url, "review", progress, model=model, version=str(version),
                          approve=approve, reviewer=reviewer, comment=comment,
                          conditions=conditions, accept_fairness=list(accept_fairness),
                          expires=expires, condition_rules=list(condition_rules))
    ctx = _governance_ctx(config, tracking_uri=tracking_uri, demo_key=demo_key)
    return _with_local_card(review(
        ctx, model, version, reviewer=reviewer, approve=approve, comment=comment,
        conditions=conditions, accept_fairness=accept_fairness, expires=until,
        condition_rules=condition_rules), tracking_uri, cards_out)


def run_promote(model: str, version: str, *, alias: str = "champion",
                operator: str | None = None, why: str = "",
                config: Path | str | None = None, consent: Path | str | None = None,
                tracking_uri: str | None = None, demo_key: bool = False,
                cards_out: Path | str = CARDS_OUT, progress: Progress = _quiet) -> dict:
    """Move ``@alias`` to a version if every gate holds (GateError lists the failures); the
    cards with the decision of the version and of the one that lost the alias are copied to
    ``<cards_out>/<run>/reviewed/``."""
    from cin_ml.registry import promote

    if url := _server(tracking_uri):
        return _on_server(url, "promote", progress, model=model, version=str(version),
                          alias=alias, operator=operator, why=why)
    ctx = _governance_ctx(config, consent, tracking_uri, demo_key=demo_key)
    progress(f"checking the {alias} gates of {model} v{version}")
    return _with_local_card(promote(ctx, model, version, alias=alias, operator=operator,
                                    why=why), tracking_uri, cards_out)


def _with_local_card(result: dict, tracking_uri: str | None, cards_out: Path | str) -> dict:
    """Copy the cards with the decision the registry has just rendered to the workspace
    (``<cards_out>/<run>/reviewed/``): the version's (``reviewed_local``) and, when the
    alias moved away from another version, that version's too (``previous_reviewed_local``:
    its card now says it no longer serves)."""
    reader = None
    for key, local in (("reviewed_card", "reviewed_local"),
                       ("previous_reviewed_card", "previous_reviewed_local")):
        rc = result.get(key) or {}
        if rc.get("run_id") and rc.get("files"):
            reader = reader or _reader(tracking_uri)
            result[local] = refresh_reviewed_card(rc["run_id"], cards_out, reader=reader)
    return result


def _reader(tracking_uri: str | None):
    from cin_ml import tracking

    return tracking.RunReader(tracking_uri)


def run_rollback(model: str, *, operator: str | None = None, why: str = "",
                 config: Path | str | None = None, consent: Path | str | None = None,
                 tracking_uri: str | None = None, demo_key: bool = False,
                 cards_out: Path | str = CARDS_OUT, progress: Progress = _quiet) -> dict:
    """Move ``@champion`` back to the last earlier champion that still passes the gates (the
    cards with the decision of both versions copied to ``<cards_out>/<run>/reviewed/``)."""
    from cin_ml.registry import rollback

    if url := _server(tracking_uri):
        return _on_server(url, "rollback", progress, model=model, operator=operator, why=why)
    return _with_local_card(rollback(_governance_ctx(config, consent, tracking_uri,
                                                     demo_key=demo_key),
                                     model, operator=operator, why=why), tracking_uri,
                            cards_out)


def run_compare(model: str, *, config: Path | str | None = None,
                tracking_uri: str | None = None, demo_key: bool = False,
                progress: Progress = _quiet) -> dict:
    """@challenger against @champion on the same test students."""
    from cin_ml.registry import compare

    return compare(_governance_ctx(config, tracking_uri=tracking_uri, demo_key=demo_key),
                   model).to_dict()


def run_governance_check(*, actor: str | None = None, on_date: str | None = None,
                         config: Path | str | None = None, consent: Path | str | None = None,
                         tracking_uri: str | None = None, demo_key: bool = False,
                         cards_out: Path | str = CARDS_OUT,
                         progress: Progress = _quiet) -> dict:
    """Expire approvals, flag versions without valid consent, withdraw and restore aliases;
    the cards with the decision of the versions an alias left or reached are rendered again
    and copied to ``<cards_out>/<run>/reviewed/`` (``reviewed_cards[i]["local"]``)."""
    from cin_ml.registry import check, parse_day

    day = parse_day(on_date, "--on")
    if url := _server(tracking_uri):
        return _on_server(url, "check", progress, actor=actor, on_date=on_date)
    out = check(_governance_ctx(config, consent, tracking_uri, day, demo_key=demo_key),
                actor=actor).to_dict()
    reader = None
    for rc in out["reviewed_cards"]:
        if rc.get("run_id") and rc.get("files"):
            reader = reader or _reader(tracking_uri)
            rc["local"] = refresh_reviewed_card(rc["run_id"], cards_out, reader=reader)
    return out


def run_history(model: str | None = None, *, verify: bool = False,
                config: Path | str | None = None, tracking_uri: str | None = None,
                demo_key: bool = False, progress: Progress = _quiet) -> dict:
    """The governance history (``model``'s events only when given) and, with ``verify``,
    the chain check."""
    from cin_ml import registry

    ctx = _governance_ctx(config, tracking_uri=tracking_uri, demo_key=demo_key)
    out: dict = {"events": [e.to_dict() for e in registry.history(ctx, model)]}
    if verify:
        url = _server(tracking_uri)
        out["verify"] = (_on_server(url, "verify", progress) if url
                         else registry.verify(ctx).to_dict())
    return out
