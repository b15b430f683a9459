"""Simulated data-use agreements for a simulated network of CSS.

A real network does not consent uniformly (seed case, section 8): agreements are negotiated
CSS by CSS and dataset by dataset, some CSS never sign for some datasets (14 of 72 had not
consented to the workforce dataset), some sign for another purpose only, and some
agreements reach their retention end. The simulator reproduces that mix so that training,
governance checks and ministry reports meet the cases they must handle.

Agreements are not student data: they are written next to the extract as
``agreements.parquet`` (:func:`cin_ml.consent.write_agreements`; one row per agreement, the
columns of :func:`cin_ml.consent.agreements_from_frame`), never with the ground truth.

Rules (rates in ``[agreements]`` of ``configs/simulate.toml``):

- the first CSS is the partner whose data the network studies: it signs ``academic`` and
  ``absences`` for the training purpose, valid well after the extract (a one-CSS
  simulation is therefore always usable for training);
- every other CSS × dataset draws one of: signed for the purpose (``p_signed``), signed
  for another purpose only (``p_other_purpose``), signed but already expired
  (``p_expired``), or nothing;
- with three CSS or more, at least one CSS lacks a valid ``absences`` agreement, so a
  network always exercises the exclusion path.

Same seed, same bytes: the draws use ``SeedSequence([seed, 0xC0])``, independent of the
student draws.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import Field

from cin_ml.config import Settings, config_path, read_toml, settings_from_dict
from cin_ml.consent import DATASETS
from cin_ml.schema import TABLES

__all__ = ["AgreementSimulation", "load_agreement_simulation", "simulate_agreements"]

COLUMNS = ("id", "css_id", "dataset", "purpose", "data", "retention_end", "signatory",
           "signed")


class AgreementSimulation(Settings):
    """Rates of the agreement mix (``[agreements]`` of configs/simulate.toml)."""

    purpose: str = Field("student_success_prediction", min_length=1)
    other_purpose: str = Field("ministry_indicators", min_length=1)
    p_signed: dict[str, float] = Field(
        default_factory=lambda: {"academic": 0.85, "absences": 0.7, "workforce": 0.6})
    p_other_purpose: float = Field(0.05, ge=0, le=1)
    p_expired: float = Field(0.05, ge=0, le=1)
    retention_years: tuple[int, int] = (5, 8)

    def model_post_init(self, _ctx) -> None:
        unknown = set(self.p_signed) - set(DATASETS)
        if unknown:
            raise ValueError(f"p_signed: unknown dataset(s) {sorted(unknown)}")
        if any(not 0 <= v <= 1 for v in self.p_signed.values()):
            raise ValueError("p_signed values must be in [0, 1]")
        if max(self.p_signed.values(), default=0) + self.p_other_purpose + self.p_expired > 1:
            raise ValueError("p_signed + p_other_purpose + p_expired must not exceed 1")
        lo, hi = self.retention_years
        if not 1 <= lo <= hi:
            raise ValueError("retention_years must be (low, high) with 1 <= low <= high")


def load_agreement_simulation(path: Path | str | None = None) -> AgreementSimulation:
    """``[agreements]`` of configs/simulate.toml (or ``path``); defaults when absent."""
    p = Path(path) if path is not None else config_path("simulate")
    if path is None and not p.is_file():
        return AgreementSimulation()
    data = read_toml(p).get("agreements", {})
    return settings_from_dict(AgreementSimulation, dict(data), f"{p} [agreements]")


def _tables_of(dataset: str) -> list[str]:
    return [t.name for t in TABLES.values() if t.dataset == dataset]


def _row(css_id: str, dataset: str, purpose: str, signed: dt.date, end: dt.date,
         rng: np.random.Generator) -> dict:
    who = ("Direction générale", "Secrétariat général")[int(rng.integers(2))]
    return {"id": f"{css_id}-{dataset}-{signed.year}-{purpose[:3]}", "css_id": css_id,
            "dataset": dataset, "purpose": purpose, "data": _tables_of(dataset),
            "retention_end": end, "signatory": f"{who}, {css_id}", "signed": signed}


def simulate_agreements(css_ids: list[str] | tuple[str, ...], seed: int, extract_year: int,
                        settings: AgreementSimulation | None = None) -> pd.DataFrame:
    """Agreements of a simulated network (see the module docstring for the rules).

    Parameters
    ----------
    css_ids
        The network's CSS, in order (the first is the partner CSS).
    seed
        Simulation seed.
    extract_year
        Calendar year of the extract: agreements are signed in the four years before it.
    settings
        Rates; ``configs/simulate.toml [agreements]`` when ``None``.

    Returns
    -------
    pandas.DataFrame
        One row per agreement, columns ``id, css_id, dataset, purpose, data,
        retention_end, signatory, signed`` (dates as ``datetime.date``).
    """
    s = settings or load_agreement_simulation()
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0xC0]))
    lo, hi = s.retention_years
    rows: list[dict] = []
    lacking_absences: list[str] = []
    for i, css in enumerate(css_ids):
        for ds in DATASETS:
            signed = dt.date(extract_year - 4 + int(rng.integers(4)), int(rng.integers(1, 13)),
                             int(rng.integers(1, 29)))
            end = dt.date(signed.year + int(rng.integers(lo, hi + 1)), 6, 30)
            u = rng.random()
            p = s.p_signed.get(ds, 0.0)
            if i == 0 and ds != "workforce":
                u = 0.0  # the partner CSS
            if u < p:
                rows.append(_row(css, ds, s.purpose, signed, end, rng))
                continue
            if ds == "absences":
                lacking_absences.append(css)
            if u < p + s.p_other_purpose:
                rows.append(_row(css, ds, s.other_purpose, signed, end, rng))
            elif u < p + s.p_other_purpose + s.p_expired:
                old = dt.date(extract_year - 7, signed.month, signed.day)
                rows.append(_row(css, ds, s.purpose, old, dt.date(extract_year - 1, 6, 30),
                                 rng))
    if len(css_ids) >= 3 and not lacking_absences:
        last = css_ids[-1]
        rows = [r for r in rows if not (r["css_id"] == last and r["dataset"] == "absences")]
    df = pd.DataFrame(rows, columns=list(COLUMNS))
    return df.sort_values(["css_id", "dataset", "id"]).reset_index(drop=True)
