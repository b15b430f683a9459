"""Count cubes with margins, primary + complementary cell suppression, and the attack that
checks it.

A published table of counts is a set of *items* (cells and their totals) tied by additive
*relations* (a total equals the sum of its parts). An item is hidden when its count is
positive and below the threshold (primary suppression). A hidden item can be recovered by
subtraction whenever some relation has it as its only hidden item, so complementary
suppression hides, in every relation with exactly one hidden item, one more item of that
relation (a part before the total; the smallest positive count first; zeros last), until no
relation has exactly one hidden item. :func:`recover_by_subtraction` is the attacker: it
solves every relation with one unknown, repeatedly, over all the published tables at once.

Items are keyed by their population and their non-total coordinates, so the same count
published in two tables (the ``CSS001`` total of the *sex* table and of the *language group*
table) is one item: suppressing it in one hides it in all.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

TOTAL = "Total"

Key = str
Relation = tuple[Key, tuple[Key, ...]]


def item_key(population: str, coords: Mapping[str, object]) -> Key:
    """Canonical key of an item: its population and its non-total coordinates, sorted."""
    parts = [f"{d}={coords[d]}" for d in sorted(coords) if coords[d] != TOTAL]
    return population + "|" + "|".join(parts)


@dataclass(frozen=True)
class Cube:
    """Counts of one population over ``dims``, with totals over ``margins``.

    ``frame`` has one row per item: the dims (``TOTAL`` where summed over), ``n`` (int)
    and ``key``. Every combination of the ``levels`` of non-row dims is present (zeros
    included); row dims keep only the combinations observed in the records.
    """

    population: str
    dims: tuple[str, ...]
    margins: tuple[str, ...]
    frame: pd.DataFrame

    def relations(self) -> list[Relation]:
        """``(total, parts)`` for every margin dim and every item summed over it."""
        out: list[Relation] = []
        f = self.frame
        for d in self.margins:
            child = f.loc[f[d] != TOTAL]
            parent_keys = [item_key(self.population, {**r, d: TOTAL})
                           for r in child[list(self.dims)].to_dict("records")]
            groups: dict[Key, list[Key]] = defaultdict(list)
            for pk, ck in zip(parent_keys, child["key"], strict=True):
                groups[pk].append(ck)
            out.extend((pk, tuple(sorted(cks))) for pk, cks in groups.items())
        return out


def build_cube(records: pd.DataFrame, population: str, row_dims: Sequence[str],
               col_levels: Mapping[str, Sequence[str]],
               margins: Iterable[str] | None = None) -> Cube:
    """Count ``records`` (one row per counted unit) into a cube with totals.

    Parameters
    ----------
    records
        One row per unit (student, or student × competency); string-valued dims.
    population
        Name of what is counted (items of different populations never link).
    row_dims
        Dims whose observed combinations are kept (e.g. school, grade).
    col_levels
        Other dims and their full list of levels (zero cells are published too).
    margins
        Dims that get a total (default: all dims).
    """
    dims = tuple(row_dims) + tuple(col_levels)
    margins = tuple(dims if margins is None else margins)
    rows = records[list(row_dims)].drop_duplicates() if row_dims else pd.DataFrame(index=[0])
    grid = rows.reset_index(drop=True)
    for d, levels in col_levels.items():
        grid = grid.merge(pd.DataFrame({d: list(levels)}), how="cross")
    counts = records.groupby(list(dims), observed=True).size().rename("n").reset_index()
    base = grid.merge(counts, on=list(dims), how="left")
    base["n"] = base["n"].fillna(0).astype("int64")
    frames = []
    for r in range(len(margins) + 1):
        for summed in itertools.combinations(margins, r):
            keep = [d for d in dims if d not in summed]
            agg = (base.groupby(keep, observed=True, sort=False)["n"].sum().reset_index()
                   if keep else pd.DataFrame({"n": [int(base["n"].sum())]}))
            for d in summed:
                agg[d] = TOTAL
            frames.append(agg[list(dims) + ["n"]])
    frame = pd.concat(frames, ignore_index=True)
    frame["key"] = [item_key(population, r) for r in frame[list(dims)].to_dict("records")]
    return Cube(population, dims, margins, frame)


@dataclass(frozen=True)
class Suppression:
    """Result of :func:`suppress`: the hidden keys, and which were hidden primarily."""

    min_cell_size: int
    hidden: frozenset[Key]
    primary: frozenset[Key]

    @property
    def complementary(self) -> frozenset[Key]:
        return self.hidden - self.primary

    def to_dict(self) -> dict:
        return {"min_cell_size": self.min_cell_size, "n_primary": len(self.primary),
                "n_complementary": len(self.complementary), "n_hidden": len(self.hidden)}


def suppress(values: Mapping[Key, int], relations: Iterable[Relation],
             min_cell_size: int) -> Suppression:
    """Primary + complementary suppression so no hidden item is recoverable by subtraction.

    Parameters
    ----------
    values
        Count of every item.
    relations
        ``(total, parts)``: ``values[total] == sum(values[p] for p in parts)``.
    min_cell_size
        Positive counts below this are hidden (1 = nothing hidden).
    """
    rels = list(dict.fromkeys((t, tuple(p)) for t, p in relations))
    by_item: dict[Key, list[int]] = defaultdict(list)
    for i, (t, parts) in enumerate(rels):
        for k in (t, *parts):
            by_item[k].append(i)
    primary = {k for k, v in values.items() if 0 < v < min_cell_size}
    hidden = set(primary)
    work = sorted({i for k in hidden for i in by_item[k]})
    while work:
        i = work.pop()
        t, parts = rels[i]
        items = (t, *parts)
        if sum(k in hidden for k in items) != 1:
            continue
        free = [k for k in items if k not in hidden]
        pick = min(free, key=lambda k: (k == t, values[k] == 0, values[k], k))
        hidden.add(pick)
        work.extend(by_item[pick])
    return Suppression(min_cell_size, frozenset(hidden), frozenset(primary))


def recover_by_subtraction(published: Mapping[Key, int | None],
                           relations: Iterable[Relation]) -> dict[Key, int]:
    """The attacker: solve every relation with one unknown, until nothing changes.

    ``published`` maps every item to its count, or ``None`` when hidden. Returns the
    hidden items recovered (an empty dict when the suppression holds).
    """
    known = {k: v for k, v in published.items() if v is not None}
    rels = list(relations)
    recovered: dict[Key, int] = {}
    changed = True
    while changed:
        changed = False
        for t, parts in rels:
            unknown = [k for k in (t, *parts) if k not in known]
            if len(unknown) != 1:
                continue
            k = unknown[0]
            s = sum(known[p] for p in parts if p in known)
            known[k] = s if k == t else known[t] - s
            recovered[k] = known[k]
            changed = True
    return recovered
