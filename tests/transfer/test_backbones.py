import time

import keras
import numpy as np
import pytest

import zoo
from zoo._validation import ArgumentValueError
from zoo.transfer import BACKBONES, build_backbone, image_classifier, list_backbones, local_weights
from zoo.transfer.backbones import BACKBONE_COLUMNS


def _size(name):
    return max(BACKBONES[name].min_size, 32)


@pytest.fixture(autouse=True)
def _no_weights_anywhere(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.delenv("ZOO_WEIGHTS_DIR", raising=False)
    monkeypatch.delenv("ZOO_OFFLINE", raising=False)


@pytest.mark.parametrize("name", sorted(BACKBONES))
def test_backbone_weights_file_round_trip(name, tmp_path):
    shape = (_size(name), _size(name), 3)
    first = build_backbone(name, weights=None, input_shape=shape)
    path = tmp_path / f"{name}.weights.h5"
    first.save_weights(path)
    keras.backend.clear_session()
    second = build_backbone(name, weights=str(path), input_shape=shape)
    x = np.random.default_rng(0).uniform(-1, 1, size=(2, *shape)).astype("float32")
    np.testing.assert_allclose(first(x, training=False), second(x, training=False), atol=1e-5)


@pytest.mark.parametrize(
    ("mode", "reference"),
    [
        ("caffe", keras.applications.vgg16.preprocess_input),
        ("tf", keras.applications.mobilenet_v2.preprocess_input),
        ("torch", keras.applications.densenet.preprocess_input),
    ],
)
def test_built_in_preprocessing_matches_keras(mode, reference):
    raw = np.random.default_rng(0).uniform(0, 255, size=(2, 4, 4, 3)).astype("float32")
    ours = zoo.layers.ImagePreprocessing(mode)(raw)
    np.testing.assert_allclose(ours, reference(raw.copy()), rtol=1e-5, atol=1e-4)


def test_classifier_takes_raw_images_and_round_trips(tmp_path):
    model = image_classifier("mobilenet_v2", 3, weights=None, input_shape=(32, 32, 3))
    assert model.get_layer("preprocessing").mode == "tf"
    backbone = model.get_layer("backbone")
    assert not backbone.trainable
    head = {id(w) for w in model.get_layer("predictions").weights}
    assert {id(w) for w in model.trainable_weights} == head
    raw = np.random.default_rng(0).uniform(0, 255, size=(2, 32, 32, 3)).astype("float32")
    expected = model(raw)
    path = tmp_path / "classifier.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(loaded(raw), expected, atol=1e-5)
    spec = zoo.registry.get_spec(model)
    assert spec["arguments"]["weights"] == "random initialisation"
    assert spec["architecture"] == "mobilenet_v2.keras_in1k"  # the catalogue's name


def _write_legacy_h5(model, path):
    """Write weights in the Keras 2 .h5 layout that keras.applications files use."""
    import h5py
    from keras.src.legacy.saving import legacy_h5_format

    with h5py.File(path, "w") as handle:
        legacy_h5_format.save_weights_to_hdf5_group(handle, model)


def test_local_weights_folder_is_used_for_imagenet(tmp_path, monkeypatch):
    shape = (32, 32, 3)
    source = build_backbone("mobilenet_v2", weights=None, input_shape=shape)
    folder = tmp_path / "weights"
    folder.mkdir()
    _write_legacy_h5(source, folder / BACKBONES["mobilenet_v2"].weights_file)
    monkeypatch.setenv("ZOO_WEIGHTS_DIR", str(folder))
    model = image_classifier("mobilenet_v2", 2, input_shape=shape)
    assert str(folder) in zoo.registry.get_spec(model)["arguments"]["weights"]
    x = np.random.default_rng(0).uniform(-1, 1, size=(1, *shape)).astype("float32")
    np.testing.assert_allclose(model.get_layer("backbone")(x), source(x), atol=1e-5)
    assert list_backbones("mobilenet_v2")["offline"].item()


def test_offline_error_names_file_and_folder_fast(monkeypatch, tmp_path):
    monkeypatch.setenv("ZOO_OFFLINE", "1")
    start = time.perf_counter()
    with pytest.raises(ArgumentValueError) as info:
        image_classifier("resnet_50.keras_in1k", 5, input_shape=(32, 32, 3))
    assert time.perf_counter() - start < 2
    message = str(info.value)
    assert "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5" in message  # Keras's name
    assert "'resnet_50.keras_in1k'" in message
    assert str(tmp_path / "keras_home" / "models") in message


@pytest.mark.network
def test_imagenet_download_on_a_connected_machine():
    model = image_classifier("mobilenet_v3_small", 2)
    assert model.output_shape == (None, 2)


def test_bad_arguments(tmp_path):
    with pytest.raises(ArgumentValueError, match="'mobilenet_v2'"):
        image_classifier("mobilenetv2", 3, weights=None)
    with pytest.raises(ArgumentValueError, match="at least 75x75"):
        image_classifier("inception_v3", 3, weights=None, input_shape=(64, 64, 3))
    with pytest.raises(ArgumentValueError, match="3 channels"):
        image_classifier("vgg_16.keras_in1k", 3, weights=None, input_shape=(32, 32, 1))
    with pytest.raises(ArgumentValueError, match="existing weights file"):
        image_classifier("vgg_16.keras_in1k", 3, weights=str(tmp_path / "missing.h5"))
    other = build_backbone("mobilenet_v2", weights=None, input_shape=(32, 32, 3))
    other.save_weights(tmp_path / "mobilenet.weights.h5")
    with pytest.raises(ArgumentValueError, match=r"does not fit backbone 'vgg_16\.keras_in1k'"):
        image_classifier(
            "vgg_16.keras_in1k",
            3,
            weights=str(tmp_path / "mobilenet.weights.h5"),
            input_shape=(32, 32, 3),
        )
    with pytest.raises(ValueError, match="num_classes"):
        image_classifier("vgg_16.keras_in1k", 0, weights=None)
    # zoo's own VGG-16 and ResNet-50 are not keras.applications backbones: say which is.
    with pytest.raises(ArgumentValueError, match=r"'vgg_16\.keras_in1k'"):
        image_classifier("vgg_16", 3, weights=None)
    with pytest.raises(ArgumentValueError, match="zoo's own 'resnet_50'"):
        build_backbone("resnet_50", weights=None)


def test_old_names_still_work_with_a_deprecation_warning():
    with pytest.warns(DeprecationWarning, match=r"'resnet50'.*'resnet_50\.keras_in1k'"):
        model = image_classifier("resnet50", 2, weights=None, input_shape=(32, 32, 3))
    assert zoo.registry.get_spec(model)["architecture"] == "resnet_50.keras_in1k"
    assert BACKBONES["densenet121"] is BACKBONES["densenet_121.keras_in1k"]
    with pytest.warns(DeprecationWarning, match=r"'densenet_121\.keras_in1k'"):
        assert local_weights("densenet121") is None


def test_list_backbones_table():
    table = list_backbones()
    assert {
        "mobilenet_v2.keras_in1k",
        "mobilenet_v3_small.keras_in1k",
        "resnet_50.keras_in1k",
        "convnext_tiny.keras_in1k",
        "vgg_16.keras_in1k",
    } <= set(table["name"])
    assert list(table.columns) == [
        "name",
        "source",
        "task",
        "input_size",
        "params",
        "preprocessing",
        "weights_file",
        "offline",
    ]
    assert list(table.columns) == list(BACKBONE_COLUMNS)
    applications = table[table["source"] == "keras.applications"]
    assert (applications["params"] > 0).all() and not table["offline"].any()
    assert set(table["source"]) == {"keras.applications", "keras-hub", "tfhub"}
    assert table.set_index("name").loc["vgg_16.keras_in1k", "params"] == 14_714_688
    assert list(list_backbones("resnet50")["name"]) == ["resnet_50.keras_in1k"]
