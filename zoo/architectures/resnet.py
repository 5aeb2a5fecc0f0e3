"""Residual networks: ImageNet ResNets, pre-activation (v2) ResNets, CIFAR ResNets.

References:
    He, Zhang, Ren and Sun, "Deep Residual Learning for Image Recognition", CVPR 2016
    (arXiv 2015). ImageNet layout as in torchvision: no convolution bias before batch
    norm, projection shortcuts (option B), stride on the 3x3 convolution of the
    bottleneck ("ResNet v1.5"). CIFAR ResNets (section 4.2): 3 stages of 16/32/64
    filters, 6n+2 layers, parameter-free zero-padding shortcuts (option A).
    He, Zhang, Ren and Sun, "Identity Mappings in Deep Residual Networks", ECCV 2016
    (pre-activation, v2); layout as ``keras.applications.ResNet50V2``.
"""

from __future__ import annotations

import itertools
from typing import Any

import keras

from zoo import _validation as v
from zoo._catalogue import Preset, register
from zoo.architectures import _common
from zoo.layers import PadChannels

BLOCKS = ("basic", "bottleneck")
STEMS = ("imagenet", "cifar")
SHORTCUTS = ("projection", "zero_pad")
POOLINGS = ("avg", "max", None)
STRIDE_ON = ("3x3", "1x1")

_IMAGENET_DEPTHS = {
    18: ("basic", (2, 2, 2, 2)),
    34: ("basic", (3, 4, 6, 3)),
    50: ("bottleneck", (3, 4, 6, 3)),
    101: ("bottleneck", (3, 4, 23, 3)),
    152: ("bottleneck", (3, 8, 36, 3)),
}

PRESETS = {
    f"resnet_{depth}": Preset(
        f"ResNet-{depth} (He et al. 2015), ImageNet layout as in torchvision.",
        {"block": block, "blocks_per_stage": blocks},
        layout="v1.5, stride on the 3x3 (torchvision)"
        if block == "bottleneck"
        else "v1 (torchvision; basic blocks have no 1x1)",
    )
    for depth, (block, blocks) in _IMAGENET_DEPTHS.items()
}
PRESETS.update(
    {
        f"resnet_{depth}_v2": Preset(
            f"Pre-activation ResNet-{depth} v2 (He et al. 2016), as Keras's ResNet{depth}V2.",
            {"block": "bottleneck", "blocks_per_stage": blocks, "preact": True},
            layout="v2, pre-activation, stride on the 3x3 (Keras ResNetV2)",
        )
        for depth, (_, blocks) in _IMAGENET_DEPTHS.items()
        if depth >= 50
    }
)
PRESETS.update(
    {
        f"resnet_{6 * n + 2}": Preset(
            f"CIFAR ResNet-{6 * n + 2} (He et al. 2015, sec. 4.2): 16/32/64 filters, "
            "option-A shortcuts.",
            {
                "input_shape": (32, 32, 3),
                "num_classes": 10,
                "block": "basic",
                "blocks_per_stage": (n, n, n),
                "filters": (16, 32, 64),
                "stem": "cifar",
                "stem_filters": 16,
                "shortcut": "zero_pad",
            },
            layout="CIFAR, option-A (zero-padding) shortcuts",
        )
        for n in (3, 5, 7, 9, 18)
    }
)
PRESETS["resnet_tiny"] = Preset(
    "A two-stage basic-block ResNet for tests.",
    {
        "input_shape": (16, 16, 3),
        "num_classes": 10,
        "blocks_per_stage": (1, 1),
        "filters": (4, 8),
        "stem": "cifar",
        "stem_filters": 4,
    },
)
PRESETS["resnet_tiny_v2"] = Preset(
    "A two-stage pre-activation bottleneck ResNet for tests.",
    {
        "input_shape": (32, 32, 3),
        "num_classes": 10,
        "block": "bottleneck",
        "blocks_per_stage": (2, 1),
        "filters": (4, 8),
        "stem_filters": 8,
        "preact": True,
    },
)


