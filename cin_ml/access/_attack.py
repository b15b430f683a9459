"""The attacker that checks cell suppression, and the published cells it reads.

An attacker holds every published count (all tables of a report, as CSV or Parquet) and
knows how they add up: a total equals the sum of its parts, counts are whole numbers
≥ 0. :func:`recover_by_subtraction` finds what that knowledge gives away about the hidden
cells:

- **exact values** (``Disclosure.values``): a relation with one unknown; a relation whose
  published total already equals its published parts (every hidden part is then 0, as
  counts are never negative); any linear combination of relations across all tables that
  pins a cell (solved per connected block of hidden cells: a cell is determined when the
  null space of the system has no component on it; an exact basis by QR for small blocks,
  random projections on the null space by sparse LSQR for large ones);
- **whole groups** (``Disclosure.whole_groups``): a hidden group size whose parts are
  all known to be 0 but one hidden part (zeros published beside it, or zeros derived as
  above), so the whole group sits in that part: its band, its status, is disclosed even
  though no count is.

:func:`published_cells` rebuilds the items and relations an attacker reads off the
published long tables (``risk``, ``results``), so the attack runs on the very frames that
are written.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

TOTAL = "Total"
OVERALL = "ensemble"

Key = str
Relation = tuple[Key, tuple[Key, ...]]

_TOL = 1e-7
_DENSE_MAX = 200  # hidden cells solved by dense QR at most (its cost grows as the cube)
_SAMPLES = 4  # random null-space projections above that size


def item_key(population: str, coords: Mapping[str, object]) -> Key:
    """Canonical key of an item: its population and its non-total coordinates, sorted."""
    parts = [f"{d}={coords[d]}" for d in sorted(coords) if coords[d] != TOTAL]
    return population + "|" + "|".join(parts)


@dataclass(frozen=True)
class Disclosure:
    """What :func:`recover_by_subtraction` learnt. Falsy when the suppression holds."""

    values: dict[Key, int] = field(default_factory=dict)
    whole_groups: dict[Key, Key] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.values or self.whole_groups)

    def __len__(self) -> int:
        return len(self.values) + len(self.whole_groups)

    def to_dict(self) -> dict:
        return {"n_values": len(self.values), "n_whole_groups": len(self.whole_groups),
                "values": dict(sorted(self.values.items())),
                "whole_groups": dict(sorted(self.whole_groups.items()))}


def _propagate(known: dict[Key, int], rels: Sequence[Relation], learnt: dict[Key, int]) -> bool:
    """Subtraction and non-negativity, until nothing changes; True if anything was learnt."""
    any_new = False
    changed = True
    while changed:
        changed = False
        for t, parts in rels:
            unknown = [k for k in (t, *parts) if k not in known]
            if not unknown:
                continue
            s = sum(known[p] for p in parts if p in known)
            if len(unknown) == 1:
                k = unknown[0]
                known[k] = learnt[k] = s if k == t else known[t] - s
            elif t in known and known[t] == s:  # hidden parts sum to 0: all are 0
                for k in unknown:
                    known[k] = learnt[k] = 0
            else:
                continue
            changed = any_new = True
    return any_new


def _blocks(unknown: set[Key], rels: Sequence[Relation]) -> list[list[int]]:
    """Indices of ``rels`` grouped by connected block of unknown items."""
    parent: dict[Key, Key] = {k: k for k in unknown}

    def find(k: Key) -> Key:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    touched = []
    for i, (t, parts) in enumerate(rels):
        u = [k for k in (t, *parts) if k in unknown]
        if not u:
            continue
        touched.append((i, u[0]))
        for k in u[1:]:
            a, b = find(u[0]), find(k)
            if a != b:
                parent[a] = b
    out: dict[Key, list[int]] = defaultdict(list)
    for i, k in touched:
        out[find(k)].append(i)
    return list(out.values())


def _matrix(rows, cols, vals, shape):
    """Dense up to :data:`_DENSE_MAX` columns, sparse (CSR) above."""
    from scipy.sparse import csr_matrix

    m = csr_matrix((vals, (rows, cols)), shape=shape)
    return m.toarray() if shape[1] <= _DENSE_MAX else m


def _solve(a, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Columns spanning the null space of ``a`` and one solution of ``a x = b``.

    Up to :data:`_DENSE_MAX` cells: a pivoted QR of ``a.T`` (exact basis). Above: sparse
    LSQR, the null space sampled by projecting :data:`_SAMPLES` random vectors on it (a
    cell with any freedom shows a non-zero component with probability 1)."""
    if a.shape[1] <= _DENSE_MAX:
        from scipy.linalg import qr, solve_triangular

        q, r, piv = qr(a.T, pivoting=True, mode="full")
        diag = np.abs(np.diag(r))
        rank = int((diag > _TOL * max(1.0, diag.max(initial=0.0))).sum())
        y = (solve_triangular(r[:rank, :rank], b[piv][:rank], trans="T") if rank
             else np.zeros(0))
        return q[:, rank:], q[:, :rank] @ y
    from scipy.sparse.linalg import lsqr

    sa = a
    opts = {"atol": 1e-14, "btol": 1e-14, "iter_lim": 50 * a.shape[1]}
    x = lsqr(sa, b, **opts)[0]
    rng = np.random.default_rng(0)
    samples = []
    for _ in range(_SAMPLES):
        r = rng.standard_normal(a.shape[1])
        samples.append(r - lsqr(sa, sa @ r, **opts)[0])
    return np.column_stack(samples), x


