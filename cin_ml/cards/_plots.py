"""Figures of a card, drawn from the card itself (so they hold nothing the card does not:
no suppressed cell, no student) and returned as PNG bytes with no timestamp or software
metadata, so the same card always gives the same bytes."""

from __future__ import annotations

import io

from cin_ml.cards._labels import attribute_label
from cin_ml.cards._schema import ModelCard

__all__ = ["card_figures"]

_COLOURS = {"pass": "#2e7d32", "fail": "#c62828", "inconclusive": "#ef6c00",
            "insufficient_data": "#9e9e9e", "reference": "#1565c0", None: "#9e9e9e"}
_T = {
    "perf_title": {"fr": "Capacité à distinguer les élèves à risque (AUC, IC {lvl} %)",
                   "en": "Ability to tell at-risk students apart (AUC, {lvl}% CI)"},
    "model_auc": {"fr": "Ce modèle", "en": "This model"},
    "logistic_auc": {"fr": "Régression logistique", "en": "Logistic regression"},
    "indicator_auc": {"fr": "Indicateur traditionnel", "en": "Traditional indicator"},
    "oracle_auc": {"fr": "Plafond (oracle, simulation)", "en": "Ceiling (oracle, simulation)"},
    "chance": {"fr": "hasard", "en": "chance"},
    "fair_title": {"fr": "Élèves à risque non repérés (taux de faux négatifs) par groupe",
                   "en": "At-risk students missed (false negative rate) by group"},
    "drivers_title": {"fr": "Principaux facteurs (part de l'influence moyenne)",
                      "en": "Main drivers (share of mean influence)"},
    "suppressed": {"fr": "masqué (petit groupe)", "en": "hidden (small group)"},
}


def _figure(w: float, h: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(w, h), dpi=100, layout="constrained")


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    return buf.getvalue()


def _err(iv):
    e = iv.estimate
    lo = e - iv.low if iv.low is not None else 0.0
    hi = iv.high - e if iv.high is not None else 0.0
    return max(lo, 0.0), max(hi, 0.0)


def _performance(card: ModelCard, lang: str) -> bytes | None:
    keys = [k for k in ("oracle_auc", "model_auc", "logistic_auc", "indicator_auc")
            if card.metrics.get(k) is not None and card.metrics.get(k).estimate is not None]
    if not keys:
        return None
    fig = _figure(7.0, 0.55 * len(keys) + 1.0)
    ax = fig.add_subplot()
    vals = [card.metrics.get(k) for k in keys]
    y = list(range(len(keys)))[::-1]
    colours = ["#1565c0" if k == "model_auc" else "#9e9e9e" if k != "oracle_auc" else "#6a1b9a"
               for k in keys]
    lo, hi = zip(*(_err(v) for v in vals), strict=True)
    ax.barh(y, [v.estimate - 0.5 for v in vals], left=0.5, color=colours, height=0.6,
            xerr=[lo, hi], capsize=4, ecolor="#333333")
    for yy, v in zip(y, vals, strict=True):
        ax.text(v.high if v.high is not None else v.estimate, yy, f"  {v.estimate:.3f}",
                va="center", fontsize=9)
    ax.set_yticks(y, [_T[k][lang] for k in keys])
    ax.set_xlim(0.5, 1.0)
    ax.set_xlabel(f"AUC (0.5 = {_T['chance'][lang]}, 1 = parfait)" if lang == "fr"
                  else "AUC (0.5 = chance, 1 = perfect)")
    lvl = round(100 * (card.metrics.ci_level or 0.95))
    ax.set_title(_T["perf_title"][lang].format(lvl=lvl), fontsize=10, loc="left")
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def _fairness(card: ModelCard, lang: str) -> bytes | None:
    fair = card.fairness
    singles = [b for b in fair.breakdowns if "×" not in b.name and b.groups]
    if fair.status != "available" or not singles:
        return None
    n_rows = sum(len(b.groups) for b in singles)
    fig = _figure(7.0, 0.32 * n_rows + 0.6 * len(singles) + 0.8)
    axes = fig.subplots(len(singles), 1, sharex=True,
                        gridspec_kw={"height_ratios": [len(b.groups) for b in singles]})
    axes = [axes] if len(singles) == 1 else list(axes)
    for ax, b in zip(axes, singles, strict=True):
        y = list(range(len(b.groups)))[::-1]
        for yy, g in zip(y, b.groups, strict=True):
            if g.suppressed or g.rate.estimate is None:
                ax.text(0.01, yy, _T["suppressed"][lang], va="center", fontsize=8,
                        color="#757575", style="italic")
                continue
            lo, hi = _err(g.rate)
            c = _COLOURS["reference" if g.is_reference else g.verdict]
            ax.errorbar(g.rate.estimate, yy, xerr=[[lo], [hi]], fmt="o", color=c, capsize=3)
        ax.set_yticks(y, [g.label for g in b.groups], fontsize=8)
        ax.set_ylim(-0.7, len(b.groups) - 0.3)
        ax.set_title(attribute_label(b.name).get(lang), fontsize=9, loc="left")
        if fair.fnr_ceiling is not None:
            ax.axvline(fair.fnr_ceiling, color="#c62828", lw=0.8, ls="--")
        ax.spines[["top", "right"]].set_visible(False)
    axes[-1].set_xlim(0, 1)
    axes[-1].set_xlabel("FNR" + (" (— plafond)" if lang == "fr" else " (— ceiling)"))
    fig.suptitle(_T["fair_title"][lang], fontsize=10, x=0.01, ha="left")
    return _png(fig)


def _drivers(card: ModelCard, lang: str) -> bytes | None:
    d = card.explanations.drivers
    if card.explanations.status != "available" or not d:
        return None
    fig = _figure(7.0, 0.38 * len(d) + 0.9)
    ax = fig.add_subplot()
    y = list(range(len(d)))[::-1]
    ax.barh(y, [x.share * 100 for x in d], color="#1565c0", height=0.6)
    for yy, x in zip(y, d, strict=True):
        ax.text(x.share * 100, yy, f" {x.share * 100:.0f} %", va="center", fontsize=8)
    ax.set_yticks(y, [x.label.get(lang) for x in d], fontsize=8)
    ax.set_xlabel("%")
    ax.set_xlim(0, max(x.share for x in d) * 100 * 1.2)
    ax.set_title(_T["drivers_title"][lang], fontsize=10, loc="left")
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def card_figures(card: ModelCard, lang: str) -> dict[str, bytes]:
    """``{"performance" | "fairness" | "drivers": PNG bytes}`` for the figures that apply."""
    out = {}
    for name, fn in (("performance", _performance), ("fairness", _fairness),
                     ("drivers", _drivers)):
        png = fn(card, lang)
        if png is not None:
            out[name] = png
    return out
