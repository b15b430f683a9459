"""The registry as the history says it is: version tags and aliases replayed from the
committed governance actions.

MLflow's tags and aliases are a *cache* of the decisions recorded in the (authenticated)
history: every committed action's intent lists the exact registry operations, so replaying
them in commit order gives, for each version, the tags cin-ml wrote and, for each alias, the
version cin-ml last moved it to. Gates decide from this replay, never from the live tags;
a live tag or alias that disagrees with it was written outside cin-ml and is named.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from cin_ml.registry._history import Event
from cin_ml.run_contract import VersionTag

_OUTCOME_SUFFIXES = (".started", ".aborted", ".refused")


@dataclass
class Replay:
    """One model's registry according to the history."""

    model: str
    tags: dict[str, dict[str, str]] = field(default_factory=dict)  # version -> tags
    source: dict[str, dict[str, int]] = field(default_factory=dict)  # version -> key -> seq
    aliases: dict[str, str | None] = field(default_factory=dict)  # alias -> version
    alias_source: dict[str, int] = field(default_factory=dict)
    timeline: dict[str, list[str | None]] = field(default_factory=dict)  # alias -> versions

    def registered(self, version: str) -> bool:
        return str(version) in self.tags


def replay(events: Iterable[Event], model: str) -> Replay:
    """Replay the committed actions of ``model`` (events in chain order)."""
    events = list(events)
    intents = {e.seq: e for e in events if e.type.endswith(".started")}
    out = Replay(model)
    for commit in events:
        if commit.type.endswith(_OUTCOME_SUFFIXES) or commit.model != model:
            continue
        intent = intents.get(commit.details.get("intent"))
        if intent is None:
            continue
        for op in intent.details.get("ops", []):
            if op.get("model") != model:
                continue
            kind = op.get("op")
            if kind == "create" and commit.version:
                v = str(commit.version)
                out.tags[v] = {**op.get("tags", {}),
                               VersionTag.REGISTER_INTENT.value: str(intent.seq)}
                out.source[v] = dict.fromkeys(out.tags[v], commit.seq)
            elif kind == "set_tag":
                v = str(op["version"])
                out.tags.setdefault(v, {})[op["key"]] = op["value"]
                out.source.setdefault(v, {})[op["key"]] = commit.seq
            elif kind == "delete_tag":
                v = str(op["version"])
                out.tags.setdefault(v, {}).pop(op["key"], None)
                out.source.setdefault(v, {}).pop(op["key"], None)
            elif kind in ("set_alias", "delete_alias"):
                target = None if kind == "delete_alias" else str(op["version"])
                out.aliases[op["alias"]] = target
                out.alias_source[op["alias"]] = commit.seq
                out.timeline.setdefault(op["alias"], []).append(target)
    return out


def _short(value: str | None) -> str:
    if value is None:
        return "(none)"
    return repr(value if len(value) <= 40 else value[:37] + "...")


def tag_disagreements(replayed: Replay, version: str, live: Mapping[str, str]) -> list[str]:
    """Each ``cin.*`` tag of ``version`` whose live value is not what the history wrote."""
    v = str(version)
    if not replayed.registered(v):
        return [f"{replayed.model} v{v} was never registered through cin-ml (no register "
                f"event in the governance history)"]
    want, src = replayed.tags[v], replayed.source.get(v, {})
    out = []
    for key in sorted(set(want) | {k for k in live if k.startswith("cin.")}):
        have = live.get(key)
        if key not in want:
            out.append(f"version tag {key}={_short(have)} was never written by cin-ml")
        elif have != want[key]:
            out.append(f"version tag {key}={_short(have)} disagrees with the history "
                       f"({_short(want[key])}, event #{src.get(key, '?')})")
    return out


def alias_disagreement(replayed: Replay, alias: str, live: str | None) -> str | None:
    """Why the live ``@alias`` is not where the history put it (``None`` when it is)."""
    want = replayed.aliases.get(alias)
    if live == want:
        return None
    where = (f"event #{replayed.alias_source[alias]}" if alias in replayed.alias_source
             else "never moved by cin-ml")
    if live is None:
        return f"@{alias} was removed outside cin-ml (the history has it on v{want}, {where})"
    has = f"the history has no @{alias}" if want is None else \
        f"the history has it on v{want}"
    if live not in replayed.timeline.get(alias, []):
        return (f"@{alias} is on v{live}, which the history never promoted to @{alias} "
                f"({has}, {where})")
    return f"@{alias} is on v{live} but {has} ({where}): moved outside cin-ml"
