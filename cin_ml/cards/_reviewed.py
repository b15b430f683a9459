"""The card as a reader finds it after the committee's decision: the pinned card with its
review section filled. The pinned files (``card/card.*``) are never rewritten; this rendering
lives beside them (``card/reviewed/``) and names the pinned card's SHA-256, which the review
section does not change (it is outside the hash)."""

from __future__ import annotations

from cin_ml.cards._render import LANGS, card_sha256, render_html
from cin_ml.cards._schema import ModelCard, Review
from cin_ml.run_contract import Artifact

__all__ = ["render_reviewed"]


def render_reviewed(card: ModelCard, review: Review) -> dict[str, str]:
    """``{artifact path: HTML}`` of ``card`` with ``review`` for each language.

    The hash shown in the page is the pinned card's: :func:`card_sha256` excludes ``review``.
    """
    reviewed = card.model_copy(update={"review": review})
    assert card_sha256(reviewed) == card_sha256(card)
    return {Artifact.card_reviewed_html(lang): render_html(reviewed, lang) for lang in LANGS}
