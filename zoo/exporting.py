"""Export a model for serving as a TF SavedModel, a TFLite file or an ONNX file, checked.

:func:`export` writes the artifact with Keras's own exporters (``model.export`` with
``format="tf_saved_model"``, ``"litert"`` or ``"onnx"``), then runs it on sample inputs
in the same process (``tf.saved_model.load``, the TFLite interpreter, ONNX Runtime)
next to the Keras model, both on the CPU, and compares every output. The artifact is
written under a temporary name beside the target and renamed into place only when
the largest absolute difference is within the tolerance, so a failed export never
leaves a half-written artifact and never replaces a previous one.

Where the artifact goes by default:
    * a saved zoo model (a name under ``saved_models/`` or a folder):
      ``<folder>/export/saved_model/``, ``<folder>/export/model.tflite`` or
      ``<folder>/export/model.onnx``;
    * a ``.keras`` file: ``<parent>/<stem>_export/`` with the same names;
    * a model in memory: ``saved_models/<model.name>/export/`` (``saved_models`` is
      ``$ZOO_SAVED_MODELS`` or `saved_models_dir`). ``zoo.save`` to the same name
      later replaces the whole folder, stale exports included.

What each format does with zoo's families (measured on the ``*_tiny`` presets):
    * ``saved_model`` exports every functional model (MLP, CNN, ResNet, RNN,
      transformer, ViT, GPT, autoencoder, VAE) with differences of 0 to 2e-7.
    * ``tflite`` uses TFLite's builtin ops only, so the file runs in the standard
      LiteRT runtime without the Flex delegate. Models whose variable batch or
      sequence length would need TensorFlow "Select" ops (the RNN loop's
      ``TensorList`` ops, GPT's causal-mask slicing) are exported with a fixed input
      shape instead: batch 1 and the sample's other dimensions, as
      :attr:`ExportResult.notes` says.
    * ``onnx`` needs ``pip install tf2onnx onnx onnxruntime`` (or ``zoo[export]``).
      tf2onnx 1.17 leaves TensorFlow's ``Erfc`` op (exact GELU, used by the
      transformers, ViT and GPT) unconverted, which ONNX Runtime rejects; zoo adds
      the missing conversion (``erfc(x) = 1 - erf(x)``) before exporting. An op that
      tf2onnx cannot convert fails the export at once, naming the op.
    * A mixed-precision model (float16 or bfloat16 compute) goes to TFLite and ONNX
      as a float32 copy with the same weights, checked against the original with a
      tolerance of 1e-2; a SavedModel keeps its policy.
    * A GAN is exported as its generator (noise, and labels when conditional, to
      images), which is exactly what the GAN's ``call`` and ``generate`` run.
    * A diffusion model cannot be exported whole: its ``call`` is a training step
      with random timesteps and noise, and sampling is a Python loop. Export
      ``model.network`` (the denoising U-Net) and run the sampling loop yourself.

Models that take raw input (what ``zoo.train`` returns and saves: the data's
preprocessing in front of the network, ``zoo.layers.preprocessing.attach``) are
checked on raw inputs, and each format holds as much of the preprocessing as it can:
    * ``saved_model`` holds all of it. Images: 0-255 pixels, of any size when the
      data was resized (checked at the training size and at another one). Texts: a
      string input. Tables: one named 1-D input per column (``serve({"age": ...,
      "city": ...})`` or ``signatures["serving_default"](age=..., city=...)``).
    * Images in ``tflite`` and ``onnx``: the rescaling is inside. The antialiased
      ``Resizing`` (TensorFlow's ``ScaleAndTranslate``) is neither a TFLite builtin
      nor converted by tf2onnx, so a resizing model is written at its training size
      (resize images to it, with antialiasing, before feeding them), and a note
      says so.
    * Tables in ``tflite``: raw columns in. FeatureSpace's one-hot encoding
      (``CategoryEncoding``, TensorFlow's ``DenseBincount``) is no TFLite builtin,
      but the string lookup and a one-hot op are, so the encoding is rebuilt with
      those and checked against the original on rows with an unseen category.
    * Tables in ``onnx`` and texts in both: tf2onnx converts no Keras string lookup
      (https://github.com/onnx/tensorflow-onnx/issues/1867) and neither format has
      ``TextVectorization``'s string ops (lowercasing, regex replace, split). The
      file holds the network; ``<file>.preprocessing.json`` beside it says how to
      compute its input from raw input (texts: the standardize and split settings,
      sequence length and ``<file>.vocabulary.txt``, one token per line, line number
      = token id; tables: each numeric column's mean and variance, each categorical
      column's vocabulary with the unseen-category column first, in column order),
      as :attr:`ExportResult.preprocessing` and the notes say. The check runs the
      network on what the Keras preprocessing makes of the raw samples, and the
      description must reproduce that exactly.
    * Every format runs the model in inference mode: Keras 3.15 lets ``Resizing``'s
      ``training=True`` default reach the layers after it when a model is called
      without ``training``, which would put the network's Dropout in training mode
      in a SavedModel (https://github.com/keras-team/keras/pull/23166).

Example:
    >>> result = zoo.export(zoo.build("convnet_tiny"), "convnet.onnx", format="onnx")
    >>> result.max_abs_diff < 1e-4
    True

    A model that takes raw pixels of any size, as ``zoo.train`` makes it:

    >>> data = zoo.data.load("digits", image_size=12)
    >>> network = zoo.build("convnet_tiny", input_shape=(12, 12, 1), num_classes=10)
    >>> model = zoo.layers.preprocessing.attach(network, data.preprocessor)
    >>> served = zoo.export(model, "digits_served")
    >>> served.input_shapes, served.max_abs_diff < 1e-4
    (((None, None, None, 1),), True)
    >>> small = zoo.export(model, "digits.tflite", format="tflite")
    >>> small.input_shapes, small.notes[0][:42]
    (((None, 12, 12, 1),), 'tflite: the file takes 12x12 images only (')
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import importlib.util
import json
import logging
import math
import os
import re
import string
import time
import warnings
import weakref
from pathlib import Path
from typing import Any

import keras
import numpy as np

from zoo import _fs, saving
from zoo import _validation as v
from zoo._compat.keras import all_layers, called_in_inference_mode, input_signature
from zoo._compat.tensorflow import native_logs_hidden, tflite_builtins_only
from zoo._compat.tf2onnx import register_erfc
from zoo.layers.preprocessing import split as split_preprocessing

FORMATS = ("saved_model", "tflite", "onnx")
DEFAULT_TOLERANCE = 1e-4
LOW_PRECISION_TOLERANCE = 1e-2
EXPORT_DIR = "export"
ARTIFACT_NAMES = {"saved_model": "saved_model", "tflite": "model.tflite", "onnx": "model.onnx"}
SAMPLE_BATCH = 2
MAX_SAMPLE_ROWS = 16
INSTALL_HINT = 'pip install tf2onnx onnx onnxruntime` (or `pip install "zoo[export]"`'
_KERAS_FORMATS = {"saved_model": "tf_saved_model", "tflite": "litert", "onnx": "onnx"}
_NEEDS = {"onnx": ("tf2onnx", "onnx", "onnxruntime")}
# Formats that exported a model in this process, for error messages: by model object,
# or by folder for saved models loaded by name.
_WORKED: weakref.WeakKeyDictionary[keras.Model, set[str]] = weakref.WeakKeyDictionary()
_WORKED_SAVED: dict[str, set[str]] = {}


class ExportError(RuntimeError):
    """A converter failed on the model, or the artifact it wrote does not run."""


class ExportParityError(ValueError):
    """The exported artifact's outputs differ from the Keras model's beyond the tolerance.

    Attributes:
        max_abs_diff: the largest absolute difference over all outputs.
        output_diffs: the largest absolute difference per output.
        tolerance: the tolerance it exceeded.
    """

    def __init__(
        self, message: str, max_abs_diff: float, output_diffs: dict[str, float], tolerance: float
    ) -> None:
        super().__init__(message)
        self.max_abs_diff = max_abs_diff
        self.output_diffs = output_diffs
        self.tolerance = tolerance


class MissingDependencyError(ImportError):
    """A package an export format needs is not installed."""


@dataclasses.dataclass(frozen=True)
class ExportResult:
    """What :func:`export` returns.

    Attributes:
        path: the artifact: a SavedModel folder, a ``.tflite`` or an ``.onnx`` file.
        format: ``"saved_model"``, ``"tflite"`` or ``"onnx"``.
        max_abs_diff: the largest absolute difference between the artifact's and the
            Keras model's outputs, over all outputs.
        output_diffs: the same per output (``output_0``, ... or the output names).
        tolerance: the tolerance the difference was checked against.
        seconds: wall time of the export and the check.
        size_bytes: size of the artifact (all files of a SavedModel).
        model_name: the exported model's name.
        input_shapes: the artifact's input shapes (None where it accepts any size).
        notes: anything the export changed or chose (a GAN's generator, a fixed shape,
            the preprocessing left out of a TFLite or ONNX file).
        preprocessing: for a file that holds the network without its preprocessing,
            the JSON file beside it that says how to compute the network's input from
            raw input (``<file>.preprocessing.json``); None when the file takes raw input.
    """

    path: Path
    format: str
    max_abs_diff: float
    output_diffs: dict[str, float]
    tolerance: float
    seconds: float
    size_bytes: int
    model_name: str = ""
    input_shapes: tuple[tuple[int | None, ...], ...] = ()
    notes: tuple[str, ...] = ()
    preprocessing: Path | None = None

    def __repr__(self) -> str:
        return (
            f"ExportResult(format={self.format!r}, path='{self.path}', "
            f"size={format_size(self.size_bytes)}, max_abs_diff={self.max_abs_diff:.2e} "
            f"<= tolerance={self.tolerance:.0e}, seconds={self.seconds:.1f})"
        )

    def __str__(self) -> str:
        lines = [
            f"exported {self.model_name or 'model'} as {self.format} to {self.path} "
            f"({format_size(self.size_bytes)}, {self.seconds:.1f} s)",
            f"largest difference from Keras: {self.max_abs_diff:.2e} "
            f"(tolerance {self.tolerance:.0e})",
        ]
        if len(self.output_diffs) > 1:
            lines += [f"  {name}: {diff:.2e}" for name, diff in self.output_diffs.items()]
        lines += [f"note: {note}" for note in self.notes]
        if self.preprocessing is not None:
            lines.append(f"preprocessing for clients: {self.preprocessing}")
        return "\n".join(lines)


def format_size(size: int) -> str:
    """A byte count for people.

    Example:
        >>> format_size(12_345)
        '12.3 kB'
    """
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _check_dependencies(format: str) -> None:
    needed = _NEEDS.get(format, ())
    missing = [m for m in needed if not _installed(m)]
    if missing:
        raise MissingDependencyError(
            f"format={format!r} needs the packages {', '.join(needed)}; missing: "
            f"{', '.join(missing)}. Install them with `{INSTALL_HINT}. "
            f"Received: format={format!r}"
        )


def _low_precision(model: keras.Model) -> bool:
    dtypes = {getattr(layer, "compute_dtype", None) for layer in all_layers(model)}
    return bool(dtypes & {"float16", "bfloat16"})


_LOW_PRECISION = ("float16", "bfloat16", "mixed_float16", "mixed_bfloat16")


def _as_float32(config: Any) -> Any:
    """A serialized model with every float16/bfloat16 dtype and policy made float32."""
    if isinstance(config, dict):
        if config.get("class_name") in ("DTypePolicy", "FloatDTypePolicy"):
            name = config.get("config", {}).get("name")
            if name in _LOW_PRECISION:
                return {**config, "config": {**config["config"], "name": "float32"}}
        return {
            key: "float32"
            if key == "dtype" and isinstance(value, str) and value in _LOW_PRECISION
            else _as_float32(value)
            for key, value in config.items()
        }
    if isinstance(config, list):
        return [_as_float32(item) for item in config]
    return config


def _float32_copy(model: keras.Model) -> keras.Model:
    """The same network in float32, with the model's weights.

    Mixed-precision variables are float32 already, so no weight is rounded.
    """
    config = _as_float32(keras.saving.serialize_keras_object(model))
    copy = keras.saving.deserialize_keras_object(config)
    copy.set_weights(model.get_weights())
    return copy


def _describe(model: Any) -> str:
    return f"<{type(model).__name__} {getattr(model, 'name', '?')!r}>"


def _resolve_saved(model: str | os.PathLike, root: Path | None) -> Path:
    bare = isinstance(model, str) and not ("/" in model or os.sep in model or model[:1] == ".")
    if root is not None and bare:
        return root / model
    return saving.resolve(model)


def _exportable(model: keras.Model) -> tuple[keras.Model, list[str]]:
    """The model to export (a GAN's generator), with notes; raises for diffusion models."""
    from zoo.architectures import diffusion, gan

    if isinstance(model, gan.GAN):
        return model.generator, [
            f"exported {model.name}.generator (noise{', labels' if model.num_classes else ''} "
            "-> images), which is what the GAN's call and generate() run; the "
            "discriminator is not exported"
        ]
    if isinstance(model, diffusion.Diffusion):
        raise v.ArgumentValueError(
            "`model` must have a deterministic inference call to be exported; a diffusion "
            "model's call is a training step (random timesteps and noise) and its sampling "
            "is a Python loop. Export its denoising network instead, "
            "zoo.export(model.network, ...) (noisy images and timesteps -> predicted "
            "noise), and run the sampling loop of Diffusion.generate around it. "
            f"Received: model={_describe(model)}"
        )
    return model, []


def _input_signature(model: keras.Model, sample: Any) -> list[Any]:
    """Keras's input signature for export: a list of positional-argument specs."""
    try:
        return input_signature(model)
    except ValueError as error:
        if sample is None:
            raise v.ArgumentValueError(
                "`model` must have known inputs to be exported: a functional model, or a "
                "subclassed model that has been called on data (or pass `sample=` to "
                f"describe its inputs). Keras says: {error} Received: model={_describe(model)}"
            ) from None

    def spec(array):
        array = np.asarray(array)
        return keras.InputSpec(shape=(None, *array.shape[1:]), dtype=str(array.dtype))

    if isinstance(sample, (list, tuple)):
        return [[spec(a) for a in sample]]
    if isinstance(sample, dict):
        return [{k: spec(a) for k, a in sample.items()}]
    return [spec(sample)]


def _structure(signature: list[Any]) -> Any:
    return signature[0] if len(signature) == 1 else list(signature)


def _spec_names(signature: list[Any]) -> list[str]:
    specs = keras.tree.flatten(_structure(signature))
    return [getattr(s, "name", None) or f"input_{i}" for i, s in enumerate(specs)]


def _token_range(model: keras.Model) -> int:
    """An exclusive bound for integer inputs (token ids, class labels).

    The vocabulary size, else the smallest embedding table (a conditional GAN's
    classes), else 10.
    """
    from zoo import registry

    layers = all_layers(model)
    vocab = [getattr(owner, "vocab_size", None) for owner in layers]
    vocab.append((registry.get_spec(model) or {}).get("arguments", {}).get("vocab_size"))
    vocab = [n for n in vocab if isinstance(n, int) and not isinstance(n, bool) and n > 0]
    if vocab:
        return min(vocab)
    tables = [layer.input_dim for layer in layers if isinstance(layer, keras.layers.Embedding)]
    return min(tables, default=10)


def _default_length(model: keras.Model) -> int:
    length = getattr(model, "max_length", None)
    return int(length) if isinstance(length, int) and length > 0 else 8


def _random_sample(model: keras.Model, signature: list[Any]) -> Any:
    rng = np.random.default_rng(0)
    high = _token_range(model)
    length = _default_length(model)

    def make(spec):
        shape = tuple(
            SAMPLE_BATCH if i == 0 and d is None else (length if d is None else int(d))
            for i, d in enumerate(spec.shape)
        )
        dtype = np.dtype(keras.backend.standardize_dtype(spec.dtype))
        if np.issubdtype(dtype, np.integer):
            return rng.integers(0, high, size=shape).astype(dtype)
        if dtype == np.bool_:
            return rng.integers(0, 2, size=shape).astype(bool)
        return rng.uniform(0.0, 1.0, size=shape).astype("float32").astype(dtype)

    return [keras.tree.map_structure(make, arg) for arg in signature]


def _sample_args(model: keras.Model, signature: list[Any], sample: Any) -> list[Any]:
    """The sample as positional arguments shaped like `signature` (dtype-cast, checked)."""
    if sample is None:
        return _random_sample(model, signature)
    structure = _structure(signature)
    specs = keras.tree.flatten(structure)
    names = _spec_names(signature)
    if isinstance(structure, dict) and hasattr(sample, "columns") and hasattr(sample, "iloc"):
        # A pandas DataFrame of raw table rows: the model's columns (others are ignored).
        sample = {key: sample[key].to_numpy() for key in structure if key in sample.columns}
    if isinstance(sample, dict) and not isinstance(structure, dict):
        unknown = sorted(set(sample) - set(names))
        if unknown or len(sample) != len(names):
            raise v.invalid(
                "sample", f"a dict with one array per model input, keyed {names}", sorted(sample)
            )
        arrays = [sample[name] for name in names]
    elif isinstance(sample, dict):
        if sorted(sample) != sorted(structure):
            raise v.invalid("sample", f"a dict keyed {sorted(structure)}", sorted(sample))
        arrays = keras.tree.flatten(sample)
    elif isinstance(sample, (list, tuple)) and len(specs) > 1:
        arrays = list(sample)
    else:
        arrays = [sample]
    if len(arrays) != len(specs):
        raise v.invalid(
            "sample", f"{len(specs)} arrays, one per model input ({', '.join(names)})", sample
        )
    checked = []
    for name, spec, array in zip(names, specs, arrays, strict=True):
        try:
            array = np.asarray(array)
        except (TypeError, ValueError):
            raise v.invalid("sample", "numpy arrays (or a dict or list of them)", array) from None
        expected = tuple(spec.shape)
        fits = array.ndim == len(expected) and all(
            d is None or d == a for d, a in zip(expected[1:], array.shape[1:], strict=True)
        )
        if not fits or array.shape[0] < 1:
            raise v.invalid(
                "sample",
                f"arrays the model takes: input {name!r} has shape {expected} "
                "(None: any size; the first axis is the batch)",
                f"array of shape {array.shape}",
            )
        if _is_string(spec):  # what Keras and TensorFlow take: an object array of str
            checked.append(array.astype(str).astype(object))
        else:
            checked.append(array.astype(keras.backend.standardize_dtype(spec.dtype)))
    return [keras.tree.pack_sequence_as(structure, checked)] if len(signature) == 1 else checked


# --- Raw-input models (zoo.layers.preprocessing.attach) ----------------------------------


@dataclasses.dataclass
class _Check:
    """Positional arguments for the artifact and the Keras model's outputs on them."""

    args: list[Any]
    expected: dict[str, np.ndarray]


@dataclasses.dataclass
class _Variant:
    """One way to write the model: whole, at a fixed image size, or its network alone."""

    model: keras.Model
    signature: list[Any]
    checks: list[_Check]
    note: Any = None  # reason -> the note saying what the file holds instead
    description: dict[str, Any] | None = None  # the preprocessing file, for clients
    vocabulary: list[str] | None = None


class _Unconvertible(Exception):
    """The converter failed on a variant, or its artifact does not run."""


def _find(model: keras.Model, kind: type) -> Any:
    return next((layer for layer in all_layers(model) if isinstance(layer, kind)), None)


def _is_string(spec: Any) -> bool:
    return keras.backend.standardize_dtype(spec.dtype) == "string"


def _raw_signature(model: keras.Model) -> list[Any]:
    """The raw inputs of a model made by ``attach``, named; table columns are 1-D."""
    structure = model.input
    columns = isinstance(structure, dict)

    def spec(tensor, name):
        shape = tuple(tensor.shape)
        if columns and shape[1:] == (1,):
            shape = shape[:1]
        return keras.InputSpec(shape=shape, dtype=tensor.dtype, name=name)

    if columns:
        return [{key: spec(tensor, key) for key, tensor in structure.items()}]
    if isinstance(structure, (list, tuple)):
        return [[spec(tensor, tensor.name) for tensor in structure]]
    return [spec(structure, structure.name)]


def _raw_samples(preprocessor: keras.Model, signature: list[Any]) -> list[list[Any]] | None:
    """Raw inputs to check with: 0-255 pixels, texts from the vocabulary, table rows.

    Images get one batch at the training size and, when the model resizes any size,
    one at another size and aspect ratio. None where the raw input is of no known kind.
    """
    rng = np.random.default_rng(0)
    structure = _structure(signature)
    if isinstance(structure, dict):
        return [[_table_sample(preprocessor, structure, rng)]]
    if not isinstance(structure, keras.InputSpec):
        return None
    if _is_string(structure) and len(structure.shape) == 1:
        vectorizer = _find(preprocessor, keras.layers.TextVectorization)
        return None if vectorizer is None else [[_text_sample(vectorizer)]]
    if len(structure.shape) == 4:
        return _image_samples(preprocessor, structure, rng)
    return None


def _image_samples(preprocessor, spec, rng) -> list[list[Any]] | None:
    _, height, width, channels = spec.shape
    resize = _find(preprocessor, keras.layers.Resizing)
    size = (resize.height, resize.width) if resize is not None else (height, width)
    if None in size or channels is None:
        return None
    dtype = keras.backend.standardize_dtype(spec.dtype)

    def pixels(h, w):
        return rng.integers(0, 256, size=(SAMPLE_BATCH, h, w, channels)).astype(dtype)

    samples = [[pixels(*size)]]
    if height is None and width is None:
        samples.append([pixels(size[0] + size[0] // 2 + 1, size[1] + 3)])
    return samples


def _text_sample(vectorizer) -> np.ndarray:
    """Texts of the vocabulary's words.

    With capitals and punctuation, longer than the sequence, and with an unseen word.
    """
    vocabulary = [str(token) for token in vectorizer.get_vocabulary()]
    words = [token for token in vocabulary[2:] if token.strip()] or ["word"]
    unseen = "qzxunseen"
    while unseen in vocabulary:
        unseen += "q"
    length = vectorizer.get_config().get("output_sequence_length") or 8

    def pick(n, start):
        return [words[(start + i) % len(words)] for i in range(n)]

    first = pick(3, 0)
    texts = [
        f"{first[0].upper()}, {first[1]}! {first[2]}.",
        " ".join(pick(length + 3, 3)),
        f"{unseen} {words[-1]}",
    ]
    return np.asarray(texts, dtype=object)


def _table_sample(preprocessor, structure: dict[str, Any], rng) -> dict[str, np.ndarray]:
    """Rows of every column.

    Numbers around the training mean; every category seen in training (as far as the
    rows go) and one never seen.
    """
    encoding = {block["column"]: block for block in _table_encoding(preprocessor) or []}
    categories = {}
    for name, spec in structure.items():
        if _is_string(spec):
            seen = encoding.get(name, {}).get("vocabulary", ["[UNK]"])[1:]
            unseen = next(
                f"<unseen {i}>" for i in range(len(seen) + 1) if f"<unseen {i}>" not in seen
            )
            categories[name] = [*seen, unseen]
    rows = max([SAMPLE_BATCH, *(len(values) for values in categories.values())])
    rows = min(rows, MAX_SAMPLE_ROWS)
    sample = {}
    for name, spec in structure.items():
        if name in categories:
            values = categories[name]
            sample[name] = np.asarray([values[i % len(values)] for i in range(rows)], dtype=object)
            continue
        block = encoding.get(name, {})
        mean, std = block.get("mean", 0.0), math.sqrt(block.get("variance", 1.0))
        values = mean + std * rng.standard_normal(rows)
        sample[name] = values.astype(keras.backend.standardize_dtype(spec.dtype))
    return sample


# --- What a client needs to reproduce string preprocessing -------------------------------

TEXT_STRIP_CHARACTERS = r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']'  # TextVectorization's
_WHITESPACE = " \t\n\v\f\r"  # what tf.strings.split splits on (ASCII whitespace)
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_STANDARDIZE = {
    None: (False, False),
    "lower": (True, False),
    "strip_punctuation": (False, True),
    "lower_and_strip_punctuation": (True, True),
}
PREPROCESSING_SUFFIX = ".preprocessing.json"
VOCABULARY_SUFFIX = ".vocabulary.txt"
PREPROCESSING_FORMAT = "zoo-preprocessing/1"


def _graph(model: keras.Model) -> tuple[dict[str, list[str]], list[str], Any]:
    """A functional model's graph, from its config (public, unlike its nodes).

    Returns:
        (each layer's input layers by name, the output layers' names, the config's
        ``input_layers``: by key for a dict input).
    """
    config = model.get_config()

    def sources(value) -> list[str]:
        if isinstance(value, dict):
            if value.get("class_name") == "__keras_tensor__":
                return [value["config"]["keras_history"][0]]
            return [name for item in value.values() for name in sources(item)]
        if isinstance(value, (list, tuple)):
            return [name for item in value for name in sources(item)]
        return []

    parents = {}
    for layer in config["layers"]:
        nodes = layer.get("inbound_nodes") or []
        if len(nodes) > 1:
            raise ValueError(f"layer {layer['name']!r} is called more than once")
        parents[layer["name"]] = sources(nodes[0]) if nodes else []
    outputs = config["output_layers"]
    if outputs and isinstance(outputs[0], str):
        outputs = [outputs]
    return parents, [history[0] for history in outputs], config["input_layers"]


def _describe_column(column: str, chain: list[Any]) -> dict[str, Any] | None:
    """How one table column is encoded, from the layers between its input and the row."""
    if len(chain) == 1 and isinstance(chain[0], keras.layers.Normalization):
        layer = chain[0]
        mean = np.ravel(keras.ops.convert_to_numpy(layer.mean))
        variance = np.ravel(keras.ops.convert_to_numpy(layer.variance))
        if layer.invert or mean.size != 1 or variance.size != 1:
            return None
        return {
            "column": column,
            "kind": "numeric",
            "mean": float(mean[0]),
            "variance": float(variance[0]),
            "epsilon": float(keras.config.epsilon()),
            "width": 1,
        }
    if not chain or not isinstance(chain[0], keras.layers.StringLookup):
        return None
    config = chain[0].get_config()
    vocabulary = [str(token) for token in chain[0].get_vocabulary()]
    one_hot, rest = ("one_hot", "multi_hot"), chain[1:]  # one value per row: the same
    encoded = (config["output_mode"] in one_hot and not rest) or (
        config["output_mode"] == "int"
        and len(rest) == 1
        and isinstance(rest[0], keras.layers.CategoryEncoding)
        and rest[0].output_mode in one_hot
        and rest[0].num_tokens == len(vocabulary)
    )
    plain = config.get("num_oov_indices") == 1 and config.get("mask_token") is None
    if not encoded or not plain or config.get("invert"):
        return None
    return {
        "column": column,
        "kind": "categorical",
        "vocabulary": vocabulary,
        "width": len(vocabulary),
    }


def _table_encoding(preprocessor: keras.Model) -> list[dict[str, Any]] | None:
    """The encoded row of a table preprocessor, block by block in order.

    A ``keras.utils.FeatureSpace`` of standardised numbers and one-hot categories;
    None for a preprocessor of another shape.
    """
    try:
        parents, outputs, inputs = _graph(preprocessor)
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    if not isinstance(inputs, dict) or len(outputs) != 1:
        return None
    column_of = {history[0]: key for key, history in inputs.items()}
    layers = {layer.name: layer for layer in preprocessor.layers}
    output = outputs[0]
    joins = len(parents.get(output, [])) > 1 and getattr(layers[output], "axis", None) in (-1, 1)
    blocks = parents[output] if joins else [output]
    encoding = []
    for name in blocks:
        chain = []
        while name not in column_of:
            if name not in layers or len(parents.get(name, [])) != 1:
                return None
            chain.insert(0, layers[name])
            name = parents[name][0]
        block = _describe_column(column_of[name], chain)
        if block is None:
            return None
        encoding.append(block)
    return encoding


def _text_encoding(preprocessor: keras.Model) -> tuple[dict[str, Any], list[str]] | None:
    """The settings and vocabulary of a preprocessor that is one ``TextVectorization``."""
    inner = [
        layer for layer in preprocessor.layers if not isinstance(layer, keras.layers.InputLayer)
    ]
    if len(inner) != 1 or not isinstance(inner[0], keras.layers.TextVectorization):
        return None
    config = inner[0].get_config()
    standardize, split = config.get("standardize"), config.get("split")
    length = config.get("output_sequence_length")
    if (
        config.get("output_mode") != "int"
        or config.get("ngrams")
        or config.get("ragged")
        or config.get("sparse")
        or standardize not in _STANDARDIZE
        or split not in (None, "whitespace", "character")
    ):
        return None
    vocabulary = [str(token) for token in inner[0].get_vocabulary()]
    if vocabulary[:2] != ["", "[UNK]"] or any(
        "\n" in token or "\r" in token for token in vocabulary
    ):
        return None
    lower, strip = _STANDARDIZE[standardize]
    return {
        "standardize": standardize,
        "lowercase": lower,
        "lowercase_letters": "A-Z (ASCII only, as tf.strings.lower)",
        "strip_characters": TEXT_STRIP_CHARACTERS if strip else None,
        "split": split,
        "whitespace": _WHITESPACE,
        "output_sequence_length": length,
        "padding_id": 0,
        "unknown_id": 1,
        "vocabulary_size": len(vocabulary),
    }, vocabulary


def _encode_text(description: dict[str, Any], vocabulary: list[str], texts) -> np.ndarray:
    """Token ids from raw texts with the description alone, as a client would."""
    ids = {}
    for index, token in enumerate(vocabulary):
        ids.setdefault(token, index)
    rows = []
    for text in np.ravel(texts):
        text = text.decode() if isinstance(text, bytes) else str(text)
        if description["lowercase"]:
            text = text.translate(_ASCII_LOWER)
        if description["strip_characters"]:
            text = re.sub(description["strip_characters"], "", text)
        if description["split"] is None:
            tokens = [text]
        elif description["split"] == "character":
            tokens = list(text)
        else:
            spaces = re.escape(description["whitespace"])
            tokens = [token for token in re.split(f"[{spaces}]+", text) if token]
        rows.append([ids.get(token, description["unknown_id"]) for token in tokens])
    length = description["output_sequence_length"] or max(map(len, rows), default=0)
    encoded = np.zeros((len(rows), length), "int64")
    for i, row in enumerate(rows):
        row = row[:length]
        encoded[i, : len(row)] = row
    return encoded


def _encode_table(encoding: list[dict[str, Any]], columns: dict[str, Any]) -> np.ndarray:
    """Encoded rows from raw columns with the description alone, as a client would."""
    parts = []
    for block in encoding:
        values = np.ravel(columns[block["column"]])
        if block["kind"] == "numeric":
            x = values.astype("float32")
            std = np.float32(max(math.sqrt(block["variance"]), block["epsilon"]))
            parts.append(((x - np.float32(block["mean"])) / std)[:, None])
            continue
        index = {token: i for i, token in enumerate(block["vocabulary"]) if i > 0}
        hot = np.zeros((len(values), block["width"]), "float32")
        keys = [v.decode() if isinstance(v, bytes) else str(v) for v in values]
        hot[np.arange(len(values)), [index.get(key, 0) for key in keys]] = 1.0
        parts.append(hot)
    return np.concatenate(parts, axis=1) if parts else np.zeros((0, 0), "float32")


def _flat_outputs(outputs: Any) -> dict[str, np.ndarray]:
    """Outputs by name: a dict's keys (sorted, as flattening orders them) or output_<i>."""
    if isinstance(outputs, dict):
        return {str(k): np.asarray(outputs[k]) for k in sorted(outputs)}
    flat = [keras.ops.convert_to_numpy(o) for o in keras.tree.flatten(outputs)]
    return {f"output_{i}": array for i, array in enumerate(flat)}


def _tf_signature(signature: list[Any], fixed: list[Any] | None = None) -> list[Any]:
    """TensorSpecs for `signature`, with shapes of the `fixed` arrays if given."""
    import tensorflow as tf

    def spec(input_spec, array=None):
        shape = tuple(input_spec.shape) if array is None else (1, *np.shape(array)[1:])
        dtype = keras.backend.standardize_dtype(input_spec.dtype)
        return tf.TensorSpec(shape, dtype=dtype, name=getattr(input_spec, "name", None))

    if fixed is None:
        return [keras.tree.map_structure(spec, arg) for arg in signature]
    return [
        keras.tree.map_structure(spec, arg, value)
        for arg, value in zip(signature, fixed, strict=True)
    ]


def _one_line(error: BaseException, limit: int = 400) -> str:
    """The gist of a converter's error on one line."""
    text = str(error).strip() or type(error).__name__
    ops = sorted(set(re.findall(r"'(tf\.\w+)' op", text)))
    if ops and ("neither a custom op nor a flex op" in text or "legalize" in text):
        return f"TensorFlow ops with no TFLite builtin equivalent: {', '.join(ops)}"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if "error:" in line.lower()]
    line = (errors or lines)[0]
    line = re.sub(r"loc\(.*?\):\s*", "", line)
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _worked(model: keras.Model, source: Path | None) -> set[str]:
    """The formats that exported this model (or this saved model) before."""
    if source is not None:
        return _WORKED_SAVED.setdefault(str(source.resolve()), set())
    return _WORKED.setdefault(model, set())


def _failure(worked: set[str], name: str, format: str, reason: str) -> ExportError:
    worked = sorted(worked - {format})
    if worked:
        hint = f" Formats that exported this model here: {', '.join(worked)}."
    elif format != "saved_model":
        hint = " format='saved_model' exports every functional model zoo builds."
    else:
        hint = ""
    reason = reason.rstrip(". ")
    return ExportError(f"Cannot export model {name!r} to {format}: {reason}.{hint}")


class _ConverterErrors(logging.Handler):
    """Collects what tf2onnx logs as errors (ops it has no conversion for)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(Exception):
            self.messages.append(record.getMessage())


def _unconverted_ops(messages: list[str]) -> list[str]:
    text = "\n".join(messages)
    ops = set(re.findall(r"Tensorflow op \[[^\]]*: (\w+)\] is not supported", text))
    return sorted(ops | set(re.findall(r"\bOP=(\w+)", text)))


def _convert(model, fmt: str, path: Path, signature: list[Any], **kwargs: Any) -> None:
    if fmt == "onnx":
        register_erfc()
    logger = logging.getLogger("tf2onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    errors = _ConverterErrors()
    logger.addHandler(errors)
    try:
        with warnings.catch_warnings(), native_logs_hidden():
            warnings.simplefilter("ignore")
            model.export(
                str(path),
                format=_KERAS_FORMATS[fmt],
                verbose=False,
                input_signature=signature,
                **kwargs,
            )
    finally:
        logger.removeHandler(errors)
        logger.setLevel(level)
    ops = _unconverted_ops(errors.messages)
    if ops:  # tf2onnx leaves them in the graph, which ONNX Runtime then rejects
        raise RuntimeError(f"tf2onnx has no conversion for the TensorFlow ops {', '.join(ops)}")


def _run_saved_model(path: Path, args: list[Any]) -> Any:
    import tensorflow as tf

    loaded = tf.saved_model.load(str(path))  # keep a reference while serving
    outputs = loaded.serve(*args)
    return keras.tree.map_structure(np.asarray, outputs)


def _run_onnx(path: Path, flat: list[np.ndarray], names: list[str]) -> list[np.ndarray]:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    inputs = session.get_inputs()
    by_name = {i.name.split(":")[0]: i.name for i in inputs}
    if sorted(by_name) == sorted(names):
        feed = {by_name[name]: array for name, array in zip(names, flat, strict=True)}
    else:
        feed = {i.name: array for i, array in zip(inputs, flat, strict=True)}
    return session.run(None, feed)


def _tflite_interpreter(path: Path):
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        import tensorflow as tf

        Interpreter = tf.lite.Interpreter
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tf.lite.Interpreter's deprecation notice
        return Interpreter(model_path=str(path))


def _run_tflite(path: Path, flat: list[np.ndarray], names: list[str]) -> list[np.ndarray]:
    interpreter = _tflite_interpreter(path)
    runner = interpreter.get_signature_runner()
    details = runner.get_input_details()
    keys = list(details)
    if sorted(keys) == sorted(names):
        order = names
    elif len(keys) == len(flat):
        order = sorted(keys, key=lambda k: details[k]["index"])
    else:
        raise RuntimeError(f"the file has inputs {keys}, the model {names}")
    static = all(details[k]["shape_signature"][0] != -1 for k in order)
    batch = len(flat[0])
    step = int(details[order[0]]["shape"][0]) if static else batch
    if batch % step:
        raise RuntimeError(f"the file takes batches of {step}, the sample has {batch}")
    results: dict[str, list[np.ndarray]] = {}
    for start in range(0, batch, step):
        feed = {k: a[start : start + step] for k, a in zip(order, flat, strict=True)}
        for key, value in runner(**feed).items():
            results.setdefault(key, []).append(np.asarray(value))
    # Keras names a signature's outputs output_0, output_1, ... in flattening order.
    numbered = all(re.fullmatch(r"output_\d+", k) for k in results)
    keys_out = sorted(results, key=(lambda k: int(k[7:])) if numbered else None)
    return [np.concatenate(results[k]) for k in keys_out]


def _artifact_outputs(fmt: str, path: Path, args: list[Any], names: list[str]) -> list[np.ndarray]:
    flat = [np.asarray(a) for a in keras.tree.flatten(args)]
    import tensorflow as tf

    with native_logs_hidden(), tf.device("/cpu:0"):
        if fmt == "saved_model":
            return list(_flat_outputs(_run_saved_model(path, args)).values())
        if fmt == "onnx":
            return _run_onnx(path, flat, names)
        return _run_tflite(path, flat, names)


def _input_shapes(signature: list[Any]) -> tuple[tuple[int | None, ...], ...]:
    return tuple(tuple(s.shape) for s in keras.tree.flatten(signature))


def _default_target(source: Path | None, model: keras.Model, fmt: str, root: Path | None) -> Path:
    if source is not None and source.suffix == ".keras" and not source.is_dir():
        folder = source.parent / f"{source.stem}_export"
    elif source is not None:
        folder = source / EXPORT_DIR
    else:
        folder = (root if root is not None else saving.saved_models_dir()) / model.name / EXPORT_DIR
    return folder / ARTIFACT_NAMES[fmt]


def _check_target(path: Any, fmt: str) -> Path:
    if not isinstance(path, (str, os.PathLike)) or not str(path).strip():
        raise v.invalid("path", "None or a file or folder path", path, TypeError)
    target = Path(path)
    if fmt != "saved_model" and (target.is_dir() or str(path).endswith(("/", os.sep))):
        target = target / ARTIFACT_NAMES[fmt]
    if fmt == "saved_model" and target.exists():
        is_saved_model = (target / "saved_model.pb").is_file()
        if not target.is_dir() or (not is_saved_model and any(target.iterdir())):
            raise v.invalid(
                "path",
                "a new folder or an existing SavedModel folder (it is replaced); this one "
                "holds other files",
                str(path),
            )
    elif fmt != "saved_model" and target.is_dir():
        raise v.invalid("path", f"a file path for format={fmt!r}", str(path))
    return target


_RUNTIMES = {
    "saved_model": "TensorFlow",
    "tflite": "the TFLite interpreter",
    "onnx": "ONNX Runtime",
}


def _float32_model(exported: keras.Model, fmt: str, notes: list[str], fail) -> keras.Model:
    policy = exported.dtype_policy.name
    try:
        copy = _float32_copy(exported)
    except Exception as error:
        raise fail(
            f"{fmt} needs a float32 model and copying this {policy} model to float32 "
            f"failed ({_one_line(error)}); rebuild it with dtype='float32' and copy "
            "the weights over with set_weights"
        ) from error
    notes.append(
        f"exported a float32 copy of the {policy} model ({fmt} runs float32); "
        "the difference is measured against the original model"
    )
    return copy


def _write(model, fmt, artifact, signature, args, notes) -> list[Any]:
    """Convert `model` to `artifact`; returns the TensorSpecs it was written with.

    TFLite gets builtin ops only; when variable shapes need Select TF ops, the input
    shape is fixed (batch 1, the sample's other dimensions) and a note says so.

    Raises:
        _Unconvertible: the converter failed (the reason on one line).
    """
    tf_signature = _tf_signature(signature)
    model = called_in_inference_mode(model, signature)
    if fmt != "tflite":
        try:
            _convert(model, fmt, artifact, tf_signature)
        except ImportError as error:
            raise MissingDependencyError(
                f"format={fmt!r} failed to import a converter ({error}). Install "
                f"compatible versions with `{INSTALL_HINT}. Received: format={fmt!r}"
            ) from error
        except Exception as error:
            raise _Unconvertible(_one_line(error)) from error
        return tf_signature
    builtins = tflite_builtins_only()
    try:
        _convert(model, fmt, artifact, tf_signature, **builtins)
        return tf_signature
    except Exception as error:
        dynamic_reason = _one_line(error)
    fixed = _tf_signature(signature, fixed=args)
    try:
        _convert(model, fmt, artifact, fixed, **builtins)
    except Exception as error:
        raise _Unconvertible(_one_line(error)) from error
    shapes = ", ".join(str(s) for s in _input_shapes(fixed))
    notes.append(
        f"tflite: fixed input shape {shapes}; variable shapes need TensorFlow Select ops, "
        f"which the standard TFLite runtime lacks ({dynamic_reason})"
    )
    return fixed


def _fits(args: list[Any], signature: list[Any]) -> bool:
    """Whether every array has the rank and the fixed sizes (past the batch) of its spec."""
    arrays = keras.tree.flatten(args)
    specs = keras.tree.flatten(signature)
    return len(arrays) == len(specs) and all(
        np.ndim(a) == len(tuple(s.shape))
        and all(
            d is None or d == n for d, n in zip(tuple(s.shape)[1:], np.shape(a)[1:], strict=True)
        )
        for a, s in zip(arrays, specs, strict=True)
    )


def _differences(fmt, artifact, checks: list[_Check], names, fail) -> dict[str, float]:
    """The largest absolute difference per output between the artifact and Keras.

    Raises:
        _Unconvertible: the artifact does not run.
    """
    diffs: dict[str, float] = {}
    for check in checks:
        try:
            actual = _artifact_outputs(fmt, artifact, check.args, names)
        except Exception as error:
            raise _Unconvertible(
                f"the exported file does not run in {_RUNTIMES[fmt]}: {_one_line(error)}"
            ) from error
        if len(actual) != len(check.expected):
            raise fail(f"the artifact has {len(actual)} outputs, the model {len(check.expected)}")
        for (out_name, want), got in zip(check.expected.items(), actual, strict=True):
            want = np.asarray(want, dtype="float64")
            got = np.asarray(got, dtype="float64")
            if want.shape != got.shape:
                raise fail(f"output {out_name} has shape {got.shape}, expected {want.shape}")
            diff = float(np.max(np.abs(want - got))) if want.size else 0.0
            diff = diff if math.isfinite(diff) else math.inf
            diffs[out_name] = max(diffs.get(out_name, 0.0), diff)
    return diffs


# --- Which model goes into the file ------------------------------------------------------

_HOLDS = {"tflite": "TFLite's builtin ops", "onnx": "ONNX"}
_TEXT_HOW = (
    "For each text: if lowercase is true, lowercase the ASCII letters A-Z; if "
    "strip_characters is set, delete every match of that regular expression; split "
    "'whitespace': split on runs of the whitespace characters, dropping empty tokens "
    "('character': into Unicode code points; null: the whole text is one token); "
    "replace each token by its line number in vocabulary_file (line 0 is "
    "padding; a token not in the file becomes unknown_id); cut or pad with padding_id to "
    "output_sequence_length. Feed the ids (a batch of rows) to the artifact."
)
_TABLE_HOW = (
    "For each row, concatenate the blocks of `encoding` in order: a numeric column "
    "becomes (x - mean) / max(sqrt(variance), epsilon); a categorical column becomes a "
    "one-hot vector over its vocabulary, where position 0 stands for every value not in "
    "it. Feed the rows (float32) to the artifact."
)


def _fixed_size_variant(model, preprocessor, network, signature, checks, fmt) -> _Variant | None:
    """The raw-image model at its training size, with the resizing left out."""
    spec = _structure(signature)
    resize = _find(preprocessor, keras.layers.Resizing)
    if resize is None or not isinstance(spec, keras.InputSpec) or len(spec.shape) != 4:
        return None
    if spec.shape[1] is not None or spec.shape[2] is not None:
        return None
    height, width, channels = resize.height, resize.width, spec.shape[3]
    shape = (height, width, channels)
    try:
        parents, _, _ = _graph(preprocessor)
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    # The preprocessing layers again in a chain without the resizing: copies, called
    # anew (replaying the resizing's recorded call would pass training=True on).
    inputs = keras.Input(shape, dtype=spec.dtype, name=spec.name)
    x, previous = inputs, preprocessor.layers[0].name
    for layer in preprocessor.layers[1:]:
        if parents.get(layer.name) != [previous]:
            return None  # not a chain
        previous = layer.name
        if layer is resize:
            continue
        copy = layer.__class__.from_config(layer.get_config())
        x = copy(x)
        copy.set_weights(layer.get_weights())
    whole = keras.Model(inputs, network(x), name=model.name)
    fixed_signature = [keras.InputSpec(shape=(None, *shape), dtype=spec.dtype, name=spec.name)]
    kept = [check for check in checks if _fits(check.args, fixed_signature)]
    if not kept:
        raise _Unconvertible(
            f"the file could take {height}x{width} images only, and the sample has none"
        )

    def note(reason: str) -> str:
        return (
            f"{fmt}: the file takes {height}x{width} images only (raw 0-255 pixels): the "
            f"Resizing (with antialias) that takes any size has no "
            f"equivalent in {_HOLDS[fmt]} ({reason}). Resize images to {height}x{width} "
            "with antialiasing before feeding them, or export format='saved_model', which "
            "resizes any size"
        )

    return _Variant(whole, fixed_signature, kept, note=note)


def _table_variant(model, preprocessor, network, signature, checks, fmt) -> _Variant | None:
    """The raw-table model with its encoding rebuilt from lookups and a one-hot op.

    FeatureSpace one-hot encodes with ``CategoryEncoding`` (TensorFlow's
    ``DenseBincount``), which TFLite's builtin ops lack, while they hold the string
    lookup and a one-hot op. Checked on the raw rows like the original model.
    """
    encoding = _table_encoding(preprocessor)
    structure = _structure(signature)
    if encoding is None or not isinstance(structure, dict):
        return None
    inputs = {
        key: keras.Input(batch_shape=tuple(spec.shape), dtype=spec.dtype, name=key)
        for key, spec in structure.items()
    }
    parts = []
    for block in encoding:
        column = inputs[block["column"]]
        if len(column.shape) == 1:
            column = keras.ops.expand_dims(column, -1)
        if block["kind"] == "numeric":
            std = max(math.sqrt(block["variance"]), block["epsilon"])
            x = keras.ops.cast(column, "float32")
            parts.append((x - np.float32(block["mean"])) / np.float32(std))
            continue
        lookup = keras.layers.StringLookup(
            vocabulary=block["vocabulary"][1:], num_oov_indices=1, name=f"{block['column']}_ids"
        )
        ids = keras.ops.squeeze(lookup(column), -1)
        parts.append(keras.ops.one_hot(ids, block["width"], dtype="float32"))
    row = keras.ops.concatenate(parts, axis=-1) if len(parts) > 1 else parts[0]
    whole = keras.Model(inputs, network(row), name=model.name)

    def note(reason: str) -> str:
        return (
            f"{fmt}: the file takes raw table columns; their encoding is rebuilt with a "
            "string lookup and a one-hot op because the FeatureSpace's one-hot encoding "
            f"has no equivalent in {_HOLDS[fmt]} ({reason})"
        )

    return _Variant(whole, signature, checks, note=note)


def _network_variant(preprocessor, network, checks, fmt, target: Path) -> _Variant | None:
    """The network alone, with a description of its string preprocessing for clients.

    It is checked on what the Keras preprocessor makes of the raw samples, and the
    description must reproduce that exactly from the raw samples.
    """
    text = _text_encoding(preprocessor)
    encoding = None if text is not None else _table_encoding(preprocessor)
    if text is None and encoding is None:
        return None
    import tensorflow as tf

    signature = _input_signature(network, None)
    kept = []
    for check in checks:
        raw = check.args[0]
        with tf.device("/cpu:0"):
            encoded = keras.ops.convert_to_numpy(preprocessor(raw, training=False))
        if text is not None:
            reproduced = _encode_text(text[0], text[1], raw)
            same = reproduced.shape == encoded.shape and np.array_equal(reproduced, encoded)
        else:
            reproduced = _encode_table(encoding, raw)
            same = reproduced.shape == encoded.shape and np.allclose(
                reproduced, encoded, rtol=1e-5, atol=1e-5
            )
        if not same:
            raise _Unconvertible(
                "zoo's description of the preprocessing for clients does not reproduce it "
                "on the sample inputs"
            )
        kept.append(_Check(_sample_args(network, signature, encoded), check.expected))
    spec = keras.tree.flatten(_tf_signature(signature))[0]
    json_name = f"{target.name}{PREPROCESSING_SUFFIX}"
    description: dict[str, Any] = {
        "format": PREPROCESSING_FORMAT,
        "kind": "text" if text is not None else "table",
        "artifact": target.name,
        "artifact_input": {"shape": list(spec.shape), "dtype": spec.dtype.name},
    }
    vocabulary = None
    if text is not None:
        vocabulary = text[1]
        description["raw_input"] = "a batch of strings"
        description["vocabulary_file"] = f"{target.name}{VOCABULARY_SUFFIX}"
        description.update(text[0])
        description["how"] = _TEXT_HOW
        files = f"{json_name} and {description['vocabulary_file']} describe"
        what, takes = "TextVectorization", "token ids"
    else:
        description["raw_input"] = {
            key: keras.backend.standardize_dtype(tensor.dtype)
            for key, tensor in preprocessor.input.items()
        }
        description["encoding"] = encoding
        description["how"] = _TABLE_HOW
        files = f"{json_name} describes"
        what, takes = "FeatureSpace: string lookups, one-hot encoding", "encoded rows"

    def note(reason: str) -> str:
        return (
            f"{fmt}: the file holds the network without its preprocessing ({what}), "
            f"which has no equivalent in {_HOLDS[fmt]} ({reason}). It takes "
            f"{takes} of shape {tuple(spec.shape)} ({spec.dtype.name}); {files} how to "
            "compute them from raw input. format='saved_model' holds the preprocessing"
        )

    return _Variant(
        network, signature, kept, note=note, description=description, vocabulary=vocabulary
    )


def _write_first(model, fmt: str, signature, checks, target: Path, folder: Path, fail):
    """Write the model in the first way that converts and runs, and check it.

    A SavedModel holds every model whole. For TFLite and ONNX, a raw-input model's
    preprocessing is converted alone first: if it converts, the whole model is written;
    if not, a raw-image model is written at its training size without the resizing,
    and a model with string preprocessing that zoo can describe as its network alone.

    Returns:
        (variant, artifact path, TensorSpecs, differences, notes).
    """
    preprocessor, network = split_preprocessing(model)
    candidates = [lambda: _Variant(model, signature, checks)]
    reason = None
    if fmt != "saved_model" and preprocessor is not None:
        probe = folder / "preprocessing" / ARTIFACT_NAMES[fmt]
        probe.parent.mkdir()
        try:
            _write(preprocessor, fmt, probe, signature, checks[0].args, [])
        except _Unconvertible as error:
            reason = str(error)
            arguments = (model, preprocessor, network, signature, checks, fmt)
            candidates = [
                lambda: _fixed_size_variant(*arguments),
                lambda: _table_variant(*arguments),
                lambda: _network_variant(preprocessor, network, checks, fmt, target),
            ]
    reasons = []
    for index, make in enumerate(candidates):
        try:
            variant = make()
            if variant is None:
                continue
            artifact = folder / str(index) / ARTIFACT_NAMES[fmt]
            artifact.parent.mkdir()
            notes: list[str] = []
            tf_signature = _write(
                variant.model, fmt, artifact, variant.signature, variant.checks[0].args, notes
            )
            checks_run = [check for check in variant.checks if _fits(check.args, tf_signature)]
            names = _spec_names(variant.signature)
            diffs = _differences(fmt, artifact, checks_run, names, fail)
        except _Unconvertible as error:
            reasons.append(str(error))
            continue
        if variant.note is not None:
            notes.insert(0, variant.note(reason))
        return variant, artifact, tf_signature, diffs, notes
    if reason is None:
        raise fail("; ".join(reasons))
    tried = f"; without it: {'; '.join(reasons)}" if reasons else ""
    raise fail(f"its preprocessing does not convert ({reason}){tried}")


def _preprocessing_files(variant: _Variant, folder: Path) -> dict[str, Path]:
    """The files that describe the preprocessing, written into `folder`, by name."""
    if variant.description is None:
        return {}
    written = {}
    if variant.vocabulary is not None:
        path = folder / variant.description["vocabulary_file"]
        path.write_text("".join(f"{token}\n" for token in variant.vocabulary), encoding="utf-8")
        written[path.name] = path
    name = f"{variant.description['artifact']}{PREPROCESSING_SUFFIX}"
    path = folder / name
    path.write_text(json.dumps(variant.description, indent=2) + "\n", encoding="utf-8")
    written[name] = path
    return written


def _install(artifact: Path, target: Path, files: dict[str, Path]) -> Path | None:
    """Move the artifact and its preprocessing files into place; stale files go."""
    for name, path in files.items():
        _fs.install(path, target.parent / name)
    _fs.install(artifact, target)
    for suffix in (PREPROCESSING_SUFFIX, VOCABULARY_SUFFIX):
        name = f"{target.name}{suffix}"
        if name not in files:
            (target.parent / name).unlink(missing_ok=True)
    name = f"{target.name}{PREPROCESSING_SUFFIX}"
    return target.parent / name if name in files else None


def export(
    model: keras.Model | str | os.PathLike,
    path: str | os.PathLike | None = None,
    format: str = "saved_model",
    *,
    sample: Any = None,
    tolerance: float | None = None,
    saved_models_dir: str | os.PathLike | None = None,
) -> ExportResult:
    """Export `model` for serving and check the artifact against the Keras model.

    The artifact is run on `sample` next to the Keras model; the largest absolute
    difference per output is printed, and the artifact is moved into place only if it
    is within `tolerance`. Without a sample, a model that takes raw input (one that
    ``zoo.train`` made, see ``zoo.layers.preprocessing.attach``) is checked on raw
    inputs: 0-255 pixels at the training size (and at another size when it resizes
    any size), texts of its vocabulary with capitals, punctuation and an unseen word,
    or table rows with every category and an unseen one. Other models get random
    inputs: floats uniform in [0, 1), token ids below the vocabulary size, batch 2.

    A SavedModel holds the whole model, preprocessing included (named string or column
    inputs). TFLite and ONNX get the whole model where their converters take it; a
    raw-image model whose resizing they cannot hold is written at its training size,
    and a text or table model whose preprocessing uses string ops is written as its
    network, with ``<file>.preprocessing.json`` (and for texts
    ``<file>.vocabulary.txt``) beside it saying how to compute the network's input
    from raw input (:attr:`ExportResult.preprocessing`); the check then runs the
    network on what the Keras preprocessing makes of the raw samples.

    Args:
        model: a ``keras.Model``, or a saved zoo model: a name under
            ``saved_models/`` (or `saved_models_dir`), a folder or a ``.keras`` file.
            A GAN exports its generator.
        path: the artifact: a folder for ``"saved_model"``, a file for ``"tflite"``
            and ``"onnx"`` (an existing folder gets ``model.tflite``/``model.onnx``
            inside). Default: ``<saved model folder>/export/saved_model/``,
            ``.../export/model.tflite`` or ``.../export/model.onnx``; for a model in
            memory ``saved_models/<model.name>/export/...``. An existing artifact is
            replaced only after the new one passed the check.
        format: ``"saved_model"`` (TensorFlow Serving, TF.js, ``tf.saved_model.load``),
            ``"tflite"`` (LiteRT on phones and microcontrollers) or ``"onnx"``
            (ONNX Runtime; needs ``pip install "zoo[export]"``).
        sample: inputs to check with, what the model takes: an array, a list of arrays
            (one per input) or a dict keyed by input name (for a table model, one 1-D
            array per column, or a pandas DataFrame); the first axis is the batch.
        tolerance: the largest absolute difference allowed (default 1e-4, or 1e-2
            for float16/bfloat16 models).
        saved_models_dir: the folder that bare model names and the default path are
            resolved in (default ``$ZOO_SAVED_MODELS`` or ``saved_models``).

    Returns:
        An :class:`ExportResult` with the path, the differences and the size.

    Raises:
        ValueError: for an unknown format, a sample that does not fit the model or a
            model that cannot be exported whole (a diffusion model);
            :class:`ExportParityError` when the artifact's outputs differ by more
            than `tolerance`.
        ExportError: when the converter fails on the model or its artifact does not
            run; the message names the model, the format and the reason.
        MissingDependencyError: an ``ImportError`` naming the ``pip install`` for
            a format's missing packages.
        FileNotFoundError: for a model name or folder with no saved model.

    Example:
        >>> result = zoo.export(zoo.build("mlp_tiny"), "mlp.tflite", format="tflite")
        >>> result.path, result.max_abs_diff
        (PosixPath('mlp.tflite'), 0.0)
    """
    start = time.perf_counter()
    fmt = v.check_choice("format", format, FORMATS)
    if tolerance is not None:
        tolerance = v.check_float("tolerance", tolerance, minimum=0.0)
    root = None
    if saved_models_dir is not None:
        if not isinstance(saved_models_dir, (str, os.PathLike)):
            raise v.invalid(
                "saved_models_dir", "None or a folder path", saved_models_dir, TypeError
            )
        root = Path(saved_models_dir)
    _check_dependencies(fmt)

    source = None
    if isinstance(model, (str, os.PathLike)):
        source = _resolve_saved(model, root)
        model = saving.load(model if root is None else source, compile=False)
    elif not isinstance(model, keras.Model):
        raise v.invalid(
            "model", "a keras.Model or a saved model's name or path", _describe(model), TypeError
        )
    name = model.name
    worked = _worked(model, source)
    exported, notes = _exportable(model)
    target = _default_target(source, model, fmt, root) if path is None else _check_target(path, fmt)
    if tolerance is None:
        tolerance = LOW_PRECISION_TOLERANCE if _low_precision(exported) else DEFAULT_TOLERANCE

    preprocessor, _ = split_preprocessing(exported)
    if preprocessor is not None:
        signature = _raw_signature(exported)
    else:
        signature = _input_signature(exported, sample)
    samples = None
    if sample is None and preprocessor is not None:
        samples = _raw_samples(preprocessor, signature)
    if samples is None:
        samples = [_sample_args(exported, signature, sample)]
    import tensorflow as tf

    # On the CPU, like ONNX Runtime and TFLite here: a GPU's TF32 matmuls (on by default
    # on Ampere and newer) would add differences of about 1e-3 that are not the export's.
    with tf.device("/cpu:0"):
        checks = [_Check(args, _flat_outputs(exported(*args, training=False))) for args in samples]
    fail = functools.partial(_failure, worked, name, fmt)
    if fmt != "saved_model" and _low_precision(exported):
        exported = _float32_model(exported, fmt, notes, fail)

    with _fs.staging(target) as tmp:
        variant, artifact, tf_signature, diffs, written_notes = _write_first(
            exported, fmt, signature, checks, target, tmp, fail
        )
        notes += written_notes
        largest = max(diffs.values(), default=0.0)
        shown = ", ".join(f"{k}: {d:.2e}" for k, d in diffs.items())
        for note in notes:
            print(f"zoo export: note: {note}")
        print(f"zoo export: {name} as {fmt}: largest absolute difference from Keras {shown}")
        if not largest <= tolerance:
            raise ExportParityError(
                f"The {fmt} export of model {name!r} differs from the Keras model by up to "
                f"{largest:.3g} ({shown}); it must stay within the tolerance. The artifact "
                f"was not written{'; the previous one is unchanged' if target.exists() else ''}"
                f". Pass a larger `tolerance` if this difference is acceptable. "
                f"Received: tolerance={tolerance!r}",
                largest,
                diffs,
                tolerance,
            )
        files = _preprocessing_files(variant, tmp)
        preprocessing = _install(artifact, target, files)
    worked.add(fmt)
    return ExportResult(
        path=target,
        format=fmt,
        max_abs_diff=largest,
        output_diffs=diffs,
        tolerance=tolerance,
        seconds=time.perf_counter() - start,
        size_bytes=_size(target),
        model_name=name,
        input_shapes=_input_shapes(tf_signature),
        notes=tuple(notes),
        preprocessing=preprocessing,
    )
