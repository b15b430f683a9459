"""Model cards of a training run (``cin-ml card``)."""

from __future__ import annotations

from pathlib import Path

from cin_ml.pipeline._common import Progress, _quiet, load_publishable_run
from cin_ml.run_contract import DataForm, Tag

CARDS_OUT = "reports/cards"
"""Where ``cin-ml card`` writes a run's card and the governance commands the card with the
decision (``<run>/reviewed/``), relative to the workspace."""


def _virtual_report(tags: dict, explicit: Path | str | None) -> tuple[dict | None, str | None,
                                                                      dict]:
    """(report, why none, dataset digests) for a run trained on a virtual CSS.

    The report is ``explicit``, else the one recorded in the data folder's marker
    (``virtual_css.json``: ``report``, an absolute path written by ``cin-ml virtualize``),
    else ``reports/virtual_css/<data folder name>/report.json`` (the default location); it is
    used only if its ``virtual`` digest equals the one recorded in the marker.
    """
    import json

    data_dir = Path(tags.get(Tag.DATA_DIR, ""))
    info: dict = {}
    marker = data_dir / "virtual_css.json"
    if marker.is_file():
        info = json.loads(marker.read_text(encoding="utf-8"))
    digests: dict = info.get("digests", {})
    if tags.get(Tag.DATA_FORM) != DataForm.VIRTUAL:
        return None, None, digests
    default = Path("reports/virtual_css") / data_dir.name / "report.json"
    if explicit:
        tried = [Path(explicit)]
    else:
        tried = [Path(info["report"])] if info.get("report") else []
        tried += [default] if default not in tried else []
    path = next((p for p in tried if p.is_file()), None)
    if path is None:
        return None, f"{' / '.join(map(str, tried))} not found", digests
    report = json.loads(path.read_text(encoding="utf-8"))
    want, got = digests.get("virtual"), (report.get("digests") or {}).get("virtual")
    if not want or want != got:
        return None, (f"{path} describes another dataset (digest {str(got)[:12]}, training "
                      f"data {str(want)[:12]})"), digests
    return report, None, digests


def _reviewed_copies(reader, run_id: str, sha256: str | None, local: Path) -> dict[str, str]:
    """The registry's reviewed rendering of this card (``card/reviewed/``), copied to
    ``<local>/reviewed/`` when the run has one for the card hash ``sha256`` (any, when
    ``sha256`` is None: the registry has just rendered it): ``{lang: path}``."""
    from cin_ml.cards import LANGS
    from cin_ml.extract import atomic_dir
    from cin_ml.run_contract import Artifact

    found = {}
    for lang in LANGS:
        raw = reader.raw(run_id, Artifact.card_reviewed_html(lang))
        if raw is not None and (sha256 is None or sha256.encode("ascii") in raw):
            found[lang] = raw
    if not found:
        return {}
    with atomic_dir(local / "reviewed") as tmp:
        for lang, raw in found.items():
            (tmp / f"card.{lang}.html").write_bytes(raw)
    return {lang: str(local / "reviewed" / f"card.{lang}.html") for lang in found}


def refresh_reviewed_card(run_id: str, out: Path | str = CARDS_OUT, *,
                          tracking_uri: str | None = None, reader=None) -> dict[str, str]:
    """Copy the run's reviewed card (``card/reviewed/``, which the registry has just
    rendered) to ``<out>/<run_id>/reviewed/card.{fr,en}.html``, whether or not ``cin-ml
    card`` wrote the card itself here (the default ``out`` is ``cin-ml card``'s, relative
    to the workspace): ``{lang: path}``, empty when the run holds no reviewed card."""
    from cin_ml import tracking

    reader = reader or tracking.RunReader(tracking_uri)
    return _reviewed_copies(reader, run_id, None, Path(out) / run_id)


