"""A fixed test (or validation) set for any source: ``zoo.data.load(source, test=other)``."""

import gzip
import json
import struct

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from sample_data import write_images

import zoo
from zoo import cli
from zoo._validation import ArgumentTypeError, ArgumentValueError
from zoo.data import standard

RNG = np.random.default_rng(0)
X = RNG.random((40, 3)).astype("float32")
Y = np.array(["ant", "bee", "cat", "dog"] * 10)
X_TEST = RNG.random((8, 3)).astype("float32")
Y_TEST = np.array(["bee", "cat"] * 4)  # fewer classes than train
X_VAL = RNG.random((6, 3)).astype("float32")
Y_VAL = np.array(["ant", "dog", "cat"] * 2)


def _batches(dataset):
    xs, ys = zip(*dataset.as_numpy_iterator(), strict=True)
    return np.concatenate(xs), np.concatenate(ys)


# ------------------------------------------------------------------------------ arrays


def test_given_test_arrays_are_kept_as_they_are():
    data = zoo.data.load((X, Y), test=(X_TEST, Y_TEST), batch_size=4)
    assert data.sizes["test"] == len(X_TEST)
    assert data.sizes["train"] + data.sizes["validation"] == len(X)  # validation from train
    assert data.class_names == ("ant", "bee", "cat", "dog")
    x, y = _batches(data.test)
    np.testing.assert_array_equal(x, X_TEST)  # same examples, same order
    np.testing.assert_array_equal(y, [1, 2] * 4)  # train's class ids
    assert data.describe()["split_sources"] == {
        "train": "source",
        "validation": "carved from train",
        "test": "test= numpy arrays (8, 3)",
    }


def test_a_given_split_may_hold_a_single_class(tmp_path):
    data = zoo.data.load((X, Y), test=(X_TEST[:3], np.array(["cat"] * 3)))
    np.testing.assert_array_equal(_batches(data.test)[1], [2, 2, 2])
    frame = pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "label": Y})
    only_bees = pd.DataFrame({"a": [0.5, 0.1], "b": [0.2, 0.3], "label": ["bee", "bee"]})
    data = zoo.data.load(frame, validation=only_bees)
    assert data.sizes["validation"] == 2
    np.testing.assert_array_equal(data.labels("validation"), [1, 1])
    with pytest.raises(ArgumentValueError, match="at least 2 classes"):  # train still needs 2
        zoo.data.load((X, np.array(["cat"] * len(X))), test=(X_TEST, Y_TEST))


def test_given_validation_and_both():
    data = zoo.data.load((X, Y), validation=(X_VAL, Y_VAL))
    assert data.sizes["validation"] == len(X_VAL)
    assert data.sizes["train"] + data.sizes["test"] == len(X)  # test carved from train
    x, y = _batches(data.validation)
    np.testing.assert_array_equal(x, X_VAL)
    np.testing.assert_array_equal(y, [0, 3, 2] * 2)
    assert data.describe()["split_sources"]["validation"] == "validation= numpy arrays (6, 3)"
    assert data.describe()["split_sources"]["test"] == "carved from train"

    both = zoo.data.load((X, Y), validation=(X_VAL, Y_VAL), test=(X_TEST, Y_TEST))
    assert both.sizes == {"train": len(X), "validation": len(X_VAL), "test": len(X_TEST)}
    assert set(both.describe()["split_sources"]) == {"train", "validation", "test"}


def test_integer_labels_map_by_value_and_regression_stays_regression():
    data = zoo.data.load((X, np.arange(40) % 4), test=(X_TEST, np.array([3, 1] * 4)))
    np.testing.assert_array_equal(data.labels("test"), [3, 1] * 4)
    ids = zoo.data.load((X, Y), test=(X_TEST, np.array([3, 0] * 4)))  # names are not integers:
    np.testing.assert_array_equal(ids.labels("test"), [3, 0] * 4)  # integers are class ids
    with pytest.raises(ArgumentValueError, match=r"class ids 0\.\.3 .* Received: test='4 in"):
        zoo.data.load((X, Y), test=(X_TEST, np.array([4, 0] * 4)))
    targets = RNG.random(40)
    regression = zoo.data.load((X, targets), test=(X_TEST, np.arange(8)))  # int targets
    assert regression.task == "regression" and regression.sizes["test"] == 8


