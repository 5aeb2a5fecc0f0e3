"""Discriminative (layer-wise) learning rates through ordinary Keras optimizers.

ULMFiT (Howard & Ruder, 2018) and BEiT-style layer decay train the new head at the
full learning rate and each deeper group of backbone layers at a smaller one. Here
that is a Keras optimizer subclass (:mod:`zoo.optimizers`: ``LayerwiseAdam``,
``LayerwiseAdamW``, ``LayerwiseSGD``, ``LayerwiseRMSprop``) that multiplies the
learning rate of each trainable variable by its own factor. The factors are plain
floats in the optimizer's config, in the order of ``model.trainable_variables``, so the optimizer
saves and loads with its model in Keras's safe mode.

Example:
    >>> model = zoo.build("mobilenet_v3_small", num_classes=3, weights=None)
    >>> zoo.transfer.find_backbone(model).trainable = True
    >>> optimizer = zoo.transfer.layerwise_optimizer(model, "adam", 1e-4, decay=0.5)
    >>> model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from zoo import _validation as v
from zoo.optimizers import (
    LAYERWISE,
    LayerwiseAdam,
    LayerwiseAdamW,
    LayerwiseRMSprop,
    LayerwiseSGD,
    check_learning_rate,
)
from zoo.transfer.surgery import find_backbone, leaf_layers

__all__ = [
    "LayerwiseAdam",
    "LayerwiseAdamW",
    "LayerwiseRMSprop",
    "LayerwiseSGD",
    "layer_groups",
    "layerwise_optimizer",
    "multipliers",
]


def layer_groups(backbone: keras.Layer, groups: int) -> list[list[Any]]:
    """Split the backbone's trainable weighted layers into ``groups`` from the top.

    Returns:
        A list of lists of layers: index 0 is the group nearest the head.
    """
    layers = [layer for layer in leaf_layers(backbone) if layer.trainable_weights]
    layers.reverse()  # top of the backbone first
    if not layers:
        return []
    groups = min(groups, len(layers))
    return [list(chunk) for chunk in np.array_split(np.array(layers, dtype=object), groups)]


def multipliers(
    model: keras.Model, backbone: keras.Layer, *, decay: float, groups: int = 4
) -> list[float]:
    """Learning-rate factors for ``model.trainable_variables``.

    The head (everything outside the backbone) gets 1; the backbone's top group gets
    ``decay``, the next ``decay**2`` and so on down to the input.
    """
    factor_of = {}
    for depth, group in enumerate(layer_groups(backbone, groups), start=1):
        for layer in group:
            for weight in layer.trainable_weights:
                factor_of[id(weight)] = decay**depth
    return [factor_of.get(id(w), 1.0) for w in model.trainable_variables]


def layerwise_optimizer(
    model: keras.Model,
    optimizer: str = "adam",
    learning_rate: float = 1e-4,
    *,
    backbone: keras.Layer | None = None,
    decay: float = 0.5,
    groups: int = 4,
    **kwargs: Any,
) -> keras.optimizers.Optimizer:
    """An optimizer with discriminative learning rates for ``model``.

    Args:
        model: the model to train; its trainable layers must be set (unfrozen)
            before the optimizer is made.
        optimizer: ``"adam"``, ``"adamw"``, ``"sgd"`` or ``"rmsprop"``.
        learning_rate: the head's learning rate.
        backbone: the pretrained part (default: zoo's backbone of the model, see
            :func:`zoo.transfer.find_backbone`).
        decay: factor per group, in (0, 1]; 1 means one rate everywhere.
        groups: how many equal groups of weighted layers the backbone is split into.
        **kwargs: more arguments for the optimizer (``weight_decay``, ``momentum``...).

    Returns:
        A serializable ``Layerwise*`` optimizer.

    Example:
        >>> model = zoo.build("mobilenet_v3_small", num_classes=3, weights=None)
        >>> backbone = zoo.transfer.find_backbone(model)
        >>> backbone.trainable = True
        >>> optimizer = zoo.transfer.layerwise_optimizer(model, "adam", 1e-4, decay=0.3)
    """
    if not isinstance(model, keras.Model):
        raise v.invalid("model", "a keras.Model", type(model).__name__, TypeError)
    v.check_choice("optimizer", optimizer, tuple(LAYERWISE))
    learning_rate = check_learning_rate("learning_rate", learning_rate)
    decay = v.check_float("decay", decay)
    if not 0 < decay <= 1:
        raise v.invalid("decay", "a factor in (0, 1]", decay)
    groups = v.check_int("groups", groups, minimum=1)
    backbone = find_backbone(model) if backbone is None else backbone
    factors = multipliers(model, backbone, decay=decay, groups=groups)
    return LAYERWISE[optimizer](learning_rate=learning_rate, multipliers=factors, **kwargs)
