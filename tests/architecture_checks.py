"""The shared architecture checks: each family's test file is mostly data.

``check_architecture(name, **overrides)`` builds a catalogue name and checks, in
order: it is an uncompiled keras.Model with the right name and spec; calling it; predict on a
tf.data pipeline gives the same outputs; a config round trip rebuilds the same
model; a ``.keras`` save/load in safe mode gives equal outputs; a few fit steps
on one repeated batch lower its (inference-mode) loss. ``check_bad_arguments``
checks the documented errors.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
from zoo._validation import ArgumentTypeError, ArgumentValueError

BATCH = 4


def make_inputs(model: keras.Model, batch: int = BATCH, seed: int = 0) -> np.ndarray:
    """Random inputs: token ids for int inputs, 0-255 pixels for raw-input models, floats."""
    rng = np.random.default_rng(seed)
    spec = model.inputs[0]
    shape = [batch] + [d if d is not None else 7 for d in spec.shape[1:]]
    if "int" in str(spec.dtype):
        vocab = next(
            getattr(layer, "vocab_size", None) or layer.input_dim
            for layer in model.layers
            if isinstance(layer, keras.layers.Embedding) or hasattr(layer, "vocab_size")
        )
        ids = rng.integers(1, vocab, size=shape)
        ids[:, -2:] = 0  # trailing padding, which must be masked
        return ids.astype("int32")
    if zoo.layers.preprocessing.split(model)[0] is not None:  # takes raw 0-255 pixels
        return rng.uniform(0, 255, size=shape).astype("float32")
    return rng.normal(size=shape).astype("float32")


def make_targets(model: keras.Model, outputs: np.ndarray, task: str, seed: int = 0):
    """Targets matching the model's outputs, and a loss for the task."""
    rng = np.random.default_rng(seed + 1)
    units = outputs.shape[-1]
    if task == "regression":
        return rng.normal(size=outputs.shape).astype("float32"), "mse"
    if units == 1:
        return rng.integers(0, 2, size=outputs.shape).astype("float32"), "binary_crossentropy"
    labels = rng.integers(0, units, size=outputs.shape[:-1]).astype("int32")
    logits = zoo.training.outputs_logits(model)
    return labels, keras.losses.SparseCategoricalCrossentropy(from_logits=logits)


def _close(a, b, atol=1e-5):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=atol)


def check_architecture(name: str, tmp_path, **overrides):
    """Run every shared check on ``zoo.build(name, **overrides)``; return the model.

    Any catalogue name works offline: pretrained rows need ``weights=None`` (or their
    weights on disk). zoo's builders name the model after the row; pretrained rows
    name it themselves.
    """
    entry = zoo.registry.get_entry(name)
    model = zoo.build(name, **overrides)
    assert isinstance(model, keras.Model)
    if "name" in overrides or entry.source == "zoo":
        assert model.name == overrides.get("name", name)
    if entry.source != "keras-hub":  # keras-hub tasks come compiled with its defaults
        assert not model.compiled, "builders must return uncompiled models"
    assert model.inputs, "the model must have a keras.Input"
    spec = zoo.registry.get_spec(model)
    assert spec["architecture"] == entry.name  # the row, also for a bare name or an alias
    task = spec["arguments"].get("task", "classification")

    x = make_inputs(model)
    y_call = keras.ops.convert_to_numpy(model(x, training=False))
    assert y_call.shape[0] == BATCH
    assert np.all(np.isfinite(y_call))

    dataset = tf.data.Dataset.from_tensor_slices(x).batch(2)
    _close(model.predict(dataset, verbose=0), y_call)

    clone = model.__class__.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    assert clone.name == model.name
    _close(clone(x, training=False), y_call)

    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)  # safe_mode=True is the default
    assert loaded.name == model.name
    _close(loaded(x, training=False), y_call)

    y, loss = make_targets(model, y_call, task)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss=loss)
    before = model.evaluate(x, y, verbose=0, return_dict=True)["loss"]
    batches = tf.data.Dataset.from_tensors((x, y)).repeat()
    history = model.fit(batches, steps_per_epoch=1, epochs=15, verbose=0).history["loss"]
    after = model.evaluate(x, y, verbose=0, return_dict=True)["loss"]
    assert np.all(np.isfinite(history)) and np.isfinite(after)
    assert after < before, f"training did not lower the loss: {before} -> {after}"
    return model


def check_bad_arguments(name: str, cases):
    """Each case is (overrides, "value" or "type", text the message must contain)."""
    for overrides, kind, text in cases:
        expected = ArgumentValueError if kind == "value" else ArgumentTypeError
        with pytest.raises(expected) as info:
            zoo.build(name, **overrides)
        message = str(info.value)
        assert text in message, f"{overrides}: {message!r} lacks {text!r}"
        assert "Received:" in message, f"{overrides}: {message!r} lacks 'Received:'"
