"""The card as a reader finds it after the committee's decision: the pinned card with its
review section filled. The pinned files (``card/card.*``) are never rewritten; this rendering
lives beside them (``card/reviewed/``) and names the pinned card's SHA-256, which the review
section does not change (it is outside the hash)."""

from __future__ import annotations

import base64
import re

from cin_ml.cards._render import LANGS, card_sha256, render_html
from cin_ml.cards._schema import ModelCard, Review
from cin_ml.run_contract import Artifact

__all__ = ["render_reviewed"]


_FIGURE = re.compile(r'data-figure="(\w+)" src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


def pinned_figures(html: str | bytes | None) -> dict[str, bytes] | None:
    """The figures embedded in a rendered card page (``None`` if it has none to give), so a
    review rendering reuses the pinned charts instead of drawing them again."""
    if not html:
        return None
    text = html.decode("utf-8") if isinstance(html, bytes) else html
    found = {name: base64.b64decode(data) for name, data in _FIGURE.findall(text)}
    return found or None


def render_reviewed(card: ModelCard, review: Review,
                    pinned_html: dict[str, str | bytes | None] | None = None) -> dict[str, str]:
    """``{artifact path: HTML}`` of ``card`` with ``review`` for each language.

    The hash shown in the page is the pinned card's: :func:`card_sha256` excludes ``review``.
    ``pinned_html`` (``{lang: the pinned card.<lang>.html}``) lends its charts (the figures do
    not depend on the review); without it they are drawn again.
    """
    reviewed = card.model_copy(update={"review": review})
    if card_sha256(reviewed) != card_sha256(card):
        raise ValueError("the review section must stay outside the card's hash")
    pinned_html = pinned_html or {}
    return {Artifact.card_reviewed_html(lang): render_html(
        reviewed, lang, figures=pinned_figures(pinned_html.get(lang))) for lang in LANGS}
