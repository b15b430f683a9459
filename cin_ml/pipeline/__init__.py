"""Composes the boxes of the data flow; the only package that does (docs/architecture.md,
section "Data flow").

Each ``run_*`` function reads its inputs, calls the pure steps, writes outputs atomically and
returns a small JSON-safe summary for the CLI (which prints it) or a notebook. One module per
box; the demo composes them all.
"""

from __future__ import annotations

from cin_ml.pipeline._access import run_predict
from cin_ml.pipeline._audit import run_audit
from cin_ml.pipeline._card import run_card
from cin_ml.pipeline._consent import check_training_consent
from cin_ml.pipeline._demo import prepare_workspace, run_demo
from cin_ml.pipeline._explain import run_explain
from cin_ml.pipeline._external import run_spec, spec_fairness_policy
from cin_ml.pipeline._governance import (
    run_compare,
    run_governance_check,
    run_history,
    run_promote,
    run_register,
    run_review,
    run_rollback,
)
from cin_ml.pipeline._monitor import run_monitor
from cin_ml.pipeline._simulate import run_simulate
from cin_ml.pipeline._train import run_harmonize, run_train
from cin_ml.pipeline._virtual import run_deidentify, run_virtualize

__all__ = [
    "check_training_consent",
    "prepare_workspace",
    "run_audit",
    "run_card",
    "run_compare",
    "run_deidentify",
    "run_demo",
    "run_explain",
    "run_governance_check",
    "run_harmonize",
    "run_history",
    "run_monitor",
    "run_predict",
    "run_promote",
    "run_register",
    "run_review",
    "run_rollback",
    "run_simulate",
    "run_spec",
    "run_train",
    "run_virtualize",
    "spec_fairness_policy",
]
