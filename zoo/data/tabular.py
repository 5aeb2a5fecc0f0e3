"""Numpy arrays, pandas DataFrames and CSV files as zoo examples.

DataFrame features are encoded with statistics learned on the training split only:
numeric columns are standardised, categorical ones (strings, categories, booleans,
and columns named in ``categorical``) one-hot encoded, with categories unseen in
training mapped to all zeros. A text column that is mostly numbers (at least
``NUMERIC_SHARE`` of its non-missing cells) but not all is refused with its other
cells named, rather than silently becoming one category per number.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from zoo import _validation as v
from zoo.data.examples import DamagedSourceError, Examples, fingerprint, prepare_targets

TARGET_GUESSES = ("target", "label", "labels", "class", "y")
_FLOAT32_MAX = float(np.finfo(np.float32).max)


def from_arrays(x: Any, y: Any, task: str | None, *, min_classes: int = 2) -> Examples:
    """Examples from feature and label arrays of the same length."""
    x = np.asarray(x)
    if x.dtype.kind == "c":
        raise v.invalid("x", "a real-valued numeric array", f"array of dtype {x.dtype}", TypeError)
    if x.dtype.kind not in "iuf":  # not booleans, objects, strings, dates or time spans
        raise v.invalid("x", "a numeric array", f"array of dtype {x.dtype}", TypeError)
    if x.ndim < 2:
        raise v.invalid("x", "an array of shape (examples, features...)", x.shape)
    if len(x) == 0:
        raise v.invalid("x", "an array with at least one example", x.shape)
    y = np.asarray(y)
    if y.ndim == 0 or len(x) != len(y):
        count = f"{len(y)} labels" if y.ndim else "a single value"
        raise v.invalid("y", f"one label per example ({len(x)} examples in x)", count)
    if np.issubdtype(x.dtype, np.floating):
        bad = ~np.isfinite(x)
        if x.dtype.itemsize > 4:  # only wider floats can exceed float32
            bad |= np.abs(np.nan_to_num(x)) > _FLOAT32_MAX
        if bad.any():
            rows = np.unique(np.argwhere(bad)[:, 0])
            raise v.invalid(
                "x",
                "finite features (no NaN or infinity, nor numbers beyond float32's 3.4e38)",
                f"NaN or infinity in {len(rows)} rows, first {rows[:5].tolist()}",
            )
    y, task, names = prepare_targets(y, task, min_classes=min_classes)
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


MISSING = "<missing>"
"""The category a missing cell of a categorical column gets."""


def category_strings(values: pd.Series) -> pd.Series:
    """A categorical column's cells as strings, missing cells as :data:`MISSING`."""
    return values.astype(object).where(values.notna(), MISSING).astype(str)


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
            columns[column] = category_strings(frame[column]).to_numpy(dtype=object)
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

    @classmethod
    def from_statistics(
        cls,
        numeric: dict[str, tuple[float, float]],
        categorical: dict[str, list[str]],
    ) -> TableEncoder:
        """The encoder :meth:`fit` would give, from statistics counted elsewhere.

        Args:
            numeric: column -> (mean, variance) of the training rows (variance 0 for a
                constant column is used as 1, as :meth:`fit` does).
            categorical: column -> its categories, most frequent first (ties: the
                later string first, Keras's own order).
        """
        import keras

        from zoo._compat.keras import feature_space_without_adapt

        space = keras.utils.FeatureSpace
        encoder = cls(list(numeric), list(categorical))
        features = {
            c: space.feature(
                dtype="float32",
                preprocessor=keras.layers.Normalization(
                    mean=mean,
                    variance=variance if variance > 0 else 1.0,
                    name=f"normalize_{c}_preprocessor",
                ),
                output_mode="float",
            )
            for c, (mean, variance) in numeric.items()
        }
        features |= {
            c: space.feature(
                dtype="string",
                preprocessor=keras.layers.StringLookup(
                    vocabulary=list(vocabulary) or None,
                    num_oov_indices=1,
                    name=f"categories_{c}_preprocessor",
                ),
                output_mode="one_hot",
            )
            for c, vocabulary in categorical.items()
        }
        encoder.space = feature_space_without_adapt(
            space(features, output_mode="concat", name="table_encoding")
        )
        return encoder

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


NUMERIC_SHARE = 0.9
"""A text column whose non-missing cells are at least this share numbers (but not all)
is taken for a numeric column with stray text cells, and refused with those cells."""


