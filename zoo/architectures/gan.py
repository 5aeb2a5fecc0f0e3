"""Generative adversarial networks: DCGAN and its class-conditional variant.

References: Goodfellow et al., "Generative adversarial nets", NeurIPS 2014 (the
non-saturating generator loss); Radford, Metz and Chintala, "Unsupervised
representation learning with deep convolutional generative adversarial networks",
ICLR 2016 (DCGAN: transposed convolutions, batch norm, ReLU/LeakyReLU, tanh output,
Adam(2e-4, beta_1=0.5), N(0, 0.02) weights); Mirza and Osindero, "Conditional
generative adversarial nets", 2014 (labels given to both networks). ``dcgan_64``
follows the PyTorch DCGAN tutorial (latent 100, 64 base filters): 3,576,704 generator
and 2,765,568 discriminator parameters.

A GAN is a ``keras.Model`` holding ``generator`` and ``discriminator`` sub-models,
trained with ``fit(images)`` by a ``train_step`` with one optimizer per network, on
Keras's TensorFlow backend and on its JAX backend (where Keras's step is stateless:
the same step runs there on the state's values, data parallel under
``keras.distribution``); ``generate(n, seed)`` samples images in [-1, 1]. Sample
weights weigh each image's terms of both losses and of the MMD, so the zero-weight
rows zoo pads batches split over devices with do not count (Keras passes sample
weights on only with labels: ``(images, labels, weights)``).

A GAN is class-conditional only when asked: ``conditional=True`` (with
``num_classes``, which ``zoo.train`` takes from labelled data) or a conditional preset
(``cdcgan_tiny``, ``dcgan_mnist``); it then trains with ``fit(images, labels)`` and
generates with ``generate(n, labels=...)``. An unconditional GAN ignores the labels of
labelled data.

On held-out images a GAN also reports ``mmd``, the kernel maximum mean discrepancy
(Gretton et al., JMLR 2012) between real and generated images in pixel space: lower is
closer, which makes ``val_mmd`` the default objective of ``zoo.tune`` (a cheap,
offline proxy; it does not replace FID on a pretrained network).
"""

from __future__ import annotations

import functools
import math
from typing import Any

import keras
import numpy as np
from keras import ops

from zoo import _validation as v
from zoo._catalogue import Preset, register


def _init() -> keras.initializers.Initializer:
    """DCGAN's N(0, 0.02) weights; made per layer, so importing draws no random seed."""
    return keras.initializers.RandomNormal(stddev=0.02)


def _stride_2() -> dict[str, Any]:
    """DCGAN's 4x4 stride-2 convolutions (transposed in the generator), without bias."""
    return {
        "kernel_size": 4,
        "strides": 2,
        "padding": "same",
        "use_bias": False,
        "kernel_initializer": _init(),
    }


def _sizes(image_shape: tuple[int, ...]) -> int:
    """The number of stride-2 layers from 4x4 to the image's side (4 times a power of 2).

    Raises:
        ValueError: naming `input_shape`, for a non-square image or a side the
            generator cannot grow (smaller than 8, or not 4 times a power of 2).
    """
    if len(image_shape) < 2 or image_shape[0] != image_shape[1]:
        raise v.invalid("input_shape", "a square image (height == width)", tuple(image_shape))
    side = image_shape[0]
    steps = math.log2(side / 4) if side >= 8 else 0
    if side < 8 or steps != int(steps):
        raise v.invalid(
            "input_shape",
            "a square image whose side is 4 times a power of 2 (8, 16, 32, 64, ...): the "
            "generator grows 4x4 maps by doubling; resize the images to such a side",
            tuple(image_shape),
        )
    return int(steps)


MMD_BANDWIDTHS = (0.05, 0.2, 1.0)  # squared-distance scales, per pixel


