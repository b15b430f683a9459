"""What the version page shows, shaped from the registry's record (plain data for the
templates: no formatting here, the templates format through :class:`~._i18n.Words`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

VERDICT_ORDER = ("fail", "inconclusive", "insufficient_data", "pass")
METRIC_ORDER = ("fnr", "fpr", "precision", "recall", "calibration_gap", "auc", "fdr",
                "selection_rate")
"""Columns of the verdict table: the primary metric (missed at-risk students) first."""


def _gap(groups: list[Mapping], metric: str) -> dict[str, Any] | None:
    """The non-reference group whose difference from the reference is largest."""
    best = None
    for g in groups:
        if g.get("is_reference"):
            continue
        d = (g.get("difference") or {}).get(metric) or {}
        if d.get("value") is None:
            continue
        if best is None or abs(d["value"]) > abs(best["value"]):
            best = {"labels": list(g.get("labels") or []), "value": d["value"],
                    "low": d.get("low"), "high": d.get("high"), "n": g.get("n")}
    return best


def verdict_matrix(verdicts: Mapping[str, Mapping[str, str]],
                   audit: Mapping | None) -> dict[str, Any]:
    """Verdicts registered with the version, one row per audited attribute (or
    intersection) and one column per metric; each cell has the verdict and, from the logged
    audit, the largest group gap with its interval. Rows whose worst verdict is ``fail`` or
    ``inconclusive`` come first (``shown``); the others (``rest``) may be folded away."""
    groups = {b.get("name"): b.get("groups") or [] for b in (audit or {}).get("breakdowns", [])
              if isinstance(b, Mapping)}
    rank = {v: i for i, v in enumerate(VERDICT_ORDER)}
    metrics: list[str] = []
    rows = []
    for breakdown, per in verdicts.items():
        cells = {}
        for metric, verdict in per.items():
            if metric not in metrics:
                metrics.append(metric)
            gap = (_gap(groups.get(breakdown, []), metric)
                   if verdict != "insufficient_data" else None)
            cells[metric] = {"verdict": verdict, "key": f"{breakdown}:{metric}", "gap": gap}
        worst = min((c["verdict"] for c in cells.values()), key=lambda v: rank.get(v, 9),
                    default="none")
        rows.append({"breakdown": breakdown, "worst": worst, "cells": cells})
    rows.sort(key=lambda r: (rank.get(r["worst"], 9), "×" in r["breakdown"], r["breakdown"]))
    metrics.sort(key=lambda m: (METRIC_ORDER.index(m) if m in METRIC_ORDER else 99, m))
    shown = [r for r in rows if r["worst"] in ("fail", "inconclusive")]
    return {"metrics": metrics, "shown": shown, "rest": [r for r in rows if r not in shown]}


def _interval(boot: Mapping, name: str) -> dict | None:
    iv = (boot.get("intervals") or {}).get(name)
    return iv if isinstance(iv, Mapping) else None


def _context(metrics: Mapping) -> dict[str, Any] | None:
    """The context-only baseline when the run has one (a ``context*`` entry of
    ``evaluation/metrics.json``: a number ``context*_auc`` or a section with ``auc``)."""
    for key, value in metrics.items():
        if "context" not in key:
            continue
        if isinstance(value, Mapping):
            auc = value.get("auc", value.get("test_auc"))
            if isinstance(auc, int | float):
                return {"auc": auc, "recall": value.get("recall"),
                        "precision": value.get("precision"), "key": key}
        elif isinstance(value, int | float) and key.endswith("auc"):
            return {"auc": value, "recall": None, "precision": None, "key": key}
    return None


def indicator_rows(metrics: Mapping | None) -> dict[str, Any] | None:
    """Model vs the traditional indicator (and the context-only baseline when present) on
    the test cohort: AUC and average precision with their bootstrap intervals, then recall,
    precision and flag rate when the model flags as many students as the indicator."""
    if not metrics:
        return None
    boot = metrics.get("bootstrap") or {}
    ctx = _context(metrics)
    same = metrics.get("model_at_indicator_rate") or {}
    ind = metrics.get("indicator_at_flag") or {}
    rows = [
        {"metric": "auc", "model": metrics.get("test_auc"),
         "model_iv": _interval(boot, "model_auc"), "indicator": metrics.get("indicator_auc"),
         "indicator_iv": _interval(boot, "indicator_auc"),
         "context": ctx["auc"] if ctx else None,
         "context_iv": _interval(boot, f"{ctx['key'].removesuffix('_auc')}_auc")
         if ctx else None, "kind": "num"},
        {"metric": "average_precision", "model": metrics.get("test_average_precision"),
         "model_iv": _interval(boot, "model_average_precision"),
         "indicator": None, "indicator_iv": _interval(boot, "indicator_average_precision"),
         "context": None, "context_iv": None, "kind": "num"},
    ]
    if rows[1]["indicator_iv"]:
        rows[1]["indicator"] = rows[1]["indicator_iv"].get("estimate")
    for m in ("recall", "precision", "flag_rate"):
        rows.append({"metric": m, "model": same.get(m), "model_iv": None,
                     "indicator": ind.get(m), "indicator_iv": None,
                     "context": ctx.get(m) if ctx and m != "flag_rate" else None,
                     "context_iv": None, "kind": "pct"})
    return {"rows": rows, "n_test": metrics.get("n_test"), "has_context": ctx is not None}


def agreement_rows(scope: Mapping | None) -> list[dict[str, Any]]:
    """The data-use agreements of the consent scope (no file paths)."""
    out = []
    for a in (scope or {}).get("agreement_records", []) or []:
        if isinstance(a, Mapping):
            out.append({k: a.get(k) for k in ("id", "css_id", "dataset", "purpose",
                                              "retention_end", "signed")})
    return out
