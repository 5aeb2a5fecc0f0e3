"""What a saved model takes: the raw-input preprocessing of each kind of source.

``zoo.data`` pipelines yield what a network trains on (pixels scaled to [0, 1],
token ids, encoded table rows), computed with the same Keras preprocessing layers
that :func:`preprocessor` returns. ``zoo.train`` puts that preprocessor in front of
the trained network (``zoo.layers.preprocessing.attach``), so a saved model takes
what users have:

- images: raw pixels, uint8 or float 0-255 (``Resizing`` to the training size
  when ``image_size`` resized the data, so any size is accepted; ``Rescaling``);
- texts: raw strings (the fitted ``TextVectorization``, vocabulary saved with it);
- series: raw ``(length, channels)`` float series (``Normalization`` per channel,
  mean and variance from the training split);
- tables: a dict (or DataFrame) of raw columns (``keras.utils.FeatureSpace``:
  numeric columns standardised, categorical ones one-hot encoded with a column for
  unseen categories, statistics fitted on the training split).
"""

from __future__ import annotations

from typing import Any

from zoo.layers.preprocessing import PREPROCESSING


def image(shape: tuple[int, ...], *, scale: float, resizable: bool, rescale: bool = True) -> Any:
    """Raw 0-255 images -> network input: ``Resizing`` (if `resizable`), ``Rescaling``.

    Args:
        shape: (height, width, channels) the network takes.
        scale: the factor the pipeline applied to raw pixels (1/255 by default).
        resizable: accept any height and width, resized like the training data.
        rescale: include the scaling (False for models that take 0-255 pixels and
            normalise them themselves, such as zoo's transfer classifiers).

    Returns:
        A ``keras.Model`` named ``"preprocessing"``, or None when raw input already
        is the network's input.
    """
    import keras

    height, width, channels = shape
    raw_shape = (None, None, channels) if resizable else (height, width, channels)
    inputs = keras.Input(raw_shape, name="pixels")
    x = inputs
    if resizable:
        x = keras.layers.Resizing(height, width, antialias=True, name="resize")(x)
    if rescale and scale != 1.0:
        x = keras.layers.Rescaling(scale, name="rescale")(x)
    if x is inputs:
        return None
    return keras.Model(inputs, x, name=PREPROCESSING)


def series(length: int, channels: int, *, mean: Any, variance: Any) -> Any:
    """Raw series -> per-channel standardised series, with a ``Normalization`` layer.

    Args:
        length: time steps per series.
        channels: values per time step.
        mean: per-channel means of the training split.
        variance: per-channel variances of the training split (1 for a channel that
            is constant in training, so it is centred, not blown up).

    Returns:
        A ``keras.Model`` named ``"preprocessing"`` from ``(length, channels)`` input.
    """
    import keras

    inputs = keras.Input((length, channels), name="series")
    normalize = keras.layers.Normalization(
        axis=-1,
        mean=list(map(float, mean)),
        variance=list(map(float, variance)),
        name="standardize",
    )
    return keras.Model(inputs, normalize(inputs), name=PREPROCESSING)


def text(vectorizer: Any) -> Any:
    """Raw strings -> token ids with a fitted ``TextVectorization``."""
    import keras

    inputs = keras.Input((), dtype="string", name="text")
    return keras.Model(inputs, vectorizer(inputs), name=PREPROCESSING)


def table(feature_space: Any) -> Any:
    """A dict of raw columns -> the encoded row, with an adapted ``FeatureSpace``."""
    import keras

    inputs = dict(feature_space.get_inputs())  # a plain dict: Keras warns on its tracked one
    return keras.Model(inputs, feature_space.get_encoded_features(), name=PREPROCESSING)


def as_strings(values: Any) -> Any:
    """Texts as a numpy object array of str (Keras's predict rejects numpy ``<U`` arrays)."""
    import numpy as np

    return np.asarray(values, dtype=object).astype(str).astype(object)
