"""The inputs an artifact is checked on, next to the Keras model.

A user's sample (checked and cast to what the model takes), random inputs for a plain
model, or raw inputs for a model that takes them: 0-255 pixels (at another size too when
it resizes), texts of its vocabulary, table rows with every category and an unseen one.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import keras
import numpy as np

from zoo import _validation as v
from zoo._compat.keras import all_layers
from zoo.exporting.encodings import find_layer, table_encoding
from zoo.exporting.signatures import is_string, signature_structure, spec_names

SAMPLE_BATCH = 2
MAX_SAMPLE_ROWS = 16


@dataclasses.dataclass
class Check:
    """Positional arguments for the artifact and the Keras model's outputs on them."""

    args: list[Any]
    expected: dict[str, np.ndarray]


def sample_args(model: keras.Model, signature: list[Any], sample: Any) -> list[Any]:
    """The sample as positional arguments shaped like `signature` (dtype-cast, checked)."""
    if sample is None:
        return _random_sample(model, signature)
    structure = signature_structure(signature)
    specs = keras.tree.flatten(structure)
    names = spec_names(signature)
    if isinstance(structure, dict) and hasattr(sample, "columns") and hasattr(sample, "iloc"):
        # A pandas DataFrame of raw table rows: the model's columns (others are ignored).
        sample = {key: sample[key].to_numpy() for key in structure if key in sample.columns}
    if isinstance(sample, dict) and not isinstance(structure, dict):
        unknown = sorted(set(sample) - set(names))
        if unknown or len(sample) != len(names):
            raise v.invalid(
                "sample", f"a dict with one array per model input, keyed {names}", sorted(sample)
            )
        arrays = [sample[name] for name in names]
    elif isinstance(sample, dict):
        if sorted(sample) != sorted(structure):
            raise v.invalid("sample", f"a dict keyed {sorted(structure)}", sorted(sample))
        arrays = keras.tree.flatten(sample)
    elif isinstance(sample, (list, tuple)) and len(specs) > 1:
        arrays = list(sample)
    else:
        arrays = [sample]
    if len(arrays) != len(specs):
        raise v.invalid(
            "sample", f"{len(specs)} arrays, one per model input ({', '.join(names)})", sample
        )
    checked = []
    for name, spec, array in zip(names, specs, arrays, strict=True):
        try:
            array = np.asarray(array)
        except (TypeError, ValueError):
            raise v.invalid("sample", "numpy arrays (or a dict or list of them)", array) from None
        expected = tuple(spec.shape)
        fits = array.ndim == len(expected) and all(
            d is None or d == a for d, a in zip(expected[1:], array.shape[1:], strict=True)
        )
        if not fits or array.shape[0] < 1:
            raise v.invalid(
                "sample",
                f"arrays the model takes: input {name!r} has shape {expected} "
                "(None: any size; the first axis is the batch)",
                f"array of shape {array.shape}",
            )
        if is_string(spec):  # what Keras and TensorFlow take: an object array of str
            checked.append(array.astype(str).astype(object))
        else:
            checked.append(array.astype(keras.backend.standardize_dtype(spec.dtype)))
    return [keras.tree.pack_sequence_as(structure, checked)] if len(signature) == 1 else checked


def _token_range(model: keras.Model) -> int:
    """An exclusive bound for integer inputs (token ids, class labels).

    The vocabulary size, else the smallest embedding table (a conditional GAN's
    classes), else 10.
    """
    from zoo import registry

    layers = all_layers(model)
    vocab = [getattr(owner, "vocab_size", None) for owner in layers]
    vocab.append((registry.get_spec(model) or {}).get("arguments", {}).get("vocab_size"))
    vocab = [n for n in vocab if isinstance(n, int) and not isinstance(n, bool) and n > 0]
    if vocab:
        return min(vocab)
    tables = [layer.input_dim for layer in layers if isinstance(layer, keras.layers.Embedding)]
    return min(tables, default=10)


def _default_length(model: keras.Model) -> int:
    length = getattr(model, "max_length", None)
    return int(length) if isinstance(length, int) and length > 0 else 8


