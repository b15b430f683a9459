"""Fixtures for the external-dataset tests: the shipped UCI specs and small spec/file makers."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"
DATA = ROOT / "datasets" / "uci-student-performance"


@pytest.fixture()
def write_spec(tmp_path):
    """Write a spec TOML (and optionally a data file) under tmp_path; return the spec path."""

    def make(text: str, data: bytes | str | None = None, data_name: str = "data.csv") -> Path:
        if data is not None:
            p = tmp_path / data_name
            p.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
        spec = tmp_path / "spec.toml"
        spec.write_text(text, encoding="utf-8")
        return spec

    return make


MINI_SPEC = """
[dataset]
name = "mini"
file = "data.csv"

[format]
separator = ";"

[target]
event = "G3 < 10"

[sensitive]
columns = ["sex"]
"""

MINI_DATA = "sex;age;G1;G3\nF;15;12;13\nM;16;8;7\nF;17;9;11\nM;15;14;15\n"
