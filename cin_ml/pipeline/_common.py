"""What every step shares: the progress callback."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str], None]


def _quiet(message: str) -> None:
    """Default progress callback: say nothing."""
