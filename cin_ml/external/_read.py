"""Reading a dataset file as its spec describes it, failing with one line naming the fault."""

from __future__ import annotations

import codecs
import hashlib
import io
from pathlib import Path

import pandas as pd

from cin_ml.errors import DataError, PolicyError
from cin_ml.external._spec import DatasetSpec

__all__ = ["file_sha256", "read_table"]

_BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE,
         codecs.BOM_UTF16_BE)


def file_sha256(path: Path | str) -> str:
    """SHA-256 of a file's bytes (hex)."""
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _decode(raw: bytes, spec: DatasetSpec, where: str) -> str:
    fmt = spec.format
    enc = codecs.lookup(fmt.encoding).name
    has_bom = any(raw.startswith(b) for b in _BOMS)
    if raw.startswith(codecs.BOM_UTF8) and enc != "utf-8":
        raise DataError(f"{where}: starts with a UTF-8 byte-order mark but [format] encoding "
                        f"is {fmt.encoding!r}")
    if fmt.bom == "require" and not has_bom:
        raise DataError(f"{where}: no byte-order mark, but [format] bom = \"require\"")
    if fmt.bom == "forbid" and has_bom:
        raise DataError(f"{where}: starts with a byte-order mark, but [format] bom = "
                        f"\"forbid\"")
    try:
        text = raw.decode("utf-8-sig" if enc == "utf-8" else fmt.encoding)
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise DataError(f"{where}: not valid {fmt.encoding} at byte {exc.start} (line {line}); "
                        f"check [format] encoding") from None
    return text.lstrip("\ufeff")


def read_table(spec: DatasetSpec, path: Path | str | None = None) -> pd.DataFrame:
    """Read the spec's data file (or ``path``) into a frame with the file's own columns.

    Checks, in order: the file exists and is not empty, its SHA-256 (when the spec pins one),
    the encoding and byte-order mark, the CSV structure (same number of fields on every
    line, unique non-empty header names), that every column the spec names exists, and that
    no column looks like a direct identifier (names, birth dates, postal codes, ...).

    Raises
    ------
    DataError
        A missing, empty, altered or malformed file, or a column the spec names is absent.
    PolicyError
        The file carries a direct-identifier column: tracked runs need de-identified data.
    """
    p = Path(path) if path is not None else spec.data_path()
    where = str(p)
    if not p.is_file():
        raise DataError(f"{where}: data file not found ([dataset] file in {spec.where})")
    raw = p.read_bytes()
    if not raw.strip():
        raise DataError(f"{where}: the file is empty")
    if spec.dataset.sha256 is not None:
        got = hashlib.sha256(raw).hexdigest()
        if got != spec.dataset.sha256:
            raise DataError(f"{where}: SHA-256 {got[:12]}… differs from [dataset] sha256 "
                            f"{spec.dataset.sha256[:12]}… in {spec.where} (file altered?)")
    text = _decode(raw, spec, where)
    fmt = spec.format
    _check_fields(text, fmt, where)
    df = _read_csv(text, fmt, where)
    _check_header(text, df, fmt.separator, where)
    if len(df) == 0:
        raise DataError(f"{where}: a header but no data rows")
    _check_columns(spec, df, where)
    return df


def _read_csv(text: str, fmt, where: str) -> pd.DataFrame:
    try:
        return pd.read_csv(io.StringIO(text), sep=fmt.separator, quotechar=fmt.quotechar,
                           decimal=fmt.decimal, na_values=list(fmt.na_values),
                           keep_default_na=False, engine="c")
    except pd.errors.ParserError as exc:
        raise DataError(f"{where}: malformed CSV ({_first_line(exc)}); check [format] "
                        f"separator {fmt.separator!r} and quotechar") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{where}: no header line") from None


def _check_fields(text: str, fmt, where: str) -> None:
    """Every record has as many fields as the header (pandas pads short rows silently)."""
    import csv

    reader = csv.reader(io.StringIO(text, newline=""), delimiter=fmt.separator,
                        quotechar=fmt.quotechar)
    try:
        header = next(reader)
        for row in reader:
            if row and len(row) != len(header):
                raise DataError(f"{where}: line {reader.line_num} has {len(row)} fields, the "
                                f"header {len(header)}; check [format] separator "
                                f"{fmt.separator!r} and quotechar")
    except csv.Error as exc:
        raise DataError(f"{where}: malformed CSV near line {reader.line_num} ({exc})") from None
    except StopIteration:
        raise DataError(f"{where}: no header line") from None


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _check_header(text: str, df: pd.DataFrame, sep: str, where: str) -> None:
    if df.shape[1] == 1 and sep not in text.splitlines()[0]:
        raise DataError(f"{where}: one column only: the header has no {sep!r}; check "
                        f"[format] separator")
    names = [str(c) for c in df.columns]
    bad = [c for c in names if c.startswith("Unnamed: ")]
    if bad:
        raise DataError(f"{where}: empty column name(s) in the header ({len(bad)})")
    dup = sorted({c.rsplit(".", 1)[0] for c in names if "." in c
                  and c.rsplit(".", 1)[0] in names and c.rsplit(".", 1)[1].isdigit()})
    if dup:
        raise DataError(f"{where}: duplicate column name(s) {dup}")


def _check_columns(spec: DatasetSpec, df: pd.DataFrame, where: str) -> None:
    from cin_ml.schema import TABLES, Role

    named = {"[target] event": spec.rule().columns, "[columns] id": spec.columns.id,
             "[columns] exclude": spec.columns.exclude,
             "[columns] categorical": spec.columns.categorical,
             "[columns] group": (spec.columns.group,) if spec.columns.group else (),
             "[sensitive] columns": spec.sensitive.columns}
    naive = spec.naive_rule()
    if naive is not None:
        named["[baseline] naive"] = naive.columns
    for key, cols in named.items():
        missing = [c for c in cols if c not in df.columns]
        if missing:
            raise DataError(f"{where}: column(s) {missing} named in {spec.where} {key} are "
                            f"not in the file")
    direct = {c.name.lower() for t in TABLES.values() for c in t.columns
              if c.role == Role.DIRECT_IDENTIFIER and not c.pseudonymize}
    leaked = [c for c in df.columns if str(c).lower() in direct]
    if leaked:
        raise PolicyError(f"{where}: direct identifier column(s) {leaked}; tracked runs need "
                          f"de-identified data (drop them, or `cin-ml deidentify`)")
    ids = list(spec.columns.id)
    if ids:
        # the columns name a row together: a pair (person, year) may repeat each part
        what = f"id column {ids[0]!r}" if len(ids) == 1 else f"id columns {ids} together"
        missing = df[ids].isna().any(axis=1)
        if missing.any():
            raise DataError(f"{where}: {what}: missing value on line "
                            f"{int(missing.to_numpy().argmax()) + 2}")
        repeated = df.duplicated(subset=ids, keep="first")
        if repeated.any():
            i = int(repeated.to_numpy().argmax())
            same = (df[ids] == df[ids].iloc[i]).all(axis=1).to_numpy()
            raise DataError(f"{where}: {what}: line {i + 2} repeats the value "
                            f"{tuple(df[ids].iloc[i].astype(str))} of line "
                            f"{int(same.argmax()) + 2}")
    g = spec.columns.group
    if g is not None and df[g].isna().any():
        raise DataError(f"{where}: group column {g!r} ([columns] group): missing value on "
                        f"line {int(df[g].isna().to_numpy().argmax()) + 2}")
