"""What :func:`zoo.export` returns or raises, and the words it uses.

:class:`ExportResult` and the three errors, the formats that exported a model before (for
the hint in an :class:`ExportError`), and a converter's error cut to one line.
"""

from __future__ import annotations

import dataclasses
import re
import weakref
from pathlib import Path

import keras


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


# Formats that exported a model in this process, for error messages: by model object,
# or by folder for saved models loaded by name.
_WORKED: weakref.WeakKeyDictionary[keras.Model, set[str]] = weakref.WeakKeyDictionary()
_WORKED_SAVED: dict[str, set[str]] = {}


def worked_formats(model: keras.Model, source: Path | None) -> set[str]:
    """The formats that exported this model (or this saved model) before."""
    if source is not None:
        return _WORKED_SAVED.setdefault(str(source.resolve()), set())
    return _WORKED.setdefault(model, set())


def failure(worked: set[str], name: str, format: str, reason: str) -> ExportError:
    """An :class:`ExportError` with the reason and the formats that worked here."""
    worked = sorted(worked - {format})
    if worked:
        hint = f" Formats that exported this model here: {', '.join(worked)}."
    elif format != "saved_model":
        hint = " format='saved_model' exports every functional model zoo builds."
    else:
        hint = ""
    reason = reason.rstrip(". ")
    return ExportError(f"Cannot export model {name!r} to {format}: {reason}.{hint}")


def one_line(error: BaseException, limit: int = 400) -> str:
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
