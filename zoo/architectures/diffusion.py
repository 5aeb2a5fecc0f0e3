"""A denoising diffusion model: DDPM training with a compact U-Net.

References: Ho, Jain and Abbeel, "Denoising diffusion probabilistic models", NeurIPS
2020 (the linear noise schedule, predicting the added noise with a U-Net that sees
the timestep through a sinusoidal embedding, the simple MSE loss); Song, Meng and
Ermon, "Denoising diffusion implicit models", ICLR 2021 (deterministic sampling in
fewer steps from the same trained network, used by ``generate``).

A :class:`Diffusion` model is a ``keras.Model`` whose ``network`` predicts noise;
``compile(); fit(images)`` trains it on images scaled to [-1, 1], and
``generate(n, steps, seed)`` samples new ones.
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


@keras.saving.register_keras_serializable(package="zoo")
class SinusoidalEmbedding(keras.layers.Layer):
    """Timesteps (batch,) -> the Transformer's sinusoidal features (batch, dim).

    Args:
        dim: an even feature size.
    """

    def __init__(self, dim: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dim = v.check_int("dim", dim, minimum=2)

    def call(self, t):
        half = self.dim // 2
        frequencies = ops.exp(-math.log(10000.0) * ops.arange(half, dtype="float32") / half)
        angles = ops.cast(ops.reshape(t, (-1, 1)), "float32") * ops.expand_dims(frequencies, 0)
        return ops.concatenate([ops.sin(angles), ops.cos(angles)], axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.dim // 2 * 2)

    def get_config(self):
        return {**super().get_config(), "dim": self.dim}


def _groups(channels: int) -> int:
    return math.gcd(channels, 8)


def _res_block(x, time, width, name):
    skip = x
    if x.shape[-1] != width:
        skip = keras.layers.Conv2D(width, 1, name=f"{name}_skip")(x)
    x = keras.layers.GroupNormalization(_groups(x.shape[-1]), name=f"{name}_norm_1")(x)
    x = keras.layers.Activation("swish", name=f"{name}_act_1")(x)
    x = keras.layers.Conv2D(width, 3, padding="same", name=f"{name}_conv_1")(x)
    shift = keras.layers.Dense(width, name=f"{name}_time")(time)
    x = keras.layers.Add(name=f"{name}_add_time")(
        [x, keras.layers.Reshape((1, 1, width), name=f"{name}_time_map")(shift)]
    )
    x = keras.layers.GroupNormalization(_groups(width), name=f"{name}_norm_2")(x)
    x = keras.layers.Activation("swish", name=f"{name}_act_2")(x)
    x = keras.layers.Conv2D(width, 3, padding="same", name=f"{name}_conv_2")(x)
    return keras.layers.Add(name=f"{name}_out")([x, skip])


def unet(image_shape: tuple[int, int, int], widths: tuple[int, ...], time_dim: int):
    """The noise predictor: ([noisy images, timesteps]) -> predicted noise."""
    images = keras.Input(shape=image_shape, name="noisy_images")
    steps = keras.Input(shape=(), name="timesteps")
    time = SinusoidalEmbedding(time_dim, name="time_embedding")(steps)
    time = keras.layers.Dense(time_dim, activation="swish", name="time_mlp")(time)
    x = keras.layers.Conv2D(widths[0], 3, padding="same", name="stem")(images)
    skips = []
    for level, width in enumerate(widths):
        x = _res_block(x, time, width, f"down_{level}")
        if level < len(widths) - 1:
            skips.append(x)
            x = keras.layers.AveragePooling2D(2, name=f"down_{level}_pool")(x)
    x = _res_block(x, time, widths[-1], "middle")
    for level in reversed(range(len(widths) - 1)):
        x = keras.layers.UpSampling2D(name=f"up_{level}_upsample")(x)
        x = keras.layers.Concatenate(name=f"up_{level}_concat")([x, skips[level]])
        x = _res_block(x, time, widths[level], f"up_{level}")
    x = keras.layers.GroupNormalization(_groups(widths[0]), name="out_norm")(x)
    x = keras.layers.Activation("swish", name="out_act")(x)
    noise = keras.layers.Conv2D(
        image_shape[-1], 3, padding="same", kernel_initializer="zeros", name="noise"
    )(x)
    return keras.Model([images, steps], noise, name="network")


@keras.saving.register_keras_serializable(package="zoo")
class Diffusion(_common.CompiledOnLoad, keras.Model):
    """DDPM: learns to predict the noise added to images at a random timestep.

    In training, ``call(images)`` draws a timestep and Gaussian noise per image,
    noises the images by the schedule and returns the network's noise prediction
    next to the true noise (concatenated on the channel axis); the loss is their
    mean squared error. ``compile()`` defaults to Adam(1e-3).
    """

    #: The pixel range it trains on and generates (zoo.train maps [0, 1] images here).
    input_range = (-1.0, 1.0)

    def __init__(
        self,
        input_shape: tuple[int, int, int] = (8, 8, 1),
        widths: tuple[int, ...] = (32, 64),
        timesteps: int = 200,
        beta_start: float = 1e-4,
        beta_end: float = 0.02,
        time_dim: int = 32,
        name: str = "diffusion",
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name, **kwargs)
        self.image_shape = tuple(input_shape)
        self.widths = tuple(widths)
        self.timesteps = timesteps
        self.beta_start, self.beta_end = beta_start, beta_end
        self.time_dim = time_dim
        self.network = unet(self.image_shape, self.widths, time_dim)
        betas = np.linspace(beta_start, beta_end, timesteps, dtype="float64")
        self.alpha_bars = np.cumprod(1.0 - betas).astype("float32")  # a constant, not a weight
        self.seed_generator = keras.random.SeedGenerator(0)
        self.built = True

    def get_config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "input_shape": self.image_shape,
            "widths": self.widths,
            "timesteps": self.timesteps,
            "beta_start": self.beta_start,
            "beta_end": self.beta_end,
            "time_dim": self.time_dim,
        }

    def call(self, images, training=None):
        batch = ops.shape(images)[0]
        t = keras.random.randint((batch,), 0, self.timesteps, seed=self.seed_generator)
        noise = keras.random.normal(ops.shape(images), seed=self.seed_generator)
        alpha_bar = ops.reshape(ops.take(ops.convert_to_tensor(self.alpha_bars), t), (-1, 1, 1, 1))
        noisy = ops.sqrt(alpha_bar) * images + ops.sqrt(1.0 - alpha_bar) * noise
        predicted = self.network([noisy, ops.cast(t, "float32")], training=training)
        return ops.concatenate([predicted, noise], axis=-1)

    def compile(self, optimizer: Any = "auto", **kwargs: Any):
        """Keras's compile, where ``"auto"`` is Adam(1e-3); the loss is the noise MSE."""
        optimizer = keras.optimizers.Adam(1e-3) if optimizer == "auto" else optimizer
        kwargs.pop("loss", None)
        super().compile(optimizer=optimizer, **kwargs)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        channels = self.image_shape[-1]
        predicted, noise = y_pred[..., :channels], y_pred[..., channels:]
        return ops.mean(ops.square(predicted - noise))

    def generate(self, n: int, steps: int | None = None, seed: int | None = None) -> np.ndarray:
        """Sample `n` images in [-1, 1] with `steps` DDIM steps (default 50, at most T).

        Args:
            n: images to sample.
            steps: denoising steps, evenly spaced over the T training timesteps.
            seed: makes the samples reproducible.

        Returns:
            float32 images of shape ``(n, *image_shape)``.
        """
        n = v.check_int("n", n, minimum=1)
        steps = v.check_int("steps", steps, minimum=1, maximum=self.timesteps, allow_none=True)
        steps = min(50, self.timesteps) if steps is None else steps
        seed = v.check_int("seed", seed, minimum=0, allow_none=True)
        x = np.random.default_rng(seed).standard_normal((n, *self.image_shape)).astype("float32")
        times = np.linspace(self.timesteps - 1, 0, steps).round().astype("int64")
        for i, t in enumerate(times):
            a = self.alpha_bars[t]
            a_next = self.alpha_bars[times[i + 1]] if i + 1 < len(times) else 1.0
            eps = self.network.predict_on_batch([x, np.full((n,), t, "float32")])
            x0 = np.clip((x - np.sqrt(1 - a) * eps) / np.sqrt(a), -1.0, 1.0)
            x = np.sqrt(a_next) * x0 + np.sqrt(1 - a_next) * eps
        return np.clip(x, -1.0, 1.0).astype("float32")


