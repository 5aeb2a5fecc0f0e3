"""Autoencoders: dense and convolutional, denoising, and the variational autoencoder.

References: Hinton and Salakhutdinov, "Reducing the dimensionality of data with
neural networks", Science 2006; Vincent et al., "Extracting and composing robust
features with denoising autoencoders", ICML 2008 (noise on the input in training
only); Kingma and Welling, "Auto-encoding variational Bayes", ICLR 2014 (the
reparameterised Gaussian latent and its KL term). ``autoencoder_mnist`` is the
"simplest possible autoencoder" of the Keras blog (784-32-784, 50,992 parameters).

Every model here is a ``keras.Model`` with an ``encoder`` and a ``decoder``
sub-model, ``encode``/``decode``/``reconstruct`` methods and reconstruction defaults:
``model.compile(); model.fit(x)`` trains it to reproduce ``x``.
"""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np
from keras import ops

from zoo import _validation as v
from zoo._catalogue import Preset, register
from zoo.architectures import _common

KINDS = ("dense", "conv")
OUTPUT_ACTIVATIONS = ("sigmoid", "linear")


@keras.saving.register_keras_serializable(package="zoo")
class GaussianSample(keras.layers.Layer):
    """The reparameterisation trick: ``z = mean + exp(log_var / 2) * eps``.

    It also adds the KL divergence to the unit Gaussian (mean over the batch, summed
    over latent dimensions, times `beta`) as a model loss. At inference it returns
    the mean, so predictions are deterministic.

    Args:
        beta: weight of the KL term.
        seed: seed of the noise.
    """

    def __init__(self, beta: float = 1.0, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.beta = v.check_float("beta", beta, minimum=0.0)
        self.seed = seed
        self.generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        mean, log_var = inputs
        kl = -0.5 * ops.sum(1 + log_var - ops.square(mean) - ops.exp(log_var), axis=-1)
        self.add_loss(self.beta * ops.mean(kl))
        if not training:
            return mean
        noise = keras.random.normal(ops.shape(mean), seed=self.generator)
        return mean + ops.exp(0.5 * log_var) * noise

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "beta": self.beta, "seed": self.seed}


def _check(input_shape, kind, latent_dim, units, filters, noise, output_activation):
    shape = v.check_shape("input_shape", input_shape, ndim=(1, 2, 3))
    kind = v.check_choice("kind", kind, KINDS)
    latent_dim = v.check_int("latent_dim", latent_dim, minimum=1)
    units = v.check_int_sequence("units", units, min_length=0)
    filters = v.check_int_sequence("filters", filters, min_length=1)
    v.check_float("noise", noise, minimum=0.0)
    v.check_choice("output_activation", output_activation, OUTPUT_ACTIVATIONS)
    if kind == "conv":
        if len(shape) != 3:
            raise v.invalid("input_shape", "(height, width, channels) with kind='conv'", shape)
        factor = 2 ** len(filters)
        if shape[0] % factor or shape[1] % factor:
            raise v.ArgumentValueError(
                f"With kind='conv' and {len(filters)} filters, the decoder doubles the size "
                f"{len(filters)} times, so the image height and width must be multiples of "
                f"{factor}. Received: input_shape={shape}"
            )
    return shape, kind, latent_dim, units, filters


def _halving(dtype: Any) -> dict[str, Any]:
    """A stride-2 3x3 ReLU convolution (halving, or transposed, doubling the size)."""
    return {"kernel_size": 3, "strides": 2, "padding": "same", "activation": "relu", "dtype": dtype}


def _encoder(shape, kind, units, filters, latent_dim, heads, dtype):
    inputs = keras.Input(shape=shape, name="inputs")
    x = inputs
    if kind == "conv":
        for i, width in enumerate(filters, start=1):
            x = keras.layers.Conv2D(width, name=f"conv_{i}", **_halving(dtype))(x)
    x = keras.layers.Flatten(name="flatten")(x)
    for i, width in enumerate(units, start=1):
        x = keras.layers.Dense(width, activation="relu", dtype=dtype, name=f"dense_{i}")(x)
    outputs = [
        keras.layers.Dense(latent_dim, activation=activation, dtype=dtype, name=head)(x)
        for head, activation in heads
    ]
    return keras.Model(inputs, outputs if len(outputs) > 1 else outputs[0], name="encoder")


