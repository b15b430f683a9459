"""Card schema round trip and the completeness check."""

from __future__ import annotations

import json

import pytest


def test_round_trip_json_gives_back_the_same_card_and_hash(card):
    from cin_ml.cards import ModelCard, card_json, card_sha256, load_card

    back = load_card(card_json(card))
    assert back == card
    assert card_sha256(back) == card_sha256(card)
    assert ModelCard.model_validate(json.loads(card_json(card))) == card


def test_card_json_rejects_unknown_keys_and_bad_values(card):
    from cin_ml.cards import card_json, load_card
    from cin_ml.errors import DataError

    data = json.loads(card_json(card))
    data["model_details"]["surprise"] = 1
    with pytest.raises(DataError, match="model_details.surprise"):
        load_card(json.dumps(data))
    data = json.loads(card_json(card))
    data["status"] = "approved"
    with pytest.raises(DataError, match="status"):
        load_card(json.dumps(data))


def test_default_sections_and_full_evidence_make_a_ready_card(card):
    assert card.status == "ready_for_review", [g.code for g in card.gaps]
    assert card.gaps == ()
    # evidence carried from the run, not invented
    assert card.fairness.status == "available" and card.explanations.status == "available"
    assert card.metrics.oracle_available and card.provenance.origin == "simulated"
    assert card.provenance.agreements_status == "not_applicable"
    assert card.virtual_css.status == "not_applicable"
    assert card.feature_policy.clean
    assert {j.feature for j in card.feature_policy.justified} >= {"intervention_plan"}


def _sections_with(sections, **update):
    return sections.model_copy(update=update)


def test_empty_or_placeholder_human_section_keeps_a_draft(evidence, sections):
    from cin_ml.cards import IncompleteCardError, build_card
    from cin_ml.cards._sections import LocalText

    s = _sections_with(sections, human_oversight=LocalText(fr="", en="A person decides."),
                       caveats=LocalText(fr="À COMPLÉTER", en="TODO"))
    card = build_card(evidence, s)
    assert card.status == "draft"
    codes = {g.code for g in card.gaps}
    assert codes == {"human:human_oversight", "human:caveats"}
    oversight = next(g for g in card.gaps if g.code == "human:human_oversight")
    assert "(fr)" in oversight.message.en  # only the missing language is named
    with pytest.raises(IncompleteCardError) as exc:
        build_card(evidence, s, ready_for_review=True)
    assert {g.code for g in exc.value.gaps} == codes


def test_out_of_scope_uses_are_required(evidence, sections):
    from cin_ml.cards import build_card

    iu = sections.intended_use.model_copy(update={"out_of_scope": ()})
    card = build_card(evidence, _sections_with(sections, intended_use=iu))
    assert "human:intended_use.out_of_scope" in {g.code for g in card.gaps}


def test_missing_audit_and_explanations_are_shown_and_block_review(evidence, sections):
    from dataclasses import replace

    from cin_ml.cards import build_card, render_markdown

    card = build_card(replace(evidence, fairness=None, explain=None), sections)
    assert card.status == "draft"
    assert {"evidence:fairness", "evidence:explanations"} <= {g.code for g in card.gaps}
    assert card.fairness.status == "not_run" and card.fairness.breakdowns == ()
    assert card.explanations.drivers == ()
    assert {"fairness_not_run", "explain_not_run"} <= {r.code for r in card.considerations.risks}
    md = render_markdown(card, "fr")
    assert "L'audit d'équité n'a pas été exécuté" in md
    assert "BROUILLON" in md
    assert "Réussi" not in md  # no verdict invented


