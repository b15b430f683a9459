"""De-identify and virtualize an extract (``cin-ml deidentify``, ``cin-ml virtualize``)."""

from __future__ import annotations

from pathlib import Path

from cin_ml.pipeline._common import Progress, _quiet
from cin_ml.run_contract import Tag


def _outside(path: Path, *folders: Path) -> bool:
    p = path.resolve()
    return all(p != f.resolve() and not p.is_relative_to(f.resolve()) for f in folders)


def _write_pseudonymized_truth(truth, key, out: Path, keep_students, text_map=None) -> None:
    """Re-key a simulation's ground truth with the extract's pseudonyms (dropping the
    students k-anonymity suppressed) and write it apart to ``out``, for evaluation only."""
    import dataclasses

    from cin_ml.simulator import write_truth
    from cin_ml.virtual_css import pseudonymize_truth

    rekeyed = pseudonymize_truth(truth, key, keep_students, text_map)
    summary = {**rekeyed.summary, "pseudonymized": {"key_id": key.key_id,
                                                    "n_students": len(rekeyed.students)}}
    write_truth(dataclasses.replace(rekeyed, summary=summary), out)


def _deidentify_step(source: Path, outs: list[Path], key_file, demo_key: bool, config,
                     progress: Progress):
    """Read ``source`` and return ``(key, Deidentified)``; refuses a key inside an output."""
    from cin_ml.errors import PolicyError
    from cin_ml.extract import read_extract
    from cin_ml.virtual_css import (
        REQUIRED_TABLES,
        DeidentifyConfig,
        deidentify,
        resolve_pseudonym_key,
    )

    cfg = DeidentifyConfig.load(config)
    if key_file is not None and not _outside(Path(key_file), *outs):
        raise PolicyError(f"key file {key_file} lies inside an output folder; keep the key "
                          "outside everything that is shared")
    key = resolve_pseudonym_key(key_file, demo=demo_key, min_bytes=cfg.min_key_bytes)
    if key.demo:
        progress("WARNING: using the PUBLIC demo pseudonymization key: pseudonyms are not "
                 "secret. Simulated data only, never a real extract.")
    tables = read_extract(source, required=REQUIRED_TABLES)
    return key, deidentify(tables, key, cfg, progress=progress)


def run_deidentify(source: Path | str = "data/source", out: Path | str = "data/deidentified",
                   *, truth: Path | str | None = None, truth_out: Path | str | None = None,
                   key_file: Path | str | None = None, demo_key: bool = False,
                   config: Path | str | None = None, progress: Progress = _quiet) -> dict:
    """De-identify a source extract folder into ``out`` (deidentified form, atomic).

    With ``truth`` (a simulation's ground-truth folder), the truth is re-keyed with the same
    pseudonyms and written apart to ``truth_out`` (default ``<out>_truth``), for evaluation
    only. The key comes from ``key_file``, ``$CIN_ML_PSEUDONYM_KEY`` or, with ``demo_key``,
    the public demo key.
    """
    from cin_ml.errors import ConfigError
    from cin_ml.extract import write_extract

    source, out = Path(source), Path(out)
    if not _outside(out, source) or not _outside(source, out):
        raise ConfigError(f"--out {out} must be apart from the source folder {source}")
    truth_dir = None
    if truth is not None:
        truth_dir = Path(truth_out) if truth_out else out.with_name(out.name + "_truth")
        if not _outside(truth_dir, out):
            raise ConfigError(f"--truth-out {truth_dir} must be outside the extract {out}")
    outs = [out] + ([truth_dir] if truth_dir else [])
    key, d = _deidentify_step(source, outs, key_file, demo_key, config, progress)
    truth_rec = None
    if truth is not None:
        from cin_ml.simulator import read_truth

        truth_rec = read_truth(truth)  # read before writing anything: fail with no output
    write_extract(d.tables, out, extra_files={"deidentification.json": d.report.to_dict()})
    from cin_ml.consent import carry_agreements  # access: not student data

    carry_agreements(source, out)
    summary = {"out": str(out), "report": d.report.to_dict(),
               "rows": {k: len(v) for k, v in d.tables.items()}}
    if truth_rec is not None:
        _write_pseudonymized_truth(truth_rec, key, truth_dir,
                                   d.tables["students"]["student_id"], d.text_map)
        summary["truth_out"] = str(truth_dir)
    progress(f"de-identified extract written to {out}")
    return summary


