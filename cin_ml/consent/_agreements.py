"""Data-use agreements: which CSS consented to which dataset, for which purpose, until when.

The network's rule (docs/architecture.md): the ministry may only use a CSS's data for the
datasets that CSS consented to. One agreement covers one CSS × one dataset (``academic``,
``absences`` or ``workforce``, the values of :attr:`cin_ml.schema.Table.dataset`) for one
purpose, from its signature date to its retention end date (both inclusive).

Agreements come from ``configs/consent.toml`` (``[[agreements]]`` entries) or from a table
(one row per agreement, same column names)::

    registry = load_agreements()                      # configs/consent.toml
    registry = agreements_from_frame(df)              # e.g. emitted by the simulator
    check = check_consent(registry, ["CSS001"], ["academic", "absences"],
                          purpose="student_success_prediction", on_date=date.today())
    check.ok, check.missing, check.agreement_ids
    check.raise_if_invalid()                          # ConsentError naming CSS and dataset

Pure: no I/O beyond reading the TOML file, no mlflow. The ``agreements.parquet`` file an
extract carries is read and written by :mod:`cin_ml.consent._files`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field, field_validator, model_validator

from cin_ml.config import Settings, config_path, read_toml, settings_from_dict
from cin_ml.errors import ConfigError, ConsentError

__all__ = [
    "DATASETS",
    "Agreement",
    "ConsentCheck",
    "ConsentRegistry",
    "Gap",
    "agreements_from_frame",
    "check_consent",
    "load_agreements",
]

DATASETS = ("academic", "absences", "workforce")
"""Datasets an agreement can cover (the values of ``cin_ml.schema.Table.dataset``)."""


class Agreement(Settings):
    """One signed data-use agreement: a CSS × a dataset × a purpose, valid from ``signed``
    to ``retention_end`` inclusive."""

    id: str = Field(min_length=1)
    css_id: str = Field(min_length=1)
    dataset: str
    purpose: str = Field(min_length=1)
    data: tuple[str, ...] = Field(min_length=1, description="Data covered (tables or items).")
    retention_end: dt.date
    signatory: str = Field(min_length=1)
    signed: dt.date

    @field_validator("dataset")
    @classmethod
    def _known_dataset(cls, v: str) -> str:
        if v not in DATASETS:
            raise ValueError(f"dataset must be one of {', '.join(DATASETS)}")
        return v

    @model_validator(mode="after")
    def _dates_in_order(self) -> Agreement:
        if self.retention_end < self.signed:
            raise ValueError(f"agreement {self.id}: retention_end {self.retention_end} is "
                             f"before signed {self.signed}")
        return self

    def valid_on(self, day: dt.date) -> bool:
        """True when ``day`` falls between the signature and the retention end."""
        return self.signed <= day <= self.retention_end

    def to_dict(self) -> dict:
        return {"id": self.id, "css_id": self.css_id, "dataset": self.dataset,
                "purpose": self.purpose, "data": list(self.data),
                "retention_end": self.retention_end.isoformat(),
                "signatory": self.signatory, "signed": self.signed.isoformat()}


class ConsentRegistry(Settings):
    """All known agreements (``configs/consent.toml``)."""

    agreements: tuple[Agreement, ...] = ()

    @model_validator(mode="after")
    def _unique_ids(self) -> ConsentRegistry:
        seen: set[str] = set()
        for a in self.agreements:
            if a.id in seen:
                raise ValueError(f"duplicate agreement id {a.id!r}")
            seen.add(a.id)
        return self

    def for_css(self, css_id: str) -> tuple[Agreement, ...]:
        """Agreements signed by one CSS."""
        return tuple(a for a in self.agreements if a.css_id == css_id)


@dataclass(frozen=True)
class Gap:
    """A CSS × dataset without a valid agreement for the purpose on the date, and why."""

    css_id: str
    dataset: str
    reason: str  # "none" | "expired" | "not_yet_signed" | "other_purpose"
    detail: str

    def to_dict(self) -> dict:
        return {"css_id": self.css_id, "dataset": self.dataset, "reason": self.reason,
                "detail": self.detail}


@dataclass(frozen=True)
class ConsentCheck:
    """Result of :func:`check_consent`: ``ok`` when every CSS × dataset is covered."""

    purpose: str
    on_date: dt.date
    css_ids: tuple[str, ...]
    datasets: tuple[str, ...]
    missing: tuple[Gap, ...]
    agreement_ids: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.missing

    def describe(self) -> str:
        """One line naming every CSS and dataset lacking a valid agreement."""
        if self.ok:
            return (f"consent valid on {self.on_date} for {self.purpose!r}: "
                    f"{len(self.agreement_ids)} agreement(s)")
        gaps = "; ".join(f"{g.css_id}/{g.dataset}: {g.detail}" for g in self.missing)
        return f"no valid data-use agreement on {self.on_date} for {self.purpose!r}: {gaps}"

    def raise_if_invalid(self) -> None:
        """Raise :class:`ConsentError` (naming CSS and dataset) unless ``ok``."""
        if not self.ok:
            raise ConsentError(self.describe())

    def to_dict(self) -> dict:
        return {"ok": self.ok, "purpose": self.purpose, "on_date": self.on_date.isoformat(),
                "css_ids": list(self.css_ids), "datasets": list(self.datasets),
                "missing": [g.to_dict() for g in self.missing],
                "agreement_ids": list(self.agreement_ids)}


def _gap(css_id: str, dataset: str, purpose: str, day: dt.date,
         candidates: list[Agreement]) -> Gap:
    if not candidates:
        return Gap(css_id, dataset, "none", "no agreement")
    same = [a for a in candidates if a.purpose == purpose]
    if not same:
        others = ", ".join(sorted({a.purpose for a in candidates}))
        return Gap(css_id, dataset, "other_purpose",
                   f"agreements cover other purposes only ({others})")
    latest = max(same, key=lambda a: a.retention_end)
    if latest.retention_end < day:
        return Gap(css_id, dataset, "expired",
                   f"agreement {latest.id} expired on {latest.retention_end}")
    first = min(same, key=lambda a: a.signed)
    return Gap(css_id, dataset, "not_yet_signed",
               f"agreement {first.id} takes effect on {first.signed}")


def check_consent(registry: ConsentRegistry, css_ids: Iterable[str], datasets: Iterable[str],
                  purpose: str, on_date: dt.date | None = None) -> ConsentCheck:
    """Check that every CSS × dataset has a valid agreement for ``purpose`` on ``on_date``.

    Parameters
    ----------
    registry
        The known agreements (:func:`load_agreements` or :func:`agreements_from_frame`).
    css_ids
        CSS whose data is (or was) used, e.g. ``["CSS001"]``.
    datasets
        Datasets used: ``academic``, ``absences``, ``workforce``.
    purpose
        The use, e.g. ``"student_success_prediction"`` (``purpose`` in governance.toml).
    on_date
        Day of the use; today when ``None``.

    Returns
    -------
    ConsentCheck
        ``ok``, the gaps (one per CSS × dataset not covered, with the reason) and the ids
        of the agreements relied on.

    Raises
    ------
    ConsentError
        If ``css_ids`` or ``datasets`` is empty or a dataset name is unknown (a use that
        cannot be checked is not a valid use).
    """
    day = on_date or dt.date.today()
    css = tuple(sorted(set(css_ids)))
    ds = tuple(sorted(set(datasets)))
    if not css:
        raise ConsentError(f"consent check for {purpose!r}: no CSS named")
    if not ds:
        raise ConsentError(f"consent check for {purpose!r}: no dataset named")
    unknown = [d for d in ds if d not in DATASETS]
    if unknown:
        raise ConsentError(f"consent check: unknown dataset(s) {', '.join(unknown)} "
                           f"(known: {', '.join(DATASETS)})")
    missing, used = [], []
    for c in css:
        for d in ds:
            cands = [a for a in registry.agreements if a.css_id == c and a.dataset == d]
            valid = [a for a in cands if a.purpose == purpose and a.valid_on(day)]
            if valid:
                used.append(max(valid, key=lambda a: a.retention_end).id)
            else:
                missing.append(_gap(c, d, purpose, day, cands))
    return ConsentCheck(purpose, day, css, ds, tuple(missing), tuple(sorted(set(used))))


def load_agreements(path: Path | str | None = None) -> ConsentRegistry:
    """Load ``configs/consent.toml`` (or ``path``): ``[[agreements]]`` entries.

    Raises
    ------
    ConfigError
        Missing file, unknown key, unknown dataset, dates out of order or duplicate id,
        naming the file and entry.
    """
    p = Path(path) if path is not None else config_path("consent")
    data = read_toml(p)
    unknown = set(data) - {"agreements"}
    if unknown:
        raise ConfigError(f"{p}: unknown section(s) {', '.join(sorted(unknown))}")
    return _registry_from_rows(list(data.get("agreements", [])), str(p))


def agreements_from_frame(frame) -> ConsentRegistry:
    """Agreements from a table (a pandas DataFrame, one row per agreement).

    Columns: ``id, css_id, dataset, purpose, data, retention_end, signatory, signed``;
    ``data`` is a list or a ``;``-separated string; dates are dates or ISO strings.
    """
    rows = []
    for rec in frame.to_dict(orient="records"):
        rec = dict(rec)
        if isinstance(rec.get("data"), str):
            rec["data"] = [x.strip() for x in rec["data"].split(";") if x.strip()]
        elif rec.get("data") is not None:
            rec["data"] = list(rec["data"])
        for k in ("retention_end", "signed"):
            v = rec.get(k)
            if hasattr(v, "date") and not isinstance(v, dt.date | str):
                rec[k] = v.date()  # pandas Timestamp
            elif isinstance(v, dt.datetime):
                rec[k] = v.date()
        rows.append(rec)
    return _registry_from_rows(rows, "agreements table")


def _registry_from_rows(rows: list[Mapping], where: str) -> ConsentRegistry:
    for i, row in enumerate(rows):
        settings_from_dict(Agreement, dict(row), f"{where} agreement #{i + 1} "
                                                 f"({row.get('id', '?')})")
    return settings_from_dict(ConsentRegistry, {"agreements": rows}, where)
