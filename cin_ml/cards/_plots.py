"""Figures of a card, drawn from the card itself (so they hold nothing the card does not:
no suppressed cell, no student) and returned as PNG bytes with no timestamp or software
metadata, so the same card always gives the same bytes."""

from __future__ import annotations

import io
import textwrap

from cin_ml.cards._labels import attribute_label
from cin_ml.cards._schema import ModelCard
from cin_ml.glossary import fmt_number, fmt_percent, group_label, label

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
    "auc_axis": {"fr": "AUC ({half} = hasard, 1 = parfait)",
                 "en": "AUC ({half} = chance, 1 = perfect)"},
    "fnr_axis": {"fr": "Taux de faux négatifs (part des élèves à risque non repérés)",
                 "en": "False negative rate (share of at-risk students missed)"},
    "share_axis": {"fr": "Part de l'influence moyenne (%)", "en": "Share of mean influence (%)"},
    "drivers_legend": {"fr": "part de l'influence sur le risque estimé",
                       "en": "share of influence on the estimated risk"},
    "model_bar": {"fr": "ce modèle", "en": "this model"},
    "other_bar": {"fr": "références de comparaison", "en": "comparison baselines"},
    "oracle_bar": {"fr": "plafond (vraies probabilités)", "en": "ceiling (true probabilities)"},
    "interval": {"fr": "intervalle de confiance", "en": "confidence interval"},
    "ceiling": {"fr": "plafond de faux négatifs", "en": "false negative ceiling"},
    "reference": {"fr": "groupe de référence", "en": "reference group"},
}


def _wrap(title: str, width: int = 80) -> str:
    """A title on as many lines as it needs (a long one was cut off at the figure's edge)."""
    return "\n".join(textwrap.wrap(title, width))


def _perf_legend(lang: str, keys: list[str]) -> list:
    """Legend entries for the bars drawn (no ceiling entry without an oracle bar)."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    out = [Patch(color="#1565c0", label=_T["model_bar"][lang])]
    if any(k in ("logistic_auc", "indicator_auc") for k in keys):
        out.append(Patch(color="#9e9e9e", label=_T["other_bar"][lang]))
    if "oracle_auc" in keys:
        out.append(Patch(color="#6a1b9a", label=_T["oracle_bar"][lang]))
    return out + [Line2D([], [], color="#333333", marker="|", ls="-",
                         label=_T["interval"][lang])]


def _fair_legend(ceiling: float | None, lang: str) -> list:
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=_COLOURS["reference"], marker="o", ls="",
                      label=_T["reference"][lang])]
    handles += [Line2D([], [], color=_COLOURS[v], marker="o", ls="",
                       label=label(f"verdict.{v}", lang))
                for v in ("pass", "inconclusive", "fail", "insufficient_data")]
    if ceiling is not None:
        handles.append(Line2D([], [], color="#c62828", lw=0.8, ls="--",
                              label=f"{_T['ceiling'][lang]} ({fmt_number(ceiling, lang, 2)})"))
    return handles


def _locale_ticks(ax, lang: str, digits: int) -> None:
    """x-axis tick labels written in the page's locale (0,5 in French)."""
    from matplotlib.ticker import FuncFormatter

    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: fmt_number(v, lang, digits)))


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
    fig = _figure(7.0, 0.55 * len(keys) + 1.4)
    ax = fig.add_subplot()
    vals = [card.metrics.get(k) for k in keys]
    y = list(range(len(keys)))[::-1]
    colours = ["#1565c0" if k == "model_auc" else "#9e9e9e" if k != "oracle_auc" else "#6a1b9a"
               for k in keys]
    lo, hi = zip(*(_err(v) for v in vals), strict=True)
    ax.barh(y, [v.estimate - 0.5 for v in vals], left=0.5, color=colours, height=0.6,
            xerr=[lo, hi], capsize=4, ecolor="#333333")
    for yy, v in zip(y, vals, strict=True):
        ax.text(v.high if v.high is not None else v.estimate, yy,
                f"  {fmt_number(v.estimate, lang, 3)}",
                va="center", fontsize=9)
    ax.set_yticks(y, [_T[k][lang] for k in keys])
    ax.set_xlim(0.5, 1.0)
    ax.set_xlabel(_T["auc_axis"][lang].format(half=fmt_number(0.5, lang, 1)))
    lvl = round(100 * (card.metrics.ci_level or 0.95))
    fig.suptitle(_wrap(_T["perf_title"][lang].format(lvl=lvl)), fontsize=10, x=0.01,
                 ha="left")
    fig.legend(handles=_perf_legend(lang, keys), loc="outside lower center", ncols=4, fontsize=8,
               frameon=False)
    _locale_ticks(ax, lang, 1)
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
        ax.set_yticks(y, [group_label(b.name, g.label, lang) for g in b.groups], fontsize=8)
        ax.set_ylim(-0.7, len(b.groups) - 0.3)
        ax.set_title(attribute_label(b.name).get(lang), fontsize=9, loc="left")
        if fair.fnr_ceiling is not None:
            ax.axvline(fair.fnr_ceiling, color="#c62828", lw=0.8, ls="--")
        ax.spines[["top", "right"]].set_visible(False)
    axes[-1].set_xlim(0, 1)
    _locale_ticks(axes[-1], lang, 1)
    axes[-1].set_xlabel(_T["fnr_axis"][lang])
    fig.legend(handles=_fair_legend(fair.fnr_ceiling, lang), loc="outside lower center",
               ncols=3, fontsize=8, frameon=False)
    fig.suptitle(_wrap(_T["fair_title"][lang]), fontsize=10, x=0.01, ha="left")
    return _png(fig)


def _drivers(card: ModelCard, lang: str) -> bytes | None:
    d = card.explanations.drivers
    if card.explanations.status != "available" or not d:
        return None
    fig = _figure(7.0, 0.38 * len(d) + 1.3)
    ax = fig.add_subplot()
    y = list(range(len(d)))[::-1]
    ax.barh(y, [x.share * 100 for x in d], color="#1565c0", height=0.6)
    for yy, x in zip(y, d, strict=True):
        ax.text(x.share * 100, yy, f" {fmt_percent(x.share, lang)}", va="center", fontsize=8)
    ax.set_yticks(y, [x.label.get(lang) for x in d], fontsize=8)
    ax.set_xlabel(_T["share_axis"][lang])
    ax.set_xlim(0, max(x.share for x in d) * 100 * 1.2)
    _locale_ticks(ax, lang, 0)
    fig.suptitle(_wrap(_T["drivers_title"][lang]), fontsize=10, x=0.01, ha="left")
    from matplotlib.patches import Patch

    fig.legend(handles=[Patch(color="#1565c0", label=_T["drivers_legend"][lang])],
               loc="outside lower center", fontsize=8, frameon=False)
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
