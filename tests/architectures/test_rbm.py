import keras
import numpy as np
import pytest
import tensorflow as tf
from architecture_checks import check_bad_arguments, make_inputs
from sklearn.datasets import load_digits

import zoo
from zoo._validation import ArgumentValueError


@pytest.fixture(scope="module")
def digits():
    """The bundled 8x8 digits in [0, 1]: 1,500 to train on, the rest held out."""
    images = (load_digits().images / 16.0).astype("float32")[..., None]
    return images[:1500], images[1500:]


def _close(a, b):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("overrides", [{}, {"persistent": True, "chains": 4, "k": 2}])
def test_shared_checks(overrides, digits, tmp_path):
    """The shared checks, where an RBM differs: its own loss, and data in [0, 1]."""
    model = zoo.build("rbm_tiny", **overrides)
    assert isinstance(model, keras.Model) and model.name == "rbm_tiny" and not model.compiled
    assert zoo.registry.get_spec(model)["architecture"] == "rbm_tiny"
    x = digits[0][:8]
    y_call = keras.ops.convert_to_numpy(model(x, training=False))
    assert y_call.shape == (8, 16) and np.all((y_call >= 0) & (y_call <= 1))
    _close(model.predict(tf.data.Dataset.from_tensor_slices(x).batch(3), verbose=0), y_call)
    clone = model.__class__.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    _close(clone(x, training=False), y_call)

    model.compile()
    before = model.evaluate(x, verbose=0, return_dict=True)
    assert set(before) == {"loss", "reconstruction_error", "pseudo_log_likelihood"}
    batches = tf.data.Dataset.from_tensors((x, np.zeros(8, "int32"))).repeat()  # labels ignored
    history = model.fit(batches, steps_per_epoch=5, epochs=3, verbose=0).history
    assert np.all(np.isfinite(history["loss"])) and np.all(
        np.isfinite(history["pseudo_log_likelihood"])
    )
    after = model.evaluate(x, verbose=0, return_dict=True)
    assert after["loss"] < before["loss"], (before, after)
    _close(after["loss"], after["reconstruction_error"])

    path = tmp_path / "rbm.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)  # safe mode
    assert loaded.name == model.name and loaded.compiled
    _close(loaded.transform(x), model.transform(x))
    np.testing.assert_array_equal(
        loaded.sample(3, steps=5, seed=2), model.sample(3, steps=5, seed=2)
    )
    assert np.isfinite(loaded.fit(x, epochs=1, verbose=0).history["loss"][0])  # compiled


def test_cd_lowers_the_reconstruction_error_on_digits(digits):
    keras.utils.set_random_seed(0)
    train, held_out = digits
    model = zoo.build("rbm_digits", seed=0)
    model.compile()
    initial = model.evaluate(held_out, verbose=0, return_dict=True)
    history = model.fit(train, batch_size=20, epochs=4, verbose=0).history
    final = model.evaluate(held_out, verbose=0, return_dict=True)
    assert history["reconstruction_error"][-1] < history["reconstruction_error"][0]
    assert final["reconstruction_error"] < 0.5 * initial["reconstruction_error"], (initial, final)
    assert final["pseudo_log_likelihood"] > initial["pseudo_log_likelihood"], (initial, final)
    features = model.transform(held_out)
    assert features.shape == (len(held_out), 100)
    assert features.min() >= 0 and features.max() <= 1


def test_sample_is_seeded_shaped_and_in_range():
    model = zoo.build("rbm_tiny", seed=1)
    a = model.sample(5, steps=3, seed=7)
    assert a.shape == (5, 8, 8, 1) and a.dtype == np.float32
    assert a.min() >= 0 and a.max() <= 1
    np.testing.assert_array_equal(a, model.sample(5, steps=3, seed=7))
    assert not np.array_equal(a, model.sample(5, steps=3, seed=8))


