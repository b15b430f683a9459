"""What the pages of a role report show, read off its published tables only.

Every number a page prints comes from ``RoleReport.tables`` (the frames the attacker of
:mod:`._attack` checks), formatted for the reader's language; a hidden count prints ``x``
and so does any rate computed from it. Labels come from the glossary (groups, grades,
competencies) and ``templates/report_text.toml`` (the reports' own wording).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import pandas as pd

from cin_ml.access._attack import OVERALL, TOTAL
from cin_ml.access._reports import RoleReport, scope_rows
from cin_ml.access._score import GROUPS
from cin_ml.glossary import attribute_label, fmt_int, fmt_percent, group_label, has_label, label
from cin_ml.schema import COMPETENCIES

HIDDEN = "x"
UNIT_DIRS = {"css": "schools", "ministry": "css"}
"""Folder of the one-page-per-unit files of an aggregate report (a school of a CSS, a CSS
of the network), beside ``report.html``."""


@lru_cache(maxsize=1)
def report_text() -> dict:
    """Wording of the reports, ``{lang: {...}}`` (``templates/report_text.toml``)."""
    raw = resources.files("cin_ml.access").joinpath("templates/report_text.toml").read_bytes()
    return tomllib.loads(raw.decode("utf-8"))


def _missing(v) -> bool:
    return v is None or pd.isna(v)


def count(v, lang: str) -> str:
    """A published count (``x`` where hidden)."""
    return HIDDEN if _missing(v) else fmt_int(int(v), lang)


def percent(v, lang: str) -> str:
    """A published percentage 0-100 (``x`` where hidden)."""
    return HIDDEN if _missing(v) else fmt_percent(float(v) / 100, lang, 1)


def number(v) -> float | None:
    return None if _missing(v) else float(v)


def group_name(attribute: str, value: str, lang: str) -> str:
    """The reader's word for one group of a breakdown (``oui``/``non`` plan codes too)."""
    if attribute == "intervention_plan":
        value = {"oui": "1", "non": "0"}.get(value, value)
    return group_label(attribute, value, lang)


def grade_name(grade: str, lang: str) -> str:
    key = f"grade.{grade}"
    return label(key, lang) if has_label(key) else grade


def competency_name(code: str, lang: str) -> str:
    key = f"competency.{code}"
    return label(key, lang) if has_label(key) else code


def band_name(band: str, lang: str) -> str:
    """``0-60`` as ``0 à 60`` / ``0 to 60``."""
    lo, _, hi = band.partition("-")
    return report_text()[lang]["band_range"].format(lo=lo, hi=hi)


@dataclass(frozen=True)
class Scope:
    """One unit of a report (a school, a CSS) or the whole scope (``unit=None``)."""

    report: RoleReport
    unit: str | None = None

    def _rows(self, name: str) -> pd.DataFrame:
        df = self.report.tables.get(name)
        if df is None or df.empty:
            return pd.DataFrame()
        row = self.report.row_dim
        if self.unit is None:
            return scope_rows(df, [row])
        return df.loc[df[row].astype(str) == self.unit]

    def risk(self) -> dict:
        """``n_students``, ``n_at_risk``, ``pct_at_risk`` over all grades (``None``
        where hidden)."""
        r = scope_rows(self._rows("risk"), ["grade"])
        g = r.loc[r["breakdown"] == OVERALL].iloc[0]
        return {c: number(g[c]) for c in ("n_students", "n_at_risk", "pct_at_risk")}

    def groups(self, lang: str) -> list[dict]:
        """Students and students at risk of each group of each breakdown."""
        r = scope_rows(self._rows("risk"), ["grade"])
        out = []
        for b in GROUPS:
            for rec in r.loc[r["breakdown"] == b].to_dict("records"):
                out.append({"attribute": attribute_label(b, lang), "breakdown": b,
                            "group": group_name(b, str(rec["group"]), lang),
                            "n_students": count(rec["n_students"], lang),
                            "n_at_risk": count(rec["n_at_risk"], lang),
                            "pct_at_risk": percent(rec["pct_at_risk"], lang),
                            "pct": number(rec["pct_at_risk"])})
        return out

    def results(self, lang: str) -> list[dict]:
        """Results bands of each grade × competency (all students of the breakdown)."""
        res = self._rows("results")
        if res.empty:
            return []
        res = res.loc[(res["breakdown"] == OVERALL) & (res["grade"].astype(str) != TOTAL)]
        bands = [c.removeprefix("pct_") for c in res.columns if c.startswith("pct_")]
        order = {c: i for i, c in enumerate(COMPETENCIES)}
        res = res.assign(_g=res["grade"].astype(str), _c=res["competency"].map(order))
        out = []
        for rec in res.sort_values(["_g", "_c"]).to_dict("records"):
            shares = [number(rec[f"pct_{b}"]) for b in bands]
            grade, comp = (grade_name(str(rec["grade"]), lang),
                           competency_name(str(rec["competency"]), lang))
            out.append({"label": f"{grade} · {comp}", "grade": grade, "competency": comp,
                        "n": count(rec["n"], lang),
                        "bands": [percent(v, lang) for v in shares],
                        "shares": None if any(v is None for v in shares) else shares})
        return out

    def low_band_by_competency(self, lang: str) -> list[str]:
        """Share of results in the lowest band per competency, all grades together."""
        res = self._rows("results")
        if res.empty:
            return []
        res = scope_rows(res, ["grade"])
        res = res.loc[res["breakdown"] == OVERALL].set_index("competency")
        low = next(c for c in res.columns if c.startswith("pct_"))
        return [percent(res[low].get(c), lang) for c in competencies(self.report)]


def competencies(r: RoleReport) -> list[str]:
    """Competencies of the results table, in the network's order."""
    res = r.tables.get("results")
    if res is None or res.empty:
        return []
    have = set(res["competency"].astype(str))
    return [c for c in COMPETENCIES if c in have]


def result_bands(r: RoleReport) -> list[str]:
    res = r.tables.get("results")
    if res is None:
        return []
    return [c.removeprefix("pct_") for c in res.columns if c.startswith("pct_")]


def units(r: RoleReport) -> list[str]:
    """The report's rows (schools or CSS), by display name."""
    ids = set(r.tables["risk"][r.row_dim].astype(str)) - {TOTAL}
    return sorted(ids, key=lambda u: (r.names.get(u, u), u))


def unit_href(r: RoleReport, unit: str) -> str:
    """Relative path of ``unit``'s page from ``report.html``."""
    return f"{UNIT_DIRS[r.role]}/{unit}.html"


def scored_grades(r: RoleReport, lang: str) -> str:
    """The grade(s) just completed by the students scored (``3e année``)."""
    g = sorted(set(r.tables["risk"]["grade"].astype(str)) - {TOTAL})
    return ", ".join(grade_name(x, lang) for x in g)
