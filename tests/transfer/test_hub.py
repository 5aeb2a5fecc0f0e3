import shutil
import socket
import time

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
from zoo._validation import ArgumentTypeError, ArgumentValueError
from zoo.architectures.pretrained import hub_layer as zoo_hub_layer
from zoo.transfer import hub as zoo_hub
from zoo.transfer.backbones import BACKBONE_COLUMNS
from zoo.transfer.hub import HUB_BACKBONES, HubLayer, cached_module_dir, hub_layer, hub_rows

REMOTE = "https://tfhub.dev/zoo-tests/tiny-feature-vector/1"


class _Dense(tf.Module):
    def __init__(self, units_in, units_out, seed):
        super().__init__()
        self.kernel = tf.Variable(tf.random.normal([units_in, units_out], seed=seed), name="kernel")


class _FeatureVector(tf.Module):
    """Two kernels with the same name, a bias, a non-trainable scale, and `training`."""

    def __init__(self):
        super().__init__()
        self.hidden = _Dense(4, 8, seed=1)
        self.output = _Dense(8, 3, seed=2)
        self.bias = tf.Variable(tf.zeros([3]), name="bias")
        self.scale = tf.Variable(tf.fill([3], 0.5), trainable=False, name="scale")

    @tf.function
    def __call__(self, x, training=False):
        y = tf.nn.relu(tf.matmul(x, self.hidden.kernel))
        y = (tf.matmul(y, self.output.kernel) + self.bias) * self.scale
        if training:
            y = y + 1.0  # visible, so the tests can see which mode ran
        return y


class _DictOutputs(tf.Module):
    def __init__(self):
        super().__init__()
        self.kernel = tf.Variable(tf.ones([4, 3]), name="kernel")

    @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32)])
    def __call__(self, x):
        return {"features": tf.matmul(x, self.kernel), "inputs": x}


class _ImageFeatures(tf.Module):
    """An image feature vector: mean colour (inputs in [0, 1]) times a kernel."""

    def __init__(self):
        super().__init__()
        self.kernel = tf.Variable(tf.random.normal([3, 6], seed=4), name="kernel")

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32)])
    def __call__(self, images):
        return tf.matmul(tf.reduce_mean(images, axis=[1, 2]), self.kernel)


class _TextEmbedding(tf.Module):
    def __init__(self):
        super().__init__()
        self.embeddings = tf.Variable(tf.random.normal([16, 5], seed=3), name="embeddings")

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def __call__(self, text):
        return tf.gather(self.embeddings, tf.strings.to_hash_bucket_fast(text, 16))


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    module = _FeatureVector()
    for training in (True, False):
        module.__call__.get_concrete_function(tf.TensorSpec([None, 4], tf.float32), training)
    path = tmp_path_factory.mktemp("hub") / "feature_vector"
    tf.saved_model.save(module, str(path))
    return str(path)


@pytest.fixture(scope="module")
def dict_folder(tmp_path_factory):
    module = _DictOutputs()
    path = tmp_path_factory.mktemp("hub") / "dict_outputs"
    tf.saved_model.save(module, str(path), signatures={"serving_default": module.__call__})
    return str(path)


@pytest.fixture(scope="module")
def image_folder(tmp_path_factory):
    path = tmp_path_factory.mktemp("hub") / "image_features"
    tf.saved_model.save(_ImageFeatures(), str(path))
    return str(path)


@pytest.fixture(scope="module")
def text_folder(tmp_path_factory):
    """The reusable SavedModel API: variable lists and a regularization loss."""
    module = _TextEmbedding()
    root = tf.train.Checkpoint()
    root.embed = module
    root.__call__ = module.__call__
    root.variables = [module.embeddings]
    root.trainable_variables = [module.embeddings]
    root.regularization_losses = [
        tf.function(lambda: 0.01 * tf.reduce_sum(module.embeddings**2), input_signature=[])
    ]
    path = tmp_path_factory.mktemp("hub") / "text_embedding"
    tf.saved_model.save(root, str(path))
    return str(path)