def kernel_mmd(x: Any, y: Any, weights: Any = None) -> Any:
    """Squared kernel MMD between two batches (biased estimate, a mix of Gaussian kernels).

    Distances are mean squared differences per value, so the kernels' bandwidths
    (:data:`MMD_BANDWIDTHS`) suit images of any size in [-1, 1]. Zero when the two
    batches are the same; grows as their distributions part. `weights` (one per row of
    both batches, as Keras's sample weights) weigh each pair of rows by the product of
    theirs, so zero-weight rows (the padding of a batch split over devices) do not count.

    Example:
        >>> float(kernel_mmd(np.zeros((4, 8)), np.zeros((4, 8))))
        0.0
    """
    x = ops.reshape(ops.cast(x, "float32"), (ops.shape(x)[0], -1))
    y = ops.reshape(ops.cast(y, "float32"), (ops.shape(y)[0], -1))
    size = ops.cast(ops.shape(x)[1], "float32")

    def distances(a, b):
        squares = (
            ops.sum(a * a, axis=1)[:, None]
            + ops.sum(b * b, axis=1)[None, :]
            - 2 * a @ ops.transpose(b)
        )
        return ops.maximum(squares, 0.0) / size

    def kernel(d):
        return sum(ops.exp(-d / h) for h in MMD_BANDWIDTHS)

    mean = ops.mean
    if weights is not None:
        w = ops.reshape(ops.cast(weights, "float32"), (-1,))
        pairs = w[:, None] * w[None, :]

        def mean(k):
            return ops.divide_no_nan(ops.sum(k * pairs), ops.sum(pairs))

    return (
        mean(kernel(distances(x, x)))
        + mean(kernel(distances(y, y)))
        - 2 * mean(kernel(distances(x, y)))
    )


def _bce(target: float, logits: Any, weights: Any) -> Any:
    """Binary cross-entropy of `logits` against labels all `target` (1 real, 0 fake).

    The batch mean, or with `weights` (one per row) the weighted mean, in which
    zero-weight rows do not count.
    """
    labels = ops.ones_like(logits) if target else ops.zeros_like(logits)
    if weights is None:
        return keras.losses.BinaryCrossentropy(from_logits=True)(labels, logits)
    per_row = keras.losses.binary_crossentropy(labels, logits, from_logits=True)
    return ops.divide_no_nan(ops.sum(per_row * weights), ops.sum(weights))


class _Optimizers:
    """A GAN's ``optimizer`` as Keras sees it: the two networks' optimizers together.

    Keras's JAX trainer carries ``model.optimizer.variables`` through its stateless
    step and writes them back afterwards; its callbacks read ``optimizers`` (learning
    rate schedules, ReduceLROnPlateau) and ``iterations`` (TensorBoard). It holds no
    state of its own and is not saved: each optimizer is saved under its own attribute
    (``d_optimizer``, ``g_optimizer``).
    """

    built = True  # each optimizer is built with its network's weights by GAN.compile

    def __init__(self, *optimizers: keras.optimizers.Optimizer) -> None:
        self.optimizers = list(optimizers)

    @property
    def variables(self) -> list[keras.Variable]:
        return [variable for each in self.optimizers for variable in each.variables]

    @property
    def iterations(self) -> keras.Variable:
        """The steps taken (each network takes one per batch)."""
        return self.optimizers[0].iterations

    def build(self, variables: Any) -> None:
        """Nothing to build: :meth:`GAN.compile` built both optimizers."""


def _tape_minimize(network, optimizer, loss_fn):
    """TensorFlow: one step of `optimizer` on `network`'s weights down `loss_fn()`.

    The gradients are those of ``optimizer.scale_loss(loss)``, the loss itself unless
    the optimizer scales it (a ``LossScaleOptimizer`` under ``mixed_float16``), which
    its ``apply_gradients`` then undoes.
    """
    import tensorflow as tf  # the TensorFlow backend's step only

    with tf.GradientTape() as tape:
        loss = loss_fn()
        scaled = optimizer.scale_loss(loss)
    grads = tape.gradient(scaled, network.trainable_variables)
    optimizer.apply_gradients(zip(grads, network.trainable_variables, strict=True))
    return loss


def _stateless_step(groups, state, body):
    """JAX: run the stateful `body` as Keras's stateless step; ``(logs, new state)``.

    `state` holds the values of the variables in `groups` (Keras's trainer passes them
    in this order); `body(minimize)` runs inside a ``keras.StatelessScope`` mapping
    each variable to its value, so layers, optimizers, metrics and the seed generator
    read and update those values (as ``Optimizer.stateless_apply`` does), and the
    values the scope holds at the end are the new state.
    """
    variables = [variable for group in groups for variable in group]
    values = [value for part in state for value in part]
    with keras.StatelessScope(state_mapping=list(zip(variables, values, strict=True))) as scope:
        logs = body(functools.partial(_grad_minimize, scope, variables))
    return logs, tuple([scope.get_current_value(v) for v in group] for group in groups)


