"""zoo.tasks: which task a model trains on, how zoo compiles it, what a search optimises."""

import keras
import numpy as np
import pytest

import zoo
from zoo import engine, tasks
from zoo._validation import ArgumentTypeError, ArgumentValueError
from zoo.architectures.gan import kernel_mmd


@pytest.fixture(scope="module")
def digits():
    return zoo.data.load("digits")


@pytest.fixture(scope="module")
def zen():
    return zoo.data.load("zen", task="language_modeling", sequence_length=16)


def test_the_architecture_implies_the_task_and_an_explicit_task_wins(digits, zen):
    assert tasks.resolve(None, "vae_tiny", digits) == "autoencoder"
    assert tasks.resolve(None, "dcgan_tiny", digits) == "generative"
    assert tasks.resolve(None, "diffusion_tiny", digits) == "generative"
    assert tasks.resolve(None, "mlp_tiny", digits) == "classification"  # the data's
    assert tasks.resolve(None, "gpt_tiny", zen) == "language_modeling"
    assert tasks.resolve("autoencoder", "mlp_tiny", digits) == "autoencoder"
    assert tasks.resolve(None, zoo.build("vae_tiny"), digits) == "autoencoder"
    assert (
        tasks.resolve(None, keras.Sequential([keras.layers.Dense(1)]), digits) == "classification"
    )
    assert tasks.data_task(None, "gpt_tiny") == "language_modeling"
    assert tasks.data_task(None, "vae_tiny") is None


def test_language_models_and_their_data_go_together(digits, zen):
    with pytest.raises(ArgumentValueError, match="language-modelling data"):
        tasks.resolve(None, "gpt_tiny", digits)
    with pytest.raises(ArgumentValueError, match="language-modelling data"):
        tasks.resolve("classification", "gpt_tiny", zen)
    with pytest.raises(ArgumentValueError, match="'language_modeling', 'generative'"):
        tasks.resolve("captioning", "gpt_tiny", zen)


def test_models_that_compile_themselves_keep_their_choice_unless_told(zen):
    gpt = zoo.build("gpt_tiny")
    engine.compile_model(gpt, "language_modeling", learning_rate=1e-3)
    assert isinstance(gpt.optimizer, keras.optimizers.AdamW)  # GPT's own optimizer
    assert np.isclose(float(gpt.optimizer.learning_rate), 1e-3)
    gan = zoo.build("dcgan_tiny")
    given = keras.optimizers.SGD(0.01)
    engine.compile_model(gan, "generative", optimizer=given)
    assert gan.d_optimizer is given and isinstance(gan.g_optimizer, keras.optimizers.SGD)
    assert gan.g_optimizer is not given  # one optimizer per network
    plain = keras.Sequential([keras.Input((16,), dtype="int32"), keras.layers.Embedding(50, 8)])
    engine.compile_model(plain, "language_modeling", optimizer="sgd", learning_rate=0.5)
    assert isinstance(plain.optimizer, keras.optimizers.SGD)
    assert np.isclose(float(plain.optimizer.learning_rate), 0.5)
    with pytest.raises(ArgumentValueError, match="plain models"):
        tasks.losses_and_metrics(plain, "generative")
    with pytest.raises(ArgumentTypeError, match="optimizer name"):
        zoo.optimizers.factory(3)
    with pytest.raises(ArgumentValueError, match="'auto' or a Keras optimizer name"):
        zoo.train("mlp_tiny", "digits", optimizer="adamm", save=False)


def test_search_objectives_include_a_models_own_metrics(digits):
    gan = zoo.build("dcgan_tiny")
    engine.compile_model(gan, "generative")
    # mmd is reported on held-out data only.
    assert tasks.objectives("generative", gan, True) == [
        "d_loss",
        "g_loss",
        "val_d_loss",
        "val_g_loss",
        "val_mmd",
    ]
    assert tasks.default_objective("generative", gan) == "mmd"
    vae = zoo.build("vae_tiny")
    engine.compile_model(vae, "autoencoder")
    assert tasks.objectives("autoencoder", vae, False) == ["loss", "mae", "kl_loss"]
    assert tasks.objectives("regression", None, False) == ["loss", "mae", "rmse"]


