"""Standard datasets by name (``zoo.data.load("fashion_mnist")``) on tiny format-exact fakes.

Each fake has the file layout ``keras.datasets`` leaves on disk (npz, gzipped IDX,
pickled CIFAR batches, word indexes), so the real readers run; nothing is downloaded.
"""

import gzip
import json
import os
import pickle
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import zoo
from zoo import cli
from zoo._validation import ArgumentValueError, DamagedFileError
from zoo.data import standard
from zoo.data.standard import _download as real_download  # before conftest's patch

N_TRAIN, N_TEST = 30, 10
FASHION_NAMES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
CIFAR10_NAMES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
WORDS = ("the", "movie", "was", "good", "bad", "plot", "actors", "great", "awful", "film")

# ----------------------------------------------------------------------------- fakes


def _labels(n, classes, rng):
    """`n` labels in which each of `classes` classes appears at least twice."""
    return rng.permutation(
        np.concatenate([np.arange(classes)] * 2 + [rng.integers(0, classes, n - 2 * classes)])
    )


def idx_bytes(array, *, type_code=0x08):
    """An IDX file: magic 0x0000<type><ndim>, big-endian dimensions, then the bytes."""
    header = bytes([0, 0, type_code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def write_mnist(folder, seed=0):
    rng = np.random.default_rng(seed)
    arrays = {
        "x_train": rng.integers(0, 256, (N_TRAIN, 28, 28), dtype=np.uint8),
        "y_train": _labels(N_TRAIN, 10, rng).astype(np.uint8),
        "x_test": rng.integers(0, 256, (N_TEST, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, N_TEST).astype(np.uint8),
    }
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(folder / "mnist.npz", **arrays)
    return arrays


def write_fashion_mnist(folder, seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for prefix, n in (("train", N_TRAIN), ("t10k", N_TEST)):
        x = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        y = _labels(n, 10, rng) if prefix == "train" else rng.integers(0, 10, n)
        (folder / f"{prefix}-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx_bytes(x)))
        (folder / f"{prefix}-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(y)))
        arrays[prefix] = (x, y)
    return arrays


def _pickle(path, obj):
    with open(path, "wb") as file:
        # Protocol 4 rebuilds arrays with the globals the real (Python 2) batches use;
        # Python 3's protocol 2 would add _codecs.encode, and 5 numpy's _frombuffer.
        pickle.dump(obj, file, protocol=4)


def write_cifar10(folder, seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    per_batch = N_TRAIN // 5
    y_train = _labels(N_TRAIN, 10, rng)
    x_train = rng.integers(0, 256, (N_TRAIN, 3072), dtype=np.uint8)
    for i in range(5):
        part = slice(i * per_batch, (i + 1) * per_batch)
        batch = {b"data": x_train[part], b"labels": y_train[part].tolist()}
        _pickle(folder / f"data_batch_{i + 1}", batch)
    x_test = rng.integers(0, 256, (N_TEST, 3072), dtype=np.uint8)
    y_test = rng.integers(0, 10, N_TEST)
    _pickle(folder / "test_batch", {b"data": x_test, b"labels": y_test.tolist()})
    _pickle(folder / "batches.meta", {b"label_names": [n.encode() for n in CIFAR10_NAMES]})
    return x_train, y_train, x_test, y_test


def write_cifar100(folder, seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", N_TRAIN), ("test", N_TEST)):
        data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        labels = rng.integers(0, 100, n).tolist()
        _pickle(folder / split, {b"data": data, b"fine_labels": labels, b"coarse_labels": labels})
    names = [f"class_{i:02d}".encode() for i in range(100)]
    _pickle(folder / "meta", {b"fine_label_names": names, b"coarse_label_names": names[:20]})


def _ragged(sequences):
    array = np.empty(len(sequences), dtype=object)
    array[:] = sequences
    return array


def _word_index(folder, file_name):
    index = {word: rank for rank, word in enumerate(WORDS, start=1)}
    (folder / file_name).write_text(json.dumps(index), encoding="utf-8")
    return index


def write_imdb(folder, seed=0):
    """Reviews of word ranks; 'film' (rank 10) is only in the test reviews."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    index = _word_index(folder, "imdb_word_index.json")
    arrays = {}
    for split, n in (("train", N_TRAIN), ("test", N_TEST)):
        top = 10 if split == "test" else 9
        arrays[f"x_{split}"] = _ragged(
            [rng.integers(1, top + 1, rng.integers(3, 8)).tolist() for _ in range(n)]
        )
        arrays[f"y_{split}"] = np.arange(n) % 2
    np.savez(folder / "imdb.npz", **arrays)
    return arrays, {rank: word for word, rank in index.items()}


def write_reuters(folder, n=50, seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    index = _word_index(folder, "reuters_word_index.json")
    x = _ragged([rng.integers(1, 11, rng.integers(3, 8)).tolist() for _ in range(n)])
    y = np.arange(n) % 4  # topics 0-3 of Keras's 46
    np.savez(folder / "reuters.npz", x=x, y=y)
    return x, y, {rank: word for word, rank in index.items()}


def write_all(root):
    """Every standard dataset in one folder, laid out as $ZOO_DATA_DIR may hold them."""
    write_mnist(root)
    write_fashion_mnist(root / "fashion-mnist")
    write_cifar10(root / "cifar-10-batches-py")
    write_cifar100(root / "cifar-100-python")
    write_imdb(root)
    write_reuters(root)
    return root


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """An empty $ZOO_DATA_DIR; Keras's cache and the system copies are empty too."""
    root = tmp_path / "zoo_data"
    root.mkdir()
    monkeypatch.setenv("ZOO_DATA_DIR", str(root))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.delenv("ZOO_OFFLINE", raising=False)
    monkeypatch.setattr(standard, "SYSTEM_DIRS", ())
    return root


def _batches(dataset):
    xs, ys = zip(*dataset.as_numpy_iterator(), strict=True)
    return np.concatenate(xs), np.concatenate(ys)


# ------------------------------------------------------------------------- by name


def test_mnist_keeps_its_official_split_and_scales_pixels(data_dir):
    arrays = write_mnist(data_dir)
    data = zoo.data.load("mnist", batch_size=8)
    assert data.sizes["test"] == N_TEST
    assert data.sizes["train"] + data.sizes["validation"] == N_TRAIN
    assert data.input_shape == (28, 28, 1) and data.task == "classification"
    assert data.class_names == tuple("0123456789")
    x, y = _batches(data.test)  # the official test split, in its order
    assert x.dtype == np.float32 and x.min() >= 0.0 and x.max() <= 1.0
    np.testing.assert_allclose(x, arrays["x_test"][..., None] / np.float32(255), rtol=1e-6)
    np.testing.assert_array_equal(y, arrays["y_test"])
    train_x, _ = _batches(data.train)
    assert train_x.dtype == np.float32 and train_x.max() <= 1.0 and train_x.max() > 0.5
    assert data.describe()["split_sources"] == {
        "train": "official train of mnist",
        "validation": "carved from train",
        "test": "official test of mnist",
    }
    assert f"files in {data_dir}" in data.source
    assert data.inputs["kind"] == "image"  # saved models take 0-255 pixels


def test_fingerprint_is_stable_and_follows_the_labels(data_dir):
    arrays = write_mnist(data_dir)
    first = zoo.data.load("mnist").fingerprint
    assert zoo.data.load("mnist").fingerprint == first
    arrays["y_train"][0] = (arrays["y_train"][0] + 1) % 10
    np.savez(data_dir / "mnist.npz", **arrays)
    assert zoo.data.load("mnist").fingerprint != first


def test_fashion_mnist_reads_the_four_idx_files(data_dir):
    arrays = write_fashion_mnist(data_dir / "fashion-mnist")
    data = zoo.data.load("fashion_mnist")
    assert data.class_names == FASHION_NAMES and data.num_classes == 10
    assert data.input_shape == (28, 28, 1)
    assert (
        data.sizes["test"] == N_TEST and data.sizes["train"] + data.sizes["validation"] == N_TRAIN
    )
    x, y = _batches(data.test)
    np.testing.assert_allclose(x[..., 0] * 255, arrays["t10k"][0], atol=1e-3)
    np.testing.assert_array_equal(y, arrays["t10k"][1])
    assert data.describe()["split_sources"]["test"] == "official test of fashion_mnist"


def test_cifar10_batches_become_channels_last_images(data_dir):
    _, y_train, x_test, y_test = write_cifar10(data_dir / "cifar-10-batches-py")
    data = zoo.data.load("cifar10")
    assert data.class_names == CIFAR10_NAMES
    assert data.input_shape == (32, 32, 3)
    assert (
        data.sizes["test"] == N_TEST and data.sizes["train"] + data.sizes["validation"] == N_TRAIN
    )
    x, y = _batches(data.test)
    expected = x_test.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1) / np.float32(255)
    np.testing.assert_allclose(x, expected, rtol=1e-6)
    np.testing.assert_array_equal(y, y_test)
    raw, _ = standard.examples("cifar10")
    np.testing.assert_array_equal(raw.y[:N_TRAIN], y_train)  # batches 1..5 in order
    assert data.describe()["split_sources"]["validation"] == "carved from train"


def test_cifar100_uses_the_fine_labels_and_their_names(data_dir):
    write_cifar100(data_dir / "cifar-100-python")
    data = zoo.data.load("cifar100", validation_split=0)
    assert data.num_classes == 100 and data.class_names[7] == "class_07"
    assert data.sizes == {"train": N_TRAIN, "validation": 0, "test": N_TEST}
    assert data.input_shape == (32, 32, 3)
    assert data.describe()["split_sources"] == {
        "train": "official train of cifar100",
        "test": "official test of cifar100",
    }


def test_imdb_becomes_texts_with_a_vocabulary_learned_on_train(data_dir):
    arrays, words = write_imdb(data_dir)
    data = zoo.data.load("imdb", sequence_length=8)
    assert data.class_names == ("negative", "positive") and data.input_shape == (8,)
    assert data.input_dtype == "int32" and data.inputs["kind"] == "text"
    assert (
        data.sizes["test"] == N_TEST and data.sizes["train"] + data.sizes["validation"] == N_TRAIN
    )
    vocabulary = data.encoder.vocabulary
    assert "good" in vocabulary and "film" not in vocabulary  # 'film' is only in test
    raw = zoo.data.load("imdb", tokenize=False)
    assert raw.input_dtype == "string"
    texts, labels = _batches(raw.test)
    first = " ".join(words[rank] for rank in arrays["x_test"][0])
    assert texts[0].decode() == first
    np.testing.assert_array_equal(labels, arrays["y_test"])
    assert raw.describe()["split_sources"]["test"] == "official test of imdb"


def test_reuters_follows_keras_split_and_topic_names(data_dir):
    import keras

    x, y, words = write_reuters(data_dir)
    data = zoo.data.load("reuters", tokenize=False, validation_split=0)
    assert data.class_names == tuple(keras.datasets.reuters.get_label_names())
    assert data.num_classes == 46
    # keras.datasets.reuters.load_data: shuffled by RandomState(113), the first 80% train.
    order = np.arange(len(x))
    np.random.RandomState(113).shuffle(order)
    cut = int(len(x) * 0.8)
    assert data.sizes == {"train": cut, "validation": 0, "test": len(x) - cut}
    texts, labels = _batches(data.test)
    expected = [" ".join(words[rank] for rank in x[i]) for i in order[cut:]]
    assert [t.decode() for t in texts] == expected
    np.testing.assert_array_equal(labels, y[order[cut:]])
    carved = zoo.data.load("reuters", tokenize=False)  # validation stratified from train
    assert carved.sizes["train"] + carved.sizes["validation"] == cut


# ----------------------------------------------------------------------- search order


def test_zoo_data_dir_wins_over_keras_cache(data_dir, tmp_path):
    keras_copy = tmp_path / "keras_home" / "datasets"
    write_mnist(keras_copy, seed=1)
    assert standard.find("mnist") == keras_copy
    write_mnist(data_dir, seed=2)
    assert standard.find("mnist") == data_dir
    assert f"files in {data_dir}" in zoo.data.load("mnist").source


def test_keras_3_cifar_layout_is_found(data_dir, tmp_path):
    nested = tmp_path / "keras_home" / "datasets" / "cifar-10-batches-py-target"
    write_cifar10(nested / "cifar-10-batches-py")
    assert standard.find("cifar10") == nested / "cifar-10-batches-py"
    assert zoo.data.load("cifar10").sizes["test"] == N_TEST


# ----------------------------------------------------------------------------- offline


@pytest.mark.parametrize("name", sorted(standard.DATASETS))
def test_offline_missing_dataset_names_files_and_folders(data_dir, monkeypatch, name):
    monkeypatch.setenv("ZOO_OFFLINE", "1")  # conftest's _download would fail the test if called
    with pytest.raises(ArgumentValueError) as info:
        zoo.data.load(name)
    message = str(info.value)
    for file_name in standard.DATASETS[name].files:
        assert file_name in message
    folders = standard.candidate_folders(name)
    assert str(data_dir) in str(folders[0])
    for folder in folders:
        assert str(folder) in message
    assert "$ZOO_DATA_DIR" in message and "ZOO_OFFLINE=1" in message
    assert message.endswith(f"Received: source={name!r}")


def test_a_failed_keras_download_becomes_zoos_error(data_dir, monkeypatch):
    import keras

    def no_network():
        raise Exception(
            "URL fetch failure on https://x: None -- [Errno -2] Name or service not known"
        )

    monkeypatch.setattr(standard, "_download", real_download)
    monkeypatch.setattr(keras.datasets.mnist, "load_data", no_network)
    with pytest.raises(ArgumentValueError, match="its download failed") as info:
        zoo.data.load("mnist")
    message = str(info.value)
    assert "mnist.npz" in message and str(data_dir) in message and "Name or service" in message

    def bug():
        raise RuntimeError("not a download failure")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", bug)
    with pytest.raises(RuntimeError, match="not a download failure"):  # not hidden
        zoo.data.load("mnist")


# ----------------------------------------------------------------------- damaged files


class _Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _damage_cases(root, tmp_path):
    """(dataset, file to damage, how) for each kind of damage."""
    fashion = root / "fashion-mnist"

    def truncated_gz():
        path = fashion / "train-images-idx3-ubyte.gz"
        path.write_bytes(path.read_bytes()[:200])
        return path

    def bad_deflate():  # a gzip header, then an invalid deflate block (zlib.error)
        path = fashion / "t10k-labels-idx1-ubyte.gz"
        path.write_bytes(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff\xff\xff\xff")
        return path

    def wrong_magic():
        path = fashion / "t10k-images-idx3-ubyte.gz"
        data = bytearray(gzip.decompress(path.read_bytes()))
        data[2] = 0x0D  # float32, not unsigned bytes
        path.write_bytes(gzip.compress(bytes(data)))
        return path

    def label_count():
        path = fashion / "train-labels-idx1-ubyte.gz"
        path.write_bytes(gzip.compress(idx_bytes(np.zeros(N_TRAIN - 1, np.uint8))))
        return path

    def mnist_arrays(**changes):
        path = root / "mnist.npz"
        arrays = dict(np.load(path))
        np.savez(path, **(arrays | {k: f(arrays[k]) for k, f in changes.items()}))
        return path

    def not_a_zip():
        path = root / "mnist.npz"
        path.write_bytes(b"this is not a zip archive")
        return path

    def pickled_code():
        path = root / "cifar-10-batches-py" / "data_batch_3"
        _pickle(path, {b"data": _Exploit(tmp_path / "hacked"), b"labels": [0]})
        return path

    def not_json():
        path = root / "imdb_word_index.json"
        path.write_text("{'the': 1,", encoding="utf-8")
        return path

    def bad_ranks():
        path = root / "reuters_word_index.json"
        path.write_text(json.dumps({"the": 1, "plot": "two", "film": -3}), encoding="utf-8")
        return path

    def ranks_beyond_the_index():
        path = root / "reuters.npz"
        np.savez(path, x=_ragged([[1, 2], [3, 99]] * 5), y=np.arange(10) % 2)
        return path

    return {
        "truncated gzip": ("fashion_mnist", truncated_gz),
        "wrong IDX magic": ("fashion_mnist", wrong_magic),
        "label count": ("fashion_mnist", label_count),
        "npz not a zip": ("mnist", not_a_zip),
        "gzip with a bad deflate block": ("fashion_mnist", bad_deflate),
        "npz label count": ("mnist", lambda: mnist_arrays(y_train=lambda y: y[:-1])),
        "npz flat images": ("mnist", lambda: mnist_arrays(x_test=lambda x: x.reshape(-1, 784))),
        "npz float pixels": ("mnist", lambda: mnist_arrays(x_train=lambda x: x / 255.0)),
        "npz float labels": ("mnist", lambda: mnist_arrays(y_test=lambda y: y + 0.5)),
        "word ranks not integers": ("reuters", bad_ranks),
        "word ranks beyond the index": ("reuters", ranks_beyond_the_index),
        "pickled os.system": ("cifar10", pickled_code),
        "word index not JSON": ("imdb", not_json),
    }


DAMAGE = [
    "truncated gzip",
    "gzip with a bad deflate block",
    "wrong IDX magic",
    "label count",
    "npz not a zip",
    "npz label count",
    "npz flat images",
    "npz float pixels",
    "npz float labels",
    "pickled os.system",
    "word index not JSON",
    "word ranks not integers",
    "word ranks beyond the index",
]


@pytest.mark.parametrize("case", DAMAGE)
def test_damaged_files_are_named(data_dir, tmp_path, case):
    write_all(data_dir)
    name, damage = _damage_cases(data_dir, tmp_path)[case]
    path = damage()
    with pytest.raises(DamagedFileError) as info:
        zoo.data.load(name, validation_split=0)
    assert str(path) in str(info.value)
    assert not (tmp_path / "hacked").exists()  # the pickled command never ran


# ------------------------------------------------------------------ names and listings


@pytest.mark.parametrize(
    ("typo", "meant"), [("fashion-mnist", "fashion_mnist"), ("cifar_10", "cifar10")]
)
def test_unknown_name_suggests_close_matches(data_dir, typo, meant):
    with pytest.raises(ArgumentValueError, match=f"Did you mean '{meant}'"):
        zoo.data.load(typo)


def test_list_datasets_says_what_is_on_disk(data_dir):
    import pandas as pd

    write_fashion_mnist(data_dir / "fashion-mnist")
    write_mnist(data_dir)
    table = zoo.data.list_datasets()
    names = {"mnist", "fashion_mnist", "cifar10", "cifar100", "imdb", "reuters", "digits", "zen"}
    assert set(table["name"]) == names
    on_disk = dict(zip(table["name"], table["on_disk"], strict=True))
    assert on_disk["fashion_mnist"] == str(data_dir / "fashion-mnist")
    assert on_disk["mnist"] == str(data_dir)
    assert pd.isna(on_disk["cifar10"]) and on_disk["digits"] == "bundled"
    sizes = table.set_index("name").loc["fashion_mnist", ["train", "test"]].tolist()
    assert sizes == [60_000, 10_000]


def test_datasets_command_prints_the_table_without_tensorflow(data_dir, capsys):
    write_fashion_mnist(data_dir / "fashion-mnist")
    assert cli.main(["datasets"]) == 0
    out = capsys.readouterr().out
    assert "fashion_mnist" in out and "60,000" in out and str(data_dir / "fashion-mnist") in out
    assert "reuters" in out and "zen" in out
    code = (
        "import sys, zoo.cli\n"
        "assert zoo.cli.main(['datasets']) == 0\n"
        "assert 'tensorflow' not in sys.modules, 'tensorflow imported'\n"
    )
    env = {**os.environ, "ZOO_DATA_DIR": str(data_dir)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert "fashion_mnist" in result.stdout


# ------------------------------------------------------------- the real Fashion-MNIST

REAL_FASHION = Path("/usr/share/datasets/fashion-mnist")
REAL_FILES = [REAL_FASHION / name for name in standard.DATASETS["fashion_mnist"].files]


@pytest.mark.skipif(
    not all(path.is_file() for path in REAL_FILES),
    reason="Debian package dataset-fashion-mnist not installed "
    "(apt-get install dataset-fashion-mnist)",
)
def test_the_real_fashion_mnist(tmp_path, monkeypatch):
    monkeypatch.delenv("ZOO_DATA_DIR", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))  # the system copy only
    examples, positions = standard.examples("fashion_mnist")
    assert examples.x.shape == (70_000, 28, 28, 1) and examples.x.dtype == np.uint8
    assert examples.class_names == FASHION_NAMES
    assert len(positions["train"]) == 60_000 and len(positions["test"]) == 10_000
    np.testing.assert_array_equal(np.bincount(examples.y[positions["train"]]), [6_000] * 10)
    np.testing.assert_array_equal(np.bincount(examples.y[positions["test"]]), [1_000] * 10)
    assert str(REAL_FASHION) in examples.source
    data = zoo.data.load("fashion_mnist")
    assert data.input_shape == (28, 28, 1) and data.class_names == FASHION_NAMES
    assert data.sizes["train"] + data.sizes["validation"] == 60_000
    assert data.sizes["test"] == 10_000
    assert data.fingerprint == examples.fingerprint == "02de49d438289bbd"  # pinned


# ----------------------------------------------------------------------------- a card


def test_training_on_a_standard_dataset_records_its_official_test(data_dir):
    write_mnist(data_dir)
    assert list(zoo.list_architectures("mlp_tiny")["name"]) == ["mlp_tiny"]
    result = zoo.train("mlp_tiny", zoo.data.load("mnist"), epochs=1, verbose=0, output="mnist")
    card = json.loads((result.path / "zoo.json").read_text())
    assert card["data"]["split_sources"]["test"] == "official test of mnist"
    assert card["data"]["sizes"]["test"] == N_TEST
