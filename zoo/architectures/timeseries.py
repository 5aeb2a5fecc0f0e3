"""Convolutional time-series classifiers: the fully convolutional network and ResNet.

Both take series of shape ``(length, channels)`` (``length`` may be None: global
average pooling makes them length-agnostic) and end in global average pooling and a
softmax layer, so a headless model gives one feature vector per series.

References:
    Wang, Yan and Oates, "Time Series Classification from Scratch with Deep Neural
    Networks: A Strong Baseline", IJCNN 2017 (FCN and ResNet).
    Ismail Fawaz, Forestier, Weber, Idoumghar and Muller, "Deep learning for time
    series classification: a review", Data Mining and Knowledge Discovery 2019; its
    Keras code (github.com/hfawaz/dl-4-tsc, ``classifiers/fcn.py`` and
    ``classifiers/resnet.py``) is the layout here: every Conv1D has a bias and
    ``"same"`` padding, batch normalisation keeps Keras's defaults (momentum 0.99,
    epsilon 1e-3), kernels are Glorot-uniform, and a ResNet block's shortcut is a 1x1
    Conv1D plus batch norm where the channel count changes, batch norm alone where it
    does not.
"""

from __future__ import annotations

import numbers
from typing import Any

import keras

from zoo import _validation as v
from zoo._catalogue import Preset, register
from zoo.architectures import _common

_REFERENCE = "dl-4-tsc (Fawaz et al. 2019): Conv1D with bias, Keras batch-norm defaults"

FCN_PRESETS = {
    "ts_fcn_tiny": Preset(
        "A three-block FCN with 8-16-8 filters over short 2-channel series, for tests.",
        {"input_shape": (24, 2), "num_classes": 3, "filters": (8, 16, 8)},
    ),
}

RESNET_PRESETS = {
    "ts_resnet_tiny": Preset(
        "A three-block time-series ResNet with 4-8-8 filters over short 2-channel "
        "series, for tests.",
        {"input_shape": (24, 2), "num_classes": 3, "filters": (4, 8, 8)},
    ),
}

# Tuning varies the widths and kernels of the paper's three blocks and the training.
FCN_SPACE = {
    "filters": [(64, 128, 64), (128, 256, 128)],
    "kernel_sizes": [(8, 5, 3), (7, 5, 3), (5, 3, 3)],
    "dropout": {"min": 0.0, "max": 0.5, "step": 0.1},
    "learning_rate": {"min": 1e-4, "max": 1e-2, "sampling": "log"},
}

RESNET_SPACE = {
    "filters": [(32, 64, 64), (64, 128, 128)],
    "kernel_sizes": [(8, 5, 3), (7, 5, 3), (5, 3, 3)],
    "dropout": {"min": 0.0, "max": 0.5, "step": 0.1},
    "learning_rate": {"min": 1e-4, "max": 1e-2, "sampling": "log"},
}


def _check_series_shape(input_shape: Any) -> None:
    """Refuse a 1-D shape with a hint (series need a channel axis for Conv1D)."""
    one_dim = isinstance(input_shape, numbers.Integral) and not isinstance(input_shape, bool)
    if isinstance(input_shape, (list, tuple)) and len(input_shape) == 1:
        one_dim = True
    if one_dim:
        raise v.invalid(
            "input_shape",
            "(length, channels): the network convolves along time over channels; for "
            "a 2-D array of univariate series of shape (n, length), add a channel axis "
            "with x[..., None] and use input_shape=(length, 1)",
            input_shape,
        )


def _check(
    *,
    input_shape: Any,
    num_classes: Any,
    filters: Any,
    kernel_sizes: Any,
    activation: Any,
    head_activation: Any,
    dropout: Any,
    kernel_initializer: Any,
    kernel_regularizer: Any,
    dtype: Any,
    name: Any,
) -> tuple[Any, int | None, tuple[int, ...], tuple[int, ...], _common.Options]:
    _check_series_shape(input_shape)
    shape, num_classes, options = _common.check_contract(
        input_shape=input_shape,
        ndim=2,
        num_classes=num_classes,
        head_activation=head_activation,
        dropout=dropout,
        dtype=dtype,
        name=name,
        kernel_initializer=kernel_initializer,
        kernel_regularizer=kernel_regularizer,
        allow_none=(0,),
    )
    filters = v.check_int_sequence("filters", filters)
    kernel_sizes = v.check_int_sequence("kernel_sizes", kernel_sizes)
    v.check_activation("activation", activation)
    return shape, num_classes, filters, kernel_sizes, options


