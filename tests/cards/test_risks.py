"""Risks on the page: ranked by kind, near-identical ones grouped (worst first, "and N more"),
the summary capped; card.json keeps every risk. A CSS card's few risks read as before."""

from __future__ import annotations

import pytest


def _with_fnr_flags(card, n: int):
    from cin_ml.cards._schema import FnrFlagRow, Interval, Risk, Text

    flags = tuple(FnrFlagRow(breakdown="sex × language_group", group=f"g{i:02d}",
                             fnr=Interval(estimate=0.5 + i / 100, low=0.5, high=0.9),
                             confirmed=True) for i in range(n))
    risks = tuple(Risk(code=f"fnr_ceiling:sex × language_group=g{i:02d}",
                       text=Text(fr=f"fr {i}", en=f"en {i}")) for i in range(n))
    extra = (Risk(code="explain_not_run", text=Text(fr="expl fr", en="expl en")),
             Risk(code="fairness_fail:sex", text=Text(fr="fail fr", en="fail en")))
    return card.model_copy(update={
        "fairness": card.fairness.model_copy(update={"fnr_flags": flags}),
        "considerations": card.considerations.model_copy(update={"risks": extra + risks})})


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_48_near_identical_risks_read_as_one_ranked_line(card, lang):
    from cin_ml.cards import card_json, render_markdown
    from cin_ml.cards._risks import risk_lines

    many = _with_fnr_flags(card, 48)
    lines = risk_lines(many, lang)
    assert len(lines) == 3                                    # fail, 48 groups as one, explain
    assert lines[0] == ("fail fr" if lang == "fr" else "fail en")
    assert lines[-1] == ("expl fr" if lang == "fr" else "expl en")
    grouped = lines[1]
    assert grouped.startswith("48 group")
    # worst first: g47 (0.97) ... g43 named, then how many more
    first = grouped.index("g47")
    assert first < grouped.index("g46") < grouped.index("g43") and "g42" not in grouped
    assert ("et 43 autre(s)" if lang == "fr" else "and 43 more") in grouped
    md = render_markdown(many, lang)
    assert md.count("\n- 48 group") == 2                      # summary and section 13
    assert '"fnr_ceiling:sex × language_group=g00"' in card_json(many)   # evidence kept


def test_summary_is_capped_and_says_how_many_more(card):
    from cin_ml.cards._schema import Risk, Text
    from cin_ml.cards._view import N_SUMMARY_RISKS, view

    risks = tuple(Risk(code=f"other_{i}", text=Text(fr=f"r{i}", en=f"r{i}"))
                  for i in range(N_SUMMARY_RISKS + 3))
    capped = card.model_copy(update={
        "considerations": card.considerations.model_copy(update={"risks": risks})})
    v = view(capped, "en")
    assert v["risks"][:N_SUMMARY_RISKS] == [f"r{i}" for i in range(N_SUMMARY_RISKS)]
    assert v["risks"][-1] == "… and 3 more risk(s): see section 13."
    assert len(v["risks_all"]) == N_SUMMARY_RISKS + 3


def test_a_css_card_keeps_its_risks_as_built(card):
    from cin_ml.cards._risks import risk_lines

    assert risk_lines(card, "en") == [r.text.en for r in card.considerations.risks]
    assert card.subject is None
