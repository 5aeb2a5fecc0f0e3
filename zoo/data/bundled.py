"""Datasets that ship with zoo's dependencies, so demos and tests run offline.

The digits are scikit-learn's copy of the UCI "Optical Recognition of Handwritten
Digits" test set (1,797 8x8 grey-scale images, 10 classes, BSD licence); they ship
with scikit-learn, so zoo's demo and tests run offline.
"""

from __future__ import annotations

from zoo.data.examples import Examples, fingerprint


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
