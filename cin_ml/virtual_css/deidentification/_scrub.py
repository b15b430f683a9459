"""Scrub identifier-shaped tokens from free-text columns (``Column.free_text`` in the
schema, e.g. ``absences.reason_raw``) before they leave the source side.

Staff type anything into a free-text reason: a code permanent, a child's name, a birth
date. What is replaced by :data:`REDACTED`:

- code-permanent shapes (4 letters + 8 digits, any case, spaces, dots or dashes between
  the groups) and Canadian postal-code shapes;
- dates (``2014-03-05``, ``05/03/2014``, ``5.3.14``, ``5 mars 2014``, ``March 5, 2014``):
  any of them may be a birth date, and a reason needs none;
- the source's own identifiers: every first and last name (and teacher name) as a whole
  word, accent- and case-insensitively, and every value of the other direct-identifier
  columns (student ids, codes permanents, postal codes) found as a token.

Distinct values are scrubbed once; the result maps each changed raw value to its scrubbed
text (kept in memory only: it holds the raw values).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

import pandas as pd

from cin_ml.schema import TABLES, Role

__all__ = ["REDACTED", "free_text_columns", "scrub_free_text", "Scrubber"]

REDACTED = "***"

_MONTHS = ("janvier|fevrier|février|mars|avril|mai|juin|juillet|aout|août|septembre|octobre|"
           "novembre|decembre|décembre|janv|fevr|févr|avr|juil|sept|oct|nov|dec|déc|"
           "january|february|march|april|may|june|july|august|september|october|november|"
           "december|jan|feb|mar|apr|jun|jul|aug|sep")
_PATTERNS = [
    re.compile(r"(?<![^\W_])[^\W\d_]{4}[\s.-]?\d{2}[\s.-]?\d{2}[\s.-]?\d{2}[\s.-]?\d{2}"
               r"(?![^\W_])"),  # code permanent (letters of any case and accent)
    re.compile(r"(?<![^\W_])[a-z]\d[a-z][\s-]?\d[a-z]\d(?![^\W_])", re.IGNORECASE),  # postal
    re.compile(r"(?<!\d)\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?!\d)"),  # 2014-03-05
    re.compile(r"(?<!\d)\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}(?!\d)"),  # 05/03/2014, 5.3.14
    re.compile(rf"(?<!\d)\d{{1,2}}(?:er)?\s+(?:{_MONTHS})\.?\s+\d{{2,4}}(?!\d)",
               re.IGNORECASE),  # 5 mars 2014
    re.compile(rf"(?<![^\W_])(?:{_MONTHS})\.?\s+\d{{1,2}},?\s+\d{{2,4}}(?!\d)",
               re.IGNORECASE),  # March 5, 2014
]
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
_TOKEN = re.compile(r"[^\W_]+")
_NAME_COLUMNS = ("first_name", "last_name", "teacher_name")


def _fold(text: str) -> str:
    t = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in t if not unicodedata.combining(ch)).casefold()


def free_text_columns() -> dict[str, list[str]]:
    """``{table: [columns]}`` of the contract's free-text columns."""
    out = {t.name: [c.name for c in t.columns if c.free_text] for t in TABLES.values()}
    return {t: cols for t, cols in out.items() if cols}


class Scrubber:
    """Replaces identifier-shaped tokens and the source's own identifiers in text."""

    def __init__(self, tables: Mapping[str, pd.DataFrame]) -> None:
        names: set[str] = set()
        values: dict[str, set[tuple[str, ...]]] = {}
        for name, df in tables.items():
            if name not in TABLES:
                continue
            for c in TABLES[name].columns:
                if c.role != Role.DIRECT_IDENTIFIER or c.name not in df.columns:
                    continue
                s = df[c.name].dropna()
                if c.name in _NAME_COLUMNS:
                    for v in s.astype(str).unique():
                        names.update(_fold(w) for w in _WORD.findall(v) if len(w) >= 3)
                        names.update(_fold(w) for w in _TOKEN.findall(v) if len(w) >= 3)
                elif not pd.api.types.is_datetime64_any_dtype(s):
                    for v in s.astype(str).unique():
                        toks = tuple(_fold(t) for t in _TOKEN.findall(v))
                        if toks and len("".join(toks)) >= 4:
                            values.setdefault(toks[0], set()).add(toks)
        self.names = frozenset(names)
        self.values = values

    def _ids(self, text: str) -> str:
        """Every identifier value found as a run of whole tokens, replaced."""
        toks = list(_TOKEN.finditer(text))
        folded = [_fold(m.group(0)) for m in toks]
        spans = []
        i = 0
        while i < len(toks):
            hit = 0
            for cand in self.values.get(folded[i], ()):
                n = len(cand)
                if n > hit and tuple(folded[i:i + n]) == cand:
                    hit = n
            if hit:
                spans.append((toks[i].start(), toks[i + hit - 1].end()))
                i += hit
            else:
                i += 1
        for a, b in reversed(spans):
            text = text[:a] + REDACTED + text[b:]
        return text

    def _name(self, m: re.Match) -> str:
        return REDACTED if _fold(m.group(0)) in self.names else m.group(0)

    def __call__(self, text: str) -> str:
        out = text
        for p in _PATTERNS:
            out = p.sub(REDACTED, out)
        out = self._ids(out)
        out = _WORD.sub(self._name, out)
        return _TOKEN.sub(self._name, out)


def scrub_free_text(tables: Mapping[str, pd.DataFrame]
                    ) -> tuple[dict[str, pd.DataFrame], dict[str, str], dict[str, int]]:
    """Scrub every free-text column of ``tables`` (source form, identifiers still present).

    Returns the tables with scrubbed columns, the map of every changed raw value to its
    scrubbed text (in memory only) and the number of rows changed per ``table.column``.
    """
    scrub = Scrubber(tables)
    out = dict(tables)
    changed: dict[str, str] = {}
    counts: dict[str, int] = {}
    for name, cols in free_text_columns().items():
        if name not in tables:
            continue
        df = tables[name]
        for col in cols:
            if col not in df.columns:
                continue
            raw = df[col]
            uniq = raw.dropna().astype(str).unique()
            mapping = {v: scrub(v) for v in uniq}
            mapping = {k: v for k, v in mapping.items() if k != v}
            if not mapping:
                continue
            changed.update(mapping)
            hit = raw.isin(list(mapping))
            counts[f"{name}.{col}"] = int(hit.sum())
            df = df.assign(**{col: raw.where(~hit, raw.map(mapping))})
        out[name] = df
    return out, changed, counts
