"""Compile a model for its task: zoo's losses and metrics, or the model's own compile."""

from __future__ import annotations

import inspect
from typing import Any

import keras

from zoo import distribute, tasks
from zoo import optimizers as opt


def compile_model(
    model: keras.Model,
    task: str,
    *,
    optimizer: Any = "auto",
    learning_rate: float | None = None,
    strategy: Any = None,
    **settings: Any,
) -> keras.Model:
    """Compile `model` for `task` and return it.

    Args:
        model: the model.
        task: one of :data:`zoo.tasks.TASKS`.
        optimizer: ``"auto"`` (Adam, or the model's own choice when it compiles
            itself), a name, an Optimizer or a callable that makes one
            (:func:`zoo.optimizers.factory`).
        learning_rate: the rate (default 1e-3, or the model's own).
        strategy: the strategy whose scope the optimizer's variables belong to
            (default: the model's).
        **settings: more ``compile`` arguments (``jit_compile``, ...).

    Example:
        >>> compile_model(zoo.build("mlp_tiny"), "classification", learning_rate=1e-2)
    """
    strategy = strategy if strategy is not None else distribute.strategy_of(model)
    with strategy.scope():
        _compile(model, task, optimizer, learning_rate, settings)
    return model


def _compile(model, task, optimizer, learning_rate, settings) -> None:
    auto = isinstance(optimizer, str) and optimizer == "auto"
    if tasks.uses_own_compile(model, task):
        if auto:
            model.compile(**settings)
            if learning_rate is not None:
                for each in tasks.optimizers(model):
                    each.learning_rate = learning_rate
            return
        make = opt.factory(optimizer, learning_rate)
        if "d_optimizer" in inspect.signature(model.compile).parameters:
            model.compile(d_optimizer=make(), g_optimizer=make(), **settings)
        else:
            model.compile(optimizer=make(), **settings)
        return
    loss, metrics = tasks.losses_and_metrics(model, task)
    make = opt.factory("adam" if auto else optimizer, learning_rate)
    model.compile(optimizer=make(), loss=loss, metrics=metrics, **settings)
