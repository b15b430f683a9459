"""Real-world tables: a renamed copy of the UCI Portuguese data (spaces, accents, a trailing
tab, punctuation, JSON characters LightGBM refuses), a two-column id and a group column run
the whole ``cin-ml run --spec`` path, and every output names the original columns."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cin_ml.cli import app
from cin_ml.external import cross_validate, load_dataset, protocol_splits, spec_from_dict

from .conftest import DATA, SPECS

RENAMED = {"studytime": "study time", "Medu": "Médu\t", "absences": "absences (n)",
           "G1": "G1/G2", "famrel": "family relations, 1:5", "sex": "sexe (F/M)",
           "G3": "final grade"}
ODD = ("study time", "Médu\t", "absences (n)", "G1/G2", "family relations, 1:5", "sexe (F/M)")
JUSTIFIED = "kept as an input to test an approved sensitive feature with an odd name"

SPEC = """
[dataset]
name = "uci-por-renamed"
file = "renamed.csv"
data_form = "deidentified"
origin = "UCI Student Performance, Portuguese course, columns renamed for a test"
licence = "CC BY 4.0"

[dataset.title]
fr = "Échec en portugais (UCI, noms de colonnes réels)"
en = "Failing Portuguese (UCI, real-world column names)"

[format]
separator = ";"
bom = "forbid"

[target]
name = "fail"
event = "`final grade` < 10"

[target.description]
fr = "l'échec en portugais en fin d'année (note finale sous 10 sur 20)"
en = "failing Portuguese at the end of the year (final grade below 10 out of 20)"

[columns]
id = ["classe", "n° élève"]
group = "personne"
exclude = ["G2"]
categorical = ["Médu\\t"]

[sensitive]
columns = ["sexe (F/M)", "school", "address"]
reference_groups = { "sexe (F/M)" = "M", school = "GP" }
features = { "sexe (F/M)" = "JUSTIFIED" }

[baseline]
naive = "`G1/G2` < 10"

[validation]
protocol = "kfold"
n_splits = 5
seed = 2008

[card]
sections = "renamed.card.toml"
""".replace("JUSTIFIED", JUSTIFIED)


def renamed_table() -> pd.DataFrame:
    """The Portuguese data with odd names, a two-column id (each part repeats) and a
    person column (two rows per person, as in repeated measures)."""
    df = pd.read_csv(DATA / "student-por.csv", sep=";").rename(columns=RENAMED)
    i = np.arange(len(df))
    df.insert(0, "classe", [chr(ord("A") + k % 26) for k in i])
    df.insert(1, "n° élève", i // 26)
    df.insert(2, "personne", [f"p{k // 2:04d}" for k in i])
    return df


@pytest.fixture()
def renamed_spec(tmp_path):
    renamed_table().to_csv(tmp_path / "renamed.csv", sep=";", index=False)
    sections = (SPECS / "uci-por-B.card.toml").read_text(encoding="utf-8")
    (tmp_path / "renamed.card.toml").write_text(
        sections.replace('task = "uci-por-B"', 'task = "uci-por-renamed"'), encoding="utf-8")
    (tmp_path / "spec.toml").write_text(SPEC, encoding="utf-8")
    return tmp_path / "spec.toml"


def test_file_keeps_the_odd_names(renamed_spec):
    header = (renamed_spec.parent / "renamed.csv").read_text(encoding="utf-8").splitlines()[0]
    assert "Médu\t;" in header and "family relations, 1:5" in header


def test_renaming_changes_no_prediction(renamed_spec):
    """Same rows, same roles, same order: the renamed table's out-of-fold scores equal the
    original table's, to the last bit (only names differ)."""
    from cin_ml.external import load_spec

    renamed = load_dataset(load_spec(renamed_spec))
    assert renamed.features[:5] == ("sexe (F/M)", "age", "famsize", "Pstatus", "Médu\t")
    original = load_dataset(spec_from_dict({
        "dataset": {"name": "uci-por-orig", "file": str(DATA / "student-por.csv")},
        "format": {"separator": ";"}, "target": {"event": "G3 < 10"},
        "columns": {"exclude": ["G2"], "categorical": ["Medu"]},
        "sensitive": {"columns": ["sex", "school", "address"],
                      "features": {"sex": JUSTIFIED}},
        "baseline": {"naive": "G1 < 10"},
        "validation": {"protocol": "kfold", "n_splits": 5, "seed": 2008}}))
    back = {v: k for k, v in RENAMED.items()}
    assert [back.get(f, f) for f in renamed.features] == list(original.features)
    a = cross_validate(dataclasses.replace(renamed, group=None))
    b = cross_validate(original)
    assert np.array_equal(a.oof["score"].to_numpy(), b.oof["score"].to_numpy())
    assert a.model.mean == b.model.mean and a.naive.mean == b.naive.mean


