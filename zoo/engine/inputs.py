"""Raw input outside, network input inside: how a model meets zoo's pipelines.

zoo's pipelines yield what a network trains on (pixels in [0, 1], token ids, encoded
rows) and ``Data.preprocessor`` maps raw input to that. A model is trained as its
*network* on the pipelines, and saved as ``preprocessor -> network``
(:func:`zoo.layers.preprocessing.attach`), so that what zoo saves takes raw input.
Models that normalise raw 0-255 pixels themselves (transfer classifiers with
``ImagePreprocessing``, TF Hub image models) get 0-255 pipelines and only the
resizing part of the preprocessor.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import keras

from zoo import registry, tasks
from zoo.layers.preprocessing import ImagePreprocessing, attach, split

ATTACHED_TASKS = tasks.SCORED_BY_SKLEARN  # classifiers and regressors; not generators


@dataclasses.dataclass
class Fitting:
    """A model prepared for zoo's pipelines.

    Attributes:
        network: the model without raw-input preprocessing (what trains).
        data: the data as the network takes it (0-255 pixels for models that
            normalise raw pixels themselves, else the pipelines as they are).
        preprocessor: raw input -> network input, put in front on :meth:`deployable`.
    """

    network: keras.Model
    data: Any
    preprocessor: keras.Model | None

    def deployable(self, task: str) -> keras.Model:
        """The network with its preprocessing in front (for classifiers and regressors)."""
        if task not in ATTACHED_TASKS or self.preprocessor is None:
            return self.network
        model = attach(self.network, self.preprocessor)
        spec = registry.get_spec(self.network)
        if spec:
            registry.set_spec(model, spec["architecture"], spec.get("arguments", {}))
        return model


def takes_raw_pixels(model: keras.Model) -> bool:
    """Whether `model` normalises raw 0-255 pixels itself (transfer classifiers)."""
    for layer in model.layers:
        if isinstance(layer, ImagePreprocessing):
            return True
        if isinstance(layer, keras.layers.Rescaling) and layer.name == "preprocessing":
            return True  # TF Hub image classifiers: / 255 inside
    return False


def with_pixel_scale(data, factor: float):
    """`data` with the images of every split (and worker share) multiplied by `factor`.

    1 leaves it unchanged.
    """
    if factor == 1.0:
        return data
    return data.map_inputs(lambda x: x * factor)


def _fits(network: keras.Model, data) -> bool:
    """Whether the network takes what the pipelines yield (the shape, without batch)."""
    shape = getattr(network, "input_shape", None)
    if not isinstance(shape, tuple) or not shape or isinstance(shape[0], tuple):
        return True  # several or structured inputs: nothing to compare
    expected = tuple(data.input_shape)
    given = tuple(shape[1:])
    return len(given) == len(expected) and all(
        g is None or e is None or g == e for g, e in zip(given, expected, strict=True)
    )


def prepare(model: keras.Model, data) -> Fitting:
    """Split off a model's raw-input preprocessing and fit the data to its network.

    Example:
        >>> data = zoo.data.load("digits")
        >>> fitting = prepare(zoo.build("mlp_tiny", input_shape=(8, 8, 1)), data)
        >>> fitting.deployable("classification").input_shape
        (None, 8, 8, 1)
        >>> [layer.name for layer in fitting.deployable("classification").layers][1:]
        ['preprocessing', 'mlp_tiny']
    """
    preprocessor, network = split(model)
    described = getattr(data, "inputs", {}) or {}
    if preprocessor is not None and not _fits(network, data):
        # a model whose preprocessing adapts the data (fine_tune's resizing, grey to
        # RGB): fed the raw input it takes, whole; it cannot train as its network here
        scale = described.get("scale", 1.0) if described.get("kind") == "image" else 1.0
        return Fitting(model, with_pixel_scale(data, 1.0 / scale), None)
    if described.get("kind") == "image" and takes_raw_pixels(network):
        scale = described.get("scale", 1.0)
        return Fitting(
            network, with_pixel_scale(data, 1.0 / scale), data.make_preprocessor(rescale=False)
        )
    return Fitting(network, data, getattr(data, "preprocessor", None))
