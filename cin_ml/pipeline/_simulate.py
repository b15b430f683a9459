"""Simulate a source extract (``cin-ml simulate``)."""

from __future__ import annotations

from pathlib import Path

from cin_ml.pipeline._common import Progress, _quiet


def run_simulate(out: Path | str = "data/source", truth_out: Path | str | None = None, *,
                 css: int | None = None, students: int | None = None, seed: int | None = None,
                 extract_year: int | None = None, disparity: str | None = None,
                 missingness: float | None = None, config: Path | str | None = None,
                 progress: Progress = _quiet) -> dict:
    """Simulate a source extract and its ground truth; returns a summary for display.

    Config values come from ``configs/simulate.toml`` (or ``config``), overridden by the
    keyword arguments that are not None. The truth goes to ``truth_out`` (default
    ``<out>_truth``), apart from the extract.
    """
    from cin_ml.simulator import Disparity, load_simulation_config, simulate_to_disk

    cfg = load_simulation_config(
        config, n_css=css, n_students=students, seed=seed, extract_year=extract_year,
        missingness=missingness,
        disparity=Disparity.parse(disparity).model_dump() if disparity else None)
    out = Path(out)
    truth_out = Path(truth_out) if truth_out is not None else out.with_name(out.name + "_truth")
    if out.resolve() == truth_out.resolve() or truth_out.resolve().is_relative_to(out.resolve()):
        from cin_ml.errors import ConfigError

        raise ConfigError(f"--truth-out {truth_out} must be outside the extract folder {out}")
    progress(f"simulating {cfg.n_students:,} students in {cfg.n_css} CSS (seed {cfg.seed})")
    summary = simulate_to_disk(cfg, out, truth_out, progress=progress)
    return {**summary, "out": str(out), "truth_out": str(truth_out)}
