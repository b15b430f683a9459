"""Size rules that say what they count, and an FNR ceiling that singles out groups."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from cin_ml.errors import ConfigError
from cin_ml.fairness import audit, load_policy
from tests.fairness.conftest import make_predictions

THRESHOLD = 0.3


def test_group_too_few_at_risk_is_judged_on_nothing_and_never_flagged(policy):
    y, s, g, _ = make_predictions(6000, seed=1)
    # 120 students (above the group-size minimum) of whom only 8 are at risk (below the
    # outcome-count minimum), all of them missed: FNR 1.0, far above any ceiling
    g = g.copy()
    rare = np.arange(120)
    g.loc[rare, "language_group"] = "autre"
    y = y.copy()
    s = s.copy()
    y[rare] = 0
    y[rare[:8]] = 1
    s[rare] = 0.01
    assert policy.min_group_size <= 120 and policy.min_outcome_count > 8
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = audit(y, s, THRESHOLD, g, policy, n_boot=50)
    grp = res.breakdown("language_group").group("autre")
    assert grp.n == 120 and grp.metrics["fnr"].value == 1.0
    assert grp.verdicts["fnr"] == "insufficient_data"      # outcome-count rule
    assert grp.verdicts["fpr"] != "insufficient_data"      # 112 not-at-risk: judged on FPR
    assert not [f for f in res.fnr_flags if "autre" in f.labels]


def test_relative_ceiling_singles_out_the_missed_group(policy):
    assert policy.fnr_ceiling == "relative"
    y, s, g, _ = make_predictions(20000, seed=2, miss_group=("language_group", "allophone"),
                                  miss_strength=2.0)
    res = audit(y, s, THRESHOLD, g, policy, n_boot=60)
    overall = res.overall["fnr"].value
    assert res.fnr_ceiling == pytest.approx(overall * policy.fnr_ceiling_factor)
    flagged = {(f.breakdown, f.labels) for f in res.fnr_flags}
    assert ("language_group", ("allophone",)) in flagged
    # neither sex is singled out (both sit near the overall FNR)
    assert not [f for f in flagged if f[0] == "sex"]
    values = [f.fnr.value for f in res.fnr_flags]
    assert values == sorted(values, reverse=True)               # worst first
    # the same data with the old absolute ceiling at the overall FNR flag both sexes
    fixed = audit(y, s, THRESHOLD, g, policy.model_copy(update={"fnr_ceiling": overall * 0.99}),
                  n_boot=60)
    assert len([f for f in fixed.fnr_flags if f.breakdown == "sex"]) >= 1
    assert res.to_dict()["fnr_ceiling"] == pytest.approx(res.fnr_ceiling, abs=1e-6)


def test_ceiling_must_be_relative_or_a_rate(tmp_path):
    from cin_ml.config import packaged_config_dir

    text = (packaged_config_dir() / "fairness.toml").read_text(encoding="utf-8")
    bad = tmp_path / "fairness.toml"
    bad.write_text(text.replace('fnr_ceiling = "relative"', "fnr_ceiling = 1.5"),
                   encoding="utf-8")
    with pytest.raises(ConfigError, match="fnr_ceiling"):
        load_policy(bad)