def _decoder(shape, kind, units, filters, latent_dim, output_activation, dtype):
    inputs = keras.Input(shape=(latent_dim,), name="latent")
    x = inputs
    for i, width in enumerate(reversed(units), start=1):
        x = keras.layers.Dense(width, activation="relu", dtype=dtype, name=f"dense_{i}")(x)
    if kind == "conv":
        factor = 2 ** len(filters)
        start = (shape[0] // factor, shape[1] // factor, filters[-1])
        x = keras.layers.Dense(math.prod(start), activation="relu", dtype=dtype, name="project")(x)
        x = keras.layers.Reshape(start, name="reshape")(x)
        for i, width in enumerate(reversed(filters), start=1):
            x = keras.layers.Conv2DTranspose(width, name=f"deconv_{i}", **_halving(dtype))(x)
        outputs = keras.layers.Conv2D(
            shape[-1],
            3,
            padding="same",
            activation=output_activation,
            dtype="float32",
            name="pixels",
        )(x)
    else:
        x = keras.layers.Dense(
            math.prod(shape), activation=output_activation, dtype="float32", name="outputs"
        )(x)
        outputs = keras.layers.Reshape(shape, name="reshape")(x)
    return keras.Model(inputs, outputs, name="decoder")


@keras.saving.register_keras_serializable(package="zoo")
class Autoencoder(_common.CompiledOnLoad, keras.Model):
    """An encoder and a decoder trained to reproduce their input.

    ``noise`` > 0 makes it a denoising autoencoder: Gaussian noise of that standard
    deviation is added to the input in training only. ``compile()`` defaults to Adam
    and binary cross-entropy (sigmoid outputs, data in [0, 1]) or mean squared error
    (linear outputs); ``fit(x)`` uses `x` as the target. Build it with
    ``zoo.build("autoencoder", ...)``; the arguments are those of :func:`autoencoder`.
    """

    variational = False

    def __init__(
        self,
        input_shape: tuple[int, ...],
        kind: str = "dense",
        latent_dim: int = 32,
        units: tuple[int, ...] = (),
        filters: tuple[int, ...] = (32, 64),
        noise: float = 0.0,
        output_activation: str = "sigmoid",
        beta: float = 1.0,
        seed: int | None = None,
        name: str = "autoencoder",
        **kwargs: Any,
    ) -> None:
        dtype = kwargs.pop("dtype", None)
        shape, kind, latent_dim, units, filters = _check(
            input_shape, kind, latent_dim, units, filters, noise, output_activation
        )
        heads = [("z_mean", None), ("z_log_var", None)] if self.variational else [("code", "relu")]
        encoder = _encoder(shape, kind, units, filters, latent_dim, heads, dtype)
        decoder = _decoder(shape, kind, units, filters, latent_dim, output_activation, dtype)
        inputs = keras.Input(shape=shape, name="inputs")
        x = keras.layers.GaussianNoise(noise, seed=seed, name="noise")(inputs) if noise else inputs
        code = encoder(x)
        if self.variational:  # the KL term per input value, as the reconstruction loss
            beta = v.check_float("beta", beta, minimum=0.0)
            code = GaussianSample(beta / math.prod(shape), seed=seed, name="sample")(code)
        outputs = decoder(code)
        super().__init__(inputs, outputs, name=name, **kwargs)
        self.encoder, self.decoder, self.latent_dim = encoder, decoder, latent_dim
        self._zoo_config = {
            "input_shape": shape,
            "kind": kind,
            "latent_dim": latent_dim,
            "units": units,
            "filters": filters,
            "noise": noise,
            "output_activation": output_activation,
            "beta": beta,
            "seed": seed,
            "dtype": dtype,
        }
        self._zoo_loss = "binary_crossentropy" if output_activation == "sigmoid" else "mse"

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, **self._zoo_config}

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: Any = None):
        return cls(**config)

    def compile(self, optimizer: Any = "auto", loss: Any = "auto", metrics: Any = "auto", **kw):
        """Keras's compile, where ``"auto"`` is Adam(1e-3), the reconstruction loss, MAE."""
        optimizer = keras.optimizers.Adam(1e-3) if optimizer == "auto" else optimizer
        loss = self._zoo_loss if loss == "auto" else loss
        metrics = [keras.metrics.MeanAbsoluteError(name="mae")] if metrics == "auto" else metrics
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kw)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        return super().compute_loss(x, x if y is None else y, y_pred, sample_weight, training)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        return super().compute_metrics(x, x if y is None else y, y_pred, sample_weight)

    def encode(self, x: Any) -> np.ndarray:
        """Inputs -> latent codes (a VAE's means)."""
        code = self.encoder.predict(np.asarray(x), verbose=0)
        return code[0] if self.variational else code

    def decode(self, z: Any) -> np.ndarray:
        """Latent codes -> outputs."""
        return self.decoder.predict(np.asarray(z, "float32"), verbose=0)

    def reconstruct(self, x: Any) -> np.ndarray:
        """Inputs -> reconstructions (no noise, a VAE's mean code)."""
        return self.predict(np.asarray(x), verbose=0)


