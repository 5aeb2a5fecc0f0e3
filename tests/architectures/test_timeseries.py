import keras
import numpy as np
import pytest
from architecture_checks import check_architecture, check_bad_arguments

import zoo
from zoo import cli


def test_ts_fcn_tiny(tmp_path):
    check_architecture("ts_fcn_tiny", tmp_path)


def test_ts_resnet_tiny(tmp_path):
    check_architecture("ts_resnet_tiny", tmp_path)


def test_variable_length_dropout_and_other_kernels(tmp_path):
    fcn = check_architecture(
        "ts_fcn_tiny",
        tmp_path,
        input_shape=(None, 3),
        num_classes=1,
        filters=(4, 6),
        kernel_sizes=(7, 4),
        dropout=0.2,
    )
    assert fcn.output_shape == (None, 1)
    resnet = zoo.build("ts_resnet_tiny", input_shape=(None, 1), kernel_sizes=(5, 3), dropout=0.2)
    assert [layer.name for layer in resnet.layers if "block1_conv" in layer.name] == [
        "block1_conv1",
        "block1_conv2",
    ]
    assert resnet.get_layer("block1_conv2").kernel_size == (3,)
    assert resnet.get_layer("head_dropout").rate == 0.2


@pytest.mark.parametrize("name", ["ts_fcn_tiny", "ts_resnet_tiny"])
def test_any_length_and_headless_features(name):
    model = zoo.build(name, input_shape=(None, 2), num_classes=None)
    assert model.output_shape == (None, 8)
    rng = np.random.default_rng(0)
    for length in (1, 5, 333):
        features = model(rng.normal(size=(2, length, 2)).astype("float32"))
        assert features.shape == (2, 8)


# ---------------------------------------------------------------- the reference code
# hfawaz/dl-4-tsc (Fawaz et al. 2019), classifiers/fcn.py and classifiers/resnet.py,
# rewritten here layer by layer with plain keras.layers, independently of zoo.


def reference_fcn(input_shape, nb_classes):
    input_layer = keras.layers.Input(input_shape)
    conv1 = keras.layers.Conv1D(filters=128, kernel_size=8, padding="same")(input_layer)
    conv1 = keras.layers.BatchNormalization()(conv1)
    conv1 = keras.layers.Activation(activation="relu")(conv1)
    conv2 = keras.layers.Conv1D(filters=256, kernel_size=5, padding="same")(conv1)
    conv2 = keras.layers.BatchNormalization()(conv2)
    conv2 = keras.layers.Activation("relu")(conv2)
    conv3 = keras.layers.Conv1D(128, kernel_size=3, padding="same")(conv2)
    conv3 = keras.layers.BatchNormalization()(conv3)
    conv3 = keras.layers.Activation("relu")(conv3)
    gap_layer = keras.layers.GlobalAveragePooling1D()(conv3)
    output_layer = keras.layers.Dense(nb_classes, activation="softmax")(gap_layer)
    return keras.models.Model(inputs=input_layer, outputs=output_layer)


def _reference_block(x, n_feature_maps, expand):
    conv_x = keras.layers.Conv1D(filters=n_feature_maps, kernel_size=8, padding="same")(x)
    conv_x = keras.layers.BatchNormalization()(conv_x)
    conv_x = keras.layers.Activation("relu")(conv_x)
    conv_y = keras.layers.Conv1D(filters=n_feature_maps, kernel_size=5, padding="same")(conv_x)
    conv_y = keras.layers.BatchNormalization()(conv_y)
    conv_y = keras.layers.Activation("relu")(conv_y)
    conv_z = keras.layers.Conv1D(filters=n_feature_maps, kernel_size=3, padding="same")(conv_y)
    conv_z = keras.layers.BatchNormalization()(conv_z)
    if expand:  # expand channels for the sum
        shortcut_y = keras.layers.Conv1D(filters=n_feature_maps, kernel_size=1, padding="same")(x)
        shortcut_y = keras.layers.BatchNormalization()(shortcut_y)
    else:  # no need to expand channels because they are equal
        shortcut_y = keras.layers.BatchNormalization()(x)
    output_block = keras.layers.add([shortcut_y, conv_z])
    return keras.layers.Activation("relu")(output_block)


