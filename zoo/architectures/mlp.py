"""Multilayer perceptrons: stacks of dense layers for tabular data and flat inputs.

Reference: Rumelhart, Hinton and Williams, "Learning representations by
back-propagating errors", Nature 1986; dropout as in Srivastava et al., JMLR 2014;
batch normalisation as in Ioffe and Szegedy, ICML 2015.
"""

from __future__ import annotations

from typing import Any

import keras

from zoo import _validation as v
from zoo._catalogue import Preset, register
from zoo.architectures import _common

PRESETS = {
    "mlp_tiny": Preset("A one-layer MLP for tests.", {"input_shape": (8,), "units": (16,)}),
    "mlp_mnist": Preset(
        "The Keras MNIST MLP: 784-512-512-10 with ReLU and dropout 0.2.",
        {"input_shape": (784,), "units": (512, 512), "dropout": 0.2},
    ),
    "mlp_fashion_mnist": Preset(
        "The Fashion-MNIST benchmark's MLP 256-128-100 (ReLU), 247,766 parameters on "
        "28x28 images (published test accuracy 0.8833).",
        {"input_shape": (28, 28, 1), "units": (256, 128, 100)},
    ),
    "mlp_regressor": Preset(
        "An MLP regressor for tabular data (one linear output).",
        {
            "input_shape": (8,),
            "units": (64, 64),
            "task": "regression",
            "num_outputs": 1,
        },
        task="regression",
    ),
}


SEARCH_SPACE = {
    "units": [(64,), (128,), (128, 64), (256, 128)],
    "dropout": {"min": 0.0, "max": 0.5, "step": 0.1},
    "batch_norm": [False, True],
    "activation": ["relu", "gelu"],
    "learning_rate": {"min": 1e-4, "max": 1e-2, "sampling": "log"},
}


@register(
    "mlp",
    task="classification",
    description="Multilayer perceptron: dense layers with optional batch norm and dropout.",
    presets=PRESETS,
    search_space=SEARCH_SPACE,
)
def mlp(
    input_shape: tuple[int, ...] = (64,),
    num_classes: int | None = 10,
    *,
    units: tuple[int, ...] = (128, 64),
    activation: Any = "relu",
    dropout: float = 0.0,
    batch_norm: bool = False,
    task: str = "classification",
    num_outputs: int | None = 1,
    head_activation: Any = None,
    kernel_initializer: Any = "glorot_uniform",
    kernel_regularizer: Any = None,
    dtype: Any = None,
    name: str = "mlp",
) -> keras.Model:
    """Build a multilayer perceptron.

    Each hidden layer is Dense -> (BatchNorm) -> activation -> (Dropout). Inputs with
    more than one axis are flattened first.

    Args:
        input_shape: shape of one example, without the batch axis.
        num_classes: classes for ``task="classification"``; None for a headless model.
        units: units of each hidden layer.
        activation: hidden-layer activation.
        dropout: dropout rate after each hidden layer, in [0, 1).
        batch_norm: add batch normalisation after each dense layer (which then has no
            bias).
        task: ``"classification"`` or ``"regression"``.
        num_outputs: outputs for ``task="regression"``; None for a headless model.
        head_activation: output activation; defaults to softmax (sigmoid for one
            class) for classification and linear for regression.
        kernel_initializer: initializer of every dense kernel.
        kernel_regularizer: None, an L2 factor (float), 'l1', 'l2' or a Regularizer.
        dtype: dtype policy, for example ``"mixed_float16"`` (the output stays float32).
        name: model name.

    Returns:
        An uncompiled ``keras.Model``.

    Raises:
        ValueError: for an invalid value. TypeError: for a wrong type.

    Example:
        >>> model = zoo.build("mlp_tiny")
        >>> model.output_shape
        (None, 10)
    """
    shape, num_classes, options = _common.check_contract(
        input_shape=input_shape,
        ndim=range(1, 5),
        num_classes=num_classes,
        head_activation=head_activation,
        dropout=dropout,
        dtype=dtype,
        name=name,
        kernel_initializer=kernel_initializer,
        kernel_regularizer=kernel_regularizer,
    )
    units = v.check_int_sequence("units", units, min_length=0)
    v.check_activation("activation", activation)
    v.check_bool("batch_norm", batch_norm)
    task, num_outputs = _common.check_task(task, num_outputs)

    inputs = keras.Input(shape=shape, name="inputs")
    x = keras.layers.Flatten(name="flatten")(inputs) if len(shape) > 1 else inputs
    for i, width in enumerate(units, start=1):
        x = options.dense(width, use_bias=not batch_norm, name=f"dense_{i}")(x)
        if batch_norm:
            x = _common.batch_norm(options, name=f"bn_{i}")(x)
        x = keras.layers.Activation(activation, dtype=dtype, name=f"act_{i}")(x)
        if dropout > 0:
            x = keras.layers.Dropout(dropout, name=f"dropout_{i}")(x)
    outputs = _common.head(
        x,
        num_classes=num_classes,
        head_activation=head_activation,
        dropout=0.0,
        options=options,
        task=task,
        num_outputs=num_outputs,
    )
    return keras.Model(inputs, outputs, name=name)
