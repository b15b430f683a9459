"""The run contract: what a cin-ml run carries in MLflow, named once.

Every step that writes a run (training, audit, explanations, card, virtual CSS) and every
reader (cards, the registry's gates, serving) names tags and artifact paths through this
module, never through string literals (docs/architecture.md, section "Run contract").
No mlflow import here: this module sits in the bottom layer.
"""

from __future__ import annotations

import hashlib
import re
from enum import StrEnum

__all__ = ["Artifact", "DataForm", "MONITORING_EXPERIMENT", "PUBLISHABLE_FORMS", "RunKind",
           "Tag", "VersionTag"]

MONITORING_EXPERIMENT = "cin-monitoring"
"""Experiment of the monitoring runs (``cin-ml monitor``): one run per report."""


class DataForm(StrEnum):
    """Which data a run was trained on (tag :attr:`Tag.DATA_FORM`)."""

    SOURCE = "source"
    """A CSS's extract with its direct identifiers: never leaves the source side."""
    DEIDENTIFIED = "deidentified"
    """Pseudonymized and k-anonymous (``cin-ml deidentify``)."""
    VIRTUAL = "virtual"
    """A synthetic copy made by ``cin-ml virtualize``."""


PUBLISHABLE_FORMS = (DataForm.VIRTUAL, DataForm.DEIDENTIFIED)
"""Data forms whose runs' outputs (audits, explanations, cards) may be published."""


class RunKind(StrEnum):
    """What a run is (tag :attr:`Tag.KIND`)."""

    TRAIN = "train"
    VIRTUAL_CSS = "virtual-css"
    GOVERNANCE = "governance"
    MONITOR = "monitor"


class Tag(StrEnum):
    """Run tags written by cin-ml."""

    TASK = "cin.task"
    KIND = "cin.kind"
    DATA_FORM = "cin.data_form"
    DATA_DIR = "cin.data_dir"
    GIT_COMMIT = "cin.git_commit"
    VERSION = "cin.version"
    MODEL_URI = "cin.model_uri"
    AUTHOR = "cin.author"
    TRUTH = "cin.truth"
    SPEC = "cin.spec"
    DATASET = "cin.dataset"
    DATASET_SHA256 = "cin.dataset_sha256"
    ORIGIN = "cin.origin"
    LICENCE = "cin.licence"
    SOURCE_DIR = "cin.source_dir"
    SEED = "cin.seed"
    DATA_DIGESTS = "cin.data.digests"
    MONITOR_MODEL = "cin.monitor.model"
    """A monitoring run: the registered model monitored (``cin-ecriture-4e``)."""
    MONITOR_VERSION = "cin.monitor.version"
    MONITOR_ALIAS = "cin.monitor.alias"
    MONITOR_RUN = "cin.monitor.run_id"
    """A monitoring run: the training run of the version monitored."""
    MONITOR_COHORT = "cin.monitor.cohort"
    """A monitoring run: the school year at whose end the newest cohort is predicted."""
    MONITOR_ALARMS = "cin.monitor.alarms"
    MONITOR_BREACHED = "cin.monitor.breached"
    """A monitoring run: the conditions breached (texts, ``; ``-separated; empty if none)."""


class VersionTag(StrEnum):
    """Tags cin-ml writes on registered models and model versions (governance state)."""

    MANAGED = "cin.managed"
    RUN_ID = "cin.run_id"
    TASK = "cin.task"
    AUTHOR = "cin.author"
    CARD_SHA = "cin.card.sha256"
    CARD_CONTENT_SHA = "cin.card.content_sha256"
    DATA_DIGESTS = "cin.data.digests"
    REGISTERED_BY = "cin.registered_by"
    REGISTER_INTENT = "cin.register.intent"
    REVIEW = "cin.review"
    REVIEW_STATE = "cin.review.state"
    REVIEWER = "cin.review.reviewer"
    REVIEW_EXPIRES = "cin.review.expires"
    FAIRNESS_WORST = "cin.fairness.worst"
    FAIRNESS_FAILS = "cin.fairness.fails"
    FAIRNESS_VERDICTS = "cin.fairness.verdicts"
    CONSENT_STATE = "cin.consent.state"
    CONSENT_SCOPE = "cin.consent.scope"
    CONSENT_NOTE = "cin.consent.note"
    CONSENT_FLAG = "cin.consent.flag"
    CONSENT_AGREEMENTS = "cin.consent.agreements"
    EVIDENCE = "cin.evidence"
    """SHA-256 of every card file and evidence artifact at registration, and of the manifest
    of the model's files (:attr:`Artifact.MODEL_FILES`) (canonical JSON)."""


