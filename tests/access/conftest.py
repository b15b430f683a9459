"""A simulated 3-CSS network (source form, with names and agreements), a model trained on
the partner CSS's de-identified data and registered as ``cin-ecriture-4e@champion``."""

from __future__ import annotations

import pytest

MODEL = "cin-ecriture-4e"



@pytest.fixture(scope="session")
def network(tmp_path_factory):
    """Source extract of 3 CSS (CSS002/CSS003 lack some agreements) and its tables."""
    from cin_ml.extract import read_extract
    from cin_ml.simulator import SimulationConfig, simulate, write_simulation

    root = tmp_path_factory.mktemp("network")
    sim = simulate(SimulationConfig(n_css=3, n_students=4500, seed=5))
    write_simulation(sim, root / "source", root / "truth")
    return {"root": root, "source": root / "source", "sim": sim,
            "tables": read_extract(root / "source")}


def deidentified(tables: dict, css_ids=None) -> dict:
    """Direct identifiers dropped (student_id kept: already a pseudonym-shaped key)."""
    from cin_ml.schema import TABLES, Role

    out = {}
    keep = None
    if css_ids is not None:
        st = tables["students"]
        keep = set(st.loc[st["css_id"].isin(css_ids), "student_id"])
    for name, df in tables.items():
        drop = [c.name for c in TABLES[name].columns
                if c.role == Role.DIRECT_IDENTIFIER and not c.pseudonymize and c.name in df]
        df = df.drop(columns=drop)
        if keep is not None and "student_id" in df:
            df = df.loc[df["student_id"].isin(keep)]
        if css_ids is not None and "css_id" in df and name != "students":
            df = df.loc[df["css_id"].isin(css_ids)]
        out[name] = df
    return out


GOV_KEY = "access-tests-governance-key-0123456789"


@pytest.fixture(scope="session")
def served(network, tmp_path_factory, fast_models_config):
    """Train on CSS001 (de-identified), then the real governance chain (audit, explain,
    ready card, register, review, promote to @champion and @challenger): predict serves
    only what cin-ml's history promoted (issue 15)."""
    import warnings

    import mlflow

    from cin_ml.config import settings_from_dict
    from cin_ml.consent import carry_agreements, load_agreements
    from cin_ml.extract import write_extract
    from cin_ml.pipeline import run_audit, run_card, run_explain, run_train
    from cin_ml.registry import GovernanceSettings, make_ctx, promote, register, review

    root = tmp_path_factory.mktemp("served")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    mp = pytest.MonkeyPatch()
    mp.setenv("CIN_ML_GOVERNANCE_KEY", GOV_KEY)
    mp.setenv("CIN_ML_GOVERNANCE_ANCHOR_DIR", str(root.parent / f"{root.name}-anchor"))
    deid = root / "css001"
    write_extract(deidentified(network["sim"].tables, ["CSS001"]), deid)
    carry_agreements(network["source"], deid)
    # K = 3 pooled test cohorts (rolling): on one CSS of this network (~1,500 students) a
    # single test cohort is too small for the promotion's baseline gate to see that the model
    # beats the context-only one, and promote is refused
    models_config = fast_models_config(root, n_boot=20)
    s = run_train(deid, "ecriture_4e", models_config=models_config,
                  tracking_uri=uri)
    rid = s["run_id"]
    with pytest.MonkeyPatch.context() as env, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # small groups of one CSS: not what these tests test
        env.setenv("MLFLOW_TRACKING_URI", uri)
        run_audit(rid, n_boot=20)
        run_explain(rid, out=root / "explain")
        run_card(rid, out=root / "cards", ready=True, tracking_uri=uri)
    policy = settings_from_dict(GovernanceSettings, {
        "governance": {"purpose": "student_success_prediction"},
        "people": {"committee": ["a.tremblay"], "operators": ["ops.cote"]}}, "access tests")
    ctx = make_ctx(policy, load_agreements(), store=uri)
    reg = register(ctx, rid, author="ds.lavoie")
    review(ctx, MODEL, reg["version"], reviewer="a.tremblay", approve=True,
           comment="access tests", accept_fairness=reg["fairness_fails"])
    for alias in ("champion", "challenger"):
        promote(ctx, MODEL, reg["version"], alias=alias, operator="ops.cote")
    client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
    yield {"uri": uri, "train": s, "deid": deid, "root": root, "client": client,
           "version": reg["version"], "models_config": models_config}
    mp.undo()
