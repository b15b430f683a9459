"""Simulate a CSS (or a network of CSS) source extract with a known ground truth.

The extract follows the data contract (:mod:`cin_ml.schema`); the ground truth (true outcome
probabilities, causal drivers, the true category of every raw absence reason) is returned and
written apart: a real extract has none, and it must only ever reach evaluation.

Same seed, same bytes: every CSS draws from its own child of ``SeedSequence(seed)``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cin_ml.consent import write_agreements
from cin_ml.extract import atomic_dir
from cin_ml.schema import TABLES
from cin_ml.simulator import _events as ev
from cin_ml.simulator import _identifiers as ids
from cin_ml.simulator import _model as cs
from cin_ml.simulator._agreements import simulate_agreements
from cin_ml.simulator._config import SimulationConfig
from cin_ml.simulator._drivers import drivers_table
from cin_ml.simulator._truth import GroundTruth, _write_files
from cin_ml.tasks import TASKS

__all__ = ["Simulation", "simulate", "simulate_to_disk", "write_simulation"]

REGIONS = (("Capitale-Nationale", "G"), ("Montréal", "H"), ("Montérégie", "J"),
           ("Laurentides", "J"), ("Saguenay–Lac-Saint-Jean", "G"), ("Estrie", "J"),
           ("Outaouais", "J"), ("Chaudière-Appalaches", "G"), ("Laval", "H"),
           ("Mauricie", "G"), ("Lanaudière", "J"), ("Bas-Saint-Laurent", "G"),
           ("Abitibi-Témiscamingue", "J"), ("Côte-Nord", "G"), ("Centre-du-Québec", "J"),
           ("Gaspésie–Îles-de-la-Madeleine", "G"), ("Nord-du-Québec", "J"))
@dataclass(frozen=True)
class Simulation:
    config: SimulationConfig
    tables: dict[str, pd.DataFrame]
    truth: GroundTruth
    agreements: pd.DataFrame | None = None
    """Data-use agreements of the network (:mod:`._agreements`); not student data."""


def _network(cfg: SimulationConfig, rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
    k = cfg.n_css
    if k == 1:
        sizes = np.array([cfg.n_students])
    else:
        w = rng.lognormal(0, 0.8, k)
        sizes = 200 + rng.multinomial(cfg.n_students - 200 * k, w / w.sum())
    region = [REGIONS[i % len(REGIONS)] for i in range(k)]
    sector = np.where((np.arange(k) % 9 == 8), "anglophone", "francophone").astype(object)
    css = pd.DataFrame({
        "css_id": [f"CSS{i + 1:03d}" for i in range(k)],
        "css_name": [f"Centre de services scolaire {r[0]} {i + 1}" if s == "francophone"
                     else f"{r[0]} School Board {i + 1}"
                     for i, (r, s) in enumerate(zip(region, sector, strict=True))],
        "region": [r[0] for r in region],
        "sector": sector,
    })
    css["num"] = np.arange(1, k + 1)
    css["letter"] = [r[1] for r in region]
    css["imse_mean"] = rng.uniform(4.0, 7.0, k)
    return css, sizes


def _simulate_css(cfg: SimulationConfig, css: dict, n: int, seed: np.random.SeedSequence,
                  serial0: int, absence0: int) -> tuple[dict[str, pd.DataFrame], pd.DataFrame,
                                                        pd.DataFrame]:
    rng = np.random.default_rng(seed)
    schools = cs._schools(cfg, css, n, rng)
    st = cs._students(cfg, css, n, schools, rng)
    enr, state = cs._trajectories(cfg, st, schools, rng)
    enr, class_groups, teachers, t_eff = cs._class_groups(cfg, css, enr, schools, rng)
    marks = ev.marks(cfg, st, enr, t_eff, rng)
    exams, p_fail, true_fail = ev.exams(cfg, st, enr, t_eff, rng)
    vocab = cs._css_vocabulary(rng)
    absn = ev.absences(cfg, st, enr, vocab, rng)

    sid = np.array([f"F{css['num']:03d}{serial0 + i:07d}" for i in range(n)], dtype=object)
    first, last = ids.names(rng, st["sex"].to_numpy(), st["language_group"].to_numpy())
    birth = ids.birth_dates(rng, st["cohort_year"].to_numpy())
    fsa_pool = np.array(ids.css_fsas(rng, css["letter"], max(3, n // 800)), dtype=object)
    fsa = fsa_pool[rng.integers(0, len(fsa_pool), n)]
    school_ids = schools["school_id"].to_numpy()
    med = st["mother_education"].to_numpy().copy()
    med[rng.random(n) < 0.05] = np.nan

    students = pd.DataFrame({
        "student_id": sid, "css_id": css["css_id"],
        "code_permanent": ids.codes_permanents(rng, first, last, st["sex"].to_numpy(), birth),
        "first_name": first, "last_name": last, "birth_date": birth.values,
        "postal_code": ids.postal_codes(rng, fsa), "birth_year": birth.year.to_numpy(),
        "fsa": fsa, "sex": st["sex"], "language_group": st["language_group"],
        "immigration_generation": st["immigration_generation"], "mother_education": med,
        "cohort_year": st["cohort_year"],
    })
    enrolments = pd.DataFrame({"student_id": sid[enr["idx"]], "school_year": enr["school_year"],
                               "school_id": school_ids[enr["school"]], "grade": enr["grade"],
                               "class_group_id": enr["class_group_id"]})
    first_year = enr.groupby(["idx", "grade"])["school_year"].min().unstack()
    plan_idx = np.flatnonzero(st["plan"].to_numpy())
    pg = st["plan_grade"].to_numpy()[plan_idx]
    start = np.array([first_year.at[i, g] if (i in first_year.index and g in first_year)
                      else np.nan for i, g in zip(plan_idx, pg, strict=True)])
    keep = ~np.isnan(start)
    plans = pd.DataFrame({"student_id": sid[plan_idx[keep]],
                          "start_year": start[keep].astype(int),
                          "end_year": pd.array([pd.NA] * int(keep.sum()), dtype="Int64"),
                          "plan_type": st["plan_type"].to_numpy()[plan_idx[keep]]})
    done = state["exit_year"].to_numpy() >= 0
    outcomes = pd.DataFrame({"student_id": sid[done], "exit_year": state["exit_year"][done],
                             "status": state["status"][done]})
    n_abs = len(absn)
    tables = {
        "css": pd.DataFrame([{k: css[k] for k in TABLES["css"].column_names}]),
        "schools": schools.assign(n_students=enrolments.groupby("school_id").size()
                                  .reindex(school_ids).fillna(1).astype(int).to_numpy()),
        "students": students,
        "enrolments": enrolments,
        "marks": marks.assign(student_id=sid[marks["idx"]]),
        "absences": absn.assign(student_id=sid[absn["idx"]],
                                absence_id=np.arange(absence0, absence0 + n_abs)),
        "intervention_plans": plans,
        "ministry_exams": exams.assign(student_id=sid[exams["idx"]]),
        "outcomes": outcomes,
        "class_groups": class_groups,
        "teachers": teachers,
    }
    tables = {k: v[list(TABLES[k].column_names)].reset_index(drop=True)
              for k, v in tables.items()}
    y_ecr = pd.array(np.full(n, pd.NA), dtype="Int8")
    y_ecr[exams["idx"].to_numpy()] = (~exams["passed"].to_numpy()).astype(int)
    y_drop = pd.array([pd.NA] * n, dtype="Int8")
    y_drop[done] = (state["status"][done] == "decrochage").astype(int).to_numpy()
    ecr, drop = TASKS["ecriture_4e"], TASKS["decrochage"]
    truth = pd.DataFrame({
        "student_id": sid, ecr.truth_probability: p_fail,
        drop.truth_probability: state["p_drop"],
        ecr.truth_label: y_ecr, f"{ecr.truth_label}_true": pd.array(
            [pd.NA if np.isnan(v) else int(v) for v in true_fail], dtype="Int8"),
        drop.truth_label: y_drop, "latent_literacy": st["literacy"],
        "latent_numeracy": st["numeracy"], "intervention_plan": st["plan"],
    })
    reasons = (absn[["reason_raw", "category"]].drop_duplicates()
               .assign(css_id=css["css_id"])[["css_id", "reason_raw", "category"]])
    return tables, truth, reasons


def _iter_css(cfg: SimulationConfig) -> Iterator[tuple[dict, pd.DataFrame, pd.DataFrame]]:
    seeds = np.random.SeedSequence(cfg.seed).spawn(cfg.n_css + 1)
    css, sizes = _network(cfg, np.random.default_rng(seeds[0]))
    serial = absence = 0
    for i, row in enumerate(css.to_dict("records")):
        out = _simulate_css(cfg, row, int(sizes[i]), seeds[i + 1], serial, absence)
        serial += int(sizes[i])
        absence += len(out[0]["absences"])
        yield out


def _summary(cfg: SimulationConfig, truth: pd.DataFrame, rows: dict[str, int]) -> dict:
    from sklearn.metrics import roc_auc_score

    tasks = {}
    for task, spec in TASKS.items():
        lab = truth[truth[spec.truth_label].notna()]
        y = lab[spec.truth_label].astype(int)
        tasks[task] = {"n_labelled": len(lab), "rate": float(y.mean()),
                       "oracle_auc": float(roc_auc_score(y, lab[spec.truth_probability]))}
    return {"tasks": tasks, "rows": rows, "config": json.loads(cfg.model_dump_json())}


def simulate(config: SimulationConfig | None = None) -> Simulation:
    """Simulate an extract in memory (fine up to ~100k students; see simulate_to_disk)."""
    cfg = config or SimulationConfig()
    parts = list(_iter_css(cfg))
    tables = {name: pd.concat([p[0][name] for p in parts], ignore_index=True) for name in TABLES}
    truth = pd.concat([p[1] for p in parts], ignore_index=True)
    reasons = pd.concat([p[2] for p in parts], ignore_index=True)
    summary = _summary(cfg, truth, {k: len(v) for k, v in tables.items()})
    gt = GroundTruth(truth, drivers_table(), reasons.sort_values(["css_id", "reason_raw"])
                     .reset_index(drop=True), summary)
    return Simulation(cfg, tables, gt, _network_agreements(cfg, tables["css"]["css_id"]))


def _network_agreements(cfg: SimulationConfig, css_ids) -> pd.DataFrame:
    return simulate_agreements(list(css_ids), cfg.seed, cfg.extract_year)


def write_simulation(sim: Simulation, out: Path | str, truth_out: Path | str) -> None:
    """Write the extract and, apart, the ground truth (both atomically)."""
    with atomic_dir(out) as tmp, atomic_dir(truth_out) as ttmp:
        for name, df in sim.tables.items():
            df.to_parquet(tmp / f"{name}.parquet", index=False)
        if sim.agreements is not None:
            write_agreements(sim.agreements, tmp)
        _write_files(sim.truth, ttmp)


def simulate_to_disk(config: SimulationConfig, out: Path | str, truth_out: Path | str,
                     progress: Callable[[str], None] | None = None) -> dict:
    """Simulate CSS by CSS, streaming each table to Parquet (memory: one CSS at a time)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    writers: dict[str, pq.ParquetWriter] = {}
    truths, reasons, rows, css_ids = [], [], dict.fromkeys(TABLES, 0), []
    with atomic_dir(out) as tmp, atomic_dir(truth_out) as ttmp:
        try:
            for i, (tables, truth, reason) in enumerate(_iter_css(config)):
                for name, df in tables.items():
                    if name not in writers:
                        t = pa.Table.from_pandas(df, preserve_index=False)
                        writers[name] = pq.ParquetWriter(tmp / f"{name}.parquet", t.schema)
                    else:
                        t = pa.Table.from_pandas(df, schema=writers[name].schema,
                                                 preserve_index=False)
                    writers[name].write_table(t)
                    rows[name] += len(df)
                truths.append(truth)
                reasons.append(reason)
                css_ids.extend(tables["css"]["css_id"])
                if progress and (config.n_css > 1):
                    progress(f"CSS {i + 1}/{config.n_css} simulated")
        finally:
            for w in writers.values():
                w.close()
        write_agreements(_network_agreements(config, css_ids), tmp)
        truth = pd.concat(truths, ignore_index=True)
        summary = _summary(config, truth, rows)
        _write_files(GroundTruth(truth, drivers_table(), pd.concat(reasons, ignore_index=True)
                                 .sort_values(["css_id", "reason_raw"]), summary), ttmp)
    return summary
