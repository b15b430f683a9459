"""Promotion gates: pure checks over a version's tags *as the governance history wrote them*
(never the live tags, a cache anyone with store access can edit), its run's evidence (pinned
by SHA-256 at registration; metrics from ``evaluation/metrics.json``, never the mutable run
metrics) and the policy."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass

from cin_ml.consent import ConsentRegistry, agreements_from_frame, check_consent
from cin_ml.registry._evidence import RunEvidence
from cin_ml.registry._identity import normalize_identity
from cin_ml.registry._model_files import MANIFEST, ModelCheck, unpinned_line
from cin_ml.registry._settings import GATES, GovernanceSettings
from cin_ml.run_contract import Tag, VersionTag

_NEVER_ROLES = ("direct_identifier", "workforce", "target")


@dataclass(frozen=True)
class GateResult:
    """One gate: its name, whether it holds, and why."""

    gate: str
    ok: bool
    detail: str

    def to_dict(self) -> dict:
        return {"gate": self.gate, "ok": self.ok, "detail": self.detail}


@dataclass(frozen=True)
class GateReport:
    """All gates evaluated for moving ``alias`` to ``model`` version ``version``."""

    model: str
    version: str
    alias: str
    results: tuple[GateResult, ...]

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    @property
    def failed(self) -> tuple[GateResult, ...]:
        return tuple(r for r in self.results if not r.ok)

    def failed_lines(self) -> list[str]:
        return [f"{r.gate}: {r.detail}" for r in self.failed]

    def to_dict(self) -> dict:
        return {"model": self.model, "version": self.version, "alias": self.alias,
                "ok": self.ok, "results": [r.to_dict() for r in self.results]}


def review_record(tags: Mapping[str, str]) -> dict | None:
    """The version's review record (tag ``cin.review``), or ``None`` if never reviewed."""
    raw = tags.get(VersionTag.REVIEW)
    if not raw:
        return None
    try:
        rec = json.loads(raw)
    except json.JSONDecodeError:
        return {"state": "corrupt"}
    return rec if isinstance(rec, dict) else {"state": "corrupt"}


def _approval(tags, review, today) -> GateResult:
    if review is None:
        return GateResult("approval", False, "no review recorded (state pending)")
    state = review.get("state")
    if state != "approved":
        who = review.get("reviewer", "?")
        return GateResult("approval", False, f"review state is {state} (by {who}, "
                                             f"{review.get('at', '?')[:10]})")
    expires = review.get("expires")
    if not expires or dt.date.fromisoformat(expires) < today:
        return GateResult("approval", False, f"approval by {review.get('reviewer')} expired "
                                             f"on {expires}")
    return GateResult("approval", True, f"approved by {review.get('reviewer')} until "
                                        f"{expires}")


def _history(disagreements: list[str]) -> GateResult:
    if disagreements:
        return GateResult("history", False, "; ".join(disagreements[:6])
                          + (f" (+{len(disagreements) - 6} more)"
                             if len(disagreements) > 6 else ""))
    return GateResult("history", True, "version tags agree with the governance history")


def pinned_evidence(tags: Mapping[str, str]) -> dict[str, str | None] | None:
    raw = tags.get(VersionTag.EVIDENCE)
    if not raw:
        return None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def evidence_changes(tags: Mapping[str, str], ev: RunEvidence) -> list[str]:
    """Card files and evidence artifacts whose bytes differ from those registered (the
    model files' manifest is judged by :mod:`~cin_ml.registry._model_files`)."""
    pinned = pinned_evidence(tags)
    if pinned is None:
        return ["no evidence digests were recorded at registration (register again)"]
    out = []
    for path in sorted((set(pinned) | set(ev.evidence_files)) - {MANIFEST}):
        was, now = pinned.get(path), ev.evidence_files.get(path)
        if was != now:
            state = "removed" if now is None else ("added" if was is None else "changed")
            out.append(f"{path} {state} since registration")
    return out


