"""The human-written sections of a card: ``configs/cards/<task>.toml``, filled in by the data
scientist (intended use, out-of-scope uses, human oversight, recourse, ethical
considerations, caveats, provenance facts the run cannot know), in French and English.

Empty text, or text still holding a placeholder (``TODO``, ``À COMPLÉTER``, ``TO BE
COMPLETED``), counts as missing for the completeness check.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field

from cin_ml.cards._schema import Agreement, Text
from cin_ml.config import Settings, config_dir, load_settings, packaged_config_dir
from cin_ml.errors import ConfigError

__all__ = ["CardSections", "is_blank", "load_sections", "sections_path"]

_PLACEHOLDER = re.compile(r"\b(TODO|TBD|FIXME)\b|À COMPLÉTER|A COMPLETER|TO BE COMPLETED",
                          re.IGNORECASE)


def is_blank(text: str | None) -> bool:
    """True when ``text`` is empty, whitespace or still a placeholder."""
    return text is None or not text.strip() or bool(_PLACEHOLDER.search(text))


class LocalText(Settings):
    fr: str = ""
    en: str = ""

    def text(self) -> Text:
        return Text(fr=self.fr.strip(), en=self.en.strip())


class IntendedUseSection(Settings):
    primary_uses: LocalText = LocalText()
    primary_users: LocalText = LocalText()
    out_of_scope: tuple[LocalText, ...] = ()


class RecourseSection(Settings):
    how: LocalText = LocalText()
    contact: LocalText = LocalText()


class AgreementEntry(Settings):
    agreement_id: str
    css_id: str
    dataset: Literal["academic_results", "absences", "workforce"]
    purpose: str = ""
    valid_until: str = Field(default="", pattern=r"^(\d{4}-\d{2}-\d{2})?$")
    signatory: str = ""

    def record(self) -> Agreement:
        return Agreement(**self.model_dump())


class ProvenanceSection(Settings):
    """Facts about the data the run cannot know. ``origin`` is a declaration; the card shows
    it as declared unless the run's own evidence (a ground truth) proves a simulation."""

    origin: Literal["simulated", "real", "unknown"] = "unknown"
    css: tuple[str, ...] = ()
    agreements: tuple[AgreementEntry, ...] = ()
    retention: LocalText = LocalText()


class CardSections(Settings):
    """``configs/cards/<task>.toml``: everything a person writes on the card."""

    task: str
    prepared_by: str = ""
    intended_use: IntendedUseSection = IntendedUseSection()
    relevant_factors: LocalText = LocalText()
    human_oversight: LocalText = LocalText()
    recourse: RecourseSection = RecourseSection()
    ethical_considerations: LocalText = LocalText()
    caveats: LocalText = LocalText()
    provenance: ProvenanceSection = ProvenanceSection()


def sections_path(task: str) -> Path:
    """``configs/cards/<task>.toml`` in the active config folder."""
    return config_dir() / "cards" / f"{task}.toml"


def load_sections(task: str, path: Path | str | None = None) -> CardSections:
    """Load the human sections of ``task`` (``path`` overrides the config folder).

    Raises
    ------
    ConfigError
        Missing file, invalid TOML, unknown key, or a file written for another task.
    """
    p = Path(path) if path is not None else sections_path(task)
    if not p.is_file():
        model = packaged_config_dir() / "cards" / "ecriture_4e.toml"
        raise ConfigError(f"card sections file not found: {p} (copy {model} and fill it in "
                          f"for task '{task}')")
    s = load_settings(CardSections, "cards", p)
    if s.task != task:
        raise ConfigError(f"{p}: written for task '{s.task}', not '{task}'")
    return s
