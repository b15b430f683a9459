"""The card's codes in the reader's words: every code a template would otherwise print raw
(metric keys, groups, data forms, calibration methods, run states, roles, virtual CSS
checks) goes through the glossary here, and numbers inside fixed strings follow the locale."""

from __future__ import annotations

import re

from cin_ml.cards._labels import feature_label
from cin_ml.cards._schema import Justification, ModelCard
from cin_ml.glossary import attribute_label, fmt_date, fmt_number, group_label, has_label, label
from cin_ml.tasks import task_label

__all__ = ["glossary_term", "words"]

_DECIMAL = re.compile(r"\d+\.\d+")


def glossary_term(section: str, code: str | None, lang: str) -> str:
    key = f"{section}.{code}"
    if code and has_label(key):
        return label(key, lang)
    return code or label("word.not_provided", lang)


def localize_numbers(text: str, lang: str) -> str:
    """Decimal numbers written in a fixed string (``≥ 0.85``) in ``lang``'s locale."""
    return _DECIMAL.sub(lambda m: fmt_number(float(m.group(0)), lang,
                                             len(m.group(0).split(".")[1])), text)


def metric_name(metric: str, lang: str, short: bool = False) -> str:
    """``fnr`` -> "Taux de faux négatifs (...)" (``short``: "faux négatifs")."""
    if short and has_label(f"metric_short.{metric}"):
        return label(f"metric_short.{metric}", lang)
    return glossary_term("metric", metric, lang)


def check_name(key: str, lang: str) -> str:
    """A virtual CSS check (``decrochage.auc_ratio``, ``verdict``) in words."""
    if key == "verdict":
        return label("metric.utility_verdict", lang)
    if "." in key:
        task, metric = key.split(".", 1)
        return f"{metric_name(metric, lang)} — {task_label(task, 'name', lang)}"
    return metric_name(key, lang)


def justification(j: Justification, lang: str) -> str:
    return (j.text_fr or j.text) if lang == "fr" else j.text


def attribute_notes(card: ModelCard, lang: str) -> list[str]:
    """One plain sentence per audited attribute the glossary explains (IMSE: which end is
    disadvantaged)."""
    out = []
    for a in card.factors.audited_attributes:
        key = f"attribute_help.{a}"
        if has_label(key):
            out.append(f"{attribute_label(a, lang)}{' :' if lang == 'fr' else ':'} "
                       f"{label(key, lang)}")
    return out


def words(card: ModelCard, lang: str) -> dict:
    """Template helpers and values for ``card`` in ``lang``."""
    d = card.model_details
    return {
        "group": lambda attribute, value: group_label(attribute, value, lang),
        "metric_name": lambda m, short=False: metric_name(m, lang, short),
        "feature": lambda name: feature_label(name).get(lang),
        "features_text": lambda names: "; ".join(feature_label(n).get(lang) for n in names),
        "is_data_name": lambda name: feature_label(name).get(lang) == name,
        "role": lambda r: glossary_term("column_role", r, lang),
        "check_name": lambda k: check_name(k, lang),
        "num_range": lambda xs, k=2: "–".join(fmt_number(x, lang, k) for x in xs),
        "metric_title": lambda m: (lambda t: t[:1].upper() + t[1:])(metric_name(m, lang, True)),
        "check_area": lambda a: glossary_term("check_area", a, lang),
        "localized": lambda text: localize_numbers(text or "", lang),
        "justification": lambda j: justification(j, lang),
        "run_state": glossary_term("run_state", d.run_status, lang),
        "data_form": glossary_term("data_form", card.provenance.data_form, lang),
        "not_provided": label("word.not_provided", lang),
        "attribute_notes": attribute_notes(card, lang),
        "monotone_method": glossary_term("monotone_method", card.explanations.monotone_method,
                                         lang),
        "explain_method": (label("explain_method.tree_shap", lang)
                           if "pred_contrib" in card.explanations.method
                           or "shap" in card.explanations.method.lower()
                           else card.explanations.method),
        "dataset_word": lambda k: glossary_term("dataset", k, lang),
        "purpose_word": lambda k: glossary_term("purpose", k, lang),
        "known": lambda section, k: has_label(f"{section}.{k}"),
        "date": lambda x: fmt_date(x, lang) if x else "",
        "css_list": ", ".join(card.provenance.css or sorted(
            {a.css_id for a in card.provenance.agreements if a.css_id})),
        "synthesizer": glossary_term("synthesizer", card.virtual_css.synthesizer, lang),
    }
