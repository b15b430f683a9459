"""Model registry and governance: register, review, promote, compare, roll back, check,
and the append-only hash-chained governance history.

With :mod:`cin_ml.tracking`, the only package that imports mlflow (import-linter contract).
Registry conventions (docs/architecture.md, "MLflow conventions" and "Governance model"):
aliases and tags, not stages. Each task has one registered model (``cin-ecriture-4e``,
``cin-decrochage``); ``@champion`` serves and ``@challenger`` is under comparison. Version
tags: ``cin.review.state`` (pending, approved, rejected, expired), ``cin.review`` (the
review record, JSON), ``cin.author``, ``cin.card.sha256``, ``cin.data.digests``,
``cin.fairness.verdicts``, ``cin.consent.scope``.

Every action takes the acting identity explicitly (or from ``$CIN_ML_USER``) and records it.
Decisions live in the governance history, authenticated with a governance key the store does
not hold and anchored outside it (``_key``); version tags and aliases are a cache checked
against it (``_state``), and gates read only evidence pinned by hash at registration,
including every file of the version's model (``_model_files``), which serving checks again
on the local copy it loads. In
the embedded SQLite store identities are declared, not authenticated: anyone with write
access to the store can still edit tags, aliases or artifacts, and cin-ml refuses to act on
them and reports them (``verify``, ``check``), but cannot prevent them. Real enforcement
needs an authenticated tracking server (MLflow's basic-auth app or a proxy) whose user is
the identity; the functions here already take the identity as a parameter so that layer
can supply it.

Public API::

    ctx = make_ctx()                                      # configs + default store
    register(ctx, run_id, author=None)                    # -> {"model", "version", ...}
    review(ctx, model, version, reviewer=..., approve=True, comment=..., expires=...)
    promote(ctx, model, version, alias="champion", operator=...)   # GateError on refusal
    rollback(ctx, model, operator=..., why=...)
    compare(ctx, model, challenger=None)                  # -> Comparison
    review_queue(ctx) / version_record(ctx, model, version)   # what the committee reads
    check(ctx)                                            # -> CheckReport
    served_version(ctx, model, alias)                     # what predict may serve, with
        # the booster loaded from the model files checked against their pins
    history(ctx, model=None) / verify(ctx)                # -> [Event] / VerifyReport
    act_on_server(url, action, params, username=..., password=...)   # team server: the
        # action performed by its governance service as the authenticated user
"""

from __future__ import annotations

from cin_ml.registry._check import CheckReport, check
from cin_ml.registry._compare import Comparison, compare
from cin_ml.registry._context import Ctx, make_ctx
from cin_ml.registry._dates import parse_day
from cin_ml.registry._evidence import RunEvidence, read_evidence
from cin_ml.registry._gates import GateReport, GateResult, evaluate_gates
from cin_ml.registry._history import EXPERIMENT, Event, VerifyReport
from cin_ml.registry._identity import check_identity, normalize_identity
from cin_ml.registry._key import ANCHOR_DIR_ENV as GOVERNANCE_ANCHOR_DIR_ENV
from cin_ml.registry._key import DEMO_ENV as GOVERNANCE_DEMO_ENV
from cin_ml.registry._key import KEY_ENV as GOVERNANCE_KEY_ENV
from cin_ml.registry._key import KEY_FILE_ENV as GOVERNANCE_KEY_FILE_ENV
from cin_ml.registry._key import GovernanceKey, resolve_governance_key
from cin_ml.registry._queue import QUEUE_STATES, card_rendering, review_queue, version_record
from cin_ml.registry._remote import ACTIONS as SERVER_ACTIONS
from cin_ml.registry._remote import ENDPOINT_TAG as GOVERNANCE_ENDPOINT_TAG
from cin_ml.registry._remote import act_on_server, is_server_uri
from cin_ml.registry._served import served_version
from cin_ml.registry._settings import GATES, GovernanceSettings, load_governance_settings
from cin_ml.registry._store import LOCK_MODEL, RegistryStore, resolve_registry_store
from cin_ml.registry._workflow import _ensure_model as ensure_managed_model
from cin_ml.registry._workflow import gate_report, promote, register, review, rollback
from cin_ml.registry._workflow import version_summary as describe_version

__all__ = [
    "EXPERIMENT",
    "GATES",
    "GOVERNANCE_ANCHOR_DIR_ENV",
    "GOVERNANCE_DEMO_ENV",
    "GOVERNANCE_ENDPOINT_TAG",
    "GOVERNANCE_KEY_ENV",
    "GOVERNANCE_KEY_FILE_ENV",
    "GovernanceKey",
    "QUEUE_STATES",
    "LOCK_MODEL",
    "SERVER_ACTIONS",
    "CheckReport",
    "Comparison",
    "Ctx",
    "Event",
    "GateReport",
    "GateResult",
    "GovernanceSettings",
    "RegistryStore",
    "RunEvidence",
    "act_on_server",
    "VerifyReport",
    "card_rendering",
    "check",
    "check_identity",
    "compare",
    "describe_version",
    "ensure_managed_model",
    "evaluate_gates",
    "gate_report",
    "history",
    "is_server_uri",
    "load_governance_settings",
    "make_ctx",
    "normalize_identity",
    "parse_day",
    "promote",
    "read_evidence",
    "recover",
    "register",
    "resolve_governance_key",
    "resolve_registry_store",
    "review",
    "review_queue",
    "rollback",
    "served_version",
    "verify",
    "version_record",
]


def history(ctx: Ctx, model: str | None = None) -> list[Event]:
    """Governance events in chain order (one model's only when ``model`` is given)."""
    from cin_ml.registry._history import read_events

    return read_events(ctx.client, ctx.history_experiment(create=False), model)


def verify(ctx: Ctx) -> VerifyReport:
    """Check that no governance event was edited, forged or removed (MACs under the
    governance key, links, the anchor outside the store) and that every cin-ml model's
    live tags and aliases agree with the history (reported as problems otherwise)."""
    from cin_ml.registry._history import verify_history

    exp_id = ctx.history_experiment(create=False)
    rep = verify_history(ctx.client, exp_id, ctx.key)
    if not rep.ok:
        return rep
    from dataclasses import replace

    from cin_ml.registry._served import registry_disagreements

    extra = registry_disagreements(ctx, exp_id)
    return replace(rep, problems=rep.problems + tuple(extra)) if extra else rep


def recover(ctx: Ctx) -> Event | None:
    """Resolve an action interrupted by a crash (every action also does this first)."""
    with ctx.locked():
        pass
    from cin_ml.registry._history import last_event

    exp_id = ctx.history_experiment(create=False)
    return last_event(ctx.client, exp_id, ctx.key) if exp_id else None