def reference_resnet(input_shape, nb_classes):
    n_feature_maps = 64
    input_layer = keras.layers.Input(input_shape)
    output_block_1 = _reference_block(input_layer, n_feature_maps, expand=True)
    output_block_2 = _reference_block(output_block_1, n_feature_maps * 2, expand=True)
    output_block_3 = _reference_block(output_block_2, n_feature_maps * 2, expand=False)
    gap_layer = keras.layers.GlobalAveragePooling1D()(output_block_3)
    output_layer = keras.layers.Dense(nb_classes, activation="softmax")(gap_layer)
    return keras.models.Model(inputs=input_layer, outputs=output_layer)


def _counts(model):
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    return {"total": model.count_params(), "trainable": trainable}


def _layer_kinds(model):
    return sorted(type(layer).__name__ for layer in model.layers)


SHAPES = [(96, 1, 2), (152, 3, 5), (500, 1, 37), (None, 2, 4)]


@pytest.mark.parametrize(
    ("name", "reference"), [("ts_fcn", reference_fcn), ("ts_resnet", reference_resnet)]
)
@pytest.mark.parametrize(("length", "channels", "classes"), SHAPES)
def test_parameters_equal_the_reference_code(name, reference, length, channels, classes):
    expected = reference((length, channels), classes)
    model = zoo.build(name, input_shape=(length, channels), num_classes=classes)
    assert _counts(model) == _counts(expected)
    assert zoo.count_params(name, input_shape=(length, channels), num_classes=classes) == (
        _counts(expected)
    )
    assert _layer_kinds(model) == _layer_kinds(expected)
    assert model.output_shape == expected.output_shape


# The paper's networks on univariate series with two classes (the builders' defaults):
# the counts of the reference code, trainable as Fawaz et al.'s review tabulates them.
PAPER_PARAMS = {
    "ts_fcn": {"total": 265_986, "trainable": 264_962},
    "ts_resnet": {"total": 506_818, "trainable": 504_258},
}


@pytest.mark.parametrize("name", sorted(PAPER_PARAMS))
def test_defaults_are_the_paper(name):
    assert zoo.count_params(name) == PAPER_PARAMS[name]
    assert zoo.build(name).input_shape == (None, None, 1)


def test_layout_of_the_reference_code():
    model = zoo.build("ts_resnet", input_shape=(64, 3), num_classes=2)
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv1D)]
    assert len(convs) == 3 * 3 + 2  # a 1x1 shortcut where the channels change: blocks 1, 2
    assert all(conv.use_bias and conv.padding == "same" for conv in convs)
    assert [conv.kernel_size[0] for conv in convs if "shortcut" not in conv.name] == [8, 5, 3] * 3
    names = {layer.name for layer in model.layers}
    assert {"block1_shortcut_conv", "block2_shortcut_conv"} <= names
    assert "block3_shortcut_conv" not in names and "block3_shortcut_bn" in names
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert len(norms) == 12
    assert all(bn.momentum == 0.99 and bn.epsilon == 1e-3 for bn in norms)  # Keras defaults
    # No ReLU between the third convolution and the addition.
    shortcut, residual = model.get_layer("block1_add").input
    assert shortcut is model.get_layer("block1_shortcut_bn").output
    assert residual is model.get_layer("block1_bn3").output
    fcn = zoo.build("ts_fcn")
    assert [c.filters for c in fcn.layers if isinstance(c, keras.layers.Conv1D)] == [128, 256, 128]
    assert [c.kernel_size[0] for c in fcn.layers if isinstance(c, keras.layers.Conv1D)] == [8, 5, 3]


