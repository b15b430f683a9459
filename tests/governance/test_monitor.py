"""cin-ml monitor end to end on a governed champion: report files (fr/en/JSON), a run of
cin-monitoring, conditions evaluated, and governance check acting on the breach."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from cin_ml.cli import app
from cin_ml.registry import check, history, promote, register, review
from cin_ml.run_contract import MONITORING_EXPERIMENT, Artifact

from ._runs import AUTHOR

M = "cin-ecriture-4e"


def test_monitor_reports_and_check_withdraws_on_breach(ctx, runs, gov_runs, tmp_path):
    v = register(ctx, runs["ready"], author=AUTHOR)["version"]
    review(ctx, M, v, reviewer="a.tremblay", approve=True, comment="ok",
           condition_rules=["estimated_auc >= 0.99", "estimated_auc >= 0.5",
                            "fnr_gap(sex) <= 0.3"])
    promote(ctx, M, v, operator="ops.bouchard")
    reference = ctx.reader.artifact(runs["ready"], Artifact.MONITORING_REFERENCE.value)
    assert reference["n"] > 0 and reference["by_css"] and reference["score"]["flag_rate"] > 0

    # what an earlier night's report estimated for the cohort whose labels are now in
    from cin_ml.run_contract import Tag
    from cin_ml.tracking import log_monitoring_run

    prior = {"auc": 0.9, "recall": 0.5, "event_rate": 0.2}
    earlier = log_monitoring_run({Tag.MONITOR_MODEL: M, Tag.MONITOR_VERSION: v,
                                  Tag.MONITOR_COHORT: "2023"}, {},
                                 {Artifact.MONITORING_REPORT: {"estimate": prior,
                                                               "values": {}}})
    r = CliRunner().invoke(app, ["monitor", "--model", f"{M}@champion", "--data",
                                 str(gov_runs.deidentified), "--out", str(tmp_path)])
    assert r.exit_code == 0, r.output
    assert "estimated_auc >= 0.99: breached" in r.output
    assert "estimated_auc >= 0.5: holds" in r.output
    folder = next((tmp_path / "monitor").iterdir())
    rep = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    assert 0.5 < rep["values"]["estimated_auc"] < 0.99
    lo, hi = rep["estimate"]["auc_interval"]
    assert lo < rep["estimate"]["auc"] < hi
    assert set(rep["drift"]["features"]) == set(reference["features"])
    assert [c["state"] for c in rep["conditions"]][:2] == ["breached", "holds"]
    real = rep["realized"]  # the labelled cohort after the training run's test cohort
    assert real["year"] == 2023 and 0.5 < real["auc"] <= 1 and real["fairness"]
    assert real["prior_estimate"] == {**prior, "monitoring_run": earlier}
    fr = (folder / "report.fr.html").read_text(encoding="utf-8")
    en = (folder / "report.en.html").read_text(encoding="utf-8")
    assert 'lang="fr"' in fr and "Surveillance du modèle" in fr and "non respectée" in fr
    assert 'lang="en"' in en and "Model monitoring" in en and "breached" in en
    assert "estimated_auc" not in fr and "Model monitoring" not in fr  # no raw code, one language
    section = (folder / "card_section.en.html").read_text(encoding="utf-8")
    assert "Conditions of the approval" in section

    exp = ctx.client.get_experiment_by_name(MONITORING_EXPERIMENT)
    (run,) = [x for x in ctx.client.search_runs([exp.experiment_id])
              if x.info.run_id != earlier]
    assert run.data.tags["cin.monitor.version"] == v and run.info.status == "FINISHED"
    assert run.data.tags["cin.monitor.breached"] == "estimated_auc >= 0.99"
    assert abs(run.data.metrics["estimated_auc"] - rep["values"]["estimated_auc"]) < 1e-9

    out = check(ctx)
    assert [(m, ver) for m, ver, _ in out.breached] == [(M, v)]
    assert out.withdrawn == ((M, "champion", v, None),)  # no earlier valid champion
    assert history(ctx, M)[-1].type == "withdraw"
