"""The ``cin-ml`` command line (Typer).

The only module that prints for humans or turns a :class:`~cin_ml.errors.CinMLError` into an
exit code: every command runs inside :func:`_run`, which prints one red line on stderr and
exits 1 on a CinMLError (no traceback). Heavy imports happen inside the commands so that
``cin-ml --help`` stays instant.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from cin_ml.errors import CinMLError

app = typer.Typer(
    name="cin-ml",
    help="ML research and model-governance workbench for Quebec's school service centres: "
    "virtual CSS, LightGBM risk models, fairness audits, explanations, model cards, "
    "review and promotion.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

T = TypeVar("T")


def esc(value: object) -> str:
    """``value`` as text that Rich prints literally (user and data text is never markup:
    a ``[/]`` in a review comment or a ``[fairness]`` in an error message stays as is)."""
    return escape(str(value))


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """cin-ml warnings as one yellow line; library chatter stays out of the user's way."""
    from cin_ml.errors import CinMLWarning

    if issubclass(category, CinMLWarning):
        err_console.print(f"[yellow]warning:[/] {esc(message)}", soft_wrap=True)


def _quiet_libraries() -> None:
    import logging
    import os
    import warnings

    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    # no usage telemetry leaves a school board's machine (MLflow 3 sends it by default, and
    # flushes it at exit); the MLflow servers cin-ml starts inherit the setting
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    warnings.showwarning = _show_warning
    for name in ("mlflow", "alembic", "sdv", "rdt", "copulas", "sdmetrics"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _run(fn: Callable[[], T]) -> T:
    """Run ``fn``; a CinMLError becomes one line on stderr and exit code 1."""
    _quiet_libraries()
    try:
        return fn()
    except CinMLError as exc:
        err_console.print(f"[bold red]error:[/] {esc(exc)}", soft_wrap=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        err_console.print("[bold red]interrupted[/]")
        raise typer.Exit(130) from None


def _progress(message: str) -> None:
    console.print(f"[dim]·[/] {esc(message)}")


