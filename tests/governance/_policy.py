"""Test policy and agreements (shared by fixtures and the subprocess actor)."""

from __future__ import annotations

import datetime as dt

TODAY = dt.date(2026, 3, 2)

POLICY = {
    "governance": {"purpose": "student_success_prediction"},
    "people": {"committee": ["a.tremblay", "m.gagnon"], "operators": ["ops.bouchard",
                                                                        "ops.cote"]},
    "approval": {"max_validity_days": 365},
    "floors": {"min": {"test_auc": 0.7, "test_recall_at_threshold": 0.35},
               "beat": {"test_auc": "indicator_auc"}, "margin": 0.0},
    "compare": {"n_boot": 100, "seed": 1, "ci_level": 0.95},
    "lock": {"timeout_s": 60, "stale_after_s": 300},
}

AGREEMENTS = [
    {"id": f"CSS001-{d}", "css_id": "CSS001", "dataset": d,
     "purpose": "student_success_prediction", "data": ["marks"],
     "retention_end": dt.date(2027, 6, 30), "signatory": "DG CSS001",
     "signed": dt.date(2024, 1, 10)} for d in ("academic", "absences")
] + [
    {"id": "CSS002-academic", "css_id": "CSS002", "dataset": "academic",
     "purpose": "student_success_prediction", "data": ["marks"],
     "retention_end": dt.date(2026, 4, 30), "signatory": "DG CSS002",
     "signed": dt.date(2023, 1, 10)},
]


def make_test_ctx(today=TODAY):
    from cin_ml.config import settings_from_dict
    from cin_ml.consent import ConsentRegistry
    from cin_ml.registry import GovernanceSettings, make_ctx

    return make_ctx(settings_from_dict(GovernanceSettings, POLICY, "test policy"),
                    ConsentRegistry(agreements=AGREEMENTS), today=today)
