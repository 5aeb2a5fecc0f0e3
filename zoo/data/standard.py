"""Standard datasets by name, with their official train/test splits.

``zoo.data.load("fashion_mnist")`` reads the same files ``keras.datasets`` downloads,
from the first folder that has them:

1. ``$ZOO_DATA_DIR`` (each dataset's files directly there or in its own subfolder);
2. Keras's cache, ``$KERAS_HOME/datasets`` (default ``~/.keras/datasets``), laid out
   as ``keras.datasets`` leaves it;
3. well-known system copies: Debian's ``dataset-fashion-mnist`` package installs
   Zalando's files in ``/usr/share/datasets/fashion-mnist``;
4. unless ``ZOO_OFFLINE=1``: Keras's download (``keras.datasets.NAME.load_data()``),
   into Keras's cache.

A dataset that is nowhere on disk while offline fails at once with the file names and
the folders they may be placed in. The official test split is kept as it is; the
validation split is carved from the official training split. Images stay raw 0-255
pixels (saved models take them so); IMDB and Reuters, which Keras stores as word
ranks, become their texts again (lower-case words, as Keras's word index has them),
so zoo learns its vocabulary on the training split and saved models take strings.
"""

from __future__ import annotations

import dataclasses
import difflib
import gzip
import json
import os
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from zoo import _validation as v
from zoo.data.examples import DamagedSourceError, Examples, fingerprint

DATA_DIR_ENV = "ZOO_DATA_DIR"
OFFLINE_ENV = "ZOO_OFFLINE"
SYSTEM_DIRS = (Path("/usr/share/datasets"),)
"""Folders where system packages install datasets (Debian's ``dataset-*``)."""

#: The raw arrays of a dataset: (x_train, y_train, x_test, y_test, class names).
Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, tuple[str, ...]]


@dataclasses.dataclass(frozen=True)
class Standard:
    """One standard dataset: what it is, its files, where they may lie, how to read them.

    Attributes:
        name: the name ``zoo.data.load`` takes.
        about: one line on what it is.
        kind: ``"image"`` (uint8 pixels) or ``"text"`` (strings).
        files: the file names that must all be in one folder.
        folders: where under a data folder they may be (``""``: in it directly).
        sizes: official (train, test) sizes.
        keras_name: the ``keras.datasets`` module that downloads it.
        reader: reads the folder holding `files` into :data:`Arrays`.
        home: where the dataset is published.
    """

    name: str
    about: str
    kind: str
    files: tuple[str, ...]
    folders: tuple[str, ...]
    sizes: tuple[int, int]
    keras_name: str
    reader: Callable[[Path], Arrays]
    home: str


# -- readers -------------------------------------------------------------------------


def _damaged(path: Path, what: str, error: Any) -> DamagedSourceError:
    return DamagedSourceError(
        f"The dataset file {path} is damaged ({what}: {error}). Delete it and place an "
        f"intact copy there, or remove it so another copy is found. Received: {path}"
    )


