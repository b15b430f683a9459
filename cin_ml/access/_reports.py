"""Role-scoped reports: what a school principal, a CSS direction and the ministry may see.

- ``school``: the school's students by name (when the extract has names), ranked by risk,
  with their risk band, top reasons and explanation sheet; plus the school's own tables.
- ``css``: counts and rates by school and grade, broken down by sex, intervention plan,
  language group and immigration; no student row.
- ``ministry``: the same by CSS, for the CSS whose agreements cover the use only.

Aggregates (the network's reporting style) come in two families, each a long table:
``risk`` (students due for a prediction: counts at risk, rates) and ``results`` (results
bands 0-60 / 61-74 / 75-100 by competency and grade in the last school year). Counts below
the role's threshold are hidden with complementary suppression (:mod:`._suppress`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cin_ml.access._attack import OVERALL
from cin_ml.access._score import GROUP_LEVELS, GROUPS, RISK_BANDS, ScoredCohort
from cin_ml.access._settings import BandSettings
from cin_ml.access._suppress import TOTAL, Cube, Suppression, build_cube, suppress
from cin_ml.errors import DataError, PolicyError
from cin_ml.schema import COMPETENCIES

STATUS = ("a_risque", "non_a_risque")


@dataclass(frozen=True, eq=False)
class RoleReport:
    """What one role may see for one scope. ``tables`` are the published frames (CSV /
    Parquet); ``sheets`` maps a student id to their explanation sheet (school role only)."""

    role: str
    scope: str
    task: str
    school_year: int
    tables: dict[str, pd.DataFrame]
    suppression: Suppression | None
    meta: dict = field(default_factory=dict)
    sheets: dict[str, str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    """Display name of each school (``school_name``) or CSS (``css_name``) of the tables,
    when the extract carries them; pages fall back to the id."""

    @property
    def row_dim(self) -> str:
        """The dim of the report's rows: ``css_id`` (ministry) or ``school_id``."""
        return "css_id" if self.role == "ministry" else "school_id"

    def grand_totals(self) -> dict[str, int | None]:
        """``n_students`` and ``n_at_risk`` of the whole scope as published (``None`` where
        hidden)."""
        risk = scope_rows(self.tables["risk"], [self.row_dim, "grade"])
        g = risk.loc[risk["breakdown"] == OVERALL].iloc[0]
        return {c: None if pd.isna(g[c]) else int(g[c]) for c in ("n_students", "n_at_risk")}

    def to_dict(self) -> dict:
        return {"role": self.role, "scope": self.scope, "task": self.task,
                "school_year": self.school_year,
                "tables": {k: int(len(v)) for k, v in sorted(self.tables.items())},
                "suppression": None if self.suppression is None else self.suppression.to_dict(),
                "n_sheets": len(self.sheets), **self.meta}


def _names(tables: Mapping[str, pd.DataFrame]) -> dict[str, str]:
    """School and CSS display names by id (public names of institutions, not of people)."""
    out: dict[str, str] = {}
    for table, key, name in (("schools", "school_id", "school_name"),
                             ("css", "css_id", "css_name")):
        df = tables.get(table)
        if df is not None and name in df.columns:
            out.update(zip(df[key].astype(str), df[name].astype(str), strict=True))
    return out


def scope_rows(df: pd.DataFrame, dims: Sequence[str]) -> pd.DataFrame:
    """Rows of ``df`` summed over each of ``dims``: its ``Total`` rows, or all rows where a
    dim has no total (one level only: that level is the whole)."""
    for d in dims:
        tot = df[d].astype(str) == TOTAL
        if tot.any():
            df = df.loc[tot]
    return df


def _plan_active(plans: pd.DataFrame, year: int) -> set[str]:
    end = plans["end_year"].astype("Float64")
    active = (plans["start_year"] <= year) & (end.isna() | (end >= year)).fillna(False)
    return set(plans.loc[active.fillna(False).astype(bool), "student_id"].astype(str))


def results_records(tables: Mapping[str, pd.DataFrame], bands: BandSettings,
                    school_year: int | None = None) -> pd.DataFrame:
    """One row per primary student × competency of ``school_year`` (default: the last):
    ``student_id, css_id, school_id, grade, competency, band`` and the breakdowns.

    The band is that of the student's mean mark over the year's report cards (0-60 /
    61-74 / 75-100 with the default bounds); a competency with no mark is left out.
    """
    enr = tables["enrolments"]
    year = int(enr["school_year"].max()) if school_year is None else school_year
    e = enr.loc[(enr["school_year"] == year) & enr["grade"].between(1, 6),
                ["student_id", "school_id", "grade"]]
    m = tables["marks"]
    m = m.loc[(m["school_year"] == year) & m["mark"].notna()]
    mean = (m.assign(competency=m["competency"].astype(str))
            .groupby(["student_id", "competency"], observed=True)["mark"].mean().reset_index())
    rec = mean.merge(e, on="student_id", how="inner")
    lo, hi = bands.results
    labels = bands.result_labels()
    rec["band"] = np.where(rec["mark"] <= lo, labels[0],
                           np.where(rec["mark"] <= hi, labels[1], labels[2]))
    st = tables["students"].set_index("student_id")
    ids = rec["student_id"]
    plans = _plan_active(tables["intervention_plans"], year)
    rec = rec.assign(
        css_id=ids.map(st["css_id"]).astype(str), school_id=rec["school_id"].astype(str),
        grade=rec["grade"].astype(int).astype(str),
        sex=ids.map(st["sex"]).astype(str),
        intervention_plan=np.where(ids.astype(str).isin(plans), "oui", "non"),
        language_group=ids.map(st["language_group"]).astype(str),
        immigration_generation=ids.map(st["immigration_generation"]).astype(str))
    return rec.drop(columns=["mark"])