def _random_sample(model: keras.Model, signature: list[Any]) -> Any:
    rng = np.random.default_rng(0)
    high = _token_range(model)
    length = _default_length(model)

    def make(spec):
        shape = tuple(
            SAMPLE_BATCH if i == 0 and d is None else (length if d is None else int(d))
            for i, d in enumerate(spec.shape)
        )
        dtype = np.dtype(keras.backend.standardize_dtype(spec.dtype))
        if np.issubdtype(dtype, np.integer):
            return rng.integers(0, high, size=shape).astype(dtype)
        if dtype == np.bool_:
            return rng.integers(0, 2, size=shape).astype(bool)
        return rng.uniform(0.0, 1.0, size=shape).astype("float32").astype(dtype)

    return [keras.tree.map_structure(make, arg) for arg in signature]


def raw_samples(preprocessor: keras.Model, signature: list[Any]) -> list[list[Any]] | None:
    """Raw inputs to check with: 0-255 pixels, texts from the vocabulary, table rows.

    Images get one batch at the training size and, when the model resizes any size,
    one at another size and aspect ratio. None where the raw input is of no known kind.
    """
    rng = np.random.default_rng(0)
    structure = signature_structure(signature)
    if isinstance(structure, dict):
        return [[_table_sample(preprocessor, structure, rng)]]
    if not isinstance(structure, keras.InputSpec):
        return None
    if is_string(structure) and len(structure.shape) == 1:
        vectorizer = find_layer(preprocessor, keras.layers.TextVectorization)
        return None if vectorizer is None else [[_text_sample(vectorizer)]]
    if len(structure.shape) == 4:
        return _image_samples(preprocessor, structure, rng)
    return None


def _image_samples(preprocessor, spec, rng) -> list[list[Any]] | None:
    _, height, width, channels = spec.shape
    resize = find_layer(preprocessor, keras.layers.Resizing)
    size = (resize.height, resize.width) if resize is not None else (height, width)
    if None in size or channels is None:
        return None
    dtype = keras.backend.standardize_dtype(spec.dtype)

    def pixels(h, w):
        return rng.integers(0, 256, size=(SAMPLE_BATCH, h, w, channels)).astype(dtype)

    samples = [[pixels(*size)]]
    if height is None and width is None:
        samples.append([pixels(size[0] + size[0] // 2 + 1, size[1] + 3)])
    return samples


def _text_sample(vectorizer) -> np.ndarray:
    """Texts of the vocabulary's words.

    With capitals and punctuation, longer than the sequence, and with an unseen word.
    """
    vocabulary = [str(token) for token in vectorizer.get_vocabulary()]
    words = [token for token in vocabulary[2:] if token.strip()] or ["word"]
    unseen = "qzxunseen"
    while unseen in vocabulary:
        unseen += "q"
    length = vectorizer.get_config().get("output_sequence_length") or 8

    def pick(n, start):
        return [words[(start + i) % len(words)] for i in range(n)]

    first = pick(3, 0)
    texts = [
        f"{first[0].upper()}, {first[1]}! {first[2]}.",
        " ".join(pick(length + 3, 3)),
        f"{unseen} {words[-1]}",
    ]
    return np.asarray(texts, dtype=object)


def _table_sample(preprocessor, structure: dict[str, Any], rng) -> dict[str, np.ndarray]:
    """Rows of every column.

    Numbers around the training mean; every category seen in training (as far as the
    rows go) and one never seen.
    """
    encoding = {block["column"]: block for block in table_encoding(preprocessor) or []}
    categories = {}
    for name, spec in structure.items():
        if is_string(spec):
            seen = encoding.get(name, {}).get("vocabulary", ["[UNK]"])[1:]
            unseen = next(
                f"<unseen {i}>" for i in range(len(seen) + 1) if f"<unseen {i}>" not in seen
            )
            categories[name] = [*seen, unseen]
    rows = max([SAMPLE_BATCH, *(len(values) for values in categories.values())])
    rows = min(rows, MAX_SAMPLE_ROWS)
    sample = {}
    for name, spec in structure.items():
        if name in categories:
            values = categories[name]
            sample[name] = np.asarray([values[i % len(values)] for i in range(rows)], dtype=object)
            continue
        block = encoding.get(name, {})
        mean, std = block.get("mean", 0.0), math.sqrt(block.get("variance", 1.0))
        values = mean + std * rng.standard_normal(rows)
        sample[name] = values.astype(keras.backend.standardize_dtype(spec.dtype))
    return sample