def test_persistent_chains_carry_over_between_batches(digits):
    keras.utils.set_random_seed(0)
    model = zoo.build("rbm_tiny", persistent=True, chains=6, seed=0)
    assert [w.name for w in model.non_trainable_weights if "chain" in w.path] == ["chain"]
    chain = next(w for w in model.non_trainable_weights if w.name == "chain")
    assert tuple(chain.shape) == (6, 64)
    model.compile()
    model.fit(digits[0][:64], batch_size=16, epochs=1, verbose=0)
    first = keras.ops.convert_to_numpy(chain.value).copy()
    assert set(np.unique(first)) <= {0.0, 1.0} and first.any()  # binary states, updated
    model.fit(digits[0][:64], batch_size=16, epochs=1, verbose=0)
    assert not np.array_equal(first, keras.ops.convert_to_numpy(chain.value))
    model.evaluate(digits[1][:32], verbose=0)  # evaluation leaves the chains alone
    kept = keras.ops.convert_to_numpy(chain.value)
    model.evaluate(digits[1][:32], verbose=0)
    np.testing.assert_array_equal(kept, keras.ops.convert_to_numpy(chain.value))


def test_non_binary_data_needs_binarize(digits):
    model = zoo.build("rbm_tiny")
    model.compile()
    pixels = digits[0][:16] * 16.0  # 0-16 intensities
    with pytest.raises(ArgumentValueError, match=r"binarize.*Received: x='values from 0 to 16'"):
        model.fit(pixels, epochs=1, verbose=0)
    with pytest.raises(ArgumentValueError, match="binarize"):
        model.fit(tf.data.Dataset.from_tensor_slices(pixels).batch(4), epochs=1, verbose=0)
    with pytest.raises(ArgumentValueError, match="binarize"):
        model.transform(pixels)
    assert zoo.build("rbm_tiny", binarize=True).binarize == 0.5
    assert zoo.build("rbm_tiny", binarize=False).binarize is None
    binary = zoo.build("rbm_tiny", binarize=0.5)
    binary.compile()
    normal = make_inputs(binary)  # any real values once thresholded
    assert np.isfinite(binary.fit(normal, epochs=1, verbose=0).history["loss"][0])
    _close(binary.transform(normal), binary.transform((normal > 0.5).astype("float32")))


def test_an_rbm_takes_no_other_loss():
    with pytest.raises(ArgumentValueError, match="Received: loss='mse'"):
        zoo.build("rbm_tiny").compile(loss="mse")


def test_rbm_bad_arguments():
    check_bad_arguments(
        "rbm_tiny",
        [
            ({"k": 0}, "value", "`k`"),
            ({"units": 0}, "value", "`units`"),
            ({"units": (4,)}, "type", "`units`"),
            ({"chains": 0}, "value", "`chains`"),
            ({"weight_decay": -1.0}, "value", "`weight_decay`"),
            ({"binarize": 1.5}, "value", "`binarize`"),
            ({"binarize": "yes"}, "type", "`binarize`"),
            ({"input_shape": (8, 8, 1, 1)}, "value", "input_shape"),
        ],
    )
    with pytest.raises(ArgumentValueError, match="`steps`"):
        zoo.build("rbm_tiny").sample(2, steps=0)


def test_zoo_train_fits_an_rbm_on_labelled_digits():
    result = zoo.train("rbm_tiny", "digits", epochs=2, save=False, verbose=0)
    assert result.history.columns.tolist()[:2] == ["epoch", "loss"]
    assert {"reconstruction_error", "pseudo_log_likelihood"} <= set(result.metrics)
    assert result.model.transform(np.zeros((2, 8, 8, 1))).shape == (2, 16)


def test_tune_export_and_the_command_line(tmp_path, capsys):
    from zoo import cli

    result = zoo.tune(
        "rbm_tiny",
        "digits",
        max_trials=1,
        epochs=1,
        directory=tmp_path / "tuning",
        save=False,
        verbose=0,
    )
    assert list(result.trials["status"]) == ["COMPLETED"]
    assert cli.main(["train", "rbm_tiny", "--data", "digits", "--epochs", "1", "--no-save"]) == 0
    assert "pseudo_log_likelihood" in capsys.readouterr().out
    assert cli.main(["train", "dbn_tiny", "--data", "digits", "--epochs", "1", "--no-save"]) == 0
    assert "accuracy" in capsys.readouterr().out


@pytest.mark.tensorflow_only("export converts through TensorFlow")
def test_export_tflite_matches_keras(tmp_path):
    model = zoo.build("rbm_tiny")
    sample = np.random.default_rng(0).random((2, 8, 8, 1)).astype("float32")
    result = zoo.export(model, tmp_path / "rbm.tflite", format="tflite", sample=sample)
    assert result.max_abs_diff <= 1e-5
