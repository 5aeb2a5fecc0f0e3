import keras
import pytest
from architecture_checks import check_architecture, check_bad_arguments

import zoo


def test_mlp_tiny(tmp_path):
    check_architecture("mlp_tiny", tmp_path)


def test_mlp_regressor_with_batch_norm_and_dropout(tmp_path):
    model = check_architecture("mlp_regressor", tmp_path, batch_norm=True, dropout=0.1)
    assert model.output_shape == (None, 1)
    assert model.get_layer("predictions").get_config()["activation"] == "linear"


def test_mlp_flattens_images_and_binary_head(tmp_path):
    model = check_architecture("mlp", tmp_path, input_shape=(4, 4, 1), num_classes=1)
    assert model.get_layer("predictions").get_config()["activation"] == "sigmoid"


def test_mlp_headless_and_regularised():
    model = zoo.build("mlp", num_classes=None, units=(32, 16), kernel_regularizer=1e-4)
    assert model.output_shape == (None, 16)
    assert len(model.losses) == 2


def test_mlp_mnist_matches_keras_example():
    # The Keras MNIST MLP example: 784-512-512-10 has 669,706 parameters.
    assert zoo.count_params("mlp_mnist")["trainable"] == 669_706


def test_mlp_fashion_mnist_matches_the_benchmark_row():
    # Fashion-MNIST's benchmark table, "MLP 256-128-100" (heitorrapela/fashion-mnist-mlp):
    # 784 -> 256 -> 128 -> 100 -> 10, the same network written with Keras layers.
    reference = keras.Sequential(
        [keras.Input((784,))] + [keras.layers.Dense(n) for n in (256, 128, 100, 10)]
    )
    assert zoo.count_params("mlp_fashion_mnist")["total"] == reference.count_params() == 247_766


def test_mixed_precision_output_is_float32():
    model = zoo.build("mlp_tiny", dtype="mixed_float16")
    assert model.get_layer("dense_1").compute_dtype == "float16"
    assert model.output.dtype == "float32"


def test_mlp_bad_arguments():
    check_bad_arguments(
        "mlp",
        [
            ({"units": (64, -1)}, "value", "units"),
            ({"units": "big"}, "type", "units"),
            ({"units": (64, 2.5)}, "type", "units"),
            ({"num_classes": 0}, "value", "num_classes"),
            ({"num_classes": "ten"}, "type", "num_classes"),
            ({"activation": "relux"}, "value", "'relu'"),
            ({"dropout": 1.0}, "value", "dropout"),
            ({"dropout": -0.1}, "value", "dropout"),
            ({"batch_norm": "yes"}, "type", "batch_norm"),
            ({"task": "ranking"}, "value", "'classification', 'regression'"),
            ({"input_shape": (0,)}, "value", "input_shape"),
            ({"input_shape": "64"}, "type", "input_shape"),
            ({"kernel_initializer": "glorot_unifrom"}, "value", "kernel_initializer"),
            ({"kernel_regularizer": "l3"}, "value", "kernel_regularizer"),
            ({"kernel_regularizer": -1.0}, "value", "kernel_regularizer"),
            ({"dtype": "int8"}, "value", "dtype"),
            ({"name": ""}, "type", "name"),
            ({"unitz": (4,)}, "type", "Did you mean 'units'"),
        ],
    )


def test_unknown_argument_lists_accepted_ones():
    with pytest.raises(TypeError, match=r"Accepted arguments: .*units"):
        zoo.build("mlp_tiny", layers=3)


def test_model_is_plain_functional():
    model = zoo.build("mlp_tiny")
    assert type(model) is keras.Model or isinstance(model, keras.Model)