@keras.saving.register_keras_serializable(package="zoo")
class VAE(Autoencoder):
    """A variational autoencoder: Gaussian latent, reparameterised sampling, KL term.

    The loss is the reconstruction loss (a mean over the input values) plus ``beta``
    times the KL divergence divided by the number of input values: Kingma and
    Welling's negative ELBO, divided by that number. The KL part is also reported on
    its own as ``kl_loss``. :meth:`sample` decodes draws from the prior.
    """

    variational = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kl_tracker = keras.metrics.Mean(name="kl_loss")

    @property
    def metrics(self):
        return [*super().metrics, self.kl_tracker]

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        total = super().compute_loss(x, y, y_pred, sample_weight, training)
        kl = ops.sum(ops.stack(self.losses)) if self.losses else ops.zeros(())
        self.kl_tracker.update_state(kl)
        return total

    def sample(self, n: int, seed: int | None = None) -> np.ndarray:
        """Decode `n` draws from the unit Gaussian prior (seeded)."""
        n = v.check_int("n", n, minimum=1)
        seed = v.check_int("seed", seed, minimum=0, allow_none=True)
        z = np.random.default_rng(seed).standard_normal((n, self.latent_dim)).astype("float32")
        return self.decode(z)


PRESETS = {
    "autoencoder_tiny": Preset(
        "A small dense autoencoder for tests (8x8 images, 8-dimensional code).",
        {"input_shape": (8, 8, 1), "units": (16,), "latent_dim": 8},
    ),
    "autoencoder_mnist": Preset(
        "The Keras blog's simplest autoencoder: 784 -> 32 -> 784 (50,992 parameters).",
        {"input_shape": (28, 28, 1), "latent_dim": 32},
    ),
    "conv_autoencoder_tiny": Preset(
        "A small convolutional autoencoder for tests (8x8 images).",
        {"input_shape": (8, 8, 1), "kind": "conv", "filters": (8, 16), "latent_dim": 8},
    ),
    "denoising_autoencoder_mnist": Preset(
        "A convolutional denoising autoencoder for 28x28 images (noise 0.3 in training).",
        {
            "input_shape": (28, 28, 1),
            "kind": "conv",
            "filters": (32, 64),
            "latent_dim": 64,
            "noise": 0.3,
        },
    ),
}

SEARCH_SPACE = {
    "latent_dim": [8, 16, 32, 64],
    "units": [(), (128,), (256, 128)],
    "learning_rate": {"min": 1e-4, "max": 1e-2, "sampling": "log"},
}

VAE_PRESETS = {
    "vae_tiny": Preset(
        "A small dense VAE for tests (8x8 images, 2-dimensional latent).",
        {"input_shape": (8, 8, 1), "units": (16,), "latent_dim": 2},
    ),
    "vae_mnist": Preset(
        "A convolutional VAE for 28x28 images (2-dimensional latent).",
        {
            "input_shape": (28, 28, 1),
            "kind": "conv",
            "filters": (32, 64),
            "units": (16,),
            "latent_dim": 2,
        },
    ),
}

VAE_SPACE = {
    "latent_dim": [2, 8, 16],
    "units": [(64,), (128,), (256, 128)],
    "beta": [0.5, 1.0, 2.0],
    "learning_rate": {"min": 1e-4, "max": 1e-2, "sampling": "log"},
}