def _grad_minimize(scope, variables, network, optimizer, loss_fn):
    """JAX: one step of `optimizer` on `network`'s weights down `loss_fn()`, in `scope`.

    ``jax.value_and_grad`` differentiates ``optimizer.scale_loss(loss_fn())`` (as
    :func:`_tape_minimize`) with respect to the network's weights, every other
    variable keeping its value in `scope`; ``optimizer.stateless_apply`` takes the
    step. The new weights, the optimizer's variables and the layers' updates
    (batch-norm statistics) are written back into `scope`.
    """
    import jax  # the JAX backend's step only

    weights = network.trainable_variables
    own = {id(w) for w in weights}
    others = [v for v in variables if id(v) not in own]

    def loss_of(values):
        mapping = [*zip(weights, values, strict=True)]
        mapping += [(v, scope.get_current_value(v)) for v in others]
        with keras.StatelessScope(state_mapping=mapping) as inner:
            loss = loss_fn()
            scaled = optimizer.scale_loss(loss)
        return scaled, (loss, [inner.get_current_value(v) for v in others])

    current = [scope.get_current_value(w) for w in weights]
    (_, (loss, updated)), grads = jax.value_and_grad(loss_of, has_aux=True)(current)
    for variable, value in zip(others, updated, strict=True):
        variable.assign(value)  # assignments in `scope` are recorded there
    state = [scope.get_current_value(v) for v in optimizer.variables]
    current, state = optimizer.stateless_apply(state, grads, current)
    for variable, value in zip([*weights, *optimizer.variables], [*current, *state], strict=True):
        variable.assign(value)
    return loss


def _generator(latent_dim, image_shape, filters, num_classes):
    steps = _sizes(image_shape)
    noise = keras.Input(shape=(latent_dim,), name="noise")
    inputs, x = [noise], noise
    if num_classes:
        label = keras.Input(shape=(), dtype="int32", name="label")
        inputs.append(label)
        embedded = keras.layers.Embedding(num_classes, latent_dim, name="label_embedding")(label)
        x = keras.layers.Multiply(name="condition")([x, embedded])
    x = keras.layers.Reshape((1, 1, latent_dim), name="to_map")(x)
    width = filters * 2 ** (steps - 1)
    x = keras.layers.Conv2DTranspose(
        width, 4, padding="valid", use_bias=False, kernel_initializer=_init(), name="project"
    )(x)
    x = keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5, name="project_bn")(x)
    x = keras.layers.ReLU(name="project_relu")(x)
    for i in range(1, steps):
        width //= 2
        x = keras.layers.Conv2DTranspose(width, name=f"up_{i}", **_stride_2())(x)
        x = keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5, name=f"up_{i}_bn")(x)
        x = keras.layers.ReLU(name=f"up_{i}_relu")(x)
    images = keras.layers.Conv2DTranspose(
        image_shape[-1], activation="tanh", dtype="float32", name="images", **_stride_2()
    )(x)
    return keras.Model(inputs if num_classes else noise, images, name="generator")


def _discriminator(image_shape, filters, num_classes):
    steps = _sizes(image_shape)
    images = keras.Input(shape=image_shape, name="images")
    inputs, x = [images], images
    if num_classes:
        label = keras.Input(shape=(), dtype="int32", name="label")
        inputs.append(label)
        size = image_shape[0] * image_shape[1]
        plane = keras.layers.Embedding(num_classes, size, name="label_embedding")(label)
        plane = keras.layers.Reshape((*image_shape[:2], 1), name="label_plane")(plane)
        x = keras.layers.Concatenate(name="condition")([x, plane])
    width = filters
    for i in range(1, steps + 1):
        x = keras.layers.Conv2D(width, name=f"down_{i}", **_stride_2())(x)
        if i > 1:
            x = keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5, name=f"down_{i}_bn")(x)
        x = keras.layers.LeakyReLU(0.2, name=f"down_{i}_lrelu")(x)
        width *= 2
    x = keras.layers.Conv2D(
        1,
        4,
        padding="valid",
        use_bias=False,
        kernel_initializer=_init(),
        dtype="float32",
        name="score",
    )(x)
    logits = keras.layers.Flatten(name="logit")(x)
    return keras.Model(inputs if num_classes else images, logits, name="discriminator")


