"""Pieces every family builder shares: the contract checks, layer options and heads."""

from __future__ import annotations

import dataclasses
from typing import Any

import keras

from zoo import _validation as v
from zoo._compat.keras import CompiledOnLoad  # noqa: F401  (re-exported for the families)

TASKS = ("classification", "regression")


@dataclasses.dataclass(frozen=True)
class Options:
    """Checked arguments shared by the layers of one model."""

    kernel_initializer: Any
    kernel_regularizer: Any
    dtype: Any

    def dense(self, units: int, **kwargs: Any) -> keras.layers.Dense:
        """A Dense layer with the model's initializer, regularizer and dtype."""
        return keras.layers.Dense(units, **self._weights(), **kwargs)

    def conv(self, filters: int, kernel_size: int, **kwargs: Any) -> keras.layers.Conv2D:
        """A Conv2D layer with the model's initializer, regularizer and dtype."""
        return keras.layers.Conv2D(filters, kernel_size, **self._weights(), **kwargs)

    def _weights(self) -> dict[str, Any]:
        return {
            "kernel_initializer": self.kernel_initializer,
            "kernel_regularizer": self.kernel_regularizer,
            "dtype": self.dtype,
        }


def check_contract(
    *,
    input_shape: Any,
    ndim: int | tuple[int, ...],
    num_classes: Any,
    head_activation: Any,
    dropout: Any,
    dtype: Any,
    name: Any,
    kernel_initializer: Any = "glorot_uniform",
    kernel_regularizer: Any = None,
    allow_none: tuple[int, ...] = (),
) -> tuple[tuple[int | None, ...], int | None, Options]:
    """Check the arguments every builder takes; return shape, classes and options."""
    shape = v.check_shape("input_shape", input_shape, ndim=ndim, allow_none=allow_none)
    num_classes = v.check_num_classes(num_classes)
    v.check_activation("head_activation", head_activation, allow_none=True)
    v.check_rate("dropout", dropout)
    v.check_dtype("dtype", dtype)
    v.check_name("name", name)
    options = Options(
        kernel_initializer=v.check_initializer("kernel_initializer", kernel_initializer),
        kernel_regularizer=v.check_regularizer("kernel_regularizer", kernel_regularizer),
        dtype=dtype,
    )
    return shape, num_classes, options


def output_dtype(dtype: Any) -> Any:
    """The dtype of the final layer: float32 under a mixed-precision policy."""
    if dtype is None:
        policy = keras.config.dtype_policy()
    else:
        policy = dtype if isinstance(dtype, keras.DTypePolicy) else keras.DTypePolicy(dtype)
    return "float32" if policy.compute_dtype != policy.variable_dtype else dtype


def check_task(task: Any, num_outputs: Any) -> tuple[str, int | None]:
    """Check `task` and, for regression, `num_outputs` (None means headless)."""
    task = v.check_choice("task", task, TASKS)
    num_outputs = v.check_int("num_outputs", num_outputs, minimum=1, allow_none=True)
    return task, num_outputs


def head(
    x: Any,
    *,
    num_classes: int | None,
    head_activation: Any,
    dropout: float,
    options: Options,
    task: str = "classification",
    num_outputs: int | None = None,
) -> Any:
    """Add dropout and the output layer; return `x` unchanged for a headless model.

    Classification uses ``num_classes`` units with softmax (sigmoid for one class);
    regression uses ``num_outputs`` linear units. ``head_activation`` overrides either.
    """
    units = num_classes if task == "classification" else num_outputs
    if units is None:
        return x
    if head_activation is None:
        if task == "regression":
            head_activation = "linear"
        else:
            head_activation = "sigmoid" if units == 1 else "softmax"
    if dropout > 0:
        x = keras.layers.Dropout(dropout, name="head_dropout")(x)
    return keras.layers.Dense(
        units,
        activation=head_activation,
        kernel_regularizer=options.kernel_regularizer,
        dtype=output_dtype(options.dtype),
        name="predictions",
    )(x)


def classification_head(x: Any, num_classes: int, *, dropout: float = 0.0) -> Any:
    """Dropout and a softmax (sigmoid for one class) output layer named ``predictions``."""
    options = Options("glorot_uniform", None, None)
    return head(x, num_classes=num_classes, head_activation=None, dropout=dropout, options=options)


def batch_norm(options: Options, name: str, **kwargs: Any) -> keras.layers.BatchNormalization:
    """BatchNormalization with PyTorch's defaults (momentum 0.1 there, 0.9 here)."""
    kwargs.setdefault("momentum", 0.9)
    kwargs.setdefault("epsilon", 1e-5)
    return keras.layers.BatchNormalization(dtype=options.dtype, name=name, **kwargs)
