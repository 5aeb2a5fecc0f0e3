"""Plain convolutional networks: a small convnet, LeNet-5 and VGG.

References:
    LeCun, Bottou, Bengio and Haffner, "Gradient-based learning applied to document
    recognition", Proc. IEEE 1998 (LeNet-5; here the common modern variant with full
    C3 connections and a dense 120-84 classifier).
    Simonyan and Zisserman, "Very Deep Convolutional Networks for Large-Scale Image
    Recognition", ICLR 2015 (VGG configurations A, B, D and E; the ``_bn`` variants
    add batch normalisation after every convolution as torchvision's ``vgg*_bn``).
"""

from __future__ import annotations

from typing import Any

import keras

from zoo import _validation as v
from zoo._catalogue import Preset, register
from zoo.architectures import _common

POOLINGS = ("max", "avg")
HEAD_POOLINGS = ("flatten", "avg", "max")


def _pool(kind: str, name: str, dtype: Any) -> keras.layers.Layer:
    layer = keras.layers.MaxPooling2D if kind == "max" else keras.layers.AveragePooling2D
    return layer(pool_size=2, strides=2, dtype=dtype, name=name)


def _head_pool(kind: str, dtype: Any) -> keras.layers.Layer:
    if kind == "flatten":
        return keras.layers.Flatten(dtype=dtype, name="flatten")
    if kind == "avg":
        return keras.layers.GlobalAveragePooling2D(dtype=dtype, name="avg_pool")
    return keras.layers.GlobalMaxPooling2D(dtype=dtype, name="max_pool")


# --------------------------------------------------------------------------- convnet

CONVNET_PRESETS = {
    "convnet_tiny": Preset(
        "A one-block convnet for tests.",
        {"input_shape": (8, 8, 1), "filters": (4,), "dense_units": (8,)},
    ),
    "convnet_digits": Preset(
        "Two conv blocks for 8x8 digit images (the `zoo demo` model).",
        {"input_shape": (8, 8, 1), "filters": (32, 64), "dense_units": (128,)},
    ),
    "convnet_tf_tutorial": Preset(
        "TensorFlow's layers-tutorial CNN, the Fashion-MNIST benchmark's '2 Conv+pooling' "
        "(0.916): 5x5 convs of 32 and 64 filters, each with 2x2 max pooling, dense 1024, "
        "dropout 0.4; 3,274,634 parameters on 28x28x1 (zoo also drops 0.4 before the "
        "dense layer).",
        {
            "input_shape": (28, 28, 1),
            "filters": (32, 64),
            "convs_per_block": 1,
            "kernel_size": 5,
            "dense_units": (1024,),
            "dropout": 0.4,
        },
    ),
    "convnet_bn": Preset(
        "Two 3x3 conv blocks (32, 64 filters) with batch norm and 2x2 max pooling, dense "
        "512 with dropout 0.5: the Fashion-MNIST benchmark's '2 Conv+pooling+BN' (0.934).",
        {
            "input_shape": (28, 28, 1),
            "filters": (32, 64),
            "convs_per_block": 1,
            "batch_norm": True,
            "dense_units": (512,),
            "dropout": 0.5,
        },
    ),
    "convnet_cifar": Preset(
        "Three conv blocks with batch norm for 32x32 colour images.",
        {
            "input_shape": (32, 32, 3),
            "filters": (32, 64, 128),
            "batch_norm": True,
            "dense_units": (256,),
            "dropout": 0.5,
        },
    ),
}


CONVNET_SPACE = {
    "filters": [(16, 32), (32, 64), (64, 128)],
    "convs_per_block": [1, 2],
    "batch_norm": [False, True],
    "dense_units": [(64,), (128,), (256,)],
    "dropout": {"min": 0.0, "max": 0.5, "step": 0.125},
    "learning_rate": {"min": 1e-4, "max": 1e-2, "sampling": "log"},
}


