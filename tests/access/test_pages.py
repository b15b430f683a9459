"""Issue 18: the CSS report a CSS direction can use, on a realistic 28-school CSS (the demo's
20,000 simulated students). Schools with few students at risk stay listed with their
totals (cells are suppressed, not schools), no total repeats its only part, one page per
school reachable from the summary table, a summary page of at most 6 screens in Chromium,
each page in one language with no raw code, every chart with its legend, and the
attacker still recovers nothing from the published tables.

The cohort is scored by a stand-in model (seeded scores, ~13 % flagged, as a served model
at its threshold): what is tested here is publication, not prediction.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cin_ml.access import TOTAL

SCREENSHOTS = Path(__file__).resolve().parents[2] / "reports" / "screenshots"
SCREEN = (1280, 800)


class _Scores:
    def predict(self, X):
        return np.random.default_rng(3).beta(1.2, 4.0, len(X))


class _StandIn:
    """The RunBundle surface :func:`score_cohort` reads; no input feature needed."""

    task = "ecriture_4e"
    features: list = []
    threshold = 0.45
    model = _Scores()

    def encode(self, X):
        return X


@pytest.fixture(scope="module")
def css28(tmp_path_factory):
    from cin_ml.access import css_report, load_access_settings, score_cohort
    from cin_ml.simulator import SimulationConfig, simulate

    tables = simulate(SimulationConfig(n_css=1, n_students=20000, seed=7)).tables
    settings = load_access_settings()
    cohort = score_cohort(_StandIn(), tables, settings.bands)
    report = css_report(cohort, tables, "CSS001", settings.bands,
                        min_cell_size=settings.css.min_cell_size)
    return {"tables": tables, "cohort": cohort, "report": report,
            "root": tmp_path_factory.mktemp("css28")}


def _write(pages: dict[str, str], folder: Path) -> Path:
    for name, html in pages.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(html, encoding="utf-8")
    return folder / "report.html"


def _text(html: str) -> str:
    """The words a reader sees (tags, styles and attributes dropped)."""
    html = re.sub(r"<style.*?</style>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_every_school_stays_listed_with_its_total(css28):
    from cin_ml.access import render_pages
    from cin_ml.glossary import fmt_int

    r, f = css28["report"], css28["cohort"].frame
    sizes = f.groupby("school_id").size()
    flagged = f.groupby("school_id")["flagged"].sum()
    assert len(sizes) == 28
    few = flagged[(flagged > 0) & (flagged < 5)].index  # hidden by the rule, primary
    assert len(few) >= 3, "the stand-in must give schools with few students at risk"
    html = render_pages(r, lang="fr")["report.html"]
    rows = re.findall(r'<tr><td class="l"><a href="schools/(\w+)\.html">[^<]+</a></td>'
                      r"<td>([^<]*)</td><td>([^<]*)</td>", html)
    assert [s for s, _, _ in rows] == sorted(sizes.index, key=lambda s: (r.names[s], s))
    for school, n_text, at_risk in rows:
        assert n_text == fmt_int(int(sizes[school]), "fr"), school  # its total, published
        if school in few:
            assert at_risk == "x"
    assert sum(at_risk == "x" for _, _, at_risk in rows) < 28


def test_no_total_row_repeats_its_only_part(css28):
    for name, df in css28["report"].tables.items():
        for dim in ("school_id", "grade"):
            if (df[dim] == TOTAL).any():
                assert df.loc[df[dim] != TOTAL, dim].nunique() >= 2, (name, dim)
    assert TOTAL not in set(css28["report"].tables["risk"]["grade"])  # grade 3 only


def test_the_attacker_recovers_nothing_from_the_published_tables(css28, tmp_path):
    """Read back as a CSS direction gets them (CSV), the tables give nothing away, and the
    pages are the same when rendered from what was read back: they show nothing more."""
    import dataclasses

    from cin_ml.access import attack_tables, render_pages

    r = css28["report"]
    back = {}
    for name, df in r.tables.items():
        df.to_csv(tmp_path / f"{name}.csv", index=False)
        back[name] = pd.read_csv(tmp_path / f"{name}.csv",
                                 dtype={"school_id": str, "grade": str, "group": str,
                                        "competency": str})
    assert not attack_tables(back, 5)
    assert r.tables["risk"]["n_at_risk"].isna().any()  # suppression did run
    again = render_pages(dataclasses.replace(r, tables=back), lang="fr")
    assert again == render_pages(r, lang="fr")


FRENCH = ("élèves", "à risque", "année", "Retour", "confidentielle", "moyenne", "lecture",
          "écriture", "Groupe", "résultats", "garçons")
ENGLISH = ("students", "at risk", "grade", "Back", "confidential", "average", "reading",
           "writing", "results", "boys", "network")


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_each_page_is_in_one_language_without_raw_codes(css28, lang):
    from cin_ml.access import render_pages

    other = ENGLISH if lang == "fr" else FRENCH
    pages = render_pages(css28["report"], lang=lang)
    assert len(pages) == 29
    for name, html in pages.items():
        assert f'<html lang="{lang}">' in html
        text = _text(html)
        assert not re.findall(r"\b[a-z]+_[a-z0-9_-]+\b", text), name  # school_id, n_0-60...
        assert "Total" not in text and "CSS001" not in text, name
        low = re.sub(r"\b\w+\.csv\b", " ", text.lower())  # file names are not words
        assert not [w for w in other if re.search(rf"\b{w.lower()}\b", low)], name
        assert text.count("%") > 10, name
        if lang == "fr":
            assert re.search(r"\d,\d\u00a0%", html), name  # 12,8 % (Babel, fr_CA)
        else:
            assert re.search(r"\d\.\d%", html), name


def test_ministry_title_and_axis_are_in_one_language(network_free_ministry):
    from cin_ml.access import render_pages

    for lang, axis, bad in (("fr", "% à risque", "network"), ("en", "% at risk", "réseau")):
        text = _text(render_pages(network_free_ministry, lang=lang)["report.html"])
        assert axis in text and bad not in text.lower()


@pytest.fixture(scope="module")
def network_free_ministry(css28):
    """The ministry report over the one consenting CSS of the fixture."""
    from cin_ml.access import load_access_settings, ministry_report

    s = load_access_settings()
    return ministry_report(css28["cohort"], css28["tables"], ["CSS001"], {}, s.bands,
                           min_cell_size=s.ministry.min_cell_size)


def test_summary_fits_six_screens_and_every_school_page_opens(css28, browser):
    """In Chromium at 1280 x 800: the summary page is at most 6 screens high, nothing is
    wider than the screen (nor than A4 when printed), every chart has a legend, and each
    school's link opens its page (named after the school, with a way back)."""
    from cin_ml.access import render_pages

    r = css28["report"]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for lang in ("fr", "en"):
        summary = _write(render_pages(r, lang=lang), css28["root"] / lang)
        page = browser.new_page(viewport={"width": SCREEN[0], "height": SCREEN[1]})
        page.goto(summary.as_uri())
        height = page.evaluate("document.body.scrollHeight")
        assert height <= 6 * SCREEN[1], f"{lang}: summary is {height} px high"
        assert page.evaluate("document.documentElement.scrollWidth") <= SCREEN[0] + 1
        charts = page.evaluate("[...document.querySelectorAll('figure.chart')]"
                               ".map(f => f.querySelectorAll('ul.legend li').length)")
        assert len(charts) >= 3 and min(charts) >= 1, charts
        page.screenshot(path=str(SCREENSHOTS / f"css-28-schools.{lang}.png"), full_page=True)
        links = page.evaluate("[...document.querySelectorAll('table.summary a')]"
                              ".map(a => [a.getAttribute('href'), a.textContent])")
        assert len(links) == 28
        assert all((summary.parent / href).is_file() for href, _ in links)
        hidden = page.evaluate("[...document.querySelectorAll('table.summary tr')]"
                               ".findIndex(tr => tr.cells[2] && tr.cells[2].innerText == 'x')")
        assert hidden > 1  # a school with few students at risk is listed, and opens
        for i in sorted({0, hidden - 2, len(links) - 1}):  # header rows: 2
            href, name = links[i]
            page.goto(summary.as_uri())
            page.click(f"table.summary a[href='{href}']")
            page.wait_for_load_state("load")
            assert page.url.endswith(href)
            assert page.inner_text("h1") == name
            assert page.evaluate("document.documentElement.scrollWidth") <= SCREEN[0] + 1
            assert page.evaluate("document.body.scrollHeight") <= 4 * SCREEN[1]
            if i == 0:
                page.screenshot(path=str(SCREENSHOTS / f"css-28-schools.school.{lang}.png"),
                                full_page=True)
            page.click("a[href='../report.html']")
            assert page.url == summary.as_uri()
        page.close()
        for f in (summary, summary.parent / links[0][0]):  # A4 portrait, printed
            page = browser.new_page(viewport={"width": 794, "height": 1123})
            page.emulate_media(media="print")
            page.goto(f.as_uri())
            assert page.evaluate("document.documentElement.scrollWidth") <= 795, f
            page.close()
