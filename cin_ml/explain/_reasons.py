"""Per-student reason codes and plain-language sentences (French and English).

Reasons are the features with the largest contributions toward risk (and, separately, the
largest protective ones). Each becomes a sentence from the Jinja2 template of its family
(``templates/reasons.{fr,en}.j2``) with the student's value and a reference: the median of
the students explained at the same prediction point (same grade). A sensitive attribute is
named only if it is an approved feature, and then the sentence says so; otherwise the
sentence says a protected factor played a part without naming it or giving its value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from cin_ml.features import FeatureName

from ._contrib import Contributions
from ._features import describe_feature
from ._render import text_template

LANGS = ("fr", "en")
_WS = re.compile(r"[ \t\r\n]+")
_EDU = {"fr": ("aucun diplôme", "secondaire", "collégial", "universitaire"),
        "en": ("no diploma", "secondary", "college", "university")}
_NA = {"fr": "non disponible", "en": "not available"}
_YES = {"fr": ("non", "oui"), "en": ("no", "yes")}


@dataclass(frozen=True)
class Reason:
    """One reason code for one student."""

    code: str
    feature: str
    family: str
    value: float | None
    reference: float | None
    contribution: float
    direction: str
    sensitive: bool
    approved: bool
    text_fr: str
    text_en: str

    @property
    def named(self) -> bool:
        """False when a non-approved sensitive attribute is withheld from the text."""
        return not self.sensitive or self.approved

    def text(self, lang: str = "fr") -> str:
        return self.text_fr if lang == "fr" else self.text_en

    def to_dict(self) -> dict:
        named = self.named
        return {"code": self.code, "feature": self.feature if named else None,
                "family": self.family if named else None,
                "value": self.value if named else None,
                "reference": self.reference if named else None,
                "contribution": round(self.contribution, 8), "direction": self.direction,
                "sensitive": self.sensitive, "approved": self.approved,
                "text_fr": self.text_fr, "text_en": self.text_en}


@dataclass(frozen=True)
class StudentExplanation:
    """Why one student got the score they got (raw log-odds; calibrated score if known)."""

    student_id: str
    base_value: float
    raw_score: float
    score: float | None
    flagged: bool | None
    reasons: tuple[Reason, ...]
    protective: tuple[Reason, ...]

    def sentences(self, lang: str = "fr") -> list[str]:
        return [r.text(lang) for r in self.reasons]

    def to_dict(self) -> dict:
        return {"student_id": self.student_id, "base_value": round(self.base_value, 8),
                "raw_score": round(self.raw_score, 8),
                "score": None if self.score is None else round(self.score, 8),
                "flagged": self.flagged, "reasons": [r.to_dict() for r in self.reasons],
                "protective": [r.to_dict() for r in self.protective]}


def _num(x: float, lang: str, digits: int = 0) -> str:
    s = f"{x:.{digits}f}"
    return s.replace(".", ",").replace("-", "\u2212") if lang == "fr" else s


def _pct(x: float, lang: str, digits: int = 0) -> str:
    return _num(x, lang, digits) + ("\u00a0%" if lang == "fr" else "%")


def format_value(info: FeatureName, value: float | None, lang: str, *,
                 reference: bool = False) -> str:
    """Human form of a feature value (``reference`` formats a cohort median/share)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return _NA[lang]
    v = float(value)
    k = info.kind
    if k == "mark":
        return _pct(v, lang)
    if k == "trend":
        sign = "+" if v > 0 else ""
        unit = " points par bulletin" if lang == "fr" else " points per report card"
        return sign + _num(v, lang, 1) + unit
    if k == "volatility":
        return _num(v, lang, 1) + " points"
    if k == "absence_rate":
        return _pct(100 * v, lang, 1 if 100 * v < 10 else 0)
    if k == "plan":
        if reference:
            return (_pct(100 * v, lang) + (" en ont un" if lang == "fr" else " have one"))
        return _YES[lang][int(v >= 0.5)]
    if k in ("count", "count_below"):
        return _num(v, lang, 1 if reference and v != round(v) else 0)
    if k == "decile":
        return _num(v, lang, 1 if reference and v != round(v) else 0) + (
            " sur 10" if lang == "fr" else " of 10")
    if k == "education":
        i = int(round(v))
        return _EDU[lang][i] if 0 <= i < 4 else _num(v, lang)
    return _num(v, lang, 2)


_VALUE = "\x00value\x00"  # stands for the student's value while a sentence is cached


