"""The source-side simulator: a CSS (or a network of CSS) extract with a known ground truth.

It stands in for a real CSS export: the extract follows the data contract
(:mod:`cin_ml.schema`), its data-use agreements are written next to it
(:mod:`cin_ml.consent`), and the ground truth (true probabilities and labels, causal
drivers, true absence categories) is written apart, for evaluation only. Only the pipeline
and the CLI may import this package: the import contracts keep the truth away from
features, models and virtual CSS (docs/architecture.md).

Modules: ``_config`` (``configs/simulate.toml``), ``_model`` (the documented generative
model), ``_events`` (marks, exam, absences), ``_identifiers`` and ``_absence_vocab``
(what staff type), ``_drivers`` (causal effects), ``_agreements`` (the network's
agreements), ``_truth`` (the truth record and its folder), ``_simulate`` (orchestration).

Public names are resolved lazily (PEP 562): importing this package loads no heavy library.
"""

from __future__ import annotations

from cin_ml._lazy import lazy_exports

# name -> private module that defines it
_EXPORTS: dict[str, str] = {
    "Disparity": "_config",
    "SimulationConfig": "_config",
    "load_simulation_config": "_config",
    "Simulation": "_simulate",
    "simulate": "_simulate",
    "simulate_to_disk": "_simulate",
    "write_simulation": "_simulate",
    "GroundTruth": "_truth",
    "TRUTH_FILES": "_truth",
    "read_truth": "_truth",
    "write_truth": "_truth",
    "drivers_table": "_drivers",
    "true_feature_signs": "_drivers",
    "AgreementSimulation": "_agreements",
    "load_agreement_simulation": "_agreements",
    "simulate_agreements": "_agreements",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
