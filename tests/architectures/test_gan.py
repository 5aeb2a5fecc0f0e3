import keras
import numpy as np
import pytest
from architecture_checks import check_bad_arguments
from sklearn.datasets import load_digits

import zoo
from zoo._validation import ArgumentValueError


@pytest.fixture(scope="module")
def digits():
    """The bundled 8x8 digits scaled to [-1, 1], with their labels."""
    data = load_digits()
    return (data.images / 8.0 - 1.0).astype("float32")[..., None], data.target


def _trainable(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


def test_dcgan_64_matches_the_reference_implementation():
    # The PyTorch DCGAN tutorial (latent 100, ngf = ndf = 64, 64x64x3).
    gan = zoo.build("dcgan_64")
    assert _trainable(gan.generator) == 3_576_704
    assert _trainable(gan.discriminator) == 2_765_568
    assert gan.generator.output_shape == (None, 64, 64, 3)
    assert gan.discriminator.output_shape == (None, 1)


def test_training_is_stable_on_small_data(digits, tmp_path):
    keras.utils.set_random_seed(0)
    images, _ = digits
    gan = zoo.build("dcgan_tiny")
    gan.compile()  # Adam(2e-4, beta_1=0.5) for each network
    history = gan.fit(images, batch_size=64, epochs=6, verbose=0).history
    d_loss, g_loss = np.array(history["d_loss"]), np.array(history["g_loss"])
    assert np.isfinite(d_loss).all() and np.isfinite(g_loss).all()
    assert d_loss.min() > 0.1  # the discriminator has not won outright
    assert g_loss.max() < 5.0  # nor has the generator's loss blown up
    samples = gan.generate(16, seed=1)
    assert samples.shape == (16, 8, 8, 1)
    assert samples.min() >= -1.0 and samples.max() <= 1.0
    assert samples.std(axis=0).mean() > 0.01  # different noise, different images
    np.testing.assert_array_equal(samples, gan.generate(16, seed=1))
    gan.save(tmp_path / "gan.keras")
    loaded = keras.saving.load_model(tmp_path / "gan.keras")
    np.testing.assert_allclose(loaded.generate(16, seed=1), samples, atol=1e-6)
    assert loaded.get_config() == gan.get_config()
    loaded.fit(images[:128], batch_size=64, epochs=1, verbose=0)  # compiled again on load


def test_conditional_gan_takes_labels(digits, tmp_path):
    images, labels = digits
    gan = zoo.build("dcgan_tiny", num_classes=10)
    gan.compile()
    history = gan.fit(images[:256], labels[:256], batch_size=64, epochs=1, verbose=0).history
    assert np.isfinite(history["d_loss"]).all()
    samples = gan.generate(3, seed=0, labels=[1, 2, 3])
    assert samples.shape == (3, 8, 8, 1)
    gan.save(tmp_path / "cgan.keras")
    loaded = keras.saving.load_model(tmp_path / "cgan.keras")
    np.testing.assert_allclose(loaded.generate(3, seed=0, labels=[1, 2, 3]), samples, atol=1e-6)
    for bad in (None, [1, 2], [0, 1, 10]):
        with pytest.raises(ArgumentValueError, match="labels"):
            gan.generate(3, seed=0, labels=bad)


def test_gan_bad_arguments():
    check_bad_arguments(
        "dcgan_tiny",
        [
            ({"input_shape": (12, 12, 1)}, "value", "4 times a power of 2"),
            ({"input_shape": (8, 16, 1)}, "value", "square"),
            ({"latent_dim": 0}, "value", "latent_dim"),
            ({"filters": 0}, "value", "filters"),
            ({"num_classes": 1}, "value", "num_classes"),
        ],
    )
    with pytest.raises(ArgumentValueError, match="n"):
        zoo.build("dcgan_tiny").generate(0)


def test_zoo_train_fits_a_gan_through_its_own_losses(tmp_path):
    # Labelled data gives a class-conditional GAN (num_classes=None for an unconditional one).
    result = zoo.train("dcgan_tiny", "digits", task="generative", epochs=1, output=tmp_path / "g")
    assert {"d_loss", "g_loss"} <= set(result.metrics) and result.model.num_classes == 10
    assert zoo.load(result.path).generate(2, seed=0, labels=[3, 4]).shape == (2, 8, 8, 1)
