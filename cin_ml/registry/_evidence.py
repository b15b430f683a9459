"""What a training run carries as evidence for governance: card, fairness verdicts, feature
policy, metrics, data digests and the consent scope (CSS × datasets it was trained on)."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cin_ml.errors import GovernanceError, TrackingError
from cin_ml.run_contract import Artifact, RunKind, Tag
from cin_ml.tracking import RunReader, flat_metrics

_VERDICT_ORDER = ("fail", "inconclusive", "insufficient_data", "pass")  # as cin_ml.fairness


@dataclass(frozen=True)
class RunEvidence:
    """The governance-relevant facts of one training run."""

    run_id: str
    task: str
    status: str
    is_training_run: bool
    author: str | None
    model_uri: str | None
    card_ready: bool | None
    card_missing: tuple[str, ...]
    card_sha256: str | None
    card_content_sha256: str | None
    fairness_verdicts: Mapping[str, Mapping[str, str]] | None
    metrics: Mapping[str, float]
    params: Mapping[str, str]
    features: tuple[str, ...]
    feature_policy: Mapping[str, Any] | None
    data_digests: Mapping[str, str]
    consent_scope: Mapping[str, Any] | None
    notes: tuple[str, ...] = field(default_factory=tuple)
    evidence_files: Mapping[str, str | None] = field(default_factory=dict)
    """SHA-256 of each card file and evidence artifact (``None`` when absent)."""
    run_metrics: Mapping[str, float] = field(default_factory=dict)
    """The run's logged metrics: mutable by anyone with store access, so never a gate's
    input (``metrics`` comes from the hash-pinned ``evaluation/metrics.json``)."""

    @property
    def fairness_fails(self) -> tuple[str, ...]:
        """``breakdown:metric`` keys whose verdict is ``fail``."""
        v = self.fairness_verdicts or {}
        return tuple(sorted(f"{b}:{m}" for b, ms in v.items() for m, x in ms.items()
                            if x == "fail"))

    @property
    def fairness_worst(self) -> str:
        found = {x for ms in (self.fairness_verdicts or {}).values() for x in ms.values()}
        return next((v for v in _VERDICT_ORDER if v in found), "none")


def _json(reader: RunReader, run_id: str, path: str) -> dict | None:
    """One JSON artifact through the reader's parser, ``None`` if absent (GovernanceError if
    it does not parse)."""
    try:
        return reader.optional(run_id, path)
    except TrackingError as exc:
        raise GovernanceError(str(exc)) from None


def card_readiness(card: Mapping[str, Any]) -> tuple[bool | None, tuple[str, ...]]:
    """The card's completeness flag and missing sections, as :mod:`cin_ml.cards` writes
    them: ``status`` (``ready_for_review`` | ``draft``) and ``gaps`` (each with its
    ``section``). ``None`` when the card carries no such status."""
    if card.get("status") not in ("ready_for_review", "draft"):
        return None, ()
    gaps = tuple(str(g.get("section", g.get("code", "?"))) if isinstance(g, Mapping)
                 else str(g) for g in card.get("gaps", []) or [])
    return card["status"] == "ready_for_review" and not gaps, gaps


def card_content_sha256(raw: bytes) -> str:
    """The card's hash recomputed from ``card.json``: :func:`cin_ml.cards.card_sha256`
    (canonical JSON without the ``review`` section) for a valid card, else the SHA-256 of
    the bytes. Equals ``card/card.sha256`` unless the card was edited."""
    try:
        from cin_ml.cards import card_sha256, load_card

        return card_sha256(load_card(raw))
    except Exception:
        return hashlib.sha256(raw).hexdigest()


@functools.lru_cache(maxsize=16)
def _rendered(card_json: bytes) -> dict[str, str] | None:
    """The files :func:`cin_ml.cards.render_card` makes from ``card.json`` (deterministic:
    the same card always gives the same bytes), or ``None`` for an invalid card."""
    from cin_ml.cards import load_card, render_card

    try:
        return dict(render_card(load_card(card_json)).files)
    except Exception:
        return None


def rendering_mismatches(reader: RunReader, run_id: str) -> list[str]:
    """Card files of the run that are not what ``card.json`` renders to (edited after
    ``cin-ml card`` wrote them): the committee reads the HTML, so every rendering must be
    the hashed card's."""
    raw = reader.raw(run_id, Artifact.CARD_JSON)
    if raw is None:
        return []
    files = _rendered(raw)
    if files is None:
        return [f"{Artifact.CARD_JSON.value} is not a valid card"]
    out = []
    for path, text in sorted(files.items()):
        logged = reader.raw(run_id, path)
        if logged is None:
            out.append(f"{path} is missing")
        elif logged != text.encode("utf-8"):
            out.append(f"{path} is not the rendering of {Artifact.CARD_JSON.value} (edited)")
    return out


