import time

import numpy as np
import pandas as pd
import pytest
import tensorflow_datasets as tfds
from sample_data import write_images

import zoo
from zoo._validation import ArgumentTypeError, ArgumentValueError


def _first_batch(dataset):
    return next(iter(dataset.as_numpy_iterator()))


# --------------------------------------------------------------------------- bundled


def test_digits_pipelines_and_metadata():
    data = zoo.data.load("digits", batch_size=50)
    assert data.task == "classification" and data.num_classes == 10
    assert data.class_names == tuple(str(i) for i in range(10))
    assert data.input_shape == (8, 8, 1)
    assert data.sizes == {"train": 1258, "validation": 180, "test": 359}
    x, y = _first_batch(data.train)
    assert x.shape == (50, 8, 8, 1) and x.dtype == np.float32 and y.dtype == np.int32
    test_labels = data.labels("test")
    share = np.bincount(test_labels) / len(test_labels)
    assert share.min() > 0.08 and share.max() < 0.12  # stratified


def test_splits_are_deterministic_for_a_seed():
    a = zoo.data.load("digits", seed=3)
    b = zoo.data.load("digits", seed=3)
    c = zoo.data.load("digits", seed=4)
    np.testing.assert_array_equal(a.labels("test"), b.labels("test"))
    assert not np.array_equal(a._indices["test"], c._indices["test"])
    np.testing.assert_array_equal(_first_batch(a.train)[1], _first_batch(b.train)[1])


# --------------------------------------------------------------------------- arrays


def test_numpy_arrays_with_string_labels():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 5))
    y = np.array(["b", "a", "c"] * 20)
    data = zoo.data.load(x, y, batch_size=8, test_split=0.2, validation_split=0.1)
    assert data.class_names == ("a", "b", "c") and data.input_shape == (5,)
    assert data.sizes == {"train": 42, "validation": 6, "test": 12}
    assert zoo.data.load((x, y)).sizes == data.sizes


def test_stratify_by_groups_other_than_the_labels():
    x = np.arange(200, dtype="float32").reshape(100, 2)
    groups = np.repeat(np.arange(10), 10)
    labels = np.where(groups < 5, "small", "large")
    data = zoo.data.load(x, labels, stratify=groups, test_split=0.8, validation_split=0.1)
    for split, count in (("train", 1), ("validation", 1), ("test", 8)):
        assert np.bincount(groups[data._indices[split]], minlength=10).tolist() == [count] * 10
    for bad in (groups[:50], groups.reshape(10, 10)):
        with pytest.raises(ArgumentValueError, match=r"stratify.*100"):
            zoo.data.load(x, labels, stratify=bad)
    with pytest.raises(ArgumentValueError, match="stratify"):
        zoo.data.load("tfds:mnist", stratify=groups)


def test_float_targets_mean_regression():
    x = np.random.default_rng(0).normal(size=(40, 3)).astype("float32")
    data = zoo.data.load(x, x.sum(axis=1))
    assert data.task == "regression" and data.num_classes is None
    assert data.builder_arguments(["input_shape", "task", "num_outputs"]) == {
        "input_shape": (3,),
        "task": "regression",
        "num_outputs": 1,
    }


@pytest.mark.parametrize(
    ("x", "y", "error", "text"),
    [
        (np.zeros((10, 2)), np.zeros(9, int), ArgumentValueError, "one label per example"),
        (np.full((10, 2), np.nan), np.arange(10) % 2, ArgumentValueError, "NaN"),
        (
            np.where(np.eye(10, 2) > 0, np.inf, 0.0),
            np.arange(10) % 2,
            ArgumentValueError,
            "infinity in 2 rows",
        ),
        (np.zeros((10, 2)), np.r_[np.zeros(9), np.inf], ArgumentValueError, "1 NaN or infinite"),
        (np.zeros((10, 2)), np.zeros(10, int), ArgumentValueError, "at least 2 classes"),
        (np.array([["a"]] * 10), np.arange(10) % 2, ArgumentTypeError, "numeric array"),
        (np.zeros(10), np.arange(10) % 2, ArgumentValueError, "(examples, features"),
    ],
)
def test_bad_arrays(x, y, error, text):
    with pytest.raises(error, match="Received") as info:
        zoo.data.load(x, y)
    assert text in str(info.value)


# --------------------------------------------------------------------------- tables


def _frame(n=60):
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "age": rng.integers(18, 80, n),
            "income": rng.normal(50, 10, n),
            "city": rng.choice(["paris", "oslo", "rome"], n),
            "member": rng.choice([True, False], n),
            "label": rng.choice(["yes", "no"], n),
        }
    )


