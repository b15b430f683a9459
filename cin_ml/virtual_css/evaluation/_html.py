"""The virtual CSS report as a self-contained page, in French (default) and English.

Each page is entirely in its language: every check is named in words, shown with its measure,
its target and what it means; numbers follow the locale (Babel); charts are drawn per
language and inlined as PNG. Wording: ``templates/report_text.toml``.
"""

from __future__ import annotations

import base64
import io
import tomllib
from functools import cache
from pathlib import Path

import pandas as pd

from cin_ml.glossary import fmt_number
from cin_ml.tasks import task_label

__all__ = ["LANGS", "REPORT_FILES", "render_report_html", "report_figures", "report_pages"]

LANGS = ("fr", "en")
REPORT_FILES = {"fr": "report.html", "en": "report.en.html"}
"""Page of each language in the report folder (French is the default page)."""

_PLOT_COLUMNS = ("exam_mark", "m_ecriture_g3", "m_raisonner_g3", "abs_per_year", "cohort_year",
                 "term_sd")
_TEMPLATES = Path(__file__).resolve().parent / "templates"


@cache
def report_text() -> dict:
    """Wording of the report, ``{lang: {...}}``."""
    with (_TEMPLATES / "report_text.toml").open("rb") as fh:
        return tomllib.load(fh)


def _num(x: float, lang: str, digits: int = 3) -> str:
    return fmt_number(x, lang, digits)


def _checks(d: dict) -> list[dict]:
    """One row per verdict: id, measured value, target (kind, value), passed, higher-better."""
    t, fid, priv = d["details"].get("targets", {}), d["fidelity"], d["privacy"]
    ratios = [u["ratio"] for u in d["utility"].values() if "ratio" in u]
    spec = {
        "quality": (fid["quality"], "at_least", t.get("quality_target", 0.85), True),
        "validity": (fid["validity"], "at_least", t.get("validity_target", 1.0), True),
        "no_exact_copies": (priv["exact_match_rate"], "exactly", 0.0, False),
        "dcr": (priv["dcr"]["closer_to_training"], "at_most",
                t.get("dcr_max_closer_to_training", 0.6), False),
        "membership_inference": (priv["membership_inference"]["auc"], "at_most",
                                 t.get("mia_max_auc", 0.6), False),
        "utility": (min(ratios) if ratios else float("nan"), "at_least",
                    t.get("utility_min_ratio", 0.95), True),
    }
    return [{"id": k, "value": v, "kind": kind, "target": tv, "higher": hi,
             "passed": bool(d["verdicts"].get(k))}
            for k, (v, kind, tv, hi) in spec.items() if k in d["verdicts"]]


