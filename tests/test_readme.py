"""The README's CLI reference is the Typer app's, and its set-up is exactly two commands."""

from __future__ import annotations

import re
from pathlib import Path

from cin_ml.cli import cli_reference

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_cli_reference_matches_the_app():
    block = re.search(r"<!-- cli-reference:start -->\n(.*?)<!-- cli-reference:end -->",
                      README, re.S)
    assert block, "README lacks the generated CLI reference block"
    assert block.group(1) == cli_reference(), "regenerate with: cin-ml reference"


def test_every_command_is_documented_with_help():
    for line in cli_reference().splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert cells[1], f"{cells[0]} has no help text"


def test_setup_is_exactly_two_commands():
    setup = README.split("## Set-up: two commands", 1)[1].split("##", 1)[0]
    block = re.search(r"```bash\n(.*?)```", setup, re.S).group(1)
    commands = [ln.split("#")[0].strip() for ln in block.splitlines() if ln.strip()]
    assert commands == ["make demo", "make test"]
