import contextlib

import keras
import numpy as np
import pytest
from architecture_checks import check_bad_arguments
from sklearn.datasets import load_digits

import zoo
from zoo._validation import ArgumentValueError

ON_TWO_JAX_DEVICES = pytest.mark.skipif(
    keras.backend.backend() != "jax",
    reason="data parallel on Keras's JAX backend (the suite's JAX pass, 2 CPU devices)",
)


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
    gan = zoo.build("dcgan_tiny", num_classes=10, conditional=True)
    assert gan.conditional and gan.num_classes == 10
    gan.compile()
    history = gan.fit(images[:256], labels[:256], batch_size=64, epochs=1, verbose=0).history
    assert np.isfinite(history["d_loss"]).all()
    samples = gan.generate(3, seed=0, labels=[1, 2, 3])
    assert samples.shape == (3, 8, 8, 1)
    gan.save(tmp_path / "cgan.keras")
    loaded = keras.saving.load_model(tmp_path / "cgan.keras")
    assert loaded.conditional
    np.testing.assert_allclose(loaded.generate(3, seed=0, labels=[1, 2, 3]), samples, atol=1e-6)
    for bad in (None, [1, 2], [0, 1, 10]):
        with pytest.raises(ArgumentValueError, match="labels"):
            gan.generate(3, seed=0, labels=bad)


def test_a_gan_is_conditional_only_when_asked(digits):
    images, labels = digits
    # num_classes alone (as zoo.train passes labelled data's) does not make it conditional.
    gan = zoo.build("dcgan_tiny", num_classes=10)
    assert not gan.conditional and gan.num_classes is None
    assert gan.get_config()["num_classes"] is None
    assert len(gan.generator.inputs) == 1 and len(gan.discriminator.inputs) == 1
    gan.compile()
    gan.fit(images[:128], labels[:128], batch_size=64, epochs=1, verbose=0)  # labels ignored
    assert gan.generate(2, seed=0).shape == (2, 8, 8, 1)
    with pytest.raises(ArgumentValueError, match=r"None for an unconditional GAN.*cdcgan_tiny"):
        gan.generate(2, seed=0, labels=[1, 2])
    for name in ("cdcgan_tiny", "dcgan_mnist"):  # the conditional presets
        assert zoo.build(name).conditional
    assert zoo.build("cdcgan_tiny", num_classes=3).num_classes == 3


def test_a_conditional_gan_needs_class_ids_before_training(digits):
    import tensorflow as tf

    images, labels = digits
    gan = zoo.build("cdcgan_tiny")
    gan.compile()
    before = [w.copy() for w in gan.get_weights()]
    for data in (
        (images[:64],),
        (images[:64], labels[:64].astype("float32")),
        (tf.data.Dataset.from_tensor_slices(images[:64]).batch(32),),
    ):
        with pytest.raises(ArgumentValueError, match=r"integer class ids.*conditional GAN"):
            gan.fit(*data, epochs=1, verbose=0)
    with pytest.raises(ArgumentValueError, match="no labels"):
        gan.fit(images[:64], labels[:64], validation_data=(images[:8], None), verbose=0)
    for old, new in zip(before, gan.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)  # nothing trained


def test_gan_bad_arguments():
    check_bad_arguments(
        "dcgan_tiny",
        [
            ({"input_shape": (12, 12, 1)}, "value", "4 times a power of 2"),
            ({"input_shape": (8, 16, 1)}, "value", "square"),
            ({"input_shape": (3, 3, 1)}, "value", "Received: input_shape=(3, 3, 1)"),
            ({"input_shape": [12, 12, 1]}, "value", "`input_shape` must be a square image"),
            ({"latent_dim": 0}, "value", "latent_dim"),
            ({"filters": 0}, "value", "filters"),
            ({"num_classes": 1, "conditional": True}, "value", "num_classes"),
            ({"conditional": True}, "value", "number of classes (2 or more)"),
            ({"conditional": "yes"}, "type", "conditional"),
        ],
    )
    with pytest.raises(ArgumentValueError, match="n"):
        zoo.build("dcgan_tiny").generate(0)


def test_zoo_train_on_labelled_data_gives_an_unconditional_gan(tmp_path):
    result = zoo.train("dcgan_tiny", "digits", epochs=1, output=tmp_path / "g", verbose=0)
    assert result.model.num_classes is None and not result.model.conditional
    assert {"d_loss", "g_loss", "mmd"} <= set(result.metrics)
    samples = result.model.generate(4, seed=0)
    assert samples.shape == (4, 8, 8, 1)
    np.testing.assert_allclose(zoo.load(result.path).generate(4, seed=0), samples, atol=1e-6)


def test_zoo_train_fits_a_conditional_gan_when_asked():
    for name, options in (("cdcgan_tiny", {}), ("dcgan_tiny", {"conditional": True})):
        result = zoo.train(name, "digits", epochs=1, save=False, verbose=0, **options)
        assert result.model.conditional and result.model.num_classes == 10
        assert result.model.generate(2, seed=0, labels=[3, 4]).shape == (2, 8, 8, 1)


def test_zoo_train_stops_a_conditional_gan_on_unlabelled_data():
    images = load_digits().images[..., None].astype("float32") / 16.0
    unlabelled = zoo.data.load(images, np.zeros(len(images), "float32"), task="regression")
    with pytest.raises(ArgumentValueError, match=r"class ids.*conditional GAN.*float32 targets"):
        zoo.train("cdcgan_tiny", unlabelled, epochs=1, save=False, verbose=0)