class Artifact(StrEnum):
    """Artifact paths inside a run (relative to the run's artifact root)."""

    MODEL = "model"
    """The logged LightGBM model (``mlflow.lightgbm``), integer-coded inputs."""
    MODEL_META = "model_meta.json"
    EVALUATION = "evaluation/metrics.json"
    TEST_PREDICTIONS = "evaluation/test_predictions.parquet"
    TEST_FEATURES = "evaluation/test_features.parquet"
    FEATURE_POLICY = "policy/feature_policy.json"
    TRAINING = "training/training.json"
    CONSENT_SCOPE = "consent/scope.json"
    FAIRNESS_AUDIT = "fairness/audit.json"
    FAIRNESS_MITIGATION = "fairness/mitigation.json"
    FAIRNESS_PLOTS = "fairness/plots"
    EXPLAIN_GLOBAL = "explain/global.json"
    EXPLAIN_CONTRIBUTIONS = "explain/contributions.parquet"
    EXPLAIN_STUDENTS = "explain/students.json"
    EXPLAIN_PLOTS = "explain/plots"
    CARD = "card"
    CARD_JSON = "card/card.json"
    CARD_SHA = "card/card.sha256"
    EXTERNAL_SPEC = "external/spec.json"
    """A dataset spec's run: the validated spec (``cin-ml run --spec``)."""
    EXTERNAL_SPEC_TOML = "external/spec.toml"
    EXTERNAL_DATASET = "external/dataset.json"
    EXTERNAL_CV = "external/cross_validation.json"
    MODEL_FILES = "governance/model_files.json"
    """Written by ``register``: the SHA-256 of every file of the registered version's model
    (``{"model/MLmodel": ..., "model/model.lgb": ...}``, canonical JSON); its own SHA-256 is
    pinned in :attr:`VersionTag.EVIDENCE`, so the history stays small and the file cannot
    change unnoticed."""
    MONITORING_REFERENCE = "monitoring/reference.json"
    """A training run: binned reference of the training cohorts' inputs and test scores."""
    MONITORING_REPORT = "monitoring/report.json"
    """A monitoring run: the report (``cin_ml.monitoring.MonitoringReport.to_dict``)."""

    @staticmethod
    def monitoring_html(lang: str) -> str:
        """A monitoring run's page in ``lang`` (``monitoring/report.fr.html``)."""
        return f"monitoring/report.{lang}.html"

    @staticmethod
    def monitoring_card_section(lang: str) -> str:
        """A monitoring run's card section in ``lang`` (last report, conditions, state)."""
        return f"monitoring/card_section.{lang}.html"

    @staticmethod
    def plot(folder: Artifact, stem: str) -> str:
        """``<folder>/<stem>.png`` for a plot named after a column: a stem that is not
        plain (``study time``, ``G1/G2``) becomes a safe file name plus a short digest of the
        original, so two columns never share a file."""
        safe = re.sub(r"[^A-Za-z0-9_.=-]+", "_", stem).strip("._") or "plot"
        if safe != stem:
            safe += "-" + hashlib.sha256(stem.encode("utf-8")).hexdigest()[:8]
        return f"{folder.value}/{safe}.png"

    @staticmethod
    def card_files() -> tuple[str, ...]:
        """Every file ``cin-ml card`` logs: JSON, hash, fr/en Markdown and HTML, and the fr/en
        PDF of ``cin-ml card --pdf`` (pinned at registration like the rest: printed after
        registration, a PDF is a change the ``card`` gate names)."""
        return (Artifact.CARD_JSON.value, Artifact.CARD_SHA.value,
                *(f"{Artifact.CARD.value}/card.{lang}.{ext}" for lang in ("fr", "en")
                  for ext in ("md", "html")), *Artifact.card_pdfs())

    @staticmethod
    def card_pdf(lang: str) -> str:
        """The committee card printed to A4 PDF (``cin-ml card --pdf``)."""
        return f"{Artifact.CARD.value}/card.{lang}.pdf"

    @staticmethod
    def card_pdfs() -> tuple[str, ...]:
        return tuple(Artifact.card_pdf(lang) for lang in ("fr", "en"))

    @staticmethod
    def evidence_files() -> tuple[str, ...]:
        """What a version is judged on, pinned by SHA-256 at registration: the card files
        and the evidence artifacts the gates read."""
        return (*Artifact.card_files(), Artifact.EVALUATION.value, Artifact.MODEL_META.value,
                Artifact.FEATURE_POLICY.value, Artifact.FAIRNESS_AUDIT.value,
                Artifact.CONSENT_SCOPE.value)

    @staticmethod
    def model_file(relpath: str) -> str:
        """Key under which one file of a registered version's model (``MLmodel``,
        ``model.lgb``, ``requirements.txt``...; ``relpath`` inside the model's folder) is
        pinned in :attr:`MODEL_FILES`: ``model/MLmodel``."""
        return f"{Artifact.MODEL.value}/{relpath}"

    @staticmethod
    def card_reviewed_html(lang: str) -> str:
        """The card with its review section filled (decision, reviewer, expiry, serving
        status), rendered by the registry after ``review``/``promote``/``rollback``. Not
        pinned: it names the pinned card's SHA-256, whose files stay untouched."""
        return f"{Artifact.CARD.value}/reviewed/card.{lang}.html"

    @staticmethod
    def card_reviewed_files() -> tuple[str, ...]:
        return tuple(Artifact.card_reviewed_html(lang) for lang in ("fr", "en"))

    @staticmethod
    def card_file(name: str) -> str:
        """Path of one rendered card file (``card.fr.html``, ``card.json``, ...)."""
        return f"{Artifact.CARD.value}/{name}"

    @staticmethod
    def card_html(lang: str) -> str:
        return Artifact.card_file(f"card.{lang}.html")

    @staticmethod
    def card_markdown(lang: str) -> str:
        return Artifact.card_file(f"card.{lang}.md")

    @staticmethod
    def explain_sheet(student: str, lang: str) -> str:
        return f"explain/sheets/{student}.{lang}.html"
