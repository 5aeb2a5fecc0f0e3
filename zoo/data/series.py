"""Time series as zoo examples: ``(n, length, channels)`` floats, one label per series.

Three ways in:

- a 3-D float numpy array ``(n, length, channels)`` (uint8 and integer arrays keep
  their old meaning: pixels and raw arrays);
- a DataFrame or CSV in *wide* form (``series="wide"``): one row per series, a target
  column, and the values at each time step in the other columns, in column order (one
  channel);
- a DataFrame or CSV in *long* form (``series="long"``): one row per time step, with a
  series id column, an optional time column that orders the steps (else the rows'
  order), one or more numeric channel columns and a target constant within a series.

Every series must have the same length: zoo does not pad. A padded series would need
a mask that every layer of the network honours, and Conv1D, Flatten and Dense layers
ignore masks, so zeros would silently count as data. Series of several lengths are
refused with the lengths found and how to resample or truncate them.

Each channel is standardised with the mean and variance of the training split only
(:class:`SeriesScaler`); the pipelines apply it per batch, and the same statistics are
a ``keras.layers.Normalization`` in ``Data.preprocessor``, which models that zoo trains
carry, so a saved model takes raw series.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from zoo import _validation as v
from zoo.data import tabular
from zoo.data.examples import Examples, fingerprint, prepare_targets

FORMS = ("wide", "long")


def is_series_array(x: np.ndarray) -> bool:
    """Whether an array of examples is read as series: 3-D (n, length, channels) floats."""
    return x.ndim == 3 and np.issubdtype(x.dtype, np.floating)


class SeriesScaler:
    """Per-channel standardisation, fitted on the training series only.

    ``fit`` takes ``(n, length, channels)`` training series; ``transform`` then works
    on any series of that shape. A channel constant in training gets variance 1, so it
    is centred, not blown up. :attr:`preprocessor` is the same scaling as a Keras
    ``Normalization`` layer, which saved models carry.

    Example:
        >>> scaler = SeriesScaler().fit(np.array([[[0.0, 5.0], [2.0, 5.0]]]))
        >>> scaler.mean.tolist(), scaler.variance.tolist()
        ([1.0, 5.0], [1.0, 1.0])
        >>> scaler.transform(np.array([[[3.0, 6.0], [1.0, 5.0]]])).tolist()
        [[[2.0, 1.0], [0.0, 0.0]]]
    """

    def __init__(self):
        self.mean: np.ndarray | None = None
        self.variance: np.ndarray | None = None
        self.shape: tuple[int, int] | None = None

    def fit(self, x: np.ndarray) -> SeriesScaler:
        x = np.asarray(x)
        self.shape = tuple(x.shape[1:])
        self.mean = x.mean(axis=(0, 1), dtype="float64").astype("float32")
        variance = x.var(axis=(0, 1), dtype="float64")
        self.variance = np.where(variance > 0, variance, 1.0).astype("float32")
        return self

    @property
    def scale(self) -> np.ndarray:
        """What the centred values are divided by: ``Normalization``'s max(std, epsilon)."""
        import keras

        return np.maximum(np.sqrt(self.variance), np.float32(keras.config.epsilon()))

    def transform(self, x: Any) -> np.ndarray:
        """Standardise raw series ``(n, length, channels)`` (or one ``(length, channels)``)."""
        x = np.asarray(x, dtype="float32")
        if x.shape[-2:] != self.shape:
            raise v.invalid(
                "series",
                f"series of shape (n, {self.shape[0]}, {self.shape[1]}) (length, channels), "
                "as in training",
                x.shape,
            )
        return (x - self.mean) / self.scale

    def tf_transform(self) -> Callable[[Any], Any]:
        """:meth:`transform` as a TensorFlow function, for ``tf.data`` batches."""
        import tensorflow as tf

        mean, scale = tf.constant(self.mean), tf.constant(self.scale)
        return lambda x: (tf.cast(x, tf.float32) - mean) / scale

    @property
    def preprocessor(self):
        """A ``keras.Model`` from raw series to standardised ones."""
        from zoo.data import inputs

        return inputs.series(*self.shape, mean=self.mean, variance=self.variance)


