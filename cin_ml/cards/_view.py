"""What the templates show: the card plus language-formatted numbers and the plain-language
first-page summary (computed from the card only, so it can never say more than the card)."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources

from cin_ml.cards._labels import attribute_label, family_label, task_text
from cin_ml.cards._over_time import stability_sentence
from cin_ml.cards._risks import risk_lines
from cin_ml.cards._schema import Interval, ModelCard, Text
from cin_ml.cards._words import glossary_term, metric_name, words
from cin_ml.glossary import fmt_number, fmt_percent

__all__ = ["strings", "view"]

N_SUMMARY_DRIVERS = 5
N_SUMMARY_RISKS = 5
_NBSP = "\u00a0"


@cache
def strings(lang: str) -> dict[str, str]:
    """Fixed wording of the card in ``lang`` (``templates/strings.toml``)."""
    text = resources.files("cin_ml.cards").joinpath("templates/strings.toml").read_text(
        encoding="utf-8")
    return tomllib.loads(text)[lang]


def num(x: float | None, digits: int, lang: str) -> str:
    return fmt_number(x, lang, digits)


def pct(x: float | None, lang: str, digits: int = 0) -> str:
    return fmt_percent(x, lang, digits)


def interval(iv: Interval | None, lang: str, digits: int = 3, as_pct: bool = False) -> str:
    if iv is None or iv.low is None or iv.high is None:
        return "—"
    if as_pct:
        return f"{pct(iv.low, lang, 1)} – {pct(iv.high, lang, 1)}"
    return f"{num(iv.low, digits, lang)} – {num(iv.high, digits, lang)}"


def _model_vs_indicator(m, recall: float, event: str, lang: str) -> list[str]:
    """The first page's two comparisons, one short sentence each: (a) at the served threshold,
    (b) at the indicator's flag rate. Numbers are the card's (evaluation/metrics.json)."""
    s = strings(lang)
    per100, flag = round(100 * recall), pct(m.flag_rate, lang)
    if m.indicator_recall is None:
        return [s["cmp_served_alone"].format(per100=per100, event=event, flag=flag)]
    ind_flag = pct(m.indicator_flag_rate, lang)
    more = (m.indicator_flag_rate or 0) > (m.flag_rate or 0)
    out = [s["cmp_served"].format(per100=per100, event=event, flag=flag,
                                  ind100=round(100 * m.indicator_recall), ind_flag=ind_flag,
                                  but=s["cmp_but"] if more else s["cmp_while"])]
    if m.recall_at_indicator_rate is not None:
        out.append(s["cmp_equal"].format(ind_flag=ind_flag,
                                         per100=round(100 * m.recall_at_indicator_rate),
                                         ind100=round(100 * m.indicator_recall)))
    return out


def _how_well(card: ModelCard, lang: str) -> list[str]:
    m = card.metrics
    auc, rec = m.get("model_auc"), m.get("recall")
    ind = m.get("indicator_auc")
    oracle = m.get("oracle_auc")
    lvl = round(100 * (m.ci_level or 0.95))
    event = task_text(card.model_details.task, "event").get(lang)
    out = []
    if rec is not None and rec.estimate is not None:
        out += _model_vs_indicator(m, rec.estimate, event, lang)
        out.append(strings(lang)["recall_ci"].format(lvl=lvl, ci=interval(rec, lang, as_pct=True)))
    if auc is not None and auc.estimate is not None:
        versus = " contre " if lang == "fr" else " vs "
        a = (f"AUC {num(auc.estimate, 3, lang)} ({interval(auc, lang)})"
             + (f"{versus}{num(ind.estimate, 3, lang)} " if ind is not None else ""))
        if lang == "fr":
            a += "pour l'indicateur" if ind is not None else ""
            if oracle is not None:
                a += (f"; plafond atteignable sur ces données simulées : "
                      f"{num(oracle.estimate, 3, lang)}")
        else:
            a += "for the indicator" if ind is not None else ""
            if oracle is not None:
                a += ("; attainable ceiling on these simulated data: "
                      f"{num(oracle.estimate, 3, lang)}")
        out.append(a + ".")
    return out


def _how_well_spec(card: ModelCard, lang: str) -> list[str]:
    """A spec's card: accuracy beside the naive and majority baselines, then recall and AUC,
    all on the evaluation rows the subject describes (out-of-fold or hold-out)."""
    sub, m = card.subject, card.metrics
    s = strings(lang)
    out = []
    acc = {a.key: a for a in sub.accuracy}
    if "model" in acc:
        a = acc["model"]
        runs = (s["acc_runs"].format(n=a.n_runs) if a.n_runs > 1 else "")
        line = s["acc_model"].format(thr=num(sub.threshold, 2, lang), value=pct(
            a.value.estimate, lang, 1), ci=interval(a.value, lang, as_pct=True), runs=runs)
        base = []
        if "naive" in acc:
            base.append(s["acc_naive"].format(rule=acc["naive"].rule,
                                           value=pct(acc["naive"].value.estimate, lang, 1)))
        if "majority" in acc:
            base.append(s["acc_majority"].format(value=pct(acc["majority"].value.estimate,
                                                        lang, 1)))
        out.append(line + (" " + s["acc_baselines"].format(items="; ".join(base)) if base else
                           "") + ".")
    rec, auc = m.get("recall"), m.get("model_auc")
    if rec is not None and rec.estimate is not None:
        out.append(s["spec_recall"].format(flag=pct(m.flag_rate, lang), per100=round(
            100 * rec.estimate), event=sub.event.get(lang), lvl=round(100 * (m.ci_level or 0.95)),
            ci=interval(rec, lang, as_pct=True)))
    if auc is not None and auc.estimate is not None:
        out.append(f"AUC {num(auc.estimate, 3, lang)} ({interval(auc, lang)}).")
    out.append(s["evaluated_on"].format(how=sub.evaluation.get(lang)) + ".")
    return out


def _glance(card: ModelCard) -> list[dict]:
    fair = card.fairness
    rows = []
    chosen = card.subject is not None
    for b in fair.breakdowns:
        if "×" in b.name:
            continue
        rows.append({"name": b.name, "label": attribute_label(b.name),
                     "verdict": b.verdicts.get(fair.primary_metric),
                     "ref": b.reference if chosen else None,
                     "mdd": b.mdd.get(fair.primary_metric)})
    inter = [b.verdicts.get(fair.primary_metric) for b in fair.breakdowns if "×" in b.name]
    if inter:
        worst = next((v for v in ("fail", "inconclusive", "insufficient_data", "pass")
                      if v in inter), None)
        rows.append({"name": "intersections",
                     "label": None, "verdict": worst, "n": len(inter), "ref": None,
                     "mdd": None})
    return rows


def _task_words(card: ModelCard, key: str) -> Text:
    sub = card.subject
    if sub is not None:
        return {"predicts": sub.predicts, "name": sub.title, "for_whom": sub.for_whom}[key]
    return task_text(card.model_details.task, key)


def _legend(card: ModelCard, s: dict, lang: str) -> str:
    metric = metric_name(card.fairness.primary_metric, lang, short=True)
    if card.subject is None:
        return s["glance_legend"].format(metric=metric)
    return s["glance_legend_spec"].format(metric=metric)


def view(card: ModelCard, lang: str, figures: dict[str, str] | None = None) -> dict:
    """Template context for ``card`` in ``lang`` (``figures``: name -> base64 PNG)."""
    s = strings(lang)
    d = card.model_details
    risks = risk_lines(card, lang)
    more = len(risks) - N_SUMMARY_RISKS
    return {
        "card": card, "lang": lang, "s": s, "figures": figures or {},
        "T": lambda t: t.get(lang) if t is not None else "",
        "num": lambda x, k=3: num(x, k, lang), "pct": lambda x, k=0: pct(x, lang, k),
        "interval": lambda iv, k=3, p=False: interval(iv, lang, k, p),
        "verdict": lambda v: glossary_term("verdict", v, lang) if v else "—",
        "review_state": lambda st: glossary_term("review_state", st, lang),
        "attr": lambda name: attribute_label(name).get(lang),
        "family": lambda f: family_label(f).get(lang),
        "what": _task_words(card, "predicts").get(lang),
        "task_name": _task_words(card, "name").get(lang),
        "for_whom": _task_words(card, "for_whom").get(lang),
        "how_well": (_how_well(card, lang) if card.subject is None
                     else _how_well_spec(card, lang)),
        "glance": _glance(card),
        "stability": stability_sentence(card.metrics.cohorts, card.metrics.stability, s,
                                        lambda x, k: fmt_number(x, lang, k)),
        "glance_legend": _legend(card, s, lang),
        "calibration": (s["cal_none"] if d.calibration == "none"
                        else glossary_term("calibration", d.calibration, lang)),
        # the model-type line in the page's language (the card records it in English)
        "model_type": s["model_type_plain"] if d.calibration == "none" else s[
            "model_type_calibrated"],
        "threshold_mode": glossary_term("threshold_mode", d.threshold_mode, lang),
        "top_drivers": card.explanations.drivers[:N_SUMMARY_DRIVERS],
        "risks": risks[:N_SUMMARY_RISKS] + ([s["risks_more"].format(n=more)] if more > 0
                                            else []),
        "risks_all": risks,
        "other_lang": "en" if lang == "fr" else "fr",
    } | words(card, lang)
