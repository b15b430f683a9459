"""Count cubes with margins, and primary + complementary cell suppression.

A published table of counts is a set of *items* (cells and their totals) tied by additive
*relations* (a total equals the sum of its parts). An item is hidden when its count is
positive and below the threshold (primary suppression). Complementary suppression then
hides more items of every relation that would give a hidden item away on its own: one
hidden item (subtraction), hidden parts that must all be 0 (the published total already
equals the published parts), or a hidden group size with zeros published beside its one
hidden part (the whole group sits in that part: its band is disclosed). Parts go before
the total, the smallest positive count first, zeros next. Finally the attacker of
:mod:`._attack` runs over every relation at once and each item it still recovers gets one
more complement, until it recovers nothing.

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

from cin_ml.access._attack import TOTAL, Key, Relation, item_key, recover_by_subtraction


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


def _leak(rel: Relation, hidden: set[Key], values: Mapping[Key, int]) -> bool:
    """True when ``rel`` alone gives a hidden item away: it has one hidden item; its total
    is published and its hidden parts are all 0 (the attacker reads 0 for each); or its
    total is hidden with one hidden part and published zeros beside it (the whole group
    sits in that part)."""
    t, parts = rel
    hp = [p for p in parts if p in hidden]
    n = len(hp) + (t in hidden)
    if n == 0:
        return False
    if n == 1:
        return True
    if t not in hidden:
        return all(values[p] == 0 for p in hp)
    return (len(hp) == 1 and len(parts) >= 2
            and all(values[p] == 0 for p in parts if p not in hidden))


def _complement(rel: Relation, hidden: set[Key], values: Mapping[Key, int]) -> Key | None:
    """The next item of ``rel`` to hide: a positive part (smallest first), then a zero
    part, the total last."""
    t, parts = rel
    free = [k for k in (t, *parts) if k not in hidden]
    if not free:
        return None
    return min(free, key=lambda k: (k == t, values[k] == 0, values[k], k))


def suppress(values: Mapping[Key, int], relations: Iterable[Relation],
             min_cell_size: int, *, attack: bool = True) -> Suppression:
    """Primary + complementary suppression so that no hidden item is given away.

    Counts in ``1 .. min_cell_size - 1`` are hidden (primary); then every relation that
    gives a hidden item away on its own (one hidden item, hidden parts that must be 0, a
    hidden group with zeros published beside its one hidden part) hides one more item,
    until none does. With ``attack``, :func:`recover_by_subtraction` then runs over every
    relation at once (linear combinations, non-negativity); each item it still recovers
    gets one more complement in one of its relations, and the attack runs again, until it
    recovers nothing.

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

    def settle(work: list[int]) -> None:
        while work:
            i = work.pop()
            if not _leak(rels[i], hidden, values):
                continue
            pick = _complement(rels[i], hidden, values)
            if pick is None:
                continue
            hidden.add(pick)
            work.extend(by_item[pick])
            work.append(i)

    settle(sorted({i for k in hidden for i in by_item[k]}))
    while attack and hidden:
        found = recover_by_subtraction(
            {k: (None if k in hidden else v) for k, v in values.items()}, rels)
        if not found:
            break
        added = []
        for k in sorted({*found.values, *found.whole_groups}):
            # the relation of k with the fewest hidden items gets one more complement
            cands = [i for i in by_item[k] if _complement(rels[i], hidden, values)]
            if not cands:
                continue
            i = min(cands, key=lambda j: (sum(x in hidden for x in (rels[j][0], *rels[j][1])),
                                          j))
            pick = _complement(rels[i], hidden, values)
            hidden.add(pick)
            added.extend(by_item[pick])
        if not added:
            break
        settle(added)
    return Suppression(min_cell_size, frozenset(hidden), frozenset(primary))