def test_virtual_css_report_is_required_for_a_virtual_run(evidence, sections):
    from dataclasses import replace

    from cin_ml.cards import build_card

    run = {**evidence.run, "tags": {**evidence.run["tags"], "cin.data_form": "virtual"}}
    card = build_card(replace(evidence, run=run, virtual_css_problem="report.json not found"),
                      sections)
    assert card.virtual_css.status == "not_run"
    assert "report.json not found" in card.virtual_css.note.en
    assert "evidence:virtual_css" in {g.code for g in card.gaps}
    report = {"fidelity": {"quality": 0.91, "column_shapes": 0.95, "validity": 1.0},
              "privacy": {"exact_match_rate": 0.0, "dcr": {"closer_to_training": 0.52},
                          "membership_inference": {"auc": 0.51}},
              "utility": {"ecriture_4e": {"auc_source": 0.9, "auc_virtual": 0.88,
                                          "ratio": 0.978, "top_driver_overlap": 0.8}},
              "verdicts": {"quality": True, "validity": True, "no_exact_copies": True,
                           "dcr": True, "membership_inference": True, "utility": True},
              "passed": True, "synthesis": {"synthesizer": "gaussian_copula"},
              "details": {"targets": {"quality_target": 0.85, "mia_max_auc": 0.6}}}
    card = build_card(replace(evidence, run=run, virtual_css=report), sections)
    assert card.virtual_css.status == "available" and card.virtual_css.overall_pass
    keys = {c.key: c for c in card.virtual_css.checks}
    assert keys["quality"].value == 0.91 and keys["quality"].target == "≥ 0.85"
    assert keys["membership_inference_auc"].passed is True
    assert keys["ecriture_4e.auc_ratio"].value == 0.978
    assert "evidence:virtual_css" not in {g.code for g in card.gaps}


def test_real_data_need_recorded_agreements(evidence, sections):
    from dataclasses import replace

    from cin_ml.cards import build_card
    from cin_ml.cards._sections import AgreementEntry

    ev = dict(evidence.evaluation)
    ev["bootstrap"] = {**ev["bootstrap"], "intervals": {
        k: v for k, v in ev["bootstrap"]["intervals"].items() if not k.startswith("oracle")}}
    ev.pop("oracle_auc", None)
    no_truth = replace(evidence, evaluation=ev)
    card = build_card(no_truth, sections)
    assert card.provenance.origin == "unknown"
    assert "evidence:agreements" in {g.code for g in card.gaps}
    prov = sections.provenance.model_copy(update={
        "origin": "real", "css": ("CSS-0001",),
        "agreements": (AgreementEntry(agreement_id="A-1", css_id="CSS-0001",
                                      dataset="academic_results", valid_until="2027-06-30"),)})
    card = build_card(no_truth, _sections_with(sections, provenance=prov))
    assert card.provenance.origin == "real"
    assert "non vérifiée" in card.provenance.origin_basis.fr  # a declaration, shown as such
    assert card.gaps == () and card.provenance.agreements[0].agreement_id == "A-1"


def test_forbidden_feature_in_policy_is_not_clean(evidence, sections):
    from dataclasses import replace

    from cin_ml.cards import build_card

    pol = json.loads(json.dumps(evidence.feature_policy))
    pol["decisions"].append({"feature": "teacher_experience", "role": "workforce",
                             "sources": ["teachers.experience"], "included": True,
                             "reason": "?", "justification": None})
    pol["features_used"].append("teacher_experience")
    card = build_card(replace(evidence, feature_policy=pol), sections)
    assert not card.feature_policy.clean
    assert card.feature_policy.forbidden_used == ("teacher_experience",)
    assert "evidence:feature_policy.clean" in {g.code for g in card.gaps}


def test_sections_file_errors_name_the_file(tmp_path):
    from cin_ml.cards import load_sections
    from cin_ml.errors import ConfigError

    with pytest.raises(ConfigError, match="not found"):
        load_sections("ecriture_4e", tmp_path / "nope.toml")
    p = tmp_path / "s.toml"
    p.write_text('task = "decrochage"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="not 'ecriture_4e'"):
        load_sections("ecriture_4e", p)
    p.write_text('task = "ecriture_4e"\n[human_oversight]\nfr = "x"\nde = "y"\n',
                 encoding="utf-8")
    with pytest.raises(ConfigError, match=r"s\.toml.*unknown key 'human_oversight.de'"):
        load_sections("ecriture_4e", p)


def test_task_mismatch_is_refused(evidence):
    from cin_ml.cards import build_card, load_sections
    from cin_ml.errors import DataError

    with pytest.raises(DataError, match="decrochage"):
        build_card(evidence, load_sections("decrochage"))