def read_idx(path: Path) -> np.ndarray:
    """An IDX file (LeCun's MNIST format, gzipped or not) as a uint8 array."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as file:
            data = file.read()
    except (OSError, EOFError, zlib.error) as error:
        raise _damaged(path, "not a readable gzip file", error) from None
    if len(data) < 4 or data[:2] != b"\0\0" or data[2] != 0x08:
        raise _damaged(path, "not an IDX file of unsigned bytes", f"header {data[:4]!r}")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise _damaged(path, "truncated IDX header", f"{len(data)} bytes")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    expected = header + int(np.prod(shape))
    if len(data) != expected:
        raise _damaged(
            path, "IDX size does not match its header", f"{len(data)} bytes, {expected} expected"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def _images(path: Path, array: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """`array` checked to hold grey images of `shape` with 0-255 pixels, as uint8."""
    if array.ndim != 3 or array.shape[1:] != shape:
        raise _damaged(path, f"images of {shape[0]}x{shape[1]} pixels expected", array.shape)
    if array.dtype != np.uint8:
        in_range = array.size == 0 or (array.min() >= 0 and array.max() <= 255)
        if array.dtype.kind not in "iu" or not in_range:
            raise _damaged(path, "pixels must be integers 0-255", f"{array.dtype} values")
        array = array.astype("uint8")
    return array


def _labels(path: Path, labels: np.ndarray, count: int, split: str) -> np.ndarray:
    """`labels` (of the `split` examples) checked to be `count` integer class ids, as int32."""
    what = f"{split} labels" if split else "labels"
    if labels.ndim != 1 or len(labels) != count:
        raise _damaged(
            path,
            f"the count of {what} differs from the examples'",
            f"labels of shape {labels.shape}, {count} examples",
        )
    if labels.dtype.kind not in "iu":
        raise _damaged(path, f"{what} must be integer class ids", labels.dtype)
    return labels.astype("int32")


def _read_idx_split(folder: Path, prefix: str) -> tuple[np.ndarray, np.ndarray]:
    image_file = folder / f"{prefix}-images-idx3-ubyte.gz"
    label_file = folder / f"{prefix}-labels-idx1-ubyte.gz"
    images = _images(image_file, read_idx(image_file), (28, 28))
    labels = _labels(label_file, read_idx(label_file), len(images), prefix)
    return images[..., None], labels


FASHION_CLASSES = (
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


def _read_fashion_mnist(folder: Path) -> Arrays:
    x_train, y_train = _read_idx_split(folder, "train")
    x_test, y_test = _read_idx_split(folder, "t10k")
    return x_train, y_train, x_test, y_test, FASHION_CLASSES


def _read_npz(path: Path, keys: tuple[str, ...]) -> dict[str, np.ndarray]:
    import zipfile

    from zoo._compat.keras import load_restricted_npz

    try:
        arrays = load_restricted_npz(path)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as error:
        raise _damaged(path, "not a readable .npz archive", error) from None
    except Exception as error:  # pickle.UnpicklingError from a tampered member
        raise _damaged(path, "a member that is not a numpy array", error) from None
    missing = [key for key in keys if key not in arrays]
    if missing:
        raise _damaged(path, "arrays missing", ", ".join(missing))
    return arrays


def _read_mnist(folder: Path) -> Arrays:
    path = folder / "mnist.npz"
    arrays = _read_npz(path, ("x_train", "y_train", "x_test", "y_test"))
    x_train = _images(path, arrays["x_train"], (28, 28))
    x_test = _images(path, arrays["x_test"], (28, 28))
    return (
        x_train[..., None],
        _labels(path, arrays["y_train"], len(x_train), "train"),
        x_test[..., None],
        _labels(path, arrays["y_test"], len(x_test), "test"),
        tuple(str(d) for d in range(10)),
    )


def _cifar_batch(path: Path, label_key: bytes) -> tuple[np.ndarray, np.ndarray]:
    from zoo._compat.keras import load_restricted_pickle

    try:
        with open(path, "rb") as file:
            batch = load_restricted_pickle(file)
        data = np.asarray(batch[b"data"], dtype="uint8").reshape(-1, 3, 32, 32)
        labels = np.asarray(batch[label_key], dtype="int32")
    except Exception as error:  # unpickling, missing keys, wrong sizes
        raise _damaged(path, "not a CIFAR batch", f"{type(error).__name__}: {error}") from None
    if len(data) != len(labels):
        raise _damaged(path, "not a CIFAR batch", f"{len(data)} images, {len(labels)} labels")
    return data.transpose(0, 2, 3, 1), labels


def _cifar_names(path: Path, key: bytes) -> tuple[str, ...]:
    from zoo._compat.keras import load_restricted_pickle

    try:
        with open(path, "rb") as file:
            return tuple(name.decode() for name in load_restricted_pickle(file)[key])
    except Exception as error:
        raise _damaged(path, "not CIFAR metadata", f"{type(error).__name__}: {error}") from None


def _read_cifar10(folder: Path) -> Arrays:
    parts = [_cifar_batch(folder / f"data_batch_{i}", b"labels") for i in range(1, 6)]
    x_test, y_test = _cifar_batch(folder / "test_batch", b"labels")
    return (
        np.concatenate([x for x, _ in parts]),
        np.concatenate([y for _, y in parts]),
        x_test,
        y_test,
        _cifar_names(folder / "batches.meta", b"label_names"),
    )


def _read_cifar100(folder: Path) -> Arrays:
    x_train, y_train = _cifar_batch(folder / "train", b"fine_labels")
    x_test, y_test = _cifar_batch(folder / "test", b"fine_labels")
    names = _cifar_names(folder / "meta", b"fine_label_names")
    return x_train, y_train, x_test, y_test, names


def _words(folder: Path, index_file: str) -> np.ndarray:
    path = folder / index_file
    try:
        index = json.loads(path.read_text(encoding="utf-8"))
        ranks = list(index.values())
        if not all(type(rank) is int and rank >= 0 for rank in ranks):
            raise ValueError("ranks that are not integers >= 0")
        words = np.empty(max(ranks) + 1, dtype=object)
        words[:] = ""
        for word, rank in index.items():
            words[rank] = word
    except (OSError, ValueError, AttributeError, TypeError) as error:
        raise _damaged(path, "not a word index (JSON of word -> rank)", error) from None
    return words


def _texts(sequences: np.ndarray, words: np.ndarray, path: Path) -> np.ndarray:
    texts = []
    try:
        for sequence in sequences:
            ranks = np.asarray(sequence, dtype="int64")
            if ranks.ndim != 1 or (ranks.size and ranks.min() < 0):
                raise ValueError(f"a text of ranks {ranks.tolist()[:10]}")
            texts.append(" ".join(words[ranks]))
    except (IndexError, ValueError, TypeError) as error:
        raise _damaged(path, "word ranks that its word index lacks", error) from None
    array = np.empty(len(texts), dtype=object)  # not "<U": that pads every text to the longest
    array[:] = texts
    return array


def _read_imdb(folder: Path) -> Arrays:
    path = folder / "imdb.npz"
    arrays = _read_npz(path, ("x_train", "y_train", "x_test", "y_test"))
    words = _words(folder, "imdb_word_index.json")
    x_train = _texts(arrays["x_train"], words, path)
    x_test = _texts(arrays["x_test"], words, path)
    return (
        x_train,
        _labels(path, arrays["y_train"], len(x_train), "train"),
        x_test,
        _labels(path, arrays["y_test"], len(x_test), "test"),
        ("negative", "positive"),
    )


REUTERS_SEED = 113
REUTERS_TEST_FRACTION = 0.2


def _read_reuters(folder: Path) -> Arrays:
    """Keras's split: shuffled with seed 113, the last 20% for testing (8,982/2,246)."""
    import keras

    path = folder / "reuters.npz"
    arrays = _read_npz(path, ("x", "y"))
    labels = _labels(path, arrays["y"], len(arrays["x"]), "")
    order = np.arange(len(arrays["x"]))
    np.random.RandomState(REUTERS_SEED).shuffle(order)
    texts = _texts(arrays["x"][order], _words(folder, "reuters_word_index.json"), path)
    labels = labels[order]
    cut = int(len(texts) * (1 - REUTERS_TEST_FRACTION))
    names = tuple(keras.datasets.reuters.get_label_names())
    return texts[:cut], labels[:cut], texts[cut:], labels[cut:], names


