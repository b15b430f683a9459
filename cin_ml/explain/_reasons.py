"""Per-student reasons and plain-language sentences (French and English), true of the model.

A reason is stated only when it is verified counterfactually (``_counterfactual``): "X
increases the risk (+6 points)" means that setting X to the reference quoted in the sentence
(the median of the students explained at the same prediction point, rounded as shown; the
most common value for yes/no and categorical features) lowers this student's predicted
probability by at least the materiality, and the weight is that change in probability
points. Only a flagged student gets risk reasons (up to ``top_k``, largest first); every
explained student gets protective factors (up to ``top_k_protective``), and a line saying so
plainly when there is no risk reason. Where the model has a domain direction (monotone
family), a reason must also read in that direction; elsewhere, in the direction the model
consistently gives the feature (``model_directions``), so that noise the model picked up
is never a reason. Marks can be reasoned about per
competency (``level="family"``): correlated marks make single features unstable.

Each reason becomes a sentence from the Jinja2 template of its family
(``templates/reasons.{fr,en}.j2``). A sensitive attribute is named only if it is an
approved feature, and then the sentence says so; otherwise the sentence says a protected
factor played a part without naming it or giving its value.
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
from cin_ml.glossary import fmt_number

from ._contrib import Contributions
from ._counterfactual import Unit, counterfactual_deltas, implied_sign, reason_units
from ._features import describe_feature
from ._render import text_template

LANGS = ("fr", "en")
_WS = re.compile(r"[ \t\r\n]+")
_EDU = {"fr": ("aucun diplôme", "secondaire", "collégial", "universitaire"),
        "en": ("no diploma", "secondary", "college", "university")}
_NA = {"fr": "non disponible", "en": "not available"}
_YES = {"fr": ("non", "oui"), "en": ("no", "yes")}
_NO_RISK = {"fr": "Aucun facteur de risque notable : le modèle ne signale pas cet élève.",
            "en": "No notable risk factor: the model does not flag this student."}
_NO_RISK_UNKNOWN = {"fr": "Aucun facteur de risque notable.",
                    "en": "No notable risk factor."}
_NO_SINGLE = {"fr": ("Aucune donnée prise isolément ne fait monter l'estimation d'au moins "
                     "{m} : c'est l'ensemble du dossier qui la place au-dessus du seuil."),
              "en": ("No single item raises the estimate by {m} or more: it is the record as "
                     "a whole that puts it above the threshold.")}


@dataclass(frozen=True)
class Reason:
    """One verified reason for one student.

    ``points`` is the change of the predicted probability, in percentage points, that the
    reason stands for: ``p - p(with features set to cf_values)`` (positive: raises the
    risk). ``value`` / ``reference`` are what the sentence quotes (for a family of marks,
    the mean of the student's mean marks and of their references). ``contribution`` is the
    unit's TreeSHAP contribution (log-odds), when contributions were given.
    """

    code: str
    feature: str
    family: str
    value: float | None
    reference: float | None
    contribution: float | None
    direction: str
    sensitive: bool
    approved: bool
    text_fr: str
    text_en: str
    points: float = 0.0
    level: str = "feature"
    features: tuple[str, ...] = ()
    cf_values: tuple[float, ...] = ()

    @property
    def named(self) -> bool:
        """False when a non-approved sensitive attribute is withheld from the text."""
        return not self.sensitive or self.approved

    def text(self, lang: str = "fr") -> str:
        return self.text_fr if lang == "fr" else self.text_en

    def to_dict(self) -> dict:
        named = self.named
        return {"code": self.code, "feature": self.feature if named else None,
                "family": self.family if named else None, "level": self.level,
                "value": self.value if named else None,
                "reference": self.reference if named else None,
                "points": round(self.points, 6),
                "contribution": (None if self.contribution is None
                                 else round(self.contribution, 8)),
                "direction": self.direction, "sensitive": self.sensitive,
                "approved": self.approved, "text_fr": self.text_fr, "text_en": self.text_en}


@dataclass(frozen=True)
class StudentExplanation:
    """Why one student got the score they got: verified risk reasons (flagged students
    only), protective factors, and a plain line when there is no risk reason."""

    student_id: str
    base_value: float | None
    raw_score: float | None
    score: float | None
    flagged: bool | None
    reasons: tuple[Reason, ...]
    protective: tuple[Reason, ...]
    probability: float | None = None
    summary_fr: str = ""
    summary_en: str = ""

    def summary(self, lang: str = "fr") -> str:
        return self.summary_fr if lang == "fr" else self.summary_en

    def sentences(self, lang: str = "fr") -> list[str]:
        """The risk reasons' sentences, or the plain line when there is none (never empty)."""
        return [r.text(lang) for r in self.reasons] or [self.summary(lang)]

    def to_dict(self) -> dict:
        def rnd(x):
            return None if x is None else round(x, 8)

        return {"student_id": self.student_id, "base_value": rnd(self.base_value),
                "raw_score": rnd(self.raw_score), "score": rnd(self.score),
                "probability": rnd(self.probability), "flagged": self.flagged,
                "reasons": [r.to_dict() for r in self.reasons],
                "protective": [r.to_dict() for r in self.protective],
                "summary_fr": self.summary_fr, "summary_en": self.summary_en}


def _num(x: float, lang: str, digits: int = 0) -> str:
    # French typography writes the minus sign as U+2212
    s = fmt_number(x, lang, digits)
    return s.replace("-", "\u2212") if lang == "fr" else s


def _pct(x: float, lang: str, digits: int = 0) -> str:
    return _num(x, lang, digits) + ("\u00a0%" if lang == "fr" else "%")


def format_points(points: float, lang: str) -> str:
    """``+6 points`` / ``−3 points`` (fr) / ``-3 points`` (en); one decimal below 1."""
    digits = 0 if abs(points) >= 0.995 else 1
    r = round(abs(points), digits)
    sign = "+" if points > 0 else ("\u2212" if lang == "fr" else "-")
    unit = ("point" if r < 2 else "points") if lang == "fr" else (
        "point" if r == 1 else "points")
    return f"{sign}{_num(r, lang, digits)}\u00a0{unit}" if lang == "fr" else \
        f"{sign}{_num(r, lang, digits)} {unit}"


def format_value(info: FeatureName, value: float | None, lang: str, *,
                 reference: bool = False, labels: Sequence[str] | None = None) -> str:
    """Human form of a feature value; ``labels`` reads a categorical code as its label."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return _NA[lang]
    v = float(value)
    if labels is not None:
        i = int(round(v))
        return str(labels[i]) if 0 <= i < len(labels) else _NA[lang]
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


def _rounded(kind: str, v: float) -> float:
    """``v`` rounded as :func:`format_value` shows it (the reference quoted is the one used
    in the counterfactual)."""
    if kind == "mark":
        return float(round(v))
    if kind in ("trend", "volatility"):
        return round(v, 1)
    if kind == "absence_rate":
        return round(v, 3) if 100 * v < 10 else round(v, 2)
    if kind in ("count", "count_below", "decile"):
        return v if v == round(v) else round(v, 1)
    if kind == "education":
        return float(round(v))
    return round(v, 2)


def reference_values(X: pd.DataFrame, categorical: Sequence[str] = ()
                     ) -> dict[str, float | None]:
    """Reference quoted beside a student's value and used in the counterfactual: the median
    of each feature over the students at the same prediction point, rounded as shown; the
    most common value for yes/no (plan) and categorical features."""
    cats = set(categorical)
    out: dict[str, float | None] = {}
    for c in X.columns:
        col = pd.to_numeric(X[c], errors="coerce").dropna()
        kind = describe_feature(c).kind
        if col.empty:
            out[c] = None
        elif c in cats or kind == "plan":
            out[c] = float(col.value_counts().sort_index(kind="stable").idxmax())
        else:
            out[c] = _rounded(kind, float(col.median()))
    return out


_VALUE = "\x00value\x00"    # the student's value, put in place after the cached render
_POINTS = "\x00points\x00"  # the reason's weight


@lru_cache(maxsize=8192)
def _skeleton(info: FeatureName, reference: str | None, direction: str, lang: str,
              sensitive: bool, approved: bool, grades: tuple[int, ...] = (),
              subject: str | None = None) -> str:
    module = text_template(f"reasons.{lang}.j2").module
    ctx = {"kind": info.kind, "competency": info.competency, "grade": info.grade,
           "stat": info.stat, "detail": info.detail, "label": info.name, "value": _VALUE,
           "reference": reference, "direction": direction, "points": _POINTS,
           "grades": list(grades), "subject": subject,
           "approved_sensitive": sensitive and approved}
    if sensitive and not approved:
        macro = module.withheld
    elif grades:
        macro = module.famille
    elif info.kind == "other" or not hasattr(module, info.family):
        macro = module.autre
    else:
        macro = getattr(module, info.family)
    return _WS.sub(" ", str(macro(ctx))).strip()  # keeps no-break spaces (58\u00a0%)


def _sentence(info: FeatureName, value, reference, direction: str, lang: str,
              sensitive: bool, approved: bool, points: float = 0.0, *,
              grades: tuple[int, ...] = (), labels: Sequence[str] | None = None,
              subject: str | None = None) -> str:
    """Sentence of one reason: the family template rendered once per feature, reference and
    direction (cached), with the student's value and the weight put in their places."""
    ref = None if reference is None else format_value(info, reference, lang, reference=True,
                                                      labels=labels)
    skeleton = _skeleton(info, ref, direction, lang, sensitive, approved, grades, subject)
    return (skeleton.replace(_VALUE, format_value(info, value, lang, labels=labels))
            .replace(_POINTS, format_points(points, lang)))


def _quoted(unit: Unit, row: np.ndarray, ref: np.ndarray) -> tuple[float | None, float | None]:
    """(value, reference) the sentence quotes: the mean over the quoted columns the student
    has (one column for a feature unit)."""
    q = list(unit.quote)
    v = row[q]
    have = ~np.isnan(v) & ~np.isnan(ref[q])
    if not have.any():
        return None, None
    if unit.level == "feature":
        return float(v[0]), float(ref[q][0])
    return float(round(v[have].mean())), float(round(ref[q][have].mean()))


def explain_students(model, X: pd.DataFrame, student_ids: Sequence[str], *,
                     families: Mapping[str, str], reference: Mapping[str, float | None],
                     sensitive: Sequence[str] = (), approved_sensitive: Sequence[str] = (),
                     top_k: int = 3, top_k_protective: int = 2, materiality: float = 0.01,
                     level: str = "feature", monotone: Mapping[str, int] | None = None,
                     category_maps: Mapping[str, Sequence[str]] | None = None,
                     contribs: Contributions | None = None,
                     directions: Mapping[str, float] | None = None,
                     min_direction: float = 0.5,
                     scores: Mapping[str, float] | None = None,
                     flagged: Mapping[str, bool] | None = None, num_threads: int = 1
                     ) -> tuple[StudentExplanation, ...]:
    """Verified reasons and sentences for ``student_ids``.

    Parameters
    ----------
    model
        The LightGBM model (Booster or fitted estimator) returning the probability.
    X
        Model inputs (integer-coded categories) indexed by student id.
    families, reference
        ``{feature: family}`` and ``{feature: reference}`` (:func:`reference_values`).
    sensitive, approved_sensitive
        Sensitive features and those approved as model features; only approved ones are named.
    top_k, top_k_protective
        Risk reasons (flagged students only) and protective factors shown at most.
    materiality
        Smallest change of the probability (0.01 = 1 point) a reason must make.
    level
        ``feature``, ``family`` (a competency's marks reasoned about together),
        ``subject`` (French: reading and writing; mathematics: both competencies) or
        ``marks`` (every mark together).
    monotone
        ``{feature: +1 | -1}``: the model's monotone constraints (domain directions); a
        reason on such a feature (or family) must read in that direction.
    category_maps
        ``{feature: labels}``: categorical values are quoted as labels, never codes.
    contribs
        Optional TreeSHAP contributions (recorded beside each reason, for information).
    directions, min_direction
        ``{feature: D}`` (:func:`model_directions`): a feature without a domain direction
        is a reason only in the direction the model consistently gives it
        (``|D| >= min_direction``, same sign); ``None`` skips this rule.
    scores, flagged
        Calibrated score and flag per student. ``flagged=False``: no risk reason.
    num_threads
        LightGBM threads for the counterfactual predictions.
    """
    from ._contrib import _aligned, as_booster

    booster = as_booster(model)
    Xa = _aligned(booster, X)
    feats = list(Xa.columns)
    maps = dict(category_maps or {})
    sens, ok = set(sensitive), set(approved_sensitive)
    mono = dict(monotone or {})
    ids = [str(s) for s in student_ids]
    values = Xa.loc[ids].apply(pd.to_numeric, errors="coerce").to_numpy(np.float64)
    ref = np.array([np.nan if reference.get(f) is None else float(reference[f])
                    for f in feats])
    units = reason_units(feats, families, level, list(maps))
    infos = [describe_feature(u.feature, families.get(u.feature)) for u in units]
    p, delta = counterfactual_deltas(booster, values, ref, units, num_threads=num_threads)
    m_text = {lang: format_points(100 * materiality, lang).lstrip("+") for lang in LANGS}

    def make(i: int, u: int) -> Reason | None:
        unit, info = units[u], infos[u]
        value, refv = _quoted(unit, values[i], ref)
        if value is None:
            return None
        d = float(delta[i, u])
        direction = "increases" if d > 0 else "decreases"
        domain = mono.get(unit.feature, 0)
        if not domain and directions is not None:
            dm = directions.get(unit.feature, 0.0)
            domain = int(np.sign(dm)) if abs(dm) >= min_direction else 0
            if not domain:
                return None
        if implied_sign(value, refv, direction) not in ((domain,) if domain else (1, -1)):
            return None
        f = unit.feature
        s, a = f in sens, f in ok
        sign = "+" if d > 0 else "-"
        code = (f"{unit.family.upper()}:{unit.key}:{sign}" if not s or a
                else f"PROTECTED:{sign}")
        cols = list(unit.columns)
        contrib = None if contribs is None else float(
            contribs.values[contribs.row(ids[i]), cols].sum())
        labels = maps.get(f)
        texts = [_sentence(info, value, refv, direction, lang, s, a, 100 * d,
                           grades=unit.grades, labels=labels, subject=unit.subject)
                 for lang in LANGS]
        return Reason(code, f, unit.family, value, refv, contrib, direction, s, a, *texts,
                      points=100 * d, level=unit.level,
                      features=tuple(feats[j] for j in cols),
                      cf_values=tuple(float(ref[j]) for j in cols))

    out = []
    for i, sid in enumerate(ids):
        flag = None if flagged is None or sid not in flagged else bool(flagged[sid])
        row = np.nan_to_num(delta[i], nan=0.0)
        up: list[Reason] = []
        if flag is not False:
            for u in np.argsort(-row, kind="stable"):
                if row[u] < materiality or len(up) >= top_k:
                    break
                if (r := make(i, int(u))) is not None:
                    up.append(r)
        down: list[Reason] = []
        for u in np.argsort(row, kind="stable"):
            if -row[u] < materiality or len(down) >= top_k_protective:
                break
            if (r := make(i, int(u))) is not None:
                down.append(r)
        if up:
            summary = {lang: "" for lang in LANGS}
        elif flag is False:
            summary = _NO_RISK
        elif flag:
            summary = {lang: _NO_SINGLE[lang].format(m=m_text[lang]) for lang in LANGS}
        else:
            summary = _NO_RISK_UNKNOWN
        base = raw = None
        if contribs is not None:
            base, raw = contribs.base_value, float(contribs.raw_score[contribs.row(sid)])
        out.append(StudentExplanation(
            sid, base, raw, None if scores is None or sid not in scores else float(scores[sid]),
            flag, tuple(up), tuple(down), float(p[i]), summary["fr"], summary["en"]))
    return tuple(out)
