"""A tiny hand-built source extract (every contract table, source form) for property tests
of de-identification; the simulator covers realistic data elsewhere."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

FIRST = ["Amélie", "Jérémy", "Océane", "Xavier", "Noémie", "Félix"]
LAST = ["Tremblay", "Nguyen", "Gagnon", "O'Brien", "Bélanger", "Haddad"]


def make_source(n: int, seed: int = 0, n_fsa: int = 5, with_workforce: bool = True
                ) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    css = pd.DataFrame({"css_id": ["CSS01"], "css_name": ["CSS des Tests"],
                        "region": ["Montréal"], "sector": ["francophone"]})
    schools = pd.DataFrame({"school_id": ["SCH1", "SCH2", "SCH3"], "css_id": "CSS01",
                            "school_name": ["École A", "École B", "École C"],
                            "level": "primaire", "imse_decile": [2, 5, 9],
                            "n_students": [300, 250, 200]})
    ids = [f"E{100000 + i}" for i in range(n)]
    cohort = rng.integers(2014, 2017, n)
    birth = pd.to_datetime([f"{c - 7}-10-01" for c in cohort]) + pd.to_timedelta(
        rng.integers(0, 365, n), unit="D")
    fsas = [f"H{d}{chr(65 + d)}" for d in range(1, n_fsa + 1)]
    postal = [f"{rng.choice(fsas)} {rng.integers(1, 9)}{chr(65 + rng.integers(0, 26))}"
              f"{rng.integers(0, 9)}" for _ in range(n)]
    sex = rng.choice(["F", "M"], n)
    first = [f"{rng.choice(FIRST)}{i}" for i in range(n)]
    last = [f"{rng.choice(LAST)}-{i}" for i in range(n)]
    students = pd.DataFrame({
        "student_id": ids, "css_id": "CSS01",
        "code_permanent": [f"{la[:3].upper()}{f[0]}{i:08d}" for i, (f, la) in
                           enumerate(zip(first, last, strict=True))],
        "first_name": first, "last_name": last, "birth_date": birth, "postal_code": postal,
        "birth_year": birth.year.astype("int64"), "fsa": [p[:3] for p in postal],
        "sex": sex, "language_group": rng.choice(["francophone", "anglophone", "allophone"], n),
        "immigration_generation": rng.choice(["1re", "2e", "3e+"], n),
        "mother_education": rng.integers(0, 4, n), "cohort_year": cohort.astype("int64")})
    school_of = rng.choice(schools["school_id"], n)
    enr = pd.DataFrame({
        "student_id": np.repeat(ids, 2), "school_year": np.concatenate(
            [[c, c + 1] for c in cohort]).astype("int64"),
        "school_id": np.repeat(school_of, 2), "grade": np.tile([1, 2], n).astype("int64")})
    enr["class_group_id"] = (enr["school_id"] + "-" + enr["school_year"].astype(str) + "-g"
                             + enr["grade"].astype(str))
    marks = enr[["student_id", "school_year"]].merge(
        pd.DataFrame({"term": [1, 2, 3]}), how="cross").merge(
        pd.DataFrame({"competency": ["lecture", "ecriture", "resoudre", "raisonner"]}),
        how="cross")
    marks["mark"] = rng.uniform(30, 100, len(marks)).round(1)
    ab = enr.sample(frac=0.5, random_state=seed)[["student_id", "school_year"]]
    absences = ab.assign(
        absence_id=np.arange(len(ab), dtype="int64"),
        date=pd.to_datetime(ab["school_year"].astype(str) + "-11-15"), hours=3.0,
        reason_raw="malade").reset_index(drop=True)
    plans = pd.DataFrame({"student_id": ids[: n // 5], "start_year": cohort[: n // 5],
                          "end_year": pd.array([None] * (n // 5), dtype="Int64"),
                          "plan_type": "difficulte_apprentissage"})
    exams = enr.loc[enr["grade"] == 2, ["student_id", "school_year"]].assign(
        exam="ecriture_4e", mark=rng.uniform(20, 100, n).round(1))
    exams["passed"] = exams["mark"] >= 60
    outcomes = pd.DataFrame({"student_id": ids[: n // 3], "exit_year": 2024,
                             "status": rng.choice(["diplome", "decrochage"], n // 3)})
    tables = {"css": css, "schools": schools, "students": students, "enrolments": enr,
              "marks": marks, "absences": absences, "intervention_plans": plans,
              "ministry_exams": exams, "outcomes": outcomes}
    if with_workforce:
        cg = enr[["class_group_id", "school_id", "school_year", "grade"]].drop_duplicates(
            "class_group_id").reset_index(drop=True)
        cg["teacher_id"] = [f"EMP{7000 + i % 4}" for i in range(len(cg))]
        tables["class_groups"] = cg
        tables["teachers"] = pd.DataFrame({
            "teacher_id": [f"EMP{7000 + i}" for i in range(4)], "css_id": "CSS01",
            "teacher_name": ["Ginette Lapointe", "Robert Dufour", "Sylvie Gingras",
                             "Marc Perron"], "years_experience": [3, 10, 20, 31],
            "absence_days": [1.0, 4.5, 0.0, 12.0]})
    return tables


# --------------------------------------------------------------------- simulated, cached
SECRET = "unit-test-secret-0123456789abcdef"


@functools.cache
def simulation(n: int = 1500, seed: int = 11):
    """The lead's simulator output (cached): a small single-CSS source extract + truth."""
    from cin_ml.simulator import SimulationConfig, simulate

    return simulate(SimulationConfig(n_css=1, n_students=n, seed=seed))


@functools.cache
def simulated(n: int = 1500, seed: int = 11):
    """(source tables, truth, key, de-identified) of a small simulated CSS (cached)."""
    from cin_ml.virtual_css import KEY_ENV_VAR, deidentify, resolve_pseudonym_key

    sim = simulation(n, seed)
    key = resolve_pseudonym_key(environ={KEY_ENV_VAR: SECRET})
    return sim.tables, sim.truth, key, deidentify(sim.tables, key)


@functools.cache
def virtual(n: int = 1500, seed: int = 11, synth_seed: int = 3):
    """(train, holdout, VirtualCSS) fitted on the de-identified simulated CSS (cached)."""
    from cin_ml.virtual_css import split_students, synthesize

    d = simulated(n, seed)[3]
    train, holdout = split_students(d.tables, 0.25, seed)
    return train, holdout, synthesize(train, seed=synth_seed)
