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
from cin_ml.models._names import model_input_names
from cin_ml.models._settings import LightGBMSettings


@dataclass(frozen=True)
class PlainModel:
    """A booster with its input contract. ``predict`` takes raw features (text categories).

    ``features`` are the table's own column names, in model order; the booster's inputs are
    the positional :func:`cin_ml.models.model_input_names` (any column name survives).
    """

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
              inner_valid_fraction: float = 0.2, seed: int | None = None,
              groups=None) -> PlainModel:
    """Fit a binary LightGBM model on a plain feature frame.

    Parameters
    ----------
    X
        Features, any column names (LightGBM sees positional names); non-numeric columns
        are integer-coded (native categoricals).
    y
        0/1 labels (1 = the event).
    settings
        LightGBM settings (``[lightgbm]`` of configs/models.toml, or a spec's).
    inner_valid_fraction
        Share of ``X`` held out (stratified) to choose the number of rounds by early
        stopping; the model is then refit on all rows with that number. 0 = ``max_rounds``.
    seed
        Seed of the inner split and of LightGBM's sampling (default ``settings.seed``).
    groups
        The group of each row (rows of one person): the inner split keeps a group on one
        side (``GroupShuffleSplit``, not stratified).

    Raises
    ------
    DataError
        A single class in ``y`` or in the inner split.
    """
    import lightgbm as lgb
    from sklearn.model_selection import GroupShuffleSplit, train_test_split

    y = np.asarray(y, dtype=int)
    if len(np.unique(y)) < 2:
        raise DataError("fit_plain: the training rows have a single class")
    seed = settings.seed if seed is None else seed
    maps = category_maps(X)
    names = model_input_names(X.shape[1])
    position = dict(zip(X.columns, names, strict=True))
    Xe = encode(X, maps).set_axis(names, axis=1)
    cats = [position[c] for c in maps]
    params = settings.params(n_rows=len(y), seed=seed)
    rounds = settings.max_rounds
    if inner_valid_fraction > 0:
        idx = np.arange(len(y))
        if groups is None:
            tr, va = train_test_split(idx, test_size=inner_valid_fraction, stratify=y,
                                      random_state=seed)
        else:
            tr, va = next(GroupShuffleSplit(n_splits=1, test_size=inner_valid_fraction,
                                            random_state=seed).split(idx, y, groups))
        _, rounds = fit_booster(Xe.iloc[tr], y[tr], Xe.iloc[va], y[va], params,
                                settings.max_rounds, settings.early_stopping_rounds, cats)
    data = lgb.Dataset(Xe, label=y, categorical_feature=cats or "auto", free_raw_data=True)
    booster = lgb.train(params, data, num_boost_round=int(rounds))
    return PlainModel(booster, tuple(X.columns), maps, params, int(rounds))