def test_kernel_mmd_is_zero_for_the_same_images_and_grows_as_they_part():
    rng = np.random.default_rng(0)
    real = rng.uniform(-1, 1, (32, 8, 8, 1)).astype("float32")
    other = rng.uniform(-1, 1, (32, 8, 8, 1)).astype("float32")
    same = float(kernel_mmd(real, real))
    near = float(kernel_mmd(real, other))
    far = float(kernel_mmd(real, np.clip(other + 0.8, -1, 1)))
    assert abs(same) < 1e-6 and 0 < near < far
    assert np.isclose(near, float(kernel_mmd(other, real)), atol=1e-6)


def test_gans_and_diffusion_get_images_in_minus_one_to_one():
    import tensorflow as tf

    assert zoo.build("dcgan_tiny").input_range == (-1.0, 1.0)
    assert zoo.build("diffusion_tiny").input_range == (-1.0, 1.0)
    images = np.linspace(0, 1, 4 * 8 * 8).reshape(4, 8, 8, 1).astype("float32")
    unit = tf.data.Dataset.from_tensor_slices((images, np.zeros(4))).batch(2)
    x = np.concatenate([b[0] for b in tasks.feed(unit, "generative", (-1.0, 1.0))])
    np.testing.assert_allclose(x, images * 2 - 1, atol=1e-6)
    symmetric = tf.data.Dataset.from_tensor_slices((images * 2 - 1, np.zeros(4))).batch(2)
    x = np.concatenate([b[0] for b in tasks.feed(symmetric, "generative", (-1.0, 1.0))])
    np.testing.assert_allclose(x, images * 2 - 1, atol=1e-6)  # left as it was
    assert tasks.feed(unit, "generative") is unit  # models without a range: unchanged
    pixels = tf.data.Dataset.from_tensor_slices((images * 255, np.zeros(4))).batch(2)
    with pytest.raises(ArgumentValueError, match=r"\[0, 1\] or \[-1, 1\].*rescale=True"):
        tasks.feed(pixels, "generative", (-1.0, 1.0))


def test_zoo_train_feeds_a_gan_minus_one_to_one(digits):
    result = zoo.train("dcgan_tiny", digits, epochs=5, save=False, verbose=0)
    samples = result.model.generate(64, seed=0)
    # Most of a digit is background: 0 in [0, 1], -1 once mapped. Trained on [0, 1]
    # (as before zoo mapped them) the samples' mean was positive.
    assert samples.mean() < -0.1 and samples.min() < -0.5


def test_an_unconditional_gan_is_fed_images_alone_and_a_conditional_one_class_ids():
    import tensorflow as tf

    images = np.linspace(0, 1, 4 * 8 * 8).reshape(4, 8, 8, 1).astype("float32")
    labelled = tf.data.Dataset.from_tensor_slices((images, np.arange(4))).batch(2)
    fed = tasks.feed(labelled, "generative", model=zoo.build("dcgan_tiny", num_classes=10))
    assert not isinstance(fed.element_spec, tuple)  # the images alone, in [-1, 1]
    np.testing.assert_allclose(np.concatenate(list(fed)), images * 2 - 1, atol=1e-6)
    conditional = zoo.build("cdcgan_tiny")
    x, y = next(iter(tasks.feed(labelled, "generative", model=conditional)))
    np.testing.assert_array_equal(y, [0, 1])
    np.testing.assert_allclose(x, images[:2] * 2 - 1, atol=1e-6)
    targets = tf.data.Dataset.from_tensor_slices((images, np.zeros(4, "float32"))).batch(2)
    with pytest.raises(ArgumentValueError, match=r"class ids.*conditional GAN.*float32 targets"):
        tasks.feed(targets, "generative", model=conditional)
    with pytest.raises(ArgumentValueError, match="no labels"):
        tasks.feed(labelled.map(lambda x, y: x), "generative", model=conditional)
    # Models that do not say (diffusion, a user's own) keep their pairs.
    kept = tasks.feed(labelled, "generative", model=zoo.build("diffusion_tiny"))
    assert isinstance(kept.element_spec, tuple)
