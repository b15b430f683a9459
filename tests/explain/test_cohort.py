"""Explaining a cohort where needed: selection, cache reuse, full-cohort agreement, plots."""

from __future__ import annotations

import json

import matplotlib
import numpy as np
import pandas as pd
import pytest

from cin_ml.errors import ConfigError, DataError
from cin_ml.explain import (
    ExplainSettings,
    compute_contributions,
    explain_cohort,
    load_explain_settings,
    select_students,
)

matplotlib.use("Agg")

SETTINGS = ExplainSettings(num_threads=1, global_sample=800, stability_resamples=5,
                           min_group_size=30)


@pytest.fixture(scope="module")
def preds(data, booster):
    df, _ = data
    score = booster.predict(df, num_threads=1)
    return pd.DataFrame({"student_id": df.index, "score": score,
                         "flagged": (score > np.quantile(score, 0.9)).astype(int),
                         "sex": np.where(np.arange(len(df)) % 2, "F", "M")})


def test_selection_rules():
    ids = [f"S{i}" for i in range(100)]
    s = select_students(ids, flagged=["S1", "S2"], asked=["S3"], sample_size=10, seed=1)
    assert s.flagged == ("S1", "S2") and s.asked == ("S3",) and len(s.sample) == 10
    assert set(s.explained) == {"S1", "S2", "S3"} | set(s.sample)
    assert s.sample == select_students(ids, sample_size=10, seed=1).sample
    assert select_students(ids, sample_size=500).full
    with pytest.raises(DataError, match="not in the scored cohort"):
        select_students(ids, asked=["nobody"])


def test_default_path_explains_flagged_asked_and_sample(data, booster, preds):
    df, _ = data
    asked = preds.loc[preds.flagged == 0, "student_id"].iloc[0]
    e = explain_cohort(booster, df.reset_index(), preds, asked=[asked], settings=SETTINGS,
                       group_columns=["sex"])
    sel = e.selection
    assert len(sel.flagged) == int(preds.flagged.sum()) and sel.asked == (asked,)
    assert len(sel.sample) == 800 and not sel.full
    assert len(e.contributions) == len(sel.explained) < len(df)
    assert {s.student_id for s in e.students} == set(sel.flagged) | {asked}
    assert e.student(asked).flagged is False
    d = json.loads(json.dumps(e.to_dict()))
    assert d["selection"]["n_sample"] == 800
    assert d["explainer"]["output_space"].startswith("raw model output")
    assert d["global"]["stability"]["versus_full"] is None
    assert set(d["global"]["per_group"]["sex"]) == {"F", "M"}
    assert json.loads(json.dumps(e.students_dict()))["students"]
    with pytest.raises(DataError, match="not explained"):
        e.student(sel.sample[-1] if sel.sample[-1] not in sel.flagged else "zz")


def test_full_path_reports_agreement_of_default_sample(data, booster, preds):
    df, _ = data
    e = explain_cohort(booster, df, preds, settings=SETTINGS, full=True)
    assert e.selection.full and len(e.contributions) == len(df)
    vf = e.global_.stability.versus_full
    assert vf is not None and vf.spearman > 0.9 and vf.same_top_1
    assert e.global_.stability.n_sample == 800


def test_cache_rows_are_reused_not_recomputed(data, booster, preds):
    df, _ = data
    first = compute_contributions(booster, df.iloc[:1000], np.array(df.index[:1000]),
                                  num_threads=1)
    # poison a cached row: if reused, the poison shows up
    poisoned = first.values.copy()
    poisoned[0, 0] = 123.0
    from dataclasses import replace

    cache = replace(first, values=poisoned, _index={})
    asked = [df.index[0], df.index[2500]]
    e = explain_cohort(booster, df, preds, asked=asked, settings=SETTINGS, cache=cache)
    assert e.contributions.values[e.contributions.row(df.index[0]), 0] == 123.0
    fresh = compute_contributions(booster, df.loc[[df.index[2500]]], num_threads=1)
    np.testing.assert_array_equal(e.contributions.values[e.contributions.row(df.index[2500])],
                                  fresh.values[0])


def test_refusals(data, booster, preds):
    df, _ = data
    with pytest.raises(DataError, match="not model inputs"):
        explain_cohort(booster, df, preds, settings=SETTINGS, approved_sensitive=["sex"])
    with pytest.raises(DataError, match="audit column"):
        explain_cohort(booster, df, preds, settings=SETTINGS, group_columns=["language_group"])


def test_plots(data, booster, preds):
    import matplotlib.pyplot as plt

    from cin_ml.explain import beeswarm, dependence, family_bars, group_bars

    df, _ = data
    e = explain_cohort(booster, df, preds, settings=SETTINGS, group_columns=["sex"])
    sample = e.contributions.subset(e.selection.sample)
    figs = [beeswarm(sample, df, max_rows=200), dependence(sample, df, "lecture_g3_mean"),
            family_bars(e.global_), group_bars(e.global_, "sex")]
    for f in figs:
        assert f.axes and f.axes[0].has_data()
        plt.close(f)


def test_config_file_loads_and_rejects_unknown_keys(tmp_path):
    s, sheet = load_explain_settings()
    assert s.top_k >= 1 and sheet.contact_fr and sheet.contact_en
    bad = tmp_path / "explain.toml"
    bad.write_text("[explain]\ntop_kk = 3\n[sheet]\ncontact_fr='a'\ncontact_en='b'\n")
    with pytest.raises(ConfigError, match="unknown key 'top_kk'"):
        load_explain_settings(bad)
    bad.write_text("[explain]\ntop_k = 0\n[sheet]\ncontact_fr='a'\ncontact_en='b'\n")
    with pytest.raises(ConfigError, match="top_k"):
        load_explain_settings(bad)
