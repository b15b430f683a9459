"""De-identify a source CSS extract into the contract's ``deidentified`` form.

What happens, table by table, driven by the roles in :mod:`cin_ml.schema`:

- direct identifiers that are not join keys (names, code permanent, birth date, postal code,
  teacher name) are dropped after ``birth_year`` and ``fsa`` are (re)derived from the birth
  date and postal code;
- join keys marked ``pseudonymize`` (``student_id``, ``teacher_id``) become keyed pseudonyms
  (:mod:`._pseudonym`), the same in every table; surrogate keys listed in
  ``[deidentify] rekey_columns`` are re-keyed too (strings → pseudonyms, integers →
  renumbered) so that no source row id survives;
- quasi-identifiers are generalized and suppressed until k-anonymity holds
  (:mod:`._kanon`); a suppressed student disappears from every table;
- every table is re-sorted by its (pseudonymized) primary key, so row order says nothing of
  the source order, and the result is validated with ``validate_extract(form="deidentified")``;
- free-text columns (``Column.free_text``: absence reasons) are scrubbed of
  identifier-shaped tokens first: codes permanents, dates, postal codes, the source's own
  names and ids (:mod:`._scrub`).

The ground truth of a simulation can be re-keyed with the same pseudonyms
(:func:`pseudonymize_truth`, duck-typed: this package never imports the simulator) for
evaluation only; the pipeline writes it apart.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from cin_ml.config import Settings, load_settings
from cin_ml.errors import ConfigError, PolicyError
from cin_ml.schema import TABLES, Role, validate_extract
from cin_ml.virtual_css.deidentification._kanon import HIERARCHIES, anonymize_quasi_identifiers
from cin_ml.virtual_css.deidentification._pseudonym import PseudonymKey, pseudonymize_values
from cin_ml.virtual_css.deidentification._scrub import scrub_free_text

__all__ = ["DeidentificationReport", "Deidentified", "DeidentifyConfig", "deidentify",
           "pseudonymize_truth", "REQUIRED_TABLES"]

REQUIRED_TABLES = ("css", "schools", "students", "enrolments", "marks")
"""Tables a source extract must hold to be de-identified (the others are optional)."""


class DeidentifyConfig(Settings):
    """``[deidentify]`` section of ``configs/virtual_css.toml``."""

    quasi_identifiers: tuple[str, ...] = ("css_id", "cohort_year", "birth_year", "fsa", "sex")
    k: int = 5
    max_suppression_rate: float = 0.02
    max_record_suppression_rate: float = 0.10
    min_key_bytes: int = 16
    rekey_columns: tuple[str, ...] = ("absence_id", "class_group_id")

    @classmethod
    def load(cls, path: Path | str | None = None) -> DeidentifyConfig:
        cfg = load_settings(cls, "virtual_css", path, section="deidentify")
        where = f"[deidentify] in {path or 'configs/virtual_css.toml'}"
        if cfg.k < 1:
            raise ConfigError(f"{where}: k must be ≥ 1; got {cfg.k}")
        for name in ("max_suppression_rate", "max_record_suppression_rate"):
            if not 0 <= getattr(cfg, name) <= 1:
                raise ConfigError(f"{where}: {name} must be in [0, 1]; got {getattr(cfg, name)}")
        return cfg


@dataclass(frozen=True)
class DeidentificationReport:
    """What de-identification did (JSON-safe via :meth:`to_dict`; holds no identifier)."""

    key_id: str
    key_source: str
    demo_key: bool
    k: int
    quasi_identifiers: tuple[str, ...]
    k_before: int
    k_after: int
    n_classes_after: int
    generalization: dict[str, str]
    n_students_in: int
    n_students_out: int
    n_cells_suppressed: int
    n_records_suppressed: int
    dropped_columns: dict[str, list[str]]
    pseudonymized_columns: dict[str, list[str]]
    rekeyed_columns: dict[str, list[str]]
    rows: dict[str, dict[str, int]] = field(default_factory=dict)
    free_text_scrubbed: dict[str, int] = field(default_factory=dict)

    @property
    def record_suppression_rate(self) -> float:
        return self.n_records_suppressed / max(self.n_students_in, 1)

    def to_dict(self) -> dict:
        key_source = "file" if self.key_source.startswith("file:") else self.key_source
        return {
            "key": {"key_id": self.key_id, "source": key_source, "demo": self.demo_key},
            "k_anonymity": {
                "k_target": self.k, "quasi_identifiers": list(self.quasi_identifiers),
                "k_before": self.k_before, "k_after": self.k_after,
                "n_classes_after": self.n_classes_after,
                "generalization": dict(sorted(self.generalization.items())),
                "n_cells_suppressed": self.n_cells_suppressed,
                "n_records_suppressed": self.n_records_suppressed,
                "record_suppression_rate": round(self.record_suppression_rate, 6),
            },
            "n_students_in": self.n_students_in, "n_students_out": self.n_students_out,
            "dropped_columns": dict(sorted(self.dropped_columns.items())),
            "pseudonymized_columns": dict(sorted(self.pseudonymized_columns.items())),
            "rekeyed_columns": dict(sorted(self.rekeyed_columns.items())),
            "rows": dict(sorted(self.rows.items())),
            "free_text_scrubbed": dict(sorted(self.free_text_scrubbed.items())),
        }


@dataclass(frozen=True)
class Deidentified:
    """A de-identified extract (``tables``, deidentified form) and its report.

    ``text_map`` maps each free-text value that was scrubbed to its scrubbed text, for
    :func:`pseudonymize_truth`; it holds raw source text: never write it."""

    tables: dict[str, pd.DataFrame]
    report: DeidentificationReport
    text_map: dict[str, str] = field(default_factory=dict, repr=False)


def _qi_frame(tables: Mapping[str, pd.DataFrame], qis: tuple[str, ...]) -> pd.DataFrame:
    students = tables["students"].set_index("student_id", drop=False)
    cols = {}
    for q in qis:
        if q == "school_id":
            enr = tables["enrolments"].sort_values(["student_id", "school_year"])
            cols[q] = enr.groupby("student_id")["school_id"].first().reindex(students.index)
        elif q in students.columns and q != "student_id":
            if TABLES["students"].column(q).role == Role.DIRECT_IDENTIFIER:
                raise ConfigError(f"[deidentify] quasi_identifiers: '{q}' is a direct "
                                  "identifier (it is dropped, not generalized)")
            cols[q] = students[q]
        else:
            raise ConfigError(f"[deidentify] quasi_identifiers: unknown column '{q}' "
                              "(students columns or school_id)")
    return pd.DataFrame(cols, index=students.index)


def _rekey(df: pd.DataFrame, col: str, key: PseudonymKey) -> pd.DataFrame:
    if pd.api.types.is_integer_dtype(df[col]):
        # integers cannot hold a pseudonym: renumber in an order that depends only on the
        # pseudonymized content, never on the source numbering
        sort_cols = [c for c in ("student_id", "school_year", "date", "hours", "reason_raw")
                     if c in df.columns]
        order = df.sort_values(sort_cols + [col], kind="mergesort").index
        new = pd.Series(range(len(df)), index=order, dtype="int64")
        return df.assign(**{col: new.reindex(df.index)})
    return df.assign(**{col: pseudonymize_values(df[col], key, col)})


def deidentify(tables: Mapping[str, pd.DataFrame], key: PseudonymKey,
               config: DeidentifyConfig | None = None,
               progress: Callable[[str], None] | None = None) -> Deidentified:
    """De-identify a source extract (see the module docstring for the steps).

    Parameters
    ----------
    tables
        Source-form contract tables; must hold :data:`REQUIRED_TABLES`.
    key
        The pseudonymization secret (:func:`resolve_pseudonym_key`).
    config
        Policy (``[deidentify]`` of ``configs/virtual_css.toml`` by default).
    progress
        Called with a short message at each step.

    Raises
    ------
    SchemaError
        The input breaks the source contract (named table, column, rows).
    PolicyError
        k-anonymity would need more record suppression than ``max_record_suppression_rate``.
    """
    cfg = config or DeidentifyConfig.load()
    say = progress or (lambda _m: None)
    src = validate_extract(tables, required=REQUIRED_TABLES, form="source")
    say(f"validated source extract ({len(src['students']):,} students)")

    students = src["students"].copy()
    students["birth_year"] = students["birth_date"].dt.year.astype("Int64")
    students["fsa"] = students["postal_code"].astype(str).str.replace(" ", "").str[:3].str.upper()
    src = {**src, "students": students}
    src, text_map, scrubbed = scrub_free_text(src)
    if scrubbed:
        say(f"scrubbed identifier-shaped text from {sum(scrubbed.values()):,} free-text "
            f"value(s) ({', '.join(sorted(scrubbed))})")

    qi = _qi_frame(src, cfg.quasi_identifiers)
    res = anonymize_quasi_identifiers(qi, cfg.quasi_identifiers, cfg.k, cfg.max_suppression_rate)
    n_in = len(students)
    n_sup = len(res.suppressed_index)
    if n_sup > cfg.max_record_suppression_rate * n_in:
        raise PolicyError(
            f"k-anonymity (k={cfg.k}) over {', '.join(cfg.quasi_identifiers)} would suppress "
            f"{n_sup:,} of {n_in:,} students (> max_record_suppression_rate "
            f"{cfg.max_record_suppression_rate}); coarsen the quasi-identifiers in "
            "[deidentify] of configs/virtual_css.toml")
    say(f"k-anonymity k={cfg.k}: k {res.before.k} → {res.after.k}, generalized "
        f"{res.levels}, {res.n_cells_suppressed} cells and {n_sup} students suppressed")
    gone = set(res.suppressed_index)
    recoded = res.frame
    keep = students["student_id"].isin(recoded.index)
    students = students.loc[keep].copy()
    for col in HIERARCHIES:
        if col in recoded.columns and col in students.columns:
            vals = recoded[col].reindex(students["student_id"]).to_numpy()
            students[col] = pd.array(vals, dtype="Int64" if col == "birth_year" else object)
    src = {**src, "students": students}

    out: dict[str, pd.DataFrame] = {}
    dropped: dict[str, list[str]] = {}
    pseudo: dict[str, list[str]] = {}
    rekeyed: dict[str, list[str]] = {}
    rows: dict[str, dict[str, int]] = {}
    for name, df in src.items():
        if name not in TABLES:
            continue
        spec = TABLES[name]
        n_rows = len(tables[name])
        if "student_id" in df.columns and name != "students":
            df = df.loc[~df["student_id"].isin(gone)]
        drop = [c.name for c in spec.columns
                if c.role == Role.DIRECT_IDENTIFIER and not c.pseudonymize and c.name in df]
        df = df.drop(columns=drop + [c for c in df.columns if c not in spec.column_names])
        for c in spec.columns:
            if c.pseudonymize and c.name in df:
                df = df.assign(**{c.name: pseudonymize_values(df[c.name], key, c.name)})
                pseudo.setdefault(name, []).append(c.name)
        for col in cfg.rekey_columns:
            if col in df.columns:
                df = _rekey(df, col, key)
                rekeyed.setdefault(name, []).append(col)
        df = df.sort_values(list(spec.primary_key), kind="mergesort").reset_index(drop=True)
        out[name] = df
        if drop:
            dropped[name] = drop
        rows[name] = {"in": n_rows, "out": len(df)}
    out = validate_extract(out, required=REQUIRED_TABLES, form="deidentified")
    say("pseudonymized identifiers and validated the de-identified extract")
    report = DeidentificationReport(
        key_id=key.key_id, key_source=key.source, demo_key=key.demo, k=cfg.k,
        quasi_identifiers=tuple(cfg.quasi_identifiers), k_before=res.before.k,
        k_after=res.after.k, n_classes_after=res.after.n_classes, generalization=res.levels,
        n_students_in=n_in, n_students_out=len(out["students"]),
        n_cells_suppressed=res.n_cells_suppressed, n_records_suppressed=n_sup,
        dropped_columns=dropped, pseudonymized_columns=pseudo, rekeyed_columns=rekeyed,
        rows=rows, free_text_scrubbed=scrubbed)
    return Deidentified(out, report, text_map)


def pseudonymize_truth(truth, key: PseudonymKey, keep_students=None, text_map=None):
    """Re-key a simulation ground truth with the extract's pseudonyms (evaluation only).

    Every frame of ``truth`` with a ``student_id`` column gets pseudonyms; with
    ``keep_students`` (pseudonyms of the de-identified extract) students suppressed by
    k-anonymity are dropped too; with ``text_map`` (``Deidentified.text_map``) raw absence
    reasons are scrubbed as in the extract. Returns a record of the same type.
    """
    changes = {}
    for name, value in vars(truth).items():
        if (text_map and isinstance(value, pd.DataFrame) and "reason_raw" in value.columns
                and "student_id" not in value.columns):
            changes[name] = value.assign(reason_raw=value["reason_raw"].replace(text_map))
        if isinstance(value, pd.DataFrame) and "student_id" in value.columns:
            df = value.assign(student_id=pseudonymize_values(value["student_id"], key,
                                                              "student_id"))
            if keep_students is not None:
                df = df.loc[df["student_id"].isin(set(keep_students))]
            changes[name] = df.sort_values("student_id", kind="mergesort").reset_index(drop=True)
    return replace(truth, **changes)