_IDX = tuple(
    f"{split}-{what}-idx{3 if what == 'images' else 1}-ubyte.gz"
    for split in ("train", "t10k")
    for what in ("images", "labels")
)

DATASETS: dict[str, Standard] = {
    s.name: s
    for s in (
        Standard(
            "mnist",
            "28x28 grey handwritten digits, 10 classes (LeCun et al.)",
            "image",
            ("mnist.npz",),
            ("", "mnist"),
            (60_000, 10_000),
            "mnist",
            _read_mnist,
            "http://yann.lecun.com/exdb/mnist/",
        ),
        Standard(
            "fashion_mnist",
            "28x28 grey photos of clothing, 10 classes (Zalando's Fashion-MNIST)",
            "image",
            _IDX,
            ("fashion-mnist", "fashion_mnist"),
            (60_000, 10_000),
            "fashion_mnist",
            _read_fashion_mnist,
            "https://github.com/zalandoresearch/fashion-mnist",
        ),
        Standard(
            "cifar10",
            "32x32 colour photos, 10 classes (Krizhevsky's CIFAR-10)",
            "image",
            (*(f"data_batch_{i}" for i in range(1, 6)), "test_batch", "batches.meta"),
            ("cifar-10-batches-py", "cifar-10-batches-py-target/cifar-10-batches-py"),
            (50_000, 10_000),
            "cifar10",
            _read_cifar10,
            "https://www.cs.toronto.edu/~kriz/cifar.html",
        ),
        Standard(
            "cifar100",
            "32x32 colour photos, 100 fine classes (Krizhevsky's CIFAR-100)",
            "image",
            ("train", "test", "meta"),
            ("cifar-100-python", "cifar-100-python-target/cifar-100-python"),
            (50_000, 10_000),
            "cifar100",
            _read_cifar100,
            "https://www.cs.toronto.edu/~kriz/cifar.html",
        ),
        Standard(
            "imdb",
            "movie reviews, positive or negative (Maas et al. 2011), as texts",
            "text",
            ("imdb.npz", "imdb_word_index.json"),
            ("", "imdb"),
            (25_000, 25_000),
            "imdb",
            _read_imdb,
            "https://ai.stanford.edu/~amaas/data/sentiment/",
        ),
        Standard(
            "reuters",
            "Reuters-21578 newswires, 46 topics (Keras's split), as texts",
            "text",
            ("reuters.npz", "reuters_word_index.json"),
            ("", "reuters"),
            (8_982, 2_246),
            "reuters",
            _read_reuters,
            "https://keras.io/api/datasets/reuters/",
        ),
    )
}
"""The standard datasets, by name."""


# -- finding the files ---------------------------------------------------------------


def keras_datasets_dir() -> Path:
    """Keras's download folder: ``$KERAS_HOME/datasets`` or ``~/.keras/datasets``."""
    home = os.environ.get("KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras"))
    return Path(home) / "datasets"