def _single(records: pd.DataFrame, row_dims: Sequence[str]) -> set[str]:
    """Row dims with one level in ``records``: their total would repeat that level's row
    (the ``Total`` of one CSS, the grade total when only grade 3 is scored), so none is
    published."""
    return {d for d in row_dims if records[d].nunique() <= 1}


def _cubes(risk: pd.DataFrame, results: pd.DataFrame, row_dims: Sequence[str],
           bands: BandSettings) -> dict[str, list[Cube]]:
    risk = risk.assign(grade=risk["grade"].astype(str),
                       status=np.where(risk["flagged"], STATUS[0], STATUS[1]))
    rows = [*row_dims, "grade"]
    out: dict[str, list[Cube]] = {"risk": [], "results": []}
    for g in GROUPS:
        dims = [*rows, g, "status"]
        no_total = _single(risk, rows)
        out["risk"].append(build_cube(risk, "risk", rows,
                                      {g: GROUP_LEVELS[g], "status": STATUS},
                                      margins=[d for d in dims if d not in no_total]))
        if len(results):
            dims = [*rows, "competency", "band", g]
            no_total = _single(results, rows) | {"competency"}
            out["results"].append(build_cube(
                results, "results", rows,
                {"competency": COMPETENCIES, "band": bands.result_labels(),
                 g: GROUP_LEVELS[g]}, margins=[d for d in dims if d not in no_total]))
    return out


def _long(cubes: list[Cube], hidden: frozenset, row_dims: Sequence[str],
          extra: Sequence[str], value_dim: str, values: Sequence[str]) -> pd.DataFrame:
    """Published long table: one row per (rows, extra, breakdown, group); one count column
    per value of ``value_dim`` plus its total, ``<NA>`` where hidden."""
    frames = []
    for i, c in enumerate(cubes):
        g = c.dims[-1] if value_dim != c.dims[-1] else c.dims[-2]
        f = c.frame
        if i > 0:
            f = f.loc[f[g] != TOTAL]  # the "ensemble" rows come from the first cube only
        f = f.assign(n=f["n"].where(~f["key"].isin(hidden)).astype("Int64"),
                     breakdown=np.where(f[g] == TOTAL, OVERALL, g),
                     group=f[g].astype(str))
        frames.append(f[[*row_dims, *extra, "breakdown", "group", value_dim, "n"]])
    f = pd.concat(frames, ignore_index=True)
    keys = [*row_dims, *extra, "breakdown", "group"]
    wide = f.set_index([*keys, value_dim])["n"].unstack(value_dim)
    wide = wide.reindex(columns=[TOTAL, *values]).astype("Int64")
    wide.columns = ["n", *[f"n_{v}" for v in values]]
    return wide.reset_index()


def _publish(risk: pd.DataFrame, results: pd.DataFrame, row_dims: Sequence[str],
             bands: BandSettings, min_cell_size: int
             ) -> tuple[dict[str, pd.DataFrame], Suppression]:
    cubes = _cubes(risk, results, row_dims, bands)
    all_cubes = cubes["risk"] + cubes["results"]
    values = {k: int(v) for c in all_cubes for k, v in zip(c.frame["key"], c.frame["n"],
                                                           strict=True)}
    relations = [r for c in all_cubes for r in c.relations()]
    sup = suppress(values, relations, min_cell_size)
    out = {}
    r = _long(cubes["risk"], sup.hidden, row_dims, ["grade"], "status", STATUS)
    r = r.rename(columns={"n": "n_students", "n_a_risque": "n_at_risk"}).drop(
        columns=["n_non_a_risque"])
    r["pct_at_risk"] = (100 * r["n_at_risk"].astype("Float64")
                        / r["n_students"].astype("Float64")).round(1)
    out["risk"] = r
    if cubes["results"]:
        labels = bands.result_labels()
        t = _long(cubes["results"], sup.hidden, row_dims, ["grade", "competency"], "band",
                  labels)
        for lab in labels:
            t[f"pct_{lab}"] = (100 * t[f"n_{lab}"].astype("Float64")
                               / t["n"].astype("Float64")).round(1)
        out["results"] = t
    return out, sup


