"""Deep belief networks: RBMs stacked and pretrained greedily, then fine-tuned.

References: Hinton, Osindero and Teh, "A fast learning algorithm for deep belief
nets", Neural Computation 2006; Hinton and Salakhutdinov, "Reducing the
dimensionality of data with neural networks", Science 2006 (greedy layer-wise RBM
pretraining, then discriminative fine-tuning by backpropagation); Bengio et al.,
"Greedy layer-wise training of deep networks", NeurIPS 2006.

A :class:`DBN` is a classifier: flattened inputs, sigmoid ``Dense`` layers (``rbm_1``,
``rbm_2``, ...) and a softmax head. :meth:`DBN.pretrain` trains one :class:`~zoo.
architectures.rbm.RBM` per hidden layer by CD-k, each on the hidden probabilities of
the one below, and copies its weights and hidden biases into the layer; fine-tuning is
then ordinary supervised training. ``zoo.train`` (its engine) calls ``pretrain`` on the
training inputs before fine-tuning a DBN that is not pretrained yet.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from zoo import _validation as v
from zoo._catalogue import Preset, register
from zoo.architectures import _common
from zoo.architectures.rbm import RBM, check_unit_interval


def _inputs(x: Any) -> np.ndarray:
    """`x` as one array: an array itself, or every batch's inputs of a dataset."""
    if hasattr(x, "element_spec"):  # a tf.data.Dataset of inputs or (inputs, labels, ...)
        batches = [
            np.asarray(batch[0] if isinstance(batch, (tuple, list)) else batch)
            for batch in x.as_numpy_iterator()
        ]
        if not batches:
            raise v.invalid("x", "a dataset with at least one batch", "an empty dataset")
        return np.concatenate(batches)
    if isinstance(x, (tuple, list)) and len(x) and not np.isscalar(x[0]):
        x = x[0]  # (inputs, labels)
    return np.asarray(x, "float32")


@keras.saving.register_keras_serializable(package="zoo")
class DBN(keras.Model):
    """A deep belief network: stacked RBMs as sigmoid layers, then a classifier head.

    Build it with ``zoo.build("dbn", units=(...))``; the arguments are those of
    :func:`dbn`. ``pretrained`` says whether :meth:`pretrain` ran (it is saved, so a
    loaded model is not pretrained again).
    """

    def __init__(
        self,
        input_shape: tuple[int, ...],
        num_classes: int | None = 10,
        units: tuple[int, ...] = (256, 128),
        k: int = 1,
        pretrain_epochs: int = 10,
        pretrain_batch_size: int = 32,
        pretrain_learning_rate: float = 0.05,
        head_activation: Any = None,
        dropout: float = 0.0,
        seed: int | None = None,
        pretrained: bool = False,
        name: str = "dbn",
        **kwargs: Any,
    ) -> None:
        dtype = kwargs.pop("dtype", None)
        shape, num_classes, options = _common.check_contract(
            input_shape=input_shape,
            ndim=(1, 2, 3),
            num_classes=num_classes,
            head_activation=head_activation,
            dropout=dropout,
            dtype=dtype,
            name=name,
        )
        units = v.check_int_sequence("units", units, min_length=1)
        k = v.check_int("k", k, minimum=1)
        pretrain_epochs = v.check_int("pretrain_epochs", pretrain_epochs, minimum=0)
        pretrain_batch_size = v.check_int("pretrain_batch_size", pretrain_batch_size, minimum=1)
        pretrain_learning_rate = v.check_float(
            "pretrain_learning_rate", pretrain_learning_rate, minimum=0.0
        )
        seed = v.check_int("seed", seed, minimum=0, allow_none=True)
        pretrained = v.check_bool("pretrained", pretrained)
        inputs = keras.Input(shape=shape, name="inputs")
        x = keras.layers.Flatten(name="flatten")(inputs) if len(shape) > 1 else inputs
        for i, width in enumerate(units, start=1):
            x = options.dense(width, activation="sigmoid", name=f"rbm_{i}")(x)
        outputs = _common.head(
            x,
            num_classes=num_classes,
            head_activation=head_activation,
            dropout=dropout,
            options=options,
        )
        super().__init__(inputs, outputs, name=name, **kwargs)
        self.units = units
        self.pretrained = pretrained
        self._zoo_config = {
            "input_shape": shape,
            "num_classes": num_classes,
            "units": units,
            "k": k,
            "pretrain_epochs": pretrain_epochs,
            "pretrain_batch_size": pretrain_batch_size,
            "pretrain_learning_rate": pretrain_learning_rate,
            "head_activation": head_activation,
            "dropout": dropout,
            "seed": seed,
            "dtype": dtype,
        }

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, **self._zoo_config, "pretrained": self.pretrained}

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: Any = None):
        return cls(**config)

    @property
    def hidden_layers(self) -> list[keras.layers.Dense]:
        """The sigmoid layers that the RBMs initialise, from the input up."""
        return [self.get_layer(f"rbm_{i}") for i in range(1, len(self.units) + 1)]

    def pretrain(
        self,
        x: Any,
        *,
        epochs: int | None = None,
        batch_size: int | None = None,
        learning_rate: float | None = None,
        verbose: Any = 0,
    ) -> list[dict[str, list[float]]]:
        """Greedy layer-wise pretraining: one RBM per hidden layer, by CD-k.

        The first RBM trains on the inputs, each next one on the hidden probabilities
        of the one below; each RBM's weights and hidden biases become its layer's.

        Args:
            x: inputs in [0, 1] (an array, or a ``tf.data.Dataset`` of inputs or of
                ``(inputs, labels)``, whose labels are ignored; it is read into memory).
            epochs: epochs per RBM (default: the model's ``pretrain_epochs``).
            batch_size: batch size (default: ``pretrain_batch_size``).
            learning_rate: SGD learning rate with momentum 0.9 (default:
                ``pretrain_learning_rate``).
            verbose: Keras verbosity of each RBM's fit.

        Returns:
            Each RBM's Keras history, from the input up.

        Raises:
            ValueError: inputs outside [0, 1], or invalid settings.

        Example:
            >>> model = zoo.build("dbn_tiny")
            >>> histories = model.pretrain(x, epochs=2)  # x: images in [0, 1]
            >>> model.pretrained
            True
        """
        config = self._zoo_config
        epochs = config["pretrain_epochs"] if epochs is None else epochs
        epochs = v.check_int("epochs", epochs, minimum=0)
        batch_size = config["pretrain_batch_size"] if batch_size is None else batch_size
        batch_size = v.check_int("batch_size", batch_size, minimum=1)
        rate = config["pretrain_learning_rate"] if learning_rate is None else learning_rate
        rate = v.check_float("learning_rate", rate, minimum=0.0)
        data = _inputs(x).astype("float32")
        check_unit_interval(data, None, "x")
        expected = tuple(config["input_shape"])
        if tuple(data.shape[1:]) != expected:
            raise v.invalid(
                "x", f"inputs of shape (n, {', '.join(map(str, expected))})", data.shape
            )
        hidden = data.reshape(len(data), -1)
        histories = []
        seed = config["seed"]
        for i, layer in enumerate(self.hidden_layers):
            machine = RBM(
                (hidden.shape[1],),
                layer.units,
                k=config["k"],
                seed=None if seed is None else seed + i,
                name=f"pretrain_{layer.name}",
            )
            machine.compile(optimizer=keras.optimizers.SGD(rate, momentum=0.9))
            if epochs:
                history = machine.fit(hidden, batch_size=batch_size, epochs=epochs, verbose=verbose)
                histories.append(history.history)
            else:
                histories.append({})
            layer.kernel.assign(keras.ops.convert_to_numpy(machine.rbm.kernel))
            layer.bias.assign(keras.ops.convert_to_numpy(machine.rbm.hidden_bias))
            hidden = machine.transform(hidden)
        self.pretrained = True
        return histories


