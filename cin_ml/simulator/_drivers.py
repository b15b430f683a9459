"""The causal drivers of each simulated outcome, with their effect sizes (see ``_model``).

``feature_hint`` names the model features (docs/architecture.md, "Package seams") through
which a driver can be observed; ``causal`` is False for variables the simulator makes
inert on purpose, so that explanations can be checked against the truth.
"""

from __future__ import annotations

from collections.abc import Sequence
from fnmatch import fnmatch

import pandas as pd

_ROWS = [
    # task, driver, effect, causal, feature_hint
    ("ecriture_4e", "latent literacy at grade 4", "+1 SD = +11 exam points", True,
     "lecture_*,ecriture_*"),
    ("ecriture_4e", "literacy slope", "+0.08 SD per grade = +1.3 exam points", True,
     "lecture_*_trend,ecriture_*_trend"),
    ("ecriture_4e", "sex (girls)", "+0.20 SD literacy", True, "lecture_*,ecriture_*"),
    ("ecriture_4e", "school IMSE decile", "-0.08 SD literacy per decile", True,
     "imse_decile"),
    ("ecriture_4e", "mother's education", "+0.15 SD literacy per level", True,
     "mother_education"),
    ("ecriture_4e", "intervention plan", "-0.3 SD at the exam", True, "intervention_plan"),
    ("ecriture_4e", "allophone", "-0.15 SD literacy", True, "lecture_*,ecriture_*"),
    ("ecriture_4e", "1st-generation immigrant", "-0.12 SD literacy", True,
     "lecture_*,ecriture_*"),
    ("ecriture_4e", "teacher effect (workforce, forbidden)", "N(0, 0.15) SD", True, ""),
    ("ecriture_4e", "pandemic year 2020-21", "-0.2 SD at the exam, -3 mark points", True, ""),
    ("ecriture_4e", "school changes", "none", False, "n_school_changes"),
    ("ecriture_4e", "medical appointments", "none", False, "absence_rate_rendez_vous_medical"),
    ("decrochage", "mean latent ability", "-0.85 logit per SD", True,
     "lecture_*,ecriture_*,resoudre_*,raisonner_*"),
    ("decrochage", "primary grade retentions", "+0.45 logit each", True, "n_retentions"),
    ("decrochage", "sex (boys)", "+0.25 logit", True, ""),
    ("decrochage", "school IMSE decile", "+0.06 logit per decile", True, "imse_decile"),
    ("decrochage", "intervention plan", "+0.30 logit", True, "intervention_plan"),
    ("decrochage", "absence frailty", "+0.35 logit per SD", True,
     "absence_rate_total,absence_rate_non_motivee,absence_rate_maladie"),
    ("decrochage", "mother's education", "-0.15 logit per level", True, "mother_education"),
    ("decrochage", "school changes", "none", False, "n_school_changes"),
    ("decrochage", "medical appointments", "none", False, "absence_rate_rendez_vous_medical"),
]


def drivers_table() -> pd.DataFrame:
    """One row per (task, driver)."""
    return pd.DataFrame(_ROWS, columns=["task", "driver", "effect", "causal", "feature_hint"])


# Sign of each causal driver's effect on the risk as the features it is observed through
# rise (a higher literacy shows as higher marks and lowers the risk of failing: -1).
_RISK_SIGN = {
    ("ecriture_4e", "latent literacy at grade 4"): -1,
    ("ecriture_4e", "literacy slope"): -1,
    ("ecriture_4e", "school IMSE decile"): 1,
    ("ecriture_4e", "mother's education"): -1,
    ("ecriture_4e", "intervention plan"): 1,
    ("decrochage", "mean latent ability"): -1,
    ("decrochage", "primary grade retentions"): 1,
    ("decrochage", "school IMSE decile"): 1,
    ("decrochage", "intervention plan"): 1,
    ("decrochage", "absence frailty"): 1,
    ("decrochage", "mother's education"): -1,
}


def true_feature_signs(task: str, features: Sequence[str]) -> dict[str, int]:
    """Sign of the true effect on ``task``'s risk of each feature's level rising, from the
    drivers' ``feature_hint``: -1 / +1 through a causal driver (a count of marks below the
    pass mark reverses a mark's sign), 0 for a feature only an inert driver names. Features
    no driver names, and mark volatility (no sign), are left out (no known truth)."""
    rows = [r for r in _ROWS if r[0] == task]
    out: dict[str, int] = {}
    for f in features:
        hits = [(r[1], r[3]) for r in rows
                if any(h.strip() and fnmatch(f, h.strip()) for h in r[4].split(","))]
        causal = [d for d, c in hits if c and (task, d) in _RISK_SIGN]
        if causal:
            if f.endswith("_volatility"):
                continue
            sign = _RISK_SIGN[(task, causal[0])]
            out[f] = -sign if "_n_below_" in f else sign
        elif hits and not any(c for _, c in hits):
            out[f] = 0
    return out
