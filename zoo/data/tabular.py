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
    if np.issubdtype(x.dtype, np.floating) and np.isnan(x).any():
        rows = np.unique(np.argwhere(np.isnan(x))[:, 0])
        raise v.invalid(
            "x", "features without NaN", f"NaN in {len(rows)} rows, first {rows[:5].tolist()}"
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
    )


class TableEncoder:
    """Standardise numeric columns and one-hot encode categorical ones.

    ``fit`` sees only the training rows; ``transform`` then works on any rows,
    including new data at prediction time.
    """

    def __init__(self, numeric: list[str], categorical: list[str]):
        self.numeric = list(numeric)
        self.categorical = list(categorical)
        self.mean: dict[str, float] = {}
        self.std: dict[str, float] = {}
        self.categories: dict[str, list[str]] = {}

    def fit(self, frame: pd.DataFrame) -> TableEncoder:
        for column in self.numeric:
            values = frame[column].astype("float64")
            self.mean[column] = float(values.mean())
            std = float(values.std(ddof=0))
            self.std[column] = std if std > 0 else 1.0
        for column in self.categorical:
            self.categories[column] = sorted(frame[column].astype(str).unique().tolist())
        return self

    @property
    def feature_names(self) -> list[str]:
        """Names of the encoded columns."""
        names = list(self.numeric)
        for column in self.categorical:
            names += [f"{column}={c}" for c in self.categories[column]]
        return names

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        missing = [c for c in self.numeric + self.categorical if c not in frame.columns]
        if missing:
            raise v.invalid(
                "data", f"a table with the training columns {missing}", list(frame.columns)
            )
        parts = []
        if self.numeric:
            values = frame[self.numeric].astype("float64").to_numpy()
            mean = np.array([self.mean[c] for c in self.numeric])
            std = np.array([self.std[c] for c in self.numeric])
            parts.append((values - mean) / std)
        for column in self.categorical:
            values = frame[column].astype(str).to_numpy()
            categories = np.array(self.categories[column])
            parts.append((values[:, None] == categories[None, :]).astype("float64"))
        if not parts:
            return np.zeros((len(frame), 0), "float32")
        return np.concatenate(parts, axis=1).astype("float32")


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
        extra={"target": target, "features": list(features)},
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
