"""Folders with train/, validation/ (val/) and test/ subfolders keep those splits."""

import json

import numpy as np
import pytest
from sample_data import write_images

import zoo


def _split_folder(root, splits=("train", "test"), per_class=(8, 3)):
    for split, count in zip(splits, per_class, strict=True):
        write_images(root / split, classes=("cat", "dog"), per_class=count)
    return root


def test_train_and_test_subfolders_are_splits_not_classes(tmp_path):
    data = zoo.data.load(_split_folder(tmp_path / "pets"), validation_split=0.25)
    assert data.class_names == ("cat", "dog") and data.num_classes == 2
    assert data.sizes == {"train": 12, "validation": 4, "test": 6}
    described = data.describe()
    assert described["split_sources"] == {
        "train": "train/",
        "validation": "carved from train",
        "test": "test/",
    }
    test_paths = data._examples.x[data._indices["test"]]
    assert all("/test/" in str(path) for path in test_paths)
    np.testing.assert_array_equal(np.bincount(data.labels("test")), [3, 3])


def test_validation_folder_and_text_splits(tmp_path):
    root = tmp_path / "reviews"
    for split, count in (("train", 6), ("val", 2), ("test", 2)):
        for label, word in (("neg", "bad"), ("pos", "good")):
            folder = root / split / label
            folder.mkdir(parents=True)
            for i in range(count):
                extra = "onlyintest" if split == "test" else "film"
                (folder / f"{i}.txt").write_text(f"{word} {word} {extra}", encoding="utf-8")
    data = zoo.data.load(root, sequence_length=4)
    assert data.sizes == {"train": 12, "validation": 4, "test": 4}
    assert data.class_names == ("neg", "pos")
    assert data.describe()["split_sources"]["validation"] == "val/"
    vocabulary = data.encoder.vocabulary  # learned on train/ only
    assert "film" in vocabulary and "onlyintest" not in vocabulary


def test_test_classes_must_be_known_to_train(tmp_path):
    write_images(tmp_path / "pets" / "train", classes=("cat", "dog"), per_class=4)
    write_images(tmp_path / "pets" / "test", classes=("cat", "fox"), per_class=2)
    with pytest.raises(ValueError, match="fox only in"):
        zoo.data.load(tmp_path / "pets")


def test_a_class_named_train_beside_others_stays_a_class(tmp_path):
    write_images(tmp_path / "odd", classes=("train", "zebra"), per_class=5)
    data = zoo.data.load(tmp_path / "odd", test_split=0.2)
    assert data.class_names == ("train", "zebra")


def test_split_folders_reach_the_card(tmp_path):
    root = _split_folder(tmp_path / "pets")
    result = zoo.train("mlp_tiny", zoo.data.load(root), epochs=1, verbose=0, output="pets")
    card = json.loads((result.path / "zoo.json").read_text())
    assert card["data"]["split_sources"]["test"] == "test/"


def test_a_test_folder_of_one_class_is_a_split(tmp_path):
    write_images(tmp_path / "pets" / "train", classes=("cat", "dog"), per_class=4)
    write_images(tmp_path / "pets" / "test", classes=("dog",), per_class=3)
    data = zoo.data.load(tmp_path / "pets")
    assert data.class_names == ("cat", "dog") and data.sizes["test"] == 3
    np.testing.assert_array_equal(data.labels("test"), [1, 1, 1])  # train's id of "dog"


def test_a_train_folder_still_needs_two_classes(tmp_path):
    write_images(tmp_path / "pets" / "train", classes=("dog",), per_class=4)
    write_images(tmp_path / "pets" / "test", classes=("dog",), per_class=2)
    with pytest.raises(ValueError, match="at least 2 classes"):
        zoo.data.load(tmp_path / "pets")
