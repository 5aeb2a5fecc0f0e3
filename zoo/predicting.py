"""Predict with a model: raw inputs in, one row of predictions per input out.

:func:`predict` takes what a user has, in the form a saved zoo model takes it (see
:mod:`zoo.data.inputs`): image files and folders, or arrays of 0-255 pixels; strings;
table rows from a DataFrame or CSV file; feature arrays. The model is a
``keras.Model`` or the name or path of a saved one, whose card gives its class
names. Images are decoded with Pillow, converted to the model's channels (RGB to grey
with TensorFlow's weights, as zoo.data does) and resized to the model's input size
unless the model resizes them itself; images of different sizes fed to a model that
takes any size are predicted one size group at a time.
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pandas as pd

from zoo import _validation as v
from zoo import registry, saving, tasks
from zoo._compat.keras import preprocessed_batches, producing_layer
from zoo.data.examples import DamagedSourceError
from zoo.data.images import IMAGE_EXTENSIONS, UnusableImageError, open_image
from zoo.data.inputs import as_strings
from zoo.data.text import TEXT_EXTENSIONS
from zoo.engine import inputs as engine_inputs
from zoo.layers.preprocessing import ImagePreprocessing, split

__all__ = ["predict"]

KINDS = ("image", "text", "table", "series", "array")
FIXED_COLUMNS = ("input", "predicted", "probability")
# tf.image.rgb_to_grayscale's weights, so grey models see what they trained on.
_GREY_WEIGHTS = np.array([0.2989, 0.5870, 0.1140], dtype="float32")
_TABLE_SUFFIXES = (".csv", ".tsv")


@dataclasses.dataclass(frozen=True)
class _Signature:
    """What a model takes (`kind`, `shape` or `columns`) and what it gives (`task`)."""

    kind: str
    task: str
    class_names: tuple[str, ...] | None = None
    shape: tuple[int | None, ...] | None = None  # image (h, w, c) or array shape
    columns: dict[str, str] | None = None  # table: name -> "numeric" | "categorical"
    dtype: str = "float32"

    @property
    def resizes(self) -> bool:
        """An image model that takes any height and width (it resizes them itself)."""
        return self.kind == "image" and None in self.shape[:2]


@dataclasses.dataclass
class _Batch:
    """Inputs in the model's form: a label per input and the arrays, in size groups."""

    labels: list[Any]
    groups: list[tuple[np.ndarray, Any]]  # (positions in `labels`, model input)