def _card(tags, review, ev: RunEvidence, mc: ModelCheck | None, unpinned_ok: bool,
          model: str, version: str) -> GateResult:
    if ev.card_sha256 is None or ev.card_content_sha256 is None:
        return GateResult("card", False, f"run {ev.run_id} has no card/card.json and "
                                         f"card/card.sha256 any more")
    problems = evidence_changes(tags, ev)
    if mc is None:
        problems.append("the model files were not read, so they cannot be checked")
    elif not mc.pinned and not unpinned_ok:
        problems.append(unpinned_line(model, version))
    else:
        problems += mc.problems
    if tags.get("cin.card.sha256") != ev.card_sha256:
        problems.append(f"card hash {ev.card_sha256[:12]} differs from the registered "
                        f"{(tags.get('cin.card.sha256') or '?')[:12]}")
    if ev.card_content_sha256 != ev.card_sha256:
        problems.append("card/card.json does not match card/card.sha256 (edited)")
    if tags.get("cin.card.content_sha256") != ev.card_content_sha256:
        problems.append("card/card.json was modified after registration")
    if review is not None and review.get("card_sha256") not in (None, ev.card_sha256):
        problems.append(f"card hash at review {review['card_sha256'][:12]} differs from the "
                        f"current {ev.card_sha256[:12]}")
    if problems:
        return GateResult("card", False, "tampered card: " + "; ".join(problems))
    detail = (f"card {ev.card_sha256[:12]}, its {len(ev.evidence_files)} files and "
              f"{mc.n_files} model files unchanged since registration")
    if not mc.pinned:
        detail = (f"card {ev.card_sha256[:12]} and its {len(ev.evidence_files)} files "
                  f"unchanged since registration; {unpinned_line(model, version)}")
    return GateResult("card", True, detail)


def _metrics(ev: RunEvidence, s: GovernanceSettings) -> GateResult:
    bad, ok = [], []
    for name, floor in s.floors.min.items():
        v = ev.metrics.get(name)
        if v is None:
            bad.append(f"{name} missing (floor {floor})")
        elif v < floor:
            bad.append(f"{name} {v:.3f} < floor {floor}")
        else:
            ok.append(f"{name} {v:.3f} ≥ {floor}")
    for name, base in s.floors.beat.items():
        v, b = ev.metrics.get(name), ev.metrics.get(base)
        if v is None or b is None:
            bad.append(f"{name} vs {base}: metric missing")
        elif not v > b + s.floors.margin:
            bad.append(f"{name} {v:.3f} does not beat {base} {b:.3f}"
                       + (f" by {s.floors.margin}" if s.floors.margin else ""))
        else:
            ok.append(f"{name} beats {base}")
    return GateResult("metrics", not bad, "; ".join(bad or ok) or "no floors configured")


def baseline_result(metrics: Mapping[str, float], s: GovernanceSettings) -> GateResult:
    """The ``baseline`` gate: recall at the served capacity must beat the context-only model
    (school, IMSE decile, cohort) on the same students, by ``[floors] context_margin``
    (``context_rule``: the difference's interval lower bound, or its estimate)."""
    f = s.floors
    key = ("recall_gain_over_context_ci_low" if f.context_rule == "interval"
           else "recall_gain_over_context")
    gain, model = metrics.get(key), metrics.get("test_recall_at_capacity")
    ctx, est = metrics.get("context_recall_at_capacity"), metrics.get("recall_gain_over_context")
    if gain is None or model is None or ctx is None:
        return GateResult("baseline", False, "the evaluation has no context-only baseline "
                                             "(retrain with this version of cin-ml)")
    what = (f"recall at capacity {model:.3f} vs context-only {ctx:.3f} (difference "
            f"{est:+.3f}" + (f", interval low {gain:+.3f})" if key != "recall_gain_over_context"
                             else ")"))
    if gain > f.context_margin:
        return GateResult("baseline", True, what)
    return GateResult("baseline", False, f"{what}: does not beat the context-only model by "
                                         f"more than {f.context_margin:g}")


def _accepted(key: str, accepted: list[str]) -> bool:
    b, _, m = key.partition(":")
    return key in accepted or f"{b}:*" in accepted or f"*:{m}" in accepted


def _fairness(review, ev: RunEvidence) -> GateResult:
    if ev.fairness_verdicts is None:
        return GateResult("fairness", False, f"run {ev.run_id} has no fairness/audit.json")
    accepted = list((review or {}).get("accepted_fairness", []))
    open_fails = [k for k in ev.fairness_fails if not _accepted(k, accepted)]
    if open_fails:
        return GateResult("fairness", False, "fail verdict(s) not accepted in the approval's "
                                             "conditions: " + ", ".join(open_fails))
    if ev.fairness_fails:
        return GateResult("fairness", True, "fail verdict(s) accepted in conditions: "
                                            + ", ".join(ev.fairness_fails))
    return GateResult("fairness", True, f"worst verdict: {ev.fairness_worst}")