def _linear(known: dict[Key, int], rels: Sequence[Relation], learnt: dict[Key, int],
            whole: dict[Key, Key]) -> bool:
    """Exact values from any combination of relations, and whole groups whose other parts
    sum to a determined 0. True if a value was learnt."""
    unknown = {k for t, parts in rels for k in (t, *parts) if k not in known}
    any_new = False
    for block in _blocks(unknown, rels):
        cols = sorted({k for i in block for k in (rels[i][0], *rels[i][1]) if k in unknown})
        idx = {k: j for j, k in enumerate(cols)}
        rows, cs, vals = [], [], []
        b = np.zeros(len(block))
        for r, i in enumerate(block):
            t, parts = rels[i]
            # t - sum(parts) = 0, with the known items moved to the right-hand side
            for k, coef in ((t, 1.0), *((p, -1.0) for p in parts)):
                if k in idx:
                    rows.append(r)
                    cs.append(idx[k])
                    vals.append(coef)
                else:
                    b[r] -= coef * known[k]
        null, x = _solve(_matrix(rows, cs, vals, (len(block), len(cols))), b)

        def determined(members: Sequence[int], null=null, x=x) -> float | None:
            if not members:
                return 0.0
            if null.shape[1] and np.abs(null[list(members)].sum(axis=0)).max() > 1e-6:
                return None
            return float(x[list(members)].sum())

        for k, j in idx.items():
            v = determined([j])
            if v is not None and abs(v - round(v)) < 1e-6:
                known[k] = learnt[k] = int(round(v))
                any_new = True
        for i in block:
            t, parts = rels[i]
            if t not in idx or len(parts) < 2:
                continue
            hidden_parts = [p for p in parts if p in idx]
            for p in hidden_parts:
                if t in known or p in known:
                    continue
                rest_known = sum(known.get(q, 0) for q in parts if q != p and q not in idx)
                rest = determined([idx[q] for q in hidden_parts if q != p])
                if rest is not None and abs(rest) < 1e-6 and rest_known == 0:
                    whole[t] = p
    return any_new


