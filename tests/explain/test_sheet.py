"""The one-page explanation sheet (fr/en): required sections, escaping, no identifier."""

from __future__ import annotations

import re
from datetime import date

import numpy as np
import pytest

from cin_ml.errors import PolicyError
from cin_ml.explain import (
    StudentExplanation,
    explain_students,
    family_map,
    reference_values,
    render_sheet,
)


@pytest.fixture(scope="module")
def student(data, booster):
    df, _ = data
    sid = df.index[int(np.argmax(booster.predict(df)))]
    (s,) = explain_students(booster, df, [sid], families=family_map(list(df.columns)),
                            reference=reference_values(df), flagged={sid: True})
    assert s.reasons
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


def test_unflagged_sheet_says_the_model_does_not_flag_them(data, booster):
    df, _ = data
    sid = df.index[int(np.argmin(booster.predict(df)))]
    (s,) = explain_students(booster, df, [sid], families=family_map(list(df.columns)),
                            reference=reference_values(df), flagged={sid: False})
    assert not s.reasons
    html = render_sheet(s, task="decrochage", contact="x").replace("&#39;", "'")
    assert "Le modèle ne signale pas cet élève" in html
    assert "Facteurs de risque" in html and "Aucun facteur de risque notable" in html
    assert "Soutien en" not in html  # no subject support recommended
    en = render_sheet(s, lang="en", task="decrochage", contact="x").replace("&#39;", "'")
    assert "The model does not flag this student" in en and "No notable risk factor" in en
    assert "Soutien" not in en and "élève" not in en


def test_flagged_sheet_gives_weights_and_materiality(student):
    html = render_sheet(student, task="ecriture_4e", contact="x", materiality_points=1.0)
    assert "points)" in html and "au moins 1 point" in html
    en = render_sheet(student, lang="en", task="ecriture_4e", contact="x")
    assert "at least 1 point" in en


def test_sheet_names_the_id_for_what_it_is(student):
    assert "Élève (code pseudonyme)" in render_sheet(student, task="ecriture_4e",
                                                     contact="x")
    rec = render_sheet(student, task="ecriture_4e", contact="x", id_kind="record")
    assert "pseudonym" not in rec and "numéro de dossier de l&#39;école" in rec
    en = render_sheet(student, lang="en", task="ecriture_4e", contact="x", id_kind="record")
    assert "Student (school record number)" in en and "pseudonym" not in en
    syn = render_sheet(student, lang="en", task="ecriture_4e", contact="x",
                       id_kind="synthetic")
    assert "virtual-data record" in syn
    with pytest.raises(PolicyError, match="id_kind"):
        render_sheet(student, task="ecriture_4e", contact="x", id_kind="name")
