"""Which model goes into the file: the whole model, or what a format can hold of it.

A SavedModel holds every model whole. For TFLite and ONNX a raw-input model's
preprocessing is converted alone first; when it does not convert, the fallbacks are
tried in order: a raw-image model at its training size without the resizing, a table
model with its encoding rebuilt from a string lookup and a one-hot op, and the network
alone with ``<file>.preprocessing.json`` (and ``<file>.vocabulary.txt``) saying how to
compute its input from raw input.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import keras
import numpy as np

from zoo.exporting.converting import Unconvertible, write_artifact
from zoo.exporting.encodings import (
    PREPROCESSING_FORMAT,
    encode_table,
    encode_text,
    find_layer,
    layer_graph,
    table_encoding,
    text_encoding,
)
from zoo.exporting.running import differences, fits
from zoo.exporting.samples import Check, sample_args
from zoo.exporting.signatures import (
    export_signature,
    signature_structure,
    spec_names,
    tensor_specs,
)
from zoo.exporting.targets import ARTIFACT_NAMES, PREPROCESSING_SUFFIX, VOCABULARY_SUFFIX
from zoo.layers.preprocessing import split as split_preprocessing

_HOLDS = {"tflite": "TFLite's builtin ops", "onnx": "ONNX"}
_TEXT_HOW = (
    "For each text: if lowercase is true, lowercase the ASCII letters A-Z; if "
    "strip_characters is set, delete every match of that regular expression; split "
    "'whitespace': split on runs of the whitespace characters, dropping empty tokens "
    "('character': into Unicode code points; null: the whole text is one token); "
    "replace each token by its line number in vocabulary_file (line 0 is "
    "padding; a token not in the file becomes unknown_id); cut or pad with padding_id to "
    "output_sequence_length. Feed the ids (a batch of rows) to the artifact."
)


_TABLE_HOW = (
    "For each row, concatenate the blocks of `encoding` in order: a numeric column "
    "becomes (x - mean) / max(sqrt(variance), epsilon); a categorical column becomes a "
    "one-hot vector over its vocabulary, where position 0 stands for every value not in "
    "it. Feed the rows (float32) to the artifact."
)


@dataclasses.dataclass
class Variant:
    """One way to write the model: whole, at a fixed image size, or its network alone."""

    model: keras.Model
    signature: list[Any]
    checks: list[Check]
    note: Any = None  # reason -> the note saying what the file holds instead
    description: dict[str, Any] | None = None  # the preprocessing file, for clients
    vocabulary: list[str] | None = None


def write_first(model, fmt: str, signature, checks, target: Path, folder: Path, fail):
    """Write the model in the first way that converts and runs, and check it.

    A SavedModel holds every model whole. For TFLite and ONNX, a raw-input model's
    preprocessing is converted alone first: if it converts, the whole model is written;
    if not, a raw-image model is written at its training size without the resizing,
    and a model with string preprocessing that zoo can describe as its network alone.

    Returns:
        (variant, artifact path, TensorSpecs, differences, notes).
    """
    preprocessor, network = split_preprocessing(model)
    candidates = [lambda: Variant(model, signature, checks)]
    reason = None
    if fmt != "saved_model" and preprocessor is not None:
        probe = folder / "preprocessing" / ARTIFACT_NAMES[fmt]
        probe.parent.mkdir()
        try:
            write_artifact(preprocessor, fmt, probe, signature, checks[0].args, [])
        except Unconvertible as error:
            reason = str(error)
            arguments = (model, preprocessor, network, signature, checks, fmt)
            candidates = [
                lambda: _fixed_size_variant(*arguments),
                lambda: _table_variant(*arguments),
                lambda: _network_variant(preprocessor, network, checks, fmt, target),
            ]
    reasons = []
    for index, make in enumerate(candidates):
        try:
            variant = make()
            if variant is None:
                continue
            artifact = folder / str(index) / ARTIFACT_NAMES[fmt]
            artifact.parent.mkdir()
            notes: list[str] = []
            tf_signature = write_artifact(
                variant.model, fmt, artifact, variant.signature, variant.checks[0].args, notes
            )
            checks_run = [check for check in variant.checks if fits(check.args, tf_signature)]
            names = spec_names(variant.signature)
            diffs = differences(fmt, artifact, checks_run, names, fail)
        except Unconvertible as error:
            reasons.append(str(error))
            continue
        if variant.note is not None:
            notes.insert(0, variant.note(reason))
        return variant, artifact, tf_signature, diffs, notes
    if reason is None:
        raise fail("; ".join(reasons))
    tried = f"; without it: {'; '.join(reasons)}" if reasons else ""
    raise fail(f"its preprocessing does not convert ({reason}){tried}")


def _fixed_size_variant(model, preprocessor, network, signature, checks, fmt) -> Variant | None:
    """The raw-image model at its training size, with the resizing left out."""
    spec = signature_structure(signature)
    resize = find_layer(preprocessor, keras.layers.Resizing)
    if resize is None or not isinstance(spec, keras.InputSpec) or len(spec.shape) != 4:
        return None
    if spec.shape[1] is not None or spec.shape[2] is not None:
        return None
    height, width, channels = resize.height, resize.width, spec.shape[3]
    shape = (height, width, channels)
    try:
        parents, _, _ = layer_graph(preprocessor)
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    # The preprocessing layers again in a chain without the resizing: copies, called
    # anew (replaying the resizing's recorded call would pass training=True on).
    inputs = keras.Input(shape, dtype=spec.dtype, name=spec.name)
    x, previous = inputs, preprocessor.layers[0].name
    for layer in preprocessor.layers[1:]:
        if parents.get(layer.name) != [previous]:
            return None  # not a chain
        previous = layer.name
        if layer is resize:
            continue
        copy = layer.__class__.from_config(layer.get_config())
        x = copy(x)
        copy.set_weights(layer.get_weights())
    whole = keras.Model(inputs, network(x), name=model.name)
    fixed_signature = [keras.InputSpec(shape=(None, *shape), dtype=spec.dtype, name=spec.name)]
    kept = [check for check in checks if fits(check.args, fixed_signature)]
    if not kept:
        raise Unconvertible(
            f"the file could take {height}x{width} images only, and the sample has none"
        )

    def note(reason: str) -> str:
        return (
            f"{fmt}: the file takes {height}x{width} images only (raw 0-255 pixels): the "
            f"Resizing (with antialias) that takes any size has no "
            f"equivalent in {_HOLDS[fmt]} ({reason}). Resize images to {height}x{width} "
            "with antialiasing before feeding them, or export format='saved_model', which "
            "resizes any size"
        )

    return Variant(whole, fixed_signature, kept, note=note)


def _table_variant(model, preprocessor, network, signature, checks, fmt) -> Variant | None:
    """The raw-table model with its encoding rebuilt from lookups and a one-hot op.

    FeatureSpace one-hot encodes with ``CategoryEncoding`` (TensorFlow's
    ``DenseBincount``), which TFLite's builtin ops lack, while they hold the string
    lookup and a one-hot op. Checked on the raw rows like the original model.
    """
    encoding = table_encoding(preprocessor)
    structure = signature_structure(signature)
    if encoding is None or not isinstance(structure, dict):
        return None
    inputs = {
        key: keras.Input(batch_shape=tuple(spec.shape), dtype=spec.dtype, name=key)
        for key, spec in structure.items()
    }
    parts = []
    for block in encoding:
        column = inputs[block["column"]]
        if len(column.shape) == 1:
            column = keras.ops.expand_dims(column, -1)
        if block["kind"] == "numeric":
            std = max(math.sqrt(block["variance"]), block["epsilon"])
            x = keras.ops.cast(column, "float32")
            parts.append((x - np.float32(block["mean"])) / np.float32(std))
            continue
        lookup = keras.layers.StringLookup(
            vocabulary=block["vocabulary"][1:], num_oov_indices=1, name=f"{block['column']}_ids"
        )
        ids = keras.ops.squeeze(lookup(column), -1)
        parts.append(keras.ops.one_hot(ids, block["width"], dtype="float32"))
    row = keras.ops.concatenate(parts, axis=-1) if len(parts) > 1 else parts[0]
    whole = keras.Model(inputs, network(row), name=model.name)

    def note(reason: str) -> str:
        return (
            f"{fmt}: the file takes raw table columns; their encoding is rebuilt with a "
            "string lookup and a one-hot op because the FeatureSpace's one-hot encoding "
            f"has no equivalent in {_HOLDS[fmt]} ({reason})"
        )

    return Variant(whole, signature, checks, note=note)


def _network_variant(preprocessor, network, checks, fmt, target: Path) -> Variant | None:
    """The network alone, with a description of its string preprocessing for clients.

    It is checked on what the Keras preprocessor makes of the raw samples, and the
    description must reproduce that exactly from the raw samples.
    """
    text = text_encoding(preprocessor)
    encoding = None if text is not None else table_encoding(preprocessor)
    if text is None and encoding is None:
        return None
    import tensorflow as tf

    signature = export_signature(network, None)
    kept = []
    for check in checks:
        raw = check.args[0]
        with tf.device("/cpu:0"):
            encoded = keras.ops.convert_to_numpy(preprocessor(raw, training=False))
        if text is not None:
            reproduced = encode_text(text[0], text[1], raw)
            same = reproduced.shape == encoded.shape and np.array_equal(reproduced, encoded)
        else:
            reproduced = encode_table(encoding, raw)
            same = reproduced.shape == encoded.shape and np.allclose(
                reproduced, encoded, rtol=1e-5, atol=1e-5
            )
        if not same:
            raise Unconvertible(
                "zoo's description of the preprocessing for clients does not reproduce it "
                "on the sample inputs"
            )
        kept.append(Check(sample_args(network, signature, encoded), check.expected))
    spec = keras.tree.flatten(tensor_specs(signature))[0]
    json_name = f"{target.name}{PREPROCESSING_SUFFIX}"
    description: dict[str, Any] = {
        "format": PREPROCESSING_FORMAT,
        "kind": "text" if text is not None else "table",
        "artifact": target.name,
        "artifact_input": {"shape": list(spec.shape), "dtype": spec.dtype.name},
    }
    vocabulary = None
    if text is not None:
        vocabulary = text[1]
        description["raw_input"] = "a batch of strings"
        description["vocabulary_file"] = f"{target.name}{VOCABULARY_SUFFIX}"
        description.update(text[0])
        description["how"] = _TEXT_HOW
        files = f"{json_name} and {description['vocabulary_file']} describe"
        what, takes = "TextVectorization", "token ids"
    else:
        description["raw_input"] = {
            key: keras.backend.standardize_dtype(tensor.dtype)
            for key, tensor in preprocessor.input.items()
        }
        description["encoding"] = encoding
        description["how"] = _TABLE_HOW
        files = f"{json_name} describes"
        what, takes = "FeatureSpace: string lookups, one-hot encoding", "encoded rows"

    def note(reason: str) -> str:
        return (
            f"{fmt}: the file holds the network without its preprocessing ({what}), "
            f"which has no equivalent in {_HOLDS[fmt]} ({reason}). It takes "
            f"{takes} of shape {tuple(spec.shape)} ({spec.dtype.name}); {files} how to "
            "compute them from raw input. format='saved_model' holds the preprocessing"
        )

    return Variant(
        network, signature, kept, note=note, description=description, vocabulary=vocabulary
    )


def preprocessing_files(variant: Variant, folder: Path) -> dict[str, Path]:
    """The files that describe the preprocessing, written into `folder`, by name."""
    if variant.description is None:
        return {}
    written = {}
    if variant.vocabulary is not None:
        path = folder / variant.description["vocabulary_file"]
        path.write_text("".join(f"{token}\n" for token in variant.vocabulary), encoding="utf-8")
        written[path.name] = path
    name = f"{variant.description['artifact']}{PREPROCESSING_SUFFIX}"
    path = folder / name
    path.write_text(json.dumps(variant.description, indent=2) + "\n", encoding="utf-8")
    written[name] = path
    return written