def _conv(options: _common.Options, filters: int, kernel_size: int, name: str) -> Any:
    return keras.layers.Conv1D(
        filters,
        kernel_size,
        padding="same",
        kernel_initializer=options.kernel_initializer,
        kernel_regularizer=options.kernel_regularizer,
        dtype=options.dtype,
        name=name,
    )


def _bn(options: _common.Options, name: str) -> Any:
    # Keras's defaults, as the reference code (not PyTorch's, as _common.batch_norm).
    return keras.layers.BatchNormalization(dtype=options.dtype, name=name)


def _act(activation: Any, options: _common.Options, name: str) -> Any:
    return keras.layers.Activation(activation, dtype=options.dtype, name=name)


def _finish(x, inputs, *, num_classes, head_activation, dropout, options, name):
    x = keras.layers.GlobalAveragePooling1D(dtype=options.dtype, name="avg_pool")(x)
    outputs = _common.head(
        x,
        num_classes=num_classes,
        head_activation=head_activation,
        dropout=dropout,
        options=options,
    )
    return keras.Model(inputs, outputs, name=name)


@register(
    "ts_fcn",
    task="time-series classification",
    description="Fully convolutional network for time series (Wang et al. 2017): "
    "three Conv1D-BN-ReLU blocks, global average pooling.",
    presets=FCN_PRESETS,
    search_space=FCN_SPACE,
    layout=_REFERENCE,
)
def ts_fcn(
    input_shape: tuple[int | None, int] = (None, 1),
    num_classes: int | None = 2,
    *,
    filters: tuple[int, ...] = (128, 256, 128),
    kernel_sizes: tuple[int, ...] = (8, 5, 3),
    activation: Any = "relu",
    dropout: float = 0.0,
    head_activation: Any = None,
    kernel_initializer: Any = "glorot_uniform",
    kernel_regularizer: Any = None,
    dtype: Any = None,
    name: str = "ts_fcn",
) -> keras.Model:
    """Build the fully convolutional network (FCN) for time-series classification.

    The defaults are the paper's: blocks of Conv1D (128 filters of width 8, 256 of
    width 5, 128 of width 3; ``"same"`` padding, with bias) -> BatchNorm -> ReLU, then
    global average pooling over time and a softmax layer. No pooling between blocks,
    so the series keeps its length until the global pooling.

    Args:
        input_shape: (length, channels); ``length`` may be None (any length). A 2-D
            array of univariate series of shape (n, length) needs a channel axis:
            ``x[..., None]`` and ``input_shape=(length, 1)``.
        num_classes: classes; None for a headless model (the pooled features).
        filters: filters of each block.
        kernel_sizes: kernel width of each block (same length as ``filters``).
        activation: activation after each batch norm.
        dropout: dropout rate before the head (0 in the paper).
        head_activation: output activation (default softmax, sigmoid for one class).
        kernel_initializer: initializer of every kernel.
        kernel_regularizer: None, an L2 factor (float), 'l1', 'l2' or a Regularizer.
        dtype: dtype policy (the output stays float32 under mixed precision).
        name: model name.

    Returns:
        An uncompiled ``keras.Model``.

    Raises:
        ValueError: for an invalid value (a 1-D ``input_shape`` among them, with how
            to add the channel axis) or ``filters`` and ``kernel_sizes`` of different
            lengths. TypeError: for a wrong type.

    Example:
        >>> zoo.build("ts_fcn_tiny").output_shape
        (None, 3)
    """
    shape, num_classes, filters, kernel_sizes, options = _check(
        input_shape=input_shape,
        num_classes=num_classes,
        filters=filters,
        kernel_sizes=kernel_sizes,
        activation=activation,
        head_activation=head_activation,
        dropout=dropout,
        kernel_initializer=kernel_initializer,
        kernel_regularizer=kernel_regularizer,
        dtype=dtype,
        name=name,
    )
    v.check_same_length(("filters", "kernel_sizes"), (filters, kernel_sizes))

    inputs = keras.Input(shape=shape, name="inputs")
    x = inputs
    for b, (width, kernel) in enumerate(zip(filters, kernel_sizes, strict=True), start=1):
        x = _conv(options, width, kernel, f"block{b}_conv")(x)
        x = _bn(options, f"block{b}_bn")(x)
        x = _act(activation, options, f"block{b}_act")(x)
    return _finish(
        x,
        inputs,
        num_classes=num_classes,
        head_activation=head_activation,
        dropout=dropout,
        options=options,
        name=name,
    )