@keras.saving.register_keras_serializable(package="zoo")
class GAN(keras.Model):
    """A DCGAN: generator and discriminator trained against each other.

    ``compile()`` defaults to the DCGAN paper's Adam(2e-4, beta_1=0.5) for each
    network; ``fit(images)`` takes images scaled to [-1, 1] and reports ``d_loss`` and
    ``g_loss`` (the non-saturating generator loss); ``evaluate`` adds ``mmd`` (see
    :func:`kernel_mmd`). It trains on Keras's TensorFlow and JAX backends, with
    ``model.optimizer`` standing for both optimizers (:class:`_Optimizers`). With
    `num_classes` it is class-conditional: it trains with ``fit(images, labels)``
    (class ids) and generates with ``generate(n, labels=...)``; without, labels given
    to ``fit`` are ignored. Build it with ``zoo.build("dcgan",
    ...)`` (``conditional=True`` for a conditional one).
    """

    #: The pixel range it trains on and generates (zoo.train maps [0, 1] images here).
    input_range = (-1.0, 1.0)

    default_objective = "mmd"  # zoo.tune's default, as val_mmd
    held_out_metrics = ("mmd",)  # reported by evaluate (validation) only

    def __init__(
        self,
        input_shape: tuple[int, int, int] = (64, 64, 3),
        latent_dim: int = 100,
        filters: int = 64,
        num_classes: int | None = None,
        name: str = "dcgan",
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name, **kwargs)
        self.image_shape = tuple(input_shape)
        self.latent_dim = latent_dim
        self.filters = filters
        self.num_classes = num_classes
        self.generator = _generator(latent_dim, self.image_shape, filters, num_classes)
        self.discriminator = _discriminator(self.image_shape, filters, num_classes)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.mmd_tracker = keras.metrics.Mean(name="mmd")
        self.seed_generator = keras.random.SeedGenerator(0)
        self.built = True  # both networks are built functional models

    @property
    def conditional(self) -> bool:
        """Whether labels condition both networks (it was built with `num_classes`)."""
        return self.num_classes is not None

    @property
    def uses_labels(self) -> bool:
        """Whether training feeds it (images, labels) pairs; else images alone."""
        return self.conditional

    def call(self, inputs, training=None):
        """Noise (and labels when conditional) -> images."""
        return self.generator(inputs, training=training)

    def get_config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "input_shape": self.image_shape,
            "latent_dim": self.latent_dim,
            "filters": self.filters,
            "num_classes": self.num_classes,
        }

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker, self.mmd_tracker]

    def compile(self, d_optimizer: Any = "auto", g_optimizer: Any = "auto", **kwargs: Any):
        """Set one optimizer per network (``"auto"``: Adam(2e-4, beta_1=0.5)).

        Other arguments are Keras's (``jit_compile``, ``steps_per_execution``, ...).
        Under a ``mixed_float16`` dtype policy each optimizer is wrapped in a
        ``keras.optimizers.LossScaleOptimizer`` (unless ``auto_scale_loss=False``), as
        Keras's ``compile`` does for a model's one optimizer.

        Raises:
            ValueError: an `optimizer` (a GAN takes one per network).
        """
        if kwargs.get("optimizer") is not None:
            raise v.invalid(
                "optimizer",
                "None for a GAN: it trains each network with its own optimizer; pass "
                "d_optimizer= and g_optimizer= instead",
                kwargs["optimizer"],
            )

        scaled = kwargs.get("auto_scale_loss", True) and self.dtype_policy.name == "mixed_float16"

        def prepared(optimizer, network):
            if optimizer == "auto":
                optimizer = keras.optimizers.Adam(2e-4, beta_1=0.5)
            optimizer = keras.optimizers.get(optimizer)
            if scaled and not isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
                # As Keras's compile does for a model's optimizer under float16.
                optimizer = keras.optimizers.LossScaleOptimizer(
                    optimizer, name=f"{network}_loss_scale_optimizer"
                )
            return optimizer

        self.d_optimizer = prepared(d_optimizer, "discriminator")
        self.g_optimizer = prepared(g_optimizer, "generator")
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.g_optimizer.build(self.generator.trainable_variables)
        super().compile(**{**kwargs, "optimizer": None})
        self.optimizer = _Optimizers(self.d_optimizer, self.g_optimizer)

    def get_compile_config(self) -> dict[str, Any]:
        if not hasattr(self, "d_optimizer"):
            return {}
        return {
            "d_optimizer": keras.optimizers.serialize(self.d_optimizer),
            "g_optimizer": keras.optimizers.serialize(self.g_optimizer),
        }

    def compile_from_config(self, config: dict[str, Any]) -> None:
        self.compile(
            d_optimizer=keras.optimizers.deserialize(config["d_optimizer"]),
            g_optimizer=keras.optimizers.deserialize(config["g_optimizer"]),
        )

    def _conditioned(self, network, x, labels, training):
        return network([x, labels] if self.num_classes else x, training=training)

    def _check_labels(self, dtype: str | None) -> None:
        """A conditional GAN's labels must be class ids (`dtype` None: there are none)."""
        if not self.conditional or dtype == _UNKNOWN or (dtype is not None and "int" in dtype):
            return
        raise v.invalid(
            "data",
            f"images with integer class ids in [0, {self.num_classes}) for a conditional "
            "GAN: fit(images, labels), or labelled data for zoo.train (an unconditional "
            "GAN, built without conditional=True, trains on images alone)",
            "no labels" if dtype is None else f"{dtype} targets",
        )

    def fit(self, x=None, y=None, *args: Any, **kwargs: Any):
        """Keras's ``fit``; a conditional GAN checks first that it is given class ids.

        Raises:
            ValueError: a conditional GAN given no class ids (or not integers), or a
                Keras backend other than TensorFlow and JAX.
        """
        backend = keras.backend.backend()
        if backend not in ("tensorflow", "jax"):
            raise v.ArgumentValueError(
                "Training a GAN needs Keras's TensorFlow or JAX backend (its step updates "
                "two networks, written for those two): start Python with KERAS_BACKEND=jax "
                f"or KERAS_BACKEND=tensorflow. Received: KERAS_BACKEND={backend!r}"
            )
        self._check_labels(_label_dtype(x, y))
        validation = kwargs.get("validation_data")
        if isinstance(validation, (tuple, list)):
            self._check_labels(_label_dtype(*validation[:2]))
        elif validation is not None:
            self._check_labels(_label_dtype(validation, None))
        return super().fit(x, y, *args, **kwargs)

    def train_step(self, *args: Any):
        """One step of each network on a batch (Keras's ``train_step``).

        Keras calls it with the batch on TensorFlow, and with ``(state, batch)`` on JAX,
        where the step is stateless: the same step then runs on the state's values
        (:func:`_stateless_step`) and returns the new state with the logs.
        """
        if keras.backend.backend() != "jax":
            return self._train_batch(*args, minimize=_tape_minimize)
        state, data = args
        groups = (
            self.trainable_variables,
            self.non_trainable_variables,
            self.optimizer.variables,
            self.metrics_variables,
        )
        return _stateless_step(groups, state, lambda minimize: self._train_batch(data, minimize))

    def _batch(self, data):
        """Images, labels (None when unconditional) and per-image weights (or None)."""
        images, labels, weights = keras.utils.unpack_x_y_sample_weight(data)
        if self.conditional:
            self._check_labels(
                None if labels is None else keras.backend.standardize_dtype(labels.dtype)
            )
        else:
            labels = None
        if weights is not None:  # one per image (zoo pads batches split over devices)
            weights = ops.cast(weights, "float32")
            weights = ops.mean(ops.reshape(weights, (ops.shape(images)[0], -1)), axis=1)
        return images, labels, weights

    def _train_batch(self, data, minimize):
        """The discriminator's step, then the generator's; `minimize` takes each."""
        images, labels, weights = self._batch(data)
        shape = (ops.shape(images)[0], self.latent_dim)
        noise = keras.random.normal(shape, seed=self.seed_generator)

        def d_loss_fn():
            fake = self._conditioned(self.generator, noise, labels, True)
            real_logits = self._conditioned(self.discriminator, images, labels, True)
            fake_logits = self._conditioned(self.discriminator, fake, labels, True)
            return _bce(1, real_logits, weights) + _bce(0, fake_logits, weights)

        d_loss = minimize(self.discriminator, self.d_optimizer, d_loss_fn)
        new_noise = keras.random.normal(shape, seed=self.seed_generator)

        def g_loss_fn():
            fake = self._conditioned(self.generator, new_noise, labels, True)
            fake_logits = self._conditioned(self.discriminator, fake, labels, True)
            return _bce(1, fake_logits, weights)  # non-saturating

        g_loss = minimize(self.generator, self.g_optimizer, g_loss_fn)
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        return {m.name: m.result() for m in (self.d_loss_tracker, self.g_loss_tracker)}

    def test_step(self, *args: Any):
        """Both losses and the MMD on held-out images, without updating either network.

        Called with the batch on TensorFlow, with ``(state, batch)`` on JAX (as
        :meth:`train_step`).
        """
        if keras.backend.backend() != "jax":
            return self._test_batch(*args)
        state, data = args
        groups = (self.trainable_variables, self.non_trainable_variables, self.metrics_variables)
        return _stateless_step(groups, state, lambda minimize: self._test_batch(data))

    def _test_batch(self, data):
        images, labels, weights = self._batch(data)
        noise = keras.random.normal(
            (ops.shape(images)[0], self.latent_dim), seed=self.seed_generator
        )
        fake = self._conditioned(self.generator, noise, labels, False)
        real_logits = self._conditioned(self.discriminator, images, labels, False)
        fake_logits = self._conditioned(self.discriminator, fake, labels, False)
        self.d_loss_tracker.update_state(
            _bce(1, real_logits, weights) + _bce(0, fake_logits, weights)
        )
        self.g_loss_tracker.update_state(_bce(1, fake_logits, weights))
        self.mmd_tracker.update_state(kernel_mmd(images, fake, weights))
        return {m.name: m.result() for m in self.metrics}

    def generate(self, n: int, seed: int | None = None, labels: Any = None) -> np.ndarray:
        """Sample `n` images in [-1, 1] (seeded); `labels` (n class ids) if conditional.

        Raises:
            ValueError: `n` below 1; labels missing or outside ``[0, num_classes)`` for
                a conditional GAN; labels given to an unconditional one.

        Example:
            >>> zoo.build("dcgan_tiny").generate(4, seed=0).shape
            (4, 8, 8, 1)
            >>> zoo.build("cdcgan_tiny").generate(2, seed=0, labels=[3, 7]).shape
            (2, 8, 8, 1)
        """
        n = v.check_int("n", n, minimum=1)
        seed = v.check_int("seed", seed, minimum=0, allow_none=True)
        if labels is not None and not self.conditional:
            raise v.invalid(
                "labels",
                "None for an unconditional GAN (build it with conditional=True, or a "
                "conditional preset such as 'cdcgan_tiny', to generate chosen classes)",
                labels,
            )
        noise = np.random.default_rng(seed).standard_normal((n, self.latent_dim)).astype("float32")
        if self.num_classes:
            if labels is None:
                raise v.invalid("labels", f"{n} class ids for a conditional GAN", labels)
            labels = np.asarray(labels, "int32").reshape(-1)
            if labels.shape != (n,) or labels.min() < 0 or labels.max() >= self.num_classes:
                raise v.invalid("labels", f"{n} class ids in [0, {self.num_classes})", labels)
            return self.generator.predict([noise, labels], verbose=0)
        return self.generator.predict(noise, verbose=0)