def feature_violations(features: tuple[str, ...], policy: Mapping | None) -> list[str]:
    """Reasons the model's features break the feature policy (empty when clean)."""
    from cin_ml.features import feature_sources
    from cin_ml.schema import column_role

    if not features:
        return ["the run lists no model features (model_meta.json)"]
    if policy is None:
        return ["the run has no policy/feature_policy.json"]
    used = set(policy.get("features_used", []))
    bad = []
    for f in features:
        try:
            roles = {column_role(t, c).value for t, c in feature_sources(f)}
        except Exception:
            bad.append(f"{f}: no declared source columns")
            continue
        never = sorted(roles & set(_NEVER_ROLES))
        if never:
            bad.append(f"{f}: derives from {', '.join(never)} data")
        if f not in used:
            bad.append(f"{f}: not in the recorded policy's features_used")
    return bad


def _feature_policy(ev: RunEvidence) -> GateResult:
    bad = feature_violations(ev.features, ev.feature_policy)
    if bad:
        return GateResult("feature_policy", False, "; ".join(bad[:6])
                          + (f" (+{len(bad) - 6} more)" if len(bad) > 6 else ""))
    return GateResult("feature_policy", True, f"{len(ev.features)} student features, no "
                                              f"teacher, identifier or target variable")


def consent_result(scope: Mapping | None, consent: ConsentRegistry, purpose: str,
                   today: dt.date, note: str = "") -> GateResult:
    """The consent gate for a consent scope (``None`` = unknown scope)."""
    if scope is None:
        return GateResult("consent", False, note or "the run records no consent scope")
    try:
        # the agreements the run relied on (recorded at training) are judged on `today`,
        # together with those of the configured registry (e.g. a renewed agreement)
        records = scope.get("agreement_records") or []
        if records:
            import pandas as pd

            relied = agreements_from_frame(pd.DataFrame(records)).agreements
            known = {a.id for a in relied}
            consent = ConsentRegistry(agreements=relied + tuple(
                a for a in consent.agreements if a.id not in known))
        chk = check_consent(consent, scope.get("css_ids", []), scope.get("datasets", []),
                            purpose, today)
    except Exception as exc:
        return GateResult("consent", False, str(exc))
    return GateResult("consent", chk.ok, chk.describe())


def _operator(tags, review, operator: str, s: GovernanceSettings) -> GateResult:
    op = normalize_identity(operator)
    if op not in s.people.operators:
        return GateResult("operator", False, f"{operator!r} is not listed as an operator in "
                                             f"governance.toml [people] operators")
    if op == normalize_identity(tags.get(Tag.AUTHOR) or ""):
        return GateResult("operator", False, f"{operator!r} is the model's author")
    if (not s.people.reviewer_may_operate and review
            and op == normalize_identity(review.get("reviewer") or "")):
        return GateResult("operator", False, f"{operator!r} reviewed this version and may "
                                             f"not also promote it")
    return GateResult("operator", True, f"{op} is an operator, not the author")


def evaluate_gates(model: str, version: str, alias: str, tags: Mapping[str, str],
                   ev: RunEvidence, s: GovernanceSettings, consent: ConsentRegistry,
                   operator: str, today: dt.date,
                   disagreements: list[str] | None = None,
                   model_check: ModelCheck | None = None,
                   unpinned_ok: bool = False) -> GateReport:
    """Evaluate the gates ``s.gates_for(alias)`` for one version (pure). ``tags`` are the
    version's tags as the history wrote them; ``disagreements`` the live tags that differ;
    ``model_check`` the files the version's model location holds now judged against the
    pins of registration (the ``card`` gate fails without it). A version registered before
    model pinning fails the ``card`` gate unless ``unpinned_ok`` (``governance check`` keeps
    such a version where it is and reports it)."""
    review = review_record(tags)
    wanted = set(s.gates_for(alias))
    scope = (json.loads(tags[VersionTag.CONSENT_SCOPE])
             if tags.get(VersionTag.CONSENT_SCOPE) else None)
    fns = {"history": lambda: _history(list(disagreements or [])),
           "approval": lambda: _approval(tags, review, today),
           "card": lambda: _card(tags, review, ev, model_check, unpinned_ok, model,
                                 str(version)),
           "metrics": lambda: _metrics(ev, s),
           "baseline": lambda: baseline_result(ev.metrics, s),
           "fairness": lambda: _fairness(review, ev),
           "feature_policy": lambda: _feature_policy(ev),
           "consent": lambda: consent_result(scope, consent, s.governance.purpose, today,
                                             tags.get(VersionTag.CONSENT_NOTE, "")),
           "operator": lambda: _operator(tags, review, operator, s)}
    return GateReport(model, version, alias,
                      tuple(fns[g]() for g in GATES if g in wanted))
