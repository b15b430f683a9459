"""Last guard before an aggregate report leaves: no identifier, no student row, no small
cell, nothing recoverable by subtraction."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import pandas as pd

from cin_ml.schema import TABLES, Role

_CODE_PERMANENT = re.compile(r"\b[A-Z]{4}\d{8}\b")
_TOKEN = re.compile(r"[A-Za-z0-9]{6,}")


def identifier_columns() -> frozenset[str]:
    """Names of every direct-identifier column of the contract (schema roles)."""
    return frozenset(c.name for t in TABLES.values() for c in t.columns
                     if c.role == Role.DIRECT_IDENTIFIER)


def identifier_values(tables: Mapping[str, pd.DataFrame]) -> frozenset[str]:
    """Every direct-identifier value of the extract (student ids, codes permanents,
    names as "first last", postal codes, birth dates) as strings."""
    out: set[str] = set()
    cols = identifier_columns()
    for df in tables.values():
        for c in df.columns:
            if c in cols and c not in ("first_name", "last_name"):
                out.update(df[c].dropna().astype(str))
    st = tables.get("students")
    if st is not None and {"first_name", "last_name"} <= set(st.columns):
        out.update(st["first_name"].astype(str) + " " + st["last_name"].astype(str))
    return frozenset(v for v in out if v)


def scan_frames(frames: Mapping[str, pd.DataFrame], identifiers: Iterable[str],
                min_cell_size: int, count_prefix: str = "n") -> list[str]:
    """Findings (empty = clean) for published aggregate frames.

    Flags an identifier column, an identifier value in any cell, a frame without a count
    column (a row that is not an aggregate), and a published count in ``1..min_cell_size-1``.
    """
    ids = frozenset(identifiers)
    bad_cols = identifier_columns()
    findings = []
    for name, df in frames.items():
        cols = set(df.columns) & bad_cols
        if cols:
            findings.append(f"{name}: identifier column(s) {sorted(cols)}")
        counts = [c for c in df.columns if c == count_prefix or c.startswith(count_prefix + "_")]
        if not counts:
            findings.append(f"{name}: no count column, rows are not aggregates")
        for c in df.columns:
            if c in counts:
                v = pd.to_numeric(df[c], errors="coerce")
                small = int(((v > 0) & (v < min_cell_size)).sum())
                if small:
                    findings.append(f"{name}.{c}: {small} published count(s) below "
                                    f"{min_cell_size}")
            elif df[c].dtype == object or pd.api.types.is_string_dtype(df[c]):
                vals = set(df[c].dropna().astype(str))
                hit = vals & ids
                if hit:
                    findings.append(f"{name}.{c}: {len(hit)} identifier value(s)")
                if any(_CODE_PERMANENT.search(v) for v in vals):
                    findings.append(f"{name}.{c}: a value shaped like a code permanent")
    return findings


def scan_text(text: str, identifiers: Iterable[str]) -> list[str]:
    """Findings for a rendered page: any identifier token or code-permanent shape."""
    ids = frozenset(identifiers)
    findings = []
    tokens = set(_TOKEN.findall(text))
    hit = tokens & ids
    if hit:
        findings.append(f"{len(hit)} identifier value(s) in the page")
    names = [v for v in ids if " " in v and v in text]
    if names:
        findings.append(f"{len(names)} student name(s) in the page")
    if _CODE_PERMANENT.search(text):
        findings.append("a token shaped like a code permanent in the page")
    return findings
