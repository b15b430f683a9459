"""Evidently and NannyML on the files benchmarks/monitor.py wrote (run in the separate
benchmark venv: both libraries conflict with, or would bloat, the pinned stack).

Reads <dir>/ref_X.parquet, cur_X.parquet, shift_X.parquet, ref_pred.parquet (y, p, flag),
cur_pred.parquet (p, flag); writes <dir>/libs.json: Evidently's PSI per input (its psi stat
test, default binning: Sturges equal-width bins over both samples for > 20 distinct values,
else one bin per value; missing values dropped) and NannyML's CBPE estimate of ROC AUC and
recall (one chunk = the whole cohort), each with its time.
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from pathlib import Path

import pandas as pd

warnings.filterwarnings("ignore")


def main(folder: Path) -> None:
    ref_X = pd.read_parquet(folder / "ref_X.parquet")
    cur_X = pd.read_parquet(folder / "cur_X.parquet")
    shift_X = pd.read_parquet(folder / "shift_X.parquet")
    ref_pred = pd.read_parquet(folder / "ref_pred.parquet")
    cur_pred = pd.read_parquet(folder / "cur_pred.parquet")
    out: dict = {}

    t = time.perf_counter()
    import evidently
    from evidently.legacy.calculations.stattests import psi_stat_test
    from evidently.legacy.core import ColumnType
    out["evidently_import_s"] = time.perf_counter() - t

    def psi_all(cur: pd.DataFrame) -> dict:
        psi = {}
        for c in ref_X.columns:
            r, k = ref_X[c].dropna(), cur[c].dropna()
            kind = ColumnType.Numerical if r.nunique() > 20 else ColumnType.Categorical
            psi[c] = float(psi_stat_test(r, k, kind, 0.1).drift_score)
        return psi

    t = time.perf_counter()
    psi = psi_all(cur_X)
    out["evidently"] = {"version": evidently.__version__, "psi": psi,
                        "seconds": time.perf_counter() - t, "psi_shift": psi_all(shift_X)}

    t = time.perf_counter()
    import nannyml as nml
    out["nannyml_import_s"] = time.perf_counter() - t
    t = time.perf_counter()
    est = nml.CBPE(y_pred_proba="p", y_pred="flag", y_true="y",
                   problem_type="classification_binary", metrics=["roc_auc", "recall"],
                   chunk_number=1)
    est.fit(ref_pred.assign(flag=ref_pred["flag"].astype(int), y=ref_pred["y"].astype(int)))
    res = est.estimate(cur_pred.assign(flag=cur_pred["flag"].astype(int))).to_df()
    row = res.iloc[-1]

    def get(metric, what):
        return float(row[(metric, what)])

    out["nannyml"] = {"version": nml.__version__, "seconds": time.perf_counter() - t,
                      "auc": get("roc_auc", "value"),
                      "auc_interval": [get("roc_auc", "lower_confidence_boundary"),
                                       get("roc_auc", "upper_confidence_boundary")],
                      "recall": get("recall", "value"),
                      "recall_interval": [get("recall", "lower_confidence_boundary"),
                                          get("recall", "upper_confidence_boundary")]}
    (folder / "libs.json").write_text(json.dumps(out, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
