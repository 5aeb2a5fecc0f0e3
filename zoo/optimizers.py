"""Optimizers by name: the one factory behind train, fine_tune, tune and lr_find.

``factory("adam", 1e-3)`` returns a zero-argument callable that makes a fresh
optimizer each time (a GAN needs one per network, a search one per trial). The
``Layerwise*`` optimizers scale each trainable variable's learning rate by its own
factor (discriminative fine-tuning; see :func:`zoo.transfer.layerwise_optimizer`); the
factors are plain floats in the config, so they save and load with their model in
Keras's safe mode.

Example:
    >>> make = zoo.optimizers.factory("sgd", 0.1, momentum=0.9)
    >>> make().learning_rate
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import keras

from zoo import _validation as v
from zoo._compat.keras import variable_index

NAMES = ("adam", "adamw", "sgd", "rmsprop")
SCHEDULES = ("constant", "cosine")


class _Layerwise:
    """Mixin: scale each variable's learning rate by ``multipliers[index]``."""

    def __init__(self, *args: Any, multipliers: list[float] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.multipliers = None if multipliers is None else [float(m) for m in multipliers]

    def build(self, variables):
        if self.multipliers is not None and len(self.multipliers) != len(variables):
            raise v.invalid(
                "multipliers",
                f"one learning-rate factor per trainable variable ({len(variables)} now; "
                "the model's trainable layers changed since the optimizer was made, so make "
                "it again with zoo.transfer.layerwise_optimizer)",
                f"{len(self.multipliers)} factors",
            )
        super().build(variables)

    def update_step(self, gradient, variable, learning_rate):
        if self.multipliers is not None:
            factor = self.multipliers[variable_index(self, variable)]
            if factor != 1.0:
                learning_rate = learning_rate * factor
        return super().update_step(gradient, variable, learning_rate)

    def get_config(self):
        return {**super().get_config(), "multipliers": self.multipliers}


@keras.saving.register_keras_serializable(package="zoo")
class LayerwiseAdam(_Layerwise, keras.optimizers.Adam):
    """Adam with a learning-rate factor per trainable variable."""


@keras.saving.register_keras_serializable(package="zoo")
class LayerwiseAdamW(_Layerwise, keras.optimizers.AdamW):
    """AdamW with a learning-rate factor per trainable variable."""


@keras.saving.register_keras_serializable(package="zoo")
class LayerwiseSGD(_Layerwise, keras.optimizers.SGD):
    """SGD (with momentum) with a learning-rate factor per trainable variable."""


@keras.saving.register_keras_serializable(package="zoo")
class LayerwiseRMSprop(_Layerwise, keras.optimizers.RMSprop):
    """RMSprop with a learning-rate factor per trainable variable."""


LAYERWISE = {
    "adam": LayerwiseAdam,
    "adamw": LayerwiseAdamW,
    "sgd": LayerwiseSGD,
    "rmsprop": LayerwiseRMSprop,
}


def check_learning_rate(name: str, value: Any) -> float:
    """`value` as a float if it is a learning rate > 0."""
    value = v.check_float(name, value)
    if not value > 0:
        raise v.invalid(name, "a learning rate > 0", value)
    return value


def check(optimizer: Any, *, allow_auto: bool = True) -> Any:
    """`optimizer` if it is a Keras optimizer name (or ``"auto"``), an Optimizer or a callable."""
    if isinstance(optimizer, str):
        if allow_auto and optimizer == "auto":
            return optimizer
        try:
            keras.optimizers.get(optimizer)
        except ValueError:
            allowed = "'auto' or a Keras optimizer name" if allow_auto else "an optimizer name"
            raise v.invalid("optimizer", allowed, optimizer) from None
        return optimizer
    if isinstance(optimizer, keras.optimizers.Optimizer) or callable(optimizer):
        return optimizer
    raise v.invalid(
        "optimizer", "an optimizer name or a keras.optimizers.Optimizer", optimizer, TypeError
    )


def factory(
    optimizer: Any,
    learning_rate: float | None = None,
    *,
    schedule: str = "constant",
    decay_steps: int | None = None,
    **options: Any,
) -> Callable[[], keras.optimizers.Optimizer]:
    """A zero-argument callable that makes a fresh optimizer each time it is called.

    Args:
        optimizer: a Keras optimizer name (``"adam"``, ``"sgd"``, ...; made with
            `learning_rate` and `options`), an Optimizer (given out first, then
            copied from its config) or a callable that makes one (returned as is).
        learning_rate: the rate for a name (default 1e-3).
        schedule: ``"constant"`` or ``"cosine"`` (cosine decay over `decay_steps`).
        decay_steps: the steps of a cosine schedule.
        **options: more constructor arguments for a name (``momentum``, ...).

    Example:
        >>> make = factory("adam", 3e-4)
        >>> first, second = make(), make()
    """
    v.check_choice("schedule", schedule, SCHEDULES)
    if isinstance(optimizer, str):
        kind = keras.optimizers.get(check(optimizer, allow_auto=False)).__class__
        rate = 1e-3 if learning_rate is None else learning_rate

        def make() -> keras.optimizers.Optimizer:
            value = rate
            if schedule == "cosine":
                steps = max(int(decay_steps or 1), 1)
                value = keras.optimizers.schedules.CosineDecay(rate, decay_steps=steps)
            return kind(learning_rate=value, **options)

        return make
    if isinstance(optimizer, keras.optimizers.Optimizer):
        given = [optimizer]
        return lambda: given.pop() if given else optimizer.from_config(optimizer.get_config())
    return check(optimizer, allow_auto=False)


def current_learning_rate(optimizer: Any) -> float | None:
    """An optimizer's learning rate now (a schedule's current value), or None."""
    try:
        value = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
    except (AttributeError, TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None
