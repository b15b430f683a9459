"""A-posteriori harmonization: map each CSS's free-text absence reasons to the network
nomenclature with ordered rules, then fuzzy matching (rapidfuzz) of the remaining words.

Each distinct ``(css_id, reason_raw)`` is classified once; the result keeps how each string
was mapped (``rule``, ``fuzzy``, ``ambiguous`` or ``unmapped``) so that a per-CSS report of
unmapped and ambiguous strings can be reviewed and the rules extended in
``configs/harmonize.toml``.

A feature step (:func:`cin_ml.features.build_features` harmonizes an extract that has no
``reason_category``); the virtual CSS's student table uses it too.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from pydantic import Field, model_validator

from cin_ml.config import Settings, load_settings
from cin_ml.errors import SchemaError
from cin_ml.schema import require_columns

__all__ = ["Harmonization", "HarmonizeRule", "HarmonizeSettings", "harmonize_absences",
           "load_harmonize_settings", "normalize_reason", "score_harmonization"]


class HarmonizeRule(Settings):
    category: str
    patterns: tuple[str, ...]


class HarmonizeSettings(Settings):
    """``[harmonize]`` of ``configs/harmonize.toml``."""

    categories: tuple[str, ...]
    fallback: str = "autre"
    fuzzy_min_score: float = Field(82.0, ge=0, le=100)
    ambiguity_margin: float = Field(4.0, ge=0, le=100)
    min_word_length: int = Field(4, ge=1)
    rules: tuple[HarmonizeRule, ...] = ()
    lexicon: dict[str, tuple[str, ...]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_categories(self):
        named = {r.category for r in self.rules} | set(self.lexicon) | {self.fallback}
        unknown = sorted(named - set(self.categories))
        if unknown:
            raise ValueError(f"unknown category(ies) {unknown}; declared: "
                             f"{list(self.categories)}")
        for r in self.rules:
            for p in r.patterns:
                try:
                    re.compile(p)
                except re.error as exc:
                    raise ValueError(f"rule {r.category}: bad pattern {p!r} ({exc})") from None
        return self


def load_harmonize_settings(path: Path | str | None = None) -> HarmonizeSettings:
    """Load ``configs/harmonize.toml`` (or ``path``), section ``[harmonize]``."""
    return load_settings(HarmonizeSettings, "harmonize", path, section="harmonize")


def normalize_reason(text: str) -> str:
    """Lower-case, strip accents, turn punctuation into spaces, collapse spaces."""
    t = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode().lower()
    t = re.sub(r"[^a-z0-9]+", " ", t)
    return " ".join(t.split())


@dataclass(frozen=True)
class Harmonization:
    """Mapping of every distinct ``(css_id, reason_raw)`` to a category.

    ``mapping`` columns: css_id, reason_raw, normalized, category, method, score,
    n_records.
    """

    mapping: pd.DataFrame
    categories: tuple[str, ...]

    def apply(self, absences: pd.DataFrame) -> pd.DataFrame:
        """Return ``absences`` with a ``reason_category`` column (the category depends on
        the raw string only; the CSS splits the report)."""
        by_raw = (self.mapping.sort_values("n_records", ascending=False)
                  .drop_duplicates("reason_raw").set_index("reason_raw")["category"])
        cat = absences["reason_raw"].map(by_raw).fillna("autre")
        return absences.assign(reason_category=pd.Categorical(cat, categories=self.categories))

    def report(self) -> pd.DataFrame:
        """Unmapped and ambiguous strings per CSS (most frequent first)."""
        bad = self.mapping.loc[self.mapping["method"].isin(("unmapped", "ambiguous"))]
        return bad.sort_values(["css_id", "n_records"], ascending=[True, False]).reset_index(
            drop=True)

    def summary(self) -> dict:
        m = self.mapping
        n = int(m["n_records"].sum())
        by_method = m.groupby("method")["n_records"].sum()
        per_css = {}
        for css, g in m.groupby("css_id", sort=True):
            tot = int(g["n_records"].sum())
            bad = g["method"].isin(("unmapped", "ambiguous"))
            per_css[str(css)] = {"n_records": tot, "n_strings": int(len(g)),
                                 "n_unmapped_strings": int(bad.sum()),
                                 "share_records_unmapped":
                                     round(float(g.loc[bad, "n_records"].sum() / tot), 6)
                                     if tot else 0.0}
        return {"n_records": n, "n_strings": int(len(m)),
                "records_by_method": {k: int(v) for k, v in sorted(by_method.items())},
                "per_css": per_css}

    def to_dict(self) -> dict:
        return self.summary()


def _classify(norm: str, settings: HarmonizeSettings, compiled, lexicon):
    from rapidfuzz import fuzz

    for cat, pats in compiled:
        if any(p.search(norm) for p in pats):
            return cat, "rule", 100.0
    best: dict[str, float] = {}
    for cat, entries in lexicon.items():
        phrases = [e for e in entries if " " in e]
        if phrases:
            best[cat] = max(fuzz.ratio(norm, e) for e in phrases)
    for word in norm.split():
        if len(word) < settings.min_word_length:
            continue
        for cat, words in lexicon.items():
            s = max(fuzz.ratio(word, w) for w in words)
            if s > best.get(cat, 0.0):
                best[cat] = s
    ranked = sorted(best.items(), key=lambda kv: -kv[1])
    if not ranked or ranked[0][1] < settings.fuzzy_min_score:
        return settings.fallback, "unmapped", ranked[0][1] if ranked else 0.0
    if len(ranked) > 1 and ranked[0][1] - ranked[1][1] <= settings.ambiguity_margin:
        return settings.fallback, "ambiguous", ranked[0][1]
    return ranked[0][0], "fuzzy", ranked[0][1]


def harmonize_absences(absences: pd.DataFrame, students: pd.DataFrame,
                       settings: HarmonizeSettings | None = None) -> Harmonization:
    """Map the raw absence reasons of every CSS to the network nomenclature.

    Parameters
    ----------
    absences
        The ``absences`` table (``student_id``, ``reason_raw``).
    students
        The ``students`` table (``student_id``, ``css_id``): gives each record its CSS.
    settings
        Rules, lexicon and thresholds; ``configs/harmonize.toml`` when ``None``.

    Returns
    -------
    Harmonization
        One row per distinct (css_id, reason_raw) with its category and method.
    """
    settings = settings or load_harmonize_settings()
    frames = {"absences": absences, "students": students}
    require_columns(frames, "absences", ("student_id", "reason_raw"))
    require_columns(frames, "students", ("student_id", "css_id"))
    css = absences["student_id"].map(students.set_index("student_id")["css_id"])
    counts = (pd.DataFrame({"css_id": css.astype("string").fillna("?"),
                            "reason_raw": absences["reason_raw"].astype("string").fillna("")})
              .value_counts().rename("n_records").reset_index())
    compiled = [(r.category, [re.compile(p) for p in r.patterns]) for r in settings.rules]
    lexicon = {c: tuple(normalize_reason(w) for w in ws) for c, ws in settings.lexicon.items()}
    cache: dict[str, tuple[str, str, float]] = {}
    rows = []
    for raw in counts["reason_raw"]:
        norm = normalize_reason(raw)
        if norm not in cache:
            cache[norm] = _classify(norm, settings, compiled, lexicon)
        rows.append((norm, *cache[norm]))
    out = pd.concat([counts, pd.DataFrame(rows, columns=["normalized", "category", "method",
                                                         "score"])], axis=1)
    out = out[["css_id", "reason_raw", "normalized", "category", "method", "score",
               "n_records"]].sort_values(["css_id", "reason_raw"]).reset_index(drop=True)
    return Harmonization(out, tuple(settings.categories))


def score_harmonization(result: Harmonization, truth: pd.DataFrame) -> dict:
    """Score a harmonization against the true nomenclature (``css_id, reason_raw,
    category``), weighting each string by its number of records.

    Returns ``coverage`` (share of records whose true category is not ``autre`` that were
    mapped to a category other than ``autre``) and ``accuracy`` (share of records mapped to
    their true category).
    """
    t = truth[["css_id", "reason_raw", "category"]].astype("string").rename(
        columns={"category": "true"})
    m = result.mapping.astype({"css_id": "string", "reason_raw": "string"}).merge(
        t, on=["css_id", "reason_raw"], how="left")
    if m["true"].isna().any():
        n = int(m["true"].isna().sum())
        raise SchemaError(f"truth absence_reasons: {n} (css_id, reason_raw) pair(s) missing")
    w = m["n_records"]
    not_autre = m["true"] != "autre"
    return {"coverage": float(w[not_autre & (m["category"] != "autre")].sum()
                              / w[not_autre].sum()),
            "accuracy": float(w[m["category"] == m["true"]].sum() / w.sum()),
            "n_records": int(w.sum())}
