import keras
import numpy as np
import pytest
from architecture_checks import check_architecture, check_bad_arguments
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import zoo
from zoo._validation import ArgumentValueError


@pytest.fixture(scope="module")
def digits():
    """The bundled digits in [0, 1] with a fixed, stratified 20% held out."""
    data = load_digits()
    images = (data.images / 16.0).astype("float32")[..., None]
    return train_test_split(
        images, data.target, test_size=0.2, random_state=0, stratify=data.target
    )


def test_shared_checks(tmp_path):
    model = check_architecture("dbn_tiny", tmp_path)
    assert [layer.name for layer in model.hidden_layers] == ["rbm_1", "rbm_2"]
    assert model.output_shape == (None, 10) and model.pretrained is False


def test_headless(tmp_path):
    model = zoo.build("dbn_tiny", num_classes=None)
    assert model.output_shape == (None, 8)


def test_pretraining_copies_each_rbm_into_its_layer_and_round_trips(digits, tmp_path):
    keras.utils.set_random_seed(0)
    x = digits[0][:200]
    model = zoo.build("dbn_tiny", seed=0)
    before = [np.array(layer.kernel.numpy()) for layer in model.hidden_layers]
    histories = model.pretrain(x, epochs=3, batch_size=20)
    assert model.pretrained and len(histories) == 2
    for history in histories:  # each RBM learned: its reconstruction error fell
        assert history["reconstruction_error"][-1] < history["reconstruction_error"][0]
    for layer, old in zip(model.hidden_layers, before, strict=True):
        assert not np.allclose(layer.kernel.numpy(), old)
    model.save(tmp_path / "dbn.keras")
    loaded = keras.saving.load_model(tmp_path / "dbn.keras")
    assert loaded.pretrained  # not pretrained again by zoo.train
    np.testing.assert_allclose(loaded.predict(x[:5], verbose=0), model.predict(x[:5], verbose=0))


def test_pretraining_refuses_data_outside_the_unit_interval(digits):
    with pytest.raises(ArgumentValueError, match="Received: x='values from 0 to 16'"):
        zoo.build("dbn_tiny").pretrain(digits[0][:20] * 16.0)
    with pytest.raises(ArgumentValueError, match="shape"):
        zoo.build("dbn_tiny").pretrain(np.zeros((4, 64), "float32"))


def test_zoo_train_pretrains_then_fine_tunes_to_95_percent(digits):
    x_train, x_test, y_train, y_test = digits
    data = zoo.data.load(x_train, y_train, test=(x_test, y_test), seed=0)
    model = zoo.build("dbn", input_shape=(8, 8, 1), units=(128, 64), pretrain_epochs=5, seed=0)
    result = zoo.train(model, data, epochs=20, learning_rate=3e-3, save=False, verbose=0)
    assert model.pretrained
    assert result.metrics["accuracy"] >= 0.95, result.metrics


def test_dbn_bad_arguments():
    check_bad_arguments(
        "dbn_tiny",
        [
            ({"units": ()}, "value", "units"),
            ({"units": (0, 4)}, "value", "units"),
            ({"k": 0}, "value", "`k`"),
            ({"pretrain_epochs": -1}, "value", "pretrain_epochs"),
            ({"pretrain_learning_rate": "fast"}, "type", "pretrain_learning_rate"),
            ({"num_classes": 0}, "value", "num_classes"),
            ({"dropout": 1.5}, "value", "dropout"),
        ],
    )
