"""zoo's shipped Fashion-MNIST checkpoint: a catalogue row that loads, re-heads and verifies."""

import json
import shutil

import numpy as np
import pytest

import zoo
from zoo import _archive
from zoo.architectures.pretrained import checkpoints
from zoo.data import standard
from zoo.transfer import fashion

NAME = "fashion_convnet_pretrained"


def _folder():
    return checkpoints.shipped_models_dir() / NAME


def _card():
    return json.loads((_folder() / "zoo.json").read_text(encoding="utf-8"))


def test_it_builds_and_takes_a_new_head():
    model = zoo.build(NAME)
    assert model.input_shape == (None, 28, 28, 1) and model.output_shape == (None, 10)
    assert not model.compiled
    headed = zoo.build(NAME, num_classes=3)
    assert headed.output_shape == (None, 3)
    found = zoo.transfer.find_backbone(headed)
    pretrained = zoo.transfer.find_backbone(model)
    for new, old in zip(found.get_weights(), pretrained.get_weights(), strict=True):
        np.testing.assert_array_equal(new, old)  # the new head sits on the pretrained features


def test_its_card_records_the_official_split_and_test_accuracy():
    card = _card()
    assert card["data"]["source"].startswith("fashion_mnist ")
    assert card["data"]["split_sources"]["test"] == "official test of fashion_mnist"
    assert card["data"]["sizes"] == {"train": 54_000, "validation": 6_000, "test": 10_000}
    assert card["data"]["class_names"][0] == "T-shirt/top"
    accuracy = card["metrics"]["accuracy"]
    assert accuracy >= 0.9
    assert card["pretraining"]["official_test_accuracy"] == accuracy
    assert card["pretraining"]["made_by"] == "scripts/make_fashion_checkpoint.py"
    assert card["pretraining"]["backbone_arguments"]["input_shape"] == [28, 28, 1]
    assert (_folder() / "history.csv").is_file()


def test_it_is_compact_and_its_sha256_matches_its_card():
    path = checkpoints.checkpoint_file(NAME)  # verifies
    assert _archive.sha256(path) == _card()["sha256"]
    assert path.stat().st_size < 2_000_000
    assert zoo.load(_folder()).count_params() == _card()["params"]["total"]


def test_a_damaged_or_missing_copy_names_its_own_script(tmp_path, monkeypatch):
    copy = tmp_path / "checkpoints"
    shutil.copytree(_folder(), copy / NAME)
    monkeypatch.setattr(checkpoints, "shipped_models_dir", lambda: copy)
    card = json.loads((copy / NAME / "zoo.json").read_text())
    card["sha256"] = "0" * 64
    (copy / NAME / "zoo.json").write_text(json.dumps(card))
    with pytest.raises(zoo.DamagedFileError, match=r"make_fashion_checkpoint\.py"):
        checkpoints.checkpoint_file(NAME)
    shutil.rmtree(copy / NAME)
    with pytest.raises(ValueError, match=r"missing.*make_fashion_checkpoint\.py"):
        zoo.build(NAME)


def test_it_takes_raw_pixels():
    pixels = np.random.default_rng(0).integers(0, 256, size=(3, 28, 28, 1), dtype=np.uint8)
    probabilities = zoo.build(NAME).predict(pixels, verbose=0)
    assert probabilities.shape == (3, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_it_recognises_real_clothes_from_raw_pixels():
    folder = standard.find("fashion_mnist")
    if folder is None:
        pytest.skip("Fashion-MNIST's files are not on this machine (dataset-fashion-mnist)")
    images = standard.read_idx(folder / "t10k-images-idx3-ubyte.gz")[:200, ..., None]
    labels = standard.read_idx(folder / "t10k-labels-idx1-ubyte.gz")[:200]
    predicted = zoo.build(NAME).predict(images, verbose=0).argmax(axis=1)
    assert (predicted == labels).mean() >= 0.85  # 0-255 pixels, as the card promises


def test_it_is_in_the_catalogue():
    row = zoo.list_architectures(source="checkpoint").set_index("name").loc[NAME]
    assert row["offline"] and row["task"] == "image classification"
    assert row["params"] == _card()["params"]["trainable"]


def test_the_network_from_scratch_matches_the_checkpoint():
    fresh = fashion.build_network(10)
    loaded = zoo.build(NAME)
    network = next(layer for layer in loaded.layers if layer.name == fresh.name)
    assert [w.shape for w in fresh.weights] == [w.shape for w in network.weights]
