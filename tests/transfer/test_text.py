import shutil
import time

import keras
import keras_hub
import numpy as np
import pytest
import requests
import tensorflow as tf

import zoo
from zoo._validation import ArgumentValueError
from zoo.transfer.backbones import BACKBONE_COLUMNS
from zoo.transfer.text import TEXT_BACKBONES, cached_preset, recompile, text_classifier, text_rows

VOCABULARY = [
    "[PAD]",
    "[UNK]",
    "[CLS]",
    "[SEP]",
    "[MASK]",
    *["the", "a", "this", "movie", "film", "plot", "acting", "was", "is", "it"],
    *["very", "really", "so", "good", "bad"],
]
MAX_SEQUENCE_LENGTH = 32
GOOD = ["the movie was good", "a very good film", "good acting", "it is really good", "so good"]
BAD = ["the movie was bad", "a very bad film", "bad acting", "it is really bad", "so bad"]


@pytest.fixture(scope="module")
def preset(tmp_path_factory):
    """A tiny BERT preset folder, written by save_to_preset like a downloaded one."""
    folder = tmp_path_factory.mktemp("presets") / "tiny_bert"
    keras.utils.set_random_seed(0)
    backbone = keras_hub.models.BertBackbone(
        vocabulary_size=len(VOCABULARY),
        num_layers=1,
        num_heads=2,
        hidden_dim=16,
        intermediate_dim=32,
        max_sequence_length=MAX_SEQUENCE_LENGTH,
    )
    backbone.save_to_preset(str(folder))
    keras_hub.tokenizers.BertTokenizer(vocabulary=VOCABULARY, lowercase=True).save_to_preset(
        str(folder)
    )
    keras.backend.clear_session()
    return folder


@pytest.fixture(autouse=True)
def _no_presets_anywhere(tmp_path, monkeypatch):
    monkeypatch.setenv("KAGGLEHUB_CACHE", str(tmp_path / "kagglehub"))
    monkeypatch.delenv("ZOO_WEIGHTS_DIR", raising=False)
    monkeypatch.delenv("ZOO_OFFLINE", raising=False)


def _dataset(repeat=4, batch_size=8):
    texts = (GOOD + BAD) * repeat
    labels = ([1] * len(GOOD) + [0] * len(BAD)) * repeat
    return tf.data.Dataset.from_tensor_slices((texts, labels)).shuffle(64, seed=0).batch(batch_size)


def _logits(model, texts):
    """Raw strings through the model's own preprocessor, eagerly (predict retraces it)."""
    return keras.ops.convert_to_numpy(model(model.preprocessor(tf.constant(texts))))


def test_fine_tunes_on_raw_strings(preset):
    model = text_classifier(preset, 2, sequence_length=16)
    assert isinstance(model, keras_hub.models.TextClassifier)
    assert model.preprocessor.sequence_length == 16
    assert model.compiled and model.backbone.trainable
    spec = zoo.registry.get_spec(model)
    assert spec["architecture"] == "text_classifier"  # a folder is not a catalogue row
    assert spec["arguments"]["preset"] == str(preset)
    assert spec["arguments"]["weights"] == f"local preset folder {preset}"
    assert spec["arguments"]["sequence_length"] == 16
    assert spec["arguments"]["num_classes"] == 2

    recompile(model, optimizer=keras.optimizers.Adam(1e-2))
    history = model.fit(_dataset(repeat=8), epochs=6, verbose=0).history
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    assert history["sparse_categorical_accuracy"][-1] >= 0.9
    logits = model.predict(np.array(["a good film", "a bad film"]), verbose=0)
    assert logits.shape == (2, 2)
    assert logits[0].argmax() == 1 and logits[1].argmax() == 0


def test_round_trips_and_trains_again_after_load(preset, tmp_path):
    model = text_classifier(preset, 3, sequence_length=8, dropout=0.2, name="reviews")
    texts = ["the movie was good", "bad acting", "unknown words here"]
    expected = _logits(model, texts)
    path = tmp_path / "classifier.keras"
    model.save(path)
    with pytest.warns(UserWarning, match="compile"):
        loaded = keras.saving.load_model(path)
    assert loaded.name == "reviews"
    assert loaded.preprocessor.sequence_length == 8
    np.testing.assert_allclose(_logits(loaded, texts), expected, atol=1e-6)
    # The spec is a plain attribute: zoo.save writes it to the model card, .keras does not.
    assert zoo.registry.get_spec(loaded) is None
    recompile(loaded, optimizer="adam")
    labels = np.array([2, 0, 1])
    history = loaded.fit(np.array(texts), labels, epochs=2, batch_size=3, verbose=0).history
    assert np.isfinite(history["loss"]).all()


