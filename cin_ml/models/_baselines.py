"""Baselines reported in every run: the traditional indicator, a logistic regression on the
model's features, and a context-only model (school and CSS context, no student history)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def logistic_baseline(X_train: pd.DataFrame, y_train: np.ndarray, X_test: pd.DataFrame,
                      c: float, max_iter: int) -> np.ndarray:
    """Median-imputed (with missingness indicators), standardized L2 logistic regression;
    returns test probabilities. ``X`` must already be numeric (encoded)."""
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    keep = [col for col in X_train.columns if X_train[col].notna().any()]
    pipe = make_pipeline(SimpleImputer(strategy="median", add_indicator=True),
                         StandardScaler(), LogisticRegression(C=c, max_iter=max_iter))
    pipe.fit(X_train[keep].to_numpy(), y_train)
    return pipe.predict_proba(X_test[keep].to_numpy())[:, 1]


#: What the context-only model sees: school, the school's IMSE decile and the cohort (the
#: grade is the task's, the same for every student). No student history at all.
CONTEXT_COLUMNS = ("school_id", "imse_decile", "cohort_year")


def context_frame(population: pd.DataFrame, X: pd.DataFrame) -> pd.DataFrame:
    """The context-only model's inputs for every student of a feature frame."""
    imse = X["imse_decile"] if "imse_decile" in X.columns else pd.Series(np.nan, X.index)
    return pd.DataFrame({"school_id": population["school_id"].astype("string").fillna("?"),
                         "imse_decile": pd.to_numeric(imse, errors="coerce"),
                         "cohort_year": population["cohort_year"].astype(float)},
                        index=population.index)


def context_baseline(train: pd.DataFrame, y_train: np.ndarray, test: pd.DataFrame,
                     c: float, max_iter: int) -> np.ndarray:
    """L2 logistic regression on one-hot school, IMSE decile and cohort (standardized);
    returns test probabilities. A school unseen in training counts as no school."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    num = make_pipeline(SimpleImputer(strategy="median", keep_empty_features=True),
                        StandardScaler())
    prep = ColumnTransformer([("school", OneHotEncoder(handle_unknown="ignore"), ["school_id"]),
                              ("num", num, ["imse_decile", "cohort_year"])])
    pipe = make_pipeline(prep, LogisticRegression(C=c, max_iter=max_iter))
    pipe.fit(train.astype({"school_id": object}), y_train)
    return pipe.predict_proba(test.astype({"school_id": object}))[:, 1]
