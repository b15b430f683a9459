"""Training runs for the governance tests and the review page, made as production makes them.

Once per session, on the small simulated CSS (``small_css`` in tests/conftest.py: source
extract, then its de-identified copy), the real chain writes every run into a *template*
store: ``cin_ml.pipeline.run_train`` (features, ``cin_ml.models`` training,
``cin_ml.tracking.log_training``), ``run_audit``, ``run_explain`` and
``run_card(..., ready=True)`` as ``cin-ml card --ready`` does. Each test then works on its
own copy of that store (:func:`copy_store`: same run ids, paths rewritten), so a test may
register, review, promote or tamper without affecting another.

Kinds of run (``GovRuns.ids``):

- ``ready``: the reference run, ready card;
- ``reseeded``: the same data and split, LightGBM seed + 1 (another model), ready card;
- ``later``: ``min_label_coverage`` lowered, so the next cohort becomes the test cohort;
- ``no_card``: a copy of ``ready`` whose card step never ran;
- ``draft``: a copy of ``ready`` whose card was built (ready=False) while the human
  ``intended_use`` section still says TODO, so the card is a draft;
- ``failed``: a copy of ``ready`` (with its ready card) that ended FAILED;
- ``fairness_fails``: a copy of ``ready`` whose logged audit was rewritten with fail verdicts
  (``FAIRNESS_FAILS``) after its card was built;
- ``bad``: a copy of ``ready`` whose logged evidence was rewritten after the card (metrics
  below the floors in ``evaluation/metrics.json``, a fairness fail, a teacher variable among
  the features, a CSS without agreement in the consent scope), before registration pins it:
  every content gate must see it.

The three trained runs (``ready``, ``reseeded``, ``later``) take the single-cohort path
(``fast_models_config(..., rolling=False)``: one test cohort, the tested model served), all
three alike so that champion and challenger are compared on the same test cohort: no test
using this template is about rolling-origin validation (tests/models/test_rolling.py and
tests/cards/test_evidence_over_time.py are).

A copy (:func:`_copy_run`) is a new run in the same experiment with the original's tags,
params, metrics, dataset inputs, artifacts and logged model: the bytes production wrote,
under another run id; its card, when it has one, is built for it by ``run_card``.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

AUTHOR = "ds.lavoie"
N_BOOT = 20  # fairness audit bootstrap replicates (the verdicts only need to exist)
FAIRNESS_FAILS = {"sex": "fnr", "language_group": "fnr"}
BAD_METRICS = {"test_auc": 0.65, "indicator_auc": 0.70}
BAD_FEATURE = "teacher_experience"
BAD_CSS = "CSS009"


@dataclass(frozen=True)
class GovRuns:
    """The template store, its runs by kind, and the data they were trained on."""

    root: Path  # holds mlflow.db and artifacts/
    ids: dict[str, str]
    source: Path
    deidentified: Path


def _models_config(folder: Path, fast_models_config, **overrides) -> Path:
    path = fast_models_config(folder, N_BOOT, rolling=False)
    text = path.read_text(encoding="utf-8")
    for key, value in overrides.items():
        text, n = re.subn(rf"(?m)^{key} = \S+", f"{key} = {value}", text, count=1)
        assert n == 1, f"configs/models.toml has no '{key} =' line"
    path.write_text(text, encoding="utf-8")
    return path


def _draft_sections(folder: Path) -> Path:
    """The task's card sections with the intended uses still to be written."""
    from cin_ml.config import config_path

    text = config_path("cards/ecriture_4e").read_text(encoding="utf-8")
    text, n = re.subn(r'(?s)(\[intended_use\.primary_uses\]\s*fr = )""".*?"""(\s*en = )""".*?"""',
                      r'\1"TODO"\2"TODO"', text, count=1)
    assert n == 1, "configs/cards/ecriture_4e.toml has no [intended_use.primary_uses]"
    p = folder / "ecriture_4e_draft.toml"
    p.write_text(text, encoding="utf-8")
    return p


def _artifact_dir(client, run_id: str) -> Path:
    from urllib.parse import unquote, urlparse

    uri = client.get_run(run_id).info.artifact_uri
    return Path(unquote(urlparse(uri).path)) if uri.startswith("file:") else Path(uri)


def _copy_run(client, run_id: str, *, card: bool = False) -> str:
    """A new run with ``run_id``'s records and artifacts (without ``card/`` unless asked)."""
    from mlflow.entities import Metric, Param

    run = client.get_run(run_id)
    tags = {k: v for k, v in run.data.tags.items() if not k.startswith("mlflow.")}
    new = client.create_run(run.info.experiment_id, tags=tags).info.run_id
    now = run.info.start_time
    client.log_batch(new, metrics=[Metric(k, v, now, 0) for k, v in run.data.metrics.items()],
                     params=[Param(k, v) for k, v in run.data.params.items()])
    if run.inputs and run.inputs.dataset_inputs:
        client.log_inputs(new, datasets=list(run.inputs.dataset_inputs))
    src = _artifact_dir(client, run_id)
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(src, tmp, dirs_exist_ok=True,
                        ignore=None if card else shutil.ignore_patterns("card"))
        client.log_artifacts(new, tmp)
    client.set_terminated(new, "FINISHED")
    return new


