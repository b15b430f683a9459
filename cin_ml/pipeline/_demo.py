"""The notebooks' workspace and the end-to-end demo."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from cin_ml.pipeline._access import run_predict
from cin_ml.pipeline._audit import run_audit
from cin_ml.pipeline._card import run_card
from cin_ml.pipeline._common import Progress, _quiet
from cin_ml.pipeline._explain import run_explain
from cin_ml.pipeline._governance import run_promote, run_register, run_review
from cin_ml.pipeline._simulate import run_simulate
from cin_ml.pipeline._train import run_train
from cin_ml.pipeline._virtual import run_deidentify, run_virtualize

DEMO_MIN_STUDENTS = 20000
"""Smallest simulated CSS the demo accepts. Below it the dropout model's test cohort (a few
hundred students) is too small to beat the traditional indicator reliably, and the promotion
gate refuses it, as it should (measured: 10,000 students, seed 7, recall 0.609 vs 0.609)."""

SCORED_TASK = "ecriture_4e"
"""The task whose champion the demo scores for each role."""

def prepare_workspace(workdir: Path | str = "workspace", *, students: int = 20000,
                      seed: int = 7, progress: Progress = _quiet) -> dict[str, Path]:
    """Simulated source extract, its de-identified copy (with re-keyed truth) and a virtual
    CSS under ``workdir``, each built only if missing: what the notebooks start from.

    Uses the public demo pseudonymization key: simulated data only.
    """
    work = Path(workdir)
    paths = {"source": work / "data" / "source", "truth": work / "data" / "source_truth",
             "deidentified": work / "data" / "deidentified",
             "deidentified_truth": work / "data" / "deidentified_truth",
             "virtual": work / "data" / "virtual",
             "virtual_report": work / "reports" / "virtual_css" / "virtual"}
    if not (paths["source"] / "students.parquet").is_file():
        run_simulate(paths["source"], paths["truth"], students=students, seed=seed,
                     progress=progress)
    if not (paths["deidentified"] / "students.parquet").is_file():
        run_deidentify(paths["source"], paths["deidentified"], truth=paths["truth"],
                       truth_out=paths["deidentified_truth"], demo_key=True, progress=progress)
    if not (paths["virtual"] / "students.parquet").is_file():
        run_virtualize(paths["source"], paths["virtual"], demo_key=True, seed=seed,
                       report_out=paths["virtual_report"], progress=progress)
    return paths


DEMO_AUTHOR = "ds.demo"


def _fairness_fails(verdicts: dict) -> list[str]:
    """``BREAKDOWN:METRIC`` of every fail verdict of an audit summary."""
    return sorted(f"{b}:{m}" for b, per in verdicts.items() for m, v in per.items()
                  if v == "fail")


def _demo_school(source: Path) -> str:
    """The primary school with the most students due to be scored (end of grade 3)."""
    import pandas as pd

    enr = pd.read_parquet(source / "enrolments.parquet", columns=["school_year", "school_id",
                                                                   "grade"])
    last = enr[(enr["school_year"] == enr["school_year"].max()) & (enr["grade"] == 3)]
    return str(last["school_id"].value_counts().idxmax())


def run_demo(workdir: Path | str = ".", *, students: int = 20000, seed: int = 7,
             progress: Progress = _quiet, show: Callable[[dict], None] | None = None) -> dict:
    """The whole chain on the embedded store, as a data scientist, the ethics committee and
    an operator would run it, then scoring of the latest cohort by role.

    simulate → virtualize (de-identify + SDV + report) → for each task: train on the virtual
    CSS → audit → explain → cards (fr, en) → register → scripted committee review (known
    fairness fails are accepted explicitly, with conditions) → promote to @champion; then
    ``cin-ml predict`` for a school, the CSS and the ministry on the latest cohort.
    Returns a summary with every output's location and the time of each step.
    """
    import os
    import time

    from cin_ml.errors import ConfigError
    from cin_ml.registry import (
        GOVERNANCE_DEMO_ENV,
        GOVERNANCE_KEY_ENV,
        GOVERNANCE_KEY_FILE_ENV,
        load_governance_settings,
    )

    if students < DEMO_MIN_STUDENTS:
        raise ConfigError(f"[demo] --students must be at least {DEMO_MIN_STUDENTS:,} (got "
                          f"{students:,}): smaller test cohorts cannot show the dropout model "
                          f"beating the traditional indicator, so its promotion is refused")
    from cin_ml.tasks import TASKS

    if not (os.environ.get(GOVERNANCE_KEY_ENV) or os.environ.get(GOVERNANCE_KEY_FILE_ENV)):
        # the demo's governance history is authenticated with the PUBLIC demo key: it
        # protects nothing (anyone can forge its events); said plainly, and for this demo only
        os.environ[GOVERNANCE_DEMO_ENV] = "1"
        progress(f"no governance key configured: this demo uses the PUBLIC demo governance "
                 f"key ({GOVERNANCE_DEMO_ENV}=1), which anyone can use to forge events; set "
                 f"{GOVERNANCE_KEY_FILE_ENV} to a secret file outside the store for real use")
    work = Path(workdir)
    data, reports = work / "data", work / "reports"
    gov = load_governance_settings()
    reviewer, operator = gov.people.committee[0], gov.people.operators[0]
    times: dict[str, float] = {}
    out: dict = {"tasks": {}, "reviewer": reviewer}

    def step(name: str, fn: Callable[[], dict]) -> dict:
        t = time.perf_counter()
        progress(name)
        result = fn()
        times[name] = round(time.perf_counter() - t, 1)
        return result

    sim = step("simulate", lambda: run_simulate(
        data / "source", data / "source_truth", students=students, seed=seed,
        progress=progress))
    if show is not None:
        show(sim)
    out["simulate"] = {k: sim[k] for k in ("out", "truth_out", "tasks")}
    virt = step("virtualize", lambda: run_virtualize(
        data / "source", data / "virtual", demo_key=True, seed=seed,
        report_out=reports / "virtual_css" / "virtual", progress=progress))
    out["virtualize"] = virt
    for task in TASKS:
        tr = step(f"{task}: train", lambda t=task: run_train(data / "virtual", t,
                                                             progress=progress))
        rid = tr["run_id"]
        audit = step(f"{task}: audit", lambda r=rid: run_audit(r, progress=progress))
        step(f"{task}: explain", lambda r=rid: run_explain(r, out=reports / "explain",
                                                            progress=progress))
        # one build writes and logs both languages (Markdown, HTML) and the JSON
        card = step(f"{task}: card", lambda r=rid: run_card(
            r, lang="fr", out=reports / "cards", ready=True, progress=progress))
        reg = step(f"{task}: register", lambda r=rid: run_register(r, author=DEMO_AUTHOR))
        fails = _fairness_fails(audit["verdicts"])
        conditions = (
            "Decision support only; a person decides. Accepted fairness findings are to be "
            "monitored at every scoring: " + ", ".join(fails) if fails else
            "Decision support only; a person decides.")
        step(f"{task}: review", lambda m=reg["model"], v=reg["version"], c=conditions, f=fails:
             run_review(m, str(v), approve=True, reviewer=reviewer,
                        comment="Demo: approved for a supervised pilot (scripted review).",
                        conditions=c, accept_fairness=tuple(f), cards_out=reports / "cards"))
        promoted = step(f"{task}: promote", lambda m=reg["model"], v=reg["version"]: run_promote(
            m, str(v), alias="champion", operator=operator,
            why="Demo: approved by the committee", cards_out=reports / "cards"))
        out["tasks"][task] = {
            "run_id": rid, "model": f"{reg['model']}@champion", "version": reg["version"],
            "test_auc": tr["metrics"]["test_auc"], "indicator_auc": tr["metrics"]["indicator_auc"],
            "fairness": audit["worst_verdict"], "accepted_fairness_fails": fails,
            "cards": {lang: str(Path(card["html"]).with_name(f"card.{lang}.html"))
                      for lang in ("fr", "en")},
            "reviewed_cards": promoted.get("reviewed_local") or {}}
    model = out["tasks"][SCORED_TASK]["model"]
    school = _demo_school(data / "source")
    preds = {}
    for role, scope in (("school", school), ("css", "CSS001"), ("ministry", "network")):
        preds[role] = step(f"predict ({role} {scope})", lambda r=role, sc=scope: run_predict(
            model, data / "source", r, sc, out=reports, progress=progress))
    out["predict"] = {r: p.get("out") for r, p in preds.items()}
    out["times"] = times
    out["total_s"] = round(sum(times.values()), 1)
    from cin_ml.registry import resolve_governance_key, resolve_registry_store

    key = resolve_governance_key(resolve_registry_store())
    out["governance_key"] = {"describe": key.describe(), "demo": key.demo,
                             "anchor": str(key.anchor.path)}
    return out
