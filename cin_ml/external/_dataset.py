"""From a read table to the model's inputs: features, event labels, audit groups, the naive
baseline and the feature policy (who is a feature, who is not, and why)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cin_ml.errors import DataError
from cin_ml.external._read import file_sha256, read_table
from cin_ml.external._spec import DatasetSpec

__all__ = ["Dataset", "build_dataset", "load_dataset"]

# names cin-ml gives its own columns beside a spec's: the evaluation rows (sensitive columns
# join them), the test features and the contributions cache (features sit beside these)
_ROW_COLUMNS = ("student_id", "fold", "y_true", "score", "flagged", "naive", "majority")
_FEATURE_NEIGHBOURS = ("student_id", "base_value", "raw_score")


@dataclass(frozen=True)
class Dataset:
    """A spec's data ready for training; all frames indexed by ``student_id`` in file order.

    ``y`` is 1 for the event (the adverse outcome the model flags, e.g. ``G3 < 10``);
    ``naive`` the naive rule's prediction of the event (``None`` when the spec has none: the
    training folds' majority class is then the baseline); ``groups`` the sensitive columns
    as text (missing values become ``"(missing)"``); ``policy`` the feature policy record
    (same form as ``policy/feature_policy.json`` of a CSS run); ``group`` the
    ``[columns] group`` value of each row (``None`` without one): cross-validation keeps a
    group's rows in one fold. Column names are the file's own (any text).
    """

    spec: DatasetSpec
    X: pd.DataFrame
    y: np.ndarray
    groups: pd.DataFrame
    naive: np.ndarray | None
    policy: dict
    n_rows_file: int
    n_unlabelled: int
    sha256: str
    meta: dict = field(default_factory=dict)
    group: np.ndarray | None = None

    @property
    def ids(self) -> pd.Index:
        return self.X.index

    @property
    def features(self) -> tuple[str, ...]:
        return tuple(self.X.columns)

    def to_dict(self) -> dict:
        return {"dataset": self.spec.name, "file": str(self.spec.data_path()),
                "sha256": self.sha256, "n_rows_file": self.n_rows_file,
                "n_labelled": int(len(self.y)), "n_unlabelled": self.n_unlabelled,
                "n_events": int(self.y.sum()), "event_rate": round(float(self.y.mean()), 6),
                "event": self.spec.target.event, "event_name": self.spec.target.name,
                "naive_rule": self.spec.baseline.naive, "features": list(self.features),
                "sensitive": list(self.groups.columns), "id_columns": list(self.spec.columns.id),
                "group_column": self.spec.columns.group,
                "n_groups": None if self.group is None else int(len(set(self.group))),
                **self.meta}


def _decision(feature, role, included, reason, justification=None, sources=()) -> dict:
    return {"feature": feature, "role": role, "sources": list(sources) or [feature],
            "included": included, "reason": reason, "justification": justification}


def build_dataset(spec: DatasetSpec, table: pd.DataFrame, sha256: str = "") -> Dataset:
    """Turn a table read with :func:`read_table` into a :class:`Dataset`.

    Rows whose event is unknown (a column the target rule reads is missing) are left out and
    counted. The target rule's columns, id columns and ``[columns] exclude`` are never
    features; a sensitive column is a feature only with a justification in
    ``[sensitive] features``.

    Raises
    ------
    DataError
        No labelled row, a single class, a constant or empty feature set, or a sensitive
        column whose reference group does not occur.
    """
    where = str(spec.data_path())
    event = spec.rule().evaluate(table, where)
    known = event.notna().to_numpy()
    if not known.any():
        raise DataError(f"{where}: the target rule {spec.target.event!r} is unknown on "
                        f"every row")
    df = table.loc[known]
    y = event[known].astype(bool).to_numpy().astype(int)
    if y.min() == y.max():
        raise DataError(f"{where}: the target rule {spec.target.event!r} gives a single "
                        f"class ({'all events' if y[0] else 'no event'}) on "
                        f"{len(y)} labelled rows")
    if spec.columns.id:
        ids = df[list(spec.columns.id)].astype(str).agg("|".join, axis=1)
        if ids.duplicated().any():  # ("a|b", "c") and ("a", "b|c") join alike
            raise DataError(f"{where}: id columns {list(spec.columns.id)} joined with '|' "
                            f"give {ids[ids.duplicated()].iloc[0]!r} twice; rename the "
                            f"values or name the rows by line ([columns] id = [])")
    else:
        ids = pd.Series([f"row-{i + 2:05d}" for i in np.flatnonzero(known)], index=df.index)
    ids = pd.Index(ids.to_numpy(), name="student_id")
    gcol = spec.columns.group

    decisions, cols = [], []
    target_cols = set(spec.rule().columns)
    sens, just = spec.sensitive.columns, spec.sensitive.features
    for c in table.columns:
        if c in target_cols:
            decisions.append(_decision(c, "target", False, "read by the target rule"))
        elif c in spec.columns.id:
            decisions.append(_decision(c, "identifier", False, "id column"))
        elif c == gcol:
            decisions.append(_decision(c, "identifier", False,
                                       "group column: the rows of one person"))
        elif c in spec.columns.exclude:
            decisions.append(_decision(c, "excluded", False, "[columns] exclude in the spec"))
        elif c in sens and c not in just:
            decisions.append(_decision(c, "sensitive", False,
                                       "sensitive attribute: audited, not a feature"))
        elif c in sens:
            decisions.append(_decision(c, "sensitive", True, "justified sensitive feature",
                                       just[c]))
            cols.append(c)
        else:
            decisions.append(_decision(c, "student_feature", True, "student feature"))
            cols.append(c)
    X = df[cols].copy()
    for c in spec.columns.categorical:
        if c in X.columns:
            X[c] = X[c].astype("string")
    for c in X.columns:
        if not pd.api.types.is_numeric_dtype(X[c]) or pd.api.types.is_bool_dtype(X[c]):
            X[c] = X[c].astype("string")
    constant = [c for c in X.columns if X[c].nunique(dropna=True) <= 1]
    for d in decisions:
        if d["feature"] in constant:
            d.update(included=False, reason="constant on the labelled rows")
    X = X.drop(columns=constant)
    if X.shape[1] == 0:
        raise DataError(f"{where}: no feature left after the spec's exclusions")
    X.index = ids
    _check_own_names(spec, list(X.columns), where)

    groups = pd.DataFrame({c: df[c].astype("string").fillna("(missing)").to_numpy()
                           for c in sens}, index=ids)
    for c, ref in spec.sensitive.reference_groups.items():
        if ref not in set(groups[c]):
            raise DataError(f"{where}: reference group {c} = {ref!r} ([sensitive] "
                            f"reference_groups) does not occur; values: "
                            f"{sorted(set(groups[c]))[:8]}")
    naive = None
    rule = spec.naive_rule()
    if rule is not None:
        naive = rule.evaluate(df, where).fillna(False).astype(bool).to_numpy().astype(int)
    used = [d["feature"] for d in decisions if d["included"]]
    policy = {"features_used": used,
              "features_excluded": [d["feature"] for d in decisions if not d["included"]],
              "justifications": {d["feature"]: d["justification"] for d in decisions
                                 if d["justification"]},
              "decisions": decisions}
    group = None if gcol is None else df[gcol].astype(str).to_numpy()
    return Dataset(spec, X, y, groups, naive, policy, int(len(table)),
                   int((~known).sum()), sha256, group=group)


def _check_own_names(spec: DatasetSpec, features: list[str], where: str) -> None:
    """Any name is a column name, except the few cin-ml writes beside the spec's columns."""
    for c in spec.sensitive.columns:
        if c in _ROW_COLUMNS:
            raise DataError(f"{where}: sensitive column {c!r} ([sensitive] columns in "
                            f"{spec.where}) has a name the evaluation rows use "
                            f"({', '.join(_ROW_COLUMNS)}); rename it in the file")
        if "×" in c:
            raise DataError(f"{where}: sensitive column {c!r} ([sensitive] columns in "
                            f"{spec.where}) contains '×', which joins the names of audited "
                            f"pairs; rename it in the file")
    clash = [c for c in features if c in _FEATURE_NEIGHBOURS]
    if clash:
        raise DataError(f"{where}: feature column(s) {clash} have a name cin-ml uses beside "
                        f"the features ({', '.join(_FEATURE_NEIGHBOURS)}); rename them in the "
                        f"file or list them in [columns] exclude of {spec.where}")


def load_dataset(spec: DatasetSpec) -> Dataset:
    """Read the spec's file (:func:`read_table`) and build the :class:`Dataset`."""
    table = read_table(spec)
    return build_dataset(spec, table, file_sha256(spec.data_path()))