def test_dataframe_encodes_on_train_only():
    frame = _frame()
    data = zoo.data.load(frame, target="label", test_split=0.2)
    assert data.class_names == ("no", "yes")
    names = data.encoder.feature_names
    assert names[0] == "age" and "income" in names and "city=oslo" in names
    assert "member=True" in names and "city=<unseen>" in names
    assert data.input_shape == (len(names),)
    numeric = [names.index("age"), names.index("income")]
    train = np.concatenate([x for x, _ in data.train.as_numpy_iterator()])
    np.testing.assert_allclose(train[:, numeric].mean(axis=0), 0, atol=1e-5)
    new = data.transform(
        pd.DataFrame({"age": [30], "income": [50.0], "city": ["lima"], "member": [True]})
    )
    cities = [i for i, name in enumerate(names) if name.startswith("city=")]
    assert new.shape == (1, len(names))
    assert new[0, names.index("city=<unseen>")] == 1 and new[0, cities].sum() == 1  # unseen city


def test_dataframe_guesses_target_and_csv(tmp_path):
    path = tmp_path / "table.csv"
    _frame().to_csv(path, index=False)
    data = zoo.data.load(str(path))
    assert data.source.startswith("CSV") and data.num_classes == 2
    assert zoo.data.load(_frame(), features=["age", "income"]).input_shape == (2,)


def test_bad_tables(tmp_path):
    with pytest.raises(ArgumentValueError, match="Did you mean 'label'"):
        zoo.data.load(_frame(), target="labl")
    frame = _frame()
    frame.loc[3, "income"] = np.nan
    with pytest.raises(ArgumentValueError, match="income"):
        zoo.data.load(frame)
    with pytest.raises(ArgumentValueError, match="target column"):
        zoo.data.load(_frame().drop(columns="label"))
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(ArgumentValueError, match="empty file"):
        zoo.data.load(str(tmp_path / "empty.csv"))


# --------------------------------------------------------------------------- images


def test_image_folder_all_formats(image_folder):
    data = zoo.data.load(image_folder, batch_size=4, test_split=0.2)
    assert data.class_names == ("cat", "dog")
    assert data.input_shape == (10, 12, 3)
    assert sum(data.sizes.values()) == 20
    x, _ = _first_batch(data.train)
    assert x.shape == (4, 10, 12, 3) and x.min() >= 0.0 and x.max() <= 1.0


def test_image_folder_resize_grayscale_augment(image_folder):
    data = zoo.data.load(
        image_folder, image_size=8, color_mode="grayscale", augment=True, batch_size=4
    )
    assert data.input_shape == (8, 8, 1)
    x, _ = _first_batch(data.train)
    assert x.shape == (4, 8, 8, 1) and np.isfinite(x).all()
    custom = zoo.data.load(image_folder, augment={"flip": "vertical", "zoom": 0.2})
    assert _first_batch(custom.train)[0].shape[1:] == (10, 12, 3)