def report_figures(report, source_students: pd.DataFrame, virtual_students: pd.DataFrame,
                   lang: str = "fr") -> dict:
    """Matplotlib figures in ``lang``: source vs virtual distributions, measures vs targets."""
    from matplotlib.figure import Figure  # no pyplot: a notebook's inline backend stays

    t = report_text()[lang]
    figs = {}
    cols = [c for c in _PLOT_COLUMNS if c in source_students and c in virtual_students]
    fig = Figure(figsize=(11, 6.2), constrained_layout=True)
    axes = fig.subplots(2, 3)
    for ax, c in zip(axes.flat, cols, strict=False):
        r = pd.to_numeric(source_students[c], errors="coerce").dropna()
        v = pd.to_numeric(virtual_students[c], errors="coerce").dropna()
        if c == "cohort_year":  # whole years: one bar per year, labelled every other year
            years = sorted(set(r.astype(int)) | set(v.astype(int)))
            rs = r.astype(int).value_counts(normalize=True).reindex(years, fill_value=0)
            vs = v.astype(int).value_counts(normalize=True).reindex(years, fill_value=0)
            x = range(len(years))
            ax.bar([i - 0.2 for i in x], rs, width=0.4, label=t["source_label"])
            ax.bar([i + 0.2 for i in x], vs, width=0.4, label=t["virtual_label"])
            ax.set_xticks(list(x)[::2], [str(y) for y in years[::2]], rotation=45,
                          fontsize=7)
        else:
            lo, hi = min(r.min(), v.min()), max(r.max(), v.max())
            bins = 30 if hi > lo else 1
            ax.hist(r, bins=bins, range=(lo, hi), alpha=0.55, density=True,
                    label=t["source_label"])
            ax.hist(v, bins=bins, range=(lo, hi), alpha=0.55, density=True,
                    label=t["virtual_label"])
        ax.set_title(t["columns"].get(c, c), fontsize=9, wrap=True)
        ax.set_yticks([])
    for ax in list(axes.flat)[len(cols):]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=8)
    figs["distributions"] = fig

    rows = _checks(report.to_dict())
    fig2 = Figure(figsize=(8, 0.55 * len(rows) + 1.2), constrained_layout=True)
    ax = fig2.subplots()
    names = [t["checks"][r["id"]] for r in rows]
    ax.barh(names, [r["value"] for r in rows],
            color=["#2e7d32" if r["passed"] else "#c62828" for r in rows])
    ax.scatter([r["target"] for r in rows], names, marker="|", s=400, color="black",
               zorder=3, label=t["target_marker"])
    for i, r in enumerate(rows):
        side = t["better_higher"] if r["higher"] else t["better_lower"]
        ax.annotate(f"{_num(r['value'], lang)} ({side})", (1.07, i), va="center",
                    fontsize=8, annotation_clip=False)
    ax.set_xlim(0, 1.05)
    ax.invert_yaxis()
    ax.legend(fontsize=8, loc="lower left")
    figs["checks"] = fig2
    return figs


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode()


def render_report_html(report, figures: dict, lang: str = "fr", name: str = "") -> str:
    """The report page in ``lang`` (figures from :func:`report_figures` in that language)."""
    import jinja2

    d, t = report.to_dict(), report_text()[lang]
    target = {"at_least": t["at_least"], "at_most": t["at_most"], "exactly": t["exactly"]}
    checks = [{**r, "name": t["checks"][r["id"]], "meaning": t["meaning"][r["id"]],
               "value_text": _num(r["value"], lang),
               "target_text": target[r["kind"]].format(x=_num(r["target"], lang, 2))}
              for r in _checks(d)]
    n = d["details"].get("n_students", {})
    sizes = t["sizes"].format(**{k: _num(n.get(k, 0), lang, 0)
                                 for k in ("train", "holdout", "virtual")})
    utility = []
    for task, u in d["utility"].items():
        row = {"task": task_label(task, "name", lang)}
        if "ratio" in u:
            row |= {"auc_source": _num(u["auc_source"], lang),
                    "auc_virtual": _num(u["auc_virtual"], lang),
                    "ratio": _num(u["ratio"], lang),
                    "overlap": _num(100 * u.get("top_driver_overlap", 0), lang, 0) + " %",
                    "drivers": list(zip(u["top_drivers"]["source"],
                                        u["top_drivers"]["virtual"], strict=False))}
        else:
            row["skipped"] = t["skipped"].format(why=u.get("skipped", "?"))
        utility.append(row)
    other = next(x for x in LANGS if x != lang)
    images = {k: _png(f) for k, f in figures.items()}
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(_TEMPLATES),
                             autoescape=True, undefined=jinja2.StrictUndefined)
    return env.get_template("report.html.j2").render(
        t=t, lang=lang, name=name, passed=d["passed"], checks=checks, sizes=sizes,
        utility=utility, images=images, digests=d["digests"],
        other_href=REPORT_FILES[other])


def report_pages(report, source_students: pd.DataFrame, virtual_students: pd.DataFrame,
                 name: str = "") -> dict[str, str]:
    """Both pages, ``{file name: html}`` (:data:`REPORT_FILES`)."""
    pages = {}
    for lang in LANGS:
        figs = report_figures(report, source_students, virtual_students, lang)
        pages[REPORT_FILES[lang]] = render_report_html(report, figs, lang, name)
    return pages