def test_grouped_folds_match_sklearn_and_never_split_a_person(renamed_spec):
    from sklearn.model_selection import StratifiedGroupKFold

    from cin_ml.external import load_spec

    ds = load_dataset(load_spec(renamed_spec))
    assert ds.group is not None and len(set(ds.group)) == 325          # 649 rows, 2 per person
    (run,) = protocol_splits(ds.spec.validation, ds.y, ds.group)
    ref = StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=2008).split(
        np.zeros(len(ds.y)), ds.y, ds.group)
    for (tr, te), (rtr, rte) in zip(run, ref, strict=True):
        assert np.array_equal(tr, rtr) and np.array_equal(te, rte)
        assert not set(ds.group[tr]) & set(ds.group[te])              # no person straddles
    # without the group column, some person's two rows do straddle folds (the test can fail)
    (plain,) = protocol_splits(ds.spec.validation, ds.y)
    assert any(set(ds.group[tr]) & set(ds.group[te]) for tr, te in plain)


def test_run_spec_with_real_world_names(renamed_spec, tmp_path, mlflow_store, monkeypatch):
    from cin_ml.tracking import list_artifacts, load_artifact, load_run_bundle

    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(app, ["run", "--spec", str(renamed_spec)])
    assert res.exit_code == 0, res.output
    run_id = res.output.split("run ")[-1].split()[0]
    b = load_run_bundle(run_id)
    assert set(ODD) <= set(b.features)
    assert b.model_meta["features"] == list(b.features)
    assert b.model.feature_name()[:3] == ["f_000", "f_001", "f_002"]

    # ids: the pair (classe, n° élève); cross-validation kept each person in one fold
    preds = b.test_predictions
    assert len(preds) == 649 and preds["student_id"].iloc[0] == "A|0"
    person = preds["student_id"].map(dict(zip(
        renamed_table()[["classe", "n° élève"]].astype(str).agg("|".join, axis=1),
        renamed_table()["personne"], strict=True)))
    assert preds.groupby(person)["fold"].nunique().max() == 1
    assert {"sexe (F/M)", "school", "address"} <= set(preds.columns)

    # audit: the odd sensitive column, with the spec's reference group
    audit = load_artifact(run_id, "fairness/audit.json")
    sex = next(x for x in audit["breakdowns"] if x["name"] == "sexe (F/M)")
    assert sex["reference"] == ["M"]

    # explanations: original names, the approved sensitive feature accepted
    expl = load_artifact(run_id, "explain/global.json")
    ranked = [f["feature"] for f in expl["global"]["per_feature"]]
    assert set(ranked) == set(b.features) and ranked[0] == "G1/G2"
    assert expl["approved_sensitive_features"] == ["sexe (F/M)"]
    arts = set(list_artifacts(run_id))
    assert not [a for a in arts if "\t" in a or " " in a]              # safe artifact paths

    # card: the original names wherever a person reads
    card = load_artifact(run_id, "card/card.json")
    assert set(ODD) <= set(card["feature_policy"]["features_used"])
    assert card["explanations"]["drivers"][0]["feature"] == "G1/G2"
    assert "personne" in card["feature_policy"]["features_excluded"]
    for lang in ("fr", "en"):
        html = load_artifact(run_id, f"card/card.{lang}.html")
        assert "G1/G2" in html and "family relations, 1:5" in html and "f_000" not in html
    assert json.dumps(card).count("sexe (F/M)") >= 3