_UNKNOWN = "unknown"


def _label_dtype(x: Any, y: Any) -> str | None:
    """The dtype of the labels ``fit(x, y)`` would train on; None when it has none.

    Labels are `y`, or the second item of a ``tf.data.Dataset``'s elements. For other
    inputs (a generator, a PyDataset) they cannot be told before training:
    ``"unknown"`` (``train_step`` checks them then).
    """
    if y is not None:
        dtype = getattr(y, "dtype", None)
        return keras.backend.standardize_dtype(dtype if dtype is not None else np.asarray(y).dtype)
    spec = getattr(x, "element_spec", None)
    if spec is not None:
        if isinstance(spec, (tuple, list)) and len(spec) >= 2 and spec[1] is not None:
            return keras.backend.standardize_dtype(spec[1].dtype)
        return None
    if x is None or hasattr(x, "shape") or isinstance(x, (list, tuple, dict)):  # arrays alone
        return None
    return _UNKNOWN


_TINY = {"input_shape": (8, 8, 1), "latent_dim": 16, "filters": 8}

PRESETS = {
    "dcgan_tiny": Preset(
        "A small DCGAN for tests (8x8 grey images, latent 16, 8 base filters).", dict(_TINY)
    ),
    "cdcgan_tiny": Preset(
        "A small class-conditional DCGAN for tests (as dcgan_tiny, 10 classes).",
        {**_TINY, "num_classes": 10, "conditional": True},
    ),
    "dcgan_64": Preset(
        "DCGAN (Radford et al.) as the PyTorch tutorial: 64x64x3, latent 100, 64 filters.",
        {"input_shape": (64, 64, 3), "latent_dim": 100, "filters": 64},
    ),
    "dcgan_mnist": Preset(
        "A class-conditional DCGAN for 32x32 grey digits (10 classes).",
        {
            "input_shape": (32, 32, 1),
            "latent_dim": 64,
            "filters": 32,
            "num_classes": 10,
            "conditional": True,
        },
    ),
}

