"""What a client needs to reproduce string preprocessing that a file cannot hold.

Reads a ``TextVectorization`` (standardize and split settings, vocabulary) or a
``keras.utils.FeatureSpace`` of standardised numbers and one-hot categories (each
column's block, in order) from a preprocessor's public config, and encodes raw inputs
from that description alone, as a client would, so the export can check that the
description reproduces the Keras preprocessing exactly.
"""

from __future__ import annotations

import math
import re
import string
from typing import Any

import keras
import numpy as np

from zoo._compat.keras import all_layers

PREPROCESSING_FORMAT = "zoo-preprocessing/1"
TEXT_STRIP_CHARACTERS = r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']'  # TextVectorization's
_WHITESPACE = " \t\n\v\f\r"  # what tf.strings.split splits on (ASCII whitespace)
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_STANDARDIZE = {
    None: (False, False),
    "lower": (True, False),
    "strip_punctuation": (False, True),
    "lower_and_strip_punctuation": (True, True),
}


def find_layer(model: keras.Model, kind: type) -> Any:
    """The first layer of `kind` in `model` (nested ones included), or None."""
    return next((layer for layer in all_layers(model) if isinstance(layer, kind)), None)


def layer_graph(model: keras.Model) -> tuple[dict[str, list[str]], list[str], Any]:
    """A functional model's graph, from its config (public, unlike its nodes).

    Returns:
        (each layer's input layers by name, the output layers' names, the config's
        ``input_layers``: by key for a dict input).
    """
    config = model.get_config()

    def sources(value) -> list[str]:
        if isinstance(value, dict):
            if value.get("class_name") == "__keras_tensor__":
                return [value["config"]["keras_history"][0]]
            return [name for item in value.values() for name in sources(item)]
        if isinstance(value, (list, tuple)):
            return [name for item in value for name in sources(item)]
        return []

    parents = {}
    for layer in config["layers"]:
        nodes = layer.get("inbound_nodes") or []
        if len(nodes) > 1:
            raise ValueError(f"layer {layer['name']!r} is called more than once")
        parents[layer["name"]] = sources(nodes[0]) if nodes else []
    outputs = config["output_layers"]
    if outputs and isinstance(outputs[0], str):
        outputs = [outputs]
    return parents, [history[0] for history in outputs], config["input_layers"]


def _describe_column(column: str, chain: list[Any]) -> dict[str, Any] | None:
    """How one table column is encoded, from the layers between its input and the row."""
    if len(chain) == 1 and isinstance(chain[0], keras.layers.Normalization):
        layer = chain[0]
        mean = np.ravel(keras.ops.convert_to_numpy(layer.mean))
        variance = np.ravel(keras.ops.convert_to_numpy(layer.variance))
        if layer.invert or mean.size != 1 or variance.size != 1:
            return None
        return {
            "column": column,
            "kind": "numeric",
            "mean": float(mean[0]),
            "variance": float(variance[0]),
            "epsilon": float(keras.config.epsilon()),
            "width": 1,
        }
    if not chain or not isinstance(chain[0], keras.layers.StringLookup):
        return None
    config = chain[0].get_config()
    vocabulary = [str(token) for token in chain[0].get_vocabulary()]
    one_hot, rest = ("one_hot", "multi_hot"), chain[1:]  # one value per row: the same
    encoded = (config["output_mode"] in one_hot and not rest) or (
        config["output_mode"] == "int"
        and len(rest) == 1
        and isinstance(rest[0], keras.layers.CategoryEncoding)
        and rest[0].output_mode in one_hot
        and rest[0].num_tokens == len(vocabulary)
    )
    plain = config.get("num_oov_indices") == 1 and config.get("mask_token") is None
    if not encoded or not plain or config.get("invert"):
        return None
    return {
        "column": column,
        "kind": "categorical",
        "vocabulary": vocabulary,
        "width": len(vocabulary),
    }