PRESETS = {
    "diffusion_tiny": Preset(
        "A small DDPM for tests (8x8 grey images, widths 16-32, 100 timesteps).",
        {"input_shape": (8, 8, 1), "widths": (16, 32), "timesteps": 100},
    ),
    "diffusion_mnist": Preset(
        "A DDPM for 28x28 grey images (widths 32-64-128, 1,000 timesteps as Ho et al.).",
        {"input_shape": (28, 28, 1), "widths": (32, 64, 128), "timesteps": 1000},
    ),
}

SEARCH_SPACE = {"widths": [(16, 32), (32, 64)], "learning_rate": [1e-4, 3e-4, 1e-3]}


@register(
    "diffusion",
    task="image generation",
    description="DDPM with a compact U-Net and time embedding; generate(n, steps, seed).",
    presets=PRESETS,
    search_space=SEARCH_SPACE,
)
def diffusion(
    input_shape: tuple[int, int, int] = (28, 28, 1),
    *,
    widths: tuple[int, ...] = (32, 64, 128),
    timesteps: int = 1000,
    beta_start: float = 1e-4,
    beta_end: float = 0.02,
    time_dim: int = 32,
    name: str = "diffusion",
) -> Diffusion:
    """Build a denoising diffusion model.

    Args:
        input_shape: (height, width, channels); both sides must be multiples of
            ``2 ** (len(widths) - 1)`` (the U-Net halves them per level).
        widths: channels per U-Net level.
        timesteps: T, the number of noising steps.
        beta_start: the first noise variance of the linear schedule.
        beta_end: the last one (``0 < beta_start < beta_end < 1``).
        time_dim: width of the timestep embedding (even).
        name: model name.

    Returns:
        An uncompiled :class:`Diffusion` model.

    Raises:
        ValueError: invalid values, such as an image side the U-Net cannot halve.
        TypeError: wrong types.

    Example:
        >>> model = zoo.build("diffusion_tiny")
        >>> model.compile(); model.fit(images, epochs=20); model.generate(16, seed=0)
    """
    shape = v.check_shape("input_shape", input_shape, ndim=3)
    widths = v.check_int_sequence("widths", widths, min_length=1)
    factor = 2 ** (len(widths) - 1)
    if shape[0] % factor or shape[1] % factor:
        raise v.ArgumentValueError(
            f"The U-Net halves the image {len(widths) - 1} times, so its height and width "
            f"must be multiples of {factor}. Received: input_shape={shape}"
        )
    timesteps = v.check_int("timesteps", timesteps, minimum=2)
    beta_start = v.check_float("beta_start", beta_start, minimum=1e-8, maximum=1.0)
    beta_end = v.check_float("beta_end", beta_end, minimum=beta_start, maximum=1.0)
    time_dim = v.check_int("time_dim", time_dim, minimum=2)
    if time_dim % 2:
        raise v.invalid("time_dim", "an even integer", time_dim)
    v.check_name("name", name)
    return Diffusion(shape, widths, timesteps, beta_start, beta_end, time_dim, name=name)
