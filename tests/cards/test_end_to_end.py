"""End to end on a tracked run: simulate -> de-identify -> train -> card (draft: audit and
explanations missing) -> audit -> explain -> card (ready), logged to the run; the CLI."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

pytestmark = [pytest.mark.slow,
              pytest.mark.filterwarnings("ignore::cin_ml.errors.SmallGroupWarning",
                                         "ignore::UserWarning")]

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture()
def run(tmp_path, mlflow_store, monkeypatch, fast_models_config):
    from cin_ml.pipeline import run_deidentify, run_simulate, run_train

    monkeypatch.chdir(tmp_path)
    # single test cohort: the card's rolling-origin table is tests/cards/test_evidence_over_time
    models_config = fast_models_config(tmp_path, n_boot=60, rolling=False)
    run_simulate(out=tmp_path / "src", truth_out=tmp_path / "truth", students=4000, seed=5)
    run_deidentify(tmp_path / "src", tmp_path / "deid", truth=tmp_path / "truth",
                   truth_out=tmp_path / "deid_truth", demo_key=True)
    s = run_train(tmp_path / "deid", "ecriture_4e", truth=tmp_path / "deid_truth",
                  models_config=models_config)
    return s["run_id"], tmp_path


def test_card_from_a_real_run(run):
    from typer.testing import CliRunner

    from cin_ml.cards import load_card
    from cin_ml.cli import app
    from cin_ml.pipeline import run_audit, run_card, run_explain
    from cin_ml.tracking import list_artifacts, load_artifact

    run_id, tmp = run
    draft = run_card(run_id)
    assert draft["status"] == "draft"
    assert any("audit" in g for g in draft["gaps"]) and any("xplication" in g
                                                            for g in draft["gaps"])
    cli = CliRunner()
    refused = cli.invoke(app, ["card", "--run", run_id, "--ready"])
    assert refused.exit_code == 1
    assert "not ready for review" in refused.output and "Traceback" not in refused.output

    run_audit(run_id, n_boot=60)
    run_explain(run_id)
    s = run_card(run_id, lang="en")
    assert s["status"] == "ready_for_review", s["gaps"]
    assert s["sha256"] != draft["sha256"]
    local = Path(s["html"]).parent.resolve()
    assert local == (tmp / "reports" / "cards" / run_id).resolve()
    names = {"card.json", "card.sha256", "card.fr.md", "card.en.md", "card.fr.html",
             "card.en.html"}
    assert {p.name for p in local.iterdir()} == names
    arts = set(list_artifacts(run_id, "card"))
    assert arts == {f"card/{n}" for n in names}
    logged = load_card(Path(local, "card.json").read_text(encoding="utf-8"))
    from cin_ml.cards import ModelCard

    assert ModelCard.model_validate(load_artifact(run_id, "card/card.json")) == logged
    assert load_artifact(run_id, "card/card.sha256").strip() == s["sha256"]
    assert logged.metrics.oracle_available and logged.provenance.origin == "simulated"
    assert logged.fairness.status == "available" and logged.explanations.drivers
    assert logged.model_details.run_id == run_id
    # the first page compares with the indicator like for like (same share flagged)
    same = load_artifact(run_id, "evaluation/metrics.json")["model_at_indicator_rate"]
    assert logged.metrics.recall_at_indicator_rate == same["recall"]
    assert (f"the model would find {round(100 * same['recall'])} in 100"
            in Path(s["html"]).read_text(encoding="utf-8"))

    # same run -> same hash and the same bytes
    html_before = Path(s["html"]).read_bytes()
    again = run_card(run_id, lang="en", log=False)
    assert again["sha256"] == s["sha256"]
    assert Path(again["html"]).read_bytes() == html_before

    # no pseudonym of a test student and no direct identifier of the source in any output
    preds = load_artifact(run_id, "evaluation/test_predictions.parquet")
    src = pd.read_parquet(tmp / "src" / "students.parquet")
    blob = "\n".join(p.read_text(encoding="utf-8") for p in local.iterdir())
    tokens = set(re.findall(r"[\w-]+", blob))
    assert not (set(preds["student_id"].astype(str)) & tokens)
    assert not (set(src["student_id"].astype(str)) & tokens)
    assert not (set(src["code_permanent"].astype(str)) & tokens)
    full_names = set(src["first_name"] + " " + src["last_name"])
    assert not [n for n in full_names if n in blob]

    out = cli.invoke(app, ["card", "--run", run_id, "--lang", "fr"])
    assert out.exit_code == 0, out.output
    assert s["sha256"] in out.output and "ready for review" in out.output, out.output

    # the first page's comparison, checked against evaluation/metrics.json in both languages
    ev = load_artifact(run_id, "evaluation/metrics.json")
    at, ind = ev["at_threshold"], ev["indicator_at_flag"]
    fr_html = (local / "card.fr.html").read_text(encoding="utf-8")
    en_html = (local / "card.en.html").read_text(encoding="utf-8")
    pct_fr = lambda x: f"{round(100 * x)}\u00a0%"                            # noqa: E731
    assert (f"Au seuil retenu, le modèle repère environ {round(100 * at['recall'])} élèves sur "
            f"100" in fr_html)
    assert f"en signalant {pct_fr(at['flag_rate'])} des élèves" in fr_html
    assert f"en repère {round(100 * ind['recall'])} " in fr_html
    assert f"{pct_fr(ind['flag_rate'])} des élèves." in fr_html
    assert (f"À taux de signalement égal ({pct_fr(ind['flag_rate'])} des élèves), le modèle en "
            f"repérerait {round(100 * same['recall'])} sur 100" in fr_html)
    assert (f"At the served threshold, the model finds about {round(100 * at['recall'])} in "
            f"100" in en_html)
    assert f"finds {round(100 * ind['recall'])} " in en_html
    assert f"At an equal flag rate ({round(100 * ind['flag_rate'])}% of students)" in en_html

    _card_pdf_is_printed_kept_and_pinned(run_id)


def _card_pdf_is_printed_kept_and_pinned(run_id):
    """``--pdf``: A4, the committee summary whole on page 1, logged with the card, and covered
    by the evidence pinned at registration (a changed PDF is named by the card gate)."""
    import io

    from pypdf import PdfReader

    from cin_ml.pipeline import run_card
    from cin_ml.registry import read_evidence
    from cin_ml.registry._gates import evidence_changes
    from cin_ml.registry._history import canonical
    from cin_ml.run_contract import Artifact, VersionTag
    from cin_ml.tracking import RunReader, list_artifacts, log_artifacts

    s = run_card(run_id, lang="fr", pdf=True)
    assert set(Artifact.card_pdfs()) <= set(list_artifacts(run_id, "card"))
    html = Path(s["html"]).read_text(encoding="utf-8")
    for lang, first in (("fr", "Au seuil retenu"), ("en", "At the served threshold")):
        pdf = Path(s["html"]).with_name(f"card.{lang}.pdf").read_bytes()
        pages = PdfReader(io.BytesIO(pdf)).pages
        w, h = float(pages[0].mediabox.width), float(pages[0].mediabox.height)
        assert (round(w), round(h)) == (595, 842)                          # A4 in points
        page1 = " ".join(pages[0].extract_text().split())
        assert first in page1
        # the last item of the summary (out-of-scope uses) is on page 1 too; details start on 2
        assert ("Usages hors du champ" if lang == "fr" else "Out-of-scope") in page1
        assert ("1. Détails du modèle" if lang == "fr" else "1. Model details") not in page1
    assert "Au seuil retenu" in html

    reader = RunReader()
    pinned = read_evidence(reader, run_id).evidence_files
    assert all(pinned[p] for p in Artifact.card_pdfs())
    log_artifacts(run_id, {Artifact.card_pdf("fr"): b"%PDF-1.4 not the card"})
    changed = evidence_changes({VersionTag.EVIDENCE: canonical(dict(pinned))},
                               read_evidence(RunReader(), run_id))
    assert changed == [f"{Artifact.card_pdf('fr')} changed since registration"]
