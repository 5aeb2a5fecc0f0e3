import keras
import pytest
from architecture_checks import check_architecture, check_bad_arguments

import zoo
from zoo._compat.keras import variables_without_values


def test_convnet_tiny(tmp_path):
    check_architecture("convnet_tiny", tmp_path)


def test_convnet_with_batch_norm_avg_pool(tmp_path):
    check_architecture("convnet_tiny", tmp_path, batch_norm=True, pooling="avg", head_pooling="avg")


def test_lenet_5(tmp_path):
    model = check_architecture("lenet_5", tmp_path, input_shape=(28, 28, 1))
    assert model.output_shape == (None, 10)


def test_vgg_tiny(tmp_path):
    check_architecture("vgg_tiny", tmp_path)


def test_vgg_headless_feature_extractor():
    model = zoo.build("vgg_tiny", num_classes=None, head_pooling="avg")
    assert model.output_shape == (None, 8)


# Reference parameter counts: LeNet-5 (modern variant, 32x32x1, 10 classes) and
# torchvision's vgg11..vgg19(_bn) with 1000 classes (BN scale/offset only, as torch).
REFERENCE_PARAMS = {
    "lenet_5": 61_706,
    "vgg_11": 132_863_336,
    "vgg_11_bn": 132_868_840,
    "vgg_13": 133_047_848,
    "vgg_13_bn": 133_053_736,
    "vgg_16": 138_357_544,
    "vgg_16_bn": 138_365_992,
    "vgg_19": 143_667_240,
    "vgg_19_bn": 143_678_248,
}


@pytest.mark.parametrize("name", sorted(REFERENCE_PARAMS))
def test_reference_parameter_counts(name):
    assert zoo.count_params(name)["trainable"] == REFERENCE_PARAMS[name]


@pytest.mark.parametrize(("name", "application"), [("vgg_16", "VGG16"), ("vgg_19", "VGG19")])
def test_vgg_matches_keras_applications(name, application):
    with variables_without_values():
        reference = getattr(keras.applications, application)(weights=None)
    assert zoo.count_params(name)["total"] == reference.count_params()


def test_cnn_bad_arguments():
    check_bad_arguments(
        "vgg_16",
        [
            ({"input_shape": (16, 16, 3)}, "value", "at least 32 pixels"),
            ({"input_shape": (224, 224)}, "value", "input_shape"),
            ({"filters": (64, 128)}, "value", "same length"),
            ({"head_pooling": "mean"}, "value", "'flatten', 'avg', 'max'"),
        ],
    )
    check_bad_arguments(
        "convnet",
        [
            ({"input_shape": (2, 2, 1)}, "value", "at least 4 pixels"),
            ({"pooling": "sum"}, "value", "pooling"),
            ({"convs_per_block": 0}, "value", "convs_per_block"),
            ({"kernel_size": 3.0}, "type", "kernel_size"),
        ],
    )
    check_bad_arguments(
        "lenet_5",
        [
            ({"input_shape": (12, 12, 1)}, "value", "at least 16 pixels"),
            ({"activation": "tanhh"}, "value", "activation"),
        ],
    )


def test_convnet_tf_tutorial_matches_tensorflows_layers_tutorial():
    # TensorFlow's layers tutorial (the Fashion-MNIST benchmark's benchmark/convnet.py):
    # conv 5x5x32 same -> pool -> conv 5x5x64 same -> pool -> dense 1024 -> dropout -> 10.
    reference = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(32, 5, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(64, 5, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dense(1024, activation="relu"),
            keras.layers.Dropout(0.4),
            keras.layers.Dense(10),
        ]
    )
    assert zoo.count_params("convnet_tf_tutorial")["total"] == reference.count_params()
    assert reference.count_params() == 3_274_634


def test_convnet_bn_is_two_conv_blocks_with_batch_norm(tmp_path):
    model = check_architecture("convnet_bn", tmp_path)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds.count("Conv2D") == 2 and kinds.count("BatchNormalization") == 2
    assert kinds.count("MaxPooling2D") == 2
