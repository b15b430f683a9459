"""The generative model of one CSS (school service centre).

Documented model (all effects on the latent scale, 1 unit = 1 SD of ability):

* Schools: primary (about 45 students per cohort) and secondary (about 180) schools, each
  with an IMSE decile drawn around the CSS's own mean and a school effect ~ N(0, 0.15).
* Students: sex (49 % girls), language group and immigration generation (by the CSS's
  sector), mother's education (driven by the school's IMSE), two latent abilities:

  ``literacy = ses + 0.20 girl - 0.15 allophone - 0.12 first-generation + school + e_L``
  ``numeracy = ses - 0.02 girl - 0.05 allophone - 0.05 first-generation + school + e_N``
  with ``ses = -0.08 (IMSE - 5.5) + 0.15 (mother_education - 1.6)``, ``corr(e_L, e_N) = 0.6``,
  and a per-student literacy slope ~ N(0, 0.08) per grade.
* Intervention plan (EHDAA): P = logistic(-2.4 - 1.0 min(literacy, numeracy) + 0.45 boy),
  starting in grades 1-5; a plan active at the exam lowers the exam score by 0.3.
* Teachers: every class group has a teacher with a persistent effect ~ N(0, 0.15) on that
  year's marks and exam. Real, but workforce data: forbidden as a feature.
* Report-card marks (grades 1-6, 3 terms, 4 competencies):
  ``72 + 10 (ability + teacher + 0.1 yearly shock) + volatility x N(0, 1)``, clipped to 0-100,
  with a per-student volatility (median 4.5 points, 5 % of students swing 2.5x wider), 3
  points lower in the pandemic year, and optional inflation for one group (disparity).
* Grade-4 writing exam (first grade-4 year): ``score = 73 + 11 (literacy at grade 4 +
  teacher - 0.3 plan - 0.2 pandemic) + N(0, 7)``; fail if the rounded score is below 60.
  True probability ``P(fail) = Phi((59.5 - mu) / 7)``.
* Retention: primary logistic(-4.2 - 1.1 min ability), secondary logistic(-3.3 - 0.8 mean).
* Dropout (decided at entry to secondary 1, leaving at the end of secondary 3-5):
  ``logit p = -2.45 - 0.85 mean ability + 0.45 retentions + 0.25 boy + 0.06 (IMSE - 5.5)
  + 0.30 plan + 0.35 absence frailty - 0.15 (mother_education - 1.6)``.
* Absences: Poisson per student-year, mean ``4.5 exp(0.45 frailty - 0.2 ability)``, x1.8 in
  the pandemic year; reasons drawn by category (unexcused absences rise with frailty and in
  secondary, suspensions for boys), typed with the CSS's own vocabulary (and typos).
* Inert by construction (no effect on any outcome): school changes, medical appointments.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit
from scipy.stats import norm

from cin_ml.simulator import _identifiers as ids
from cin_ml.simulator._absence_vocab import CATEGORIES, RAW_REASONS
from cin_ml.simulator._config import SimulationConfig

EXAM_SD = 7.0
PLAN_TYPES = np.array(["difficulte_apprentissage", "trouble_comportement", "handicap"],
                      dtype=object)
SCHOOL_WORDS = ("des Érables", "Saint-Joseph", "du Boisé", "Notre-Dame", "des Pionniers",
                "Sainte-Marie", "de la Source", "du Parc", "des Cèdres", "Jean-XXIII",
                "de l'Envol", "Marguerite-Bourgeoys", "du Phare", "des Trois-Saisons")


def _schools(cfg: SimulationConfig, css: dict, n: int, rng: np.random.Generator) -> pd.DataFrame:
    per_cohort = n / cfg.n_cohorts
    n_prim = max(2, round(per_cohort / 45))
    n_sec = max(1, round(per_cohort / 180))
    level = np.array(["primaire"] * n_prim + ["secondaire"] * n_sec, dtype=object)
    k = n_prim + n_sec
    imse = np.clip(np.round(rng.normal(css["imse_mean"], 1.8, k)), 1, 10).astype(int)
    num = np.arange(1, k + 1)
    return pd.DataFrame({
        "school_id": [f"{css['num']:03d}{i:03d}" for i in num],
        "css_id": css["css_id"],
        "school_name": [f"École {'secondaire' if lv == 'secondaire' else 'primaire'} "
                        f"{SCHOOL_WORDS[i % len(SCHOOL_WORDS)]} ({i})"
                        for i, lv in zip(num, level, strict=True)],
        "level": level,
        "imse_decile": imse,
        "effect": rng.normal(0, 0.15, k),
        "weight": rng.dirichlet(np.full(k, 6.0)),
    })


def _students(cfg: SimulationConfig, css: dict, n: int, schools: pd.DataFrame,
              rng: np.random.Generator) -> pd.DataFrame:
    last = cfg.last_school_year
    prim = schools.index[schools["level"] == "primaire"].to_numpy()
    w = schools.loc[prim, "weight"].to_numpy()
    school = rng.choice(prim, n, p=w / w.sum())
    imse = schools["imse_decile"].to_numpy()[school]
    sex = np.where(rng.random(n) < 0.49, "F", "M").astype(object)
    lang_p = [0.80, 0.05, 0.15] if css["sector"] == "francophone" else [0.25, 0.55, 0.20]
    lang = rng.choice(np.array(["francophone", "anglophone", "allophone"], dtype=object), n,
                      p=lang_p)
    allo = lang == "allophone"
    gen_u = rng.random(n)
    imm = np.where(allo, np.where(gen_u < 0.45, "1re", np.where(gen_u < 0.85, "2e", "3e+")),
                   np.where(gen_u < 0.05, "1re", np.where(gen_u < 0.13, "2e", "3e+"))
                   ).astype(object)
    med = np.searchsorted([-0.9, -0.1, 0.7], -0.25 * (imse - 5.5) + rng.normal(0, 1, n))
    ses = -0.08 * (imse - 5.5) + 0.15 * (med - 1.6)
    girl, first_gen = (sex == "F").astype(float), (imm == "1re").astype(float)
    e = rng.multivariate_normal([0, 0], [[1, 0.6], [0.6, 1]], n)
    school_eff = schools["effect"].to_numpy()[school]
    lit = ses + 0.20 * girl - 0.15 * allo - 0.12 * first_gen + school_eff + e[:, 0]
    num = ses - 0.02 * girl - 0.05 * allo - 0.05 * first_gen + school_eff + e[:, 1]
    zmin = np.minimum(lit, num)
    plan = rng.random(n) < expit(-2.4 - 1.0 * zmin + 0.45 * (1 - girl))
    return pd.DataFrame({
        "cohort_year": last - cfg.n_cohorts + 1 + rng.integers(0, cfg.n_cohorts, n),
        "school0": school, "sex": sex, "language_group": lang,
        "immigration_generation": imm, "mother_education": med.astype(float),
        "literacy": lit, "numeracy": num, "slope": rng.normal(0, 0.08, n),
        "volatility": np.exp(rng.normal(np.log(4.5), 0.45, n)) * np.where(
            rng.random(n) < 0.05, 2.5, 1.0),
        "frailty": rng.normal(0, 1, n), "plan": plan,
        "plan_grade": rng.choice([1, 2, 3, 4, 5], n, p=[0.15, 0.30, 0.35, 0.12, 0.08]),
        "plan_type": PLAN_TYPES[rng.choice(3, n, p=[0.7, 0.2, 0.1])],
    })


def _trajectories(cfg: SimulationConfig, st: pd.DataFrame, schools: pd.DataFrame,
                  rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Year-by-year enrolment with retention, school changes, dropout and graduation."""
    n = len(st)
    last = cfg.last_school_year
    cohort = st["cohort_year"].to_numpy()
    zmin = np.minimum(st["literacy"], st["numeracy"]).to_numpy()
    zavg = ((st["literacy"] + st["numeracy"]) / 2).to_numpy()
    imse0 = schools["imse_decile"].to_numpy()[st["school0"].to_numpy()]
    girl = (st["sex"] == "F").to_numpy()
    prim = schools.index[schools["level"] == "primaire"].to_numpy()
    sec = schools.index[schools["level"] == "secondaire"].to_numpy()
    ws = schools.loc[sec, "weight"].to_numpy()
    grade = np.zeros(n, dtype=int)
    school = st["school0"].to_numpy().copy()
    exited = np.zeros(n, dtype=bool)
    n_ret = np.zeros(n, dtype=int)
    p_drop = np.full(n, np.nan)
    drop_grade = np.zeros(n, dtype=int)
    status = np.full(n, None, dtype=object)
    exit_year = np.full(n, -1)
    rows = []
    for y in range(int(cohort.min()), last + 1):
        grade[(cohort == y) & (grade == 0)] = 1
        act = np.flatnonzero((grade > 0) & ~exited)
        rows.append(pd.DataFrame({"idx": act, "school_year": y, "school": school[act],
                                  "grade": grade[act]}))
        g = grade[act]
        new7 = act[(g == 7) & np.isnan(p_drop[act])]
        if len(new7):
            plan = st["plan"].to_numpy()[new7]
            med = st["mother_education"].to_numpy()[new7]
            logit = (-2.45 - 0.85 * zavg[new7] + 0.45 * n_ret[new7] + 0.25 * ~girl[new7]
                     + 0.06 * (imse0[new7] - 5.5) + 0.30 * plan
                     + 0.35 * st["frailty"].to_numpy()[new7] - 0.15 * (med - 1.6))
            p_drop[new7] = expit(logit)
            will = rng.random(len(new7)) < p_drop[new7]
            drop_grade[new7] = np.where(will, rng.choice([9, 10, 11], len(new7),
                                                         p=[0.3, 0.4, 0.3]), 0)
        p_ret = np.where(g <= 6, expit(-4.2 - 1.1 * zmin[act]), expit(-3.3 - 0.8 * zavg[act]))
        retained = rng.random(len(act)) < p_ret
        drops = drop_grade[act] == g
        grads = (g == 11) & ~retained & ~drops
        leave = act[drops | grads]
        exited[leave] = True
        exit_year[leave] = y
        status[act[drops]] = "decrochage"
        qual = rng.random(int(grads.sum())) < np.where(st["plan"].to_numpy()[act[grads]],
                                                       0.35, 0.05)
        status[act[grads]] = np.where(qual, "qualification", "diplome")
        n_ret[act[retained & (g <= 6)]] += 1
        up = act[~retained & ~drops & ~grads]
        grade[up] += 1
        move = up[(grade[up] <= 6) & (rng.random(len(up)) < 0.05)]
        school[move] = rng.choice(prim, len(move))
        to_sec = up[grade[up] == 7]
        school[to_sec] = rng.choice(sec, len(to_sec), p=ws / ws.sum())
    enr = pd.concat(rows, ignore_index=True)
    state = pd.DataFrame({"p_drop": p_drop, "status": status, "exit_year": exit_year,
                          "n_ret": n_ret})
    return enr, state


