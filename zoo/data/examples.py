"""The in-memory description of a dataset before it is split and batched."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from typing import Any

import numpy as np

from zoo import _validation as v

TASKS = ("classification", "regression")


class DamagedSourceError(v.DamagedFileError, v.ArgumentValueError):
    """A file of a data source is damaged or lies about its content.

    A ``DamagedFileError`` and, since the file is what the ``source`` argument gave,
    an ``ArgumentValueError`` too (both ``ValueError``).
    """


@dataclasses.dataclass
class Examples:
    """All examples of a source, ready to split.

    Attributes:
        x: features: numeric arrays, image file paths or raw texts (one per example).
        y: integer class ids (classification) or float targets (regression).
        task: ``"classification"`` or ``"regression"``.
        class_names: names of the classes, index = class id.
        kind: ``"array"``, ``"image_files"``, ``"text"``, ``"raw_text"`` or ``"table"``.
        source: a human-readable description of where the data came from.
        fingerprint: a short hash of the content, recorded on model cards.
        make_encoder: for sources whose preprocessing is learned from the training
            split (standardisation, vocabularies): returns a fresh encoder.
        element_shape: shape of one decoded example (image files).
        extra: anything a source wants to pass on to the pipeline.
    """

    x: Any
    y: np.ndarray
    task: str
    class_names: tuple[str, ...] | None
    kind: str
    source: str
    fingerprint: str
    make_encoder: Callable[[], Any] | None = None
    element_shape: tuple[int, ...] | None = None
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.y)


def fingerprint(*parts: Any) -> str:
    """A 16-hex-digit SHA-256 of arrays, strings and numbers."""
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            if part.dtype == object:
                digest.update("\x1f".join(map(str, part.tolist())).encode())
            else:
                digest.update(str(part.dtype).encode() + str(part.shape).encode())
                digest.update(np.ascontiguousarray(part).tobytes())
        else:
            digest.update(repr(part).encode())
    return digest.hexdigest()[:16]


def infer_task(y: np.ndarray, task: str | None) -> str:
    """Floats mean regression, anything else classification, unless `task` says."""
    if task is not None:
        return v.check_choice("task", task, TASKS)
    return "regression" if np.issubdtype(y.dtype, np.floating) else "classification"


def encode_labels(
    y: np.ndarray, *, name: str = "y", min_classes: int = 2
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Map labels to class ids 0..K-1 (sorted), checking there are `min_classes` or more.

    A training source needs 2 classes; a given test or validation split may hold one.
    """
    if y.dtype.kind in "fc" and not np.isfinite(y).all():
        rows = np.flatnonzero(~np.isfinite(y))
        raise v.invalid(
            name,
            "labels without NaN or infinity",
            f"{len(rows)} NaN or infinite labels at rows {rows[:5].tolist()}",
        )
    if y.dtype == object:
        missing = [i for i, label in enumerate(y) if label is None or label != label]
        if missing:
            raise v.invalid(name, "labels without missing values", f"missing at rows {missing[:5]}")
        y = y.astype(str)
    classes, ids = np.unique(y, return_inverse=True)
    if len(classes) < min_classes:
        only = classes[0].item() if len(classes) else None
        raise v.invalid(
            name,
            f"labels of at least {min_classes} classes for classification",
            f"only class {only!r} in {len(y)} examples",
        )
    return ids.astype("int32"), tuple(str(c) for c in classes)


def prepare_targets(
    y: Any, task: str | None, *, name: str = "y", min_classes: int = 2
) -> tuple[np.ndarray, str, tuple[str, ...] | None]:
    """Check targets and return (y, task, class_names) (see :func:`encode_labels`)."""
    y = np.asarray(y)
    if y.ndim == 0 or len(y) == 0:
        raise v.invalid(name, "a non-empty array of labels or targets", y)
    task = infer_task(y, task)
    if task == "classification":
        if y.ndim > 1 and y.shape[1:] != (1,):
            raise v.invalid(
                name, "integer or string class labels of shape (n,) for classification", y.shape
            )
        ids, names = encode_labels(y.reshape(len(y)), name=name, min_classes=min_classes)
        return ids, task, names
    if not np.issubdtype(y.dtype, np.number):
        raise v.invalid(name, "numeric targets for regression", y.dtype)
    if np.issubdtype(y.dtype, np.complexfloating):
        raise v.invalid(name, "real-valued targets for regression", y.dtype)
    with np.errstate(over="ignore"):  # beyond float32 becomes infinity, refused below
        y = y.astype("float32")
    if not np.isfinite(y).all():
        rows = np.unique(np.argwhere(~np.isfinite(y.reshape(len(y), -1)))[:, 0])
        raise v.invalid(
            name,
            "finite targets (no NaN or infinity, nor numbers beyond float32's 3.4e38)",
            f"{len(rows)} NaN or infinite target row(s), first {rows[:5].tolist()}",
        )
    return y, task, None