def _rewrite_json(client, run_id: str, path: str, edit) -> None:
    """Rewrite one logged JSON artifact of a run in place (as someone with store access)."""
    f = _artifact_dir(client, run_id) / path
    f.write_text(json.dumps(edit(json.loads(f.read_text(encoding="utf-8")))), encoding="utf-8")


def _with_fails(audit: dict) -> dict:
    for breakdown, metric in FAIRNESS_FAILS.items():
        audit["verdicts"].setdefault(breakdown, {})[metric] = "fail"
    audit["worst_verdict"] = "fail"
    return audit


def build_template(root: Path, small_css, fast_models_config) -> GovRuns:
    """Run the chain on ``small_css`` for every kind of run (see module doc)."""
    import os

    import mlflow
    import pytest
    from mlflow import MlflowClient

    from cin_ml.pipeline import run_audit, run_card, run_explain, run_train

    store = root / "store"
    cfg = root / "configs"
    configs = {}
    for kind, overrides in (("ready", {}), ("reseeded", {"seed": 8}),
                            ("later", {"min_label_coverage": 0.9})):
        (cfg / kind).mkdir(parents=True)
        configs[kind] = _models_config(cfg / kind, fast_models_config, **overrides)
    uri = f"sqlite:///{store / 'mlflow.db'}"
    ids: dict[str, str] = {}
    with pytest.MonkeyPatch.context() as mp, warnings.catch_warnings():
        # small groups of a 3,000-student CSS: expected, and not what these tests are about
        warnings.simplefilter("ignore")
        store.mkdir()
        mp.setenv("MLFLOW_TRACKING_URI", uri)
        mp.setenv("CIN_ML_ARTIFACT_ROOT", str(store / "artifacts"))
        mp.setenv("CIN_ML_THREADS", os.environ.get("CIN_ML_THREADS", "1"))
        client = MlflowClient(tracking_uri=uri)
        for kind, models in configs.items():
            rid = run_train(small_css.deidentified, "ecriture_4e", models_config=models,
                            tracking_uri=uri)["run_id"]
            run_audit(rid, n_boot=N_BOOT)
            run_explain(rid, out=root / "explain")
            if kind == "ready":
                # the copies whose card is not (or not yet) built come from the audited run
                ids["no_card"] = _copy_run(client, rid)
                ids["draft"] = _copy_run(client, rid)
                ids["failed"] = _copy_run(client, rid)
                ids["fairness_fails"] = _copy_run(client, rid)
                ids["bad"] = _copy_run(client, rid)
            run_card(rid, out=root / "cards", ready=True, tracking_uri=uri)
            ids[kind] = rid
        run_card(ids["draft"], out=root / "cards", ready=False,
                 sections=_draft_sections(cfg), tracking_uri=uri)
        for kind in ("failed", "fairness_fails", "bad"):
            run_card(ids[kind], out=root / "cards", ready=True, tracking_uri=uri)
        client.set_terminated(ids["failed"], "FAILED")
        _rewrite_json(client, ids["fairness_fails"], "fairness/audit.json", _with_fails)
        bad = ids["bad"]
        _rewrite_json(client, bad, "evaluation/metrics.json", lambda m: {**m, **BAD_METRICS})
        _rewrite_json(client, bad, "fairness/audit.json", _with_fails)
        _rewrite_json(client, bad, "model_meta.json",
                      lambda m: {**m, "features": [*m["features"], BAD_FEATURE]})
        _rewrite_json(client, bad, "consent/scope.json",
                      lambda s: {**s, "css_ids": sorted([*s["css_ids"], BAD_CSS])})
        mlflow.set_tracking_uri(None)
    return GovRuns(store, ids, small_css.source, small_css.deidentified)


def copy_store(template: Path, dest: Path) -> str:
    """Copy the template store (database + artifacts) to ``dest``; returns its tracking URI.

    Artifact locations are absolute in the database: they are rewritten to the copy's.
    """
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copytree(template / "artifacts", dest / "artifacts")
    db = dest / "mlflow.db"
    shutil.copyfile(template / "mlflow.db", db)
    old, new = str(template.resolve()), str(dest.resolve())
    con = sqlite3.connect(db)
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for t in tables:
            cols = [r[1] for r in con.execute(f'PRAGMA table_info("{t}")')
                    if (r[2] or "").upper().startswith(("VARCHAR", "TEXT"))]
            for c in cols:
                con.execute(f'UPDATE "{t}" SET "{c}" = replace("{c}", ?, ?) '
                            f'WHERE "{c}" LIKE ?', (old, new, f"%{old}%"))
        con.commit()
    finally:
        con.close()
    return f"sqlite:///{db}"


def tamper_card(run_id: str) -> None:
    """Edit the run's logged card.json after it was hashed (card.sha256 left as it was), as
    someone with write access to the artifact store would."""
    from mlflow import MlflowClient

    f = _artifact_dir(MlflowClient(), run_id) / "card" / "card.json"
    card = json.loads(f.read_text(encoding="utf-8"))
    card["intended_use"]["primary_uses"]["en"] += " Also used to rank teachers."
    f.write_text(json.dumps(card, ensure_ascii=False, indent=2), encoding="utf-8")
