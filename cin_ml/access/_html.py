"""Render a :class:`RoleReport` as one self-contained HTML page with charts."""

from __future__ import annotations

import base64
import io
import tomllib
from datetime import date
from functools import lru_cache
from importlib import resources

import pandas as pd

from cin_ml.access._reports import OVERALL, RoleReport
from cin_ml.access._suppress import TOTAL
from cin_ml.tasks import task_label


@lru_cache(maxsize=1)
def report_text() -> dict:
    """Wording of the reports, ``{lang: {...}}`` (``templates/report_text.toml``)."""
    raw = resources.files("cin_ml.access").joinpath("templates/report_text.toml").read_bytes()
    return tomllib.loads(raw.decode("utf-8"))


def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _row_dim(r: RoleReport) -> str:
    return "css_id" if r.role == "ministry" else "school_id"


def _risk_charts(r: RoleReport) -> list[tuple[str, str]]:
    import matplotlib.pyplot as plt

    risk = r.tables["risk"]
    row = _row_dim(r)
    over = risk.loc[(risk["breakdown"] == OVERALL) & (risk["grade"] == TOTAL)]
    out = []
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(over) + 1.2))
    vals = over["pct_at_risk"].astype("Float64").fillna(0).to_numpy(float)
    labels = [f"{v} (x)" if pd.isna(p) else str(v)
              for v, p in zip(over[row], over["pct_at_risk"], strict=True)]
    ax.barh(labels, vals, color="#b00020")
    ax.set_xlabel("% at risk / % à risque")
    ax.invert_yaxis()
    out.append(("risk_by_" + row, _png(fig)))
    tot = risk.loc[(risk[row] == TOTAL) & (risk["grade"] == TOTAL)
                   & (risk["breakdown"] != OVERALL)]
    if len(tot):
        fig, ax = plt.subplots(figsize=(7, 0.3 * len(tot) + 1.2))
        lab = [f"{b}: {g}" + (" (x)" if pd.isna(p) else "")
               for b, g, p in zip(tot["breakdown"], tot["group"], tot["pct_at_risk"],
                                  strict=True)]
        ax.barh(lab, tot["pct_at_risk"].astype("Float64").fillna(0).to_numpy(float),
                color="#5a6fb0")
        ax.set_xlabel("% at risk / % à risque")
        ax.invert_yaxis()
        out.append(("risk_by_group", _png(fig)))
    return out


def _results_chart(r: RoleReport) -> list[tuple[str, str]]:
    import matplotlib.pyplot as plt

    res = r.tables.get("results")
    if res is None or res.empty:
        return []
    row = _row_dim(r)
    t = res.loc[(res[row] == TOTAL) & (res["breakdown"] == OVERALL) & (res["grade"] != TOTAL)]
    pct = [c for c in t.columns if c.startswith("pct_")]
    fig, ax = plt.subplots(figsize=(7, 0.3 * len(t) + 1.2))
    left = pd.Series(0.0, index=t.index)
    for c, colour in zip(pct, ("#b00020", "#e0a030", "#3a8f4a"), strict=False):
        v = t[c].astype("Float64").fillna(0).astype(float)
        ax.barh([f"{g} · {comp}" for g, comp in zip(t["grade"], t["competency"], strict=True)],
                v, left=left, color=colour, label=c.removeprefix("pct_"))
        left = left + v
    ax.set_xlabel("%")
    ax.invert_yaxis()
    ax.legend(loc="lower right", fontsize=8)
    return [("results_bands", _png(fig))]


def _table_html(df: pd.DataFrame) -> str:
    shown = df.astype(object).where(df.notna(), "x")
    return shown.to_html(index=False, classes="data", border=0, na_rep="x", escape=True)


def render_report(r: RoleReport, *, lang: str = "fr", model_ref: str = "",
                  produced: date | None = None) -> str:
    """The report as a self-contained HTML page (charts embedded as PNG)."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("cin_ml.access", "templates"),
                      autoescape=select_autoescape(["html", "j2"]))
    t = report_text()[lang]
    risk = r.tables["risk"]
    res = r.tables.get("results")
    res_over = None if res is None else res.loc[res["breakdown"] == OVERALL]
    students = r.tables.get("students")
    cols = None if students is None else [c for c in students.columns]
    return env.get_template("report.html.j2").render(
        r=r, t=t, lang=lang, task_text=task_label(r.task, "outcome", lang), model_ref=model_ref,
        produced=(produced or date.today()).isoformat(),
        charts={"risk": _risk_charts(r), "results": _results_chart(r)},
        risk_table=_table_html(risk), results_table=(
            None if res_over is None or res_over.empty else _table_html(res_over)),
        students=None if students is None else students.to_dict("records"),
        students_cols=cols)
