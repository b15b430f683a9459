"""End to end on a simulated, de-identified CSS: train, log, `run_explain`, the CLI; and the
ground truth (causal drivers rank above the simulator's inert ones)."""

from __future__ import annotations

import json

import pytest

pytestmark = [pytest.mark.slow,
              pytest.mark.filterwarnings("ignore::cin_ml.errors.SmallGroupWarning")]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from cin_ml.features import build_features
    from cin_ml.models import train_model
    from cin_ml.simulator import SimulationConfig, simulate
    from cin_ml.tracking import log_training, training_run
    from cin_ml.virtual_css import deidentify, resolve_pseudonym_key

    tmp = tmp_path_factory.mktemp("explain_e2e")
    mp = pytest.MonkeyPatch()
    mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp}/mlflow.db")
    sim = simulate(SimulationConfig(n_css=1, n_students=4000, seed=7))
    de = deidentify(sim.tables, resolve_pseudonym_key(demo=True))
    frame = build_features(de.tables, "ecriture_4e")
    # the single-cohort path (train, valid, test; the tested model is explained): with the
    # default rolling-origin refit on every labelled cohort, the inert
    # absence_rate_rendez_vous_medical ranks ~21st of 76 (issue 17 report: open question)
    from cin_ml.models import load_model_settings

    ms = load_model_settings()
    ms = ms.model_copy(update={"validation": ms.validation.model_copy(
        update={"test_cohorts": 1, "refit_on_all": False})})
    result = train_model(frame, ms)
    with training_run("ecriture_4e", {"cin.data_form": "deidentified",
                                      "cin.data_dir": str(tmp)}) as run_id:
        log_training(run_id, result, data_dir=str(tmp), data_form="deidentified")
    yield {"tmp": tmp, "run_id": run_id, "result": result, "frame": frame,
           "drivers": sim.truth.drivers}
    mp.undo()


def _matches(feature: str, hints: str) -> bool:
    from fnmatch import fnmatch

    return any(h and fnmatch(feature, h.strip()) for h in hints.split(","))


def test_causal_drivers_rank_above_inert_ones(trained):
    from cin_ml.explain import ExplainSettings, explain_cohort

    res = trained["result"]
    X = res.test_features.set_index("student_id")
    e = explain_cohort(res.booster, X, res.test, full=True,
                       settings=ExplainSettings(num_threads=1, stability_resamples=5))
    imp = {f: a for f, _, a, _ in e.global_.per_feature}
    d = trained["drivers"]
    d = d[d["task"] == "ecriture_4e"]
    inert = [f for f in imp for h in d.loc[~d["causal"], "feature_hint"] if _matches(f, h)]
    assert inert, "the simulator's inert drivers should be model inputs"
    # the strongest causal driver (latent literacy -> reading and writing marks)
    lit = d.loc[d["driver"] == "latent literacy at grade 4", "feature_hint"].iloc[0]
    literacy = [f for f in imp if _matches(f, lit)]
    assert max(imp[f] for f in literacy) > 5 * max(imp[f] for f in inert), imp
    # every inert feature ranks below the top causal features, and in the bottom half
    ranking = list(e.global_.ranking)
    for f in inert:
        assert ranking.index(f) >= len(ranking) // 2, (f, ranking.index(f), len(ranking))
    assert e.global_.per_family[0][0] in ("lecture", "ecriture")