@register(
    "autoencoder",
    task="reconstruction",
    description="Dense or convolutional autoencoder; denoising with noise > 0.",
    presets=PRESETS,
    search_space=SEARCH_SPACE,
)
def autoencoder(
    input_shape: tuple[int, ...] = (28, 28, 1),
    *,
    kind: str = "dense",
    latent_dim: int = 32,
    units: tuple[int, ...] = (),
    filters: tuple[int, ...] = (32, 64),
    noise: float = 0.0,
    output_activation: str = "sigmoid",
    seed: int | None = None,
    dtype: Any = None,
    name: str = "autoencoder",
) -> Autoencoder:
    """Build an autoencoder.

    The encoder is (for ``kind="conv"``, stride-2 ReLU convolutions with `filters`,
    then) a flatten, ReLU dense `units` and a ReLU code of `latent_dim`; the decoder
    mirrors it (transposed convolutions) and ends in `output_activation`.

    Args:
        input_shape: shape of one example; (height, width, channels) for ``"conv"``,
            whose height and width must be multiples of ``2 ** len(filters)``.
        kind: ``"dense"`` or ``"conv"``.
        latent_dim: size of the code.
        units: hidden dense widths of the encoder (mirrored in the decoder).
        filters: convolution widths for ``kind="conv"``.
        noise: standard deviation of the Gaussian noise added to inputs in training
            (a denoising autoencoder); 0 for none.
        output_activation: ``"sigmoid"`` (data in [0, 1]) or ``"linear"``.
        seed: seed of the training noise.
        dtype: dtype policy; outputs stay float32.
        name: model name.

    Returns:
        An uncompiled :class:`Autoencoder`.

    Raises:
        ValueError: invalid values, such as a latent size below 1 or an image size
            the decoder cannot produce. TypeError: wrong types.

    Example:
        >>> model = zoo.build("autoencoder_tiny")
        >>> model.compile(); model.fit(x, epochs=5)  # x: images in [0, 1]
    """
    v.check_dtype("dtype", dtype)
    v.check_name("name", name)
    seed = v.check_int("seed", seed, minimum=0, allow_none=True)
    return Autoencoder(
        input_shape,
        kind,
        latent_dim,
        units,
        filters,
        noise,
        output_activation,
        seed=seed,
        name=name,
        dtype=dtype,
    )


@register(
    "vae",
    task="reconstruction",
    description="Variational autoencoder: Gaussian latent, KL term, sample().",
    presets=VAE_PRESETS,
    family="autoencoder",
    search_space=VAE_SPACE,
)
def vae(
    input_shape: tuple[int, ...] = (28, 28, 1),
    *,
    kind: str = "dense",
    latent_dim: int = 2,
    units: tuple[int, ...] = (128,),
    filters: tuple[int, ...] = (32, 64),
    beta: float = 1.0,
    output_activation: str = "sigmoid",
    seed: int | None = None,
    dtype: Any = None,
    name: str = "vae",
) -> VAE:
    """Build a variational autoencoder (Kingma and Welling, 2014).

    Like :func:`autoencoder`, with a Gaussian latent: the encoder gives ``z_mean``
    and ``z_log_var``, a reparameterised sample is decoded in training (the mean at
    inference), and ``beta`` times the KL divergence joins the loss.

    Args:
        input_shape: shape of one example (see :func:`autoencoder`).
        kind: ``"dense"`` or ``"conv"``.
        latent_dim: size of the latent space.
        units: hidden dense widths of the encoder (mirrored in the decoder).
        filters: convolution widths for ``kind="conv"``.
        beta: weight of the KL term (1 is the original VAE).
        output_activation: ``"sigmoid"`` (data in [0, 1]) or ``"linear"``.
        seed: seed of the sampling noise.
        dtype: dtype policy; outputs stay float32.
        name: model name.

    Returns:
        An uncompiled :class:`VAE` with ``encode``, ``decode``, ``sample`` and
        ``reconstruct``.

    Raises:
        ValueError: invalid values. TypeError: wrong types.

    Example:
        >>> model = zoo.build("vae_tiny")
        >>> model.compile(); model.fit(x, epochs=5); model.sample(16, seed=0)
    """
    v.check_dtype("dtype", dtype)
    v.check_name("name", name)
    seed = v.check_int("seed", seed, minimum=0, allow_none=True)
    return VAE(
        input_shape,
        kind,
        latent_dim,
        units,
        filters,
        0.0,
        output_activation,
        beta,
        seed=seed,
        name=name,
        dtype=dtype,
    )