SEARCH_SPACE = {"latent_dim": [32, 64, 100], "filters": [16, 32, 64]}


@register(
    "dcgan",
    task="image generation",
    description="DCGAN: transposed-conv generator, conv discriminator, generate(n, seed).",
    presets=PRESETS,
    search_space=SEARCH_SPACE,
)
def dcgan(
    input_shape: tuple[int, int, int] = (64, 64, 3),
    *,
    latent_dim: int = 100,
    filters: int = 64,
    num_classes: int | None = None,
    conditional: bool = False,
    name: str = "dcgan",
) -> GAN:
    """Build a DCGAN, class-conditional with ``conditional=True``.

    Args:
        input_shape: (side, side, channels); the side must be 4 times a power of 2.
        latent_dim: size of the noise vector.
        filters: the discriminator's first width and the generator's last (doubling
            per layer as in the paper).
        num_classes: the classes a conditional GAN is conditioned on; ignored unless
            `conditional` (``zoo.train`` passes labelled data's classes to every
            builder, and they do not make a GAN conditional).
        conditional: labels condition both networks (Mirza and Osindero): it then
            trains on ``(images, labels)`` and ``generate`` takes ``labels``.
        name: model name.

    Returns:
        An uncompiled :class:`GAN`.

    Raises:
        ValueError: a latent size or filters below 1, an `input_shape` that is not
            square or whose side the generator cannot grow (below 8, or not 4 times a
            power of 2), or ``conditional=True`` without `num_classes`.
            TypeError: wrong types.

    Example:
        >>> gan = zoo.build("dcgan_tiny", num_classes=10)  # not conditional
        >>> gan.conditional, gan.generate(16, seed=0).shape
        (False, (16, 8, 8, 1))
        >>> zoo.build("dcgan_tiny", num_classes=10, conditional=True).num_classes
        10
    """
    shape = v.check_shape("input_shape", input_shape, ndim=3)
    _sizes(shape)
    latent_dim = v.check_int("latent_dim", latent_dim, minimum=1)
    filters = v.check_int("filters", filters, minimum=1)
    num_classes = v.check_int("num_classes", num_classes, minimum=2, allow_none=True)
    if v.check_bool("conditional", conditional) and num_classes is None:
        raise v.invalid(
            "num_classes",
            "the number of classes (2 or more) to condition on with conditional=True "
            "(zoo.train takes it from labelled data)",
            num_classes,
        )
    v.check_name("name", name)
    return GAN(shape, latent_dim, filters, num_classes if conditional else None, name=name)
