"""Global importance: ground truth (causal above inert), families, groups, stability."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cin_ml.errors import SmallGroupWarning
from cin_ml.explain import (
    compare_rankings,
    compute_contributions,
    family_map,
    global_importance,
    mean_abs,
    stability,
)

from .conftest import CAUSAL, INERT


@pytest.fixture(scope="module")
def contribs(data, booster):
    return compute_contributions(booster, data[0], num_threads=1)


def test_causal_features_rank_above_inert_ones(contribs, data):
    fam = family_map(list(data[0].columns))
    g = global_importance(contribs, fam, resamples=5)
    imp = {f: a for f, _, a, _ in g.per_feature}
    assert min(imp[f] for f in CAUSAL) > max(imp[f] for f in INERT), imp
    assert g.ranking[0] == "lecture_g3_mean"


def test_family_importance_sums_its_features(contribs, data):
    fam = family_map(list(data[0].columns))
    g = global_importance(contribs, fam, resamples=5)
    per_feat = {f: a for f, _, a, _ in g.per_feature}
    per_fam = dict(g.per_family)
    # families come from cin_ml.features (or the naming convention): absences has 2 members
    assert fam["absence_rate_maladie"] == fam["absence_rate_non_motivee"] == "absences"
    assert per_fam["absences"] == pytest.approx(
        per_feat["absence_rate_maladie"] + per_feat["absence_rate_non_motivee"])
    assert [v for _, v in g.per_family] == sorted(per_fam.values(), reverse=True)


def test_family_mapping_argument_wins(contribs, data):
    fam = family_map(list(data[0].columns), {"imse_decile": "ecole"})
    assert fam["imse_decile"] == "ecole"
    assert fam["lecture_g3_mean"] == "lecture"


def test_per_group_mean_abs_and_small_groups(contribs, data):
    df, _ = data
    groups = pd.DataFrame({"sex": np.where(np.arange(len(df)) % 2, "F", "M")}, index=df.index)
    groups.iloc[:10, 0] = "X"
    fam = family_map(list(df.columns))
    with pytest.warns(SmallGroupWarning, match="sex=X has 10"):
        g = global_importance(contribs, fam, groups, min_group_size=30, resamples=5)
    sex = g.per_group["sex"]
    assert sex["X"]["too_small"] and not sex["F"]["too_small"]
    rows = (groups["sex"] == "F").to_numpy()
    j = contribs.features.index("lecture_g3_mean")
    assert sex["F"]["mean_abs"]["lecture_g3_mean"] == pytest.approx(
        np.abs(contribs.values[rows, j]).mean(), abs=1e-7)
    assert sex["F"]["n"] + sex["M"]["n"] + sex["X"]["n"] == len(df)


def test_compare_rankings_known_cases():
    a = {"a": 3.0, "b": 2.0, "c": 1.0, "d": 0.5}
    assert compare_rankings(a, a, 2).spearman == pytest.approx(1.0)
    rev = {"a": 0.5, "b": 1.0, "c": 2.0, "d": 3.0}
    r = compare_rankings(a, rev, 2)
    assert r.spearman == pytest.approx(-1.0)
    assert r.top_k_overlap == 0.0 and not r.same_top_1
    swap = {"a": 3.0, "b": 1.0, "c": 2.0, "d": 0.5}
    s = compare_rankings(a, swap, 2)
    assert s.top_k_overlap == 0.5 and s.same_top_1
    assert s.spearman == pytest.approx(0.8)


def test_sample_ranking_is_stable_against_full_set(contribs):
    rng = np.random.default_rng(3)
    ids = rng.choice(contribs.student_ids, 800, replace=False)
    st = stability(contribs.subset(list(ids)), resamples=10, top_k=5,
                   full=mean_abs(contribs))
    assert st.versus_full is not None
    assert st.versus_full.spearman > 0.9
    assert st.versus_full.top_k_overlap >= 0.8
    assert st.spearman_median > 0.9
    # a tiny sample is visibly less stable than a large one
    tiny = stability(contribs.subset(list(ids[:20])), resamples=10, top_k=5)
    assert tiny.spearman_min < st.spearman_min
