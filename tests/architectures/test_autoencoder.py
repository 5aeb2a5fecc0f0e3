import keras
import numpy as np
import pytest
from architecture_checks import check_architecture, check_bad_arguments
from sklearn.datasets import load_digits

import zoo


@pytest.fixture(scope="module")
def digits():
    """The bundled 8x8 digits in [0, 1]: 1,500 to train on, the rest held out."""
    images = (load_digits().images / 16.0).astype("float32")[..., None]
    return images[:1500], images[1500:]


@pytest.mark.parametrize("name", ["autoencoder_tiny", "conv_autoencoder_tiny", "vae_tiny"])
def test_shared_checks(name, tmp_path):
    model = check_architecture(name, tmp_path)
    assert model.get_layer("encoder") is model.encoder
    assert model.output_shape == (None, 8, 8, 1)


def test_keras_blog_autoencoder_parameter_count():
    assert zoo.count_params("autoencoder_mnist")["total"] == 50_992  # 784-32-784


# A VAE trades some reconstruction for a regular latent space, hence its looser bar.
@pytest.mark.parametrize(
    ("name", "bar"), [("autoencoder_tiny", 0.7), ("conv_autoencoder_tiny", 0.6), ("vae_tiny", 0.9)]
)
def test_reconstructs_held_out_digits_better_than_their_mean(name, bar, digits):
    keras.utils.set_random_seed(0)
    train, held_out = digits
    model = zoo.build(name)
    model.compile()  # the defaults: Adam, binary cross-entropy, MAE
    history = model.fit(train, batch_size=64, epochs=30, verbose=0).history
    assert np.isfinite(history["loss"]).all()
    error = np.mean((model.reconstruct(held_out) - held_out) ** 2)
    baseline = np.mean((train.mean(axis=0) - held_out) ** 2)  # predicting the mean image
    assert error < bar * baseline, (error, baseline)
    assert model.encode(held_out[:3]).shape == (3, model.latent_dim)
    assert model.decode(model.encode(held_out[:3])).shape == (3, 8, 8, 1)


def test_denoising_noise_is_applied_only_in_training(digits):
    model = zoo.build("autoencoder_tiny", noise=0.5, seed=1)
    x = digits[1][:4]
    a, b = model(x, training=False), model(x, training=False)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))
    c = model(x, training=True)
    assert not np.allclose(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(c))


def test_vae_reports_its_kl_term_samples_and_round_trips(digits, tmp_path):
    keras.utils.set_random_seed(0)
    model = zoo.build("vae_tiny")
    model.compile()
    history = model.fit(digits[0], batch_size=64, epochs=3, verbose=0).history
    assert "kl_loss" in history and all(k >= 0 for k in history["kl_loss"])
    samples = model.sample(6, seed=3)
    assert samples.shape == (6, 8, 8, 1) and samples.min() >= 0 and samples.max() <= 1
    np.testing.assert_array_equal(samples, model.sample(6, seed=3))
    model.save(tmp_path / "vae.keras")
    loaded = keras.saving.load_model(tmp_path / "vae.keras")
    np.testing.assert_allclose(loaded.sample(6, seed=3), samples, atol=1e-6)
    np.testing.assert_allclose(
        loaded.reconstruct(digits[1][:5]), model.reconstruct(digits[1][:5]), atol=1e-6
    )
    assert "kl_loss" in loaded.fit(digits[0][:64], epochs=1, verbose=0).history  # compiled


def test_autoencoder_bad_arguments():
    check_bad_arguments(
        "autoencoder_tiny",
        [
            ({"latent_dim": 0}, "value", "latent_dim"),
            ({"kind": "sparse"}, "value", "'dense', 'conv'"),
            ({"noise": -0.1}, "value", "noise"),
            ({"output_activation": "tanh"}, "value", "output_activation"),
            ({"kind": "conv", "input_shape": (64,)}, "value", "input_shape"),
        ],
    )
    check_bad_arguments(
        "conv_autoencoder_tiny",
        [({"input_shape": (10, 10, 1)}, "value", "multiples of 4")],
    )
    check_bad_arguments("vae_tiny", [({"beta": -1.0}, "value", "beta")])


def test_zoo_train_fits_a_vae_on_its_reconstruction_objective(tmp_path):
    # The architecture implies the task: labelled digits train it as an autoencoder.
    result = zoo.train("vae_tiny", "digits", epochs=2, output=tmp_path)
    assert {"loss", "mae", "kl_loss"} <= set(result.metrics)
    assert result.metrics.keys() == zoo.evaluate(result.model, "digits").metrics.keys()
    assert zoo.load(result.path).sample(2, seed=0).shape == (2, 8, 8, 1)