def _positions(frame: pd.DataFrame) -> Callable[[np.ndarray], str]:
    """Describe rows of a DataFrame by position (and index label when they differ)."""
    default = isinstance(frame.index, pd.RangeIndex) and frame.index.equals(
        pd.RangeIndex(len(frame))
    )

    def describe(positions: np.ndarray) -> str:
        shown = [int(p) for p in positions[:5]]
        more = f" (and {len(positions) - 5} more)" if len(positions) > 5 else ""
        if default:
            return f"row(s) {shown}{more}"
        labels = [frame.index[p] for p in shown]
        return f"row(s) at positions {shown}{more} (index {labels})"

    return describe


def _csv_lines(path: Path, sep: str, rows: int) -> np.ndarray | None:
    """The file line on which each data row of a CSV starts (1 = the file's first line).

    Blank lines are skipped as pandas skips them and quoted cells may span lines;
    None when the rows found differ from `rows` (then positions are shown instead).
    """
    import csv

    starts = []
    try:
        with open(path, newline="", encoding="utf-8", errors="replace") as file:
            reader = csv.reader(file, delimiter=sep)
            end = 0
            for record in reader:
                start, end = end + 1, reader.line_num
                if not record or (len(record) == 1 and not record[0].strip()):
                    continue  # a blank line
                starts.append(start)
    except (OSError, csv.Error):
        return None
    starts = starts[1:]  # the header
    return np.array(starts) if len(starts) == rows else None


def _csv_rows(path: Path, sep: str, frame: pd.DataFrame) -> Callable[[np.ndarray], str]:
    """Describe rows of a table read from a CSV file by their lines in the file."""
    lines: list[np.ndarray | None] = []

    def describe(positions: np.ndarray) -> str:
        if not lines:  # read once, and only when an error names rows
            lines.append(_csv_lines(path, sep, len(frame)))
        more = f" (and {len(positions) - 5} more)" if len(positions) > 5 else ""
        if lines[0] is None:
            shown = [int(p) for p in positions[:5]]
            return f"data row(s) {shown}{more} (0-based, the header not counted)"
        shown = lines[0][positions[:5]].tolist()
        return f"line(s) {shown}{more} of {path.name} (the header is line 1)"

    return describe


def _is_text(values: pd.Series) -> bool:
    return values.dtype == object or pd.api.types.is_string_dtype(values.dtype)


def _stray_text(values: pd.Series) -> tuple[np.ndarray, int, int] | None:
    """The stray cells of a text column that is mostly, but not all, numbers.

    Returns:
        (positions of the cells that are not numbers, how many are numbers, how
        many are not missing), or None unless NUMERIC_SHARE <= numbers / cells < 1.
    """
    if not _is_text(values):
        return None
    present = values.notna().to_numpy()
    if not present.any():
        return None
    try:
        parsed = pd.to_numeric(values[present], errors="coerce").to_numpy(dtype="float64")
    except (TypeError, ValueError):  # cells such as lists or dicts
        return None
    numbers = int(np.count_nonzero(~np.isnan(parsed)))
    total = int(present.sum())
    if numbers == total or numbers < NUMERIC_SHARE * total:
        return None
    return np.flatnonzero(present)[np.isnan(parsed)], numbers, total


def _shown_cells(values: pd.Series, positions: np.ndarray, rows) -> str:
    cells = ", ".join(repr(values.iloc[int(p)]) for p in positions[:5])
    return f"{cells} at {rows(positions)}"


