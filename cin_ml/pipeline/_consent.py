"""Data-use agreements an extract relies on (training refuses data without one)."""

from __future__ import annotations

from pathlib import Path


def _use_purpose(config: Path | str | None = None) -> str:
    """The purpose uses must be covered for: ``[serving] purpose`` of access.toml, else
    ``[governance] purpose`` of governance.toml."""
    from cin_ml.access import load_access_settings
    from cin_ml.config import config_path, read_toml

    purpose = load_access_settings(config).serving.purpose
    if purpose:
        return purpose
    gov = config_path("governance")
    return (read_toml(gov).get("governance", {}).get("purpose") if gov.is_file() else None) \
        or "student_success_prediction"


def _agreements_for(data: Path, agreements: Path | str | None):
    """(registry, source) of the agreements covering ``data``: ``agreements`` (a consent
    TOML, an agreements Parquet table or a folder holding one), else the
    ``agreements.parquet`` written next to the extract, else ``configs/consent.toml``."""
    import pandas as pd

    from cin_ml.consent import (
        AGREEMENTS_FILE,
        agreements_from_frame,
        load_agreements,
        read_agreements,
    )
    from cin_ml.errors import ConfigError

    if agreements is not None:
        p = Path(agreements)
        if p.is_dir():
            reg = read_agreements(p)
            if reg is None:
                raise ConfigError(f"--agreements {p}: no {AGREEMENTS_FILE} in this folder")
            return reg, str(p / AGREEMENTS_FILE)
        if p.suffix == ".parquet" and p.is_file():
            return agreements_from_frame(pd.read_parquet(p)), str(p)
        return load_agreements(p), str(p)
    reg = read_agreements(data)
    if reg is not None:
        return reg, str(data / AGREEMENTS_FILE)
    from cin_ml.config import config_path

    return load_agreements(), str(config_path("consent"))


def _css_ids(tables: dict, data: Path) -> list[str]:
    from cin_ml.errors import SchemaError

    st = tables.get("students")
    if st is None or "css_id" not in st.columns:
        raise SchemaError(f"{data}: students.css_id is needed to check data-use agreements")
    return sorted(st["css_id"].dropna().astype(str).unique())


def check_training_consent(tables: dict, data: Path | str,
                           agreements: Path | str | None = None,
                           on_date=None) -> dict:
    """Refuse training data from a CSS without a valid agreement for every dataset read.

    Returns the consent scope a training run records (``consent/scope.json``):
    ``css_ids``, ``datasets``, ``purpose``, ``on_date``, ``agreements`` (ids),
    ``agreement_records`` and ``source``.

    Raises
    ------
    ConsentError
        Naming each CSS and dataset without a valid agreement, and why.
    """
    from cin_ml.consent import check_consent
    from cin_ml.errors import ConsentError
    from cin_ml.schema import TABLES

    data = Path(data)
    registry, source = _agreements_for(data, agreements)
    datasets = sorted({TABLES[t].dataset for t in tables if t in TABLES})
    purpose = _use_purpose()
    chk = check_consent(registry, _css_ids(tables, data), datasets, purpose, on_date)
    if not chk.ok:
        raise ConsentError(f"training on {data} refused: {chk.describe()} "
                           f"(agreements: {source})")
    used = {a.id: a for a in registry.agreements}
    return {**chk.to_dict(), "source": source,
            "agreement_records": [used[i].to_dict() for i in chk.agreement_ids]}
