"""`cin-ml train` validates the data contract's ranges like `deidentify` does (issue 15):
out-of-range marks are refused with one line naming the file, table, column and count,
before any run is opened."""

from __future__ import annotations

from typer.testing import CliRunner


def test_train_refuses_marks_out_of_range_before_any_run(small_sim, tmp_path):
    from cin_ml.cli import app
    from cin_ml.extract import write_extract
    from cin_ml.schema import TABLES, Role

    tables = {}
    for name, df in small_sim.tables.items():
        drop = [c.name for c in TABLES[name].columns
                if c.role == Role.DIRECT_IDENTIFIER and not c.pseudonymize and c.name in df]
        tables[name] = df.drop(columns=drop)
    marks = tables["marks"].copy()
    marks.loc[marks.index[3], "mark"] = -35.0
    marks.loc[marks.index[7], "mark"] = 250.0
    tables["marks"] = marks
    data = tmp_path / "deid"
    write_extract(tables, data)
    db = tmp_path / "mlflow.db"
    r = CliRunner().invoke(app, ["train", "--data", str(data), "--tracking-uri",
                                 f"sqlite:///{db}"])
    assert r.exit_code == 1, r.output
    assert "Traceback" not in r.output
    line = " ".join(r.output.split())
    assert "table 'marks', column 'mark'" in line and "2 row(s)" in line, line
    assert "-35.0" in line and "250.0" in line and str(data) in line.replace("\n", "")
    assert not db.exists()  # nothing half-written: no store, no run
