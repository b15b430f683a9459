"""The card tells the truth about its state: after review and promotion the registry renders
the pinned card with the decision (card/reviewed/), and the pinned card files stay byte for
byte what registration hashed, so the card gate still passes."""

from __future__ import annotations

import datetime as dt

import pytest

from cin_ml.registry import promote, register, review
from cin_ml.run_contract import Artifact

from ._runs import AUTHOR

M = "cin-ecriture-4e"


pytestmark = pytest.mark.usefixtures("fresh_artifact_repos")


def _raw(ctx, rid, path):
    """The bytes the store holds now (a fresh download, no reader cache)."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        try:
            return Path(ctx.client.download_artifacts(rid, path, tmp)).read_bytes()
        except Exception:
            return None


def test_approve_and_promote_show_in_the_reviewed_card(ctx, runs):
    rid = runs["ready"]
    reg = register(ctx, rid, author=AUTHOR)
    pinned = {p: _raw(ctx, rid, p) for p in Artifact.card_files()}
    rv = review(ctx, M, reg["version"], reviewer="a.tremblay", approve=True,
                comment="Pilote supervisé", conditions="Revue trimestrielle des faux négatifs",
                expires=dt.date(2026, 12, 31))
    assert rv["reviewed_card"]["files"] == sorted(Artifact.card_reviewed_files())
    listed = [f.path for f in ctx.client.list_artifacts(rid, "card/reviewed")]
    assert listed == sorted(Artifact.card_reviewed_files()), listed
    fr = _raw(ctx, rid, Artifact.card_reviewed_html("fr")).decode()
    assert "Approuvé" in fr and "a.tremblay" in fr and "31 décembre 2026" in fr
    assert "Revue trimestrielle des faux négatifs" in fr and "pas en service" in fr
    assert reg["card_sha256"] in fr

    pr = promote(ctx, M, reg["version"], operator="ops.bouchard")
    assert pr["gates"]["ok"]
    fr = _raw(ctx, rid, Artifact.card_reviewed_html("fr")).decode()
    en = _raw(ctx, rid, Artifact.card_reviewed_html("en")).decode()
    assert "en service (modèle de production)" in fr
    assert "Approved" in en and "December 31, 2026" in en and "serving (production model)" in en
    assert "Non révisé" not in fr
    # the pinned files are untouched: the card gate passes on a second promotion check
    assert {p: _raw(ctx, rid, p) for p in Artifact.card_files()} == pinned
    again = promote(ctx, M, reg["version"], alias="challenger", operator="ops.bouchard")
    card_gate = [g for g in again["gates"]["results"] if g["gate"] == "card"][0]
    assert card_gate["ok"] and "unchanged since registration" in card_gate["detail"]


def test_a_rejection_shows_who_and_why(ctx, runs):
    rid = runs["ready"]
    reg = register(ctx, rid, author=AUTHOR)
    review(ctx, M, reg["version"], reviewer="a.tremblay", approve=False,
           comment="Écarts de faux négatifs trop grands")
    fr = _raw(ctx, rid, Artifact.card_reviewed_html("fr")).decode()
    assert "Rejeté" in fr and "Écarts de faux négatifs trop grands" in fr
    assert "Approbation valide" not in fr


def test_cin_ml_card_copies_the_reviewed_card_only_for_the_same_card(ctx, runs, tmp_path):
    """``cin-ml card --out DIR`` after the decision: the same card (same hash) gets the
    committee's reviewed copy beside it; a card built differently (other sections: another
    hash) does not, since that copy describes the pinned card, not this one."""
    from cin_ml.pipeline import run_card

    from ._runs import _draft_sections

    rid = runs["ready"]
    reg = register(ctx, rid, author=AUTHOR)
    review(ctx, M, reg["version"], reviewer="a.tremblay", approve=True, comment="ok",
           expires=dt.date(2026, 12, 31))
    same = run_card(rid, out=tmp_path / "same", log=False)
    assert same["sha256"] == reg["card_sha256"]
    assert same["reviewed_html"] == str(tmp_path / "same" / rid / "reviewed" / "card.fr.html")
    html = (tmp_path / "same" / rid / "reviewed" / "card.fr.html").read_text(encoding="utf-8")
    assert "Approuvé" in html and "a.tremblay" in html and reg["card_sha256"] in html
    assert (tmp_path / "same" / rid / "reviewed" / "card.en.html").is_file()

    other = run_card(rid, out=tmp_path / "other", log=False,
                     sections=_draft_sections(tmp_path))
    assert other["sha256"] != reg["card_sha256"]
    assert other["reviewed_html"] is None
    assert not (tmp_path / "other" / rid / "reviewed").exists()
