"""Keyed pseudonyms: the secret key and HMAC-SHA-256 of identifier values.

A pseudonym is ``HMAC-SHA-256(key, "<namespace>\\x1f<value>")`` truncated to 96 bits and
written as ``<prefix>-<24 hex digits>``. The same key and value give the same pseudonym in
every table and every run, so joins still work and a later extract of the same CSS keyed with
the same secret links up; without the key, a pseudonym cannot be recomputed from a known
identifier (unlike a plain hash, which anyone can recompute from a code permanent).

The key comes, in this order, from an explicit key file, the environment variable
``CIN_ML_PSEUDONYM_KEY``, or, only when asked explicitly, the public demo key
:data:`DEMO_KEY` (which protects nothing: anyone can recompute its pseudonyms).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cin_ml.errors import ConfigError, PolicyError

__all__ = ["DEMO_KEY", "KEY_ENV_VAR", "PseudonymKey", "pseudonymize_values",
           "resolve_pseudonym_key"]

KEY_ENV_VAR = "CIN_ML_PSEUDONYM_KEY"
DEMO_KEY = "cin-ml-public-demo-key-NOT-SECRET-do-not-use-on-real-data"
"""Fixed, documented demo key: for simulated data only. Pseudonyms made with it are public."""

_PREFIX = {"student_id": "S", "teacher_id": "T", "class_group_id": "G"}


@dataclass(frozen=True)
class PseudonymKey:
    """A pseudonymization secret (never printed: ``repr`` hides it).

    Attributes
    ----------
    key_id : str
        Public fingerprint (HMAC of a fixed label) to check that two outputs were keyed with
        the same secret, without revealing it.
    source : str
        ``"file:<path>"``, ``"env:CIN_ML_PSEUDONYM_KEY"`` or ``"demo"``.
    demo : bool
        True for the public demo key.
    """

    secret: bytes = field(repr=False)
    source: str
    demo: bool = False

    @property
    def key_id(self) -> str:
        return hmac.new(self.secret, b"cin-ml key id", hashlib.sha256).hexdigest()[:16]


def resolve_pseudonym_key(key_file: Path | str | None = None, demo: bool = False,
                          min_bytes: int = 16,
                          environ: Mapping[str, str] | None = None) -> PseudonymKey:
    """Find the pseudonymization key: key file, then ``$CIN_ML_PSEUDONYM_KEY``, then demo.

    Parameters
    ----------
    key_file
        File holding the secret (surrounding whitespace ignored). Must not lie inside the
        output folder; the caller checks that (see ``pipeline.run_deidentify``).
    demo
        Allow the public :data:`DEMO_KEY` when no key is configured. Never for real data.
    min_bytes
        Minimum secret length.
    environ
        Environment to read (``os.environ`` by default).

    Raises
    ------
    PolicyError
        No key and no demo flag, or a key that is too short.
    """
    env = os.environ if environ is None else environ
    if key_file is not None:
        p = Path(key_file)
        if not p.is_file():
            raise ConfigError(f"pseudonym key file not found: {p}")
        secret, source = p.read_bytes().strip(), f"file:{p}"
    elif env.get(KEY_ENV_VAR):
        secret, source = env[KEY_ENV_VAR].strip().encode(), f"env:{KEY_ENV_VAR}"
    elif demo:
        return PseudonymKey(DEMO_KEY.encode(), "demo", demo=True)
    else:
        raise PolicyError(
            f"no pseudonymization key: set {KEY_ENV_VAR} or pass --key-file (a file outside "
            "the output folder); --demo-key uses a public key, for simulated data only")
    if len(secret) < min_bytes:
        raise PolicyError(f"pseudonymization key from {source} is {len(secret)} bytes; "
                          f"at least {min_bytes} are required")
    return PseudonymKey(secret, source)


def pseudonymize_values(values: pd.Series, key: PseudonymKey, namespace: str) -> pd.Series:
    """Replace each value by its keyed pseudonym (nulls stay null); same index.

    ``namespace`` (usually the column name) separates id spaces: a student and a teacher
    with the same raw id get unrelated pseudonyms.
    """
    prefix = _PREFIX.get(namespace, "P")
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    ns = namespace.encode() + b"\x1f"
    mapped = np.array([
        f"{prefix}-{hmac.new(key.secret, ns + str(u).encode(), hashlib.sha256).hexdigest()[:24]}"
        for u in uniques
    ], dtype=object)
    if len(set(mapped)) != len(mapped):  # 96 bits: never in practice, but never silently
        raise PolicyError(f"pseudonym collision in '{namespace}'; use a different key")
    out = np.full(len(values), None, dtype=object)
    ok = codes >= 0
    out[ok] = mapped[codes[ok]]
    return pd.Series(out, index=values.index, name=values.name, dtype=object)
