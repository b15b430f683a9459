"""k-anonymity over student quasi-identifiers: measure, generalize, suppress.

The method is the classic Datafly heuristic (Sweeney 2002) followed by local suppression:

1. **Global recoding.** While more than ``max_suppression_rate`` of the students sit in an
   equivalence class (same values on every quasi-identifier) smaller than ``k``, the
   generalizable quasi-identifier with the most distinct values moves one level up its
   hierarchy, for every student (``fsa`` H2X → H2 → H → suppressed; ``birth_year`` year →
   suppressed).
2. **Cell suppression.** Students still in small classes get their generalizable
   quasi-identifiers blanked (null), which merges them into coarser classes.
3. **Record suppression.** Students still in classes smaller than ``k`` are removed (with
   every row they own in every table, done by the caller).

Quasi-identifiers without a hierarchy (``css_id``, ``cohort_year``, ``sex``, ...) are never
altered: they are needed for validation over time and for audits; only record suppression
protects them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

__all__ = ["KAnonymity", "anonymize_quasi_identifiers", "measure_k_anonymity"]


def _fsa_level(s: pd.Series, level: int) -> pd.Series:
    if level >= 3:
        return pd.Series(pd.NA, index=s.index, dtype="object")
    return s.astype("object").where(s.isna(), s.astype(str).str[: 3 - level])


def _year_level(s: pd.Series, level: int) -> pd.Series:
    return s if level == 0 else pd.Series(pd.NA, index=s.index, dtype=s.dtype)


# column -> (number of levels above exact, recode function)
HIERARCHIES = {
    "fsa": (3, _fsa_level),
    "birth_year": (1, _year_level),
}
LEVEL_NAMES = {
    "fsa": ("3 characters", "2 characters", "1 character", "suppressed"),
    "birth_year": ("year", "suppressed"),
}


@dataclass(frozen=True)
class KAnonymity:
    """k-anonymity of a table over a set of quasi-identifiers.

    Attributes
    ----------
    k : int
        Size of the smallest equivalence class (0 for an empty table).
    n_records, n_classes : int
        Records and equivalence classes.
    n_below : dict
        ``{threshold: records in classes smaller than threshold}`` for the threshold asked.
    """

    quasi_identifiers: tuple[str, ...]
    k: int
    n_records: int
    n_classes: int
    n_below: dict[int, int] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"quasi_identifiers": list(self.quasi_identifiers), "k": self.k,
                "n_records": self.n_records, "n_classes": self.n_classes,
                "n_below": {str(t): n for t, n in sorted(self.n_below.items())}}


def _keys(frame: pd.DataFrame, qis: list[str]) -> pd.DataFrame:
    return frame[qis].astype("object").where(frame[qis].notna(), "\x00null")


def _class_sizes(frame: pd.DataFrame, qis: list[str]) -> pd.Series:
    """Per-row size of the row's equivalence class (nulls form their own value)."""
    return _keys(frame, qis).groupby(qis, sort=False)[qis[0]].transform("size")


def measure_k_anonymity(frame: pd.DataFrame, quasi_identifiers, k: int = 5) -> KAnonymity:
    """Measure k-anonymity of ``frame`` over ``quasi_identifiers`` (nulls count as a value)."""
    qis = list(quasi_identifiers)
    if frame.empty:
        return KAnonymity(tuple(qis), 0, 0, 0, {k: 0})
    sizes = _class_sizes(frame, qis)
    n_classes = int(_keys(frame, qis).drop_duplicates().shape[0])
    return KAnonymity(tuple(qis), int(sizes.min()), len(frame), n_classes,
                      {k: int((sizes < k).sum())})


@dataclass(frozen=True)
class _Result:
    frame: pd.DataFrame
    levels: dict[str, str]
    n_cells_suppressed: int
    suppressed_index: pd.Index
    before: KAnonymity
    after: KAnonymity


def anonymize_quasi_identifiers(frame: pd.DataFrame, quasi_identifiers, k: int,
                                max_suppression_rate: float) -> _Result:
    """Generalize then suppress until ``frame`` is k-anonymous over ``quasi_identifiers``.

    Returns the recoded frame *without* the suppressed records, the hierarchy level applied
    to each generalizable quasi-identifier, the number of cells blanked and the index of the
    records removed.
    """
    qis = list(quasi_identifiers)
    before = measure_k_anonymity(frame, qis, k)
    work = frame.copy()
    levels = {c: 0 for c in qis if c in HIERARCHIES}
    budget = max_suppression_rate * len(work)
    while True:
        sizes = _class_sizes(work, qis)
        if (sizes < k).sum() <= budget:
            break
        candidates = [c for c, lv in levels.items() if lv < HIERARCHIES[c][0]]
        if not candidates:
            break
        col = max(candidates, key=lambda c: (work[c].nunique(dropna=True), c))
        levels[col] += 1
        work[col] = HIERARCHIES[col][1](frame[col], levels[col])

    small = _class_sizes(work, qis) < k
    n_cells = 0
    if small.any():
        for col, lv in levels.items():
            n_max = HIERARCHIES[col][0]
            if lv < n_max:
                n_cells += int(work.loc[small, col].notna().sum())
                work.loc[small, col] = HIERARCHIES[col][1](frame.loc[small, col], n_max)
    still = _class_sizes(work, qis) < k if len(work) else pd.Series(dtype=bool)
    suppressed = work.index[still.to_numpy()] if len(work) else work.index
    out = work.loc[~work.index.isin(suppressed)]
    names = {c: LEVEL_NAMES[c][lv] for c, lv in levels.items()}
    return _Result(out, names, n_cells, suppressed, before, measure_k_anonymity(out, qis, k))
