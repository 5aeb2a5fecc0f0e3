import keras
import numpy as np
import pytest
from architecture_checks import check_bad_arguments
from sklearn.datasets import load_digits

import zoo


@pytest.fixture(scope="module")
def digits():
    return (load_digits().images / 8.0 - 1.0).astype("float32")[..., None]


def test_trains_and_samples_finite_images_in_range(digits, tmp_path):
    keras.utils.set_random_seed(0)
    model = zoo.build("diffusion_tiny")
    model.compile()  # Adam(1e-3) on the noise-prediction MSE
    history = model.fit(digits[:640], batch_size=64, epochs=6, verbose=0).history["loss"]
    assert np.isfinite(history).all() and history[-1] < 0.6 * history[0]
    samples = model.generate(6, steps=10, seed=0)
    assert samples.shape == (6, 8, 8, 1) and np.isfinite(samples).all()
    assert samples.min() >= -1.0 and samples.max() <= 1.0
    np.testing.assert_array_equal(samples, model.generate(6, steps=10, seed=0))
    assert not np.array_equal(samples, model.generate(6, steps=10, seed=1))
    model.save(tmp_path / "diffusion.keras")
    loaded = keras.saving.load_model(tmp_path / "diffusion.keras")
    np.testing.assert_allclose(loaded.generate(6, steps=10, seed=0), samples, atol=1e-5)
    assert np.isfinite(loaded.fit(digits[:64], epochs=1, verbose=0).history["loss"]).all()


def test_the_network_sees_the_timestep():
    model = zoo.build("diffusion_tiny")
    x = np.random.default_rng(0).normal(size=(2, 8, 8, 1)).astype("float32")
    net = model.network
    for layer in net.layers:  # the output layer starts at zero; give it weights
        if layer.name == "noise":
            layer.kernel.assign(np.random.default_rng(1).normal(size=layer.kernel.shape) * 0.1)
    early = net.predict_on_batch([x, np.array([1.0, 1.0], "float32")])
    late = net.predict_on_batch([x, np.array([90.0, 90.0], "float32")])
    assert not np.allclose(early, late)


def test_diffusion_bad_arguments():
    check_bad_arguments(
        "diffusion_tiny",
        [
            ({"input_shape": (9, 9, 1)}, "value", "multiples of 2"),
            ({"widths": ()}, "value", "widths"),
            ({"timesteps": 1}, "value", "timesteps"),
            ({"beta_end": 2.0}, "value", "beta_end"),
            ({"time_dim": 31}, "value", "time_dim"),
        ],
    )
    with pytest.raises(zoo._validation.ArgumentValueError, match="steps"):
        zoo.build("diffusion_tiny").generate(2, steps=101)


def test_zoo_train_fits_a_diffusion_model(tmp_path):
    result = zoo.train("diffusion_tiny", "digits", task="generative", epochs=1, output=tmp_path)
    assert np.isfinite(result.metrics["loss"])
    assert zoo.load(result.path).generate(2, steps=3, seed=0).shape == (2, 8, 8, 1)
