"""Reasons that are true of the model and of the student (issue 16), on a simulated CSS.

For each task, on one simulation and one cohort split:

1. **AUC cost of the monotone constraints** (``[monotone]`` of ``configs/models.toml``):
   the same training with every family free, with the configured constraints, and with
   each constrained family alone (its own cost); goal: cost <= 0.005 AUC per task;
2. **contradictions**: every test student (flagged or not) explained with the configured
   settings, and every stated reason re-checked against the model from its record
   (``cin_ml.explain.check_reasons``); goal: 0;
3. **agreement with the truth**: among flagged students, each stated reason's direction
   against the sign of the simulator's true effect (``cin_ml.simulator.true_feature_signs``);
   goal >= 95 % of (student, reason) pairs; inert drivers never the first reason;
4. **stability**: the first reason of students flagged by all of 3 retrainings with
   different seeds, the same in all three (goal >= 85 %), with all marks as one reason,
   at the subject level (French, mathematics), the family level (a competency's marks
   together) and the feature level.

2-4 are measured at each reason level; the configured one (``[explain] reason_level`` and
``reason_level_by_task``) is reported as ``configured_level``.

Run: PYTHONPATH=. .venv/bin/python benchmarks/reasons.py [--n-students 50000]
[--out reports/reasons.json] [--no-families] (about 8 min on one thread for 50k students
without the per-family costs, each family adds one training per task).

Measured here (50k students, seed 7, one thread; test cohorts 3,008 and 3,044 students):

- test AUC free / constrained (seed 7): ecriture_4e 0.9224 / 0.9230 (cost -0.0006);
  decrochage 0.7856 / 0.7838 (cost +0.0018);
- cost of each family alone (lecture, ecriture, resoudre, raisonner, absences):
  ecriture_4e -0.0002, -0.0007, -0.0009, -0.0007, -0.0002;
  decrochage +0.0004, +0.0014, -0.0001, +0.0020, -0.0004;
- contradictions, every test student, seeds 7, 8, 9 (configured level):
  ecriture_4e 0 of 2,305, 2,473, 2,296 reasons; decrochage 0 of 3,635, 3,476, 3,398;
- truth agreement among flagged students (seeds 7, 8, 9): ecriture_4e 100 %, 99.0 %,
  100 % (626 pairs); decrochage 97.2 %, 98.0 %, 99.3 % (1,239 pairs); inert driver as
  first reason: 0 and 0;
- first-reason stability, marks / subject / family / feature level: ecriture_4e
  1.00 / **1.00** / 0.80 / 0.66; decrochage **1.00** / 0.62 / 0.43 / 0.70.

(configured level in bold: ``reason_level_by_task`` in ``configs/explain.toml``; 418 and
326 students flagged by all three models; no family's constraint costs more than 0.005.)
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

TASKS = ("ecriture_4e", "decrochage")
LEVELS = ("marks", "subject", "family", "feature")


def _settings(threads: int, seed: int, monotone=None):
    from cin_ml.models import load_model_settings

    s = load_model_settings()
    upd = {"lightgbm": s.lightgbm.model_copy(update={"num_threads": threads, "seed": seed}),
           "evaluation": s.evaluation.model_copy(update={"n_boot": 0})}
    if monotone is not None:
        upd["monotone"] = monotone
    return s.model_copy(update=upd)


def _free(mono, keep: tuple[str, ...] = ()):
    return mono.model_copy(update={f: ("free" if f not in keep else v)
                                   for f, v in mono.families().items()})


def _explain_all(result, level: str, threads: int):
    import numpy as np

    from cin_ml.explain import (
        check_reasons,
        compute_contributions,
        explain_students,
        family_map,
        load_explain_settings,
        model_directions,
        reference_values,
    )

    es = load_explain_settings()[0]
    X = result.test_features.set_index("student_id")[list(result.features)]
    X.index = X.index.astype(str)
    test = result.test.assign(student_id=result.test["student_id"].astype(str))
    flags = dict(zip(test["student_id"], test["flagged"].astype(bool), strict=True))
    maps = result.category_maps
    ref = reference_values(X, list(maps))
    contribs = compute_contributions(result.booster, X, np.array(X.index, dtype=object),
                                     num_threads=threads)
    students = explain_students(
        result.booster, X, list(X.index), families=family_map(list(X.columns)),
        reference=ref, top_k=es.top_k, contribs=contribs,
        directions=model_directions(contribs, X, ref),
        min_direction=es.min_direction_consistency,
        top_k_protective=es.top_k_protective, materiality=es.materiality, level=level,
        monotone=result.monotone.get("features", {}), category_maps=maps,
        scores=dict(zip(test["student_id"], test["score"], strict=True)), flagged=flags,
        num_threads=threads)
    check = check_reasons(result.booster, X, students, materiality=es.materiality,
                          num_threads=threads)
    return students, check


def _first(students) -> dict[str, str]:
    return {s.student_id: s.reasons[0].code.rsplit(":", 1)[0] for s in students
            if s.flagged and s.reasons}


def _stability(firsts: list[dict[str, str]], flagged: list[set[str]]) -> dict:
    common = set.intersection(*flagged)
    with_reason = [s for s in common if all(s in f for f in firsts)]
    same = sum(1 for s in with_reason if len({f[s] for f in firsts}) == 1)
    return {"n_flagged_by_all": len(common), "n_with_first_reason": len(with_reason),
            "same_first_reason": same,
            "share": round(same / len(with_reason), 4) if with_reason else None}


def bench(n_students: int, seeds: tuple[int, ...], threads: int, families: bool) -> dict:
    from cin_ml.explain import load_explain_settings, truth_agreement
    from cin_ml.features import build_features
    from cin_ml.models import train_model
    from cin_ml.simulator import SimulationConfig, simulate, true_feature_signs

    t0 = time.perf_counter()
    sim = simulate(SimulationConfig(n_students=n_students, seed=7))
    out: dict = {"n_students": n_students, "seeds": list(seeds), "tasks": {}}
    for task in TASKS:
        frame = build_features(sim.tables, task)
        truth = sim.truth.students.set_index("student_id")[f"p_{task}"]
        base = _settings(threads, seeds[0])
        mono = base.monotone
        free = train_model(frame, _settings(threads, seeds[0], _free(mono)), p_true=truth)
        runs = [train_model(frame, _settings(threads, s), p_true=truth) for s in seeds]
        auc_free, auc_con = free.metrics["test_auc"], runs[0].metrics["test_auc"]
        rec: dict = {"n_features": len(runs[0].features),
                     "n_test": runs[0].metrics["n_test"],
                     "auc": {"free": auc_free, "constrained": auc_con,
                             "cost": round(auc_free - auc_con, 6),
                             "oracle": runs[0].metrics.get("oracle_auc"),
                             "constrained_by_seed": [r.metrics["test_auc"] for r in runs]},
                     "monotone": runs[0].monotone}
        if families:
            per = {}
            for fam in mono.model_dump(exclude={"method"}):
                if getattr(mono, fam) == "free":
                    continue
                r = train_model(frame, _settings(threads, seeds[0], _free(mono, (fam,))))
                per[fam] = {"auc": r.metrics["test_auc"],
                            "cost": round(auc_free - r.metrics["test_auc"], 6)}
            rec["auc"]["per_family"] = per
        signs = true_feature_signs(task, list(runs[0].features))
        rec["configured_level"] = load_explain_settings()[0].level_for(task)
        for level in LEVELS:
            explained = [_explain_all(r, level, threads) for r in runs]
            students, check = explained[0]
            firsts = [_first(st) for st, _ in explained]
            flagged = [{s.student_id for s in st if s.flagged} for st, _ in explained]
            rec[level] = {
                "check": check,
                "checks_other_seeds": [c for _, c in explained[1:]],
                "truth": truth_agreement(students, signs),
                "truth_other_seeds": [truth_agreement(st, signs) for st, _ in explained[1:]],
                "stability": _stability(firsts, flagged),
                "flagged_without_risk_reason": sum(
                    1 for s in students if s.flagged and not s.reasons),
                "examples_fr": [s.sentences("fr") for s in students if s.flagged][:3],
                "examples_en": [s.sentences("en") for s in students if s.flagged][:3],
                "first_reasons": [dict(Counter(f.values()).most_common(6)) for f in firsts],
            }
        out["tasks"][task] = rec
        print(json.dumps({task: {k: rec[k] for k in ("auc",)}}, ensure_ascii=False),
              flush=True)
    out["seconds"] = round(time.perf_counter() - t0, 1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-students", type=int, default=50000)
    ap.add_argument("--seeds", type=int, nargs=3, default=(7, 8, 9))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--no-families", action="store_true",
                    help="skip the per-family AUC cost (one training per family)")
    ap.add_argument("--out", default="reports/reasons.json")
    a = ap.parse_args()
    res = bench(a.n_students, tuple(a.seeds), a.threads, not a.no_families)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(res, indent=2, ensure_ascii=False), encoding="utf-8")
    for task, r in res["tasks"].items():
        print(f"{task}: AUC free {r['auc']['free']:.4f} constrained "
              f"{r['auc']['constrained']:.4f} (cost {r['auc']['cost']:+.4f})")
        for level in LEVELS:
            x = r[level]
            mark = "*" if level == r["configured_level"] else " "
            print(f" {mark}{level:7s} contradictions {x['check']['contradictions']} / "
                  f"{x['check']['n_reasons']} reasons ({x['check']['n_students']} students); "
                  f"truth agreement {x['truth']['agreement']} "
                  f"({x['truth']['n_judged']} pairs), inert first "
                  f"{x['truth']['inert_first_reason']}; first-reason stability "
                  f"{x['stability']['share']} ({x['stability']['n_with_first_reason']})")
    print(f"wrote {a.out} ({res['seconds']} s)")


if __name__ == "__main__":
    main()