def test_run_explain_logs_artifacts_and_reuses_cache(trained):
    from cin_ml.pipeline import run_explain
    from cin_ml.tracking import list_artifacts, load_artifact

    run_id, tmp = trained["run_id"], trained["tmp"]
    test = trained["result"].test
    sid = str(test["student_id"].iloc[0])
    s = run_explain(run_id, student=sid, lang="fr", out=tmp / "reports")
    arts = set(list_artifacts(run_id, "explain"))
    for a in ("explain/global.json", "explain/students.json",
              "explain/contributions.parquet", "explain/plots/beeswarm.png",
              "explain/plots/families.png", f"explain/sheets/{sid}.fr.html"):
        assert a in arts, a
    assert any(a.startswith("explain/plots/dependence_") for a in arts)
    assert any(a.startswith("explain/plots/groups_sex") for a in arts)
    g = load_artifact(run_id, "explain/global.json")
    assert g["explainer"]["method"].startswith("lightgbm.Booster.predict(pred_contrib=True)")
    assert g["additivity_max_error"] == 1e-9  # the power of ten the error is below
    html = (tmp / "reports" / run_id / f"{sid}.fr.html").read_text(encoding="utf-8")
    assert sid in html and "Une personne décide" in html
    # no direct identifier column value reaches the sheet (pseudonymous id only)
    assert s["reasons"] and all(r in html.replace("&#39;", "'") for r in s["reasons"])
    # second call: cached rows reused, only the new student computed
    n_before = len(load_artifact(run_id, "explain/contributions.parquet"))
    sid2 = str(test.loc[test["flagged"] == 0, "student_id"].iloc[-1])
    s2 = run_explain(run_id, student=sid2, lang="en", out=tmp / "reports")
    n_after = len(load_artifact(run_id, "explain/contributions.parquet"))
    assert n_after - n_before <= 1
    assert s2["sheet"].endswith(f"{sid2}.en.html")
    students = json.loads(json.dumps(load_artifact(run_id, "explain/students.json")))
    assert sid2 in {x["student_id"] for x in students["students"]}


def test_cli_explain(trained):
    from typer.testing import CliRunner

    from cin_ml.cli import app

    runner = CliRunner()
    r = runner.invoke(app, ["explain", "--run", trained["run_id"], "--lang", "xx"])
    assert r.exit_code == 1 and "fr or en" in r.output
    r = runner.invoke(app, ["explain", "--run", trained["run_id"], "--student", "nobody"])
    assert r.exit_code == 1 and "not in the scored cohort" in r.output
    sid = str(trained["result"].test["student_id"].iloc[2])
    r = runner.invoke(app, ["explain", "--run", trained["run_id"], "--student", sid,
                            "--out", str(trained["tmp"] / "cli")])
    assert r.exit_code == 0, r.output
    assert "Top drivers" in r.output and "Sheet:" in r.output


def test_explaining_again_leaves_the_card_and_its_hash_unchanged(trained, tmp_path):
    """The README's order: explain, card, register, review, then ``explain --student`` (a
    parent asks) and ``card`` again. The second explain re-logs ``explain/global.json`` from
    the cached contributions; its additivity error was float noise that differed from the
    first call's, so the card's hash moved and the committee's reviewed copy no longer
    matched. It is now recorded as the power of ten it is below."""
    from cin_ml.pipeline import run_card, run_explain
    from cin_ml.tracking import load_artifact, log_training, training_run

    with training_run("ecriture_4e", {"cin.data_form": "deidentified",
                                      "cin.data_dir": str(trained["tmp"])}) as run_id:
        log_training(run_id, trained["result"], data_dir=str(trained["tmp"]),
                     data_form="deidentified")
    run_explain(run_id, out=tmp_path / "explain")            # computed afresh
    first_global = load_artifact(run_id, "explain/global.json")
    first = run_card(run_id, out=tmp_path / "cards")
    test = trained["result"].test
    sid = str(test.loc[test["flagged"] == 1, "student_id"].iloc[0])
    run_explain(run_id, student=sid, out=tmp_path / "explain")   # from the cache
    again = load_artifact(run_id, "explain/global.json")
    second = run_card(run_id, out=tmp_path / "cards")
    assert first_global["additivity_max_error"] == again["additivity_max_error"] == 1e-9
    assert second["sha256"] == first["sha256"]
    card = json.loads((tmp_path / "cards" / run_id / "card.json").read_text(encoding="utf-8"))
    assert card["explanations"]["status"] == "available"
    assert card["explanations"]["additivity_max_error"] == 1e-9


def test_additivity_bound_is_a_power_of_ten_at_or_above_the_error():
    import math

    from cin_ml.explain import additivity_bound

    assert additivity_bound(0.0) == additivity_bound(3.3e-16) == additivity_bound(1e-9) == 1e-9
    assert additivity_bound(1.1e-9) == 1e-8
    assert additivity_bound(2e-6) == additivity_bound(1e-5) == 1e-5
    assert additivity_bound(-0.02) == 0.1
    assert math.isnan(additivity_bound(float("nan")))
    for err in (4.4e-16, 7e-12, 3.7e-7, 0.5, 12.0):
        b = additivity_bound(err)
        assert b >= err and b == 10.0 ** round(math.log10(b))
