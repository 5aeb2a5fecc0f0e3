import numpy as np
import pytest

import zoo
from zoo._validation import ArgumentValueError
from zoo.layers.preprocessing import attach
from zoo.transfer import lr_find


@pytest.fixture(scope="module")
def digits():
    return zoo.data.load("digits", batch_size=64)


def test_lr_find_sweeps_suggests_and_restores(digits):
    model = zoo.build("mlp", input_shape=(8, 8, 1), num_classes=10, units=(32,))
    before = [w.copy() for w in model.get_weights()]
    result = lr_find(model, digits, start_lr=1e-6, end_lr=10.0, steps=60)
    table = result.table
    assert list(table.columns) == ["lr", "loss", "smoothed_loss"]
    assert np.all(np.diff(table["lr"]) > 0) and table["lr"].iloc[0] == pytest.approx(1e-6)
    assert 1e-6 <= result.suggestion <= table["lr"].max()
    # The loss falls somewhere in the sweep, and the suggestion is before the minimum.
    assert table["smoothed_loss"].min() < table["smoothed_loss"].iloc[0]
    assert result.suggestion <= table.loc[table["smoothed_loss"].idxmin(), "lr"]
    for old, new in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)
    assert int(model.optimizer.iterations.numpy()) == 0
    assert len(result.figure.axes) == 1


def test_lr_find_stops_on_divergence_and_ignores_nan(digits):
    model = zoo.build("mlp", input_shape=(8, 8, 1), num_classes=10, units=(32,))
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    result = lr_find(model, digits, start_lr=1e-3, end_lr=1e6, steps=80)
    assert len(result.table) < 80  # stopped when the loss blew up
    assert np.isfinite(result.suggestion) and result.suggestion < result.table["lr"].iloc[-1]


def test_lr_find_bad_arguments(digits):
    model = zoo.build("mlp_tiny")
    with pytest.raises(ArgumentValueError, match="end_lr"):
        lr_find(model, digits, start_lr=1.0, end_lr=0.1)
    with pytest.raises(ArgumentValueError, match="steps"):
        lr_find(model, digits, steps=2)
    with pytest.raises(TypeError, match=r"keras\.Model"):
        lr_find("mlp", digits)


def test_lr_find_restores_a_trained_optimizers_state(digits):
    model = zoo.build("mlp", input_shape=(8, 8, 1), num_classes=10, units=(16,))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(digits.train, epochs=1, verbose=0)
    state = [np.array(v) for v in model.optimizer.variables]
    assert int(model.optimizer.iterations.numpy()) > 0
    lr_find(model, digits, steps=10)
    for old, new in zip(state, model.optimizer.variables, strict=True):
        np.testing.assert_array_equal(old, np.array(new))


def test_lr_find_sweeps_a_raw_input_model_as_its_network():
    digits = zoo.data.load("digits", batch_size=64, shuffle=False)  # the same batches twice
    network = zoo.build("mlp", input_shape=(8, 8, 1), num_classes=10, units=(16,))
    wrapped = attach(network, digits.preprocessor)  # takes 0-255 pixels, as zoo saves it
    twin = zoo.build("mlp", input_shape=(8, 8, 1), num_classes=10, units=(16,))
    twin.set_weights(network.get_weights())
    sweeps = [lr_find(model, digits, steps=10).table for model in (wrapped, twin)]
    # The same losses: the network saw the pipelines' [0, 1] pixels, not them rescaled again.
    np.testing.assert_allclose(sweeps[0]["loss"], sweeps[1]["loss"], rtol=1e-5)
