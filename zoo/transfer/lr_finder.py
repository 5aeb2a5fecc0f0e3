"""The learning-rate range test, as popularised by fastai's ``lr_find``.

Reference: Smith, "Cyclical Learning Rates for Training Neural Networks", WACV 2017.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import keras
import numpy as np
import pandas as pd

from zoo import _validation as v


@dataclasses.dataclass
class LRFindResult:
    """What :func:`lr_find` returns.

    Attributes:
        table: one row per step: ``lr``, ``loss`` and exponentially ``smoothed_loss``.
        suggestion: the rate where the smoothed loss falls fastest, before it diverges.
        figure: a matplotlib figure of smoothed loss against rate (log scale).
    """

    table: pd.DataFrame
    suggestion: float
    figure: Any


def _suggest(lrs: np.ndarray, smoothed: np.ndarray) -> float:
    """Steepest descent of the smoothed loss in log(lr), before the minimum, ignoring NaN."""
    finite = np.isfinite(smoothed)
    if finite.sum() < 3:
        raise v.invalid(
            "lr_find", "at least 3 steps with a finite loss (start lower)", int(finite.sum())
        )
    lrs, smoothed = lrs[finite], smoothed[finite]
    lowest = int(np.argmin(smoothed))
    if lowest < 2:
        return float(lrs[lowest])
    slopes = np.gradient(smoothed[: lowest + 1], np.log(lrs[: lowest + 1]))
    return float(lrs[int(np.argmin(slopes))])


def lr_find(
    model: keras.Model,
    data: Any,
    *,
    start_lr: float = 1e-7,
    end_lr: float = 10.0,
    steps: int = 100,
    smoothing: float = 0.98,
    diverge: float = 4.0,
) -> LRFindResult:
    """Sweep the learning rate exponentially over training steps and record the loss.

    The model is trained for up to `steps` batches with the rate rising from
    `start_lr` to `end_lr`; the sweep stops once the smoothed loss exceeds `diverge`
    times its best value (or is NaN). The model's weights and optimizer state are
    restored afterwards (an optimizer that had not trained yet is left fresh, its
    state zero), so the model is as it was.

    A model that takes raw input (``zoo.layers.preprocessing.attach``, as zoo saves
    them) is swept as its network, on the data's pipelines; a classifier that takes
    0-255 pixels itself gets 0-255 pipelines (``zoo.engine.prepare``).

    Args:
        model: a compiled model (zoo compiles an uncompiled one for the data's task).
        data: a ``zoo.data.Data`` or any source ``zoo.data.load`` accepts.
        start_lr: first rate (> 0).
        end_lr: last rate (> start_lr).
        steps: number of batches.
        smoothing: exponential smoothing factor of the loss, in [0, 1).
        diverge: stop when the smoothed loss exceeds this multiple of its minimum.

    Returns:
        An :class:`LRFindResult` with the table, the suggested rate and a figure.

    Example:
        >>> model = zoo.build("mlp_tiny", input_shape=(8, 8, 1), num_classes=10)
        >>> result = zoo.transfer.lr_find(model, "digits", steps=20)
        >>> list(result.table.columns)
        ['lr', 'loss', 'smoothed_loss']
    """
    from zoo import engine, plots

    if not isinstance(model, keras.Model):
        raise v.invalid("model", "a keras.Model", type(model).__name__, TypeError)
    start_lr = v.check_float("start_lr", start_lr, minimum=1e-12)
    end_lr = v.check_float("end_lr", end_lr, minimum=1e-12)
    if end_lr <= start_lr:
        raise v.invalid("end_lr", f"greater than start_lr={start_lr}", end_lr)
    steps = v.check_int("steps", steps, minimum=5)
    smoothing = v.check_float(
        "smoothing", smoothing, minimum=0.0, maximum=1.0, exclusive_maximum=True
    )
    diverge = v.check_float("diverge", diverge, minimum=1.0)
    fitting = engine.prepare(model, engine.as_data(data))
    model, data = fitting.network, fitting.data  # the network, on what it trains on
    if not model.compiled:
        engine.compile_model(model, data.task, learning_rate=start_lr)
    if not isinstance(model.optimizer.learning_rate, keras.Variable):
        raise v.invalid(
            "model",
            "compiled with a constant learning rate (not a schedule)",
            type(model.optimizer.learning_rate).__name__,
        )

    saved_weights = model.get_weights()
    saved_rate = float(model.optimizer.learning_rate.numpy())
    # An unbuilt optimizer has no state yet: it is given back fresh (zeros).
    saved_state = (
        [keras.ops.convert_to_numpy(variable) for variable in model.optimizer.variables]
        if model.optimizer.built
        else None
    )
    factor = (end_lr / start_lr) ** (1 / (steps - 1))
    rows, average, best = [], 0.0, math.inf
    batches = data.train.repeat().as_numpy_iterator()  # numpy: JAX takes no tf tensors
    for step in range(steps):
        rate = start_lr * factor**step
        model.optimizer.learning_rate.assign(rate)
        x, y = next(batches)
        loss = float(np.asarray(model.train_on_batch(x, y, return_dict=True)["loss"]))
        average = smoothing * average + (1 - smoothing) * loss
        smoothed = average / (1 - smoothing ** (step + 1))
        rows.append({"lr": rate, "loss": loss, "smoothed_loss": smoothed})
        if not math.isfinite(smoothed) or smoothed > diverge * best:
            break
        best = min(best, smoothed)

    model.set_weights(saved_weights)
    for index, variable in enumerate(model.optimizer.variables):
        variable.assign(
            np.zeros(variable.shape, variable.dtype) if saved_state is None else saved_state[index]
        )
    model.optimizer.learning_rate.assign(saved_rate)

    table = pd.DataFrame(rows)
    suggestion = _suggest(table["lr"].to_numpy(), table["smoothed_loss"].to_numpy())
    return LRFindResult(table, suggestion, plots.lr_find(table, suggestion))
