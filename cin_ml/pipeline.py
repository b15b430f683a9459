"""Composes the boxes of the data flow (DESIGN.md section 2); the only module that does.

Each ``run_*`` function reads its inputs, calls the pure steps, writes outputs atomically and
returns a small JSON-safe summary for the CLI (which prints it) or a notebook.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

Progress = Callable[[str], None]


def _quiet(message: str) -> None:
    """Default progress callback: say nothing."""


# ----------------------------------------------------------------------------- simulate
# (lead) run_simulate
# ----------------------------------------------------------------------------- virtual-css
# ----------------------------------------------------------------------------- models
# ----------------------------------------------------------------------------- fairness
# ----------------------------------------------------------------------------- explain
# ----------------------------------------------------------------------------- cards
# ----------------------------------------------------------------------------- governance
# ----------------------------------------------------------------------------- access
# ----------------------------------------------------------------------------- external
# ----------------------------------------------------------------------------- demo
# (lead) run_demo
