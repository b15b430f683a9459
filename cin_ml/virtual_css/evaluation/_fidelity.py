"""Fidelity of a virtual CSS: SDMetrics quality and diagnostic reports on the wide student
tables (:mod:`cin_ml.virtual_css.synthesis`), prepared as SDMetrics expects them."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator

import numpy as np
import pandas as pd

_DISCRETE = ("mother_education", "birth_offset", "rep_grade", "rep_primary", "rep_secondary")


def _eval_frame(wide: pd.DataFrame) -> pd.DataFrame:
    df = wide.reset_index(drop=True).copy()
    for c in df.columns:
        if c in _DISCRETE:
            v = pd.to_numeric(df[c]).round()
            df[c] = v.map(lambda x: None if pd.isna(x) else str(int(x))).astype(object)
        elif pd.api.types.is_numeric_dtype(df[c]):
            df[c] = pd.to_numeric(df[c]).astype(float)
        else:
            df[c] = df[c].astype(object).where(df[c].notna(), None)
    return df


def _metadata(df: pd.DataFrame) -> dict:
    cols = {c: {"sdtype": "numerical" if pd.api.types.is_float_dtype(df[c]) else "categorical"}
            for c in df.columns}
    return {"tables": {"students": {"columns": cols}}}


@contextlib.contextmanager
def _sdmetrics_quiet() -> Iterator[None]:
    """Silence pandas' FutureWarning on object-dtype fillna downcasting that SDMetrics 0.32
    triggers (``CategoryAdherence``: ``fillna(np.nan)`` on an all-null category column); it is
    about SDMetrics' code, not the data, and would reach the user's terminal."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Downcasting object dtype arrays",
                                category=FutureWarning)
        yield


def _fidelity(real: pd.DataFrame, virt: pd.DataFrame, meta: dict, rows: int, seed: int) -> dict:
    """Quality on seeded subsamples of ``rows`` (pair trends cost O(rows x pairs)); validity
    (per-column, linear) on every row: a virtual value is valid if inside the range or the
    categories of *all* the real rows, not of a subsample that may miss the extremes."""
    from sdmetrics.reports import DiagnosticReport, QualityReport

    def cap(df):
        n = min(len(df), rows)
        return df.sample(n, random_state=seed).reset_index(drop=True) if n < len(df) else df

    q = QualityReport()
    d = DiagnosticReport()
    with _sdmetrics_quiet():
        q.generate({"students": cap(real)}, {"students": cap(virt)}, meta, verbose=False)
        d.generate({"students": real}, {"students": virt}, meta, verbose=False)
    props = q.get_properties().set_index("Property")["Score"]
    dprops = d.get_properties().set_index("Property")["Score"]
    shapes = q.get_details("Column Shapes")
    return {"quality": round(float(q.get_score()), 4),
            "column_shapes": round(float(props.get("Column Shapes", np.nan)), 4),
            "column_pair_trends": round(float(props.get("Column Pair Trends", np.nan)), 4),
            "validity": round(float(dprops.get("Data Validity", np.nan)), 4),
            "structure": round(float(dprops.get("Data Structure", np.nan)), 4),
            "per_column": {str(r["Column"]): round(float(r["Score"]), 4)
                           for _, r in shapes.iterrows()}}