def search_roots() -> list[Path]:
    """The data folders searched, in order: ``$ZOO_DATA_DIR``, Keras's cache, system copies."""
    roots = []
    if os.environ.get(DATA_DIR_ENV):
        roots.append(Path(os.environ[DATA_DIR_ENV]).expanduser())
    roots.append(keras_datasets_dir())
    return roots + list(SYSTEM_DIRS)


def candidate_folders(name: str) -> list[Path]:
    """Every folder where `name`'s files may be placed, in the order they are searched."""
    spec = DATASETS[name]
    return [root / sub if sub else root for root in search_roots() for sub in spec.folders]


def find(name: str) -> Path | None:
    """The first folder holding all of `name`'s files, or None."""
    spec = DATASETS[name]
    return next(
        (f for f in candidate_folders(name) if all((f / n).is_file() for n in spec.files)), None
    )


def _not_found(name: str, why: str) -> v.ArgumentValueError:
    spec = DATASETS[name]
    places = "; ".join(str(folder) for folder in candidate_folders(name))
    return v.ArgumentValueError(
        f"Dataset {name!r} is not on this machine and {why}. Place its files "
        f"({', '.join(spec.files)}, as keras.datasets.{spec.keras_name} downloads them) in "
        f"one of: {places}; or set ${DATA_DIR_ENV} to a folder holding them; or run "
        f'`python -c "import keras; keras.datasets.{spec.keras_name}.load_data()"` on a '
        f"connected machine and copy {keras_datasets_dir()} here. Received: source={name!r}"
    )


def _download(name: str) -> Path:
    """Keras's download into its cache, with zoo's error on failure."""
    import keras

    from zoo._compat.keras import is_download_failure

    module = getattr(keras.datasets, DATASETS[name].keras_name)
    try:
        module.load_data()
        if name in ("imdb", "reuters"):
            module.get_word_index()
    except Exception as error:
        if is_download_failure(error) or isinstance(error, OSError):
            raise _not_found(name, f"its download failed ({error})") from None
        raise
    found = find(name)
    if found is None:  # Keras changed where it keeps the files
        raise _not_found(name, "Keras downloaded it where zoo does not look")
    return found


def locate(name: str) -> Path:
    """The folder of `name`'s files: found on disk, else downloaded (unless offline)."""
    found = find(name)
    if found is not None:
        return found
    if os.environ.get(OFFLINE_ENV) == "1":
        raise _not_found(name, f"{OFFLINE_ENV}=1 forbids downloading it")
    return _download(name)


def check_name(name: str) -> Standard:
    """The dataset's row, or an error listing close matches."""
    if name in DATASETS:
        return DATASETS[name]
    close = difflib.get_close_matches(name, list(DATASETS), n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
    raise v.ArgumentValueError(
        f"Unknown standard dataset {name!r}.{hint} Known: {', '.join(DATASETS)}. "
        f"Received: source={name!r}"
    )


def examples(
    name: str, *, vocab_size: int = 20_000, sequence_length: int = 200, tokenize: bool = True
) -> tuple[Examples, dict[str, np.ndarray]]:
    """All of `name`'s examples (train, then test) and each official split's positions.

    Texts are tokenised with a vocabulary of `vocab_size` learned on the training
    split and cut to `sequence_length` tokens, or kept raw if not `tokenize`.
    """
    spec = check_name(name)
    folder = locate(name)
    x_train, y_train, x_test, y_test, class_names = spec.reader(folder)
    for split, labels in (("train", y_train), ("test", y_test)):
        if len(labels) and (labels.min() < 0 or labels.max() >= len(class_names)):
            raise _damaged(
                folder,
                f"{split} labels outside 0..{len(class_names) - 1}",
                f"{labels.min()}..{labels.max()}",
            )
    x = np.concatenate([x_train, x_test])
    y = np.concatenate([y_train, y_test]).astype("int32")
    positions = {
        "train": np.arange(len(y_train)),
        "test": np.arange(len(y_train), len(y)),
    }
    sizes = f"{len(y_train):,} train / {len(y_test):,} test"
    common = {
        "y": y,
        "task": "classification",
        "class_names": class_names,
        "source": f"{name} ({spec.about}; official split {sizes}; files in {folder})",
        "fingerprint": fingerprint(x, y),
    }
    if spec.kind == "image":
        pixels = {"standard": name, "pixels": True}
        return Examples(x=x, kind="array", extra=pixels, **common), positions
    if not tokenize:
        return Examples(x=x, kind="raw_text", extra={"standard": name}, **common), positions
    from zoo.data.text import TextEncoder

    encoder = lambda: TextEncoder(vocab_size, sequence_length)  # noqa: E731
    text = Examples(x=x, kind="text", make_encoder=encoder, extra={"standard": name}, **common)
    return text, positions