def predict(
    model: Any,
    inputs: Any,
    *,
    top: int | None = None,
    batch_size: int = 32,
    class_names: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Predict with a classifier or regressor: one table row per raw input.

    The model takes raw input, as every model zoo trains and saves does
    (``zoo.layers.preprocessing.attach``): 0-255 pixels, strings, table columns.

    Inputs, by what the model takes:
        - images: image file paths (JPEG, PNG, BMP, GIF), folders (every image in
          them, recursively, in sorted order), ``.npy`` files, or arrays of 0-255
          pixels shaped ``(n, height, width, channels)`` (or one image without
          ``n``). Files are converted to the model's channels (RGB to grey, grey to
          RGB); all images are resized to the model's input size unless the model
          takes any size and resizes them itself;
        - texts: a string, a list, array or Series of strings, or ``pathlib.Path``
          text files and folders of them (``.txt``, ``.text``, ``.md``);
        - tables: a DataFrame, a dict of columns, or CSV file paths; only the
          model's columns are used, and the others (the target, say) are ignored;
        - feature arrays: ``(n, *shape)`` (or one example without ``n``), or
          ``.npy`` files.

    Args:
        model: a ``keras.Model`` or the name or path of a saved model
            (:func:`zoo.load`). An in-process model's input kind follows from its
            inputs (a dict of columns: a table; strings: texts; rank 4: images;
            anything else: arrays); a saved model's card also gives its class names.
        inputs: what to predict on (see above).
        top: for classifiers, show only the `top` most probable classes of each
            row instead of one column per class.
        batch_size: inputs per batch.
        class_names: the class names, index = class id (default: a saved model's
            card, else ``"0"``, ``"1"``, ...).

    Returns:
        A ``pandas.DataFrame`` with one row per input, in input order, and an
        ``input`` column: the file path, the text, the DataFrame's index label, the
        CSV row number (``"file.csv:row"`` for several files) or the array row.
        Classifiers add ``predicted`` (the most probable class name) and
        ``probability`` (its probability), then one probability column per class,
        named by class (probabilities, also for models that output logits; a
        one-unit sigmoid classifier has two classes). With ``top=k`` the class
        columns are ``top1``, ``top1_probability``, ... ``topk``,
        ``topk_probability`` instead, best first (``top1`` is ``predicted``).
        Regressors add ``value``, or ``value_0``, ``value_1``, ... for several
        outputs.

    Raises:
        ValueError: for inputs the model cannot take (the input is named: a file
            that is not an image, a missing path, an empty folder, missing table
            columns, arrays of the wrong shape or channels, strings for an image
            model, numbers for a text model), a `top` larger than the number of
            classes, or a model that neither classifies nor regresses.
        TypeError: for arguments of the wrong type.
        FileNotFoundError: if no model is saved under that name (:func:`zoo.load`).

    Example:
        >>> data = zoo.data.load("digits")
        >>> network = zoo.build("mlp_tiny", input_shape=(8, 8, 1), num_classes=10)
        >>> model = zoo.layers.preprocessing.attach(network, data.preprocessor)
        >>> path = zoo.save(model, "digits_mlp", data=data.describe())
        >>> pixels = np.full((2, 8, 8, 1), 255.0)  # two white 8x8 images, raw 0-255
        >>> table = zoo.predict("digits_mlp", pixels, top=2)
        >>> list(table.columns)  # doctest: +NORMALIZE_WHITESPACE
        ['input', 'predicted', 'probability', 'top1', 'top1_probability',
         'top2', 'top2_probability']
        >>> list(table["input"]), set(table["predicted"]) <= set(data.class_names)
        ([0, 1], True)
    """
    top = v.check_int("top", top, minimum=1, allow_none=True)
    batch_size = v.check_int("batch_size", batch_size, minimum=1)
    class_names = _check_class_names(class_names)
    model, card = _resolve_model(model)
    signature = _signature(model, card, class_names)
    if top is not None and signature.task != "classification":
        raise v.invalid("top", "None for a regression model (top ranks classes)", top)
    if top is not None and top > len(signature.class_names):
        raise v.invalid("top", f"at most the number of classes ({len(signature.class_names)})", top)
    batch = _prepare(signature, inputs, model)
    outputs = _run(model, batch, batch_size)
    if signature.task == "regression":
        return _regression_table(batch.labels, outputs)
    probabilities = _probabilities(model, outputs)
    return _classification_table(batch.labels, probabilities, signature.class_names, top)


# --- the model ----------------------------------------------------------------------


def _check_class_names(class_names: Any) -> tuple[str, ...] | None:
    if class_names is None:
        return None
    if isinstance(class_names, str) or not isinstance(class_names, (Sequence, np.ndarray)):
        raise v.invalid("class_names", "a list of class names", class_names, TypeError)
    names = tuple(str(name) for name in class_names)
    if not names or len(set(names)) != len(names):
        raise v.invalid("class_names", "a non-empty list of distinct names", list(class_names))
    return names


def _resolve_model(model: Any) -> tuple[keras.Model, dict[str, Any]]:
    if isinstance(model, keras.Model):
        return model, {}
    if not isinstance(model, (str, os.PathLike)):
        raise v.invalid(
            "model",
            "a keras.Model or a saved model's name or path",
            type(model).__name__,
            TypeError,
        )
    card = saving.load_card(model)  # no saved model there: FileNotFoundError naming it
    return saving.load(model, compile=False), card


def _signature(
    model: keras.Model, card: dict[str, Any], class_names: tuple[str, ...] | None
) -> _Signature:
    if not getattr(model, "inputs", None) or not getattr(model, "outputs", None):
        raise v.invalid(
            "model",
            "a functional keras.Model with known inputs and outputs (a classifier or "
            "regressor, such as zoo.train(...).model or a saved zoo model)",
            model.name,
        )
    data = card.get("data") if isinstance(card.get("data"), dict) else {}
    described = data.get("inputs") or {}
    task = _task(model, card, data, class_names)
    kind = described.get("kind") or _inferred_kind(model)
    if kind == "tokens":
        raise v.invalid(
            "model",
            "a classifier or regressor (a language model generates: use model.generate)",
            model.name,
        )
    if kind not in KINDS:  # a card from a newer zoo, say
        kind = _inferred_kind(model)
    if task == "classification":
        class_names = class_names or _card_class_names(data)
        class_names = _class_names_for(model, class_names)
    signature = _Signature(kind, task, class_names)
    first = model.inputs[0]
    dtype = keras.backend.standardize_dtype(first.dtype)
    if kind == "image":
        shape = tuple(first.shape[1:])
        if len(shape) != 3:
            raise v.invalid("model", "an image model with (height, width, channels) input", shape)
        if data and "inputs" not in data and not _takes_raw_pixels(model):
            warnings.warn(
                f"zoo.predict: {model.name} was saved before saved models took raw 0-255 "
                "pixels (its card has no data.inputs); it may expect pixels scaled to "
                "[0, 1]. Retrain it, or feed it pixels / 255 with model.predict.",
                UserWarning,
                stacklevel=3,
            )
        return dataclasses.replace(signature, shape=shape, dtype=dtype)
    if kind == "table":
        return dataclasses.replace(signature, columns=_table_columns(model, described))
    if kind in ("series", "array"):  # a series model standardises raw series itself
        return dataclasses.replace(signature, shape=tuple(first.shape[1:]), dtype=dtype)
    return signature


def _takes_raw_pixels(model: keras.Model) -> bool:
    preprocessor, network = split(model)
    return preprocessor is not None or engine_inputs.takes_raw_pixels(network)


def _inferred_kind(model: keras.Model) -> str:
    if _is_keras_hub_task(model):
        return "text"  # a keras-hub classifier: its preprocessor takes raw strings
    if isinstance(model.input, Mapping):
        return "table"
    if len(model.inputs) != 1:
        raise v.invalid(
            "model", "a model with one input, or a table model (a dict of columns)", model.name
        )
    first = model.inputs[0]
    if keras.backend.standardize_dtype(first.dtype) == "string":
        return "text"
    return "image" if len(first.shape) == 4 else "array"


def _is_keras_hub_task(model: keras.Model) -> bool:
    preprocessor = getattr(model, "preprocessor", None)
    return preprocessor is not None and not isinstance(preprocessor, keras.Model)


def _table_columns(model: keras.Model, described: dict[str, Any]) -> dict[str, str]:
    if isinstance(model.input, Mapping):
        return {
            str(name): (
                "categorical"
                if keras.backend.standardize_dtype(tensor.dtype) == "string"
                else "numeric"
            )
            for name, tensor in model.input.items()
        }
    columns = described.get("columns")
    if not columns:
        raise v.invalid("model", "a table model whose inputs are named columns", model.name)
    return dict(columns)


def _task(
    model: keras.Model,
    card: dict[str, Any],
    data: dict[str, Any],
    class_names: tuple[str, ...] | None,
) -> str:
    training = card.get("training") if isinstance(card.get("training"), dict) else {}
    task = training.get("task") or data.get("task")
    if task is None and card.get("fine_tuning"):
        task = "classification"
    if task is None and class_names is not None:
        task = "classification"
    if task is None:
        task = _registered_task(model)
    if task is None:
        layer = _output_layer(model)
        activation = getattr(getattr(layer, "activation", None), "__name__", None)
        scores = activation in ("softmax", "sigmoid") or isinstance(layer, keras.layers.Softmax)
        task = "classification" if scores else "regression"
    if task == "regression" and class_names is not None:
        raise v.invalid("class_names", "None for a regression model", list(class_names))
    if task not in ("classification", "regression"):
        raise v.invalid(
            "model",
            "a classifier or a regressor (zoo.predict makes one row per input; "
            "autoencoders, generators and language models have their own methods)",
            f"{model.name} ({task})",
        )
    return task


def _registered_task(model: keras.Model) -> str | None:
    for part in (model, split(model)[1]):
        spec = registry.get_spec(part)
        if not spec:
            continue
        task = (spec.get("arguments") or {}).get("task")
        if task in ("classification", "regression"):
            return task
        name = registry.find(spec.get("architecture"), warn=False)
        if name is None:
            continue
        described = registry.get_entry(name).task
        for word in ("classification", "regression"):
            if word in described:
                return word
        return described.replace(" ", "_")  # reconstruction, image generation, ...
    return None


def _output_layer(model: keras.Model) -> Any:
    _, network = split(model)
    try:
        return producing_layer(network.outputs[0])
    except (AttributeError, IndexError, TypeError):
        return None


def _card_class_names(data: dict[str, Any]) -> tuple[str, ...] | None:
    names = data.get("class_names")
    return tuple(str(name) for name in names) if names else None


def _class_names_for(model: keras.Model, names: tuple[str, ...] | None) -> tuple[str, ...]:
    shape = tuple(model.outputs[0].shape)
    if len(model.outputs) != 1 or len(shape) != 2 or shape[-1] is None:
        raise v.invalid(
            "model", "a classifier with one output of class scores, shape (batch, classes)", shape
        )
    count = 2 if shape[-1] == 1 else int(shape[-1])
    if names is None:
        return tuple(str(i) for i in range(count))
    if len(names) != count:
        raise v.invalid(
            "class_names",
            f"one name per class of the model ({count} classes)",
            list(names),
        )
    return names


# --- the inputs ---------------------------------------------------------------------


def _prepare(signature: _Signature, inputs: Any, model: keras.Model) -> _Batch:
    if signature.kind == "image":
        return _images(signature, inputs, model)
    if signature.kind == "text":
        return _texts(inputs)
    if signature.kind == "table":
        return _table(signature, inputs)
    return _arrays(signature, inputs)


def _as_list(inputs: Any) -> list[Any]:
    if isinstance(inputs, (str, os.PathLike, np.ndarray, pd.DataFrame, Mapping)):
        return [inputs]
    if isinstance(inputs, pd.Series):
        return list(inputs)
    if isinstance(inputs, (list, tuple)):
        return list(inputs)
    return [inputs]


def _nothing(what: str, inputs: Any) -> Exception:
    return v.invalid("inputs", f"at least one input ({what})", _shown(inputs))


def _shown(value: Any) -> Any:
    """A short stand-in for an input in an error message."""
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, pd.DataFrame):
        return f"DataFrame with columns {list(value.columns)}"
    if isinstance(value, os.PathLike):
        return str(value)
    if isinstance(value, (list, tuple)) and len(value) > 5:
        return f"{type(value).__name__} of {len(value)} items, first {list(value[:3])!r}"
    return value


# images


def _images(signature: _Signature, inputs: Any, model: keras.Model) -> _Batch:
    height, width, channels = signature.shape
    items = _as_list(inputs)
    if not items:
        raise _nothing("image files, folders or arrays of 0-255 pixels", inputs)
    labels: list[Any] = []
    images: list[np.ndarray] = []
    from_arrays: list[np.ndarray] = []
    for item in items:
        if isinstance(item, (str, os.PathLike)) and _suffix(item) == ".npy":
            item = _load_npy(item)
        if isinstance(item, (str, os.PathLike)):
            for path in _image_files(item):
                labels.append(str(path))
                images.append(_read_image(path, channels))
        elif isinstance(item, (np.ndarray, list)) and not _holds_strings(item):
            array = _pixel_array(np.asarray(item), signature)
            start = sum(isinstance(label, int) for label in labels)
            labels += list(range(start, start + len(array)))
            images += list(array)
            from_arrays.append(array)
        else:
            raise v.invalid(
                "inputs",
                "image file paths, folders of images or arrays of 0-255 pixels "
                f"(the model takes {height or 'any'}x{width or 'any'} images with "
                f"{channels} channel(s), not text)",
                _shown(item),
                TypeError,
            )
    if _looks_scaled(from_arrays) and _takes_raw_pixels(model):
        warnings.warn(
            "zoo.predict: the image arrays look scaled to [0, 1] (no value above 1), but the "
            "model takes raw 0-255 pixels; pass pixels in 0-255.",
            UserWarning,
            stacklevel=3,
        )
    groups: dict[tuple[int, int], list[int]] = {}
    for position, image in enumerate(images):
        groups.setdefault(image.shape[:2], []).append(position)
    batch = _Batch(labels, [])
    for size, positions in groups.items():
        stacked = np.stack([images[p] for p in positions]).astype("float32")
        if not signature.resizes and size != (height, width):
            stacked = keras.ops.convert_to_numpy(
                keras.ops.image.resize(stacked, (height, width), antialias=True)
            )
        batch.groups.append((np.asarray(positions), stacked.astype(_numeric(signature.dtype))))
    if not signature.resizes:  # one size now: one group
        order = np.concatenate([positions for positions, _ in batch.groups])
        merged = np.concatenate([x for _, x in batch.groups])
        batch.groups = [(order, merged)]
    return batch


def _suffix(path: str | os.PathLike) -> str:
    return Path(path).suffix.lower()


def _numeric(dtype: str) -> str:
    return dtype if dtype not in ("string", "bool") else "float32"


def _holds_strings(item: Any) -> bool:
    if isinstance(item, np.ndarray):
        return item.dtype.kind in "UOS"
    return any(isinstance(element, (str, os.PathLike)) for element in item)


def _found(path: Path, extensions: tuple[str, ...], kind: str) -> list[Path]:
    """The `kind` files with `extensions` under folder `path`, sorted; an error if none."""
    found = sorted(
        p
        for p in path.rglob("*")
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in extensions
    )
    if not found:
        allowed = ", ".join(extensions)
        raise v.invalid("inputs", f"folders that hold {kind} files ({allowed})", f"{path} has none")
    return found


def _image_files(item: str | os.PathLike) -> list[Path]:
    path = Path(item)
    if path.is_dir():
        return _found(path, IMAGE_EXTENSIONS, "image")
    if not path.exists():
        hint = "" if path.suffix else " (the model takes images, not text)"
        raise v.invalid("inputs", f"existing image files or folders of images{hint}", _shown(item))
    if path.suffix.lower() not in IMAGE_EXTENSIONS:
        allowed = ", ".join(IMAGE_EXTENSIONS)
        raise v.invalid("inputs", f"image files ({allowed})", f"{path}: not an image file")
    return [path]


def _read_image(path: Path, channels: int) -> np.ndarray:
    """A file's pixels (0-255 float32) with the model's channels."""
    if channels not in (1, 3, 4):
        raise v.invalid("model", "an image model with 1, 3 or 4 channels", channels)
    try:
        with open_image(path) as image:  # fully decoded: truncated files fail here
            if channels == 4:
                return np.asarray(image.convert("RGBA"), dtype="float32")
            rgb = np.asarray(image.convert("RGB"), dtype="float32")
    except UnusableImageError as error:
        raise v.invalid(
            "inputs", "readable image files", f"{path}: {error.reason}", DamagedSourceError
        ) from None
    if channels == 3:
        return rgb
    # As tf.image.rgb_to_grayscale on uint8 images: weighted in [0, 1], back to uint8.
    grey = (rgb / 255.0) @ _GREY_WEIGHTS
    return np.floor(grey * 255.5).clip(0, 255).astype("float32")[..., None]


def _load_npy(path: str | os.PathLike) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise v.invalid("inputs", "existing .npy files", str(path)) from None
    except (OSError, ValueError) as error:
        raise v.invalid("inputs", "readable .npy files", f"{path}: {error}") from None


def _pixel_array(array: np.ndarray, signature: _Signature) -> np.ndarray:
    channels = signature.shape[-1]
    expected = f"(n, height, width, {channels}) or (height, width, {channels}) 0-255 pixels"
    if array.dtype.kind not in "biuf":
        raise v.invalid("inputs", f"arrays of {expected}", _shown(array), TypeError)
    if array.ndim == 3:
        array = array[None]
    if array.ndim != 4 or array.shape[-1] != channels or 0 in array.shape:
        raise v.invalid("inputs", f"arrays of {expected}", _shown(array))
    return array.astype("float32")


def _looks_scaled(images: list[np.ndarray]) -> bool:
    peak = max((float(image.max()) for image in images), default=0.0)
    return 0.0 < peak <= 1.0


def _takes_raw_pixels(model: keras.Model) -> bool:
    preprocessor, network = split(model)
    return preprocessor is not None or any(
        isinstance(layer, ImagePreprocessing) for layer in network.layers
    )


# texts


def _texts(inputs: Any) -> _Batch:
    items = _as_list(inputs)
    if isinstance(inputs, np.ndarray):
        items = list(inputs.reshape(-1)) if inputs.dtype.kind in "UOS" else [inputs]
    texts: list[str] = []
    labels: list[Any] = []
    for item in items:
        if isinstance(item, str):
            texts.append(str(item))
            labels.append(str(item))
        elif isinstance(item, os.PathLike):
            for path in _text_files(item):
                texts.append(_read_text(path))
                labels.append(str(path))
        else:
            raise v.invalid(
                "inputs",
                "strings (the model takes texts), or pathlib.Path text files and folders",
                _shown(item),
                TypeError,
            )
    if not texts:
        raise _nothing("strings", inputs)
    return _Batch(labels, [(np.arange(len(texts)), as_strings(texts))])


def _text_files(item: os.PathLike) -> list[Path]:
    path = Path(item)
    if path.is_dir():
        return _found(path, TEXT_EXTENSIONS, "text")
    if not path.is_file():
        raise v.invalid("inputs", "existing text files or folders", str(path))
    return [path]


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise v.invalid("inputs", "UTF-8 text files", f"{path}: {error.reason}") from None


# tables


def _table(signature: _Signature, inputs: Any) -> _Batch:
    items = _as_list(inputs)
    if not items:
        raise _nothing("a DataFrame or CSV files", inputs)
    frames, labels = [], []
    several_files = sum(isinstance(item, (str, os.PathLike)) for item in items) > 1
    for item in items:
        if isinstance(item, pd.DataFrame):
            frames.append(item)
            labels += list(item.index)
        elif isinstance(item, Mapping):
            frame = _frame_from_columns(item)
            frames.append(frame)
            labels += list(frame.index)
        elif isinstance(item, (str, os.PathLike)):
            frame = _read_csv(item)
            frames.append(frame)
            rows = range(len(frame))
            labels += [f"{item}:{row}" for row in rows] if several_files else list(rows)
        else:
            raise v.invalid(
                "inputs",
                "a DataFrame, a dict of columns or CSV file paths (the model takes table "
                f"rows with columns {sorted(signature.columns)})",
                _shown(item),
                TypeError,
            )
    columns = {}
    for name, kind in signature.columns.items():
        missing_in = [i for i, frame in enumerate(frames) if name not in frame.columns]
        if missing_in:
            missing = [c for c in signature.columns if c not in frames[missing_in[0]].columns]
            raise v.invalid(
                "inputs",
                f"table rows with the model's columns {list(signature.columns)}; missing: "
                f"{missing}",
                f"columns {[str(c) for c in frames[missing_in[0]].columns]}",
            )
        values = pd.concat([frame[name] for frame in frames], ignore_index=True)
        columns[name] = _numeric_column(name, values) if kind == "numeric" else _strings(values)
    if not len(labels):
        raise _nothing("table rows", inputs)
    return _Batch(labels, [(np.arange(len(labels)), columns)])


def _frame_from_columns(columns: Mapping) -> pd.DataFrame:
    try:
        return pd.DataFrame({str(k): np.asarray(value).reshape(-1) for k, value in columns.items()})
    except ValueError as error:
        raise v.invalid("inputs", "a dict of columns of one length", f"{error}") from None


def _read_csv(item: str | os.PathLike) -> pd.DataFrame:
    path = Path(item)
    if not path.is_file():
        raise v.invalid("inputs", "existing CSV files or DataFrames", str(item))
    if path.suffix.lower() not in (*_TABLE_SUFFIXES, ".txt"):
        raise v.invalid(
            "inputs",
            f"CSV files ({', '.join(_TABLE_SUFFIXES)}) or DataFrames (the model takes table rows)",
            f"{path}: not a CSV file",
        )
    try:
        return pd.read_csv(path, sep="\t" if path.suffix.lower() == ".tsv" else ",")
    except pd.errors.EmptyDataError:
        raise v.invalid("inputs", "CSV files with a header and rows", f"{path} is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise v.invalid("inputs", "readable CSV files", f"{path}: {error}") from None


def _numeric_column(name: str, values: pd.Series) -> np.ndarray:
    numbers = pd.to_numeric(values, errors="coerce")
    bad = values.index[numbers.isna()].tolist()
    if bad:
        shown = values.iloc[bad[:3]].tolist()
        raise v.invalid(
            "inputs",
            f"numbers in the numeric column {name!r} (no missing values)",
            f"{len(bad)} row(s) without a number, first rows {bad[:3]}: {shown}",
        )
    return numbers.to_numpy(dtype="float32")


def _strings(values: pd.Series) -> np.ndarray:
    """A categorical column as zoo.data encodes it: str, missing as ``"<missing>"``."""
    return as_strings(values.astype(object).where(values.notna(), "<missing>").to_numpy())


# arrays


def _arrays(signature: _Signature, inputs: Any) -> _Batch:
    items = _as_list(inputs)
    if isinstance(inputs, (list, tuple)) and items and not _holds_arrays(items):
        items = [np.asarray(inputs)]  # one example as nested lists
    if not items:
        raise _nothing("feature arrays", inputs)
    shape = signature.shape
    arrays = []
    for item in items:
        if isinstance(item, (str, os.PathLike)) and _suffix(item) == ".npy":
            item = _load_npy(item)
        array = np.asarray(item) if not isinstance(item, (str, os.PathLike)) else None
        if array is None or array.dtype.kind not in "biuf":
            raise v.invalid(
                "inputs",
                f"numeric arrays of shape {_dims(shape)}, or .npy files",
                _shown(item),
                TypeError,
            )
        if _fits(array.shape, shape):
            array = array[None]
        elif not _fits(array.shape[1:], shape):
            raise v.invalid(
                "inputs",
                f"arrays of shape {_dims(shape)}",
                _shown(array),
            )
        arrays.append(array.astype(_numeric(signature.dtype)))
    stacked = np.concatenate(arrays)
    return _Batch(list(range(len(stacked))), [(np.arange(len(stacked)), stacked)])


def _holds_arrays(items: list[Any]) -> bool:
    return any(isinstance(item, (np.ndarray, str, os.PathLike)) for item in items)


def _dims(shape: tuple[int | None, ...]) -> str:
    """``(n, 4) or (4,)``: a batch of examples, or one (None dims read "any")."""
    dims = ["any" if d is None else str(d) for d in shape]
    one = f"({dims[0]},)" if len(dims) == 1 else f"({', '.join(dims)})"
    return f"(n, {', '.join(dims)}) or {one}"


def _fits(actual: tuple[int, ...], expected: tuple[int | None, ...]) -> bool:
    return len(actual) == len(expected) and all(
        e is None or a == e for a, e in zip(actual, expected, strict=True)
    )


# --- predicting and the table -------------------------------------------------------


def _run(model: keras.Model, batch: _Batch, batch_size: int) -> np.ndarray:
    results = [None] * len(batch.labels)
    several = len(batch.groups) > 1
    preprocessor, network = split(model)
    in_tf_data = preprocessor is not None and keras.backend.backend() != "tensorflow"
    for positions, x in batch.groups:
        if in_tf_data and _has_strings(x):  # string layers run only in tf.data off TF
            outputs = np.concatenate(
                [
                    _flat(network.predict_on_batch(features))
                    for features in preprocessed_batches(preprocessor, x, batch_size)
                ]
            )
        elif several:  # images of several sizes: called directly, so nothing is retraced
            outputs = np.concatenate(
                [
                    _flat(model(x[i : i + batch_size], training=False))
                    for i in range(0, len(x), batch_size)
                ]
            )
        else:
            outputs = _flat(model.predict(x, batch_size=batch_size, verbose=0))
        for position, row in zip(positions, outputs, strict=True):
            results[position] = row
    return np.stack(results)


def _has_strings(x: Any) -> bool:
    return any(np.asarray(part).dtype.kind in "OUS" for part in keras.tree.flatten(x))


def _flat(outputs: Any) -> np.ndarray:
    """The model's outputs as a 2-D float array (several outputs side by side)."""
    parts = [keras.ops.convert_to_numpy(o) for o in keras.tree.flatten(outputs)]
    return np.concatenate([p.reshape(len(p), -1) for p in parts], axis=1).astype("float64")