def from_arrays(examples: Examples) -> Examples:
    """Array examples of 3-D floats made series (standardised per channel in training)."""
    x = examples.x
    if x.shape[1] == 0 or x.shape[2] == 0:
        raise v.invalid(
            "x", "series of shape (n, length, channels) with at least one step and channel", x.shape
        )
    return dataclasses.replace(
        examples,
        kind="series",
        make_encoder=SeriesScaler,
        source=f"numpy series {tuple(x.shape)}",
        extra={"form": "array", "channel_names": None},
    )


def check_options(
    series: Any, id_column: Any, time_column: Any, categorical: Any
) -> dict[str, Any] | None:
    """The checked ``series=`` options of :func:`zoo.data.load`, or None for no series."""
    if series is None:
        for name, value in (("id_column", id_column), ("time_column", time_column)):
            if value is not None:
                raise v.invalid(name, "given only with series='long'", value)
        return None
    v.check_choice("series", series, FORMS)
    v.check_str("id_column", id_column, allow_none=True)
    v.check_str("time_column", time_column, allow_none=True)
    if series == "long" and id_column is None:
        raise v.invalid(
            "id_column",
            "the column naming the series each row belongs to, for series='long'",
            None,
        )
    if series == "wide" and time_column is not None:
        raise v.invalid(
            "time_column",
            "None for series='wide' (its time steps are the value columns, in order)",
            time_column,
        )
    if categorical is not None:
        raise v.invalid("categorical", "None for series (channels are numbers)", categorical)
    return {"form": series, "id_column": id_column, "time_column": time_column}


def _column(frame: pd.DataFrame, name: str, what: str) -> str:
    columns = list(frame.columns)
    if name not in columns:
        close = difflib.get_close_matches(str(name), columns, n=3)
        hint = f" (did you mean {', '.join(map(repr, close))}?)" if close else ""
        raise v.invalid(what, f"a column of the table {columns}{hint}", name)
    return name


def _channels(
    frame: pd.DataFrame, features: Any, exclude: list[str], source: str, rows
) -> list[str]:
    """The numeric value columns: `features`, or every column not in `exclude`."""
    if features is None:
        channels = [c for c in frame.columns if c not in exclude]
    else:
        if not isinstance(features, (list, tuple)) or not features:
            raise v.invalid("features", "a non-empty list of column names", features, TypeError)
        for column in features:
            _column(frame, column, "features")
        taken = [c for c in features if c in exclude]
        if taken:
            raise v.invalid("features", f"value columns, none of {exclude}", features)
        if len(set(features)) != len(features):
            raise v.invalid("features", "column names, each once", features)
        channels = list(features)
    if not channels:
        raise v.invalid(
            "data",
            f"a table with value columns besides {exclude}",
            f"{source} with columns {list(frame.columns)}",
        )
    numeric = [
        c
        for c in channels
        if pd.api.types.is_numeric_dtype(frame[c])
        and not pd.api.types.is_bool_dtype(frame[c])
        and frame[c].dtype.kind != "c"
    ]
    other = [c for c in channels if c not in numeric]
    if other:
        shown = ", ".join(f"{c!r} ({frame[c].dtype})" for c in other[:5])
        raise v.invalid(
            "data",
            "series values that are real numbers in every value column (convert or "
            "leave out the other columns with features=[...])",
            f"{source} with non-numeric value column(s) {shown}",
        )
    tabular._check_columns(frame, channels, [], rows)  # NaN and infinity, with their rows
    return channels


def _ids_shown(ids: Any) -> str:
    ids = list(ids)
    more = f" (and {len(ids) - 5} more)" if len(ids) > 5 else ""
    return f"{[i.item() if hasattr(i, 'item') else i for i in ids[:5]]}{more}"


