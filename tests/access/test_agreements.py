"""Simulated data-use agreements: a realistic, reproducible mix written next to the extract."""

from __future__ import annotations

import datetime as dt
import hashlib

import pandas as pd
import pytest

from cin_ml.consent import (
    AGREEMENTS_FILE,
    DATASETS,
    agreements_from_frame,
    carry_agreements,
    check_consent,
    read_agreements,
)
from cin_ml.simulator import (
    AgreementSimulation,
    SimulationConfig,
    simulate,
    simulate_agreements,
    simulate_to_disk,
    write_simulation,
)

PURPOSE = "student_success_prediction"
DAY = dt.date(2026, 1, 15)
CSS = [f"CSS{i:03d}" for i in range(1, 41)]


def test_partner_css_always_consents_and_network_is_mixed():
    seen: set[str] = set()
    for seed in range(5):
        df = simulate_agreements(CSS, seed, 2025)
        reg = agreements_from_frame(df)
        partner = check_consent(reg, ["CSS001"], ["academic", "absences"], PURPOSE, DAY)
        assert partner.ok, partner.describe()
        gaps = check_consent(reg, CSS, list(DATASETS), PURPOSE, DAY).missing
        reasons = {g.reason for g in gaps}
        seen |= reasons
        assert "none" in reasons
        lacking = {g.css_id for g in gaps if g.dataset == "absences"}
        assert 0 < len(lacking) < len(CSS)
        # roughly the configured signing rates (40 CSS: wide tolerance)
        workforce = sum(1 for g in gaps if g.dataset == "workforce")
        assert 5 <= workforce <= 30
    assert {"none", "other_purpose", "expired"} <= seen


def test_three_css_always_exercise_an_exclusion():
    for seed in range(30):
        reg = agreements_from_frame(simulate_agreements(CSS[:3], seed, 2025))
        chk = check_consent(reg, CSS[:3], ["academic", "absences"], PURPOSE, DAY)
        assert not chk.ok
        assert "CSS001" not in {g.css_id for g in chk.missing}


def test_same_seed_same_agreements_other_seed_other():
    a = simulate_agreements(CSS, 3, 2025)
    assert a.equals(simulate_agreements(CSS, 3, 2025))
    assert not a.equals(simulate_agreements(CSS, 4, 2025))
    assert a["id"].is_unique
    assert set(a["dataset"]) <= set(DATASETS)
    assert (a["retention_end"] >= a["signed"]).all()
    assert set(a["data"].iloc[0]) and all(isinstance(t, str) for t in a["data"].iloc[0])


def test_settings_are_validated():
    with pytest.raises(ValueError):
        AgreementSimulation(p_signed={"grades": 0.5})
    with pytest.raises(ValueError):
        AgreementSimulation(p_signed={"academic": 0.95}, p_expired=0.1)


def test_simulators_write_agreements_next_to_the_extract_not_the_truth(tmp_path):
    cfg = SimulationConfig(n_css=3, n_students=900, seed=5)
    sim = simulate(cfg)
    assert sim.agreements is not None and set(sim.agreements["css_id"]) <= {"CSS001", "CSS002",
                                                                          "CSS003"}
    write_simulation(sim, tmp_path / "mem", tmp_path / "mem_truth")
    simulate_to_disk(cfg, tmp_path / "disk", tmp_path / "disk_truth")
    for name in ("mem", "disk"):
        assert (tmp_path / name / AGREEMENTS_FILE).is_file()
        assert not (tmp_path / f"{name}_truth" / AGREEMENTS_FILE).exists()
    digest = [hashlib.sha256((tmp_path / n / AGREEMENTS_FILE).read_bytes()).hexdigest()
              for n in ("mem", "disk")]
    assert digest[0] == digest[1]
    back = read_agreements(tmp_path / "disk")
    assert {a.id for a in back.agreements} == set(sim.agreements["id"])
    assert pd.read_parquet(tmp_path / "disk" / AGREEMENTS_FILE).shape[0] == len(sim.agreements)


def test_read_and_carry(tmp_path):
    assert read_agreements(tmp_path) is None
    assert carry_agreements(tmp_path, tmp_path) is False
    (tmp_path / "src").mkdir()
    (tmp_path / "dst").mkdir()
    simulate_agreements(CSS[:2], 1, 2025).to_parquet(tmp_path / "src" / AGREEMENTS_FILE)
    assert carry_agreements(tmp_path / "src", tmp_path / "dst")
    assert len(read_agreements(tmp_path / "dst").agreements) >= 2
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / AGREEMENTS_FILE).write_bytes(b"not parquet")
    from cin_ml.errors import DataError

    with pytest.raises(DataError, match="agreements.parquet"):
        read_agreements(tmp_path / "bad")