def _probabilities(model: keras.Model, outputs: np.ndarray) -> np.ndarray:
    """Class probabilities, ``(n, classes)``: logits normalised, one unit made two."""
    _, network = split(model)
    logits = tasks.outputs_logits(network) or _is_keras_hub_task(model)
    if outputs.shape[1] == 1:
        positive = 1.0 / (1.0 + np.exp(-outputs[:, 0])) if logits else outputs[:, 0]
        return np.stack([1.0 - positive, positive], axis=1)
    if logits:
        shifted = np.exp(outputs - outputs.max(axis=1, keepdims=True))
        return shifted / shifted.sum(axis=1, keepdims=True)
    return outputs


def _classification_table(
    labels: list[Any],
    probabilities: np.ndarray,
    class_names: tuple[str, ...],
    top: int | None,
) -> pd.DataFrame:
    names = np.asarray(class_names, dtype=object)
    best = probabilities.argmax(axis=1)
    table = {
        "input": labels,
        "predicted": names[best],
        "probability": probabilities[np.arange(len(best)), best],
    }
    if top is None:
        for index, name in enumerate(class_names):
            column = f"{name} (class)" if name in FIXED_COLUMNS else name
            table[column] = probabilities[:, index]
        return pd.DataFrame(table)
    order = np.argsort(-probabilities, axis=1, kind="stable")[:, :top]
    for rank in range(top):
        chosen = order[:, rank]
        table[f"top{rank + 1}"] = names[chosen]
        table[f"top{rank + 1}_probability"] = probabilities[np.arange(len(chosen)), chosen]
    return pd.DataFrame(table)


def _regression_table(labels: list[Any], outputs: np.ndarray) -> pd.DataFrame:
    table: dict[str, Any] = {"input": labels}
    if outputs.shape[1] == 1:
        table["value"] = outputs[:, 0]
    else:
        for index in range(outputs.shape[1]):
            table[f"value_{index}"] = outputs[:, index]
    return pd.DataFrame(table)
