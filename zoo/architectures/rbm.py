"""Restricted Boltzmann machines: Bernoulli visible and hidden units, trained by CD-k.

References: Hinton, "Training products of experts by minimizing contrastive
divergence", Neural Computation 2002 (CD-k); Tieleman, "Training restricted Boltzmann
machines using approximations to the likelihood gradient", ICML 2008 (persistent CD);
Hinton, "A practical guide to training restricted Boltzmann machines", UTML TR
2010-003 (small random weights, SGD with momentum, weight decay on the weights only,
reconstruction error as the quantity to watch). The pseudo-log-likelihood is the
stochastic estimate of scikit-learn's ``BernoulliRBM.score_samples`` (one random bit
flipped per example).

An :class:`RBM` is a ``keras.Model`` from inputs to hidden probabilities (what
:meth:`RBM.transform` gives). It trains through Keras's own ``fit`` on the TensorFlow
and JAX backends alike: its :meth:`RBM.compute_loss` runs the k Gibbs steps (seeded
``keras.random``; persistent chains live in a non-trainable variable, updated as batch
norm updates its statistics) and returns a loss whose gradient is the CD-k update, the
gradient of the free-energy gap ``mean F(data) - mean F(stop_gradient(v_k))`` plus weight
decay, and whose value is the reconstruction error (the quantity Hinton's guide
watches, deterministic, so early stopping and ``val_loss`` mean something). It also
reports ``reconstruction_error`` and ``pseudo_log_likelihood``. Labels given to ``fit``
are ignored.
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


def check_binarize(value: Any) -> float | None:
    """`binarize` as a threshold: None or False (off), True (0.5) or a number in [0, 1)."""
    if value is None or value is False:
        return None
    if value is True:
        return 0.5
    return v.check_float("binarize", value, minimum=0.0, maximum=1.0, exclusive_maximum=True)


def _first_inputs(x: Any) -> np.ndarray | None:
    """The inputs of `x` (an array, or the first batch of a ``tf.data.Dataset``)."""
    if x is None:
        return None
    if hasattr(x, "element_spec"):  # a tf.data.Dataset: its first batch
        batch = next(iter(x), None)
        if batch is None:
            return None
        x = batch[0] if isinstance(batch, (tuple, list)) else batch
    if isinstance(x, (tuple, list, dict)) or not hasattr(np.asarray(x), "dtype"):
        return None
    return np.asarray(x)


def check_unit_interval(x: Any, binarize: float | None, what: str = "data") -> None:
    """Refuse inputs outside [0, 1] for Bernoulli visible units (unless binarized).

    Values in [0, 1] are binary units or their probabilities (as scikit-learn's
    ``BernoulliRBM`` takes them); a dataset is checked on its first batch.

    Raises:
        ValueError: naming the range received and ``binarize``.
    """
    if binarize is not None:
        return
    values = _first_inputs(x)
    if values is None or values.size == 0 or not np.issubdtype(values.dtype, np.number):
        return
    low, high = float(np.min(values)), float(np.max(values))
    if low < 0.0 or high > 1.0 or not (math.isfinite(low) and math.isfinite(high)):
        raise v.invalid(
            what,
            "binary values or probabilities in [0, 1] for Bernoulli visible units: scale "
            "the data to [0, 1] (zoo.data's images are) or build the model with "
            "binarize=True (or a threshold) to threshold it",
            f"values from {low:g} to {high:g}",
        )


@keras.saving.register_keras_serializable(package="zoo")
class BernoulliRBMLayer(keras.layers.Layer):
    """The weights of a Bernoulli-Bernoulli RBM and its Gibbs sampling.

    Called on (flattened) visible units it gives the hidden probabilities
    ``sigmoid(v @ W + hidden_bias)``. Weights start as N(0, 0.01), biases at zero
    (Hinton's guide).

    Args:
        units: the number of hidden units.
        k: Gibbs steps of CD-k (>= 1).
        persistent: keep `chains` Gibbs chains across batches (persistent CD) instead
            of starting them at the data.
        chains: the number of persistent chains.
        weight_decay: L2 coefficient on the weights (not the biases).
        binarize: a threshold (values above it become 1) or None.
        seed: seed of the Gibbs sampling.
    """

    def __init__(
        self,
        units: int,
        k: int = 1,
        persistent: bool = False,
        chains: int = 64,
        weight_decay: float = 1e-4,
        binarize: float | None = None,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.units = units
        self.k = k
        self.persistent = persistent
        self.chains = chains
        self.weight_decay = weight_decay
        self.binarize = binarize
        self.seed = seed
        self.generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        visible = int(input_shape[-1])
        self.kernel = self.add_weight(
            shape=(visible, self.units),
            initializer=keras.initializers.RandomNormal(stddev=0.01, seed=self.seed),
            name="kernel",
        )
        self.hidden_bias = self.add_weight(shape=(self.units,), initializer="zeros", name="bias")
        self.visible_bias = self.add_weight(
            shape=(visible,), initializer="zeros", name="visible_bias"
        )
        if self.persistent:
            self.chain = self.add_weight(
                shape=(self.chains, visible), initializer="zeros", trainable=False, name="chain"
            )

    def visible(self, inputs):
        """Float visible units, thresholded when `binarize` is set."""
        inputs = ops.cast(inputs, self.compute_dtype)
        if self.binarize is None:
            return inputs
        return ops.cast(ops.greater(inputs, self.binarize), self.compute_dtype)

    def hidden_probabilities(self, v):
        return ops.sigmoid(ops.matmul(v, self.kernel) + self.hidden_bias)

    def visible_probabilities(self, h):
        return ops.sigmoid(ops.matmul(h, ops.transpose(self.kernel)) + self.visible_bias)

    def free_energy(self, v):
        """``F(v) = -v . visible_bias - sum softplus(v @ W + hidden_bias)``, per example."""
        return -ops.sum(v * self.visible_bias, axis=-1) - ops.sum(
            ops.softplus(ops.matmul(v, self.kernel) + self.hidden_bias), axis=-1
        )

    def _bernoulli(self, probabilities):
        noise = keras.random.uniform(ops.shape(probabilities), seed=self.generator)
        return ops.cast(ops.less(noise, probabilities), probabilities.dtype)

    def gibbs(self, v, steps: int):
        """`steps` Gibbs steps v -> h -> v from `v`, with sampled binary units."""
        for _ in range(steps):
            h = self._bernoulli(self.hidden_probabilities(v))
            v = self._bernoulli(self.visible_probabilities(h))
        return v

    def call(self, inputs):
        return self.hidden_probabilities(self.visible(inputs))

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "k": self.k,
            "persistent": self.persistent,
            "chains": self.chains,
            "weight_decay": self.weight_decay,
            "binarize": self.binarize,
            "seed": self.seed,
        }


def _weighted_mean(values, weights):
    if weights is None:
        return ops.mean(values)
    return ops.divide_no_nan(ops.sum(values * weights), ops.sum(weights))


@keras.saving.register_keras_serializable(package="zoo")
class RBM(_common.CompiledOnLoad, keras.Model):
    """A Bernoulli-Bernoulli restricted Boltzmann machine trained by contrastive divergence.

    Inputs of any shape are flattened into visible units (binary values or
    probabilities in [0, 1]; with `binarize`, thresholded); the output is the hidden
    probabilities. ``compile()`` defaults to SGD(0.02, momentum 0.9) (Hinton's guide);
    ``fit(x)`` trains by CD-k (labels are ignored) and reports ``loss`` (the
    reconstruction error, see the module), ``reconstruction_error`` and
    ``pseudo_log_likelihood``. Build it with ``zoo.build("rbm", ...)``; the arguments
    are those of :func:`rbm`.
    """

    uses_labels = False  # zoo.train feeds it the inputs alone

    def __init__(
        self,
        input_shape: tuple[int, ...],
        units: int = 64,
        k: int = 1,
        persistent: bool = False,
        chains: int = 64,
        weight_decay: float = 1e-4,
        binarize: float | None = None,
        seed: int | None = None,
        name: str = "rbm",
        **kwargs: Any,
    ) -> None:
        dtype = kwargs.pop("dtype", None)
        shape = v.check_shape("input_shape", input_shape, ndim=(1, 2, 3))
        units = v.check_int("units", units, minimum=1)
        k = v.check_int("k", k, minimum=1)
        persistent = v.check_bool("persistent", persistent)
        chains = v.check_int("chains", chains, minimum=1)
        weight_decay = v.check_float("weight_decay", weight_decay, minimum=0.0)
        binarize = check_binarize(binarize)
        seed = v.check_int("seed", seed, minimum=0, allow_none=True)
        inputs = keras.Input(shape=shape, name="inputs")
        x = keras.layers.Flatten(name="flatten")(inputs) if len(shape) > 1 else inputs
        layer = BernoulliRBMLayer(
            units,
            k=k,
            persistent=persistent,
            chains=chains,
            weight_decay=weight_decay,
            binarize=binarize,
            seed=seed,
            dtype=_common.output_dtype(dtype),
            name="rbm",
        )
        super().__init__(inputs, layer(x), name=name, **kwargs)
        self.rbm = layer
        self.units, self.k, self.binarize = units, k, binarize
        self._zoo_config = {
            "input_shape": shape,
            "units": units,
            "k": k,
            "persistent": persistent,
            "chains": chains,
            "weight_decay": weight_decay,
            "binarize": binarize,
            "seed": seed,
            "dtype": dtype,
        }
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction_error")
        self.pll_tracker = keras.metrics.Mean(name="pseudo_log_likelihood")

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, **self._zoo_config}

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: Any = None):
        return cls(**config)

    @property
    def metrics(self):
        return [*super().metrics, self.reconstruction_tracker, self.pll_tracker]

    def compile(self, optimizer: Any = "auto", loss: Any = "auto", metrics: Any = "auto", **kw):
        """Keras's compile; ``"auto"`` is SGD(0.02, momentum=0.9) and the CD-k loss.

        Raises:
            ValueError: a `loss` or `metrics` other than ``"auto"`` or None (an RBM's
                loss and metrics are its own).
        """
        for argument, value in (("loss", loss), ("metrics", metrics)):
            if not (value is None or (isinstance(value, str) and value == "auto")):
                raise v.invalid(
                    argument,
                    "'auto' or None for an RBM: it trains by contrastive divergence and "
                    "reports its reconstruction error and pseudo-log-likelihood itself",
                    value,
                )
        if isinstance(optimizer, str) and optimizer == "auto":
            optimizer = keras.optimizers.SGD(learning_rate=0.02, momentum=0.9)
        super().compile(optimizer=optimizer, **kw)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        layer = self.rbm
        data = layer.visible(ops.reshape(x, (ops.shape(x)[0], -1)))
        weights = None
        if sample_weight is not None:
            weights = ops.cast(ops.reshape(sample_weight, (ops.shape(data)[0], -1)), data.dtype)
            weights = ops.mean(weights, axis=-1)
        persistent = layer.persistent and training
        start = layer.chain if persistent else data
        negative = ops.stop_gradient(layer.gibbs(start, layer.k))
        if persistent:
            layer.chain.assign(negative)
        negative_weights = None if persistent else weights
        gap = _weighted_mean(layer.free_energy(data), weights) - _weighted_mean(
            layer.free_energy(negative), negative_weights
        )
        surrogate = gap + 0.5 * layer.weight_decay * ops.sum(ops.square(layer.kernel))

        # Mean-field reconstruction: v -> p(h | v) -> p(v | h); deterministic.
        reconstruction = layer.visible_probabilities(layer.hidden_probabilities(data))
        error = _weighted_mean(ops.mean(ops.square(data - reconstruction), axis=-1), weights)
        error = ops.stop_gradient(error)

        # scikit-learn's stochastic pseudo-log-likelihood: one random bit flipped.
        size = ops.shape(data)[1]
        bits = keras.random.randint((ops.shape(data)[0],), 0, size, seed=layer.generator)
        mask = ops.one_hot(bits, size, dtype=data.dtype)
        flipped = data + mask * (1.0 - 2.0 * data)
        gain = layer.free_energy(flipped) - layer.free_energy(data)
        pll = ops.cast(size, data.dtype) * ops.log_sigmoid(gain)
        self.reconstruction_tracker.update_state(error)
        self.pll_tracker.update_state(ops.stop_gradient(_weighted_mean(pll, weights)))
        # The value is the reconstruction error; the gradient is CD-k's (with decay).
        return error + surrogate - ops.stop_gradient(surrogate)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        return {m.name: m.result() for m in self.metrics}

    def fit(self, x=None, y=None, *args: Any, **kwargs: Any):
        """Keras's ``fit``, after checking the data is in [0, 1] (unless `binarize`).

        Raises:
            ValueError: inputs outside [0, 1] without `binarize`.
        """
        check_unit_interval(x, self.binarize, "x")
        validation = kwargs.get("validation_data")
        if validation is not None:
            check_unit_interval(
                validation[0] if isinstance(validation, (tuple, list)) else validation,
                self.binarize,
                "validation_data",
            )
        return super().fit(x, y, *args, **kwargs)

    def transform(self, x: Any, batch_size: int = 256) -> np.ndarray:
        """Inputs -> hidden probabilities, shape ``(n, units)``, in [0, 1].

        Raises:
            ValueError: inputs outside [0, 1] without `binarize`.
        """
        x = np.asarray(x, "float32")
        check_unit_interval(x, self.binarize, "x")
        return np.asarray(self.predict(x, batch_size=batch_size, verbose=0))

    def sample(self, n: int, steps: int = 100, seed: int | None = None) -> np.ndarray:
        """Run `n` Gibbs chains for `steps` steps from random bits (seeded).

        The sampling runs in NumPy on the weights, so a seed gives the same samples on
        every backend and after a save and load.

        Returns:
            The visible probabilities of the last step, shaped like the inputs.

        Example:
            >>> zoo.build("rbm_tiny").sample(4, steps=10, seed=0).shape
            (4, 8, 8, 1)
        """
        n = v.check_int("n", n, minimum=1)
        steps = v.check_int("steps", steps, minimum=1)
        seed = v.check_int("seed", seed, minimum=0, allow_none=True)
        layer = self.rbm
        weights = ops.convert_to_numpy(layer.kernel).astype("float64")
        hidden_bias = ops.convert_to_numpy(layer.hidden_bias).astype("float64")
        visible_bias = ops.convert_to_numpy(layer.visible_bias).astype("float64")
        rng = np.random.default_rng(seed)

        def sigmoid(z):
            return 0.5 * (1.0 + np.tanh(0.5 * z))

        visible = (rng.random((n, weights.shape[0])) < 0.5).astype("float64")
        probabilities = visible
        for _ in range(steps):
            hidden = rng.random((n, weights.shape[1])) < sigmoid(visible @ weights + hidden_bias)
            probabilities = sigmoid(hidden @ weights.T + visible_bias)
            visible = (rng.random(probabilities.shape) < probabilities).astype("float64")
        shape = tuple(self._zoo_config["input_shape"])
        return probabilities.astype("float32").reshape((n, *shape))


PRESETS = {
    "rbm_tiny": Preset(
        "A small RBM for tests (8x8 images, 16 hidden units).",
        {"input_shape": (8, 8, 1), "units": 16},
    ),
    "rbm_digits": Preset(
        "scikit-learn's digits example: 64 visible, 100 hidden units, CD-1.",
        {"input_shape": (8, 8, 1), "units": 100},
    ),
    "rbm_mnist": Preset(
        "An RBM for 28x28 binarized digits (500 hidden units, persistent CD).",
        {"input_shape": (28, 28, 1), "units": 500, "persistent": True, "binarize": 0.5},
    ),
}

SEARCH_SPACE = {
    "units": [32, 64, 128, 256],
    "k": [1, 3],
    "learning_rate": {"min": 1e-3, "max": 1e-1, "sampling": "log"},
}


@register(
    "rbm",
    task="feature learning",
    description="Bernoulli RBM trained by CD-k or persistent CD; transform(), sample().",
    presets=PRESETS,
    search_space=SEARCH_SPACE,
)
def rbm(
    input_shape: tuple[int, ...] = (28, 28, 1),
    *,
    units: int = 64,
    k: int = 1,
    persistent: bool = False,
    chains: int = 64,
    weight_decay: float = 1e-4,
    binarize: Any = None,
    seed: int | None = None,
    num_classes: int | None = None,
    dtype: Any = None,
    name: str = "rbm",
) -> RBM:
    """Build a Bernoulli-Bernoulli restricted Boltzmann machine.

    Args:
        input_shape: shape of one example (flattened into the visible units).
        units: the number of hidden units.
        k: Gibbs steps per update (CD-k), at least 1.
        persistent: persistent CD (Tieleman 2008): `chains` Gibbs chains carried
            across batches instead of chains started at the data.
        chains: the number of persistent chains.
        weight_decay: L2 coefficient on the weights (Hinton's guide: 1e-4).
        binarize: threshold inputs (True: at 0.5, or a threshold in [0, 1)); without
            it, inputs must be in [0, 1] (binary values or their probabilities).
        seed: seed of the initial weights and the Gibbs sampling.
        num_classes: ignored (an RBM learns without labels; ``zoo.train`` passes
            labelled data's classes to every builder).
        dtype: dtype policy.
        name: model name.

    Returns:
        An uncompiled :class:`RBM` with ``transform`` and ``sample``.

    Raises:
        ValueError: a size or `k` below 1, a negative weight decay or a threshold
            outside [0, 1). TypeError: wrong types.

    Example:
        >>> model = zoo.build("rbm_tiny")
        >>> model.compile(); model.fit(x, epochs=5)  # x: images in [0, 1]
        >>> model.transform(x).shape  # (n, 16) hidden probabilities
    """
    v.check_num_classes(num_classes)
    v.check_dtype("dtype", dtype)
    v.check_name("name", name)
    return RBM(
        input_shape,
        units,
        k,
        persistent,
        chains,
        weight_decay,
        binarize,
        seed=seed,
        name=name,
        dtype=dtype,
    )
