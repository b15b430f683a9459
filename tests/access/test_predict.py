"""cin-ml predict by role on a simulated network: training refuses unconsented data and
records its agreements; a school sees only its own students; CSS and ministry outputs carry
no identifier, no student row, no small cell and nothing recoverable by subtraction; the
ministry never sees a CSS without a valid agreement."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from cin_ml.access import TOTAL, identifier_values, recover_by_subtraction, scan_text
from cin_ml.errors import ConsentError, PolicyError, TrackingError

from .conftest import MODEL, deidentified


def _predict(served, network, role, scope, tmp_path, **kw):
    from cin_ml.pipeline import run_predict

    return run_predict(f"{MODEL}@champion", network["source"], role, scope, out=tmp_path,
                       tracking_uri=served["uri"], **kw)


def _due(network) -> pd.DataFrame:
    """Students who just finished grade 3 in the last year, with school and CSS."""
    t = network["tables"]
    enr = t["enrolments"]
    last = enr["school_year"].max()
    g3 = enr.loc[(enr["school_year"] == last) & (enr["grade"] == 3)]
    g3 = g3.loc[~g3["student_id"].isin(enr.loc[enr["grade"] == 4, "student_id"])]
    st = t["students"].set_index("student_id")
    return g3.assign(css_id=g3["student_id"].map(st["css_id"]))


# ----------------------------------------------------------------------------- training
def test_training_refuses_a_css_without_agreement_naming_css_and_dataset(network, served,
                                                                          tmp_path):
    from cin_ml.consent import carry_agreements
    from cin_ml.extract import write_extract
    from cin_ml.pipeline import run_train

    write_extract(deidentified(network["sim"].tables), tmp_path / "all")
    carry_agreements(network["source"], tmp_path / "all")
    with pytest.raises(ConsentError) as exc:
        run_train(tmp_path / "all", "ecriture_4e", tracking_uri=served["uri"],
                  models_config=served["models_config"])
    msg = str(exc.value)
    assert "CSS002/academic" in msg and "CSS003/absences" in msg and "CSS001" not in msg


def test_training_run_records_the_agreements_it_relied_on(served):
    from cin_ml import tracking

    run_id = served["train"]["run_id"]
    scope = tracking.load_artifact(run_id, "consent/scope.json", served["uri"])
    assert scope["ok"] and scope["css_ids"] == ["CSS001"]
    assert scope["datasets"] == ["absences", "academic"]
    assert sorted(scope["agreement_ids"]) == sorted(served["train"]["agreements"])
    assert {a["css_id"] for a in scope["agreement_records"]} == {"CSS001"}
    assert scope["source"].endswith("agreements.parquet")
    run = served["client"].get_run(run_id)
    assert run.data.tags["cin.consent.agreements"] == ",".join(scope["agreement_ids"])


# ----------------------------------------------------------------------------- school
def test_school_sees_only_its_own_students_ranked_with_reasons_and_sheets(network, served,
                                                                          tmp_path):
    due = _due(network)
    school = due["school_id"].value_counts().index[0]
    s = _predict(served, network, "school", school, tmp_path)
    out = tmp_path / "predict" / f"school-{school}"
    lst = pd.read_csv(out / "students.csv", dtype={"student_id": str})
    mine = set(due.loc[due["school_id"] == school, "student_id"])
    assert set(lst["student_id"]) == mine  # all of them, and nobody else
    assert lst["score"].is_monotonic_decreasing and list(lst["rank"]) == list(
        range(1, len(lst) + 1))
    assert {"last_name", "first_name", "risk_band", "reasons", "sheet"} <= set(lst.columns)
    flagged = lst.loc[lst["flagged"]]
    assert (flagged["risk_band"] == "eleve").all()
    assert flagged["reasons"].fillna("").str.len().gt(0).all()
    # issue 16: nobody without a line; no risk reason for a student the model does not flag
    assert lst["reasons"].fillna("").str.len().gt(0).all()
    calm = lst.loc[~lst["flagged"], "reasons"]
    assert (calm == "Aucun facteur de risque notable : le modèle ne signale pas cet "
                    "élève.").all()
    assert not lst["reasons"].str.contains("augmente le risque (−", regex=False).any()
    for sheet in lst["sheet"]:
        assert (out / sheet).is_file()
    page = (out / lst["sheet"].iloc[-1]).read_text(encoding="utf-8")
    # a source extract: the id is the school's record number, not a pseudonym
    assert "numéro de dossier" in page and "pseudonyme" not in page
    html = (out / "report.html").read_text(encoding="utf-8")
    others = set(network["tables"]["students"]["student_id"]) - mine
    assert not (set(html.split('"')) | set(html.split(">"))) & {f"sheets/{o}.fr.html"
                                                                 for o in others}
    assert not [o for o in others if o in html]
    assert s["n_students"] == len(mine) and s["n_sheets"] == len(mine)


def test_school_scope_must_exist(network, served, tmp_path):
    from cin_ml.errors import DataError

    with pytest.raises(DataError, match="school 'nope'"):
        _predict(served, network, "school", "nope", tmp_path)


# ----------------------------------------------------------------------------- aggregates
def _relations(df: pd.DataFrame, row: str, counts: list[str], parts_of: dict | None = None):
    """Every additive relation an attacker can read off a published long table: totals over
    rows, over grades, over each breakdown's groups, and across count columns."""
    key = [row, "grade", "breakdown", "group"] + (["competency"] if "competency" in df else [])
    items = {}
    for rec in df.to_dict("records"):
        for c in counts:
            v = rec[c]
            items[(c, *[rec[k] for k in key])] = None if pd.isna(v) else int(v)
    rels = []
    other = [k for k in key if k not in (row, "grade", "breakdown", "group")]
    for c in counts:
        for dim in (row, "grade"):
            rest = [k for k in key if k != dim]
            for _, g in df.groupby(rest, dropna=False):
                tot = g.loc[g[dim] == TOTAL]
                parts = g.loc[g[dim] != TOTAL]
                if len(tot) == 1 and len(parts):
                    t = tot.iloc[0]
                    rels.append(((c, *[t[k] for k in key]),
                                 tuple((c, *[p[k] for k in key])
                                       for p in parts.to_dict("records"))))
        for _, g in df.groupby([row, "grade", *other], dropna=False):
            ens = g.loc[g["breakdown"] == "ensemble"]
            for _b, gb in g.loc[g["breakdown"] != "ensemble"].groupby("breakdown"):
                e = ens.iloc[0]
                rels.append(((c, *[e[k] for k in key]),
                             tuple((c, *[p[k] for k in key]) for p in gb.to_dict("records"))))
    for total, parts in (parts_of or {}).items():
        for rec in df.to_dict("records"):
            rels.append(((total, *[rec[k] for k in key]),
                         tuple((p, *[rec[k] for k in key]) for p in parts)))
    return items, rels