def test_given_arrays_that_do_not_fit_are_refused():
    with pytest.raises(ArgumentValueError, match="zebra only in") as info:
        zoo.data.load((X, Y), test=(X_TEST, np.array(["bee", "zebra"] * 4)))
    assert "`test`" in str(info.value)
    with pytest.raises(ArgumentValueError, match=r"`test` must be examples shaped like"):
        zoo.data.load((X, Y), test=(X_TEST[:, :2], Y_TEST))
    with pytest.raises(ArgumentValueError, match="`test_split` must be None"):
        zoo.data.load((X, Y), test=(X_TEST, Y_TEST), test_split=0.2)
    with pytest.raises(ArgumentValueError, match=r"`test` must be .* Received: test='a lone"):
        zoo.data.load((X, Y), test=X_TEST)
    with pytest.raises(ArgumentTypeError, match="`validation` must be"):
        zoo.data.load((X, Y), validation={"x": X_VAL})
    with pytest.raises(ArgumentValueError, match=r"In `test`.*one label per example"):
        zoo.data.load((X, Y), test=(X_TEST, Y_TEST[:5]))
    pixels = RNG.integers(0, 256, (40, 4, 4, 1), dtype=np.uint8)
    with pytest.raises(ArgumentValueError, match="both as uint8 0-255 pixels"):
        zoo.data.load((pixels, Y), test=(RNG.random((8, 4, 4, 1)), Y_TEST))  # not rescaled alike


def test_stratify_groups_cover_the_source_only():
    groups = np.arange(40) % 2
    data = zoo.data.load((X, Y), test=(X_TEST, Y_TEST), stratify=groups, validation_split=0.2)
    assert data.sizes == {"train": 32, "validation": 8, "test": 8}
    with pytest.raises(ArgumentValueError, match="1-D array of 40 numbers"):
        zoo.data.load((X, Y), test=(X_TEST, Y_TEST), stratify=np.arange(48) % 2)


# ------------------------------------------------------------------------------ tables


def _tables(tmp_path):
    train = pd.DataFrame(
        {
            "size": RNG.normal(10.0, 2.0, 40),
            "weight": RNG.normal(-5.0, 3.0, 40),
            "colour": ["red", "blue"] * 20,
            "label": Y,
        }
    )
    test = pd.DataFrame(  # far from train's means: scaling fitted on train shows
        {
            "size": RNG.normal(100.0, 1.0, 8),
            "weight": RNG.normal(50.0, 1.0, 8),
            "colour": ["blue", "green"] * 4,
            "label": Y_TEST,
        }
    )
    path = tmp_path / "test.csv"
    test.to_csv(path, index=False)
    return train, test, path


def test_table_with_a_test_csv_is_standardised_on_train_only(tmp_path):
    train, test, path = _tables(tmp_path)
    data = zoo.data.load(train, test=path, validation_split=0)
    assert data.sizes == {"train": 40, "validation": 0, "test": 8}
    assert data.describe()["split_sources"]["test"] == f"test= CSV {path}"
    x, y = _batches(data.test)
    np.testing.assert_array_equal(y, [1, 2] * 4)
    names = data.encoder.feature_names
    for column in ("size", "weight"):
        expected = (test[column] - train[column].mean()) / train[column].std(ddof=0)
        np.testing.assert_allclose(x[:, names.index(column)], expected, rtol=1e-4)
    assert "colour=green" not in names  # categories learned on train only
    np.testing.assert_array_equal(x[1::2, names.index("colour=<unseen>")], 1.0)
    reordered = zoo.data.load(train, test=test[["label", "weight", "colour", "size"]])
    assert reordered.sizes["test"] == 8  # columns match by name


def test_table_test_with_other_columns_is_refused(tmp_path):
    train, test, _ = _tables(tmp_path)
    with pytest.raises(ArgumentValueError, match=r"missing \['weight'\], unexpected \['mass'\]"):
        zoo.data.load(train, test=test.rename(columns={"weight": "mass"}))
    with pytest.raises(ArgumentValueError, match=r"numeric in the training table \(\['size'\]\)"):
        zoo.data.load(train, test=test.assign(size=["small", "large"] * 4))
    with pytest.raises(ArgumentValueError, match=r"In `test`.*target"):
        zoo.data.load(train, test=test.drop(columns="label"))


# ----------------------------------------------------------------------------- folders


def _grey_images(root, classes=("cat", "dog"), per_class=4):
    for c, name in enumerate(classes):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            pixels = np.full((10, 12), 40 + 150 * c, np.uint8)
            Image.fromarray(pixels, mode="L").save(root / name / f"{i}.png")
    return root


def test_image_folder_test_takes_the_training_channels(tmp_path):
    grey = _grey_images(tmp_path / "grey")
    colour = write_images(tmp_path / "colour", per_class=3, size=(12, 10))
    data = zoo.data.load(grey, test=colour, validation_split=0)
    assert data.input_shape == (10, 12, 1)  # the RGB test images are read as grey
    assert data.sizes == {"train": 8, "validation": 0, "test": 6}
    x, _ = _batches(data.test)
    assert x.shape == (6, 10, 12, 1) and x.max() <= 1.0
    assert data.describe()["split_sources"]["test"] == f"test= image folder {colour}"
    rgb = zoo.data.load(colour, test=grey, validation_split=0)
    assert rgb.input_shape == (10, 12, 3)  # and grey test images as RGB
    assert _batches(rgb.test)[0].shape == (8, 10, 12, 3)


