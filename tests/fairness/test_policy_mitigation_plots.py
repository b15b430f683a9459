"""Policy validation, mitigation experiment and figures (suppression in plots)."""

from __future__ import annotations

import pytest

from cin_ml.config import packaged_config_dir
from cin_ml.errors import ConfigError
from cin_ml.fairness import (
    MITIGATION_STATEMENT,
    audit,
    load_policy,
    mitigation_experiment,
    plot_disparities,
    plot_group_rates,
    plot_tradeoff,
)

from .conftest import make_predictions

pytestmark = pytest.mark.filterwarnings("ignore::cin_ml.errors.SmallGroupWarning")


def _write(tmp_path, text):
    base = (packaged_config_dir() / "fairness.toml").read_text(encoding="utf-8")
    p = tmp_path / "fairness.toml"
    p.write_text(text(base), encoding="utf-8")
    return p


@pytest.mark.parametrize(("edit", "key"), [
    (lambda b: b.replace('fnr_ceiling = "relative"',
                            'fnr_ceiling = "relative"\nfnr_celing = 0.4'),
     "fnr_celing"),
    (lambda b: b.replace("min_group_size = 50", "min_group_size = 0"), "min_group_size"),
    (lambda b: b.replace("ratio = [0.8, 1.25]", "ratio = [1.2, 0.8]", 1), "ratio"),
    (lambda b: b.replace('"calibration_gap", "auc"]', '"calibration_gap", "auc", "brier"]'),
     "brier"),
    (lambda b: b.replace("[fairness.tolerances.auc]\ndifference = 0.05", ""), "auc"),
    (lambda b: b.replace("suppress_below = 10", "suppress_below = 80"), "suppress_below"),
])
def test_bad_policy_names_the_key(tmp_path, edit, key):
    with pytest.raises(ConfigError, match=key):
        load_policy(_write(tmp_path, edit))


def test_default_policy_audits_all_pairs(policy):
    assert len(policy.groupings) == 5 + 10
    assert policy.primary_metric == "fnr"


def test_mitigation_narrows_the_fnr_gap(policy):
    y, s, g, _ = make_predictions(20000, seed=8, miss_group=("language_group", "allophone"),
                                  miss_strength=1.2)
    exp = mitigation_experiment(y, s, 0.25, g["language_group"], policy, seed=1)
    t = exp.table()
    assert list(t.index) == ["base", "group_thresholds", "threshold_optimizer"]
    assert t.loc["base", "worst_group"] == "allophone"
    assert t.loc["group_thresholds", "fnr_gap"] < t.loc["base", "fnr_gap"] / 2
    assert t.loc["threshold_optimizer", "fnr_gap"] < t.loc["base", "fnr_gap"] / 2
    assert bool(t.loc["threshold_optimizer", "randomized"])
    assert not t.loc["base", "needs_attribute"] and t.loc["group_thresholds", "needs_attribute"]
    d = exp.to_dict()
    assert d["statement"] == MITIGATION_STATEMENT
    assert "randomiz" in d["statement"]["en"] and "policy choice" in d["statement"]["en"]
    assert exp.n_fit + exp.n_eval == len(y)
    assert plot_tradeoff(exp).axes


def test_mitigation_publishes_no_threshold_of_a_small_group(policy):
    y, s, g, _ = make_predictions(6000, seed=2, small_cell=True)
    exp = mitigation_experiment(y, s, 0.25, g["language_group"], policy, seed=1)
    assert "autre" not in exp.group_thresholds
    assert all(r.worst_group != "autre" for r in exp.rows)


def test_plots_never_show_suppressed_cells(policy):
    y, s, g, _ = make_predictions(6000, seed=2, small_cell=True)
    res = audit(y, s, 0.25, g, policy, n_boot=50)
    hidden = [gr.label for gr in res.breakdown("language_group").groups if gr.suppressed]
    assert "autre" in hidden
    fig = plot_group_rates(res, "language_group")
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert ticks and not any(h in t for h in hidden for t in ticks)
    notes = " ".join(t.get_text() for t in fig.texts)
    assert all(h in notes for h in hidden)
    fig = plot_disparities(res, "fnr")
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert not any(f": {h}" in t for h in hidden for t in ticks)
    assert any("francophone (ref.)" in t for t in ticks)


@pytest.mark.parametrize(("edit", "key"), [
    (lambda b: b.replace('fnr = "higher"', 'fnr = "upwards"'), "fnr"),
    (lambda b: b.replace('fdr = "higher"', 'fdr = "higher"\nbrier = "higher"'), "brier"),
    (lambda b: b.replace('informational_metrics = ["selection_rate"]',
                         'informational_metrics = ["selection_rate", "fpr"]'),
     "informational_metrics"),
    (lambda b: b.replace('informational_metrics = ["selection_rate"]',
                         'informational_metrics = ["parity"]'), "parity"),
])
def test_bad_harm_policy_names_the_key(tmp_path, edit, key):
    with pytest.raises(ConfigError, match=key):
        load_policy(_write(tmp_path, edit))


def test_mitigation_without_positives_says_which_arms_and_why(policy):
    y, s, g, _ = make_predictions(3000, seed=1)
    exp = mitigation_experiment(y * 0, s, 0.25, g["language_group"], policy, seed=1)
    d = exp.to_dict()
    assert not d["complete"]
    assert set(d["not_computed"]) == {"group_thresholds", "threshold_optimizer"}
    assert "no positive outcome" in d["not_computed"]["threshold_optimizer"]
    base = d["rows"][0]
    assert base["computed"] and base["recall"] is None  # undefined, not invented
    assert plot_tradeoff(exp).axes


def test_mitigation_records_a_threshold_optimizer_refusal(policy, monkeypatch):
    from fairlearn.postprocessing import ThresholdOptimizer

    def refuse(self, *a, **k):
        raise ValueError("Degenerate labels for sensitive feature value anglophone")

    monkeypatch.setattr(ThresholdOptimizer, "fit", refuse)
    y, s, g, _ = make_predictions(20000, seed=8)
    exp = mitigation_experiment(y, s, 0.25, g["language_group"], policy, seed=1)
    rows = {r.strategy: r for r in exp.rows}
    assert rows["base"].computed and rows["group_thresholds"].computed
    to = rows["threshold_optimizer"]
    assert not to.computed and "Degenerate labels" in to.reason and "language_group" in to.reason
    assert exp.to_dict()["rows"][2]["recall"] is None