def _reviews(tmp_path):
    folder = tmp_path / "reviews"
    for label, texts in (("pos", GOOD), ("neg", BAD)):
        (folder / label).mkdir(parents=True)
        for copy in range(4):
            for i, text in enumerate(texts):
                (folder / label / f"{copy}_{i}.txt").write_text(text)
    return folder


# The tiny BERT has random weights: its pooled features barely differ between texts, so
# the head stage alone stays at chance (fine_tune rightly warns); unfrozen, it learns.
@pytest.mark.filterwarnings("ignore:zoo.transfer.fine_tune")
def test_fine_tune_in_one_call_from_a_text_folder(preset, tmp_path):
    from zoo.transfer import fine_tune

    folder = _reviews(tmp_path)
    model = text_classifier(preset, 2, sequence_length=16)
    result = fine_tune(
        model,
        folder,  # loaded as raw strings: the classifier's preprocessor tokenizes them
        epochs=2,
        fine_tune_epochs=20,
        learning_rate=1e-2,
        fine_tune_learning_rate=2e-2,
        layer_decay=0.8,
        output=str(tmp_path / "bert_reviews"),
        verbose=0,
    )
    assert list(result.history["stage"].unique()) == ["head", "fine_tune"]
    assert not result.stages["feature_cache"].any()
    assert (
        result.stages["trainable_params"].tolist()[0]
        < result.stages["trainable_params"].tolist()[1]
    )
    losses = result.history["loss"].tolist()
    assert losses[-1] < 0.5 * losses[0]
    assert result.metrics["accuracy"] >= 0.85  # logits are turned into probabilities
    assert 0 < result.metrics["log_loss"] < 0.69
    loaded = zoo.load(result.path)
    texts = ["the movie was good", "bad acting"]
    np.testing.assert_allclose(_logits(loaded, texts), _logits(result.model, texts), atol=1e-5)


def test_tune_takes_the_preset_as_a_choice(preset, tmp_path):
    other = tmp_path / "other_bert"
    shutil.copytree(preset, other)
    data = zoo.data.load(_reviews(tmp_path), tokenize=False, batch_size=8)
    result = zoo.tune(
        "text_classifier",
        data,
        space={
            "preset": [str(preset), str(other)],
            "sequence_length": 16,
            "dropout": 0.0,
            "learning_rate": 2e-2,
            "batch_size": None,
        },
        algorithm="grid",
        max_trials=2,
        epochs=12,
        directory=tmp_path / "search",
        output=tmp_path / "best",
        verbose=0,
    )
    assert (result.trials["status"] == "COMPLETED").all()
    assert set(result.trials["preset"]) == {str(preset), str(other)}
    assert result.trials["score"].max() > 0.5  # the space's rate, not keras-hub's 5e-5
    texts = ["the movie was good", "bad acting"]
    loaded = zoo.load(result.path)
    np.testing.assert_allclose(_logits(loaded, texts), _logits(result.model, texts), atol=1e-5)


def test_frozen_backbone_trains_only_the_head(preset):
    model = text_classifier(preset, 2, sequence_length=8, trainable=False)
    assert not model.backbone.trainable
    backbone = [w.numpy().copy() for w in model.backbone.weights]
    head = [w.numpy().copy() for w in model.trainable_weights]
    assert head and len(head) < len(backbone)
    recompile(model, optimizer=keras.optimizers.Adam(1e-2))
    model.fit(_dataset(repeat=1), epochs=1, verbose=0)
    for before, after in zip(backbone, model.backbone.weights, strict=True):
        np.testing.assert_array_equal(before, after.numpy())
    assert any(
        not np.allclose(b, a.numpy()) for b, a in zip(head, model.trainable_weights, strict=True)
    )


def test_cached_built_in_preset_loads_offline(preset, tmp_path, monkeypatch):
    handle = keras_hub.models.TextClassifier.presets["bert_tiny_en_uncased"]["kaggle_handle"]
    assert cached_preset("bert_tiny_en_uncased") is None
    folder = tmp_path / "kagglehub" / "models" / handle.removeprefix("kaggle://")
    shutil.copytree(preset, folder)
    monkeypatch.setenv("ZOO_OFFLINE", "1")
    assert cached_preset("bert_tiny_en_uncased") == folder
    model = text_classifier("bert_tiny_en_uncased", 2, sequence_length=8)
    assert str(folder) in zoo.registry.get_spec(model)["arguments"]["weights"]
    assert model.preprocessor.sequence_length == 8
    assert zoo.registry.get_spec(model)["architecture"] == "bert_tiny_en_uncased"
    rows = {row["name"]: row for row in text_rows()}
    assert rows["bert_tiny_en_uncased"]["offline"]
    assert not rows["bert_base_en_uncased"]["offline"]

    # The preset is a row of the catalogue: zoo.build gives the same classifier.
    table = zoo.list_architectures(source="keras-hub").set_index("name")
    assert table.loc["bert_tiny_en_uncased", "offline"]
    assert not table.loc["bert_base_en_uncased", "offline"]
    built = zoo.build("bert_tiny_en_uncased", num_classes=2, sequence_length=8)
    assert isinstance(built, keras_hub.models.TextClassifier)
    assert built.preprocessor.sequence_length == 8 and built.compiled
    assert zoo.registry.get_spec(built) == zoo.registry.get_spec(model)
    np.testing.assert_allclose(
        _logits(built, ["a good film"]).shape, _logits(model, ["a good film"]).shape
    )
    assert built.count_params() == model.count_params()


