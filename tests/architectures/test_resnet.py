import keras
import numpy as np
import pytest
from architecture_checks import check_architecture, check_bad_arguments

import zoo
from zoo._compat.keras import variables_without_values


def test_resnet_tiny(tmp_path):
    check_architecture("resnet_tiny", tmp_path)


def test_resnet_tiny_v2(tmp_path):
    check_architecture("resnet_tiny_v2", tmp_path)


def test_cifar_option_a_shortcuts(tmp_path):
    model = check_architecture(
        "resnet_20", tmp_path, blocks_per_stage=(1, 1, 1), input_shape=(8, 8, 3)
    )
    assert any(isinstance(layer, zoo.layers.PadChannels) for layer in model.layers)


def test_bottleneck_v1_imagenet_stem(tmp_path):
    check_architecture(
        "resnet_50",
        tmp_path,
        input_shape=(32, 32, 3),
        num_classes=5,
        blocks_per_stage=(1, 1),
        filters=(4, 8),
        stem_filters=8,
        zero_init_residual=True,
        dropout=0.2,
    )


def test_stride_on_1x1_is_the_keras_applications_layout(tmp_path):
    # The paper's Caffe model / keras.applications.ResNet50 downsample on the first 1x1
    # of a bottleneck; torchvision (the default) on the 3x3. Same parameters.
    small = {"input_shape": (32, 32, 3), "blocks_per_stage": (1, 1), "filters": (4, 8)}
    model = check_architecture("resnet_50", tmp_path, stride_on="1x1", stem_filters=8, **small)
    assert model.get_layer("stage2_block1_conv1").strides == (2, 2)
    assert model.get_layer("stage2_block1_conv2").strides == (1, 1)
    default = zoo.build("resnet_50", stem_filters=8, **small)
    assert default.get_layer("stage2_block1_conv1").strides == (1, 1)
    assert default.get_layer("stage2_block1_conv2").strides == (2, 2)
    assert zoo.count_params("resnet_50", stride_on="1x1") == zoo.count_params("resnet_50")


def test_any_input_size_and_headless():
    model = zoo.build("resnet_tiny", input_shape=(37, 23, 1), num_classes=None)
    assert model.output_shape == (None, 8)
    maps = zoo.build("resnet_tiny", num_classes=None, pooling=None)
    assert maps.output_shape == (None, 8, 8, 8)


def test_no_conv_bias_before_batch_norm_in_v1():
    with variables_without_values():
        model = zoo.build("resnet_50")
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert convs and not any(conv.use_bias for conv in convs)


# torchvision resnet18..152 (1000 classes) and the CIFAR ResNets of He et al. as in
# the widely used reference implementation (akamaster/pytorch_resnet_cifar10):
# trainable parameters, i.e. without batch-norm moving statistics, as torch counts.
REFERENCE_PARAMS = {
    "resnet_18": 11_689_512,
    "resnet_34": 21_797_672,
    "resnet_50": 25_557_032,
    "resnet_101": 44_549_160,
    "resnet_152": 60_192_808,
    "resnet_20": 269_722,
    "resnet_32": 464_154,
    "resnet_44": 658_586,
    "resnet_56": 853_018,
    "resnet_110": 1_727_962,
}


@pytest.mark.parametrize("name", sorted(REFERENCE_PARAMS))
def test_reference_parameter_counts(name):
    assert zoo.count_params(name)["trainable"] == REFERENCE_PARAMS[name]


@pytest.mark.parametrize(
    ("name", "application"),
    [
        ("resnet_50_v2", "ResNet50V2"),
        ("resnet_101_v2", "ResNet101V2"),
        ("resnet_152_v2", "ResNet152V2"),
    ],
)
def test_v2_matches_keras_applications(name, application):
    with variables_without_values():
        reference = getattr(keras.applications, application)(weights=None)
    reference_trainable = sum(int(np.prod(w.shape)) for w in reference.trainable_weights)
    counts = zoo.count_params(name)
    assert counts["total"] == reference.count_params()
    assert counts["trainable"] == reference_trainable


def test_lazy_count_equals_built_model():
    model = zoo.build("resnet_20")
    assert zoo.count_params("resnet_20")["total"] == model.count_params()


@pytest.mark.slow
def test_resnet_50_forward_at_full_size():
    model = zoo.build("resnet_50")
    out = model(np.zeros((1, 224, 224, 3), "float32"), training=False)
    assert out.shape == (1, 1000)


def test_resnet_bad_arguments():
    check_bad_arguments(
        "resnet_50",
        [
            ({"input_shape": (16, 16, 3)}, "value", "downsamples by 32"),
            ({"block": "wide"}, "value", "'basic', 'bottleneck'"),
            ({"blocks_per_stage": (3, 4, 6)}, "value", "same length"),
            ({"blocks_per_stage": (3, 0, 6, 3)}, "value", "blocks_per_stage"),
            ({"stem": "deep"}, "value", "stem"),
            ({"shortcut": "conv"}, "value", "'projection', 'zero_pad'"),
            ({"pooling": None}, "value", "pooling"),
            ({"preact": "yes"}, "type", "preact"),
            ({"stride_on": "3"}, "value", "'3x3', '1x1'"),
        ],
    )
    check_bad_arguments(
        "resnet_20",
        [({"filters": (64, 32, 16)}, "value", "non-decreasing")],
    )