@register(
    "convnet",
    task="image classification",
    description="A simple convnet: blocks of 3x3 convolutions and 2x2 pooling, then dense.",
    presets=CONVNET_PRESETS,
    search_space=CONVNET_SPACE,
)
def convnet(
    input_shape: tuple[int, int, int] = (28, 28, 1),
    num_classes: int | None = 10,
    *,
    filters: tuple[int, ...] = (32, 64),
    convs_per_block: int = 2,
    kernel_size: int = 3,
    pooling: str = "max",
    batch_norm: bool = False,
    dense_units: tuple[int, ...] = (128,),
    head_pooling: str = "flatten",
    activation: Any = "relu",
    dropout: float = 0.25,
    head_activation: Any = None,
    kernel_initializer: Any = "he_normal",
    kernel_regularizer: Any = None,
    dtype: Any = None,
    name: str = "convnet",
) -> keras.Model:
    """Build a small convolutional network for small images.

    Each block is ``convs_per_block`` x (Conv 'same' -> (BatchNorm) -> activation),
    then 2x2 pooling; the blocks are followed by flatten (or global pooling), dense
    layers and the head.

    Args:
        input_shape: (height, width, channels).
        num_classes: classes; None for a headless feature extractor (after
            ``head_pooling``).
        filters: filters of each block; each block halves height and width.
        convs_per_block: convolutions per block.
        kernel_size: convolution kernel size.
        pooling: ``"max"`` or ``"avg"`` pooling between blocks.
        batch_norm: batch normalisation after each convolution (then without bias).
        dense_units: units of the dense layers before the head.
        head_pooling: ``"flatten"``, ``"avg"`` or ``"max"`` (global pooling).
        activation: hidden activation.
        dropout: dropout rate before each dense layer and the head.
        head_activation: output activation (default softmax).
        kernel_initializer: initializer of every kernel.
        kernel_regularizer: None, an L2 factor (float), 'l1', 'l2' or a Regularizer.
        dtype: dtype policy (the output stays float32 under mixed precision).
        name: model name.

    Returns:
        An uncompiled ``keras.Model``.

    Raises:
        ValueError: for an invalid value, including an input smaller than
            ``2 ** len(filters)`` pixels. TypeError: for a wrong type.

    Example:
        >>> zoo.build("convnet_tiny").output_shape
        (None, 10)
    """
    shape, num_classes, options = _common.check_contract(
        input_shape=input_shape,
        ndim=3,
        num_classes=num_classes,
        head_activation=head_activation,
        dropout=dropout,
        dtype=dtype,
        name=name,
        kernel_initializer=kernel_initializer,
        kernel_regularizer=kernel_regularizer,
    )
    filters = v.check_int_sequence("filters", filters)
    convs_per_block = v.check_int("convs_per_block", convs_per_block, minimum=1)
    kernel_size = v.check_int("kernel_size", kernel_size, minimum=1)
    v.check_choice("pooling", pooling, POOLINGS)
    v.check_bool("batch_norm", batch_norm)
    dense_units = v.check_int_sequence("dense_units", dense_units, min_length=0)
    v.check_choice("head_pooling", head_pooling, HEAD_POOLINGS)
    v.check_activation("activation", activation)
    factor = 2 ** len(filters)
    v.check_min_spatial(shape, factor, f"{len(filters)} blocks each halve the size")

    inputs = keras.Input(shape=shape, name="inputs")
    x = inputs
    for b, width in enumerate(filters, start=1):
        for c in range(1, convs_per_block + 1):
            x = options.conv(
                width,
                kernel_size,
                padding="same",
                use_bias=not batch_norm,
                name=f"block{b}_conv{c}",
            )(x)
            if batch_norm:
                x = _common.batch_norm(options, name=f"block{b}_bn{c}")(x)
            x = keras.layers.Activation(activation, dtype=dtype, name=f"block{b}_act{c}")(x)
        x = _pool(pooling, f"block{b}_pool", dtype)(x)
    x = _head_pool(head_pooling, dtype)(x)
    if num_classes is not None:
        for i, units in enumerate(dense_units, start=1):
            if dropout > 0:
                x = keras.layers.Dropout(dropout, name=f"dropout_{i}")(x)
            x = options.dense(units, activation=activation, name=f"dense_{i}")(x)
    outputs = _common.head(
        x,
        num_classes=num_classes,
        head_activation=head_activation,
        dropout=dropout,
        options=options,
    )
    return keras.Model(inputs, outputs, name=name)


# --------------------------------------------------------------------------- LeNet-5