def _check_aggregates(folder, network, k, row):
    ids = identifier_values(network["tables"])
    bands = ["n_0-60", "n_61-74", "n_75-100"]
    for name, counts, parts in (("risk", ["n_students", "n_at_risk"], None),
                                ("results", ["n", *bands], {"n": bands})):
        df = pd.read_parquet(folder / f"{name}.parquet")
        csv = pd.read_csv(folder / f"{name}.csv", dtype=str)
        assert len(csv) == len(df)
        assert "student_id" not in df and not {"first_name", "last_name"} & set(df)
        for col in df.columns:
            if df[col].dtype == object:
                assert not set(df[col].dropna().astype(str)) & ids, (name, col)
        vals = pd.concat([pd.to_numeric(df[c]) for c in counts])
        assert not ((vals > 0) & (vals < k)).any(), f"{name}: published count below {k}"
        assert df[counts].isna().any().any(), f"{name}: expected some suppression"
        items, rels = _relations(df, row, counts, parts)
        assert not recover_by_subtraction(items, rels), f"{name}: recoverable cell"
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert scan_text(html, ids) == []


def test_css_report_is_aggregate_only_and_safe(network, served, tmp_path):
    s = _predict(served, network, "css", "CSS001", tmp_path)
    folder = tmp_path / "predict" / "css-CSS001"
    assert not (folder / "students.csv").exists() and not (folder / "sheets").exists()
    _check_aggregates(folder, network, 5, "school_id")
    risk = pd.read_parquet(folder / "risk.parquet")
    due = _due(network)
    mine = due.loc[due["css_id"] == "CSS001"]
    assert set(risk["school_id"]) - {TOTAL} <= set(mine["school_id"])
    assert TOTAL not in set(risk["grade"])  # one grade scored: no total repeating it
    tot = risk.loc[(risk["school_id"] == TOTAL) & (risk["breakdown"] == "ensemble")]
    assert len(tot) == 1
    assert int(tot["n_students"].iloc[0]) == len(mine) == s["cohort"]["n_students"]
    # one page per school, linked from the summary table of report.html
    html = (folder / "report.html").read_text(encoding="utf-8")
    schools = sorted(set(risk["school_id"]) - {TOTAL})
    for school in schools:
        assert f'href="schools/{school}.html"' in html
        assert (folder / "schools" / f"{school}.html").is_file()
    assert len(list((folder / "schools").iterdir())) == len(schools)


