"""Generic entry point: a LightGBM model on a plain feature frame (no cohorts, no schema).

Used for tables that are not a CSS extract (``cin_ml.external``): the same encoding
(:func:`category_maps`, :func:`encode`) and early-stopped fit (:func:`fit_booster`) as
:func:`train_model`, with the number of rounds found on a validation part of the *training*
rows only, then a refit on all of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cin_ml.errors import DataError
from cin_ml.models._booster import category_maps, encode, fit_booster
from cin_ml.models._settings import LightGBMSettings


@dataclass(frozen=True)
class PlainModel:
    """A booster with its input contract. ``predict`` takes raw features (text categories)."""

    booster: object
    features: tuple[str, ...]
    category_maps: dict
    params: dict
    n_rounds: int

    def encode(self, X: pd.DataFrame) -> pd.DataFrame:
        return encode(X[list(self.features)], self.category_maps)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Probability of the event for raw features."""
        return self.booster.predict(self.encode(X))


def fit_plain(X: pd.DataFrame, y, settings: LightGBMSettings, *,
              inner_valid_fraction: float = 0.2, seed: int | None = None) -> PlainModel:
    """Fit a binary LightGBM model on a plain feature frame.

    Parameters
    ----------
    X
        Features; non-numeric columns are integer-coded (native categoricals).
    y
        0/1 labels (1 = the event).
    settings
        LightGBM settings (``[lightgbm]`` of configs/models.toml, or a spec's).
    inner_valid_fraction
        Share of ``X`` held out (stratified) to choose the number of rounds by early
        stopping; the model is then refit on all rows with that number. 0 = ``max_rounds``.
    seed
        Seed of the inner split and of LightGBM's sampling (default ``settings.seed``).

    Raises
    ------
    DataError
        A single class in ``y`` or in the inner split.
    """
    import lightgbm as lgb
    from sklearn.model_selection import train_test_split

    y = np.asarray(y, dtype=int)
    if len(np.unique(y)) < 2:
        raise DataError("fit_plain: the training rows have a single class")
    seed = settings.seed if seed is None else seed
    maps = category_maps(X)
    Xe = encode(X, maps)
    cats = list(maps)
    params = settings.params(n_rows=len(y), seed=seed)
    rounds = settings.max_rounds
    if inner_valid_fraction > 0:
        tr, va = train_test_split(np.arange(len(y)), test_size=inner_valid_fraction,
                                  stratify=y, random_state=seed)
        _, rounds = fit_booster(Xe.iloc[tr], y[tr], Xe.iloc[va], y[va], params,
                                settings.max_rounds, settings.early_stopping_rounds, cats)
    data = lgb.Dataset(Xe, label=y, categorical_feature=cats or "auto", free_raw_data=True)
    booster = lgb.train(params, data, num_boost_round=int(rounds))
    return PlainModel(booster, tuple(X.columns), maps, params, int(rounds))
