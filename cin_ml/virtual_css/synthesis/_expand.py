"""Re-expand synthetic student rows into the long contract tables (deidentified form).

Rules (each keeps an invariant of the source contract):

- enrolment: one row per school year from ``cohort_year`` (grade 1) to the exit year
  (outcome) or the last school year of the source; the grade goes up by one each year except
  for repeat years (``rep_grade`` repeated ``rep_primary`` times, secondary repeats at the
  first secondary grade repeated); never above grade 11;
- school: ``school_g1`` for grades 1-3, ``school_g4`` for 4-6, ``school_sec`` for 7-11, each
  checked against the school's level and CSS (else the CSS's most common school of that
  level);
- marks: grades 1-6 only, 3 terms x 4 competencies, ``m_<c>_g<grade>`` + ``term_trend`` x
  (term - 2) + Gaussian noise of sd ``term_sd``, clipped to 0-100, whole numbers when the
  source's are, missing at the source's rate;
- exam: the first grade-4 year, pass = mark >= 60; outcome: exit year = last enrolment year;
- absences: Poisson(``abs_per_year``) per enrolled year, category from the student's shares,
  raw string and hours from the source's population frequencies, a weekday in the school year.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cin_ml.schema import COMPETENCIES

__all__ = ["expand_students"]


def _int(s: pd.Series, lo: float, hi: float, fill: float) -> np.ndarray:
    return np.clip(np.round(pd.to_numeric(s, errors="coerce").astype(float).fillna(fill)),
                   lo, hi).astype("int64")


def _fix_school(want: pd.Series, css: pd.Series, level: str, ctx: dict) -> pd.Series:
    lv, sc = ctx["school_level"], ctx["school_css"]
    ok = want.map(lambda s: lv.get(s) == level) & (want.map(sc) == css)
    if ok.all():
        return want
    default = {}
    for c in css.unique():
        cands = want[ok & (css == c)]
        pool = [s for s, l_ in lv.items() if l_ == level and sc[s] == c] or \
               [s for s, l_ in lv.items() if sc[s] == c]
        default[c] = cands.mode().iloc[0] if len(cands) else sorted(pool)[0]
    return want.where(ok, css.map(default))


def _grades(n_years, rep_grade, rep_primary, rep_secondary):
    """Grade of each enrolled year (python loop over students; lists are short)."""
    out_sid, out_t, out_g = [], [], []
    for i, (n, rg, rp, rs) in enumerate(zip(n_years, rep_grade, rep_primary, rep_secondary,
                                            strict=True)):
        repeats = {}
        if 1 <= rg <= 6:
            repeats[rg] = max(rp, 1)
        if rs > 0:
            repeats[rg if rg >= 7 else 7] = rs
        g, left = 1, repeats.get(1, 0)
        for t in range(n):
            if g > 11:
                break
            out_sid.append(i)
            out_t.append(t)
            out_g.append(g)
            if left > 0:
                left -= 1
            else:
                g += 1
                left = repeats.get(g, 0)
    return np.array(out_sid), np.array(out_t), np.array(out_g)


def _pick(rng, probs: np.ndarray) -> np.ndarray:
    """Row-wise categorical draw from a (rows x k) matrix of probabilities."""
    cum = probs.cumsum(axis=1)
    u = rng.random(len(probs))[:, None] * cum[:, -1:]
    return (u > cum).sum(axis=1)


def expand_students(wide: pd.DataFrame, ctx: dict, tables_ref: dict[str, pd.DataFrame],
                    rng: np.random.Generator, id_prefix: str = "V") -> dict[str, pd.DataFrame]:
    """Turn synthetic wide rows into contract tables (see the module docstring).

    ``tables_ref`` supplies the institution tables copied as they are (``css``, ``schools``).
    """
    w = wide.reset_index(drop=True)
    n = len(w)
    last = ctx["last_year"]
    sid = np.array([f"{id_prefix}-{i:07d}" for i in range(n)], dtype=object)
    cohort = _int(w["cohort_year"], -np.inf, last, last)
    status = w["exit_status"].astype(object).fillna("none").to_numpy()
    exit_at = cohort + _int(w["exit_offset"], 0, 20, 10)
    status = np.where(exit_at > last, "none", status)  # an exit after the extract: in school
    exit_year = np.where(status != "none", exit_at, last)
    css = w["css_id"].astype(str)

    s_i, t, grade = _grades(exit_year - cohort + 1, _int(w["rep_grade"], 0, 11, 0),
                            _int(w["rep_primary"], 0, 10, 0), _int(w["rep_secondary"], 0, 10, 0))
    year = cohort[s_i] + t
    n_enrolled = np.bincount(s_i, minlength=n)
    last_enr = pd.Series(year).groupby(s_i).max().reindex(range(n)).to_numpy()
    school = np.empty(len(s_i), dtype=object)
    for level, col, mask in (("primaire", "school_g1", grade <= 3),
                             ("primaire", "school_g4", (grade >= 4) & (grade <= 6)),
                             ("secondaire", "school_sec", grade >= 7)):
        want = w[col].astype(object)
        if col == "school_g4":
            want = want.where(want.notna(), w["school_g1"])
        fixed = _fix_school(want.fillna("?"), css, level, ctx).to_numpy()
        school[mask] = fixed[s_i[mask]]
    enr = pd.DataFrame({"student_id": sid[s_i], "school_year": year.astype("int64"),
                        "school_id": school, "grade": grade.astype("int64")})
    enr["class_group_id"] = ("V-" + enr["school_id"] + "-" + enr["school_year"].astype(str)
                             + "-" + enr["grade"].astype(str).str.zfill(2))

    birth_off = pd.to_numeric(w["birth_offset"], errors="coerce").round()
    students = pd.DataFrame({
        "student_id": sid, "css_id": css.to_numpy(),
        "birth_year": pd.array(cohort - birth_off.to_numpy(), dtype="Float64").astype("Int64"),
        "fsa": w["fsa"].astype(object).where(w["fsa"].notna(), None).to_numpy(),
        "sex": w["sex"].astype(str).to_numpy(), "language_group":
        w["language_group"].astype(str).to_numpy(), "immigration_generation":
        w["immigration_generation"].astype(str).to_numpy(),
        "mother_education": pd.array(pd.to_numeric(w["mother_education"]).round().clip(0, 3),
                                     dtype="Float64").astype("Int64"),
        "cohort_year": cohort.astype("int64")})
    keep = n_enrolled > 0
    students = students.loc[keep].reset_index(drop=True)

    # marks: first year in each primary grade holds m_<c>_g<grade>; repeat years reuse it
    prim = enr["grade"].to_numpy() <= 6
    e_s, e_g, e_y = s_i[prim], grade[prim], year[prim]
    term_sd = np.clip(pd.to_numeric(w["term_sd"]).fillna(4.0).to_numpy(), 0, 30)
    trend = np.clip(pd.to_numeric(w["term_trend"]).fillna(0.0).to_numpy(), -15, 15)
    frames = []
    for c in COMPETENCIES:
        mat = w[[f"m_{c}_g{g}" for g in range(1, 7)]].apply(pd.to_numeric).to_numpy(float)
        fill = np.nanmean(np.where(np.isnan(mat), np.nan, mat), axis=1)
        fill = np.where(np.isnan(fill), np.nanmean(mat), fill)
        mat = np.where(np.isnan(mat), fill[:, None], mat)
        base = mat[e_s, e_g - 1]
        noise = rng.normal(0, 1, (len(e_s), 3))
        noise = (noise - noise.mean(axis=1, keepdims=True)) * np.sqrt(1.5)  # mean 0, sd 1
        for term in (1, 2, 3):
            v = base + trend[e_s] * (term - 2) + noise[:, term - 1] * term_sd[e_s]
            v = np.clip(v, 0, 100)
            if ctx["mark_whole"]:
                v = np.round(v)
            v[rng.random(len(v)) < ctx["mark_missing_rate"]] = np.nan
            frames.append(pd.DataFrame({"student_id": sid[e_s], "school_year": e_y,
                                        "term": term, "competency": c, "mark": v}))
    marks = pd.concat(frames, ignore_index=True)

    g4 = enr.loc[enr["grade"] == 4].drop_duplicates("student_id")
    exam_mark = pd.Series(pd.to_numeric(w["exam_mark"]).to_numpy(), index=sid)
    ex = g4.assign(mark=exam_mark.reindex(g4["student_id"]).to_numpy()).dropna(subset=["mark"])
    ex_mark = np.clip(ex["mark"].to_numpy(float), 0, 100)
    ex_mark = np.round(ex_mark) if ctx["mark_whole"] else ex_mark
    exams = pd.DataFrame({"student_id": ex["student_id"].to_numpy(),
                          "school_year": ex["school_year"].to_numpy(), "exam": "ecriture_4e",
                          "mark": ex_mark, "passed": ex_mark >= 60})

    has_exit = keep & (status != "none")
    outcomes = pd.DataFrame({"student_id": sid[has_exit],
                             "exit_year": last_enr[has_exit].astype("int64"),
                             "status": status[has_exit]})
    ptype = w["plan_type"].astype(object).fillna("none").to_numpy()
    has_plan = keep & (ptype != "none")
    start = np.clip(cohort + _int(w["plan_offset"], 0, 20, 0), cohort,
                    np.nan_to_num(last_enr, nan=last).astype("int64"))
    plans = pd.DataFrame({"student_id": sid[has_plan], "start_year": start[has_plan],
                          "end_year": pd.array([pd.NA] * int(has_plan.sum()), dtype="Int64"),
                          "plan_type": ptype[has_plan]})
    out = {"css": tables_ref["css"].copy(), "schools": tables_ref["schools"].copy(),
           "students": students, "enrolments": enr, "marks": marks,
           "ministry_exams": exams, "outcomes": outcomes, "intervention_plans": plans}
    if ctx["categories"]:
        out["absences"] = _absences(w, enr, s_i, css.to_numpy(), ctx, rng)
    return out


def _absences(w, enr, s_i, css, ctx, rng) -> pd.DataFrame:
    cats = ctx["categories"]
    rate = np.clip(pd.to_numeric(w["abs_per_year"]).fillna(0).to_numpy(float), 0, 200)
    counts = rng.poisson(rate[s_i])
    rows = np.repeat(np.arange(len(enr)), counts)
    stu = s_i[rows]
    shares = np.clip(w[[f"abs_{c}" for c in cats]].apply(pd.to_numeric).to_numpy(float), 0, None)
    shares = np.nan_to_num(shares, nan=0.0)
    shares[shares.sum(axis=1) == 0] = 1.0
    cat_idx = _pick(rng, shares[stu])
    raw = np.empty(len(rows), dtype=object)
    hours = np.empty(len(rows), dtype=float)
    all_css = ctx["reasons"]
    for ci, cat in enumerate(cats):
        hrs = ctx["hours"].get(cat) or {"1.0": 1}
        hv = np.array([float(h) for h in hrs])
        hp = np.array(list(hrs.values()), dtype=float)
        m_cat = cat_idx == ci
        hours[m_cat] = rng.choice(hv, int(m_cat.sum()), p=hp / hp.sum())
        for c in np.unique(css[stu[m_cat]]) if m_cat.any() else []:
            pool = all_css.get(c, {}).get(cat) or next(
                (v[cat] for v in all_css.values() if v.get(cat)), None)
            m = m_cat & (css[stu] == c)
            if pool is None:
                raw[m] = None
                continue
            p = np.array(list(pool.values()), dtype=float)
            raw[m] = rng.choice(np.array(list(pool), dtype=object), int(m.sum()), p=p / p.sum())
    year = enr["school_year"].to_numpy()[rows]
    start = pd.to_datetime(pd.Series(year).astype(str) + "-09-01").to_numpy()
    day = rng.integers(0, 292, len(rows)).astype("timedelta64[D]")  # Sep 1 .. Jun 19
    date = pd.DatetimeIndex(start + day)
    date = date + pd.to_timedelta(np.where(date.dayofweek >= 5, 7 - date.dayofweek, 0), "D")
    df = pd.DataFrame({"absence_id": np.arange(len(rows), dtype="int64"),
                       "student_id": enr["student_id"].to_numpy()[rows], "school_year": year,
                       "date": date.astype("datetime64[ns]"), "hours": hours,
                       "reason_raw": raw})
    return df.dropna(subset=["reason_raw"]).reset_index(drop=True).assign(
        absence_id=lambda d: np.arange(len(d), dtype="int64"))
