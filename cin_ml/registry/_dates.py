"""Dates a governance action is given (an approval's end, the day a check runs as of)."""

from __future__ import annotations

import datetime as dt
import re

from cin_ml.errors import GovernanceError

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_day(value: str | None, name: str) -> dt.date | None:
    """``value`` (``YYYY-MM-DD``, exactly) as a date; ``None`` when it is empty or ``None``.

    Anything else is a GovernanceError of one line naming ``name``, the option or request
    key the value came from (``--expires``, ``'on_date'``): ``--expires must be a date
    YYYY-MM-DD; got '2026-13-01'``.
    """
    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    try:
        if not _DAY.fullmatch(text):
            raise ValueError
        return dt.date.fromisoformat(text)
    except ValueError:
        raise GovernanceError(f"{name} must be a date YYYY-MM-DD; got {text!r}") from None
