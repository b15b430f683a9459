"""One exception tree for cin-ml.

::

    CinMLError                      every error cin-ml raises on purpose
    ├── ConfigError                 a config file, section, key or value is wrong
    ├── DataError                   input data is missing, malformed or breaks the contract
    │   ├── SchemaError             a table/column/type/range/key check failed
    │   └── ConsentError            data used without a valid data-use agreement
    ├── PolicyError                 a feature-policy or privacy rule would be broken
    ├── TrackingError               the MLflow store, a run or an artifact is missing or wrong
    └── GovernanceError             a registry/review/promotion rule refuses the action
        └── GateError               promotion gates failed (carries the failed gates)

Warnings (not errors):

    CinMLWarning
    └── SmallGroupWarning           a group is too small to judge (fairness, reports)

Audit findings (a disparity above tolerance) are results, never exceptions. The CLI turns a
``CinMLError`` into one line on stderr and exit code 1.
"""

from __future__ import annotations


class CinMLError(Exception):
    """Base class of every error cin-ml raises on purpose."""


class ConfigError(CinMLError):
    """A configuration file, section, key or value is invalid."""


class DataError(CinMLError):
    """Input data is missing, malformed or breaks the data contract."""


class SchemaError(DataError):
    """A table, column, type, range, key or foreign-key check failed."""


class ConsentError(DataError):
    """Data would be used without a valid data-use agreement."""


class PolicyError(CinMLError):
    """A feature-policy or privacy rule would be broken."""


class TrackingError(CinMLError):
    """The tracking store, a run or an artifact is missing or inconsistent."""


class GovernanceError(CinMLError):
    """A registry, review or promotion rule refuses the action."""


class GateError(GovernanceError):
    """Promotion refused: one or more gates failed."""

    def __init__(self, message: str, failed_gates: list[str] | None = None) -> None:
        super().__init__(message)
        self.failed_gates = list(failed_gates or [])


class CinMLWarning(UserWarning):
    """Base class of cin-ml warnings."""


class SmallGroupWarning(CinMLWarning):
    """A group is too small for a verdict or for publication."""
