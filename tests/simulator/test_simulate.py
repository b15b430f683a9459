"""The simulator against its own documented generative truth."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from cin_ml.errors import ConfigError
from cin_ml.schema import validate_extract
from cin_ml.simulator import (
    Disparity,
    SimulationConfig,
    read_truth,
    simulate,
    simulate_to_disk,
    write_simulation,
)


@pytest.fixture(scope="module")
def sim20k():
    return simulate(SimulationConfig(n_students=20000, seed=5))


def _labels(sim, task):
    t = sim.truth.students
    return t[t[f"y_{task}"].notna()]


def test_schema_valid_and_foreign_keys_intact(small_sim):
    validate_extract(small_sim.tables)  # raises on any type, range, key or FK problem


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    cfg = SimulationConfig(n_students=600, seed=3)

    def digests(folder):
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(folder.iterdir())}

    simulate_to_disk(cfg, tmp_path / "a", tmp_path / "a_truth")
    simulate_to_disk(cfg, tmp_path / "b", tmp_path / "b_truth")
    simulate_to_disk(cfg.model_copy(update={"seed": 4}), tmp_path / "c", tmp_path / "c_truth")
    assert digests(tmp_path / "a") == digests(tmp_path / "b")
    assert digests(tmp_path / "a_truth") == digests(tmp_path / "b_truth")
    assert digests(tmp_path / "a")["marks.parquet"] != digests(tmp_path / "c")["marks.parquet"]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_outcome_rates_in_plausible_ranges(seed):
    sim = simulate(SimulationConfig(n_students=4000, seed=seed))
    for task in ("ecriture_4e", "decrochage"):
        rate = sim.truth.summary["tasks"][task]["rate"]
        assert 0.10 <= rate <= 0.25, (task, rate)


def test_oracle_auc_recomputed_from_exported_probabilities(small_sim, tmp_path):
    write_simulation(small_sim, tmp_path / "src", tmp_path / "truth")
    truth = read_truth(tmp_path / "truth")
    for task in ("ecriture_4e", "decrochage"):
        lab = truth.students[truth.students[f"y_{task}"].notna()]
        auc = roc_auc_score(lab[f"y_{task}"].astype(int), lab[f"p_{task}"])
        assert auc == pytest.approx(truth.summary["tasks"][task]["oracle_auc"], abs=1e-12)
        assert 0.7 < auc < 0.99


def test_truth_is_written_apart_from_the_extract(small_sim, tmp_path):
    write_simulation(small_sim, tmp_path / "src", tmp_path / "truth")
    cols = {c for f in (tmp_path / "src").glob("*.parquet") for c in pd.read_parquet(f).columns}
    assert not {"p_ecriture_4e", "p_decrochage", "latent_literacy"} & cols
    assert not list((tmp_path / "src").glob("*truth*"))


def test_documented_effect_signs_recovered_from_data(sim20k):
    t = sim20k.tables
    lab = _labels(sim20k, "ecriture_4e").merge(t["students"], on="student_id")
    y = lab["y_ecriture_4e"].astype(int)
    plan_ids = set(t["intervention_plans"]["student_id"])
    has_plan = lab["student_id"].isin(plan_ids)
    assert y[has_plan].mean() > y[~has_plan].mean() + 0.05       # plan raises failure
    assert y[lab["sex"] == "M"].mean() > y[lab["sex"] == "F"].mean()  # boys fail writing more
    # low-advantage schools (high IMSE decile) fail more
    first = t["enrolments"].sort_values("school_year").drop_duplicates("student_id")
    imse = first.merge(t["schools"], on="school_id").set_index("student_id")["imse_decile"]
    d = lab["student_id"].map(imse)
    assert y[d >= 8].mean() > y[d <= 3].mean()
    # dropout: primary grade retention raises it
    drop = _labels(sim20k, "decrochage")
    prim = t["enrolments"][t["enrolments"]["grade"] <= 6]
    retained = prim.groupby("student_id")["grade"].apply(lambda g: g.duplicated().any())
    r = drop["student_id"].map(retained).fillna(False).astype(bool)
    yd = drop["y_decrochage"].astype(int)
    assert yd[r].mean() > yd[~r].mean() + 0.1


def test_pandemic_year_has_more_absences_and_lower_marks(sim20k):
    t = sim20k.tables
    per_year = t["absences"].groupby("school_year").size() / t["enrolments"].groupby(
        "school_year").size()
    assert per_year[2020] > 1.4 * per_year[[2018, 2019, 2021, 2022]].mean()
    m = t["marks"].groupby("school_year")["mark"].mean()
    assert m[2020] < m[[2019, 2021]].mean() - 1.5


def test_volatile_students_who_never_fail_exist(sim20k):
    m = sim20k.tables["marks"].dropna()
    g = m.groupby("student_id")["mark"].agg(["min", "std", "size"])
    swingers = g[(g["min"] >= 60) & (g["std"] > 12) & (g["size"] >= 24)]
    assert len(swingers) >= 10


def test_truncation_at_the_extract_year(small_sim):
    t, last = small_sim.tables, small_sim.config.last_school_year
    assert t["enrolments"]["school_year"].max() == last
    assert t["outcomes"]["exit_year"].max() <= last
    young = t["students"]["cohort_year"] >= last - 2          # not yet in grade 4
    assert not t["ministry_exams"]["student_id"].isin(t["students"]["student_id"][young]).any()
    old = t["students"]["cohort_year"] == t["students"]["cohort_year"].min()
    assert t["students"]["student_id"][old].isin(t["outcomes"]["student_id"]).mean() > 0.9


def test_identifiers_are_realistic(small_sim):
    s = small_sim.tables["students"]
    assert s["code_permanent"].str.fullmatch(r"[A-Z]{4}\d{8}").all()
    assert s["code_permanent"].is_unique
    month = s["code_permanent"].str[6:8].astype(int)
    assert ((month > 50) == (s["sex"] == "F")).all()
    assert (month - np.where(s["sex"] == "F", 50, 0) == s["birth_date"].dt.month).all()
    assert (s["code_permanent"].str[4:6].astype(int) == s["birth_date"].dt.day).all()
    assert s["postal_code"].str.fullmatch(r"[GHJ]\d[A-Z] \d[A-Z]\d").all()
    assert (s["fsa"] == s["postal_code"].str[:3]).all()
    age_at_entry = s["cohort_year"] - s["birth_date"].dt.year
    assert age_at_entry.isin([6, 7]).all()


def test_network_has_css_specific_absence_vocabulary():
    sim = simulate(SimulationConfig(n_css=8, n_students=4000, seed=2))
    r = sim.truth.absence_reasons
    assert r["reason_raw"].nunique() >= 30
    assert r["css_id"].nunique() == 8
    per_css = r.groupby("css_id")["reason_raw"].apply(frozenset)
    assert per_css.nunique() == 8                       # every CSS types differently
    got = sim.tables["absences"]["reason_raw"].unique()
    assert set(got) == set(r["reason_raw"])


def test_mark_inflation_disparity_raises_marks_not_exam():
    base = SimulationConfig(n_students=6000, seed=9)
    d = Disparity(kind="mark_inflation", attribute="language_group", group="allophone",
                  strength=8)
    a, b = simulate(base), simulate(base.model_copy(update={"disparity": d}))

    def gap(sim):
        m = sim.tables["marks"].merge(sim.tables["students"], on="student_id")
        g = m.groupby("language_group")["mark"].mean()
        return g["allophone"] - g["francophone"]

    assert gap(b) - gap(a) == pytest.approx(8, abs=0.5)
    pd.testing.assert_frame_equal(a.tables["ministry_exams"], b.tables["ministry_exams"])


def test_label_bias_disparity_changes_records_not_truth():
    base = SimulationConfig(n_students=6000, seed=9)
    d = Disparity(kind="label_bias", attribute="sex", group="M", strength=0.3)
    sim = simulate(base.model_copy(update={"disparity": d}))
    t = _labels(sim, "ecriture_4e").merge(sim.tables["students"], on="student_id")
    boys = t["sex"] == "M"
    rec, true = t["y_ecriture_4e"].astype(int), t["y_ecriture_4e_true"].astype(int)
    assert rec[boys].mean() > true[boys].mean() + 0.15
    assert (rec[~boys] == true[~boys]).all()


def test_bad_settings_raise_config_errors():
    with pytest.raises(ConfigError, match="disparity"):
        Disparity.parse("mark_inflation:sex")
    with pytest.raises(ConfigError, match="group 'X'"):
        Disparity.parse("mark_inflation:sex=X:3")


def test_cli_bad_argument_is_one_line_exit_1_and_writes_nothing(tmp_path):
    out = tmp_path / "src"
    r = subprocess.run([sys.executable, "-m", "cin_ml.cli", "simulate", "--students", "10",
                        "--out", str(out)], capture_output=True, text=True)
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    assert re.search(r"n_students", r.stderr)
    assert len(r.stderr.strip().splitlines()) == 1
    assert not out.exists() and not (tmp_path / "src_truth").exists()