def test_zero_weight_rows_do_not_count(digits):
    # zoo pads batches split over devices with zero-weight rows: they must not move the
    # losses or the MMD. In evaluation the networks treat rows independently, so
    # garbage in those rows must give the same scores as the copies zoo pads with.
    # (Keras passes sample weights on only with labels: (images, labels, weights).)
    images, labels = digits
    gan = zoo.build("cdcgan_tiny")
    gan.compile()
    weights = np.array([1.0] * 6 + [0.0] * 2, "float32")
    padded = np.concatenate([images[:6], images[5:6], images[5:6]])
    garbage = np.concatenate([images[:6], np.full((2, 8, 8, 1), 5.0, "float32")])
    classes = np.concatenate([labels[:6], labels[5:6], labels[5:6]])
    seed = np.asarray(gan.seed_generator.state.value)
    scores = []
    for batch, w in ((padded, weights), (garbage, weights), (garbage, None)):
        gan.seed_generator.state.assign(seed)  # the same noise each time
        scores.append(
            gan.evaluate(batch, classes, sample_weight=w, batch_size=8, verbose=0, return_dict=True)
        )
    for name in ("d_loss", "mmd"):
        np.testing.assert_allclose(scores[0][name], scores[1][name], rtol=1e-5)
        assert not np.isclose(scores[1][name], scores[2][name], rtol=1e-4)  # weights matter
    np.testing.assert_allclose(scores[0]["g_loss"], scores[1]["g_loss"], rtol=1e-5)


def test_every_step_draws_new_noise_and_updates_both_networks(digits):
    images, labels = digits
    gan = zoo.build("cdcgan_tiny")
    gan.compile()
    assert len(gan.optimizer.variables) == len(gan.d_optimizer.variables) + len(
        gan.g_optimizer.variables
    )
    start = np.asarray(gan.seed_generator.state.value).copy()
    halve = keras.callbacks.LearningRateScheduler(lambda epoch, rate: rate / 2)
    gan.fit(
        images[:96],
        labels[:96],
        sample_weight=np.linspace(0, 1, 96),
        batch_size=32,
        epochs=1,
        callbacks=[halve],
        verbose=0,
    )
    # Two draws per step (one per network), three steps: the noise changed every time.
    assert (np.asarray(gan.seed_generator.state.value) - start).tolist() == [0, 6]
    assert int(gan.d_optimizer.iterations) == int(gan.g_optimizer.iterations) == 3
    for optimizer in (gan.d_optimizer, gan.g_optimizer):  # Keras's callbacks see both
        assert np.isclose(float(optimizer.learning_rate), 1e-4)
    gan.evaluate(images[:64], labels[:64], batch_size=32, verbose=0)
    assert (np.asarray(gan.seed_generator.state.value) - start).tolist() == [0, 8]
    with pytest.raises(ArgumentValueError, match=r"d_optimizer= and g_optimizer="):
        gan.compile(optimizer="adam")


@ON_TWO_JAX_DEVICES
def test_data_parallel_training_matches_one_device(digits):
    import jax

    if len(jax.local_devices()) < 2:
        pytest.skip("needs 2 JAX devices (XLA_FLAGS=--xla_force_host_platform_device_count=2)")
    images, labels = digits
    weights = np.ones(160, "float32")
    weights[150:] = 0.0  # as zoo pads an uneven batch
    strategy = zoo.distribute.strategy("auto")
    assert strategy.num_replicas_in_sync == 2
    runs = []
    for scope in (contextlib.nullcontext(), strategy.scope()):
        keras.utils.set_random_seed(0)
        with scope:
            gan = zoo.build("cdcgan_tiny")
            gan.compile()
            history = gan.fit(
                images[:160],
                labels[:160],
                sample_weight=weights,
                batch_size=32,
                epochs=1,
                shuffle=False,
                verbose=0,
            ).history
            scores = gan.evaluate(
                images[:64], labels[:64], batch_size=32, verbose=0, return_dict=True
            )
        devices = gan.d_optimizer.iterations.value.sharding.device_set
        runs.append((history, scores, gan.get_weights(), len(devices)))
    (one, one_scores, one_weights, one_devices), (two, two_scores, two_weights, two_devices) = runs
    assert (one_devices, two_devices) == (1, 2)
    for name in ("d_loss", "g_loss"):
        np.testing.assert_allclose(one[name], two[name], rtol=1e-4)
    for name in ("d_loss", "g_loss", "mmd"):
        np.testing.assert_allclose(one_scores[name], two_scores[name], rtol=1e-4)
    for a, b in zip(one_weights, two_weights, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_under_float16_each_network_scales_its_loss(digits, tmp_path):
    images, _ = digits
    with zoo.distribute.dtype_policy("mixed_float16"):
        gan = zoo.build("dcgan_tiny")
        gan.compile()
    for optimizer in (gan.d_optimizer, gan.g_optimizer):
        assert isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
    history = gan.fit(images[:64], batch_size=32, epochs=1, verbose=0).history
    assert np.isfinite(history["d_loss"]).all() and np.isfinite(history["g_loss"]).all()
    gan.save(tmp_path / "gan.keras")
    loaded = keras.saving.load_model(tmp_path / "gan.keras")
    assert isinstance(loaded.g_optimizer, keras.optimizers.LossScaleOptimizer)
    assert int(loaded.g_optimizer.iterations) == int(gan.g_optimizer.iterations)