def from_frame(
    frame: pd.DataFrame,
    *,
    form: str,
    target: str | None,
    features: list[str] | None,
    task: str | None,
    id_column: str | None = None,
    time_column: str | None = None,
    source: str = "pandas DataFrame",
    rows: Callable[[np.ndarray], str] | None = None,
    min_classes: int = 2,
) -> Examples:
    """Series examples from a wide or long DataFrame (see the module's docstring)."""
    if frame.empty:
        raise v.invalid("data", "a non-empty table", f"{source} with {len(frame)} rows")
    rows = rows or tabular._positions(frame)
    frame = frame.rename(columns=str)
    duplicated = sorted(set(frame.columns[frame.columns.duplicated()]))
    if duplicated:
        raise v.invalid(
            "data",
            "a table whose column names are unique (rename or drop the repeated ones)",
            f"{source} with repeated column(s) {duplicated}",
        )
    target = tabular._pick_target(frame, target)
    named = {"id_column": id_column, "time_column": time_column}
    named = {what: _column(frame, c, what) for what, c in named.items() if c is not None}
    for what, column in named.items():
        if column == target:
            raise v.invalid(what, f"a column other than the target {target!r}", column)
    if len(set(named.values())) < len(named):
        raise v.invalid("time_column", "a column other than id_column", time_column)
    exclude = [target, *named.values()]
    channels = _channels(frame, features, exclude, source, rows)
    tabular._check_target(frame, target, task, rows)
    if form == "wide":
        x = frame[channels].to_numpy(dtype="float32")[..., None]
        labels = frame[target].to_numpy()
        described = {"form": "wide", "channel_names": None, "steps": channels}
    else:
        x, labels = _long(frame, target, id_column, time_column, channels, rows)
        described = {
            "form": "long",
            "channel_names": channels,
            "id_column": id_column,
            "time_column": time_column,
        }
    y, task, names = prepare_targets(
        labels, task, name=f"target column {target!r}", min_classes=min_classes
    )
    return Examples(
        x=x,
        y=y,
        task=task,
        class_names=names,
        kind="series",
        source=f"{source} ({form} series)",
        fingerprint=fingerprint(x, y),
        make_encoder=SeriesScaler,
        extra={"target": target, **described},
    )


def _long(
    frame: pd.DataFrame,
    target: str,
    id_column: str,
    time_column: str | None,
    channels: list[str],
    rows,
) -> tuple[np.ndarray, np.ndarray]:
    """Long rows -> ``(series, length, channels)`` values and one label per series."""
    for column in [id_column] + ([time_column] if time_column else []):
        missing = np.flatnonzero(frame[column].isna().to_numpy())
        if len(missing):
            raise v.invalid(
                f"{'id' if column == id_column else 'time'} column {column!r}",
                "a value in every row (drop the rows without one)",
                f"{len(missing)} missing at {rows(missing)}",
            )
    codes, ids = pd.factorize(frame[id_column], sort=False)  # series in order of appearance
    labels_per_id = frame.groupby(codes, sort=True)[target].nunique(dropna=False)
    mixed = np.flatnonzero(labels_per_id.to_numpy() > 1)
    if len(mixed):
        first = mixed[0]
        seen = pd.unique(frame[target].to_numpy()[codes == first]).tolist()
        raise v.invalid(
            f"target column {target!r}",
            f"one label per series (the same value in every row with the same {id_column!r})",
            f"{len(mixed)} series with several labels, such as {id_column} "
            f"{_ids_shown(ids[mixed])}; {id_column} {ids[first]!r} has {seen[:5]}",
        )
    counts = np.bincount(codes)
    if len(np.unique(counts)) > 1:
        shortest, longest = int(counts.min()), int(counts.max())
        raise v.invalid(
            "data",
            "series of one length (the same number of rows for every "
            f"{id_column!r}); zoo does not pad, since padding is only safe with a mask "
            "every layer honours. Resample them to one length, or cut them to the "
            f"shortest, e.g. frame.groupby({id_column!r}).head({shortest}) (or .tail), "
            "with pandas first",
            f"lengths from {shortest} ({id_column} {_ids_shown(ids[counts == shortest])}) "
            f"to {longest} ({id_column} {_ids_shown(ids[counts == longest])}), "
            f"{len(np.unique(counts))} different lengths over {len(ids)} series",
        )
    if time_column is None:
        steps = np.arange(len(frame))
    else:
        steps, _ = pd.factorize(frame[time_column], sort=True)  # ranks of any sortable type
        key = pd.DataFrame({"id": codes, "t": steps})
        repeated = np.flatnonzero(key.duplicated(keep=False).to_numpy())
        if len(repeated):
            raise v.invalid(
                f"time column {time_column!r}",
                f"each time once within a series (one row per {id_column!r} and time)",
                f"repeated times at {rows(repeated)}",
            )
    order = np.lexsort((steps, codes))  # by series, then by time (stable)
    length = int(counts[0])
    values = frame[channels].to_numpy(dtype="float32")[order]
    x = values.reshape(len(ids), length, len(channels))
    labels = frame[target].to_numpy()[order][::length]
    return x, labels
