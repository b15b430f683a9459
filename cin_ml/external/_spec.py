"""The dataset spec: a TOML file that lets any student table run the cin-ml chain.

::

    [dataset]     name, title (text, or {fr, en}), population {fr, en} (who the rows are,
                  for the card), file (relative to the spec), sha256, data_form, origin,
                  licence
    [format]      separator, encoding, bom, quotechar, decimal, na_values
    [target]      event rule (1 = the adverse outcome the model flags), name,
                  description {fr, en} (what the model predicts, for the card)
    [columns]     id (one or more columns: together they name a row), group (rows of one
                  person: grouped cross-validation), exclude, categorical
    [sensitive]   columns, reference_groups, features (a written justification each)
    [baseline]    naive rule (predicts the event); default: the training majority class
    [validation]  protocol (holdout | kfold | repeated_kfold), n_splits, n_repeats,
                  test_size, stratify, seed
    [model]       inner_valid_fraction, decision_threshold, [model.lightgbm] overrides
    [card]        sections (card sections TOML, relative to the spec)

Unknown keys are errors naming the file, section and key (``cin_ml.config``). Column names
are the file's own, whatever they hold (spaces, punctuation, accents, a trailing tab): the
model sees positional names (:func:`cin_ml.models.model_input_names`), people see these.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from cin_ml.config import Settings, read_toml, settings_from_dict
from cin_ml.errors import ConfigError
from cin_ml.external._rule import Rule, parse_rule
from cin_ml.models import ModelSettings

__all__ = ["SMALL_DATA_LIGHTGBM", "DatasetSpec", "load_spec", "spec_from_dict"]

#: LightGBM parameters chosen a priori for tables of a few hundred rows (not tuned on any
#: test fold): shallow trees (4 leaves), 20 rows per leaf at least, a slow learning rate,
#: row and column subsampling and an L2 penalty; the number of rounds is found by early
#: stopping on a validation part of each *training* fold (``inner_valid_fraction``).
SMALL_DATA_LIGHTGBM: dict = {"learning_rate": 0.05, "num_leaves": 4, "min_data_in_leaf": 20,
                             "feature_fraction": 0.8, "bagging_fraction": 0.8,
                             "bagging_freq": 1, "lambda_l2": 1.0, "max_rounds": 500,
                             "early_stopping_rounds": 30, "seed": 7, "num_threads": 0}

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


class LocalText(Settings):
    """A text for the card, in French and English."""

    fr: str = ""
    en: str = ""

    @model_validator(mode="after")
    def _both(self) -> LocalText:
        if bool(self.fr.strip()) != bool(self.en.strip()):
            raise ValueError("give the text in both fr and en")
        return self


class DatasetSection(Settings):
    name: str
    title: str | LocalText = ""
    population: LocalText = LocalText()
    file: str
    sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$")
    data_form: Literal["deidentified", "virtual"] = "deidentified"
    origin: str = ""
    licence: str = ""

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError("letters, digits, '_', '-' or '.', starting with a letter or "
                             "digit, at most 63 characters")
        return v


class FormatSection(Settings):
    separator: str = Field(",", min_length=1, max_length=1)
    encoding: str = "utf-8"
    bom: Literal["auto", "require", "forbid"] = "auto"
    quotechar: str = Field('"', min_length=1, max_length=1)
    decimal: str = Field(".", min_length=1, max_length=1)
    na_values: tuple[str, ...] = ("",)

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, v: str) -> str:
        try:
            codecs.lookup(v)
        except LookupError:
            raise ValueError(f"unknown encoding {v!r}") from None
        return v


class TargetSection(Settings):
    event: str
    name: str = "event"
    description: LocalText = LocalText()


class ColumnsSection(Settings):
    id: tuple[str, ...] = ()
    group: str | None = None
    exclude: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()


class SensitiveSection(Settings):
    columns: tuple[str, ...] = ()
    reference_groups: dict[str, str] = Field(default_factory=dict)
    features: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known(self) -> SensitiveSection:
        for key in ("reference_groups", "features"):
            unknown = [c for c in getattr(self, key) if c not in self.columns]
            if unknown:
                raise ValueError(f"{key}: {unknown} not in sensitive.columns")
        blank = [c for c, j in self.features.items() if not j.strip()]
        if blank:
            raise ValueError(f"features: {blank} need a written justification")
        return self


class BaselineSection(Settings):
    naive: str | None = None


class ValidationSection(Settings):
    protocol: Literal["holdout", "kfold", "repeated_kfold"] = "repeated_kfold"
    n_splits: int = Field(10, ge=2, le=100)
    n_repeats: int = Field(20, ge=1, le=1000)
    test_size: float = Field(0.25, gt=0, lt=1)
    stratify: bool = True
    seed: int = Field(0, ge=0)


class ModelSection(Settings):
    inner_valid_fraction: float = Field(0.2, ge=0, lt=1)
    decision_threshold: float = Field(0.5, gt=0, lt=1)
    lightgbm: dict = Field(default_factory=dict)


class CardSection(Settings):
    sections: str | None = None


class DatasetSpec(Settings):
    """A validated dataset spec. ``path`` is the spec file (relative paths resolve beside it);
    use :meth:`rule`, :meth:`naive_rule`, :meth:`data_path` and :meth:`lightgbm` rather than
    re-parsing the raw sections."""

    dataset: DatasetSection
    format: FormatSection = FormatSection()
    target: TargetSection
    columns: ColumnsSection = ColumnsSection()
    sensitive: SensitiveSection = SensitiveSection()
    baseline: BaselineSection = BaselineSection()
    validation: ValidationSection = ValidationSection()
    model: ModelSection = ModelSection()
    card: CardSection = CardSection()
    path: str = ""

    @property
    def name(self) -> str:
        return self.dataset.name

    @property
    def where(self) -> str:
        return self.path or "<spec>"

    def data_path(self) -> Path:
        p = Path(self.dataset.file)
        return p if p.is_absolute() or not self.path else Path(self.path).parent / p

    def card_sections_path(self) -> Path | None:
        if self.card.sections is None:
            return None
        p = Path(self.card.sections)
        return p if p.is_absolute() or not self.path else Path(self.path).parent / p

    def title(self) -> dict[str, str]:
        """``{"fr": ..., "en": ...}``: ``[dataset] title`` (one text serves both languages),
        else the spec's name."""
        t = self.dataset.title
        if isinstance(t, LocalText):
            return {"fr": t.fr.strip(), "en": t.en.strip()}
        return {"fr": t.strip() or self.name, "en": t.strip() or self.name}

    def rule(self) -> Rule:
        return parse_rule(self.target.event, f"{self.where} [target] event")

    def naive_rule(self) -> Rule | None:
        b = self.baseline.naive
        return None if b is None else parse_rule(b, f"{self.where} [baseline] naive")

    def lightgbm(self):
        """``cin_ml.models`` LightGBM settings: small-data defaults + ``[model.lightgbm]``."""
        return settings_from_dict(ModelSettings, {"lightgbm": {**SMALL_DATA_LIGHTGBM,
                                                               **self.model.lightgbm}},
                                  f"{self.where} [model.lightgbm]").lightgbm

    def to_dict(self) -> dict:
        return self.model_dump(mode="json")


