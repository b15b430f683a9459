"""The ``cin-ml`` command line (Typer), one module per area.

The only package that prints for humans or turns a :class:`~cin_ml.errors.CinMLError` into
an exit code: every command runs inside ``_run`` (see ``_app``), which prints one red line on
stderr and exits 1 on a CinMLError (no traceback). Heavy imports happen inside the commands
so that ``cin-ml --help`` stays instant. Commands are listed in the order of the chain.
"""

from __future__ import annotations

import importlib
import sys

import typer

from cin_ml.cli._app import app

# Importing an area registers its commands; this order is the order of `cin-ml --help`.
for _area in ("_data", "_models", "_governance", "_review", "_serving", "_server", "_monitor"):
    importlib.import_module(f"cin_ml.cli.{_area}")

__all__ = ["app", "cli_reference", "main"]


def cli_reference() -> str:
    """The CLI reference table of the README (Markdown), generated from this Typer app."""
    lines = ["| command | what it does | options |", "|---|---|---|"]

    def walk(group, prefix: list[str]) -> None:
        for name, sub in group.commands.items():
            if sub.hidden:
                continue
            if hasattr(sub, "commands"):
                walk(sub, [*prefix, name])
                continue
            text = " ".join((sub.help or "").strip().split("\n\n")[0].split())
            opts = " ".join(f"`{p.opts[0]}`" for p in sub.params
                            if getattr(p, "param_type_name", "") == "option"
                            and p.opts[0] != "--help")
            lines.append(f"| `cin-ml {' '.join([*prefix, name])}` | {text} | {opts} |")

    walk(typer.main.get_command(app), [])
    return "\n".join(lines) + "\n"


@app.command(hidden=True)
def reference() -> None:
    """Print the CLI reference table (Markdown) for the README."""
    sys.stdout.write(cli_reference())


def main() -> None:  # pragma: no cover - console-script entry
    app()
