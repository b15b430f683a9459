"""Every page in one language: each HTML page cin-ml renders for a reader is rendered in
French and in English and must hold no raw key of the code, no glossary key, no word and no
glossary label of the other language, and say its language in ``<html lang>`` (word lists:
``tests/page_words.py``).

Here: the committee cards of both tasks (as built and as reviewed) and the explanation
sheets, from the pure steps on the shared small simulated CSS. The pages of the README chain
(virtual CSS report, school/CSS/ministry reports, sheets, card of a tracked run) are checked
in ``tests/test_readme_chain.py``; a dataset spec's card in ``tests/external``.
"""

from __future__ import annotations

import datetime as dt
import warnings

import pytest
from page_words import language_problems

LANGS = ("fr", "en")


@pytest.fixture(scope="module")
def made(small_evidence):
    from cin_ml.errors import SmallGroupWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallGroupWarning)
        warnings.simplefilter("ignore", UserWarning)
        return {task: small_evidence(task, suppress_below=20)
                for task in ("ecriture_4e", "decrochage")}


@pytest.fixture(scope="module")
def pages(made):
    """``{name: (html, lang)}`` for every page made from the evidence."""
    from cin_ml.cards import Review, build_card, load_sections, render_html, render_reviewed
    from cin_ml.explain import render_sheet

    out = {}
    for task, m in made.items():
        card = build_card(m.evidence, load_sections(task))
        for lang in LANGS:
            out[f"card.{task}.{lang}"] = (render_html(card, lang), lang)
        review = Review(status="approved", model_name="cin-x", model_version="3",
                        reviewer="a.tremblay", decided_at="2026-11-30T10:00:00+00:00",
                        comment="Pilote supervisé", conditions="Revue trimestrielle",
                        expires="2027-06-30", author="ds.lavoie", aliases=("champion",))
        for path, html in render_reviewed(card, review).items():
            lang = path.rsplit(".", 2)[-2]
            out[f"reviewed.{task}.{lang}"] = (html, lang)
        # the same approval past its end date, withdrawn by governance check
        expired = review.model_copy(update={"status": "expired", "aliases": ()})
        for path, html in render_reviewed(card, expired).items():
            lang = path.rsplit(".", 2)[-2]
            out[f"reviewed.{task}.expired.{lang}"] = (html, lang)
        flagged = [s for s in m.cohort.students if s.reasons][:1]
        for s in flagged:
            for lang in LANGS:
                out[f"sheet.{task}.{lang}"] = (render_sheet(
                    s, lang=lang, task=task, contact="Mme Tremblay", model_ref="cin-x v3",
                    produced=dt.date(2026, 11, 30)), lang)
    return out


def test_every_page_was_made(pages):
    kinds = {name.split(".")[0] for name in pages}
    assert kinds == {"card", "reviewed", "sheet"}
    assert len(pages) == 16


@pytest.mark.parametrize("kind", ["card", "reviewed", "sheet"])
def test_every_page_speaks_one_language(pages, kind):
    bad = {name: language_problems(html, lang) for name, (html, lang) in pages.items()
           if name.startswith(kind + ".")}
    bad = {k: v for k, v in bad.items() if v}
    assert not bad, bad


def test_the_checker_catches_what_the_issue_found():
    """The faults the browser review found, planted in a page: each is named."""
    page = ('<html lang="fr"><body><p>Calibration : platt · none · virtual · (unknown) · '
            'FINISHED</p><p>fnr calibration_gap dcr_closer_to_training decrochage.auc_ratio '
            '</p><p>Mean mark in reading, grade 1</p><script>var the_key = 1</script>'
            '</body></html>')
    found = "\n".join(language_problems(page, "fr"))
    for needle in ("'fnr'", "'none'", "'virtual'", "'unknown'", "'finished'", "'calibration_gap'",
                   "'dcr_closer_to_training'", "'decrochage.auc_ratio'", "Mean mark"):
        assert needle in found, needle
    assert "the_key" not in found                       # scripts are not read
    assert language_problems(page.replace('lang="fr"', 'lang="en"'), "fr")[0].startswith(
        "<html lang>")