def _cross_checks(spec: DatasetSpec) -> None:
    w = spec.where
    spec.rule()
    spec.naive_rule()
    spec.lightgbm()
    c, s = spec.columns, spec.sensitive
    if len(set(c.id)) != len(c.id):
        raise ConfigError(f"{w} [columns] id: a column is named twice in {list(c.id)}")
    roles = {"columns.id": c.id, "columns.exclude": c.exclude, "sensitive.columns": s.columns}
    seen: dict[str, str] = {}
    for key, cols in roles.items():
        for col in cols:
            if col in seen:
                raise ConfigError(f"{w}: column {col!r} is in both [{seen[col]}] and [{key}]")
            seen[col] = key
    target_cols = set(spec.rule().columns)
    for key, cols in roles.items():
        clash = sorted(target_cols & set(cols))
        if clash and key != "columns.exclude":
            raise ConfigError(f"{w}: target column(s) {clash} cannot also be in [{key}]")
    g = c.group
    if g is not None and (g in target_cols or g in s.columns):
        where = "[target] event" if g in target_cols else "[sensitive] columns"
        raise ConfigError(f"{w} [columns] group: column {g!r} is also in {where}")
    if spec.validation.protocol == "holdout" and spec.validation.n_repeats != 1 and \
            "n_repeats" in spec.validation.model_fields_set:
        raise ConfigError(f"{w} [validation]: n_repeats applies to repeated_kfold, "
                          f"not holdout")


def spec_from_dict(data: dict, path: Path | str | None = None) -> DatasetSpec:
    """Validate a spec given as a dict (``path``, when given, anchors relative paths).

    Raises
    ------
    ConfigError
        A missing or unknown key, a bad value or an inconsistent spec, naming the section.
    """
    where = str(path) if path is not None else "<spec>"
    if "path" in data:
        raise ConfigError(f"{where}: unknown key 'path'")
    spec = settings_from_dict(DatasetSpec, {**data, "path": str(path or "")}, where)
    _cross_checks(spec)
    return spec


def load_spec(path: Path | str) -> DatasetSpec:
    """Read and validate a dataset spec TOML file (see the module docstring for sections)."""
    p = Path(path)
    return spec_from_dict(read_toml(p), p)
