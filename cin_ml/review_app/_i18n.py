"""The page's words and numbers in French (default) or English: fixed wording from
``strings.toml``; review states, verdicts, event types, attributes and groups from the
glossary (:mod:`cin_ml.glossary`); numbers, percentages and dates through Babel (fr_CA,
en_CA)."""

from __future__ import annotations

import datetime as dt
import tomllib
from functools import cache
from importlib import resources

from cin_ml.glossary import (
    LOCALES,
    attribute_label,
    event_label,
    fmt_date,
    fmt_int,
    fmt_number,
    fmt_percent,
    group_label,
    has_label,
    label,
)

LANGS = ("fr", "en")


@cache
def strings(lang: str) -> dict[str, str]:
    """The fixed wording in ``lang`` (``fr`` or ``en``)."""
    text = resources.files("cin_ml.review_app").joinpath("strings.toml").read_text("utf-8")
    return tomllib.loads(text)[lang]


def pick_lang(value: str | None) -> str:
    """``value`` when it is a supported language, else French."""
    return value if value in LANGS else "fr"


class Words:
    """Formatting helpers bound to one language (used by the templates as ``w``)."""

    def __init__(self, lang: str):
        self.lang = pick_lang(lang)
        self.locale = LOCALES[self.lang]
        self.s = strings(self.lang)

    def __getitem__(self, key: str) -> str:
        return self.s[key]

    def num(self, x: float | None, digits: int = 3) -> str:
        return fmt_number(x, self.lang, digits)

    def signed(self, x: float | None, digits: int = 3) -> str:
        if x is None:
            return "—"
        return ("+" if x > 0 else "") + self.num(x, digits)

    def pct(self, x: float | None) -> str:
        return fmt_percent(x, self.lang, 1)

    def count(self, n: int | None) -> str:
        return fmt_int(n, self.lang)

    def date(self, iso: str | None) -> str:
        if not iso:
            return "—"
        try:
            return fmt_date(dt.date.fromisoformat(iso[:10]), self.lang)
        except ValueError:
            return iso

    def when(self, iso: str | None) -> str:
        """An ISO timestamp as ``date hh:mm`` (UTC)."""
        if not iso:
            return "—"
        return f"{self.date(iso)} {iso[11:16]}"

    def state(self, state: str) -> str:
        """A version's review state in words (the glossary's ``review_state``)."""
        key = f"review_state.{state}"
        return label(key, self.lang) if has_label(key) else state

    def verdict(self, v: str | None) -> str:
        """A fairness verdict in words (the glossary's ``verdict``), or "no verdict"."""
        key = f"verdict.{v}"
        return label(key, self.lang) if v and has_label(key) else self.s["v_none"]

    def metric(self, m: str) -> str:
        return self.s.get(f"m_{m}", m)

    def attribute(self, name: str) -> str:
        return attribute_label(name, self.lang)

    def group(self, labels: list, attribute: str = "") -> str:
        """A group's name: through the glossary when its attribute is known."""
        value = " × ".join(str(x) for x in labels)
        if attribute:
            return group_label(attribute, value, self.lang)
        return value

    def event(self, type_: str) -> str:
        """A governance history event type in words (:func:`cin_ml.glossary.event_label`)."""
        return event_label(type_, self.lang)

    def task(self, task: str | None) -> str:
        """A task's name in words (the task code for a task cin-ml does not define)."""
        from cin_ml.tasks import task_label

        return task_label(task, "name", self.lang) if task else ""

    def fail(self, key: str) -> str:
        """A ``breakdown:metric`` fairness fail in words."""
        b, _, m = key.partition(":")
        return f"{self.attribute(b)} — {self.metric(m)}"
