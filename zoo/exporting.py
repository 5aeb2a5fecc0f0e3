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
      the missing conversion (``erfc(x) = 1 - erf(x)``) before exporting.
    * A mixed-precision model (float16 or bfloat16 compute) goes to TFLite and ONNX
      as a float32 copy with the same weights, checked against the original with a
      tolerance of 1e-2; a SavedModel keeps its policy.
    * A GAN is exported as its generator (noise, and labels when conditional, to
      images), which is exactly what the GAN's ``call`` and ``generate`` run.
    * A diffusion model cannot be exported whole: its ``call`` is a training step
      with random timesteps and noise, and sampling is a Python loop. Export
      ``model.network`` (the denoising U-Net) and run the sampling loop yourself.

Example:
    >>> result = zoo.export(zoo.build("convnet_tiny"), "convnet.onnx", format="onnx")
    >>> result.max_abs_diff < 1e-4
    True
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import logging
import math
import os
import re
import time
import warnings
import weakref
from pathlib import Path
from typing import Any

import keras
import numpy as np

from zoo import _fs, saving
from zoo import _validation as v
from zoo._compat.keras import all_layers, input_signature
from zoo._compat.tensorflow import native_logs_hidden, tflite_builtins_only
from zoo._compat.tf2onnx import register_erfc

FORMATS = ("saved_model", "tflite", "onnx")
DEFAULT_TOLERANCE = 1e-4
LOW_PRECISION_TOLERANCE = 1e-2
EXPORT_DIR = "export"
ARTIFACT_NAMES = {"saved_model": "saved_model", "tflite": "model.tflite", "onnx": "model.onnx"}
SAMPLE_BATCH = 2
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
        notes: anything the export changed or chose (a GAN's generator, a fixed shape).
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
        checked.append(array.astype(keras.backend.standardize_dtype(spec.dtype)))
    return [keras.tree.pack_sequence_as(structure, checked)] if len(signature) == 1 else checked


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


def _convert(model, fmt: str, path: Path, signature: list[Any], **kwargs: Any) -> None:
    if fmt == "onnx":
        register_erfc()
    logger = logging.getLogger("tf2onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
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
        logger.setLevel(level)


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


def _write(exported, fmt, artifact, signature, args, notes, fail) -> list[Any]:
    """Convert `exported` to `artifact`; returns the TensorSpecs it was written with.

    TFLite gets builtin ops only; when variable shapes need Select TF ops, the input
    shape is fixed (batch 1, the sample's other dimensions) and a note says so.
    """
    tf_signature = _tf_signature(signature)
    if fmt != "tflite":
        try:
            _convert(exported, fmt, artifact, tf_signature)
        except ImportError as error:
            raise MissingDependencyError(
                f"format={fmt!r} failed to import a converter ({error}). Install "
                f"compatible versions with `{INSTALL_HINT}. Received: format={fmt!r}"
            ) from error
        except Exception as error:
            raise fail(_one_line(error)) from error
        return tf_signature
    builtins = tflite_builtins_only()
    try:
        _convert(exported, fmt, artifact, tf_signature, **builtins)
        return tf_signature
    except Exception as error:
        dynamic_reason = _one_line(error)
    fixed = _tf_signature(signature, fixed=args)
    try:
        _convert(exported, fmt, artifact, fixed, **builtins)
    except Exception as error:
        raise fail(_one_line(error)) from error
    shapes = ", ".join(str(s) for s in _input_shapes(fixed))
    notes.append(
        f"tflite: fixed input shape {shapes}; variable shapes need TensorFlow Select ops, "
        f"which the standard TFLite runtime lacks ({dynamic_reason})"
    )
    return fixed


def _differences(fmt, artifact, args, names, expected: dict[str, Any], fail) -> dict[str, float]:
    """The largest absolute difference per output between the artifact and Keras."""
    try:
        actual = _artifact_outputs(fmt, artifact, args, names)
    except Exception as error:
        raise fail(
            f"the exported file does not run in {_RUNTIMES[fmt]}: {_one_line(error)}"
        ) from error
    if len(actual) != len(expected):
        raise fail(f"the artifact has {len(actual)} outputs, the model {len(expected)}")
    diffs = {}
    for (out_name, want), got in zip(expected.items(), actual, strict=True):
        want = np.asarray(want, dtype="float64")
        got = np.asarray(got, dtype="float64")
        if want.shape != got.shape:
            raise fail(f"output {out_name} has shape {got.shape}, expected {want.shape}")
        diff = float(np.max(np.abs(want - got))) if want.size else 0.0
        diffs[out_name] = diff if math.isfinite(diff) else math.inf
    return diffs


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

    The artifact is run on `sample` (or random inputs: floats uniform in [0, 1),
    token ids below the model's vocabulary size, batch 2) next to the Keras model;
    the largest absolute difference per output is printed, and the artifact is moved
    into place only if it is within `tolerance`.

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
        sample: inputs to check with: an array, a list of arrays (one per input) or
            a dict keyed by input name; the first axis is the batch.
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

    signature = _input_signature(exported, sample)
    args = _sample_args(exported, signature, sample)
    names = _spec_names(signature)
    import tensorflow as tf

    # On the CPU, like ONNX Runtime and TFLite here: a GPU's TF32 matmuls (on by default
    # on Ampere and newer) would add differences of about 1e-3 that are not the export's.
    with tf.device("/cpu:0"):
        expected = _flat_outputs(exported(*args, training=False))
    fail = functools.partial(_failure, worked, name, fmt)
    if fmt != "saved_model" and _low_precision(exported):
        exported = _float32_model(exported, fmt, notes, fail)

    with _fs.staging(target) as tmp:
        artifact = tmp / ARTIFACT_NAMES[fmt]
        tf_signature = _write(exported, fmt, artifact, signature, args, notes, fail)
        diffs = _differences(fmt, artifact, args, names, expected, fail)
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
        _fs.install(artifact, target)
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
    )