@pytest.mark.parametrize("name", ["ts_fcn", "ts_resnet"])
def test_bad_arguments(name):
    cases = [
        ({"input_shape": (128,)}, "value", "x[..., None]"),
        ({"input_shape": 128}, "value", "(length, channels)"),
        ({"input_shape": (128, None)}, "value", "input_shape"),
        ({"input_shape": (32, 32, 3)}, "value", "input_shape"),
        ({"input_shape": (0, 1)}, "value", "input_shape"),
        ({"input_shape": "128,1"}, "type", "input_shape"),
        ({"filters": (0, 8, 8)}, "value", "filters"),
        ({"filters": ()}, "value", "filters"),
        ({"filters": (8.0, 8, 8)}, "type", "filters"),
        ({"kernel_sizes": (8, 0, 3)}, "value", "kernel_sizes"),
        ({"kernel_sizes": "853"}, "type", "kernel_sizes"),
        ({"dropout": 1.0}, "value", "dropout"),
        ({"num_classes": 0}, "value", "num_classes"),
        ({"activation": "relux"}, "value", "activation"),
    ]
    if name == "ts_fcn":
        cases.append(({"kernel_sizes": (8, 5)}, "value", "same length"))
    check_bad_arguments(name, cases)


# ------------------------------------------------------------- training and the API


def waves(n, length=64, seed=0):
    """Noisy sine (class 0) or square (class 1) waves, random frequency and phase."""
    rng = np.random.default_rng(seed)
    t = np.arange(length) / length
    y = rng.integers(0, 2, n)
    frequency = rng.uniform(2, 4, (n, 1))
    phase = rng.uniform(0, 2 * np.pi, (n, 1))
    sine = np.sin(2 * np.pi * frequency * t + phase)
    x = np.where(y[:, None] == 1, np.sign(sine), sine) + rng.normal(0, 0.3, (n, length))
    return x[..., None].astype("float32"), y


@pytest.mark.parametrize("name", ["ts_fcn_tiny", "ts_resnet_tiny"])
def test_learns_sine_from_square_waves(name):
    x, y = waves(256)
    held_out_x, held_out_y = waves(200, seed=1)
    # Small batches: enough steps for batch norm's moving statistics (momentum 0.99).
    data = zoo.data.load((x, y), batch_size=8)
    result = zoo.train(name, data, epochs=8, learning_rate=3e-3, save=False, verbose=0)
    assert result.model.input_shape == (None, 64, 1)  # built for the data's series
    predicted = result.model.predict(held_out_x, verbose=0).argmax(-1)
    assert np.mean(predicted == held_out_y) >= 0.9


def test_tune_one_trial(tmp_path):
    x, y = waves(48, length=24)
    result = zoo.tune(
        "ts_resnet_tiny",
        (x, y),
        max_trials=1,
        epochs=1,
        space={"filters": None},
        directory=tmp_path / "tuning",
        save=False,
        verbose=0,
    )
    assert list(result.trials["status"]) == ["COMPLETED"]
    assert set(result.best_hyperparameters) >= {"kernel_sizes", "dropout", "learning_rate"}


@pytest.mark.tensorflow_only("export converts through TensorFlow")
def test_export_saved_model_any_length(tmp_path):
    model = zoo.build("ts_fcn_tiny", input_shape=(None, 2))
    sample = np.random.default_rng(0).normal(size=(2, 30, 2)).astype("float32")
    result = zoo.export(model, tmp_path / "fcn", sample=sample)
    assert result.max_abs_diff <= 1e-5
    assert result.input_shapes == ((None, None, 2),)


def test_cli_lists_and_builds_the_family(capsys):
    assert cli.main(["list", "ts_*"]) == 0
    out = capsys.readouterr().out
    assert "ts_fcn " in out and "264,962" in out and "ts_fcn_tiny" in out
    assert "ts_resnet_tiny" in out and "resnet_18" not in out
    assert cli.main(["build", "ts_fcn_tiny", "--input-shape", "40,3", "--num-classes", "4"]) == 0
    assert "Total params" in capsys.readouterr().out
    assert cli.main(["build", "ts_resnet", "--input-shape", "128"]) == 2
    assert "x[..., None]" in capsys.readouterr().err
