"""The bilingual glossary: complete in both languages, clear on unknown keys, and numbers
and dates as each locale writes them."""

import datetime as dt
import math

import pytest

from cin_ml.features import AUDIT_ATTRIBUTES, FAMILIES, MARK_STATS
from cin_ml.glossary import (
    GlossaryError,
    attribute_label,
    fmt_date,
    fmt_int,
    fmt_number,
    fmt_percent,
    glossary_keys,
    group_label,
    label,
    labels,
)
from cin_ml.run_contract import DataForm
from cin_ml.schema import COMPETENCIES, IMMIGRATION, LANGUAGE_GROUPS, SEXES


def test_every_key_has_both_languages_and_they_differ_where_words_differ():
    keys = glossary_keys()
    assert len(keys) > 100
    for key in keys:
        both = labels(key)
        assert both.get("fr") and both.get("en"), key
        assert set(both) == {"fr", "en"}, key


def test_codes_of_the_project_are_all_in_the_glossary():
    expected = ([f"family.{f}" for f in FAMILIES] + [f"competency.{c}" for c in COMPETENCIES]
                + [f"stat.{s}" for s in MARK_STATS] + [f"attribute.{a}" for a in AUDIT_ATTRIBUTES]
                + [f"attribute_help.{a}" for a in AUDIT_ATTRIBUTES]
                + [f"group.sex.{v}" for v in SEXES]
                + [f"group.language_group.{v}" for v in LANGUAGE_GROUPS]
                + [f"group.immigration_generation.{v}" for v in IMMIGRATION]
                + [f"data_form.{f.value}" for f in DataForm]
                + [f"verdict.{v}" for v in ("pass", "fail", "inconclusive", "insufficient_data")]
                + [f"metric.{m}" for m in ("fnr", "fpr", "auc", "recall", "calibration_gap",
                                           "ece")]
                + [f"calibration.{c}" for c in ("platt", "none", "isotonic")])
    missing = [k for k in expected if k not in glossary_keys()]
    assert not missing


def test_unknown_key_and_language_are_clear_errors():
    with pytest.raises(GlossaryError, match="no entry 'metric.nope'"):
        label("metric.nope", "fr")
    with pytest.raises(GlossaryError, match="language"):
        label("metric.fnr", "de")


def test_imse_bands_say_which_end_is_disadvantaged():
    assert "défavorisé" in group_label("imse_band", "8-10", "fr")
    assert "advantaged" in group_label("imse_band", "1-3", "en")
    assert "décile 1 est le plus favorisé" in label("attribute_help.imse_band", "fr")


def test_groups_and_intersections_read_as_words():
    assert (group_label("intervention_plan × immigration_generation", "0 × 1re", "fr")
            == "sans plan d'intervention × 1re génération")
    assert group_label("intervention_plan", "1.0", "en") == "with an intervention plan"
    assert "1re" not in group_label("immigration_generation", "1re", "en")
    assert group_label("region", "Nord", "fr") == "Nord"      # a spec's own group, as is
    assert attribute_label("sex × language_group", "en") == "Sex × Language group"
    assert label("grade.1", "fr") == "1re année" and label("grade.1", "en") == "grade 1"


def test_numbers_follow_each_locale():
    assert fmt_number(0.97643, "fr", digits=3) == "0,976"
    assert fmt_number(0.97643, "en", digits=3) == "0.976"
    assert fmt_int(3233, "en") == "3,233"
    assert fmt_int(3233, "fr") == "3\u00a0233"
    assert fmt_percent(0.3, "fr") == "30\u00a0%"
    assert fmt_percent(0.3012, "en", 1) == "30.1%"
    assert fmt_number(None, "fr") == fmt_number(math.nan, "en") == "—"
    assert fmt_date(dt.date(2026, 11, 30), "fr") == "30 novembre 2026"
    assert fmt_date("2026-11-30T10:00:00Z", "en") == "November 30, 2026"


def test_review_states_and_history_events_read_as_words():
    from cin_ml.glossary import event_label
    from cin_ml.registry import QUEUE_STATES

    for state in QUEUE_STATES:
        assert labels(f"review_state.{state}")["fr"] != state
    assert label("review_state.approved", "fr") == "Approuvée"   # la version
    for t in ("register", "review", "promote", "rollback", "expire", "withdraw", "restore",
              "restore.tags", "consent.flag", "consent.clear", "run.failed", "breach"):
        assert event_label(t, "fr") != t and event_label(t, "en") != t, t
    assert event_label("promote.refused", "fr") == "Promotion (refusé)"
    assert event_label("consent.flag.started", "en") == "Consent agreement not valid (started)"
    assert event_label("review.aborted", "en") == "Committee decision (aborted)"
    assert event_label("someday.new", "fr") == "someday.new"       # an unknown type, as is
    with pytest.raises(GlossaryError, match="language"):
        event_label("review", "de")