def _lenet_feature_size(size: int) -> int:
    """Height after conv5 -> pool2 -> conv5 -> pool2 ('valid' convolutions)."""
    return ((size - 4) // 2 - 4) // 2


# LeNet-5's structure is the paper's; tuning varies its training and activations.
LENET_SPACE = {
    "activation": ["tanh", "relu"],
    "pooling": ["avg", "max"],
    "dropout": {"min": 0.0, "max": 0.5, "step": 0.1},
    "learning_rate": {"min": 1e-4, "max": 1e-2, "sampling": "log"},
}


@register(
    "lenet_5",
    task="image classification",
    description="LeNet-5 (LeCun et al. 1998), modern variant: 6-16 conv, 120-84 dense.",
    search_space=LENET_SPACE,
)
def lenet_5(
    input_shape: tuple[int, int, int] = (32, 32, 1),
    num_classes: int | None = 10,
    *,
    activation: Any = "tanh",
    pooling: str = "avg",
    dropout: float = 0.0,
    head_activation: Any = None,
    kernel_initializer: Any = "glorot_uniform",
    kernel_regularizer: Any = None,
    dtype: Any = None,
    name: str = "lenet_5",
) -> keras.Model:
    """Build LeNet-5: C1 (6@5x5), S2, C3 (16@5x5, all connections), S4, F5-F6-output.

    With the defaults (32x32x1 input, 10 classes) it has 61,706 parameters.

    Args:
        input_shape: (height, width, channels); at least 16x16 (32x32 in the paper).
        num_classes: classes; None for a headless model (the 84-unit features).
        activation: activation of every hidden layer (the paper used a scaled tanh).
        pooling: ``"avg"`` (the paper's subsampling) or ``"max"``.
        dropout: dropout rate before the head.
        head_activation: output activation (default softmax).
        kernel_initializer: initializer of every kernel.
        kernel_regularizer: None, an L2 factor (float), 'l1', 'l2' or a Regularizer.
        dtype: dtype policy (the output stays float32 under mixed precision).
        name: model name.

    Returns:
        An uncompiled ``keras.Model``.

    Raises:
        ValueError: for an invalid value or an input smaller than 16x16.
        TypeError: for a wrong type.

    Example:
        >>> zoo.build("lenet_5").count_params()
        61706
    """
    shape, num_classes, options = _common.check_contract(
        input_shape=input_shape,
        ndim=3,
        num_classes=num_classes,
        head_activation=head_activation,
        dropout=dropout,
        dtype=dtype,
        name=name,
        kernel_initializer=kernel_initializer,
        kernel_regularizer=kernel_regularizer,
    )
    v.check_activation("activation", activation)
    v.check_choice("pooling", pooling, POOLINGS)
    if min(_lenet_feature_size(d) for d in shape[:2]) < 1:
        v.check_min_spatial(shape, 16, "two 5x5 valid convolutions and two 2x2 poolings")

    inputs = keras.Input(shape=shape, name="inputs")
    x = options.conv(6, 5, activation=activation, name="c1")(inputs)
    x = _pool(pooling, "s2", dtype)(x)
    x = options.conv(16, 5, activation=activation, name="c3")(x)
    x = _pool(pooling, "s4", dtype)(x)
    x = keras.layers.Flatten(dtype=dtype, name="flatten")(x)
    x = options.dense(120, activation=activation, name="f5")(x)
    x = options.dense(84, activation=activation, name="f6")(x)
    outputs = _common.head(
        x,
        num_classes=num_classes,
        head_activation=head_activation,
        dropout=dropout,
        options=options,
    )
    return keras.Model(inputs, outputs, name=name)


# --------------------------------------------------------------------------- VGG

_VGG_FILTERS = (64, 128, 256, 512, 512)
_VGG_CONVS = {
    "11": (1, 1, 2, 2, 2),
    "13": (2, 2, 2, 2, 2),
    "16": (2, 2, 3, 3, 3),
    "19": (2, 2, 4, 4, 4),
}
_VGG_CONFIG = {"11": "A", "13": "B", "16": "D", "19": "E"}

VGG_PRESETS = {
    f"vgg_{depth}{suffix}": Preset(
        f"VGG-{depth} (configuration {_VGG_CONFIG[depth]}, Simonyan and Zisserman 2015)"
        + (" with batch norm." if suffix else "."),
        {"convs_per_stage": convs, "batch_norm": bool(suffix)},
        layout=f"configuration {_VGG_CONFIG[depth]}"
        + (", batch norm (torchvision)" if suffix else ""),
    )
    for depth, convs in _VGG_CONVS.items()
    for suffix in ("", "_bn")
}
VGG_PRESETS["vgg_tiny"] = Preset(
    "A two-stage VGG for tests.",
    {
        "input_shape": (16, 16, 3),
        "num_classes": 10,
        "convs_per_stage": (1, 2),
        "filters": (4, 8),
        "dense_units": (16,),
        "batch_norm": True,
    },
)


# A VGG preset's stages are the paper's; tuning varies the head and training.
VGG_SPACE = {
    "batch_norm": [False, True],
    "dense_units": [(4096, 4096), (1024, 1024), (256, 256)],
    "dropout": {"min": 0.0, "max": 0.5, "step": 0.1},
    "optimizer": ["sgd", "adam"],
    "learning_rate": {"min": 1e-4, "max": 1e-2, "sampling": "log"},
}


@register(
    "vgg",
    task="image classification",
    description="VGG: stages of 3x3 convolutions and max pooling, then dense 4096-4096.",
    presets=VGG_PRESETS,
    search_space=VGG_SPACE,
)
def vgg(
    input_shape: tuple[int, int, int] = (224, 224, 3),
    num_classes: int | None = 1000,
    *,
    convs_per_stage: tuple[int, ...] = (2, 2, 3, 3, 3),
    filters: tuple[int, ...] = _VGG_FILTERS,
    dense_units: tuple[int, ...] = (4096, 4096),
    batch_norm: bool = False,
    head_pooling: str = "flatten",
    activation: Any = "relu",
    dropout: float = 0.5,
    head_activation: Any = None,
    kernel_initializer: Any = "glorot_uniform",
    kernel_regularizer: Any = None,
    dtype: Any = None,
    name: str = "vgg",
) -> keras.Model:
    """Build a VGG network (the defaults are VGG-16).

    Convolutions keep their bias even with batch norm, as in torchvision, so the
    presets have the reference parameter counts (``vgg_16``: 138,357,544).

    Args:
        input_shape: (height, width, channels); at least ``2 ** len(filters)`` pixels.
        num_classes: classes; None for a headless feature extractor (the pooled
            convolutional features, without the dense layers).
        convs_per_stage: 3x3 convolutions in each stage.
        filters: filters of each stage (same length as ``convs_per_stage``).
        dense_units: units of the dense layers of the classifier.
        batch_norm: batch normalisation after each convolution.
        head_pooling: ``"flatten"`` (the paper) or global ``"avg"`` / ``"max"``.
        activation: hidden activation.
        dropout: dropout after each dense layer of the classifier.
        head_activation: output activation (default softmax).
        kernel_initializer: initializer of every kernel.
        kernel_regularizer: None, an L2 factor (float), 'l1', 'l2' or a Regularizer.
        dtype: dtype policy (the output stays float32 under mixed precision).
        name: model name.

    Returns:
        An uncompiled ``keras.Model``.

    Raises:
        ValueError: for an invalid value, inconsistent ``filters`` and
            ``convs_per_stage`` or an input too small. TypeError: for a wrong type.

    Example:
        >>> zoo.build("vgg_tiny").output_shape
        (None, 10)
    """
    shape, num_classes, options = _common.check_contract(
        input_shape=input_shape,
        ndim=3,
        num_classes=num_classes,
        head_activation=head_activation,
        dropout=dropout,
        dtype=dtype,
        name=name,
        kernel_initializer=kernel_initializer,
        kernel_regularizer=kernel_regularizer,
    )
    convs_per_stage = v.check_int_sequence("convs_per_stage", convs_per_stage)
    filters = v.check_int_sequence("filters", filters)
    v.check_same_length(("convs_per_stage", "filters"), (convs_per_stage, filters))
    dense_units = v.check_int_sequence("dense_units", dense_units, min_length=0)
    v.check_bool("batch_norm", batch_norm)
    v.check_choice("head_pooling", head_pooling, HEAD_POOLINGS)
    v.check_activation("activation", activation)
    factor = 2 ** len(filters)
    v.check_min_spatial(shape, factor, f"{len(filters)} max-pooling stages each halve it")

    inputs = keras.Input(shape=shape, name="inputs")
    x = inputs
    for s, (convs, width) in enumerate(zip(convs_per_stage, filters, strict=True), start=1):
        for c in range(1, convs + 1):
            x = options.conv(width, 3, padding="same", name=f"block{s}_conv{c}")(x)
            if batch_norm:
                x = _common.batch_norm(options, name=f"block{s}_bn{c}")(x)
            x = keras.layers.Activation(activation, dtype=dtype, name=f"block{s}_act{c}")(x)
        x = keras.layers.MaxPooling2D(2, strides=2, dtype=dtype, name=f"block{s}_pool")(x)
    x = _head_pool(head_pooling, dtype)(x)
    if num_classes is not None:
        for i, units in enumerate(dense_units, start=1):
            x = options.dense(units, activation=activation, name=f"fc{i}")(x)
            if dropout > 0:
                x = keras.layers.Dropout(dropout, name=f"fc{i}_dropout")(x)
    outputs = _common.head(
        x,
        num_classes=num_classes,
        head_activation=head_activation,
        dropout=0.0,
        options=options,
    )
    return keras.Model(inputs, outputs, name=name)