class _Builder:
    """Shared state while one ResNet is assembled."""

    def __init__(
        self, options: _common.Options, activation: Any, zero_init: bool, stride_on: str = "3x3"
    ):
        self.options = options
        self.activation = activation
        self.zero_init = zero_init
        self.stride_on = stride_on

    def conv(self, x, filters, kernel, stride, name, use_bias=False):
        if stride > 1 and kernel > 1:
            # Symmetric padding as in the paper's Torch code (Keras 'same' pads one side).
            x = keras.layers.ZeroPadding2D(
                kernel // 2, dtype=self.options.dtype, name=f"{name}_pad"
            )(x)
            padding = "valid"
        else:
            padding = "same"
        return self.options.conv(
            filters,
            kernel,
            strides=stride,
            padding=padding,
            use_bias=use_bias,
            name=name,
        )(x)

    def bn(self, x, name, zero=False):
        gamma = "zeros" if zero and self.zero_init else "ones"
        return _common.batch_norm(self.options, name=name, gamma_initializer=gamma)(x)

    def act(self, x, name):
        return keras.layers.Activation(self.activation, dtype=self.options.dtype, name=name)(x)

    # v1: conv -> BN -> ReLU, addition, then ReLU ------------------------------------

    def shortcut_v1(self, x, filters, stride, kind, name):
        if stride == 1 and x.shape[-1] == filters:
            return x
        if kind == "zero_pad":
            if stride > 1:
                x = keras.layers.MaxPooling2D(
                    1,
                    strides=stride,
                    dtype=self.options.dtype,
                    name=f"{name}_subsample",
                )(x)
            extra = filters - x.shape[-1]
            return PadChannels(
                extra // 2,
                extra - extra // 2,
                dtype=self.options.dtype,
                name=f"{name}_pad",
            )(x)
        x = self.conv(x, filters, 1, stride, f"{name}_conv")
        return self.bn(x, f"{name}_bn")

    def basic_v1(self, x, filters, stride, shortcut, name):
        residual = self.shortcut_v1(x, filters, stride, shortcut, f"{name}_shortcut")
        x = self.conv(x, filters, 3, stride, f"{name}_conv1")
        x = self.act(self.bn(x, f"{name}_bn1"), f"{name}_act1")
        x = self.conv(x, filters, 3, 1, f"{name}_conv2")
        x = self.bn(x, f"{name}_bn2", zero=True)
        x = keras.layers.Add(dtype=self.options.dtype, name=f"{name}_add")([residual, x])
        return self.act(x, f"{name}_out")

    def bottleneck_v1(self, x, filters, stride, shortcut, name):
        residual = self.shortcut_v1(x, 4 * filters, stride, shortcut, f"{name}_shortcut")
        first, second = (1, stride) if self.stride_on == "3x3" else (stride, 1)
        x = self.conv(x, filters, 1, first, f"{name}_conv1")
        x = self.act(self.bn(x, f"{name}_bn1"), f"{name}_act1")
        x = self.conv(x, filters, 3, second, f"{name}_conv2")
        x = self.act(self.bn(x, f"{name}_bn2"), f"{name}_act2")
        x = self.conv(x, 4 * filters, 1, 1, f"{name}_conv3")
        x = self.bn(x, f"{name}_bn3", zero=True)
        x = keras.layers.Add(dtype=self.options.dtype, name=f"{name}_add")([residual, x])
        return self.act(x, f"{name}_out")

    # v2: BN -> ReLU -> conv; stride in the last block of a stage (as Keras) --------

    def block_v2(self, x, filters, stride, first, kind, block, name):
        out_filters = 4 * filters if block == "bottleneck" else filters
        preact = self.act(self.bn(x, f"{name}_preact_bn"), f"{name}_preact_act")
        if first:
            if kind == "zero_pad":
                residual = self.shortcut_v1(x, out_filters, stride, kind, f"{name}_shortcut")
            else:
                residual = self.conv(
                    preact,
                    out_filters,
                    1,
                    stride,
                    f"{name}_shortcut_conv",
                    use_bias=True,
                )
        elif stride > 1:
            residual = keras.layers.MaxPooling2D(
                1,
                strides=stride,
                dtype=self.options.dtype,
                name=f"{name}_shortcut_pool",
            )(x)
        else:
            residual = x
        if block == "bottleneck":
            y = self.conv(preact, filters, 1, 1, f"{name}_conv1")
            y = self.act(self.bn(y, f"{name}_bn1"), f"{name}_act1")
            y = self.conv(y, filters, 3, stride, f"{name}_conv2")
            y = self.act(self.bn(y, f"{name}_bn2"), f"{name}_act2")
            y = self.conv(y, out_filters, 1, 1, f"{name}_conv3", use_bias=True)
        else:
            y = self.conv(preact, filters, 3, stride, f"{name}_conv1")
            y = self.act(self.bn(y, f"{name}_bn1"), f"{name}_act1")
            y = self.conv(y, filters, 3, 1, f"{name}_conv2", use_bias=True)
        return keras.layers.Add(dtype=self.options.dtype, name=f"{name}_add")([residual, y])