def _check_columns(frame: pd.DataFrame, numeric: list[str], text_columns: list[str], rows) -> None:
    """Refuse mostly-numeric text columns, missing and infinite numbers, naming rows."""
    stray = {c: found for c in text_columns if (found := _stray_text(frame[c])) is not None}
    if stray:
        described = "; ".join(
            f"column {c!r} ({numbers} of {total} non-missing cells are numbers): "
            + _shown_cells(frame[c], positions, rows)
            for c, (positions, numbers, total) in stray.items()
        )
        raise v.invalid(
            "data",
            "numeric columns with a number in every cell (a text column whose non-missing "
            f"cells are at least {NUMERIC_SHARE:.0%} numbers is taken for a numeric column "
            "whose other cells are typos or placeholders; fix or drop those rows, or, if "
            f"the column is categorical, say so with categorical={sorted(stray)})",
            f"text in {described}",
        )
    with_nan = {c: np.flatnonzero(frame[c].isna().to_numpy()) for c in numeric}
    with_nan = {c: found for c, found in with_nan.items() if len(found)}
    if with_nan:
        described = "; ".join(
            f"column {c!r}: {len(found)} at {rows(found)}" for c, found in with_nan.items()
        )
        raise v.invalid(
            "data",
            "numeric feature columns without missing values (fill or drop them first)",
            f"NaN (missing) in {described}",
        )
    infinite = {
        c: np.flatnonzero(np.abs(frame[c].to_numpy(dtype="float64")) > _FLOAT32_MAX)
        for c in numeric
    }
    infinite = {c: found for c, found in infinite.items() if len(found)}
    if infinite:  # one inf would make a column's mean infinite and every row NaN
        described = "; ".join(f"column {c!r} at {rows(found)}" for c, found in infinite.items())
        raise v.invalid(
            "data",
            "finite numeric feature columns (no infinity, nor numbers beyond float32's "
            "3.4e38; replace or drop those rows)",
            f"infinity in {described}",
        )


def _check_target(frame: pd.DataFrame, target: str, task: str | None, rows) -> None:
    """Refuse missing, infinite or stray-text targets, naming their rows."""
    name = f"target column {target!r}"
    values = frame[target]
    missing = np.flatnonzero(values.isna().to_numpy())
    if len(missing):
        raise v.invalid(
            name,
            "a label or target in every row (drop the rows without one)",
            f"{len(missing)} missing at {rows(missing)}",
        )
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    if numeric:
        infinite = np.flatnonzero(np.abs(values.to_numpy(dtype="float64")) > _FLOAT32_MAX)
        if len(infinite):
            raise v.invalid(
                name,
                "finite targets (no infinity, nor numbers beyond float32's 3.4e38; "
                "replace or drop those rows)",
                f"{len(infinite)} infinite at {rows(infinite)}",
            )
    stray = _stray_text(values) if task != "classification" else None
    if stray is not None:
        positions, numbers, total = stray
        raise v.invalid(
            name,
            f"numbers in every row (its cells are {numbers} of {total} numbers, so the "
            "others look like typos or placeholders; fix or drop those rows, or pass "
            "task='classification' if the values are class names)",
            f"text {_shown_cells(values, positions, rows)}",
        )


def _check_categorical(
    categorical: Any, columns: list[str], target: str, features: list[str]
) -> list[str]:
    if categorical is None:
        return []
    if isinstance(categorical, str) or not isinstance(categorical, (list, tuple)):
        raise v.invalid(
            "categorical",
            "a list or tuple of column names, such as categorical=['zip_code']",
            categorical,
            TypeError,
        )
    for column in categorical:
        if not isinstance(column, str):
            raise v.invalid("categorical", "column names (strings)", categorical, TypeError)
        if column not in columns:
            close = difflib.get_close_matches(column, columns, n=3)
            hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
            raise v.invalid("categorical", f"columns of the table {columns}{hint}", categorical)
        if column == target:
            raise v.invalid(
                "categorical",
                f"feature columns, not the target {target!r} (task='classification' makes "
                "its values classes)",
                categorical,
            )
        if column not in features:
            raise v.invalid("categorical", f"among the feature columns {features}", categorical)
    return list(dict.fromkeys(categorical))