def test_zoo_weights_dir_holds_presets_by_name(preset, tmp_path, monkeypatch):
    shutil.copytree(preset, tmp_path / "weights" / "bert_small_en_uncased")
    monkeypatch.setenv("ZOO_WEIGHTS_DIR", str(tmp_path / "weights"))
    monkeypatch.setenv("ZOO_OFFLINE", "1")
    assert cached_preset("bert_small_en_uncased") == tmp_path / "weights" / "bert_small_en_uncased"


@pytest.mark.parametrize("offline", [True, False])
def test_built_in_preset_not_on_disk_fails_fast(monkeypatch, tmp_path, offline):
    from keras_hub.src.utils import preset_utils

    def no_network(preset, path):
        raise requests.exceptions.ConnectionError(f"Failed to resolve 'api.kaggle.com' ({path})")

    # Without ZOO_OFFLINE zoo asks keras-hub to download; stand in for a failing network.
    monkeypatch.setattr(preset_utils, "get_file", no_network)
    if offline:
        monkeypatch.setenv("ZOO_OFFLINE", "1")
    start = time.perf_counter()
    with pytest.raises(ArgumentValueError) as info:
        text_classifier("bert_tiny_en_uncased", 2)
    assert time.perf_counter() - start < 2
    message = str(info.value)
    assert "'bert_tiny_en_uncased'" in message
    assert str(tmp_path / "kagglehub" / "models" / "keras" / "bert") in message
    assert "config.json" in message and "local preset folder" in message
    if offline:
        assert "ZOO_OFFLINE=1" in message
    else:
        assert "download failed: ConnectionError" in message
        assert isinstance(info.value.__cause__, requests.exceptions.ConnectionError)


@pytest.mark.network
def test_built_in_preset_downloads_on_a_connected_machine():
    model = text_classifier("bert_tiny_en_uncased", 2, sequence_length=32)
    assert model.preprocessor.sequence_length == 32
    assert cached_preset("bert_tiny_en_uncased") is not None


def test_bad_arguments(preset, tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(ArgumentValueError, match="does not exist") as info:
        text_classifier(str(missing), 2)
    assert str(missing) in str(info.value) and "config.json" in str(info.value)
    assert "tokenizer.json" in str(info.value)
    incomplete = tmp_path / "incomplete"
    shutil.copytree(preset, incomplete, ignore=shutil.ignore_patterns("tokenizer.json"))
    with pytest.raises(ArgumentValueError, match=r"lacks tokenizer\.json"):
        text_classifier(incomplete, 2)
    with pytest.raises(ArgumentValueError, match=r"<= 32.*Received: sequence_length=64"):
        text_classifier(preset, 2, sequence_length=64)
    with pytest.raises(ArgumentValueError, match="Received: sequence_length=0"):
        text_classifier(preset, 2, sequence_length=0)
    with pytest.raises(TypeError, match="sequence_length"):
        text_classifier(preset, 2, sequence_length=16.0)
    with pytest.raises(ArgumentValueError, match=r"num_classes=2 for a binary.*num_classes=1"):
        text_classifier(preset, 1)
    with pytest.raises(TypeError, match="num_classes"):
        text_classifier(preset, "2")
    with pytest.raises(ArgumentValueError, match="'bert_tiny_en_uncased'") as info:
        text_classifier("bert_tiny_en_uncase", 2)
    assert "Did you mean" in str(info.value)
    with pytest.raises(ValueError, match="dropout"):
        text_classifier(preset, 2, dropout=1.5)
    with pytest.raises(TypeError, match="trainable"):
        text_classifier(preset, 2, trainable="no")


def test_text_rows():
    rows = text_rows()
    assert {row["name"] for row in rows} == set(TEXT_BACKBONES)
    for row in rows:
        assert tuple(row) == BACKBONE_COLUMNS
        assert row["source"] == "keras-hub" and row["task"] == "text"
        assert row["weights_file"].startswith("kaggle://")
        assert row["params"] > 0 and row["input_size"] == 512
        assert row["offline"] is False
    by_name = {row["name"]: row for row in rows}
    assert by_name["bert_tiny_en_uncased"]["params"] == 4_385_920
