"""Packaging-level checks: config loading, the data contract, layering, CLI start-up."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from cin_ml.config import Settings, load_settings
from cin_ml.errors import ConfigError, DataError, SchemaError
from cin_ml.extract import read_extract, write_extract
from cin_ml.schema import TABLES, Role, columns_with_role, validate_extract, validate_table

ROOT = Path(__file__).resolve().parents[1]


class _Demo(Settings):
    k: int = 5


def test_unknown_config_key_names_file_section_and_key(tmp_path):
    f = tmp_path / "x.toml"
    f.write_text("[demo]\nk = 3\nbogus = 1\n")
    with pytest.raises(ConfigError, match=r"x.toml \[demo\]: unknown key 'bogus'"):
        load_settings(_Demo, "x", path=f, section="demo")
    f.write_text("[demo]\nk = 'a'\n")
    with pytest.raises(ConfigError, match=r"'k'"):
        load_settings(_Demo, "x", path=f, section="demo")
    f.write_text("[demo\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_settings(_Demo, "x", path=f)
    with pytest.raises(ConfigError, match="not found"):
        load_settings(_Demo, "x", path=tmp_path / "missing.toml")


def test_every_column_has_exactly_one_role():
    for table in TABLES.values():
        for col in table.columns:
            assert isinstance(col.role, Role), (table.name, col.name)
    ids = columns_with_role(Role.DIRECT_IDENTIFIER)
    assert {"code_permanent", "first_name", "last_name", "birth_date", "postal_code"} <= set(
        ids["students"])
    assert "teacher_id" in columns_with_role(Role.WORKFORCE)["teachers"]


def test_validation_errors_name_table_column_and_rows(small_sim):
    marks = small_sim.tables["marks"].copy()
    marks.loc[marks.index[:4], "mark"] = 140.0
    with pytest.raises(SchemaError, match=r"table 'marks', column 'mark'.*4 row\(s\)"):
        validate_table("marks", marks)
    with pytest.raises(SchemaError, match=r"table 'students': missing column\(s\) sex"):
        validate_table("students", small_sim.tables["students"].drop(columns="sex"))
    dup = pd.concat([small_sim.tables["outcomes"].head(2)] * 2)
    with pytest.raises(SchemaError, match="primary key"):
        validate_table("outcomes", dup)
    broken = dict(small_sim.tables)
    broken["enrolments"] = broken["enrolments"].assign(school_id="NOPE")
    with pytest.raises(SchemaError, match=r"'enrolments': foreign key \(school_id\) -> schools"):
        validate_extract(broken)
    with pytest.raises(SchemaError, match="missing table"):
        validate_extract({"css": small_sim.tables["css"]})


def test_deidentified_form_refuses_direct_identifiers(small_sim):
    with pytest.raises(SchemaError, match="direct identifier column"):
        validate_table("students", small_sim.tables["students"], form="deidentified")


def test_extract_round_trip_and_bad_files(small_sim, tmp_path):
    out = write_extract({"css": small_sim.tables["css"],
                         "schools": small_sim.tables["schools"]}, tmp_path / "x")
    back = read_extract(out)
    pd.testing.assert_frame_equal(back["schools"], small_sim.tables["schools"])
    (out / "students.parquet").write_text("not parquet")
    with pytest.raises(DataError, match=r"students.parquet: not a readable Parquet"):
        read_extract(out)
    with pytest.raises(DataError, match="not found"):
        read_extract(tmp_path / "nowhere")
    with pytest.raises(SchemaError, match="missing table file marks.parquet"):
        read_extract(out, tables=["css"], required=["marks"])


def test_import_layers_contract_holds():
    r = subprocess.run([str(Path(sys.executable).parent / "lint-imports")], cwd=ROOT,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "broken" not in r.stdout.lower().replace("0 broken", "")


def test_importing_cin_ml_loads_no_heavy_library():
    code = ("import sys, cin_ml, cin_ml.cli, cin_ml.virtual_css, cin_ml.schema; "
            "heavy = {'sdv', 'shap', 'mlflow', 'torch', 'lightgbm', 'sklearn', 'fairlearn'}; "
            "print(sorted(heavy & set(sys.modules)))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "[]"


def test_cli_help_lists_the_commands():
    r = subprocess.run([sys.executable, "-m", "cin_ml.cli", "--help"], capture_output=True,
                       text=True, check=True)
    for cmd in ("simulate", "demo"):
        assert cmd in r.stdout