# Tuning keeps a preset's depth and widths (they define it); these are training choices.
SEARCH_SPACE = {
    "zero_init_residual": [False, True],
    "dropout": {"min": 0.0, "max": 0.3, "step": 0.1},
    "optimizer": ["sgd", "adam"],
    "schedule": ["constant", "cosine"],
    "learning_rate": {"min": 1e-4, "max": 1e-2, "sampling": "log"},
}


@register(
    "resnet",
    task="image classification",
    description="Residual network (basic or bottleneck blocks, v1 or pre-activation v2).",
    presets=PRESETS,
    search_space=SEARCH_SPACE,
)
def resnet(
    input_shape: tuple[int, int, int] = (224, 224, 3),
    num_classes: int | None = 1000,
    *,
    block: str = "basic",
    blocks_per_stage: tuple[int, ...] = (2, 2, 2, 2),
    filters: tuple[int, ...] = (64, 128, 256, 512),
    stem: str = "imagenet",
    stem_filters: int = 64,
    preact: bool = False,
    shortcut: str = "projection",
    stride_on: str = "3x3",
    zero_init_residual: bool = False,
    pooling: str | None = "avg",
    activation: Any = "relu",
    dropout: float = 0.0,
    head_activation: Any = None,
    kernel_initializer: Any = "he_normal",
    kernel_regularizer: Any = None,
    dtype: Any = None,
    name: str = "resnet",
) -> keras.Model:
    """Build a residual network (the defaults are ResNet-18).

    Stage ``i`` has ``blocks_per_stage[i]`` blocks of ``filters[i]`` filters (times 4
    at the output of a bottleneck block); every stage after the first halves height
    and width.

    Args:
        input_shape: (height, width, channels); any size at least the total
            downsampling (32 for the ImageNet stem with 4 stages).
        num_classes: classes; None for a headless feature extractor.
        block: ``"basic"`` (two 3x3) or ``"bottleneck"`` (1x1-3x3-1x1, expansion 4).
        blocks_per_stage: blocks in each stage.
        filters: filters of each stage (same length as ``blocks_per_stage``).
        stem: ``"imagenet"`` (7x7/2 conv and 3x3/2 max pool) or ``"cifar"`` (3x3 conv).
        stem_filters: filters of the stem convolution.
        preact: pre-activation (v2) blocks: BN -> ReLU -> conv.
        shortcut: ``"projection"`` (1x1 conv, option B) or ``"zero_pad"``
            (parameter-free, option A) where the shape changes.
        stride_on: where a v1 bottleneck block downsamples: ``"3x3"`` (torchvision's
            "v1.5", the default) or ``"1x1"`` (the paper's Caffe model and
            ``keras.applications.ResNet50``: same parameters, 6% fewer multiply-adds
            for ResNet-50, slightly lower accuracy).
        zero_init_residual: start each block's last batch-norm scale at zero (v1),
            so every block starts as the identity (Goyal et al. 2017).
        pooling: global ``"avg"`` or ``"max"`` pooling; None keeps the feature maps
            (headless models only).
        activation: activation after batch norm.
        dropout: dropout rate before the head.
        head_activation: output activation (default softmax).
        kernel_initializer: initializer of every convolution kernel.
        kernel_regularizer: None, an L2 factor (float), 'l1', 'l2' or a Regularizer.
        dtype: dtype policy (the output stays float32 under mixed precision).
        name: model name.

    Returns:
        An uncompiled ``keras.Model``.

    Raises:
        ValueError: for an invalid value, inconsistent stage lengths or an input
            smaller than the total downsampling. TypeError: for a wrong type.

    Example:
        >>> zoo.build("resnet_tiny").output_shape
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
    v.check_choice("block", block, BLOCKS)
    blocks_per_stage = v.check_int_sequence("blocks_per_stage", blocks_per_stage)
    filters = v.check_int_sequence("filters", filters)
    v.check_same_length(("blocks_per_stage", "filters"), (blocks_per_stage, filters))
    v.check_choice("stem", stem, STEMS)
    stem_filters = v.check_int("stem_filters", stem_filters, minimum=1)
    v.check_bool("preact", preact)
    v.check_choice("shortcut", shortcut, SHORTCUTS)
    v.check_choice("stride_on", stride_on, STRIDE_ON)
    v.check_bool("zero_init_residual", zero_init_residual)
    v.check_choice("pooling", pooling, POOLINGS)
    if pooling is None and num_classes is not None:
        raise v.invalid(
            "pooling",
            "'avg' or 'max' when the model has a head (num_classes set)",
            pooling,
        )
    v.check_activation("activation", activation)
    if shortcut == "zero_pad":
        widths = [stem_filters] + [f * (4 if block == "bottleneck" else 1) for f in filters]
        if any(b < a for a, b in itertools.pairwise(widths)):
            raise v.invalid(
                "filters",
                "non-decreasing with shortcut='zero_pad' (zero padding cannot remove channels)",
                filters,
            )
    stem_factor = 4 if stem == "imagenet" else 1
    factor = stem_factor * 2 ** (len(filters) - 1)
    v.check_min_spatial(shape, factor, f"the network downsamples by {factor}")

    b = _Builder(options, activation, zero_init_residual, stride_on)
    inputs = keras.Input(shape=shape, name="inputs")
    if stem == "imagenet":
        x = b.conv(inputs, stem_filters, 7, 2, "stem_conv", use_bias=preact)
        if not preact:
            x = b.act(b.bn(x, "stem_bn"), "stem_act")
        x = keras.layers.ZeroPadding2D(1, dtype=dtype, name="stem_pool_pad")(x)
        x = keras.layers.MaxPooling2D(3, strides=2, dtype=dtype, name="stem_pool")(x)
    else:
        x = b.conv(inputs, stem_filters, 3, 1, "stem_conv", use_bias=preact)
        if not preact:
            x = b.act(b.bn(x, "stem_bn"), "stem_act")

    last_stage = len(filters)
    for s, (count, width) in enumerate(zip(blocks_per_stage, filters, strict=True), start=1):
        for i in range(1, count + 1):
            name_i = f"stage{s}_block{i}"
            if preact:
                # Keras's ResNetV2 downsamples in the last block of every stage but the last.
                stride = 2 if i == count and s < last_stage else 1
                x = b.block_v2(x, width, stride, i == 1, shortcut, block, name_i)
            else:
                stride = 2 if i == 1 and s > 1 else 1
                make = b.basic_v1 if block == "basic" else b.bottleneck_v1
                x = make(x, width, stride, shortcut, name_i)
    if preact:
        x = b.act(b.bn(x, "post_bn"), "post_act")
    if pooling == "avg":
        x = keras.layers.GlobalAveragePooling2D(dtype=dtype, name="avg_pool")(x)
    elif pooling == "max":
        x = keras.layers.GlobalMaxPooling2D(dtype=dtype, name="max_pool")(x)
    outputs = _common.head(
        x,
        num_classes=num_classes,
        head_activation=head_activation,
        dropout=dropout,
        options=options,
    )
    return keras.Model(inputs, outputs, name=name)
