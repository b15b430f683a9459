"""The monitoring pages: each entirely in its language, numbers in the locale's form."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from cin_ml.cards import render_monitoring_report, render_monitoring_section
from cin_ml.monitoring import (
    LabelledCohort,
    build_reference,
    build_report,
    load_monitoring_settings,
    parse_conditions,
)


def _report():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"ecriture_g3_mean": rng.normal(70, 10, 3000),
                      "n_retentions": rng.integers(0, 2, 3000).astype(float)})
    ref = build_reference(X, np.repeat(["CSS001", "CSS002"], 1500),
                          scores=rng.beta(1, 5, 3000), threshold=0.3)
    p = rng.beta(1, 5, 1000)
    groups = pd.DataFrame({"sex": rng.choice(["F", "M"], 1000),
                           "intervention_plan": rng.choice(["0", "1"], 1000)})
    moved = X.head(1000).assign(ecriture_g3_mean=lambda d: d["ecriture_g3_mean"] - 10)
    lab = LabelledCohort(2023, (rng.random(1000) < p).astype(float), p, groups,
                         {"auc": 0.77, "recall": 0.5, "event_rate": 0.16})
    return build_report(
        model={"name": "m"}, reference=ref, X=moved, css=np.repeat(["CSS001", "CSS009"], 500),
        scores=p, threshold=0.3, groups=groups, year=2024,
        settings=load_monitoring_settings(), labelled=lab,
        conditions=parse_conditions(["estimated_auc >= 0.99",
                                     "fnr_gap(intervention_plan) <= 0.9"]),
        approved={"test_auc": 0.8123}).to_dict()


def _text(html: str) -> str:
    """What a reader sees: no style block, no tags."""
    return re.sub(r"(?s)<style.*?</style>|<[^>]+>", " ", html)


def test_pages_are_in_one_language_with_locale_numbers():
    rep = _report()
    assert rep["drift"]["drifted"] == ["ecriture_g3_mean"]
    assert rep["drift"]["css"]["CSS009"]["new"]
    assert [c["state"] for c in rep["conditions"]] == ["breached", "holds"]
    fr = _text(render_monitoring_report(rep, "fr", "m@champion (v1)"))
    en = _text(render_monitoring_report(rep, "en", "m@champion (v1)"))
    assert "0,812" in fr and "0.812" in en  # Babel: decimal comma in French
    assert "Résultat moyen en écriture, 3e année" in fr and "Mean mark in writing" in en
    assert "AUC estimée ≥ 0,99" in fr and "estimated AUC ≥ 0.99" in en
    for word in ("Model monitoring", "breached", "Approved card", "Input"):
        assert word not in fr
    for word in ("Surveillance", "respectée", "Fiche approuvée", "Variable"):
        assert word not in en
    for page in (fr, en):
        assert "estimated_auc" not in page and "ecriture_g3_mean" not in page
    sec = render_monitoring_section(rep, "fr")
    assert "<html" not in sec and "Conditions de l" in sec and "non respectée" in sec



def test_metric_names_are_the_glossary_s():
    """Metric names on the monitoring page are the glossary's (one home): the estimate and
    realized tables (``metric``) and the fairness verdicts (``metric_short``), no raw code."""
    from markupsafe import escape

    from cin_ml.fairness import METRICS
    from cin_ml.glossary import label

    judged = [m for m in METRICS if m not in ("prevalence", "mean_score")]
    rep = _report()
    rep["realized"]["fairness"] = {"sex": {m: "pass" for m in judged}}
    for lang in ("fr", "en"):
        page = render_monitoring_report(rep, lang, "m")
        for m in ("auc", "recall_at_threshold", "event_rate", "flag_rate", "calibration_gap",
                  "ece"):
            assert str(escape(label(f"metric.{m}", lang))) in page, (lang, m)
        colon, passed = {"fr": ("\u00a0: ", "conforme"), "en": (": ", "pass")}[lang]
        for m in judged:
            assert f"{escape(label(f'metric_short.{m}', lang))}{colon}{passed}" in page, m
        assert "selection_rate" not in page and "calibration_gap" not in _text(page)
