"""Render a :class:`RoleReport` as self-contained HTML pages with charts, in one language.

An aggregate report (CSS, ministry) is a summary page (``report.html``: key figures, one
row per school or CSS linking to its page, the scope's charts) and one page per school or
CSS (``schools/<id>.html``, ``css/<id>.html``); a school's report is one page (its students,
its tables). Every number comes from the published tables (:mod:`._view`).
"""

from __future__ import annotations

from datetime import date

from cin_ml.access import _charts
from cin_ml.access._reports import RoleReport
from cin_ml.access._view import (
    Scope,
    band_name,
    competencies,
    competency_name,
    count,
    grade_name,
    percent,
    report_text,
    result_bands,
    scored_grades,
    unit_href,
    units,
)
from cin_ml.glossary import fmt_date, fmt_percent, label
from cin_ml.tasks import task_label

__all__ = ["render_pages", "render_report", "report_text"]


def _env():
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    return Environment(loader=PackageLoader("cin_ml.access", "templates"),
                       autoescape=select_autoescape(["html", "j2"]),
                       undefined=StrictUndefined)


def _title(r: RoleReport, t: dict) -> str:
    if r.role == "ministry" and r.scope == "network":
        return t["scope_network"]
    return r.names.get(r.scope, r.scope)


def _group_chart(rows: list[dict], t: dict, lang: str) -> dict:
    order = list(dict.fromkeys(x["breakdown"] for x in rows))
    colours = {b: _charts.GROUP_COLOURS[i % len(_charts.GROUP_COLOURS)]
               for i, b in enumerate(order)}
    legend = [(colours[b], next(x["attribute"] for x in rows if x["breakdown"] == b))
              for b in order]
    return _charts.rate_chart([(x["group"], x["pct"]) for x in rows], lang=lang,
                              axis=t["axis_at_risk"], series=t["series_at_risk"],
                              hidden=t["hidden_legend"],
                              colours=[colours[x["breakdown"]] for x in rows], legend=legend)


def _results_chart(rows: list[dict], r: RoleReport, t: dict, lang: str) -> dict | None:
    if not rows:
        return None
    return _charts.bands_chart([(x["label"], x["shares"]) for x in rows],
                               [band_name(b, lang) for b in result_bands(r)], lang=lang,
                               axis=t["axis_results"], hidden=t["hidden_legend"])


def _common(r: RoleReport, lang: str, model_ref: str, produced: date | None) -> dict:
    t = report_text()[lang]
    bands_note = ""
    if "threshold" in r.meta:
        bands_note = t["bands_note"].format(
            high=fmt_percent(r.meta["threshold"], lang),
            watch=fmt_percent(r.meta["watch_from"], lang))
    return {"r": r, "t": t, "lang": lang, "model_ref": model_ref, "bands_note": bands_note,
            "task_text": task_label(r.task, "outcome", lang),
            "produced": fmt_date(produced or date.today(), lang),
            "year": f"{r.school_year}-{(r.school_year + 1) % 100:02d}",
            "grades": scored_grades(r, lang), "title": _title(r, t),
            "bands": [band_name(b, lang) for b in result_bands(r)]}


def _scope_block(scope: Scope, r: RoleReport, t: dict, lang: str) -> dict:
    groups = scope.groups(lang)
    results = scope.results(lang)
    risk = scope.risk()
    return {"risk": risk,
            "figures": {"n_students": count(risk["n_students"], lang),
                        "n_at_risk": count(risk["n_at_risk"], lang),
                        "pct_at_risk": percent(risk["pct_at_risk"], lang)},
            "groups": groups, "results": results,
            "group_chart": (_group_chart(groups, t, lang)
                            if any(g["pct"] is not None for g in groups) else None),
            "results_chart": _results_chart(results, r, t, lang)}


def _students(r: RoleReport, lang: str) -> list[dict] | None:
    lst = r.tables.get("students")
    if lst is None:
        return None
    t = report_text()[lang]
    out = []
    for rec in lst.to_dict("records"):
        out.append({**rec, "grade": grade_name(str(rec["grade"]), lang),
                    "score": fmt_percent(float(rec["score"]), lang),
                    "risk_band": label(f"risk_band.{rec['risk_band']}", lang),
                    "risk_class": str(rec["risk_band"]),
                    "flagged": t["yes"] if rec["flagged"] else t["no"],
                    "reasons": [s for s in str(rec.get("reasons") or "").split(" | ") if s],
                    "calm": not rec["flagged"]})
    return out


def render_pages(r: RoleReport, *, lang: str = "fr", model_ref: str = "",
                 produced: date | None = None) -> dict[str, str]:
    """Every page of the report in ``lang``: ``{relative path: html}``, ``report.html``
    first, then one page per school (CSS report) or CSS (ministry report)."""
    env = _env()
    common = _common(r, lang, model_ref, produced)
    t = common["t"]
    pages: dict[str, str] = {}
    whole = _scope_block(Scope(r), r, t, lang)
    summary = []
    if r.role != "school":
        rows = []
        for u in units(r):
            s = Scope(r, u)
            risk = s.risk()
            rows.append({"id": u, "name": r.names.get(u, u), "href": unit_href(r, u),
                         "n_students": count(risk["n_students"], lang),
                         "n_at_risk": count(risk["n_at_risk"], lang),
                         "pct_at_risk": percent(risk["pct_at_risk"], lang),
                         "pct": risk["pct_at_risk"], "low": s.low_band_by_competency(lang)})
        summary = rows
        avg = whole["risk"]["pct_at_risk"]
        whole["unit_chart"] = None if len(rows) < 2 else _charts.rate_chart(
            [(x["name"], x["pct"]) for x in rows], lang=lang, axis=t["axis_at_risk"],
            series=t["series_at_risk"], hidden=t["hidden_legend"],
            average=None if avg is None else (
                t["average_" + r.role].format(v=percent(avg, lang)), avg))
        comps = [competency_name(c, lang) for c in competencies(r)]
        for u in rows:
            block = _scope_block(Scope(r, u["id"]), r, t, lang)
            pages[u["href"]] = env.get_template("unit.html.j2").render(
                **common, unit=u, block=block)
    else:
        comps = []
    pages = {"report.html": env.get_template("report.html.j2").render(
        **common, block=whole, summary=summary, competencies=comps,
        students=_students(r, lang)), **pages}
    return pages


def render_report(r: RoleReport, *, lang: str = "fr", model_ref: str = "",
                  produced: date | None = None) -> str:
    """The report's summary page (``report.html``) in ``lang`` (:func:`render_pages` for
    every page)."""
    return render_pages(r, lang=lang, model_ref=model_ref, produced=produced)["report.html"]