def test_ministry_sees_only_consenting_css_with_suppression(network, served, tmp_path):
    s = _predict(served, network, "ministry", "network", tmp_path)
    folder = tmp_path / "predict" / "ministry-network"
    _check_aggregates(folder, network, 10, "css_id")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    excluded = set(manifest["consent"]["excluded"])
    assert excluded == {"CSS002", "CSS003"} and s["css_included"] == ["CSS001"]
    for name in ("risk", "results"):
        df = pd.read_parquet(folder / f"{name}.parquet")
        assert set(df["css_id"]) <= {"CSS001", TOTAL}
    tot = pd.read_parquet(folder / "risk.parquet")
    assert TOTAL not in set(tot["css_id"]) | set(tot["grade"])  # one CSS, one grade: no
    tot = tot.loc[tot["breakdown"] == "ensemble"]  # "Total" row repeating them
    assert (folder / "css" / "CSS001.html").is_file()
    due = _due(network)
    assert int(tot["n_students"].iloc[0]) == int((due["css_id"] == "CSS001").sum())
    with pytest.raises(PolicyError, match="CSS002"):
        _predict(served, network, "ministry", "CSS002", tmp_path)


# ----------------------------------------------------------------------------- serving
def test_only_the_serving_alias_may_be_scored(network, served, tmp_path):
    from cin_ml.pipeline import run_predict

    with pytest.raises(PolicyError, match="champion"):
        run_predict(f"{MODEL}@challenger", network["source"], "css", "CSS001", out=tmp_path,
                    tracking_uri=served["uri"])
    with pytest.raises(TrackingError, match="no version under alias"):
        run_predict(f"{MODEL}@nobody", network["source"], "css", "CSS001", out=tmp_path,
                    tracking_uri=served["uri"])
    with pytest.raises(TrackingError, match="NAME@ALIAS"):
        run_predict(MODEL, network["source"], "css", "CSS001", out=tmp_path,
                    tracking_uri=served["uri"])


def test_cli_prints_one_line_errors_and_exits_1(network, served, tmp_path):
    from typer.testing import CliRunner

    from cin_ml.cli import app

    r = CliRunner().invoke(app, ["predict", "--model", f"{MODEL}@champion", "--data",
                                 str(network["source"]), "--role", "teacher", "--scope", "x",
                                 "--tracking-uri", served["uri"], "--out", str(tmp_path)])
    assert r.exit_code == 1 and "role" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(app, ["predict", "--model", f"{MODEL}@champion", "--data",
                                 str(network["source"]), "--role", "css", "--scope", "CSS001",
                                 "--tracking-uri", served["uri"], "--out", str(tmp_path)])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "predict" / "css-CSS001" / "report.html").is_file()


def test_card_lists_the_agreements_training_relied_on(served, tmp_path):
    from cin_ml.pipeline import run_card

    run_id = served["train"]["run_id"]
    s = run_card(run_id, out=tmp_path, tracking_uri=served["uri"], log=False)
    card = json.loads((tmp_path / run_id / "card.json").read_text(encoding="utf-8"))
    prov = card["provenance"]
    assert prov["agreements_status"] == "available"
    assert sorted(a["agreement_id"] for a in prov["agreements"]) == sorted(
        served["train"]["agreements"])
    assert {a["css_id"] for a in prov["agreements"]} == {"CSS001"}
    assert all(a["valid_until"] for a in prov["agreements"])
    assert served["train"]["agreements"][0] in (tmp_path / run_id / "card.fr.md").read_text(
        encoding="utf-8")
    assert s["run_id"] == run_id
