"""Counterfactual weights of reasons: what the model's probability becomes when a feature
(or a family of marks) is set to the reference value quoted to the reader.

A reason "X increases the risk (+6 points)" is stated only when, for this student, setting X
to the quoted reference lowers the model's predicted probability (the calibrated booster's
output) by at least the materiality; "decreases" is the mirror. The same computation checks
the stated reasons afterwards (:func:`check_reasons`): the sentences are true of the model
by construction, and the check proves it on the records.

A *unit* is what one reason is about: one feature, or (``level="family"``) every feature of
one competency's marks, set together to the references (only the values the student has;
a missing value stays missing).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from cin_ml.features import parse_feature

MARK_FAMILY_KINDS = ("mark", "trend", "volatility", "count_below")
SUBJECTS = {"lecture": "francais", "ecriture": "francais", "resoudre": "mathematique",
            "raisonner": "mathematique"}
"""Subject of each competency (``level="subject"``: French, mathematics)."""
ALL_MARKS = "resultats"
"""The one unit of every mark (``level="marks"``)."""
LEVELS = ("feature", "family", "subject", "marks")


@dataclass(frozen=True)
class Unit:
    """What one reason is about: ``columns`` (indices into the feature list) set together
    to their references; ``quote`` the columns whose values the sentence quotes (their mean);
    ``feature`` the name that stands for the unit (the feature, or the family's first mean
    mark)."""

    key: str
    family: str
    level: str
    feature: str
    columns: tuple[int, ...]
    quote: tuple[int, ...]
    grades: tuple[int, ...] = ()
    subject: str | None = None


def reason_units(features: Sequence[str], families: Mapping[str, str], level: str,
                 categorical: Sequence[str] = ()) -> tuple[Unit, ...]:
    """The units reasons are stated about (``level`` in :data:`LEVELS`: one feature, a
    competency's marks, a subject's marks, or all marks together)."""
    if level not in LEVELS:
        raise ValueError(f"reason level must be one of {', '.join(LEVELS)}; got {level!r}")
    cats = set(categorical)
    units: list[Unit] = []
    grouped: dict[str, list[int]] = {}
    for j, f in enumerate(features):
        info = parse_feature(f)
        fam = families.get(f, info.family)
        if (level != "feature" and f not in cats and info.competency is not None
                and info.kind in MARK_FAMILY_KINDS and fam == info.competency):
            key = {"subject": SUBJECTS[fam], "marks": ALL_MARKS}.get(level, fam)
            grouped.setdefault(key, []).append(j)
        else:
            units.append(Unit(f, fam, "feature", f, (j,), (j,)))
    for key, cols in grouped.items():
        fam = parse_feature(features[cols[0]]).competency
        means = [j for j in cols if parse_feature(features[j]).stat == "mean"]
        quote = means or [j for j in cols if parse_feature(features[j]).kind == "mark"]
        if not quote:
            units.extend(Unit(features[j], fam, "feature", features[j], (j,), (j,))
                         for j in cols)
            continue
        grades = tuple(sorted({parse_feature(features[j]).grade for j in quote}))
        subject = key if level in ("subject", "marks") else None
        units.append(Unit(f"{key}:*", subject or fam, level, features[quote[0]],
                          tuple(cols), tuple(quote), grades, subject))
    return tuple(units)


def _predict(booster, M: np.ndarray, num_threads: int, chunk_rows: int) -> np.ndarray:
    it = booster.best_iteration if booster.best_iteration > 0 else -1
    out = np.empty(len(M), dtype=np.float64)
    for lo in range(0, len(M), chunk_rows):
        out[lo:lo + chunk_rows] = booster.predict(M[lo:lo + chunk_rows], num_iteration=it,
                                                  num_threads=num_threads)
    return out


def counterfactual_deltas(booster, values: np.ndarray, ref: np.ndarray,
                          units: Sequence[Unit], *, num_threads: int = 1,
                          chunk_rows: int = 100_000) -> tuple[np.ndarray, np.ndarray]:
    """``(p, delta)``: each student's probability and, per unit, ``p - p_cf`` where
    ``p_cf`` is the probability with the unit's (non-missing) values set to ``ref``.

    ``delta[i, u]`` is NaN when the unit changes nothing for student ``i`` (all its values
    missing or already at the reference), i.e. there is nothing to state.
    """
    n, U = len(values), len(units)
    p = _predict(booster, values, num_threads, chunk_rows) if n else np.empty(0)
    delta = np.full((n, U), np.nan)
    rows, which = [], []
    for u, unit in enumerate(units):
        cols = list(unit.columns)
        v, r = values[:, cols], ref[cols]
        settable = ~np.isnan(v) & ~np.isnan(r)
        changed = (settable & (v != r)).any(axis=1)
        idx = np.flatnonzero(changed)
        if not len(idx):
            continue
        M = values[idx].copy()
        M[:, cols] = np.where(settable[idx], r, M[:, cols])
        rows.append(M)
        which.append((u, idx))
    if rows:
        pc = _predict(booster, np.vstack(rows), num_threads, chunk_rows)
        at = 0
        for u, idx in which:
            delta[idx, u] = p[idx] - pc[at:at + len(idx)]
            at += len(idx)
    return p, delta


def model_directions(contribs, X, reference: Mapping[str, float | None]) -> dict[str, float]:
    """How consistently the model pushes the risk one way with each feature, from TreeSHAP
    contributions over a sample: ``D = sum(|phi| * sign((x - ref) * phi)) / sum(|phi|)``.
    +1: above the reference always raises the risk and below always lowers it; -1 the
    mirror; near 0: no consistent direction (noise the model picked up). Students at the
    reference or missing the value do not count; a feature without a reference is 0."""
    Xs = X.loc[list(contribs.student_ids), list(contribs.features)]
    V = Xs.to_numpy(dtype=np.float64)
    out: dict[str, float] = {}
    for j, f in enumerate(contribs.features):
        r = reference.get(f)
        phi = contribs.values[:, j]
        if r is None:
            out[f] = 0.0
            continue
        off = V[:, j] - float(r)
        keep = ~np.isnan(off) & (off != 0)  # at the reference (or missing): no direction
        s = np.sign(off[keep] * phi[keep])
        w = np.abs(phi[keep])
        out[f] = round(float((w * s).sum() / w.sum()), 6) if w.sum() > 0 else 0.0
    return out


def implied_sign(value: float | None, reference: float | None, direction: str) -> int:
    """Sign of the effect on the risk of the feature's level rising, as the sentence implies
    it (value above the reference and "increases" = +1), 0 when it implies none."""
    if value is None or reference is None or value == reference:
        return 0
    up = 1 if direction == "increases" else -1
    return up if value > reference else -up


def check_reasons(model, X, explanations, *, materiality: float, num_threads: int = 1
                  ) -> dict:
    """Re-check every stated reason against the model, from its record only.

    For each reason, the features it names are set to the reference values it quotes
    (``Reason.features`` / ``Reason.cf_values``) and the probability is predicted again; a
    reason is a contradiction when the change is not in the stated direction by at least
    ``materiality`` (a probability, 0.01 = 1 point). Also counts flagged-unknown cases:
    unflagged students with risk reasons, and students with no explanation line.
    """
    from ._contrib import _aligned, as_booster

    booster = as_booster(model)
    Xa = _aligned(booster, X)
    cols = {f: j for j, f in enumerate(Xa.columns)}
    base_rows, cf_rows, meta = [], [], []
    n_unflagged_risk = n_no_line = 0
    for s in explanations:
        x = Xa.loc[s.student_id].to_numpy(dtype=np.float64)
        if s.flagged is False and s.reasons:
            n_unflagged_risk += 1
        if not s.sentences("fr") or not s.sentences("en"):
            n_no_line += 1
        for kind, reasons in (("risk", s.reasons), ("protective", s.protective)):
            for r in reasons:
                m = x.copy()
                for f, v in zip(r.features, r.cf_values, strict=True):
                    if not np.isnan(m[cols[f]]) and v is not None and not np.isnan(v):
                        m[cols[f]] = v
                base_rows.append(x)
                cf_rows.append(m)
                meta.append((s.student_id, kind, r.direction, r.points))
    n = len(meta)
    out = {"n_students": len(explanations), "n_reasons": n,
           "n_risk": sum(1 for m in meta if m[1] == "risk"),
           "n_protective": sum(1 for m in meta if m[1] == "protective"),
           "materiality_points": round(100 * materiality, 6), "contradictions": 0,
           "weight_mismatches": 0, "min_margin_points": None,
           "unflagged_with_risk_reasons": n_unflagged_risk, "without_line": n_no_line}
    if not n:
        return out
    it = booster.best_iteration if booster.best_iteration > 0 else -1
    pb = booster.predict(np.vstack(base_rows), num_iteration=it, num_threads=num_threads)
    pc = booster.predict(np.vstack(cf_rows), num_iteration=it, num_threads=num_threads)
    d = pb - pc
    signed = np.array([di if m[2] == "increases" else -di for di, m in zip(d, meta,
                                                                          strict=True)])
    stated = np.array([abs(m[3]) for m in meta]) / 100
    out["contradictions"] = int(np.sum(signed < materiality - 1e-12))
    out["weight_mismatches"] = int(np.sum(np.abs(signed - stated) > 1e-6))
    out["min_margin_points"] = round(float(100 * (signed.min() - materiality)), 6)
    return out


def truth_agreement(explanations, true_signs: Mapping[str, int], *,
                    flagged_only: bool = True) -> dict:
    """Agreement of stated directions with the sign of the true effect.

    ``true_signs`` maps a feature to the sign of its true effect on the risk as its level
    rises (+1, -1; 0 for an inert driver); features absent have no known truth and are
    counted apart. A reason's implied sign is :func:`implied_sign`; a family reason is judged
    by the feature that stands for it.
    """
    agree = disagree = unknown = 0
    inert_first = flagged = 0
    for s in explanations:
        if flagged_only and s.flagged is not True:
            continue
        flagged += 1
        for r in (*s.reasons, *s.protective):
            t = true_signs.get(r.feature)
            if t is None or not r.named:
                unknown += 1
                continue
            if implied_sign(r.value, r.reference, r.direction) == t != 0:
                agree += 1
            else:
                disagree += 1
        if s.reasons and true_signs.get(s.reasons[0].feature) == 0:
            inert_first += 1
    judged = agree + disagree
    return {"n_students": flagged, "n_pairs": judged + unknown, "n_judged": judged,
            "n_agree": agree, "n_disagree": disagree, "n_unknown_truth": unknown,
            "agreement": None if not judged else round(agree / judged, 6),
            "inert_first_reason": inert_first}


__all__ = ["Unit", "check_reasons", "counterfactual_deltas", "implied_sign",
           "model_directions", "reason_units", "truth_agreement"]
