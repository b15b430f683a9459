"""Data-use agreements: which CSS consented to which dataset, for which purpose, until when
(:mod:`._agreements`), and the ``agreements.parquet`` file an extract carries
(:mod:`._files`). Bottom layer: pure, no mlflow (docs/architecture.md)."""

from cin_ml.consent._agreements import (
    DATASETS,
    Agreement,
    ConsentCheck,
    ConsentRegistry,
    Gap,
    agreements_from_frame,
    check_consent,
    load_agreements,
)
from cin_ml.consent._files import (
    AGREEMENTS_FILE,
    carry_agreements,
    read_agreements,
    write_agreements,
)

__all__ = [
    "AGREEMENTS_FILE",
    "DATASETS",
    "Agreement",
    "ConsentCheck",
    "ConsentRegistry",
    "Gap",
    "agreements_from_frame",
    "carry_agreements",
    "check_consent",
    "load_agreements",
    "read_agreements",
    "write_agreements",
]
