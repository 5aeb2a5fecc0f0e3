"""Running an artifact in its runtime and measuring its difference from Keras.

``tf.saved_model.load``, the TFLite interpreter (LiteRT's when installed) and ONNX
Runtime, on the CPU, fed by input name where the artifact keeps the names; the largest
absolute difference per output over every check.
"""

from __future__ import annotations

import math
import re
import warnings
from pathlib import Path
from typing import Any

import keras
import numpy as np

from zoo._compat.tensorflow import native_logs_hidden
from zoo.exporting.converting import Unconvertible
from zoo.exporting.results import one_line
from zoo.exporting.samples import Check

_RUNTIMES = {
    "saved_model": "TensorFlow",
    "tflite": "the TFLite interpreter",
    "onnx": "ONNX Runtime",
}


def flat_outputs(outputs: Any) -> dict[str, np.ndarray]:
    """Outputs by name: a dict's keys (sorted, as flattening orders them) or output_<i>."""
    if isinstance(outputs, dict):
        return {str(k): np.asarray(outputs[k]) for k in sorted(outputs)}
    flat = [keras.ops.convert_to_numpy(o) for o in keras.tree.flatten(outputs)]
    return {f"output_{i}": array for i, array in enumerate(flat)}


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


def tflite_interpreter(path: Path):
    """A TFLite interpreter for `path` (LiteRT's when installed)."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        import tensorflow as tf

        Interpreter = tf.lite.Interpreter
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tf.lite.Interpreter's deprecation notice
        return Interpreter(model_path=str(path))


def _run_tflite(path: Path, flat: list[np.ndarray], names: list[str]) -> list[np.ndarray]:
    interpreter = tflite_interpreter(path)
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


def artifact_outputs(fmt: str, path: Path, args: list[Any], names: list[str]) -> list[np.ndarray]:
    """The artifact's outputs on `args`, flat, run on the CPU."""
    flat = [np.asarray(a) for a in keras.tree.flatten(args)]
    import tensorflow as tf

    with native_logs_hidden(), tf.device("/cpu:0"):
        if fmt == "saved_model":
            return list(flat_outputs(_run_saved_model(path, args)).values())
        if fmt == "onnx":
            return _run_onnx(path, flat, names)
        return _run_tflite(path, flat, names)


def fits(args: list[Any], signature: list[Any]) -> bool:
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


def differences(fmt, artifact, checks: list[Check], names, fail) -> dict[str, float]:
    """The largest absolute difference per output between the artifact and Keras.

    Raises:
        Unconvertible: the artifact does not run.
    """
    diffs: dict[str, float] = {}
    for check in checks:
        try:
            actual = artifact_outputs(fmt, artifact, check.args, names)
        except Exception as error:
            raise Unconvertible(
                f"the exported file does not run in {_RUNTIMES[fmt]}: {one_line(error)}"
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
