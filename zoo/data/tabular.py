"""Numpy arrays, pandas DataFrames and CSV files as zoo examples.

DataFrame features are encoded with statistics learned on the training split only:
numeric columns are standardised, categorical ones (strings, categories, booleans)
one-hot encoded, with categories unseen in training mapped to all zeros.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from zoo import _validation as v
from zoo.data.examples import Examples, fingerprint, prepare_targets

TARGET_GUESSES = ("target", "label", "labels", "class", "y")


def from_arrays(x: Any, y: Any, task: str | None) -> Examples:
    """Examples from feature and label arrays of the same length."""
    x = np.asarray(x)
    if x.dtype == object or not np.issubdtype(x.dtype, np.number):
        raise v.invalid("x", "a numeric array", f"array of dtype {x.dtype}", TypeError)
    if x.ndim < 2:
        raise v.invalid("x", "an array of shape (examples, features...)", x.shape)
    y = np.asarray(y)
    if len(x) != len(y):
        raise v.invalid("y", f"one label per example ({len(x)} examples in x)", f"{len(y)} labels")
    if np.issubdtype(x.dtype, np.floating) and not np.isfinite(x).all():
        rows = np.unique(np.argwhere(~np.isfinite(x))[:, 0])
        raise v.invalid(
            "x",
            "finite features (no NaN or infinity)",
            f"NaN or infinity in {len(rows)} rows, first {rows[:5].tolist()}",
        )
    y, task, names = prepare_targets(y, task)
    x = x.astype("float32") if not np.issubdtype(x.dtype, np.integer) else x
    return Examples(
        x=x,
        y=y,
        task=task,
        class_names=names,
        kind="array",
        source=f"numpy arrays {tuple(x.shape)}",
        fingerprint=fingerprint(x, y),
        extra={"pixels": x.ndim == 4 and x.dtype == np.uint8},  # raw 0-255 images
    )


class TableEncoder:
    """Standardise numeric columns and one-hot encode categorical ones (Keras FeatureSpace).

    ``fit`` sees only the training rows; ``transform`` then works on any rows,
    including new data at prediction time. Each categorical column gets one
    column per category seen in training plus one, first, for unseen categories.
    The same fitted layers are :attr:`preprocessor`, which saved models carry.
    """

    def __init__(self, numeric: list[str], categorical: list[str]):
        self.numeric = list(numeric)
        self.categorical = list(categorical)
        self.space = None

    def columns(self, frame: pd.DataFrame) -> dict[str, np.ndarray]:
        """The feature columns as a model's raw inputs: 1-D float32 or str (object) arrays."""
        missing = [c for c in self.numeric + self.categorical if c not in frame.columns]
        if missing:
            raise v.invalid(
                "data", f"a table with the training columns {missing}", list(frame.columns)
            )
        columns = {}
        for column in self.numeric:
            columns[column] = frame[column].to_numpy(dtype="float32")
        for column in self.categorical:
            values = frame[column].astype(object).where(frame[column].notna(), "<missing>")
            columns[column] = values.astype(str).to_numpy(dtype=object)
        return columns

    def fit(self, frame: pd.DataFrame) -> TableEncoder:
        import keras
        import tensorflow as tf

        space = keras.utils.FeatureSpace
        features = {c: space.float_normalized(name=f"normalize_{c}") for c in self.numeric}
        features |= {
            c: space.string_categorical(name=f"categories_{c}", num_oov_indices=1)
            for c in self.categorical
        }
        self.space = space(features, output_mode="concat", name="table_encoding")
        columns = self.columns(frame)
        self.space.adapt(tf.data.Dataset.from_tensor_slices(columns).batch(4096))
        for column in self.numeric:  # a column constant in training: scale 1, not 1/epsilon
            normalize = self.space.preprocessors[column]
            if float(np.asarray(normalize.adapt_variance).max()) == 0.0:
                normalize.adapt_variance.assign(np.ones(normalize.adapt_variance.shape))
                normalize.finalize_state()
        return self

    @property
    def feature_names(self) -> list[str]:
        """Names of the encoded columns, in order (``city=<unseen>`` for unseen categories)."""
        names = []
        for column in sorted(self.numeric + self.categorical):  # FeatureSpace's order
            if column in self.numeric:
                names.append(column)
                continue
            lookup = self.space.preprocessors[column]
            vocabulary = lookup.get_vocabulary()[1:]  # index 0: out of vocabulary
            names += [f"{column}=<unseen>"] + [f"{column}={c}" for c in vocabulary]
        return names

    @property
    def preprocessor(self):
        """A ``keras.Model`` from a dict of raw columns to encoded rows."""
        from zoo.data import inputs

        return inputs.table(self.space)

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        import keras

        if not self.numeric and not self.categorical:
            return np.zeros((len(frame), 0), "float32")
        encoded = self.space(self.columns(frame))
        return keras.ops.convert_to_numpy(encoded).astype("float32")


