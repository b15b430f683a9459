"""Absence-reason harmonization against the simulator's true nomenclature."""

from __future__ import annotations

import pandas as pd
import pytest

from cin_ml.errors import ConfigError, SchemaError
from cin_ml.features import (
    HarmonizeSettings,
    harmonize_absences,
    load_harmonize_settings,
    normalize_reason,
    score_harmonization,
)


@pytest.fixture(scope="module")
def network():
    from cin_ml.simulator import SimulationConfig, simulate

    # seed not used while writing the rules: a held-out check
    return simulate(SimulationConfig(n_css=72, n_students=14400, seed=23))


def test_coverage_on_a_72_css_network(network):
    h = harmonize_absences(network.tables["absences"], network.tables["students"])
    score = score_harmonization(h, network.truth.absence_reasons)
    assert score["coverage"] >= 0.98
    assert score["accuracy"] >= 0.97
    assert len(h.summary()["per_css"]) == 72
    out = h.apply(network.tables["absences"])
    assert out["reason_category"].notna().all()
    assert set(out["reason_category"].cat.categories) == set(load_harmonize_settings()
                                                              .categories)


def test_report_lists_unmapped_and_ambiguous_strings():
    absences = pd.DataFrame({"student_id": ["a", "a", "b", "b", "b"],
                             "reason_raw": ["Maladie", "zzz qqq", "RDV dentiste", "zzz qqq",
                                            "Sspension"]})
    students = pd.DataFrame({"student_id": ["a", "b"], "css_id": ["C1", "C2"]})
    h = harmonize_absences(absences, students)
    m = h.mapping.set_index(["css_id", "reason_raw"])
    assert m.loc[("C1", "Maladie"), "category"] == "maladie"
    assert m.loc[("C2", "RDV dentiste"), "category"] == "rendez_vous_medical"
    assert m.loc[("C2", "Sspension"), ["category", "method"]].tolist() == ["suspension",
                                                                          "fuzzy"]
    rep = h.report()
    assert rep[["css_id", "reason_raw"]].values.tolist() == [["C1", "zzz qqq"],
                                                             ["C2", "zzz qqq"]]
    assert normalize_reason("  Absence NON-motivée!! ") == "absence non motivee"


def test_bad_inputs_and_config():
    with pytest.raises(SchemaError, match="reason_raw"):
        harmonize_absences(pd.DataFrame({"student_id": []}),
                           pd.DataFrame({"student_id": [], "css_id": []}))
    from cin_ml.config import settings_from_dict

    with pytest.raises(ConfigError, match="unknown category"):
        settings_from_dict(HarmonizeSettings, {"categories": ["a", "autre"], "rules": [
            {"category": "zz", "patterns": ["x"]}]}, "harmonize.toml [harmonize]")