def test_image_folder_bad_files(tmp_path, capsys):
    root = write_images(tmp_path / "imgs", per_class=6)
    (root / "cat" / "notes.txt").write_text("not an image")
    good = (root / "dog" / "0.png").read_bytes()
    (root / "dog" / "broken.png").write_bytes(good[: len(good) // 2])
    with pytest.raises(ArgumentValueError) as info:
        zoo.data.load(root)
    message = str(info.value)
    assert "notes.txt" in message and "broken.png" in message and "skip_bad_files" in message
    data = zoo.data.load(root, skip_bad_files=True)
    assert sum(data.sizes.values()) == 12
    assert "skipped 2" in capsys.readouterr().out


def test_image_folder_structure_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ArgumentValueError, match="class subfolders"):
        zoo.data.load(tmp_path / "empty")
    one = write_images(tmp_path / "one", classes=("only",))
    with pytest.raises(ArgumentValueError, match="at least 2 classes"):
        zoo.data.load(one)
    mixed = write_images(tmp_path / "mixed", per_class=4)
    write_images(mixed, classes=("cat",), per_class=1, size=(20, 20), formats=("jpeg",))
    with pytest.raises(ArgumentValueError, match="image_size"):
        zoo.data.load(mixed)
    with pytest.raises(FileNotFoundError, match=r"No file or folder at .*no_such_folder"):
        zoo.data.load(str(tmp_path / "no_such_folder"))


# --------------------------------------------------------------------------- texts


def test_text_folder_as_raw_strings(text_folder):
    data = zoo.data.load(text_folder, tokenize=False, batch_size=4)
    assert data.input_dtype == "string" and data.input_shape == ()
    assert data.vocab_size is None and data.encoder is None
    texts, labels = _first_batch(data.train)
    assert texts.dtype == object and b"movie" in texts[0] and labels.shape == (4,)
    with pytest.raises(ArgumentTypeError, match="tokenize"):
        zoo.data.load(text_folder, tokenize="no")


def test_text_folder(text_folder):
    data = zoo.data.load(text_folder, sequence_length=12, vocab_size=50, batch_size=4)
    assert data.class_names == ("neg", "pos") and data.input_dtype == "int32"
    assert data.input_shape == (12,) and 4 < data.vocab_size <= 50
    x, _ = _first_batch(data.train)
    assert x.dtype == np.int32 and x.shape == (4, 12)
    encoded = data.transform(["good good unknownword"])
    assert encoded.shape == (1, 12) and encoded[0, 2] == 1 and encoded[0, 3] == 0


# --------------------------------------------------------------------------- TFDS


def test_tfds_with_mock_data(tmp_path):
    with tfds.testing.mock_data(num_examples=24):
        data = zoo.data.load("tfds:mnist", batch_size=8, data_dir=tmp_path, image_size=16)
        x, y = _first_batch(data.train)
    assert data.num_classes == 10 and data.input_shape == (16, 16, 1)
    assert x.shape == (8, 16, 16, 1) and x.max() <= 1.0 and y.dtype == np.int32


def test_tfds_not_prepared_fails_fast_with_instructions(tmp_path):
    start = time.perf_counter()
    with pytest.raises(ArgumentValueError) as info:
        zoo.data.load("tfds:mnist", data_dir=tmp_path)
    assert time.perf_counter() - start < 5
    message = str(info.value)
    assert "not prepared" in message and "tfds build mnist" in message and str(tmp_path) in message
    with pytest.raises(ArgumentValueError, match="Unknown TFDS dataset"):
        zoo.data.load("tfds:no_such_dataset_xyz", data_dir=tmp_path)


# --------------------------------------------------------------------------- settings


def test_folds_are_stratified_and_disjoint():
    data = zoo.data.load("digits", test_split=0.2)
    folds = list(data.folds(3))
    held_out = np.concatenate([fold._indices["validation"] for fold in folds])
    assert (
        len(held_out) == len(np.unique(held_out)) == data.sizes["train"] + data.sizes["validation"]
    )
    for fold in folds:
        share = np.bincount(fold.labels("validation")) / fold.sizes["validation"]
        assert share.min() > 0.08


def test_bad_settings():
    for kwargs, error in [
        ({"batch_size": 0}, ArgumentValueError),
        ({"test_split": 0.995}, ArgumentValueError),
        ({"image_size": (8,)}, ArgumentValueError),
        ({"augment": {"blur": 1}}, ArgumentValueError),
        ({"augment": "yes"}, ArgumentTypeError),
        ({"cache": "disk"}, ArgumentValueError),
        ({"task": "ranking"}, ArgumentValueError),
    ]:
        with pytest.raises(error, match="Received"):
            zoo.data.load("digits", **kwargs)
    with pytest.raises(ArgumentValueError, match="'digits'"):
        zoo.data.load("digit")
    with pytest.raises(ArgumentTypeError):
        zoo.data.load(42)


def test_text_folder_bad_files(text_folder, capsys):
    (text_folder / "pos" / "binary.txt").write_bytes(b"\xff\xfe\xfa not utf-8")
    (text_folder / "neg" / "notes.csv").write_text("a,b")
    with pytest.raises(ArgumentValueError) as info:
        zoo.data.load(text_folder)
    assert "binary.txt" in str(info.value) and "notes.csv" in str(info.value)
    data = zoo.data.load(text_folder, skip_bad_files=True, sequence_length=8)
    assert sum(data.sizes.values()) == 20
    assert "skipped" in capsys.readouterr().out


def test_labels_only_with_a_feature_array():
    with pytest.raises(ArgumentTypeError, match="feature array"):
        zoo.data.load(_frame(), np.zeros(60))


def test_an_infinite_table_cell_is_named_before_it_spoils_the_column(tmp_path):
    frame = _frame(40)
    frame.loc[7, "income"] = np.inf
    frame.to_csv(tmp_path / "table.csv", index=False)
    with pytest.raises(ArgumentValueError, match="Received") as info:
        zoo.data.load(str(tmp_path / "table.csv"), target="label")
    assert "infinity in column 'income' at line(s) [9] of table.csv" in str(info.value)
    with pytest.raises(ArgumentValueError, match=r"infinity in column 'income' at row\(s\) \[7\]"):
        zoo.data.load(frame, target="label")