@pytest.fixture(autouse=True)
def _empty_hub_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(tmp_path / "tfhub_cache"))
    monkeypatch.delenv("ZOO_OFFLINE", raising=False)


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    return x, np.sin(x).sum(axis=1, keepdims=True).astype("float32")


def _model(folder, trainable):
    inputs = keras.Input((4,))
    features = hub_layer(folder, trainable=trainable, name="hub")
    outputs = keras.layers.Dense(1, name="head")(features(inputs))
    return keras.Model(inputs, outputs)


def _values(layer):
    return [w.numpy().copy() for w in layer.weights]


def test_fine_tunes_with_adam(folder):
    model = _model(folder, trainable=True)
    layer = model.get_layer("hub")
    assert model.output_shape == (None, 1) and layer.output.shape == (None, 3)
    assert [w.name for w in layer.trainable_weights] == ["kernel", "kernel", "bias"]
    assert [w.name for w in layer.non_trainable_weights] == ["scale"]
    before = _values(layer)
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss="mse")
    x, y = _data()
    history = model.fit(x, y, batch_size=16, epochs=8, verbose=0)
    assert history.history["loss"][-1] < 0.7 * history.history["loss"][0]
    changed = [not np.allclose(b, a) for b, a in zip(before, _values(layer), strict=True)]
    assert changed == [True, True, True, False]  # the non-trainable scale stays put


def test_frozen_layer_keeps_its_weights_and_runs_in_inference_mode(folder):
    model = _model(folder, trainable=False)
    layer = model.get_layer("hub")
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 4
    assert {id(w) for w in model.trainable_weights} == {
        id(w) for w in model.get_layer("head").weights
    }
    x, y = _data()
    np.testing.assert_allclose(layer(x, training=True), layer(x, training=False))
    before, head = _values(layer), _values(model.get_layer("head"))
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    for old, new in zip(before, _values(layer), strict=True):
        np.testing.assert_array_equal(old, new)
    assert not np.allclose(head[0], model.get_layer("head").kernel.numpy())

    layer.trainable = True
    assert len(layer.trainable_weights) == 3
    np.testing.assert_allclose(layer(x, training=True) - layer(x, training=False), 1.0, atol=1e-5)


def test_keras_file_round_trip_keeps_fine_tuned_weights(folder, tmp_path):
    model = _model(folder, trainable=True)
    model.compile(optimizer="adam", loss="mse")
    x, y = _data()
    model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    expected = model.predict(x, verbose=0)
    config = model.get_layer("hub").get_config()
    assert {k: config[k] for k in ("handle", "trainable", "output_key", "signature")} == {
        "handle": folder,
        "trainable": True,
        "output_key": None,
        "signature": None,
    }
    assert config["arguments"] is None and config["name"] == "hub"

    path = tmp_path / "hub_model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)  # the default, safe mode
    assert isinstance(loaded.get_layer("hub"), HubLayer)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), expected, atol=1e-6)
    # The fine-tuned values came from the .keras file, not from the SavedModel folder.
    fresh = hub_layer(folder)
    assert not np.allclose(fresh.weights[0].numpy(), loaded.get_layer("hub").weights[0].numpy())
    loaded.compile(optimizer="adam", loss="mse")
    loaded.fit(x, y, batch_size=16, epochs=1, verbose=0)

    clone = HubLayer.from_config(config)
    assert clone.get_config() == config


def test_signature_and_output_key(dict_folder):
    x = np.ones((2, 4), "float32")
    for layer in (
        hub_layer(dict_folder, output_key="features"),
        hub_layer(dict_folder, signature="serving_default", output_key="features"),
    ):
        inputs = keras.Input((4,))
        assert keras.Model(inputs, layer(inputs)).output_shape == (None, 3)
        np.testing.assert_allclose(layer(x), np.full((2, 3), 4.0))
    with pytest.raises(ArgumentValueError, match=r"`output_key` must be one of \['features'"):
        hub_layer(dict_folder)
    with pytest.raises(ArgumentValueError, match="output_key='feature'"):
        hub_layer(dict_folder, output_key="feature")
    with pytest.raises(ArgumentValueError, match="Did you mean: 'serving_default'"):
        hub_layer(dict_folder, signature="serving", output_key="features")


