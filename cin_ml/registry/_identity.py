"""Identities: one normal form, one safe character set (separation of duties compares
normalized identities, so case, width or homoglyph variants never pass for another person)."""

from __future__ import annotations

import re
import unicodedata

from cin_ml.errors import GovernanceError

_IDENTITY = re.compile(r"[a-z0-9][a-z0-9._@:+-]{0,99}")


def normalize_identity(raw: str) -> str:
    """An identity as compared everywhere: NFKC, case-folded, stripped (``""`` if blank)."""
    return unicodedata.normalize("NFKC", raw or "").casefold().strip()


def check_identity(who: str, role: str) -> str:
    """``who`` normalized, or GovernanceError when it is outside the safe character set
    (ASCII letters, digits and ``._@:+-``, 1-100 characters, starting with a letter or
    digit): a homoglyph such as a Cyrillic ``а`` never passes for a Latin ``a``."""
    norm = normalize_identity(who)
    if not _IDENTITY.fullmatch(norm):
        odd = sorted({c for c in norm if not (c.isascii() and (c.isalnum() or c in "._@:+-"))})
        why = (f"non-ASCII or unsafe character(s) {', '.join(f'U+{ord(c):04X}' for c in odd)}"
               if odd else "1-100 characters, starting with a letter or digit")
        raise GovernanceError(f"{role} identity refused ({why}): identities are ASCII "
                              f"letters, digits and ._@:+- only")
    return norm
