"""Card fixtures: real evidence from the pure steps on the shared small simulated CSS."""

from __future__ import annotations

import pytest

# a cell size above the smallest test groups, so that suppression really happens
SUPPRESS_BELOW = 25  # pooled test cohorts: the anglophone group (~22 students) is small


@pytest.fixture(scope="session")
def made(small_evidence):
    return small_evidence("ecriture_4e", suppress_below=SUPPRESS_BELOW)


@pytest.fixture(scope="session")
def evidence(made):
    return made.evidence


@pytest.fixture(scope="session")
def sections():
    from cin_ml.cards import load_sections

    return load_sections("ecriture_4e")


@pytest.fixture(scope="session")
def card(evidence, sections):
    from cin_ml.cards import build_card

    return build_card(evidence, sections)


@pytest.fixture(scope="session")
def rendering(card):
    from cin_ml.cards import render_card

    return render_card(card)
