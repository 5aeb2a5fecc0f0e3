"""Writing an artifact with Keras's exporters, and what each format needs.

``model.export`` with ``format="tf_saved_model"``, ``"litert"`` (builtin ops only, with a
fixed-shape fallback) or ``"onnx"`` (tf2onnx, taught ``Erfc``; an op it leaves
unconverted fails the export at once), in inference mode; the packages each format needs.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import re
import warnings
from pathlib import Path
from typing import Any

from zoo._compat.keras import called_in_inference_mode
from zoo._compat.tensorflow import native_logs_hidden, tflite_builtins_only
from zoo._compat.tf2onnx import register_erfc
from zoo.exporting.results import MissingDependencyError, one_line
from zoo.exporting.signatures import input_shapes, tensor_specs

INSTALL_HINT = 'pip install tf2onnx onnx onnxruntime` (or `pip install "zoo[export]"`'
_NEEDS = {"onnx": ("tf2onnx", "onnx", "onnxruntime")}
_KERAS_FORMATS = {"saved_model": "tf_saved_model", "tflite": "litert", "onnx": "onnx"}


class Unconvertible(Exception):
    """The converter failed on a variant, or its artifact does not run."""


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def check_dependencies(format: str) -> None:
    """Raise :class:`MissingDependencyError` when a package `format` needs is missing."""
    needed = _NEEDS.get(format, ())
    missing = [m for m in needed if not _installed(m)]
    if missing:
        raise MissingDependencyError(
            f"format={format!r} needs the packages {', '.join(needed)}; missing: "
            f"{', '.join(missing)}. Install them with `{INSTALL_HINT}. "
            f"Received: format={format!r}"
        )


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


def convert(model, fmt: str, path: Path, signature: list[Any], **kwargs: Any) -> None:
    """Write `model` to `path` with Keras's exporter; an op tf2onnx leaves raises."""
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


def write_artifact(model, fmt, artifact, signature, args, notes) -> list[Any]:
    """Convert `model` to `artifact`; returns the TensorSpecs it was written with.

    TFLite gets builtin ops only; when variable shapes need Select TF ops, the input
    shape is fixed (batch 1, the sample's other dimensions) and a note says so.

    Raises:
        Unconvertible: the converter failed (the reason on one line).
    """
    tf_signature = tensor_specs(signature)
    model = called_in_inference_mode(model, signature)
    if fmt != "tflite":
        try:
            convert(model, fmt, artifact, tf_signature)
        except ImportError as error:
            raise MissingDependencyError(
                f"format={fmt!r} failed to import a converter ({error}). Install "
                f"compatible versions with `{INSTALL_HINT}. Received: format={fmt!r}"
            ) from error
        except Exception as error:
            raise Unconvertible(one_line(error)) from error
        return tf_signature
    builtins = tflite_builtins_only()
    try:
        convert(model, fmt, artifact, tf_signature, **builtins)
        return tf_signature
    except Exception as error:
        dynamic_reason = one_line(error)
    fixed = tensor_specs(signature, fixed=args)
    try:
        convert(model, fmt, artifact, fixed, **builtins)
    except Exception as error:
        raise Unconvertible(one_line(error)) from error
    shapes = ", ".join(str(s) for s in input_shapes(fixed))
    notes.append(
        f"tflite: fixed input shape {shapes}; variable shapes need TensorFlow Select ops, "
        f"which the standard TFLite runtime lacks ({dynamic_reason})"
    )
    return fixed