@register(
    "ts_resnet",
    task="time-series classification",
    description="Residual network for time series (Wang et al. 2017): three residual "
    "blocks of three Conv1D-BN layers, global average pooling.",
    presets=RESNET_PRESETS,
    search_space=RESNET_SPACE,
    layout=_REFERENCE,
)
def ts_resnet(
    input_shape: tuple[int | None, int] = (None, 1),
    num_classes: int | None = 2,
    *,
    filters: tuple[int, ...] = (64, 128, 128),
    kernel_sizes: tuple[int, ...] = (8, 5, 3),
    activation: Any = "relu",
    dropout: float = 0.0,
    head_activation: Any = None,
    kernel_initializer: Any = "glorot_uniform",
    kernel_regularizer: Any = None,
    dtype: Any = None,
    name: str = "ts_resnet",
) -> keras.Model:
    """Build the residual network (ResNet) for time-series classification.

    The defaults are the paper's (``n_feature_maps=64``): three residual blocks of
    64, 128 and 128 filters. A block is Conv1D (width 8) -> BN -> ReLU -> Conv1D
    (width 5) -> BN -> ReLU -> Conv1D (width 3) -> BN, added to the shortcut (a 1x1
    Conv1D and BN where the channel count changes, BN alone where it does not), then
    ReLU. Global average pooling over time and a softmax layer follow.

    Args:
        input_shape: (length, channels); ``length`` may be None (any length). A 2-D
            array of univariate series of shape (n, length) needs a channel axis:
            ``x[..., None]`` and ``input_shape=(length, 1)``.
        num_classes: classes; None for a headless model (the pooled features).
        filters: filters of each residual block.
        kernel_sizes: kernel widths of the convolutions inside every block (ReLU
            follows each but the last).
        activation: activation inside and after each block.
        dropout: dropout rate before the head (0 in the paper).
        head_activation: output activation (default softmax, sigmoid for one class).
        kernel_initializer: initializer of every kernel.
        kernel_regularizer: None, an L2 factor (float), 'l1', 'l2' or a Regularizer.
        dtype: dtype policy (the output stays float32 under mixed precision).
        name: model name.

    Returns:
        An uncompiled ``keras.Model``.

    Raises:
        ValueError: for an invalid value (a 1-D ``input_shape`` among them, with how
            to add the channel axis). TypeError: for a wrong type.

    Example:
        >>> zoo.build("ts_resnet_tiny").output_shape
        (None, 3)
    """
    shape, num_classes, filters, kernel_sizes, options = _check(
        input_shape=input_shape,
        num_classes=num_classes,
        filters=filters,
        kernel_sizes=kernel_sizes,
        activation=activation,
        head_activation=head_activation,
        dropout=dropout,
        kernel_initializer=kernel_initializer,
        kernel_regularizer=kernel_regularizer,
        dtype=dtype,
        name=name,
    )

    inputs = keras.Input(shape=shape, name="inputs")
    x = inputs
    last = len(kernel_sizes)
    for b, width in enumerate(filters, start=1):
        y = x
        for c, kernel in enumerate(kernel_sizes, start=1):
            y = _conv(options, width, kernel, f"block{b}_conv{c}")(y)
            y = _bn(options, f"block{b}_bn{c}")(y)
            if c < last:
                y = _act(activation, options, f"block{b}_act{c}")(y)
        shortcut = x
        if x.shape[-1] != width:
            shortcut = _conv(options, width, 1, f"block{b}_shortcut_conv")(shortcut)
        shortcut = _bn(options, f"block{b}_shortcut_bn")(shortcut)
        x = keras.layers.Add(dtype=options.dtype, name=f"block{b}_add")([shortcut, y])
        x = _act(activation, options, f"block{b}_out")(x)
    return _finish(
        x,
        inputs,
        num_classes=num_classes,
        head_activation=head_activation,
        dropout=dropout,
        options=options,
        name=name,
    )