def run_virtualize(source: Path | str = "data/source", out: Path | str = "data/virtual", *,
                   model_out: Path | str | None = None, report_out: Path | str | None = None,
                   key_file: Path | str | None = None, demo_key: bool = False,
                   seed: int = 0, students: int | None = None, config: Path | str | None = None,
                   track: bool = True, tracking_uri: str | None = None,
                   progress: Progress = _quiet) -> dict:
    """De-identify (if needed), synthesize and evaluate: a virtual CSS in ``out``.

    ``source`` may be a source extract (de-identified first, in memory: a key is needed) or
    an already de-identified one. A share of the students is held out from the synthesizer
    to judge privacy and utility. Writes the virtual tables (``out``), the fitted synthesizer
    (``model_out``, default ``<out>_model``) and the report JSON + HTML (``report_out``,
    default ``reports/virtual_css/<out name>``), then logs the report to the MLflow
    experiment ``virtual-css``. Nothing is written unless every step succeeded.
    """
    import tempfile

    from cin_ml.errors import ConfigError
    from cin_ml.extract import atomic_dir, read_extract, write_extract, write_json_atomic
    from cin_ml.schema import direct_identifier_columns
    from cin_ml.virtual_css import (
        EvaluationConfig,
        SynthesisConfig,
        evaluate_virtual_css,
        report_pages,
        split_students,
        synthesize,
    )

    source, out = Path(source), Path(out)
    model_out = Path(model_out) if model_out else out.with_name(out.name + "_model")
    report_out = Path(report_out) if report_out else Path("reports/virtual_css") / out.name
    for o in (out, model_out, report_out):
        if not _outside(o, source) or not _outside(source, o):
            raise ConfigError(f"output {o} must be apart from the source folder {source}")
    syn_cfg, ev_cfg = SynthesisConfig.load(config), EvaluationConfig.load(config)
    probe = read_extract(source, tables=["students"], required=["students"])["students"]
    dropped = [c for c in direct_identifier_columns()["students"]
               if c in probe.columns and c != "student_id"]
    deid_report = None
    if dropped:
        progress("source extract: de-identifying first")
        _, d = _deidentify_step(source, [out, model_out, report_out], key_file, demo_key,
                                config, progress)
        tables, deid_report = d.tables, d.report.to_dict()
    else:
        from cin_ml.schema import validate_extract
        from cin_ml.virtual_css import REQUIRED_TABLES

        tables = validate_extract(read_extract(source, required=REQUIRED_TABLES),
                                  required=REQUIRED_TABLES, form="deidentified")
    train, holdout = split_students(tables, ev_cfg.holdout_share, seed)
    progress(f"holding out {len(holdout['students']):,} source students for evaluation")
    virt = synthesize(train, syn_cfg, seed=seed, n_students=students, progress=progress)
    report = evaluate_virtual_css(train, holdout, virt.tables, ev_cfg, seed=seed,
                                  synthesized=(virt.source_students, virt.virtual_students),
                                  progress=progress, source_table=virt.source_table)
    full = {**report.to_dict(), "synthesis": virt.to_dict(), "deidentification": deid_report}
    pages = report_pages(report, virt.source_students, virt.virtual_students, name=out.name)
    with tempfile.TemporaryDirectory(prefix=".cin-model-") as tmp:
        virt.save_model(tmp)
        with atomic_dir(model_out) as mtmp, atomic_dir(report_out) as rtmp:
            for f in Path(tmp).iterdir():
                (mtmp / f.name).write_bytes(f.read_bytes())
            write_json_atomic(rtmp / "report.json", full)
            for fname, page in pages.items():
                (rtmp / fname).write_text(page, encoding="utf-8")
    # the marker records where the report is (absolute) and, once logged, its MLflow run, so
    # a card finds the report wherever the virtual CSS and the report were written
    marker = {"synthesis": virt.to_dict(), "digests": report.digests, "passed": report.passed,
              "report": str((report_out / "report.json").resolve()), "run_id": None}
    write_extract(virt.tables, out, extra_files={"virtual_css.json": marker})
    from cin_ml.consent import carry_agreements  # access: not student data

    carry_agreements(source, out)
    run_id = None
    if track:
        from cin_ml.tracking import log_virtual_css_report

        run_id = log_virtual_css_report(
            full, {"report.json": full, **pages}, report.digests,
            tags={Tag.DATA_FORM: "virtual", Tag.DATA_DIR: str(out.resolve()),
                  Tag.SOURCE_DIR: str(source.resolve()), Tag.SEED: str(seed)},
            store=tracking_uri)
        write_json_atomic(out / "virtual_css.json", {**marker, "run_id": run_id})
    progress(f"virtual CSS written to {out}; report in {report_out}")
    return {"out": str(out), "model_out": str(model_out), "report_out": str(report_out),
            "run_id": run_id, "report": full}
