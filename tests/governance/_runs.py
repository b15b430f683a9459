"""Build cin-ml-shaped training runs directly with mlflow (tiny LightGBM model, card, fairness
audit, feature policy, metrics, dataset input, consent scope) for the governance tests."""

from __future__ import annotations

import hashlib
import json
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

FEATURES = ("lecture_g3_mean", "ecriture_g3_mean", "absence_rate_total", "n_retentions")
GOOD_METRICS = {"test_auc": 0.80, "indicator_auc": 0.66, "test_recall_at_threshold": 0.55,
                "indicator_recall": 0.40}
CLEAN_VERDICTS = {"sex": {"fnr": "pass", "fpr": "pass"},
                  "language_group": {"fnr": "pass", "fpr": "inconclusive"}}


@lru_cache(maxsize=1)
def _data():
    rng = np.random.default_rng(3)
    X = pd.DataFrame(rng.normal(size=(300, len(FEATURES))), columns=list(FEATURES))
    y = (X.iloc[:, 0] + rng.normal(scale=0.8, size=300) < -0.5).astype(int)
    return X, y


@lru_cache(maxsize=4)
def booster(seed: int = 0):
    import lightgbm as lgb

    X, y = _data()
    return lgb.train({"objective": "binary", "num_threads": 1, "verbosity": -1,
                      "num_leaves": 4, "seed": seed, "min_data_in_leaf": 10,
                      "feature_fraction": 0.75 if seed else 1.0},
                     lgb.Dataset(X, y), num_boost_round=8)


def card_bytes(ready: bool = True, note: str = "") -> bytes:
    card = {"model": "test", "note": note,
            "completeness": {"ready_for_review": ready,
                             "missing": [] if ready else ["intended_use"]}}
    return json.dumps(card, sort_keys=True).encode()


def make_run(task: str = "ecriture_4e", *, author: str = "ds.lavoie", card_ready: bool = True,
             with_card: bool = True, metrics: dict | None = None,
             verdicts: dict | None = None, features=FEATURES, css_ids=("CSS001",),
             datasets=("absences", "academic"), seed: int = 0, test_cohort: int = 2014,
             status: str = "FINISHED") -> str:
    """A finished training run shaped like cin_ml.tracking's; returns its id."""
    import lightgbm
    import mlflow
    from mlflow import MlflowClient
    from mlflow.models import infer_signature

    client = MlflowClient()
    name = "cin-" + task.replace("_", "-")
    exp = client.get_experiment_by_name(name)
    exp_id = exp.experiment_id if exp else client.create_experiment(name)
    run = client.create_run(exp_id, tags={"cin.kind": "train", "cin.task": task,
                                          "cin.author": author, "cin.data_dir": ""})
    rid = run.info.run_id
    X, y = _data()
    b = booster(seed)
    p = b.predict(X)
    test = pd.DataFrame({"student_id": [f"s{i:04d}" for i in range(len(X))],
                         "cohort_year": test_cohort, "y_true": y.astype("int8"),
                         "score": p, "flagged": (p >= np.quantile(p, 0.85)).astype("int8")})
    files = {
        "model_meta.json": json.dumps({"features": list(features), "task": task}),
        "policy/feature_policy.json": json.dumps({"features_used": list(features),
                                                  "features_excluded": []}),
        "fairness/audit.json": json.dumps({"kind": "fairness_audit",
                                           "verdicts": verdicts or CLEAN_VERDICTS}),
        "consent/scope.json": json.dumps({"css_ids": list(css_ids),
                                          "datasets": list(datasets)}),
    }
    if with_card:
        cb = card_bytes(card_ready)
        files["card/card.json"] = cb.decode()
        files["card/card.sha256"] = hashlib.sha256(cb).hexdigest() + "  card.json\n"
    mlflow.set_tracking_uri(client.tracking_uri)
    with tempfile.TemporaryDirectory() as tmp:
        for rel, text in files.items():
            Path(tmp, rel).parent.mkdir(parents=True, exist_ok=True)
            Path(tmp, rel).write_text(text)
        Path(tmp, "evaluation").mkdir()
        test.to_parquet(Path(tmp, "evaluation/test_predictions.parquet"), index=False)
        with mlflow.start_run(run_id=rid):
            mlflow.log_metrics(metrics or GOOD_METRICS)
            mlflow.log_params({"test_cohort": test_cohort})
            ds = mlflow.data.from_pandas(X.assign(label=y), source="data/x", name=f"{task}-train")
            mlflow.log_input(ds, context="train")
            info = mlflow.lightgbm.log_model(
                b, name="model", signature=infer_signature(X.head(5), b.predict(X.head(5))),
                input_example=X.head(5), pip_requirements=[f"lightgbm=={lightgbm.__version__}"])
            client.log_artifacts(rid, tmp)
            mlflow.set_tag("cin.model_uri", info.model_uri)
    client.set_terminated(rid, status)
    return rid


def tamper_card(run_id: str) -> None:
    """Overwrite the run's card.json with different content (hash file unchanged)."""
    from mlflow import MlflowClient

    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "card.json").write_bytes(card_bytes(True, note="edited after review"))
        MlflowClient().log_artifact(run_id, str(Path(tmp, "card.json")), "card")
