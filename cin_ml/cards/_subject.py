"""The card of a dataset spec speaks the spec's words: its title, what its target means, who
its rows are, how it was evaluated (out-of-fold or hold-out), its accuracy beside the naive
and majority baselines, and the reference groups it chose (``cin-ml run --spec``).

Read from the run's plain records (``external/spec.json``, ``external/dataset.json``,
``evaluation/metrics.json``); a CSS task has none of them and its card no subject.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from cin_ml.cards._schema import AccuracyRow, Interval, Subject, Text

__all__ = ["subject_section"]


def _text(value, fallback: Text) -> Text:
    if isinstance(value, Mapping) and (value.get("fr") or "").strip():
        return Text(fr=value["fr"].strip(), en=value["en"].strip())
    if isinstance(value, str) and value.strip():
        return Text(fr=value.strip(), en=value.strip())
    return fallback


def _rule(text: str) -> str:
    return text.replace("`", "")


def _evaluation(protocol: Mapping, group: str | None) -> tuple[Text, bool]:
    kind = protocol.get("protocol", "")
    if kind == "holdout":
        share = round(100 * float(protocol.get("test_size") or 0))
        fr_g = f", groupes « {group} » entiers" if group else ""
        en_g = f", whole “{group}” groups" if group else ""
        return Text(fr=f"sur des lignes de test mises de côté ({share} %{fr_g}), prédites "
                       f"par le modèle enregistré, qui ne les a pas vues",
                    en=f"on held-out test rows ({share}%{en_g}), scored by the logged model, "
                       f"which did not see them"), False
    k, runs = protocol.get("n_splits"), int(protocol.get("n_repeats") or 1)
    fr_g = f" groupée par « {group} » (les lignes d'une personne restent dans un même pli)" \
        if group else ""
    en_g = f" grouped by “{group}” (a person's rows stay in one fold)" if group else ""
    fr_r = f"la 1re de {runs} répétitions" if runs > 1 else "une répétition"
    en_r = f"the first of {runs} runs" if runs > 1 else "one run"
    fr_a = f"; exactitude moyenne sur les {runs} répétitions" if runs > 1 else ""
    en_a = f"; accuracy averaged over the {runs} runs" if runs > 1 else ""
    return Text(fr=f"hors pli : chaque ligne est prédite une fois, par un modèle qui ne l'a "
                   f"pas vue, dans {fr_r} d'une validation croisée à {k} plis{fr_g}{fr_a}",
                en=f"out-of-fold: each row is scored once, by a model that did not see it, in "
                   f"{en_r} of {k}-fold cross-validation{en_g}{en_a}"), True


def _accuracy(evaluation: Mapping) -> tuple[AccuracyRow, ...]:
    acc = evaluation.get("accuracy") or {}
    rows = []
    for key in ("model", "naive", "majority"):
        a = acc.get(key)
        if not a:
            continue
        rows.append(AccuracyRow(
            key=key, value=Interval(estimate=a.get("mean"), low=a.get("low"),
                                    high=a.get("high")),
            n_runs=int(a.get("n_runs") or 1), method=str(a.get("method") or ""),
            rule=_rule(str(evaluation.get("naive_rule") or "")) if key == "naive" else ""))
    return tuple(rows)


def subject_section(spec: Mapping | None, dataset: Mapping | None,
                    evaluation: Mapping) -> Subject | None:
    """The subject of a spec's card (``None`` without ``spec``: a CSS task).

    ``spec`` is ``external/spec.json``, ``dataset`` ``external/dataset.json`` (optional),
    ``evaluation`` ``evaluation/metrics.json`` (accuracy, protocol actually run).
    """
    if spec is None:
        return None
    ds_sec, target = spec.get("dataset") or {}, spec.get("target") or {}
    name = str(ds_sec.get("name", ""))
    event = _rule(str(target.get("event", "")))
    label = str(target.get("name") or "event")
    predicts = _text(target.get("description"), Text(
        fr=f"l'événement « {label} » ({event})", en=f"the event “{label}” ({event})"))
    dataset = dataset or {}
    n = dataset.get("n_labelled") or evaluation.get("n_test")
    file = Path(str(dataset.get("file") or ds_sec.get("file") or "")).name
    group = (spec.get("columns") or {}).get("group")
    n_groups = dataset.get("n_groups")
    fr_who, en_who = f"les {n} lignes étiquetées de {file}", f"the {n} labelled rows of {file}"
    pop = _text(ds_sec.get("population"), Text())
    if pop.fr:
        fr_who, en_who = f"{pop.fr} : {fr_who}", f"{pop.en}: {en_who}"
    if group and n_groups:
        fr_who += f", soit {n_groups} personnes (colonne « {group} »)"
        en_who += f", {n_groups} people (column “{group}”)"
    protocol = ((evaluation.get("cross_validation") or {}).get("protocol")
                or (evaluation.get("split") or {}).get("protocol") or {})
    how, oof = _evaluation(protocol, group)
    model = spec.get("model") or {}
    return Subject(
        title=_text(ds_sec.get("title"), Text(fr=name, en=name)), predicts=predicts,
        for_whom=Text(fr=fr_who, en=en_who),
        event=Text(fr=f"des cas où {event}", en=f"of the cases where {event}"),
        evaluation=how, out_of_fold=oof, accuracy=_accuracy(evaluation),
        threshold=model.get("decision_threshold"),
        reference_groups=dict((spec.get("sensitive") or {}).get("reference_groups") or {}))