_TINY = {"input_shape": (8, 8, 1), "units": (16, 8), "pretrain_epochs": 2}

PRESETS = {
    "dbn_tiny": Preset("A small DBN for tests (8x8 images, 16 and 8 hidden units).", _TINY),
    "dbn_digits": Preset(
        "A DBN for the 8x8 digits: 64-256-128-10, 10 pretraining epochs per RBM.",
        {"input_shape": (8, 8, 1), "units": (256, 128)},
    ),
    "dbn_mnist": Preset(
        "Hinton and Salakhutdinov's MNIST DBN: 784-500-500-2000-10.",
        {"input_shape": (28, 28, 1), "units": (500, 500, 2000)},
    ),
}

SEARCH_SPACE = {
    "units": [(128,), (256, 128), (500, 500)],
    "pretrain_epochs": [0, 5, 10],
    "learning_rate": {"min": 1e-4, "max": 1e-2, "sampling": "log"},
}


@register(
    "dbn",
    task="classification",
    description="Deep belief network: RBMs pretrained layer by layer, then fine-tuned.",
    presets=PRESETS,
    search_space=SEARCH_SPACE,
)
def dbn(
    input_shape: tuple[int, ...] = (28, 28, 1),
    num_classes: int | None = 10,
    *,
    units: tuple[int, ...] = (256, 128),
    k: int = 1,
    pretrain_epochs: int = 10,
    pretrain_batch_size: int = 32,
    pretrain_learning_rate: float = 0.05,
    head_activation: Any = None,
    dropout: float = 0.0,
    seed: int | None = None,
    dtype: Any = None,
    name: str = "dbn",
) -> DBN:
    """Build a deep belief network classifier (Hinton, Osindero and Teh, 2006).

    Flattened inputs in [0, 1], a sigmoid dense layer per entry of `units` and a
    softmax head. ``model.pretrain(x)`` initialises the hidden layers from RBMs trained
    greedily; ``zoo.train`` does this on the training split before fine-tuning.

    Args:
        input_shape: shape of one example (flattened).
        num_classes: classes; None for a headless model (the top hidden layer).
        units: hidden units of each RBM, from the input up.
        k: Gibbs steps of each RBM's CD-k.
        pretrain_epochs: epochs per RBM (0: no pretraining, a sigmoid MLP).
        pretrain_batch_size: batch size of the pretraining.
        pretrain_learning_rate: SGD learning rate of the pretraining (momentum 0.9).
        head_activation: output activation (default softmax; sigmoid for one class).
        dropout: dropout before the head.
        seed: seed of the RBMs' initial weights and sampling.
        dtype: dtype policy; the output stays float32.
        name: model name.

    Returns:
        An uncompiled :class:`DBN`.

    Raises:
        ValueError: for an invalid value (no `units`, a size or `k` below 1).
            TypeError: for a wrong type.

    Example:
        >>> model = zoo.build("dbn", input_shape=(8, 8, 1), units=(32, 16))
        >>> result = zoo.train(model, "digits", epochs=20)  # pretrains, then fine-tunes
    """
    return DBN(
        input_shape,
        num_classes,
        units,
        k,
        pretrain_epochs,
        pretrain_batch_size,
        pretrain_learning_rate,
        head_activation,
        dropout,
        seed,
        name=name,
        dtype=dtype,
    )