def table_encoding(preprocessor: keras.Model) -> list[dict[str, Any]] | None:
    """The encoded row of a table preprocessor, block by block in order.

    A ``keras.utils.FeatureSpace`` of standardised numbers and one-hot categories;
    None for a preprocessor of another shape.
    """
    try:
        parents, outputs, inputs = layer_graph(preprocessor)
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    if not isinstance(inputs, dict) or len(outputs) != 1:
        return None
    column_of = {history[0]: key for key, history in inputs.items()}
    layers = {layer.name: layer for layer in preprocessor.layers}
    output = outputs[0]
    joins = len(parents.get(output, [])) > 1 and getattr(layers[output], "axis", None) in (-1, 1)
    blocks = parents[output] if joins else [output]
    encoding = []
    for name in blocks:
        chain = []
        while name not in column_of:
            if name not in layers or len(parents.get(name, [])) != 1:
                return None
            chain.insert(0, layers[name])
            name = parents[name][0]
        block = _describe_column(column_of[name], chain)
        if block is None:
            return None
        encoding.append(block)
    return encoding


def text_encoding(preprocessor: keras.Model) -> tuple[dict[str, Any], list[str]] | None:
    """The settings and vocabulary of a preprocessor that is one ``TextVectorization``."""
    inner = [
        layer for layer in preprocessor.layers if not isinstance(layer, keras.layers.InputLayer)
    ]
    if len(inner) != 1 or not isinstance(inner[0], keras.layers.TextVectorization):
        return None
    config = inner[0].get_config()
    standardize, split = config.get("standardize"), config.get("split")
    length = config.get("output_sequence_length")
    if (
        config.get("output_mode") != "int"
        or config.get("ngrams")
        or config.get("ragged")
        or config.get("sparse")
        or standardize not in _STANDARDIZE
        or split not in (None, "whitespace", "character")
    ):
        return None
    vocabulary = [str(token) for token in inner[0].get_vocabulary()]
    if vocabulary[:2] != ["", "[UNK]"] or any(
        "\n" in token or "\r" in token for token in vocabulary
    ):
        return None
    lower, strip = _STANDARDIZE[standardize]
    return {
        "standardize": standardize,
        "lowercase": lower,
        "lowercase_letters": "A-Z (ASCII only, as tf.strings.lower)",
        "strip_characters": TEXT_STRIP_CHARACTERS if strip else None,
        "split": split,
        "whitespace": _WHITESPACE,
        "output_sequence_length": length,
        "padding_id": 0,
        "unknown_id": 1,
        "vocabulary_size": len(vocabulary),
    }, vocabulary


def encode_text(description: dict[str, Any], vocabulary: list[str], texts) -> np.ndarray:
    """Token ids from raw texts with the description alone, as a client would."""
    ids = {}
    for index, token in enumerate(vocabulary):
        ids.setdefault(token, index)
    rows = []
    for text in np.ravel(texts):
        text = text.decode() if isinstance(text, bytes) else str(text)
        if description["lowercase"]:
            text = text.translate(_ASCII_LOWER)
        if description["strip_characters"]:
            text = re.sub(description["strip_characters"], "", text)
        if description["split"] is None:
            tokens = [text]
        elif description["split"] == "character":
            tokens = list(text)
        else:
            spaces = re.escape(description["whitespace"])
            tokens = [token for token in re.split(f"[{spaces}]+", text) if token]
        rows.append([ids.get(token, description["unknown_id"]) for token in tokens])
    length = description["output_sequence_length"] or max(map(len, rows), default=0)
    encoded = np.zeros((len(rows), length), "int64")
    for i, row in enumerate(rows):
        row = row[:length]
        encoded[i, : len(row)] = row
    return encoded


def encode_table(encoding: list[dict[str, Any]], columns: dict[str, Any]) -> np.ndarray:
    """Encoded rows from raw columns with the description alone, as a client would."""
    parts = []
    for block in encoding:
        values = np.ravel(columns[block["column"]])
        if block["kind"] == "numeric":
            x = values.astype("float32")
            std = np.float32(max(math.sqrt(block["variance"]), block["epsilon"]))
            parts.append(((x - np.float32(block["mean"])) / std)[:, None])
            continue
        index = {token: i for i, token in enumerate(block["vocabulary"]) if i > 0}
        hot = np.zeros((len(values), block["width"]), "float32")
        keys = [v.decode() if isinstance(v, bytes) else str(v) for v in values]
        hot[np.arange(len(values)), [index.get(key, 0) for key in keys]] = 1.0
        parts.append(hot)
    return np.concatenate(parts, axis=1) if parts else np.zeros((0, 0), "float32")
