"""Data-use agreements: loading, validation and the consent check."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from cin_ml.consent import (
    DATASETS,
    ConsentRegistry,
    agreements_from_frame,
    check_consent,
    load_agreements,
)
from cin_ml.errors import ConfigError, ConsentError

P = "student_success_prediction"


def _a(id_, css="CSS001", dataset="academic", purpose=P, signed=(2024, 1, 1),
       end=(2026, 6, 30)):
    return {"id": id_, "css_id": css, "dataset": dataset, "purpose": purpose,
            "data": ["marks"], "retention_end": dt.date(*end), "signatory": "DG",
            "signed": dt.date(*signed)}


def test_datasets_match_the_schema():
    from cin_ml.schema import TABLES

    assert {t.dataset for t in TABLES.values()} == set(DATASETS)


def test_shipped_config_loads_and_covers_css001():
    reg = load_agreements()
    chk = check_consent(reg, ["CSS001"], ["academic", "absences"], P, dt.date(2026, 1, 1))
    assert chk.ok and chk.agreement_ids == ("CSS001-absences-2024", "CSS001-academic-2024")


def test_check_names_css_and_dataset_and_reason():
    reg = ConsentRegistry(agreements=[
        _a("1"), _a("2", dataset="absences", end=(2025, 6, 30)),
        _a("3", css="CSS002", purpose="research"), _a("4", css="CSS003", signed=(2027, 1, 1),
                                                      end=(2030, 1, 1))])
    chk = check_consent(reg, ["CSS001", "CSS002", "CSS003", "CSS004"],
                        ["academic", "absences"], P, dt.date(2026, 1, 15))
    gaps = {(g.css_id, g.dataset): g.reason for g in chk.missing}
    assert gaps == {("CSS001", "absences"): "expired", ("CSS002", "academic"): "other_purpose",
                    ("CSS002", "absences"): "none", ("CSS003", "academic"): "not_yet_signed",
                    ("CSS003", "absences"): "none", ("CSS004", "academic"): "none",
                    ("CSS004", "absences"): "none"}
    assert not chk.ok and chk.agreement_ids == ("1",)
    with pytest.raises(ConsentError, match="CSS001/absences: agreement 2 expired on "
                                           "2025-06-30"):
        chk.raise_if_invalid()
    assert chk.to_dict()["missing"][0]["css_id"] == "CSS001"


def test_validity_bounds_are_inclusive():
    reg = ConsentRegistry(agreements=[_a("1", signed=(2024, 1, 1), end=(2024, 12, 31))])
    on = lambda d: check_consent(reg, ["CSS001"], ["academic"], P, d).ok  # noqa: E731
    assert on(dt.date(2024, 1, 1)) and on(dt.date(2024, 12, 31))
    assert not on(dt.date(2023, 12, 31)) and not on(dt.date(2025, 1, 1))


def test_renewal_covers_after_expiry():
    reg = ConsentRegistry(agreements=[_a("old", end=(2025, 6, 30)),
                                      _a("new", signed=(2025, 7, 1), end=(2028, 6, 30))])
    chk = check_consent(reg, ["CSS001"], ["academic"], P, dt.date(2026, 1, 1))
    assert chk.ok and chk.agreement_ids == ("new",)


def test_invalid_inputs_are_refused():
    reg = ConsentRegistry(agreements=[_a("1")])
    with pytest.raises(ConsentError, match="no CSS named"):
        check_consent(reg, [], ["academic"], P)
    with pytest.raises(ConsentError, match="unknown dataset"):
        check_consent(reg, ["CSS001"], ["grades"], P)


def test_config_errors_name_the_entry(tmp_path):
    bad = tmp_path / "consent.toml"
    bad.write_text('[[agreements]]\nid = "x"\ncss_id = "CSS001"\ndataset = "health"\n'
                   'purpose = "p"\ndata = ["a"]\nretention_end = 2026-01-01\n'
                   'signatory = "s"\nsigned = 2025-01-01\n')
    with pytest.raises(ConfigError, match=r"agreement #1 \(x\).*dataset"):
        load_agreements(bad)
    bad.write_text(bad.read_text().replace('"health"', '"academic"')
                   .replace("2026-01-01", "2024-01-01"))
    with pytest.raises(ConfigError, match="retention_end 2024-01-01 is before signed"):
        load_agreements(bad)
    with pytest.raises(ConfigError, match="duplicate agreement id"):
        agreements_from_frame(pd.DataFrame([_a("1"), _a("1")]))


def test_from_a_table():
    df = pd.DataFrame([{**_a("1"), "data": "marks; absences",
                        "retention_end": pd.Timestamp("2026-06-30"), "signed": "2024-01-01"}])
    reg = agreements_from_frame(df)
    assert reg.agreements[0].data == ("marks", "absences")
    assert reg.agreements[0].retention_end == dt.date(2026, 6, 30)
    assert reg.for_css("CSS001")[0].to_dict()["signed"] == "2024-01-01"