def _pick_target(frame: pd.DataFrame, target: str | None) -> str:
    columns = [str(c) for c in frame.columns]
    if target is None:
        for guess in TARGET_GUESSES:
            if guess in columns:
                return guess
        raise v.invalid(
            "target",
            f"the name of the target column (none of {list(TARGET_GUESSES)} is present); "
            f"columns: {columns}",
            None,
        )
    if target not in columns:
        close = difflib.get_close_matches(str(target), columns, n=3)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise v.ArgumentValueError(
            f"Unknown target column {target!r}.{hint} Columns: {columns}. "
            f"Received: target={target!r}"
        )
    return target


def from_frame(
    frame: pd.DataFrame,
    *,
    target: str | None,
    features: list[str] | None,
    task: str | None,
    source: str = "pandas DataFrame",
) -> Examples:
    """Examples from a DataFrame with feature columns and a target column."""
    if frame.empty:
        raise v.invalid("data", "a non-empty table", f"{source} with {len(frame)} rows")
    frame = frame.rename(columns=str)
    target = _pick_target(frame, target)
    if features is None:
        features = [c for c in frame.columns if c != target]
    else:
        if not isinstance(features, (list, tuple)) or not features:
            raise v.invalid("features", "a non-empty list of column names", features, TypeError)
        unknown = [c for c in features if c not in frame.columns]
        if unknown:
            raise v.invalid("features", f"columns of the table {list(frame.columns)}", unknown)
        if target in features:
            raise v.invalid("features", f"columns other than the target {target!r}", features)
    numeric = [
        c
        for c in features
        if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
    ]
    categorical = [c for c in features if c not in numeric]
    with_nan = {c: int(frame[c].isna().sum()) for c in numeric if frame[c].isna().any()}
    if with_nan:
        raise v.invalid(
            "data",
            "numeric feature columns without missing values (fill or drop them first)",
            f"NaN counts {with_nan}",
        )
    infinite = {
        c: np.flatnonzero(np.isinf(frame[c].to_numpy(dtype="float64")))[:5].tolist()
        for c in numeric
    }
    infinite = {c: rows for c, rows in infinite.items() if rows}
    if infinite:  # one inf would make a column's mean infinite and every row NaN
        raise v.invalid(
            "data",
            "finite numeric feature columns (no infinity; replace or drop those rows)",
            f"infinity in column(s) {sorted(infinite)} at rows {infinite}",
        )
    frame = frame.copy()
    for column in categorical:
        frame[column] = frame[column].astype(object).where(frame[column].notna(), "<missing>")
    y, task, names = prepare_targets(
        frame[target].to_numpy(), task, name=f"target column {target!r}"
    )
    x = frame[features].reset_index(drop=True)
    return Examples(
        x=x,
        y=y,
        task=task,
        class_names=names,
        kind="table",
        source=source,
        fingerprint=fingerprint(pd.util.hash_pandas_object(frame, index=False).to_numpy()),
        make_encoder=lambda: TableEncoder(numeric, categorical),
        extra={
            "target": target,
            "features": list(features),
            "numeric": numeric,
            "categorical": categorical,
        },
    )


def from_csv(path: str | os.PathLike, **kwargs: Any) -> Examples:
    """Examples from a CSV file (see :func:`from_frame`)."""
    path = Path(path)
    try:
        frame = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise v.invalid(
            "source", "a CSV file with a header and rows", f"empty file {path}"
        ) from None
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise v.invalid("source", "a readable CSV file", f"{path}: {error}") from None
    return from_frame(frame, source=f"CSV {path}", **kwargs)
