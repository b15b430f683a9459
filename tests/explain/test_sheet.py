"""The one-page explanation sheet (fr/en): required sections, escaping, no identifier."""

from __future__ import annotations

import re
from datetime import date

import pytest

from cin_ml.errors import PolicyError
from cin_ml.explain import (
    StudentExplanation,
    compute_contributions,
    explain_students,
    family_map,
    reference_values,
    render_sheet,
)


@pytest.fixture(scope="module")
def student(data, booster):
    df, _ = data
    c = compute_contributions(booster, df.iloc[:300], num_threads=1)
    (s,) = explain_students(c, df, [df.index[3]], families=family_map(list(df.columns)),
                            reference=reference_values(df), flagged={df.index[3]: True},
                            min_abs_contribution=0.0)
    return s


@pytest.mark.parametrize("lang,must", [
    ("fr", ["Qu'est-ce que cet outil", "Une personne décide", "Ce qui peut être fait",
            "À qui s'adresser", "Loi 25", "écriture de 4e année"]),
    ("en", ["What is this tool?", "A person decides", "What can be done", "Whom to ask",
            "Law 25", "grade-4 ministry writing exam"]),
])
def test_sheet_sections(student, lang, must):
    html = render_sheet(student, lang=lang, task="ecriture_4e", contact="Mme Tremblay",
                        model_ref="run r1", produced=date(2025, 6, 1))
    assert f'<html lang="{lang}">' in html
    for text in must:
        assert text in html.replace("&#39;", "'"), text
    assert student.student_id in html and "2025-06-01" in html
    for sentence in student.sentences(lang):
        assert sentence.replace("'", "&#39;") in html
    assert "Mme Tremblay" in html
    assert not re.search(r"https?://", html)  # self-contained


def test_contact_is_escaped(student):
    html = render_sheet(student, task="ecriture_4e", contact="<script>alert(1)</script>")
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_refuses_identifiers_and_unknown_language(student):
    fake = StudentExplanation("TREM12345678", 0.0, 0.0, None, None, (), ())
    with pytest.raises(PolicyError, match="code permanent"):
        render_sheet(fake, task="ecriture_4e", contact="x")
    with pytest.raises(PolicyError, match="lang"):
        render_sheet(student, lang="de", task="ecriture_4e", contact="x")


def test_sheet_without_reasons_says_so(student):
    empty = StudentExplanation("P9", 0.0, -2.0, 0.1, False, (), ())
    html = render_sheet(empty, task="decrochage", contact="x")
    assert "Aucune donnée n'a augmenté" in html.replace("&#39;", "'")
    assert "ne suggère pas de suivi" in html