def from_frame(
    frame: pd.DataFrame,
    *,
    target: str | None,
    features: list[str] | None,
    task: str | None,
    categorical: list[str] | tuple[str, ...] | None = None,
    source: str = "pandas DataFrame",
    rows: Callable[[np.ndarray], str] | None = None,
    min_classes: int = 2,
) -> Examples:
    """Examples from a DataFrame with feature columns and a target column.

    Numeric columns (numbers, not booleans) are standardised; other columns, and
    those named in `categorical`, are one-hot encoded. A text column whose
    non-missing cells are at least ``NUMERIC_SHARE`` (90%) numbers but not all is
    refused, naming its other cells: a numeric column with typos or placeholders
    (such as ``"?"``) would otherwise silently become hundreds of categories.
    `rows` describes row positions in errors (default: DataFrame positions).
    """
    if frame.empty:
        raise v.invalid("data", "a non-empty table", f"{source} with {len(frame)} rows")
    rows = rows or _positions(frame)
    frame = frame.rename(columns=str)
    duplicated = sorted(set(frame.columns[frame.columns.duplicated()]))
    if duplicated:
        raise v.invalid(
            "data",
            "a table whose column names are unique (rename or drop the repeated ones)",
            f"{source} with repeated column(s) {duplicated}",
        )
    target = _pick_target(frame, target)
    if features is None:
        features = [c for c in frame.columns if c != target]
        if not features:
            raise v.invalid(
                "data",
                f"a table with feature columns besides the target {target!r}",
                f"{source} with columns {list(frame.columns)}",
            )
    else:
        if not isinstance(features, (list, tuple)) or not features:
            raise v.invalid("features", "a non-empty list of column names", features, TypeError)
        unknown = [c for c in features if c not in frame.columns]
        if unknown:
            raise v.invalid("features", f"columns of the table {list(frame.columns)}", unknown)
        if target in features:
            raise v.invalid("features", f"columns other than the target {target!r}", features)
        if len(set(features)) != len(features):
            raise v.invalid("features", "column names, each once", features)
    declared = _check_categorical(categorical, list(frame.columns), target, list(features))
    complex_columns = [c for c in [*features, target] if frame[c].dtype.kind == "c"]
    if complex_columns:
        raise v.invalid(
            "data",
            "a table of real numbers, strings, categories or booleans (split a complex "
            "column into its real and imaginary parts)",
            f"{source} with complex column(s) {complex_columns}",
            TypeError,
        )
    numeric = [
        c
        for c in features
        if c not in declared
        and pd.api.types.is_numeric_dtype(frame[c])
        and not pd.api.types.is_bool_dtype(frame[c])
    ]
    categorical = [c for c in features if c not in numeric]
    undeclared = [c for c in categorical if c not in declared]
    _check_columns(frame, numeric, undeclared, rows)
    _check_target(frame, target, task, rows)
    frame = frame.copy()
    for column in categorical:
        frame[column] = frame[column].astype(object).where(frame[column].notna(), MISSING)
    y, task, names = prepare_targets(
        frame[target].to_numpy(), task, name=f"target column {target!r}", min_classes=min_classes
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


TABLE_SUFFIXES = (".csv", ".tsv", ".txt")


def from_csv(path: str | os.PathLike, **kwargs: Any) -> Examples:
    """Examples from a CSV file (see :func:`from_frame`); ``.tsv`` files are tab-separated.

    Rows named in errors are the file's lines, counting the header as line 1.
    """
    frame, rows = read_csv(path)
    return from_frame(frame, source=f"CSV {Path(path)}", rows=rows, **kwargs)


def read_csv(path: str | os.PathLike) -> tuple[pd.DataFrame, Callable[[np.ndarray], str]]:
    """A CSV file as a DataFrame, and how to name its rows in errors (by file line)."""
    path = Path(path)
    sep = "\t" if path.suffix.lower() == ".tsv" else ","
    try:
        frame = pd.read_csv(path, sep=sep, low_memory=False)
    except pd.errors.EmptyDataError:
        raise v.invalid(
            "source", "a CSV file with a header and rows", f"empty file {path}"
        ) from None
    except UnicodeDecodeError as error:
        raise v.invalid(
            "source",
            "a readable CSV file (UTF-8 text; save it as UTF-8 CSV)",
            f"{path}: not UTF-8 text ({error.reason} at byte {error.start})",
            DamagedSourceError,
        ) from None
    except pd.errors.ParserError as error:
        raise v.invalid(
            "source",
            "a readable CSV file (the same number of cells in every row)",
            f"{path}: {str(error).strip()}",
            DamagedSourceError,
        ) from None
    except OSError as error:
        raise v.invalid(
            "source", "a readable CSV file", f"{path}: {error.strerror or error}"
        ) from None
    if len(frame.columns) == 1:
        other = next((s for s in ("\t", ";", "|") if s != sep and s in str(frame.columns[0])), None)
        if other is not None:
            raise v.invalid(
                "source",
                "a comma-separated file (.tsv files are read as tab-separated); convert it, "
                "or read it with pandas.read_csv(path, sep=...) and pass the DataFrame",
                f"{path}: one column {str(frame.columns[0])!r}, which looks separated by {other!r}",
            )
    return frame, _csv_rows(path, sep, frame)