@lru_cache(maxsize=4096)
def _skeleton(info: FeatureName, reference: float | None, direction: str, lang: str,
              sensitive: bool, approved: bool) -> str:
    module = text_template(f"reasons.{lang}.j2").module
    ctx = {"kind": info.kind, "competency": info.competency, "grade": info.grade,
           "stat": info.stat, "detail": info.detail, "label": info.name, "value": _VALUE,
           "reference": (None if reference is None else
                         format_value(info, reference, lang, reference=True)),
           "direction": direction, "approved_sensitive": sensitive and approved}
    if sensitive and not approved:
        macro = module.withheld
    elif info.kind == "other" or not hasattr(module, info.family):
        macro = module.autre
    else:
        macro = getattr(module, info.family)
    return _WS.sub(" ", str(macro(ctx))).strip()  # keeps no-break spaces (58\u00a0%)


def _sentence(info: FeatureName, value, reference, direction: str, lang: str,
              sensitive: bool, approved: bool) -> str:
    """Sentence of one reason: the family template rendered once per feature, reference and
    direction (cached), with the student's formatted value put in its place."""
    skeleton = _skeleton(info, reference, direction, lang, sensitive, approved)
    return skeleton.replace(_VALUE, format_value(info, value, lang))


def reference_values(X: pd.DataFrame) -> dict[str, float | None]:
    """Reference shown beside a student's value: the median of each feature (the mean, i.e.
    the share, for 0/1 features), over the students at the same prediction point."""
    out: dict[str, float | None] = {}
    for c in X.columns:
        col = pd.to_numeric(X[c], errors="coerce").dropna()
        if col.empty:
            out[c] = None
        elif describe_feature(c).kind == "plan":
            out[c] = float(col.mean())
        else:
            out[c] = float(col.median())
    return out


def explain_students(contribs: Contributions, X: pd.DataFrame, student_ids: Sequence[str], *,
                     families: Mapping[str, str], reference: Mapping[str, float | None],
                     sensitive: Sequence[str] = (),
                     approved_sensitive: Sequence[str] = (), top_k: int = 3,
                     top_k_protective: int = 2, min_abs_contribution: float = 0.01,
                     scores: Mapping[str, float] | None = None,
                     flagged: Mapping[str, bool] | None = None
                     ) -> tuple[StudentExplanation, ...]:
    """Reason codes and sentences for ``student_ids``.

    Parameters
    ----------
    contribs
        Contributions covering every student of ``student_ids``.
    X
        Model inputs indexed by student id (the values quoted in sentences).
    families, reference
        ``{feature: family}`` and ``{feature: reference value}`` (``reference_values``).
    sensitive, approved_sensitive
        Sensitive features (``sensitive_features``) and those approved as model features
        (feature policy with a written justification). Only approved ones are named.
    top_k, top_k_protective, min_abs_contribution
        How many reasons toward risk / protective factors, and the smallest contribution
        (log-odds) worth a sentence.
    scores, flagged
        Optional calibrated score and flag per student, carried into the record.
    """
    sens, ok = set(sensitive), set(approved_sensitive)
    feats = contribs.features
    infos = [describe_feature(f, families.get(f)) for f in feats]
    ids = list(student_ids)
    values = X.loc[ids, list(feats)].apply(pd.to_numeric, errors="coerce").to_numpy(float)
    out = []
    for k, sid in enumerate(ids):
        i = contribs.row(sid)
        phi = contribs.values[i]

        def make(j: int, _k=k, _phi=phi) -> Reason:
            f, info = feats[j], infos[j]
            value = None if np.isnan(values[_k, j]) else float(values[_k, j])
            up = _phi[j] > 0
            direction = "increases" if up else "decreases"
            s, a = f in sens, f in ok
            code = (f"{info.family.upper()}:{f}:{'+' if up else '-'}" if not s or a
                    else f"PROTECTED:{'+' if up else '-'}")
            ref = reference.get(f)
            return Reason(code, f, info.family, value, ref, float(_phi[j]), direction, s, a,
                          *(_sentence(info, value, ref, direction, lang, s, a)
                            for lang in LANGS))

        order = np.argsort(-phi, kind="stable")
        up = [make(j) for j in order[:top_k] if phi[j] > min_abs_contribution]
        down = [make(j) for j in order[::-1][:top_k_protective]
                if phi[j] < -min_abs_contribution]
        out.append(StudentExplanation(
            str(sid), contribs.base_value, float(contribs.raw_score[i]),
            None if scores is None or sid not in scores else float(scores[sid]),
            None if flagged is None or sid not in flagged else bool(flagged[sid]),
            tuple(up), tuple(down)))
    return tuple(out)