def _one_thread():
    """BLAS on one thread: on a busy machine threaded QR is many times slower."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - scikit-learn brings it
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(1)


def recover_by_subtraction(published: Mapping[Key, int | None],
                           relations: Iterable[Relation]) -> Disclosure:
    """The attacker: every hidden count or whole group the published counts give away.

    ``published`` maps every item to its count, or ``None`` when hidden. Subtraction and
    non-negativity run to a fixed point, then linear algebra over every relation at once,
    repeatedly; whole groups are checked last (see the module docstring). An empty
    (falsy) :class:`Disclosure` means the suppression holds against this attacker.
    """
    known = {k: int(v) for k, v in published.items() if v is not None}
    rels = list(dict.fromkeys((t, tuple(p)) for t, p in relations))
    learnt: dict[Key, int] = {}
    whole: dict[Key, Key] = {}
    _propagate(known, rels, learnt)
    with _one_thread():
        while True:
            whole.clear()
            if not _linear(known, rels, learnt, whole) or not _propagate(known, rels, learnt):
                break
    for t, parts in rels:  # whole groups from published or learnt zeros
        if t in known or len(parts) < 2:
            continue
        unknown = [p for p in parts if p not in known]
        if len(unknown) == 1 and sum(known[p] for p in parts if p in known) == 0:
            whole[t] = unknown[0]
    whole = {t: p for t, p in whole.items() if t not in known and p not in known}
    return Disclosure(dict(learnt), whole)


# ----------------------------------------------------------------------------- published
_VALUE_DIMS = {
    # table: (value dim, {count column: level}, levels never published)
    "risk": ("status", {"n_students": TOTAL, "n_at_risk": "a_risque"}, ("non_a_risque",)),
}


def _value_columns(name: str, df: pd.DataFrame) -> tuple[str, dict[str, str], tuple[str, ...]]:
    if name in _VALUE_DIMS:
        return _VALUE_DIMS[name]
    bands = {c: c.removeprefix("n_") for c in df.columns if c.startswith("n_")}
    return "band", {"n": TOTAL, **bands}, ()


def published_cells(tables: Mapping[str, pd.DataFrame]
                    ) -> tuple[dict[Key, int | None], list[Relation]]:
    """Items and additive relations an attacker reads off published report tables.

    ``tables`` are the long frames of a report (``risk``, ``results``; the ``students``
    list of a school report is not an aggregate and is skipped), as written to CSV or
    Parquet. Each row is ``(row dims, breakdown, group)`` with one count per value of a
    value dim (status, band) plus the total; a missing count is hidden, and a value that
    is never published (``non_a_risque``) is an unknown item too. Relations: every
    ``Total`` over its parts, the ``ensemble`` group over each breakdown's groups, and
    the total count over its values.
    """
    published: dict[Key, int | None] = {}
    relations: list[Relation] = []
    for name, df in tables.items():
        if name not in ("risk", "results") or df.empty:
            continue
        value_dim, columns, unpublished = _value_columns(name, df)
        dims = [c for c in df.columns if c not in columns and c not in ("breakdown", "group")
                and not c.startswith(("pct_", "n_")) and c != "n"]
        margins = [d for d in dims if (df[d].astype(str) == TOTAL).any()]
        levels = [lv for lv in columns.values() if lv != TOTAL] + list(unpublished)
        coords_of: dict[Key, dict[str, str]] = {}
        for rec in df.to_dict("records"):
            base = {d: str(rec[d]) for d in dims}
            if rec["breakdown"] != OVERALL:
                base[str(rec["breakdown"])] = str(rec["group"])
            for col, level in columns.items():
                c = {**base, value_dim: level}
                k = item_key(name, c)
                v = rec[col]
                published[k] = None if pd.isna(v) else int(v)
                coords_of[k] = c
            for level in unpublished:
                c = {**base, value_dim: level}
                k = item_key(name, c)
                published.setdefault(k, None)
                coords_of[k] = c
        groups: dict[tuple[str, Key], set[Key]] = defaultdict(set)
        for k, c in coords_of.items():
            for d in [*margins, *[g for g in c if g not in dims and g != value_dim],
                      value_dim]:
                if c.get(d, TOTAL) != TOTAL:
                    groups[(d, item_key(name, {**c, d: TOTAL}))].add(k)
        for (d, parent), kids in groups.items():
            if parent in published:
                if d == value_dim and len(kids) != len(levels):
                    continue
                relations.append((parent, tuple(sorted(kids))))
    return published, relations


def attack_tables(tables: Mapping[str, pd.DataFrame], min_cell_size: int) -> Disclosure:
    """Run :func:`recover_by_subtraction` on published report tables (:func:`published_cells`)
    and keep what discloses something: a suppressed count recovered, a never-published
    count (``non_a_risque``) recovered in ``1 .. min_cell_size - 1``, a suppressed group
    size whose whole group sits in one part."""
    published, relations = published_cells(tables)
    found = recover_by_subtraction(published, relations)
    suppressed = _suppressed_keys(tables)
    values = {k: v for k, v in found.values.items()
              if k in suppressed or 0 < v < min_cell_size}
    whole = {t: p for t, p in found.whole_groups.items() if t in suppressed}
    return Disclosure(values, whole)


def _suppressed_keys(tables: Mapping[str, pd.DataFrame]) -> set[Key]:
    """Keys of the counts shown as missing (hidden) in the published tables."""
    published, _ = published_cells(tables)
    never = {k for k in published if any(f"={lv}" in k for name, (_, _, unpub)
                                          in _VALUE_DIMS.items() for lv in unpub)}
    return {k for k, v in published.items() if v is None and k not in never}