def test_text_embedding_with_reusable_api_and_regularization(text_folder, tmp_path):
    layer = hub_layer(text_folder, trainable=True, name="embed")
    inputs = keras.Input((), dtype="string")
    model = keras.Model(inputs, keras.layers.Dense(1)(layer(inputs)))
    assert [w.name for w in layer.trainable_weights] == ["embeddings"]
    text = tf.constant(["a cat", "a dog", "the fog", "the mat"] * 4)
    model(text, training=True)
    expected_loss = 0.01 * np.sum(layer.weights[0].numpy() ** 2)
    assert model.losses and float(model.losses[0]) == pytest.approx(expected_loss, rel=1e-5)
    model.compile(optimizer="adam", loss="mse")
    model.fit(text, np.arange(16, dtype="float32") % 2, epochs=1, verbose=0)
    model.save(tmp_path / "text.keras")
    loaded = keras.saving.load_model(tmp_path / "text.keras")
    np.testing.assert_allclose(loaded.predict(text, verbose=0), model.predict(text, verbose=0))


def test_missing_or_wrong_folders_fail_fast_and_say_what_to_place(tmp_path):
    missing = tmp_path / "no_such_model"
    with pytest.raises(ArgumentValueError, match="No SavedModel folder at") as info:
        hub_layer(str(missing))
    assert str(missing) in str(info.value) and "saved_model.pb" in str(info.value)

    empty = tmp_path / "not_a_saved_model"
    empty.mkdir()
    (empty / "weights.h5").write_bytes(b"")
    with pytest.raises(ArgumentValueError, match=r"without saved_model\.pb"):
        hub_layer(empty)  # a pathlib.Path works too
    with pytest.raises(ArgumentValueError, match="a file, not a folder"):
        hub_layer(str(empty / "weights.h5"))


def test_remote_handle_offline_fails_at_once_naming_the_cache_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_OFFLINE", "1")
    start = time.perf_counter()
    with pytest.raises(ArgumentValueError, match="ZOO_OFFLINE=1") as info:
        hub_layer(REMOTE)
    assert time.perf_counter() - start < 2
    expected = tmp_path / "tfhub_cache" / cached_module_dir(REMOTE).name
    assert str(expected) in str(info.value)
    assert "hub_layer('/path/to/saved_model')" in str(info.value)


def test_failed_download_is_fast_and_clear(monkeypatch):
    def no_network(*args, **kwargs):
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    start = time.perf_counter()
    with pytest.raises(ArgumentValueError, match="download failed") as info:
        hub_layer(REMOTE)
    assert time.perf_counter() - start < 2
    assert str(cached_module_dir(REMOTE)) in str(info.value)


def test_cached_handle_loads_offline_where_tensorflow_hub_looks(folder, monkeypatch):
    from tensorflow_hub import compressed_module_resolver

    # zoo computes the same cache folder as tensorflow_hub's own resolver.
    assert compressed_module_resolver._module_dir(REMOTE) == str(cached_module_dir(REMOTE))
    shutil.copytree(folder, cached_module_dir(REMOTE))
    monkeypatch.setenv("ZOO_OFFLINE", "1")
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: pytest.fail("used the network"))
    layer = hub_layer(REMOTE)
    reference = hub_layer(folder)
    x = np.ones((2, 4), "float32")
    np.testing.assert_allclose(layer(x), reference(x))
    assert layer.get_config()["handle"] == REMOTE


