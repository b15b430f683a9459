"""Model cards for the ethics committee: a typed schema (Mitchell et al. + governance
sections), built from a run's evidence and the human-written sections, checked for
completeness, rendered in French (default) and English as Markdown, self-contained HTML and
JSON, and hashed (SHA-256 over the canonical JSON, ``review`` excluded).

::

    sections = load_sections("ecriture_4e")               # configs/cards/ecriture_4e.toml
    card = build_card(CardEvidence(run=..., model_meta=..., evaluation=..., fairness=...,
                                   explain=...), sections)
    card.status, card.gaps                                 # "draft" + what is missing
    out = render_card(card)                                # out.files["card/card.fr.html"]
    render_reviewed(card, Review(status="approved", ...))  # card/reviewed/card.{fr,en}.html
    print_pdf({"fr": out.file("card.fr.html")})             # A4 PDF bytes (Chromium)

The package takes plain data (dicts from the run's artifacts); it never imports mlflow or
``cin_ml.tracking``: :func:`cin_ml.pipeline.run_card` does the wiring.
"""

from cin_ml.cards._build import CardEvidence, IncompleteCardError, build_card
from cin_ml.cards._complete import find_gaps
from cin_ml.cards._monitoring import render_monitoring_report, render_monitoring_section
from cin_ml.cards._pdf import chromium_path, print_pdf
from cin_ml.cards._plots import card_figures
from cin_ml.cards._render import (
    LANGS,
    CardRendering,
    canonical_json,
    card_json,
    card_sha256,
    load_card,
    render_card,
    render_html,
    render_markdown,
)
from cin_ml.cards._reviewed import render_reviewed
from cin_ml.cards._schema import SCHEMA_VERSION, Gap, ModelCard, Review, Text
from cin_ml.cards._sections import CardSections, is_blank, load_sections, sections_path

__all__ = [
    "LANGS",
    "SCHEMA_VERSION",
    "CardEvidence",
    "CardRendering",
    "CardSections",
    "Gap",
    "IncompleteCardError",
    "ModelCard",
    "Review",
    "Text",
    "build_card",
    "canonical_json",
    "card_figures",
    "card_json",
    "card_sha256",
    "chromium_path",
    "find_gaps",
    "is_blank",
    "load_card",
    "load_sections",
    "render_monitoring_report",
    "render_monitoring_section",
    "print_pdf",
    "render_card",
    "render_html",
    "render_markdown",
    "render_reviewed",
    "sections_path",
]
