"""Canonical JSON, SHA-256 and the fr/en Markdown and HTML renderings of a card.

The SHA-256 is taken over the canonical JSON of the card (sorted keys, compact separators,
UTF-8, no rendering timestamp) *without* its ``review`` section, which the registry fills
after the hash has been recorded; the decision is thus tied to the exact evidence. Rendering
is deterministic: the same card always gives the same bytes (figures are PNGs without
metadata).
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from functools import cache

from cin_ml.cards._plots import card_figures
from cin_ml.cards._schema import ModelCard
from cin_ml.cards._view import view
from cin_ml.errors import ConfigError, DataError
from cin_ml.run_contract import Artifact

__all__ = ["LANGS", "CardRendering", "canonical_json", "card_json", "card_sha256",
           "load_card", "render_card", "render_html", "render_markdown"]

LANGS = ("fr", "en")


def _check_lang(lang: str) -> None:
    if lang not in LANGS:
        raise ConfigError(f"[cards] language must be one of {', '.join(LANGS)}; got '{lang}'")


def _dump(card: ModelCard, exclude: set[str]) -> dict:
    # a CSS task's card has no ``subject``: leaving the key out keeps its JSON and its hash
    # what they were before dataset specs had one
    return card.model_dump(mode="json", exclude=exclude | ({"subject"} if card.subject is None
                                                            else set()))


def canonical_json(card: ModelCard) -> str:
    """The hashed form: the card without ``review``, sorted keys, compact, UTF-8."""
    data = _dump(card, {"review"})
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def card_sha256(card: ModelCard) -> str:
    """SHA-256 (hex) of :func:`canonical_json`."""
    return hashlib.sha256(canonical_json(card).encode("utf-8")).hexdigest()


def card_json(card: ModelCard) -> str:
    """``card.json``: the whole card (with ``review``), indented, sorted keys."""
    return json.dumps(_dump(card, set()), sort_keys=True, indent=2,
                      ensure_ascii=False, allow_nan=False) + "\n"


def load_card(text: str | bytes) -> ModelCard:
    """A card back from its JSON (``card.json``).

    Raises
    ------
    DataError
        Not a valid card (the message names the first failing field).
    """
    from pydantic import ValidationError

    try:
        return ModelCard.model_validate_json(text)
    except ValidationError as exc:
        e = exc.errors()[0]
        raise DataError(f"card.json is not a valid model card: "
                        f"{'.'.join(map(str, e['loc']))}: {e['msg']}") from None


@cache
def _env(kind: str):
    from jinja2 import Environment, PackageLoader, StrictUndefined

    # templates end in .j2, so autoescape is set by kind (select_autoescape would miss them)
    return Environment(loader=PackageLoader("cin_ml.cards", "templates"),
                       autoescape=kind == "html",
                       undefined=StrictUndefined, trim_blocks=False, lstrip_blocks=False,
                       keep_trailing_newline=True)


def _tidy(md: str) -> str:
    lines, blank = [], 0
    for line in md.splitlines():
        blank = blank + 1 if not line.strip() else 0
        if blank <= 1:
            lines.append(line.rstrip())
    return "\n".join(lines).strip() + "\n"


def render_markdown(card: ModelCard, lang: str = "fr") -> str:
    """The card as Markdown in ``lang`` (first the summary, then the detail)."""
    _check_lang(lang)
    ctx = view(card, lang) | {"sha256": card_sha256(card)}
    return _tidy(_env("md").get_template("card.md.j2").render(**ctx))


def render_html(card: ModelCard, lang: str = "fr",
                figures: dict[str, bytes] | None = None) -> str:
    """The card as one self-contained HTML page in ``lang`` (figures embedded as base64,
    print stylesheet: the summary fits the first page)."""
    _check_lang(lang)
    figs = card_figures(card, lang) if figures is None else figures
    b64 = {k: base64.b64encode(v).decode("ascii") for k, v in figs.items()}
    ctx = view(card, lang, b64) | {"sha256": card_sha256(card)}
    return _env("html").get_template("card.html.j2").render(**ctx)


@dataclass(frozen=True)
class CardRendering:
    """All outputs of a card, keyed by their artifact path under ``card/``."""

    sha256: str
    files: dict[str, str]

    def file(self, name: str) -> str:
        return self.files[Artifact.card_file(name)]


def render_card(card: ModelCard) -> CardRendering:
    """``card/card.json``, ``card/card.sha256`` and ``card/card.{fr,en}.{md,html}``."""
    sha = card_sha256(card)
    files = {Artifact.CARD_JSON.value: card_json(card), Artifact.CARD_SHA.value: sha + "\n"}
    for lang in LANGS:
        files[Artifact.card_markdown(lang)] = render_markdown(card, lang)
        files[Artifact.card_html(lang)] = render_html(card, lang)
    return CardRendering(sha, files)
