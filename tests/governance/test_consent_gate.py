"""The promotion gate judges the agreements a run relied on (consent/scope.json), on the day
of promotion, even when they are not in configs/consent.toml (e.g. a simulated network's)."""

from __future__ import annotations

import datetime as dt

from cin_ml.consent import ConsentRegistry
from cin_ml.registry._gates import consent_result

RECORDS = [{"id": f"CSS007-{d}", "css_id": "CSS007", "dataset": d,
            "purpose": "student_success_prediction", "data": ["marks"],
            "retention_end": "2027-06-30", "signatory": "DG CSS007", "signed": "2024-01-15"}
           for d in ("academic", "absences")]
SCOPE = {"css_ids": ["CSS007"], "datasets": ["academic", "absences"],
         "agreement_records": RECORDS}


def test_recorded_agreements_pass_while_valid():
    gate = consent_result(SCOPE, ConsentRegistry(), "student_success_prediction",
                          dt.date(2026, 11, 28))
    assert gate.ok, gate.detail


def test_recorded_agreements_fail_once_expired_and_name_css_and_dataset():
    gate = consent_result(SCOPE, ConsentRegistry(), "student_success_prediction",
                          dt.date(2027, 7, 1))
    assert not gate.ok
    assert "CSS007" in gate.detail and "academic" in gate.detail


def test_without_records_the_configured_registry_decides():
    scope = {k: v for k, v in SCOPE.items() if k != "agreement_records"}
    gate = consent_result(scope, ConsentRegistry(), "student_success_prediction",
                          dt.date(2026, 11, 28))
    assert not gate.ok
