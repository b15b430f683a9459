"""Data-use agreements written next to an extract: ``agreements.parquet``.

A simulated extract carries the agreements of its network (:mod:`cin_ml.simulator`); an
extract derived from it (de-identified or virtual) carries the same file, since the source
CSS's agreements still govern the derived data. Agreements are not student data: they are
never written with a ground truth. The columns are those of :func:`agreements_from_frame`.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from cin_ml.consent._agreements import ConsentRegistry, agreements_from_frame
from cin_ml.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["AGREEMENTS_FILE", "carry_agreements", "read_agreements", "write_agreements"]

AGREEMENTS_FILE = "agreements.parquet"


def write_agreements(agreements: pd.DataFrame, folder: Path | str) -> Path:
    """Write ``agreements.parquet`` into ``folder`` (an extract folder being written)."""
    out = Path(folder) / AGREEMENTS_FILE
    agreements.to_parquet(out, index=False)
    return out


def read_agreements(folder: Path | str) -> ConsentRegistry | None:
    """The agreements written next to an extract, or ``None`` when the folder has none.

    Raises
    ------
    DataError
        The file exists but is not a readable agreements table (naming the file).
    """
    f = Path(folder) / AGREEMENTS_FILE
    if not f.is_file():
        return None
    import pandas as pd

    try:
        df = pd.read_parquet(f)
    except Exception as exc:  # pyarrow raises many types for corrupt files
        raise DataError(f"{f}: not a readable Parquet file ({type(exc).__name__})") from None
    return agreements_from_frame(df)


def carry_agreements(source: Path | str, out: Path | str) -> bool:
    """Copy ``agreements.parquet`` from an extract to one derived from it (de-identified or
    virtual): the source CSS's agreements still govern the derived data. Atomic (temp file
    + rename); returns False when the source has none."""
    src = Path(source) / AGREEMENTS_FILE
    if not src.is_file():
        return False
    fd, tmp = tempfile.mkstemp(prefix=f".{AGREEMENTS_FILE}.", dir=out)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(src.read_bytes())
        os.replace(tmp, Path(out) / AGREEMENTS_FILE)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True
