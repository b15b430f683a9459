"""Baselines reported in every run: the traditional indicator and a logistic regression."""

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
