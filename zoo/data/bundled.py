"""Datasets that ship with zoo's dependencies, so demos and tests run offline.

The digits are scikit-learn's copy of the UCI "Optical Recognition of Handwritten
Digits" test set (1,797 8x8 grey-scale images, 10 classes, BSD licence); they ship
with scikit-learn, so zoo's demo and tests run offline.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from zoo import _validation as v
from zoo.data.examples import Examples, fingerprint


@dataclasses.dataclass(frozen=True)
class Splits:
    """Train, validation and test arrays plus what a model needs to know."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one example."""
        return tuple(self.x_train.shape[1:])

    @property
    def num_classes(self) -> int:
        """Number of classes."""
        return len(self.class_names)


def load_digits(*, validation_split: float = 0.1, test_split: float = 0.2, seed: int = 0) -> Splits:
    """Load the bundled 8x8 digits as float32 images in [0, 1], shape (n, 8, 8, 1).

    Splits are stratified by class and deterministic for a seed.

    Args:
        validation_split: fraction of all examples for validation.
        test_split: fraction of all examples for the test set.
        seed: seed of the shuffle.

    Returns:
        A :class:`Splits`.

    Example:
        >>> splits = zoo.data.load_digits()
        >>> splits.x_train.shape[1:], splits.num_classes
        ((8, 8, 1), 10)
    """
    from sklearn.datasets import load_digits as sklearn_digits
    from sklearn.model_selection import train_test_split

    validation_split = v.check_float("validation_split", validation_split, minimum=0.0, maximum=0.5)
    test_split = v.check_float("test_split", test_split, minimum=0.05, maximum=0.5)
    seed = v.check_int("seed", seed, minimum=0)

    digits = sklearn_digits()
    x = (digits.images / 16.0).astype("float32")[..., None]
    y = digits.target.astype("int32")
    x_rest, x_test, y_rest, y_test = train_test_split(
        x, y, test_size=test_split, stratify=y, random_state=seed
    )
    if validation_split > 0:
        fraction = validation_split / (1.0 - test_split)
        x_train, x_val, y_train, y_val = train_test_split(
            x_rest, y_rest, test_size=fraction, stratify=y_rest, random_state=seed
        )
    else:
        x_train, y_train = x_rest, y_rest
        x_val, y_val = x_rest[:0], y_rest[:0]
    names = tuple(str(c) for c in digits.target_names)
    return Splits(x_train, y_train, x_val, y_val, x_test, y_test, names)


def digits_examples() -> Examples:
    """The bundled digits as zoo examples (float32 8x8x1 images in [0, 1])."""
    from sklearn.datasets import load_digits as sklearn_digits

    digits = sklearn_digits()
    x = (digits.images / 16.0).astype("float32")[..., None]
    y = digits.target.astype("int32")
    return Examples(
        x=x,
        y=y,
        task="classification",
        class_names=tuple(str(c) for c in digits.target_names),
        kind="array",
        source="digits (scikit-learn's 8x8 handwritten digits, bundled)",
        fingerprint=fingerprint(x, y),
    )


BUNDLED = {"digits": digits_examples}