def derive_datasets(features: tuple[str, ...]) -> tuple[str, ...]:
    """Datasets a model's features come from (plus ``academic``: population and labels)."""
    from cin_ml.features import feature_sources
    from cin_ml.schema import TABLES

    found = {"academic"}
    for f in features:
        try:
            found.update(TABLES[t].dataset for t, _ in feature_sources(f) if t in TABLES)
        except Exception:  # an uncatalogued feature: the feature-policy gate reports it
            continue
    return tuple(sorted(found))


def _css_of(data_dir: str | None) -> tuple[str, ...] | None:
    if not data_dir or not Path(data_dir).is_dir():
        return None
    from cin_ml.extract import read_extract

    try:
        t = read_extract(data_dir, ("css", "students"))
    except Exception:
        return None
    for name in ("css", "students"):
        if name in t and "css_id" in t[name]:
            return tuple(sorted(t[name]["css_id"].dropna().astype(str).unique()))
    return None


def consent_scope(reader: RunReader, run_id: str, tags: Mapping[str, str],
                  features: tuple[str, ...]) -> tuple[dict | None, str | None]:
    """The run's consent scope ``{"css_ids", "datasets", "source"}`` and a note.

    ``consent/scope.json`` in the run (written by training) wins; else the datasets come
    from the features and the CSS from the extract folder the run names (``cin.data_dir``).
    """
    logged = _json(reader, run_id, Artifact.CONSENT_SCOPE)
    if logged is not None:
        return {"css_ids": sorted(map(str, logged.get("css_ids", []))),
                "datasets": sorted(map(str, logged.get("datasets", []))),
                "agreements": sorted(map(str, logged.get("agreements", []))),
                "agreement_records": list(logged.get("agreement_records", [])),
                "source": Artifact.CONSENT_SCOPE.value}, None
    css = _css_of(tags.get(Tag.DATA_DIR))
    if css is None:
        return None, (f"run {run_id} records no consent scope "
                      f"({Artifact.CONSENT_SCOPE.value}) and its extract folder "
                      f"{tags.get(Tag.DATA_DIR) or '(none)'} is not readable")
    return {"css_ids": list(css), "datasets": list(derive_datasets(features)),
            "agreements": [], "source": "derived from cin.data_dir and the features"}, None


def read_evidence(reader: RunReader, run_id: str) -> RunEvidence:
    """Collect a run's evidence through ``reader`` (one fetch per artifact).

    Raises GovernanceError for an unknown run or an artifact that is not valid JSON.
    """
    try:
        run = reader.run(run_id)
    except TrackingError as exc:
        raise GovernanceError(str(exc)) from None
    tags = dict(run.data.tags)
    card_raw = reader.raw(run_id, Artifact.CARD_JSON)
    card = _json(reader, run_id, Artifact.CARD_JSON)
    ready, missing = card_readiness(card) if card is not None else (None, ())
    sha_raw = reader.raw(run_id, Artifact.CARD_SHA)
    declared = sha_raw.decode("utf-8").split()[0].strip().lower() if sha_raw else None
    fair = _json(reader, run_id, Artifact.FAIRNESS_AUDIT)
    policy = _json(reader, run_id, Artifact.FEATURE_POLICY)
    meta = _json(reader, run_id, Artifact.MODEL_META) or {}
    evaluation = _json(reader, run_id, Artifact.EVALUATION)
    try:
        metrics = flat_metrics(evaluation) if evaluation else {}
    except (KeyError, TypeError, ValueError):
        metrics = {}
    files = {}
    for path in Artifact.evidence_files():
        raw = reader.raw(run_id, path)
        files[path] = None if raw is None else hashlib.sha256(raw).hexdigest()
    features = tuple(meta.get("features", []))
    digests = {}
    for di in run.inputs.dataset_inputs if run.inputs else []:
        ctx = next((t.value for t in di.tags if t.key == "mlflow.data.context"), "")
        digests[f"{ctx or di.dataset.name}"] = di.dataset.digest
    scope, note = consent_scope(reader, run_id, tags, features)
    model_uri = tags.get(Tag.MODEL_URI)
    if not model_uri:
        outs = run.outputs.model_outputs if run.outputs else []
        model_uri = f"models:/{outs[0].model_id}" if outs else None
    return RunEvidence(
        run_id=run_id, task=tags.get(Tag.TASK, ""), status=run.info.status,
        is_training_run=tags.get(Tag.KIND) == RunKind.TRAIN,
        author=(tags.get(Tag.AUTHOR) or tags.get("mlflow.user") or None),
        model_uri=model_uri, card_ready=ready, card_missing=missing,
        card_sha256=declared,
        card_content_sha256=card_content_sha256(card_raw) if card_raw else None,
        fairness_verdicts=(fair or {}).get("verdicts") if fair is not None else None,
        metrics=metrics, params=dict(run.data.params), features=features,
        feature_policy=policy, data_digests=digests, consent_scope=scope,
        notes=tuple(n for n in (note,) if n), evidence_files=files,
        run_metrics=dict(run.data.metrics))
