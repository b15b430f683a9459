"""Read and write an extract folder: one Parquet file per contract table.

Writes are atomic at the folder level: tables go to a temporary sibling folder that is
renamed into place only when every file is written, so a failure leaves the previous
output intact and no half-written folder behind.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from cin_ml.errors import DataError, SchemaError
from cin_ml.schema import TABLES

__all__ = ["FORMULA_PREFIXES", "atomic_dir", "csv_safe", "read_extract", "write_csv",
           "write_extract", "write_json_atomic"]

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a CSV text cell as a formula (OWASP, CSV
injection): such cells are written with a leading single quote."""


class atomic_dir:
    """Context manager yielding a temp folder that replaces ``target`` on success only.

    >>> with atomic_dir("out/data") as tmp:   # doctest: +SKIP
    ...     (tmp / "a.parquet").write_bytes(b"...")
    """

    def __init__(self, target: Path | str) -> None:
        self.target = Path(target)

    def __enter__(self) -> Path:
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.", dir=self.target.parent))
        return self.tmp

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            return
        old = None
        if self.target.exists():
            old = self.target.with_name(f".{self.target.name}.old-{os.getpid()}")
            os.replace(self.target, old)
        os.replace(self.tmp, self.target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def write_json_atomic(path: Path | str, obj) -> None:
    """Write JSON (sorted keys, UTF-8) via a temp file + rename."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", dir=p.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(obj, fh, indent=2, sort_keys=True, ensure_ascii=False, default=str)
            fh.write("\n")
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _neutralize(value):
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def csv_safe(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with every text cell that starts with ``= + - @``, a tab or a carriage return
    prefixed with a single quote (OWASP's advice against CSV injection), and the same for
    text column names. Numbers, booleans and missing values are left as they are; the
    Parquet twin of a CSV keeps the raw values."""
    out = df.copy()
    for c in out.columns:
        s = out[c]
        if isinstance(s.dtype, pd.CategoricalDtype):
            s = s.astype(object)
        if s.dtype == object or pd.api.types.is_string_dtype(s):
            out[c] = s.map(_neutralize, na_action="ignore")
    out.columns = [_neutralize(c) for c in out.columns]
    return out


def write_csv(df: pd.DataFrame, path: Path | str, **kwargs) -> Path:
    """Write ``df`` as CSV for humans (spreadsheets): text cells neutralized by
    :func:`csv_safe`, no index. Every CSV cin-ml writes goes through here."""
    p = Path(path)
    csv_safe(df).to_csv(p, index=False, **kwargs)
    return p


def write_extract(tables: Mapping[str, pd.DataFrame], out: Path | str,
                  extra_files: Mapping[str, object] | None = None) -> Path:
    """Write ``tables`` as ``<out>/<table>.parquet`` atomically; ``extra_files`` are JSON."""
    out = Path(out)
    with atomic_dir(out) as tmp:
        for name, df in tables.items():
            df.to_parquet(tmp / f"{name}.parquet", index=False, compression="zstd")
        for fname, obj in (extra_files or {}).items():
            write_json_atomic(tmp / fname, obj)
    return out


def read_extract(path: Path | str, tables: Iterable[str] | None = None,
                 required: Iterable[str] | None = None) -> dict[str, pd.DataFrame]:
    """Read the contract tables present in folder ``path``.

    ``tables`` limits which are read; ``required`` names those that must exist (error
    naming the missing file otherwise). Unreadable files raise a one-line DataError.
    """
    p = Path(path)
    if not p.is_dir():
        raise DataError(f"extract folder not found: {p}")
    names = list(tables) if tables is not None else list(TABLES)
    for name in required or ():
        if not (p / f"{name}.parquet").is_file():
            raise SchemaError(f"{p}: missing table file {name}.parquet")
    out: dict[str, pd.DataFrame] = {}
    for name in names:
        f = p / f"{name}.parquet"
        if not f.is_file():
            continue
        try:
            out[name] = pd.read_parquet(f)
        except Exception as exc:  # pyarrow raises many types for corrupt files
            raise DataError(f"{f}: not a readable Parquet file ({type(exc).__name__})") from None
    if not out:
        raise DataError(f"{p}: no contract table found (expected files like students.parquet)")
    return out