def school_report(cohort: ScoredCohort, tables: Mapping[str, pd.DataFrame], school_id: str,
                  bands: BandSettings, *, explanations: Mapping | None = None,
                  lang: str = "fr", min_cell_size: int = 1) -> RoleReport:
    """A principal's report: the school's students ranked by risk, and the school's tables.

    Only students whose current school is ``school_id`` appear. Names are included when
    the extract carries them (source side; the principal's own students).
    """
    schools = tables["schools"]
    if school_id not in set(schools["school_id"].astype(str)):
        raise DataError(f"school {school_id!r} is not in the extract's schools table")
    f = cohort.frame
    mine = f.loc[f["school_id"] == school_id].sort_values(["score"], ascending=False)
    lst = pd.DataFrame({"rank": np.arange(1, len(mine) + 1), "student_id": mine.index},
                       index=mine.index)
    st = tables["students"].set_index("student_id")
    for col in ("last_name", "first_name"):
        if col in st.columns:
            lst[col] = st[col].reindex(mine.index).to_numpy()
    lst = lst.assign(grade=mine["grade"], score=mine["score"].round(4),
                     risk_band=mine["risk_band"], flagged=mine["flagged"])
    exps = explanations or {}
    lst["reasons"] = [" | ".join(exps[s].sentences(lang)) if s in exps else ""
                      for s in mine.index]
    lst["sheet"] = [f"sheets/{s}.{lang}.html" if s in exps else "" for s in mine.index]
    res = results_records(tables, bands)
    res = res.loc[res["school_id"] == school_id]
    published, sup = _publish(mine, res, ["school_id"], bands, min_cell_size)
    published["students"] = lst.reset_index(drop=True)
    meta = {"school_id": school_id, "css_id": str(schools.set_index("school_id")
                                                  .loc[school_id, "css_id"]),
            "n_students": int(len(mine)), "n_flagged": int(mine["flagged"].sum()),
            "risk_bands": {b: int((mine["risk_band"] == b).sum()) for b in RISK_BANDS},
            "nominative": "last_name" in lst.columns, "min_cell_size": min_cell_size,
            "threshold": cohort.threshold, "watch_from": bands.watch_ratio * cohort.threshold}
    return RoleReport("school", school_id, cohort.task, cohort.school_year, published, sup,
                      meta, names=_names(tables))


def css_report(cohort: ScoredCohort, tables: Mapping[str, pd.DataFrame], css_id: str,
               bands: BandSettings, *, min_cell_size: int) -> RoleReport:
    """A CSS direction's report: aggregates by school and grade, no student row."""
    known = set(tables["css"]["css_id"].astype(str)) if "css" in tables else set(
        cohort.frame["css_id"])
    if css_id not in known:
        raise DataError(f"CSS {css_id!r} is not in the extract (known: "
                        f"{', '.join(sorted(known)[:8])})")
    f = cohort.frame.loc[cohort.frame["css_id"] == css_id]
    if f.empty:
        raise DataError(f"CSS {css_id!r}: no student is due for a {cohort.task} prediction")
    res = results_records(tables, bands)
    res = res.loc[res["css_id"] == css_id]
    published, sup = _publish(f, res, ["school_id"], bands, min_cell_size)
    meta = {"css_id": css_id, "n_schools": int(f["school_id"].nunique()),
            "min_cell_size": min_cell_size}
    return RoleReport("css", css_id, cohort.task, cohort.school_year, published, sup, meta,
                      names=_names(tables))


def ministry_report(cohort: ScoredCohort, tables: Mapping[str, pd.DataFrame],
                    consenting: Sequence[str], excluded: Mapping[str, str],
                    bands: BandSettings, *, scope: str = "network",
                    min_cell_size: int) -> RoleReport:
    """The ministry's report: aggregates by CSS over the ``consenting`` CSS only.

    ``excluded`` maps each CSS left out to why (its consent gaps); it is reported, not its
    data. ``scope`` is ``network`` or one consenting CSS.
    """
    keep = sorted(set(consenting))
    if scope != "network":
        if scope not in keep:
            why = excluded.get(scope, "not in the extract")
            raise PolicyError(f"ministry scope {scope!r}: no valid data-use agreement covers "
                              f"this use ({why})")
        keep = [scope]
    if not keep:
        raise PolicyError("ministry report: no CSS in the extract has a valid data-use "
                          "agreement for this use; nothing may be published")
    f = cohort.frame.loc[cohort.frame["css_id"].isin(keep)]
    res = results_records(tables, bands)
    res = res.loc[res["css_id"].isin(keep)]
    published, sup = _publish(f, res, ["css_id"], bands, min_cell_size)
    meta = {"css_included": keep, "css_excluded": dict(sorted(excluded.items())),
            "min_cell_size": min_cell_size}
    return RoleReport("ministry", scope, cohort.task, cohort.school_year, published, sup, meta,
                      names=_names(tables))