def _class_groups(cfg: SimulationConfig, css: dict, enr: pd.DataFrame, schools: pd.DataFrame,
                  rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Split each school x year x grade into class groups and give each a teacher."""
    order = rng.permutation(len(enr))
    e = enr.iloc[order]
    rank = e.groupby(["school", "school_year", "grade"], sort=False).cumcount().to_numpy()
    k = np.empty(len(enr), dtype=int)
    k[order] = rank // cfg.class_size
    keys = pd.DataFrame({"school": enr["school"], "school_year": enr["school_year"],
                         "grade": enr["grade"], "k": k})
    groups = keys.drop_duplicates().sort_values(["school", "school_year", "grade", "k"])
    groups = groups.reset_index(drop=True)
    per_school = groups.groupby(["school", "school_year"]).size().groupby("school").max()
    pool_start = np.concatenate([[0], np.cumsum(per_school.to_numpy() + 2)])[:-1]
    pool = pd.Series(pool_start, index=per_school.index)
    size = per_school + 2
    t_local = rng.integers(0, 1 << 30, len(groups)) % size.loc[groups["school"]].to_numpy()
    groups["teacher"] = pool.loc[groups["school"]].to_numpy() + t_local
    n_teachers = int((per_school + 2).sum())
    sid = schools["school_id"].to_numpy()
    groups["class_group_id"] = [f"{sid[s]}-{y}-{g:02d}-{j + 1}" for s, y, g, j in
                                groups[["school", "school_year", "grade", "k"]].itertuples(
                                    index=False)]
    first, last = ids.names(rng, np.where(rng.random(n_teachers) < 0.75, "F", "M"),
                            np.full(n_teachers, "francophone", dtype=object))
    teachers = pd.DataFrame({
        "teacher_id": [f"T{css['num']:03d}{i:05d}" for i in range(n_teachers)],
        "css_id": css["css_id"],
        "teacher_name": [f"{a} {b}" for a, b in zip(first, last, strict=True)],
        "years_experience": rng.integers(0, 36, n_teachers),
        "absence_days": np.round(rng.gamma(2.0, 4.0, n_teachers), 1),
    })
    effect = rng.normal(0, 0.15, n_teachers)
    merged = keys.merge(groups, on=["school", "school_year", "grade", "k"], how="left")
    enr = enr.assign(class_group_id=merged["class_group_id"].to_numpy(),
                     teacher=merged["teacher"].to_numpy())
    cg = pd.DataFrame({
        "class_group_id": groups["class_group_id"],
        "school_id": sid[groups["school"].to_numpy()],
        "school_year": groups["school_year"].to_numpy(),
        "grade": groups["grade"].to_numpy(),
        "teacher_id": teachers["teacher_id"].to_numpy()[groups["teacher"].to_numpy()],
    })
    return enr, cg, teachers, effect


def _css_vocabulary(rng: np.random.Generator) -> dict[str, list[str]]:
    """The raw strings this CSS uses per category, with a typo variant of some."""
    vocab = {}
    for cat in CATEGORIES:
        pool = RAW_REASONS[cat]
        chosen = list(rng.choice(pool, min(len(pool), rng.integers(2, 5)), replace=False))
        typo_of = chosen[0]
        if len(typo_of) > 5:
            cut = int(rng.integers(1, len(typo_of) - 1))
            chosen.append(typo_of[:cut] + typo_of[cut + 1:])
        vocab[cat] = chosen
    return vocab


def exam_fail_probability(mu: np.ndarray) -> np.ndarray:
    """True probability of failing (rounded score < 60) given the mean score ``mu``."""
    return norm.cdf((59.5 - mu) / EXAM_SD)