def test_bad_arguments(folder):
    with pytest.raises(ArgumentTypeError, match="Received: handle_or_folder=123"):
        hub_layer(123)
    with pytest.raises(TypeError, match="`trainable` must be True or False"):
        hub_layer(folder, trainable="yes")
    with pytest.raises(TypeError, match="`arguments` must be None or a dict"):
        hub_layer(folder, arguments=["training"])
    with pytest.raises(TypeError, match="`output_key`"):
        hub_layer(folder, output_key=1)
    with pytest.raises(ValueError, match="`name` must be a name without path separators"):
        hub_layer(folder, name="a/b")
    with pytest.raises(ArgumentValueError, match="returns a single output"):
        hub_layer(folder, output_key="features")
    with pytest.raises(ArgumentValueError, match="Unknown signature"):
        hub_layer(folder, signature="serving_default")


def test_hub_rows_table(tmp_path):
    rows = hub_rows()
    assert [row["name"] for row in rows] == list(HUB_BACKBONES)
    for row in rows:
        assert tuple(row) == BACKBONE_COLUMNS
        assert row["source"] == "tfhub" and row["task"] in ("image", "text")
        assert row["weights_file"].startswith("https://") and row["offline"] is False
        assert isinstance(row["preprocessing"], str) and row["preprocessing"]
    assert {row["task"] for row in rows} == {"image", "text"}

    name = "tfhub_nnlm_en_dim50"
    saved = cached_module_dir(HUB_BACKBONES[name]["handle"])
    saved.mkdir(parents=True)
    (saved / "saved_model.pb").write_bytes(b"")
    assert {row["name"]: row["offline"] for row in hub_rows()}[name] is True
    assert zoo_hub.is_cached(HUB_BACKBONES[name]["handle"])


def test_download_that_never_answers_times_out(monkeypatch):
    # A server that accepts the connection and never replies stands in for a network that
    # drops traffic; tensorflow_hub sets no timeout of its own.
    monkeypatch.setattr(zoo_hub_layer, "DOWNLOAD_TIMEOUT_S", 0.5)
    with socket.create_server(("127.0.0.1", 0)) as server:
        handle = f"http://127.0.0.1:{server.getsockname()[1]}/silent/model/1"
        start = time.perf_counter()
        with pytest.raises(ArgumentValueError, match=r"download failed.*timed out"):
            hub_layer(handle)
        assert time.perf_counter() - start < 2
    assert socket.getdefaulttimeout() is None


def test_catalogue_rows_build_the_module_with_a_head(image_folder, text_folder, tmp_path):
    table = zoo.list_architectures(source="tfhub").set_index("name")
    assert set(table.index) == set(HUB_BACKBONES)
    assert table["params"].isna().all() and not table["offline"].any()
    image, text = "tfhub_mobilenet_v2_100_224", "tfhub_nnlm_en_dim50"
    shutil.copytree(image_folder, cached_module_dir(HUB_BACKBONES[image]["handle"]))
    shutil.copytree(text_folder, cached_module_dir(HUB_BACKBONES[text]["handle"]))
    assert zoo.list_architectures(source="tfhub").set_index("name").loc[image, "offline"]

    model = zoo.build(image, num_classes=3, input_shape=(16, 16, 3))
    assert zoo.registry.get_spec(model)["architecture"] == image
    assert isinstance(model.get_layer("backbone"), HubLayer) and not model.compiled
    assert model.get_layer("backbone").trainable_weights == []  # frozen by default
    raw = np.random.default_rng(0).uniform(0, 255, size=(2, 16, 16, 3)).astype("float32")
    features = keras.Model(model.inputs, model.get_layer("backbone").output)
    reference = hub_layer(image_folder)(raw / 255.0)  # the module wants [0, 1] pixels
    np.testing.assert_allclose(features(raw), reference, rtol=1e-5)
    assert model.predict(raw, verbose=0).shape == (2, 3)

    words = zoo.build(text, num_classes=2, trainable=True)
    assert len(words.get_layer("backbone").trainable_weights) == 1
    sentences = tf.constant(["a cat", "the dog"])
    expected = words.predict(sentences, verbose=0)
    assert expected.shape == (2, 2)
    path = tmp_path / "words.keras"
    words.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(loaded.predict(sentences, verbose=0), expected, atol=1e-6)
    with pytest.raises(ValueError, match="input_shape"):
        zoo.build(image, num_classes=3, input_shape=(16, 16, 1))