def test_text_folder_test_keeps_out_of_the_vocabulary(tmp_path, text_folder):
    held_out = tmp_path / "held_out"
    for label, word in (("neg", "dreadful"), ("pos", "wonderful")):
        (held_out / label).mkdir(parents=True)
        (held_out / label / "0.txt").write_text(f"{word} onlyintest")
    data = zoo.data.load(text_folder, test=held_out, sequence_length=6)
    assert data.sizes["test"] == 2 and data.class_names == ("neg", "pos")
    vocabulary = data.encoder.vocabulary  # learned on the training split only
    assert "good" in vocabulary and "onlyintest" not in vocabulary
    x, y = _batches(data.test)
    assert x.shape == (2, 6) and (x[:, :2] == 1).all()  # out-of-vocabulary ids
    np.testing.assert_array_equal(y, [0, 1])


# --------------------------------------------------- sources with splits of their own


def _write_fashion_mnist(folder, n_train=30, n_test=10):
    """Tiny Fashion-MNIST IDX files (see test_standard.py for every format)."""
    folder.mkdir(parents=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = RNG.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = np.arange(n, dtype=np.uint8) % 10
        for what, array, code in (("images", images, 3), ("labels", labels, 1)):
            header = bytes([0, 0, 8, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
            payload = gzip.compress(header + array.tobytes())
            (folder / f"{prefix}-{what}-idx{code}-ubyte.gz").write_bytes(payload)


def test_sources_with_their_own_test_refuse_another(tmp_path, monkeypatch):
    split_root = tmp_path / "pets"
    for split, count in (("train", 6), ("test", 2)):
        write_images(split_root / split, per_class=count)
    plain = write_images(tmp_path / "more", per_class=2)
    with pytest.raises(ArgumentValueError, match=r"`test` must be None: .* own test split"):
        zoo.data.load(split_root, test=plain)
    with pytest.raises(ArgumentValueError, match="a source of one split") as info:
        zoo.data.load(plain, test=split_root)  # test= a source that has splits itself
    assert str(split_root) in str(info.value)

    monkeypatch.setenv("ZOO_DATA_DIR", str(tmp_path / "datasets"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setattr(standard, "SYSTEM_DIRS", ())
    _write_fashion_mnist(tmp_path / "datasets" / "fashion-mnist")
    extra = RNG.integers(0, 256, (10, 28, 28, 1), dtype=np.uint8)
    with pytest.raises(ArgumentValueError, match="official test of fashion_mnist"):
        zoo.data.load("fashion_mnist", test=(extra, np.arange(10)))
    data = zoo.data.load("fashion_mnist", validation=(extra, np.arange(10)))
    assert data.sizes == {"train": 30, "validation": 10, "test": 10}
    assert data.describe()["split_sources"] == {
        "train": "official train of fashion_mnist",
        "validation": "validation= numpy arrays (10, 28, 28, 1)",
        "test": "official test of fashion_mnist",
    }
    assert data.labels("validation").tolist() == list(range(10))


def test_tfds_sources_take_no_given_split(monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("TFDS must not be read")

    monkeypatch.setattr("zoo.data.core._load_tfds", never)
    with pytest.raises(ArgumentValueError, match=r"`test` must be None for TFDS sources"):
        zoo.data.load("tfds:mnist", test=(X_TEST, Y_TEST))
    with pytest.raises(ArgumentValueError, match=r"`validation` must be None for TFDS"):
        zoo.data.load("tfds:mnist", validation=(X_VAL, Y_VAL))


# --------------------------------------------------------------------------------- CLI


def test_train_command_takes_a_test_csv(tmp_path, capsys):
    train, test, test_csv = _tables(tmp_path)
    train_csv = tmp_path / "train.csv"
    train.to_csv(train_csv, index=False)
    out_dir = tmp_path / "model"
    arguments = ["train", "mlp_tiny", "--data", str(train_csv), "--test", str(test_csv)]
    assert cli.main([*arguments, "--epochs", "1", "--output", str(out_dir)]) == 0
    card = json.loads((out_dir / "zoo.json").read_text())
    assert card["data"]["sizes"]["test"] == len(test)
    assert card["data"]["split_sources"]["test"] == f"test= CSV {test_csv}"
    assert "saved to" in capsys.readouterr().out
