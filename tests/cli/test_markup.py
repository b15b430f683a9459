"""Every string the CLI prints with Rich is markup-safe (issue 15): user and data text is
escaped (``esc``) or printed as plain ``Text``; error messages keep their ``[section]``.

The static check reads the CLI's source: each argument of ``console.print``,
``err_console.print``, ``Table(title=...)``, ``add_row`` and ``add_column`` must be a
literal, an f-string whose every interpolation is ``esc(...)`` or a number format
(``{n:,}``, ``{x:.3f}``), a call to ``esc``/``Text``, or a Rich renderable variable
(``t``, ``m``, ``o``: tables)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

import cin_ml.cli

CLI = Path(cin_ml.cli.__file__).parent
_NUMBER_SPEC = re.compile(r"^[<>^=]?[+\- ]?\d*[,_]?(\.\d+)?[dfeEgG%]?$")
_RENDERABLES = {"t", "m", "o"}
_SAFE_CALLS = {"esc", "Text", "len"}


def _safe(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Name) and node.id in _RENDERABLES:
        return True
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
            node.func.id in _SAFE_CALLS:
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _safe(node.left) and _safe(node.right)
    if isinstance(node, ast.IfExp):
        return _safe(node.body) and _safe(node.orelse)
    if isinstance(node, ast.Starred) and isinstance(node.value, ast.ListComp):
        return _safe(node.value.elt)
    if isinstance(node, ast.JoinedStr):
        for v in node.values:
            if isinstance(v, ast.FormattedValue):
                if _safe(v.value) and not isinstance(v.value, ast.Name):
                    continue
                spec = v.format_spec
                text = ("".join(c.value for c in spec.values if isinstance(c, ast.Constant))
                        if spec is not None else None)
                if text is not None and _NUMBER_SPEC.match(text) and any(
                        ch in text for ch in ",.dfeEgG%"):
                    continue
                return False
        return True
    return False


def _printed_args(tree: ast.AST):
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        if isinstance(f, ast.Attribute) and f.attr in ("print", "add_row", "add_column"):
            owner = f.value.id if isinstance(f.value, ast.Name) else ""
            if f.attr == "print" and owner not in ("console", "err_console"):
                continue
            args = node.args if f.attr != "add_column" else node.args[:1]
            yield from ((node.lineno, a) for a in args)
            yield from ((node.lineno, k.value) for k in node.keywords if k.arg == "title")
        elif isinstance(f, ast.Name) and f.id == "Table":
            yield from ((node.lineno, k.value) for k in node.keywords if k.arg == "title")


def test_every_printed_string_is_escaped_or_a_number():
    bad = []
    for path in sorted(CLI.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for line, arg in _printed_args(tree):
            if not _safe(arg):
                bad.append(f"{path.name}:{line}: {ast.unparse(arg)[:90]}")
    assert not bad, "unescaped text printed by the CLI:\n" + "\n".join(bad)


def test_error_messages_keep_their_section_names(tmp_path):
    from cin_ml.cli import app

    bad = tmp_path / "fairness.toml"
    bad.write_text("[fairness]\nmin_group_size = 0\n")
    r = CliRunner().invoke(app, ["audit", "--run", "x", "--policy", str(bad)])
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert "[fairness]" in r.output, r.output


@pytest.mark.parametrize("text", ["[/]", "[bold]x", "[red]x[/red] [/bold]", "\\[x]"])
def test_markup_in_messages_prints_literally(text, capsys):
    from cin_ml.cli._app import _progress, _run
    from cin_ml.errors import DataError

    _progress(f"progress {text}")
    with pytest.raises(Exception) as exc:
        _run(lambda: (_ for _ in ()).throw(DataError(f"bad {text}")))
    assert type(exc.value).__name__ == "Exit"
    out = capsys.readouterr()
    assert f"progress {text}" in out.out and f"bad {text}" in out.err
