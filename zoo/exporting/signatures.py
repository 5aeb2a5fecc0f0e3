"""Input signatures: the specs a model is exported with, and their shapes.

Keras's :class:`keras.InputSpec` lists (one entry per positional argument) for the
exporter, the raw inputs of a model made by ``zoo.layers.preprocessing.attach`` (named;
table columns 1-D), and the TensorFlow specs the converters are given.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from zoo import _validation as v
from zoo._compat.keras import input_signature
from zoo.exporting.models import describe_model


def signature_structure(signature: list[Any]) -> Any:
    """The structure the model is called on: its one argument, or the list."""
    return signature[0] if len(signature) == 1 else list(signature)


def spec_names(signature: list[Any]) -> list[str]:
    """The inputs' names in flattening order (``input_<i>`` where unnamed)."""
    specs = keras.tree.flatten(signature_structure(signature))
    return [getattr(s, "name", None) or f"input_{i}" for i, s in enumerate(specs)]


def is_string(spec: Any) -> bool:
    """Whether `spec` is a string input."""
    return keras.backend.standardize_dtype(spec.dtype) == "string"


def export_signature(model: keras.Model, sample: Any) -> list[Any]:
    """Keras's input signature for export: a list of positional-argument specs."""
    try:
        return input_signature(model)
    except ValueError as error:
        if sample is None:
            raise v.ArgumentValueError(
                "`model` must have known inputs to be exported: a functional model, or a "
                "subclassed model that has been called on data (or pass `sample=` to "
                f"describe its inputs). Keras says: {error} Received: model={describe_model(model)}"
            ) from None

    def spec(array):
        array = np.asarray(array)
        return keras.InputSpec(shape=(None, *array.shape[1:]), dtype=str(array.dtype))

    if isinstance(sample, (list, tuple)):
        return [[spec(a) for a in sample]]
    if isinstance(sample, dict):
        return [{k: spec(a) for k, a in sample.items()}]
    return [spec(sample)]


def raw_signature(model: keras.Model) -> list[Any]:
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


def tensor_specs(signature: list[Any], fixed: list[Any] | None = None) -> list[Any]:
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


def input_shapes(signature: list[Any]) -> tuple[tuple[int | None, ...], ...]:
    """The shape of every input of `signature`, flat."""
    return tuple(tuple(s.shape) for s in keras.tree.flatten(signature))
