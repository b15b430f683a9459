"""The README's step-by-step chain, verbatim, as a new user runs it.

The commands are parsed from the README (only the simulated CSS is smaller), each runs as its
own ``cin-ml`` process in an empty folder with a clean environment (no MLFLOW_TRACKING_URI,
no cin-ml variable), and the README's stock-MLflow snippet then loads the champion. A crash of
the documented path once hid behind a fixture that set MLFLOW_TRACKING_URI for every test:
nothing here is set up behind the user's back.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
BIN = Path(sys.executable).parent
STUDENTS = "5000"
DOCUMENTED = {"data", "reports", "mlruns"}


def _block(after: str, lang: str) -> str:
    """The first fenced ``lang`` block of the README after the line containing ``after``."""
    tail = README.split(after, 1)[1]
    return re.search(rf"```{lang}\n(.*?)```", tail, re.S).group(1)


def readme_chain() -> list[list[str]]:
    """The step-by-step commands: continuation lines joined, comments dropped, split like a
    shell would."""
    text = _block("Step by step, the same chain from the CLI", "bash").replace("\\\n", " ")
    return [shlex.split(line, comments=True) for line in text.splitlines() if line.strip()]


REPO = Path(__file__).resolve().parents[1]


def clean_env(home: Path) -> dict[str, str]:
    """What a fresh login shell with the project's venv on PATH has, the checkout under test
    first on the import path (what its editable install gives; a venv made from another
    worktree would otherwise run that worktree's code)."""
    return {"PATH": f"{BIN}{os.pathsep}/usr/bin{os.pathsep}/bin", "HOME": str(home),
            "LANG": "C.UTF-8", "TMPDIR": os.environ.get("TMPDIR", "/tmp"),
            "PYTHONPATH": str(REPO)}


def test_the_chain_runs_this_checkout(tmp_path):
    done = subprocess.run([str(BIN / "python"), "-c", "import cin_ml; print(cin_ml.__file__)"],
                          cwd=tmp_path, env=clean_env(tmp_path), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).resolve() == REPO / "cin_ml" / "__init__.py"


def test_the_chain_is_what_the_readme_says():
    chain = readme_chain()
    assert [c[:2] for c in chain] == [
        ["cin-ml", "simulate"], ["cin-ml", "virtualize"], ["cin-ml", "train"],
        ["cin-ml", "audit"], ["cin-ml", "explain"], ["cin-ml", "card"],
        ["cin-ml", "register"], ["cin-ml", "review"], ["cin-ml", "promote"],
        ["cin-ml", "predict"]]
    assert all(c[c.index("--version") + 1] != "1" for c in chain if "--version" in c), \
        "the README must not make users guess version numbers"


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    """The README chain, run once for this module: ``(work, env, outputs, run_id)``."""
    root = tmp_path_factory.mktemp("readme")
    work, home = root / "work", root / "home"
    work.mkdir()
    home.mkdir()
    env = clean_env(home)
    outputs: dict[str, str] = {}
    run_id = None
    for argv in readme_chain():
        argv = [STUDENTS if i and argv[i - 1] == "--students" else a
                for i, a in enumerate(argv)]
        if run_id is not None:
            argv = [run_id if a == "RUN_ID" else a for a in argv]
        assert "RUN_ID" not in argv, f"no run id known before: {argv}"
        out = _run(argv, work, env)
        outputs[argv[1]] = out
        if argv[1] == "train":
            run_id = re.search(r"\b[0-9a-f]{32}\b", out).group(0)
    return work, env, outputs, run_id


def _run(argv: list[str], cwd: Path, env: dict) -> str:
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    out = done.stdout + done.stderr
    assert done.returncode == 0, f"{shlex.join(argv)} failed:\n{out[-3000:]}"
    assert "Traceback" not in out, f"{shlex.join(argv)} printed a traceback:\n{out}"
    return out


@pytest.mark.slow
def test_readme_chain_verbatim_in_a_clean_environment(chain):
    work, env, outputs, run_id = chain
    home = Path(env["HOME"])
    assert re.search(r"cin-ecriture-4e v1\b", outputs["register"]), outputs["register"]
    assert "approved" in outputs["review"].lower(), outputs["review"]
    assert "champion" in outputs["promote"] and "v1" in outputs["promote"], outputs["promote"]
    assert "--student" in outputs["explain"], "explain must say where student ids come from"
    # the committee's decision reaches the reader's folder, next to the card (fr and en)
    reviewed = work / "reports" / "cards" / run_id / "reviewed"
    for step in ("review", "promote"):
        assert f"card with the decision: reports/cards/{run_id}/reviewed/card.fr.html" \
            in outputs[step], outputs[step]
    fr = (reviewed / "card.fr.html").read_text(encoding="utf-8")
    en = (reviewed / "card.en.html").read_text(encoding="utf-8")
    assert "Approuvé" in fr and "a.tremblay" in fr and "30 juin 2027" in fr
    assert "en service (modèle de production)" in fr
    assert "Approved" in en and "June 30, 2027" in en and "serving (production model)" in en
    pinned = (work / "reports" / "cards" / run_id / "card.sha256").read_text().split()[0]
    assert pinned in fr and pinned in en

    # the school's list holds only that school's students
    report = work / "reports" / "predict" / "school-001003"
    listed = set(pd.read_csv(report / "students.csv", dtype=str)["student_id"])
    enr = pd.read_parquet(work / "data" / "source" / "enrolments.parquet")
    last = enr[(enr["school_year"] == enr["school_year"].max()) & (enr["grade"] == 3)]
    here = set(last.loc[last["school_id"].astype(str) == "001003", "student_id"].astype(str))
    assert listed and listed == here, "the list is not exactly that school's grade-3 students"
    said = re.search(r"school 001003: ([\d,]+) students scored", outputs["predict"])
    assert said and int(said.group(1).replace(",", "")) == len(listed), outputs["predict"]

    # the README's stock-MLflow snippet loads the champion and scores like cin-ml did
    snippet = _block("A stock MLflow client loads the promoted model", "python")
    check = snippet + f"""
import pandas as pd
from mlflow import MlflowClient
run_id = {run_id!r}
client = MlflowClient()
X = pd.read_parquet(client.download_artifacts(run_id, "evaluation/test_features.parquet"))
pred = pd.read_parquet(client.download_artifacts(run_id,
                                                "evaluation/test_predictions.parquet"))
from cin_ml.tracking import load_run_bundle
# the served model's own scores (`score` is each rolling-origin fold model's out-of-time one)
X = X.merge(pred[["student_id", "served_score"]], on="student_id")
p = model.predict(load_run_bundle(run_id).encode(X))
assert abs(pd.Series(p).to_numpy() - X["served_score"].to_numpy()).max() < 1e-9
print("pyfunc ok", len(p))
"""
    done = subprocess.run([str(BIN / "python"), "-c", check], cwd=work, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "pyfunc ok" in done.stdout

    # nothing outside the documented folders (no ./mlflow.db, no stray mlruns elsewhere)
    assert {p.name for p in work.iterdir()} <= DOCUMENTED, sorted(p.name for p in work.iterdir())
    assert not list(home.rglob("mlflow.db")) and not list(home.rglob("mlruns"))


SCREENSHOTS = Path(__file__).resolve().parents[1] / "reports" / "screenshots"


def look_at(browser, page_file: Path, lang: str, name: str, a4: bool = True) -> dict:
    """Open a page as its reader would, at 1280 px and at phone width, and check what any
    reader would notice: the page's language, every chart drawn, no console error, nothing
    wider than the screen, no template left unrendered. Screenshots go to
    ``reports/screenshots/`` (git-ignored) for a person to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    found: dict = {}
    for width, suffix in ((1280, ""), (390, ".phone")):
        page = browser.new_page(viewport={"width": width, "height": 900})
        errors: list[str] = []
        page.on("console", lambda m, e=errors: e.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc, e=errors: e.append(str(exc)))
        page.goto(page_file.as_uri())
        page.wait_for_load_state("load")
        assert page.evaluate("document.documentElement.lang") == lang, page_file
        broken = page.evaluate("[...document.images].filter(i => !i.complete || "
                               "i.naturalWidth === 0).length")
        assert broken == 0, f"{page_file}: {broken} image(s) not drawn"
        assert not errors, f"{page_file}: console errors {errors}"
        text = page.inner_text("body")
        assert text.strip(), f"{page_file} is empty"
        for leftover in ("{{", "{%", "Traceback", "undefined"):
            assert leftover not in text, f"{page_file} shows {leftover!r}"
        if width == 1280:
            wide = page.evaluate("document.documentElement.scrollWidth")
            assert wide <= width + 1, f"{page_file} is {wide} px wide at {width} px"
            found["height_px"] = page.evaluate("document.documentElement.scrollHeight")
        page.screenshot(path=str(SCREENSHOTS / f"{name}{suffix}.png"))
        if width == 1280 and name.startswith("card"):
            # every chart explained: a caption under each figure, a legend drawn in it
            figs = page.evaluate("[...document.querySelectorAll('figure')].map(f => "
                                 "(f.querySelector('figcaption')?.innerText || '').trim())")
            assert figs and all(figs), f"{page_file}: a chart without a legend ({figs})"
        page.close()
    if not a4:
        return found
    # printed on A4 (210 mm = 794 px at 96 dpi): nothing wider than the sheet
    page = browser.new_page(viewport={"width": 794, "height": 1123})
    page.goto(page_file.as_uri())
    page.emulate_media(media="print")
    wide = page.evaluate("document.documentElement.scrollWidth")
    page.screenshot(path=str(SCREENSHOTS / f"{name}.a4.png"))
    page.close()
    assert wide <= 794 + 1, f"{page_file} is {wide} px wide printed on A4"
    return found


ACCESS_PAGES = ("school-001003", "css-CSS001", "ministry-network")
CHAIN_PAGES = ("card.fr", "card.en", "card.reviewed.fr", "card.reviewed.en", "sheet.fr",
               "sheet.en", *ACCESS_PAGES, "css-CSS001.schools", "ministry-network.css",
               "virtual_css.fr", "virtual_css.en")


@pytest.fixture(scope="module")
def chain_pages(chain):
    """Every page the README chain gives a reader: ``{name: (path, lang)}``."""
    work, env, outputs, run_id = chain
    ids = re.search(r"highest-risk flagged: ([^.]+)\.", outputs["explain"]).group(1)
    student = ids.split(",")[0].strip()
    for lang in ("fr", "en"):
        _run(["cin-ml", "explain", "--run", run_id, "--student", student, "--lang", lang],
             work, env)
    for role, scope in (("css", "CSS001"), ("ministry", "network")):
        _run(["cin-ml", "predict", "--model", "cin-ecriture-4e@champion", "--data",
              "data/source", "--role", role, "--scope", scope, "--demo-key"], work, env)
    # the card as a reader finds it after review and promotion (the committee's decision)
    _run(["cin-ml", "card", "--run", run_id, "--lang", "fr"], work, env)
    reports = work / "reports"
    pages = {f"card.{lang}": (reports / "cards" / run_id / f"card.{lang}.html", lang)
             for lang in ("fr", "en")}
    # explained again (--student) and carded again after the decision: the card, its hash
    # and so the reviewed copy beside it are unchanged
    pages |= {f"card.reviewed.{lang}": (
        reports / "cards" / run_id / "reviewed" / f"card.{lang}.html", lang)
        for lang in ("fr", "en")}
    pages |= {f"sheet.{lang}": (reports / "explain" / run_id / f"{student}.{lang}.html", lang)
              for lang in ("fr", "en")}
    for folder in ACCESS_PAGES:
        pages[folder] = (reports / "predict" / folder / "report.html", "fr")
    # one page per school / CSS, linked from the summary table (issue 18)
    for folder, sub in (("css-CSS001", "schools"), ("ministry-network", "css")):
        unit = sorted((reports / "predict" / folder / sub).glob("*.html"))[0]
        assert f'href="{sub}/{unit.name}"' in pages[folder][0].read_text(encoding="utf-8")
        pages[f"{folder}.{sub}"] = (unit, "fr")
    vreport = next((reports / "virtual_css").rglob("report.html"))
    pages["virtual_css.fr"] = (vreport, "fr")
    pages["virtual_css.en"] = (vreport.with_name("report.en.html"), "en")
    assert set(pages) == set(CHAIN_PAGES)
    return pages


@pytest.mark.slow
def test_pages_open_in_a_real_browser(chain_pages, browser):
    for name, (path, lang) in chain_pages.items():
        assert path.is_file(), f"{name}: {path} was not written"
        seen = look_at(browser, path, lang, name)
        if name == "css-CSS001":  # a CSS direction reads it: at most 6 screens of 800 px
            assert seen["height_px"] <= 6 * 800, seen
    reviewed = chain_pages["card.reviewed.fr"][0].read_text(encoding="utf-8")
    assert "Approuvé" in reviewed and "a.tremblay" in reviewed and "30 juin 2027" in reviewed


@pytest.mark.slow
@pytest.mark.parametrize("name", CHAIN_PAGES)
def test_every_page_speaks_one_language(chain_pages, name):
    """tests/test_page_language.py's check on the pages of the README chain."""
    from page_words import language_problems

    path, lang = chain_pages[name]
    problems = language_problems(path.read_text(encoding="utf-8"), lang)
    assert not problems, f"{path}: {problems}"
