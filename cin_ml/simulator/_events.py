"""What the school system records about a simulated student: report-card marks, the grade-4
writing exam and absences (the measurement side of the generative model in ``_model``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cin_ml.schema import COMPETENCIES
from cin_ml.simulator._absence_vocab import CATEGORIES, CATEGORY_SHARES
from cin_ml.simulator._config import SimulationConfig
from cin_ml.simulator._model import EXAM_SD, exam_fail_probability

LITERACY = np.array([True, True, False, False])  # lecture, ecriture | resoudre, raisonner


def _group_mask(cfg: SimulationConfig, st: pd.DataFrame, kind: str) -> np.ndarray:
    d = cfg.disparity
    if d is None or d.kind != kind:
        return np.zeros(len(st), dtype=bool)
    return (st[d.attribute] == d.group).to_numpy()


def marks(cfg: SimulationConfig, st: pd.DataFrame, enr: pd.DataFrame, t_effect: np.ndarray,
          rng: np.random.Generator) -> pd.DataFrame:
    """Three terms x four competencies per primary school year."""
    p = enr[enr["grade"] <= 6]
    idx = p["idx"].to_numpy()
    n = len(p)
    lit = st["literacy"].to_numpy()[idx] + st["slope"].to_numpy()[idx] * (p["grade"] - 2.5)
    num = st["numeracy"].to_numpy()[idx]
    shock = rng.normal(0, 0.1, (n, 2))
    base = np.where(LITERACY[None, :], (lit.to_numpy() + shock[:, 0])[:, None],
                    (num + shock[:, 1])[:, None])                       # n x 4
    year_eff = t_effect[p["teacher"].to_numpy()] - 0.3 * (p["school_year"].to_numpy()
                                                         == cfg.pandemic_year)
    mu = 72 + 10 * (base + year_eff[:, None])                           # n x 4
    infl = np.where(_group_mask(cfg, st, "mark_inflation")[idx],
                    cfg.disparity.strength if cfg.disparity else 0.0, 0.0)
    vol = st["volatility"].to_numpy()[idx]
    m = mu[:, None, :] + infl[:, None, None] + vol[:, None, None] * rng.normal(0, 1, (n, 3, 4))
    m = np.clip(np.round(m), 0, 100)
    m[rng.random(m.shape) < cfg.missingness] = np.nan
    return pd.DataFrame({
        "idx": np.repeat(idx, 12),
        "school_year": np.repeat(p["school_year"].to_numpy(), 12),
        "term": np.tile(np.repeat([1, 2, 3], 4), n),
        "competency": np.tile(np.array(COMPETENCIES, dtype=object), 3 * n),
        "mark": m.reshape(-1),
    })


def exams(cfg: SimulationConfig, st: pd.DataFrame, enr: pd.DataFrame, t_effect: np.ndarray,
          rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
    """Grade-4 writing exam in each student's first grade-4 year.

    Returns the recorded results and, for every student, the true probability of failing
    (the realised grade-4 teacher when known, the teacher effect integrated out otherwise).
    """
    n = len(st)
    g4 = enr[enr["grade"] == 4].drop_duplicates("idx")
    idx = g4["idx"].to_numpy()
    lit4 = st["literacy"].to_numpy() + 1.5 * st["slope"].to_numpy()
    plan4 = (st["plan"] & (st["plan_grade"] <= 4)).to_numpy()
    mu = 73 + 11 * (lit4 - 0.3 * plan4)
    if not cfg.student_signal:
        # knob: the exam depends on the school and year only (the mean of its grade-4
        # students), nothing the student's own history could reveal
        school_mean = pd.Series(mu[idx]).groupby(
            [g4["school"].to_numpy(), g4["school_year"].to_numpy()]).transform("mean")
        mu = np.full(n, float(mu.mean()))
        mu[idx] = school_mean.to_numpy()
    p_true = exam_fail_probability_marginal(mu)
    te = t_effect[g4["teacher"].to_numpy()]
    pand = 0.2 * (g4["school_year"].to_numpy() == cfg.pandemic_year)
    mu_i = mu[idx] + 11 * (te - pand)
    p_true[idx] = exam_fail_probability(mu_i)
    score = np.clip(np.round(mu_i + rng.normal(0, EXAM_SD, len(idx))), 0, 100)
    passed = score >= 60
    true_fail = np.full(n, np.nan)
    true_fail[idx] = ~passed
    biased = _group_mask(cfg, st, "label_bias")[idx] & passed & (
        rng.random(len(idx)) < (cfg.disparity.strength if cfg.disparity else 0))
    score = np.where(biased, np.minimum(score, 59), score)
    passed = passed & ~biased
    table = pd.DataFrame({"idx": idx, "school_year": g4["school_year"].to_numpy(),
                          "exam": "ecriture_4e", "mark": score, "passed": passed})
    return table, p_true, true_fail


def exam_fail_probability_marginal(mu: np.ndarray) -> np.ndarray:
    """P(fail) before the grade-4 teacher is known (teacher effect N(0, 0.15) integrated)."""
    sd = np.sqrt(EXAM_SD**2 + (11 * 0.15) ** 2)
    return exam_fail_probability(59.5 + (mu - 59.5) * EXAM_SD / sd)


def absences(cfg: SimulationConfig, st: pd.DataFrame, enr: pd.DataFrame,
             vocab: dict[str, list[str]], rng: np.random.Generator) -> pd.DataFrame:
    """Absence records with dates, hours and raw (CSS-typed) reasons."""
    idx = enr["idx"].to_numpy()
    grade = enr["grade"].to_numpy()
    year = enr["school_year"].to_numpy()
    frail = st["frailty"].to_numpy()[idx]
    zavg = ((st["literacy"] + st["numeracy"]) / 2).to_numpy()[idx]
    lam = 4.5 * np.exp(0.45 * frail - 0.2 * zavg) * np.where(year == cfg.pandemic_year, 1.8, 1)
    lam *= np.where(grade > 6, 1 + 0.08 * (grade - 6), 1.0)
    count = rng.poisson(lam)
    rows = np.repeat(np.arange(len(enr)), count)
    n = len(rows)
    boy = (st["sex"].to_numpy()[idx] == "M")[rows]
    w = np.tile(np.array([CATEGORY_SHARES[c] for c in CATEGORIES]), (n, 1))
    w[:, CATEGORIES.index("non_motivee")] *= np.exp(0.5 * frail[rows]) * np.where(
        grade[rows] > 6, 1.5, 1.0)
    w[:, CATEGORIES.index("suspension")] *= np.where(boy, 2.0, 1.0) * np.exp(0.4 * frail[rows])
    cum = np.cumsum(w / w.sum(1, keepdims=True), axis=1)
    cat = (rng.random(n)[:, None] > cum).sum(1).clip(0, len(CATEGORIES) - 1)
    raw = np.empty(n, dtype=object)
    for c, name in enumerate(CATEGORIES):
        m = cat == c
        words = np.array(vocab[name], dtype=object)
        p = np.r_[np.full(len(words) - 1, 0.97 / (len(words) - 1)), 0.03] if len(words) > 1 \
            else np.ones(1)
        raw[m] = words[rng.choice(len(words), int(m.sum()), p=p)]
    day = rng.integers(0, 292, n)
    start = (year[rows] - 1970).astype("datetime64[Y]") + np.timedelta64(243, "D")  # ~Sep 1
    date = start.astype("datetime64[D]") + day.astype("timedelta64[D]")
    dow = (date.astype(np.int64) + 3) % 7            # 0 = Monday
    date = date + np.where(dow >= 5, 7 - dow, 0).astype("timedelta64[D]")
    hours = rng.choice([1.0, 2.0, 3.0, 5.5], n, p=[0.25, 0.2, 0.15, 0.4])
    return pd.DataFrame({"idx": idx[rows], "school_year": year[rows],
                         "date": date.astype("datetime64[ns]"), "hours": hours,
                         "reason_raw": raw, "category": np.array(CATEGORIES, dtype=object)[cat]})