def run_card(run_id: str, lang: str = "fr", out: Path | str = CARDS_OUT, *,
             sections: Path | str | None = None, ready: bool = False,
             virtual_report: Path | str | None = None, tracking_uri: str | None = None,
             log: bool = True, pdf: bool = False, progress: Progress = _quiet) -> dict:
    """Build, render and log the model card of a training run.

    Reads the run's evidence (metrics, feature policy, and ``fairness/audit.json`` and
    ``explain/global.json`` when those steps have run), the human sections
    (``configs/cards/<task>.toml`` or ``sections``) and, for a virtual CSS, its evaluation
    report. Writes ``<out>/<run_id>/card.{json,sha256,fr.md,en.md,fr.html,en.html}``
    atomically and logs the same files under ``card/`` in the run; when the registry has
    rendered the committee's decision into this card (``card/reviewed/``), copies it to
    ``<out>/<run_id>/reviewed/`` (``reviewed_html``). With ``pdf``, also prints the fr and
    en HTML to A4 PDF with Chromium (``card.{fr,en}.pdf``, logged and pinned at registration
    like the other card files). With ``ready``, refuses
    (:class:`~cin_ml.cards.IncompleteCardError`) while a section or evidence is missing.
    """
    from cin_ml import tracking
    from cin_ml.cards import LANGS, CardEvidence, build_card, load_sections, render_card
    from cin_ml.errors import ConfigError
    from cin_ml.extract import atomic_dir
    from cin_ml.run_contract import Artifact

    if lang not in LANGS:
        raise ConfigError(f"[cards] --lang must be one of {', '.join(LANGS)}; got '{lang}'")
    reader = tracking.RunReader(tracking_uri)
    bundle = load_publishable_run(run_id, "cards are written", progress, reader)
    sec = load_sections(bundle.task, sections)
    optional = bundle.optional
    report, problem, digests = _virtual_report(bundle.tags, virtual_report)
    evidence = CardEvidence(
        run={"run_id": bundle.run_id, "task": bundle.task, "experiment_id": bundle.experiment_id,
             "status": bundle.status, "tags": bundle.tags, "model_uri": bundle.model_uri,
             "consent": optional(Artifact.CONSENT_SCOPE)},
        model_meta=bundle.model_meta, evaluation=bundle.evaluation,
        feature_policy=bundle.feature_policy, fairness=optional(Artifact.FAIRNESS_AUDIT),
        mitigation=optional(Artifact.FAIRNESS_MITIGATION),
        explain=optional(Artifact.EXPLAIN_GLOBAL),
        virtual_css=report, virtual_css_problem=problem, dataset_digests=digests,
        spec=optional(Artifact.EXTERNAL_SPEC), dataset=optional(Artifact.EXTERNAL_DATASET))
    progress("building the card")
    card = build_card(evidence, sec, ready_for_review=ready)
    rendering = render_card(card)
    files: dict[str, str | bytes] = dict(rendering.files)
    if pdf:
        from cin_ml.cards import print_pdf

        progress("printing the card to PDF (Chromium, A4)")
        printed = print_pdf({lang: rendering.file(f"card.{lang}.html") for lang in LANGS})
        files |= {Artifact.card_pdf(lang): data for lang, data in printed.items()}
    local = Path(out) / run_id
    with atomic_dir(local) as tmp:
        for name, data in files.items():
            dest = tmp / Path(name).name
            if isinstance(data, bytes):
                dest.write_bytes(data)
            else:
                dest.write_text(data, encoding="utf-8")
    if log:
        progress(f"logging {len(files)} card files to run {run_id}")
        bundle.log_artifacts(files)
    reviewed = _reviewed_copies(reader, run_id, rendering.sha256, local)
    return {"reviewed_html": reviewed.get(lang), "run_id": run_id, "task": bundle.task,
            "status": card.status,
            "sha256": rendering.sha256, "gaps": [g.message.get(lang) for g in card.gaps],
            "html": str(local / f"card.{lang}.html"), "markdown": str(local / f"card.{lang}.md"),
            "json": str(local / "card.json"), "logged": sorted(files) if log else [],
            "pdf": str(local / f"card.{lang}.pdf") if pdf else None,
            "fairness": card.fairness.worst_verdict or card.fairness.status,
            "risks": [r.text.get(lang) for r in card.considerations.risks]}