def test_spec_card_reads_well(renamed_spec, tmp_path, mlflow_store, monkeypatch):
    """Title and target sentence from the spec, "out-of-fold" said, accuracy beside the naive
    and majority baselines (recomputed here by hand), the spec's reference groups,
    calibration stated once; each page in its own language."""
    from cin_ml.pipeline import run_spec
    from cin_ml.tracking import load_artifact

    monkeypatch.chdir(tmp_path)
    run_id = run_spec(renamed_spec, explain=False)["run_id"]
    card = load_artifact(run_id, "card/card.json")
    md = {lang: load_artifact(run_id, f"card/card.{lang}.md") for lang in ("fr", "en")}
    html = {lang: load_artifact(run_id, f"card/card.{lang}.html") for lang in ("fr", "en")}
    assert md["en"].startswith("# Model card — Failing Portuguese (UCI, real-world column")
    assert md["fr"].startswith("# Fiche de modèle — Échec en portugais (UCI, noms de colonnes")
    assert ("**What the model predicts.** Failing Portuguese at the end of the year (final "
            "grade below 10 out of 20).") in md["en"]
    assert "**Ce que le modèle prédit.** L'échec en portugais en fin d'année" in md["fr"]
    assert "uci-por-renamed." not in md["en"] and "who uci-por" not in md["en"]

    # evaluation: out-of-fold, 5-fold cross-validation grouped by person
    assert card["subject"]["out_of_fold"] is True
    assert "6. Performance metrics (out-of-fold)" in md["en"]
    assert "Evaluated out-of-fold: each row is scored once" in md["en"]
    assert ("in one run of 5-fold cross-validation grouped by “personne” (a person's rows "
            "stay in one fold)") in md["en"]
    assert "hors pli" in md["fr"] and "out-of-fold" not in md["fr"] + html["fr"]
    assert "hors pli" not in md["en"] + html["en"]

    # accuracy beside the baselines, against a hand count on the file
    t = renamed_table()
    y, naive = t["final grade"] < 10, t["G1/G2"] < 10
    acc = {a["key"]: a for a in card["subject"]["accuracy"]}
    assert set(acc) == {"model", "naive", "majority"} and acc["model"]["n_runs"] == 1
    assert acc["naive"]["value"]["estimate"] == pytest.approx((naive == y).mean(), abs=1e-6)
    assert acc["naive"]["rule"] == "G1/G2 < 10"
    assert acc["majority"]["value"]["estimate"] == pytest.approx(1 - y.mean(), abs=1e-6)
    en_acc = f"{100 * acc['model']['value']['estimate']:.1f}%"
    assert f"Accuracy at threshold 0.50 (share of correct decisions): {en_acc}" in md["en"]
    assert f"the naive rule (G1/G2 < 10): {100 * (naive == y).mean():.1f}%" in md["en"]
    assert f"the majority class: {100 * (1 - y.mean()):.1f}%" in md["en"]
    assert "la règle naïve (G1/G2 < 10)" in md["fr"]

    # the reference groups the spec chose, not "the largest group"
    assert card["subject"]["reference_groups"] == {"sexe (F/M)": "M", "school": "GP"}
    assert "sexe (F/M) (ref. M): **" in md["en"] and "school (ref. GP): **" in md["en"]
    assert "sexe (F/M) (réf. M)" in md["fr"]
    assert "compared with the largest group" not in md["en"]

    # calibration stated once, consistently
    for lang in ("fr", "en"):
        assert "calibrated probability" not in md[lang] + html[lang]
    assert "| Calibration | none: LightGBM's log-loss probabilities, not recalibrated" in md["en"]
    assert "| Type de modèle | Arbres de décision à gradient amplifié (LightGBM)" in md["fr"]
    assert "probability" not in md["fr"] + html["fr"]
    assert "calibration)" not in md["en"]        # no "validation data (... calibration)" row
    assert card["model_details"]["model_type"] == ("LightGBM gradient-boosted trees, "
                                                   "probability of the event")
