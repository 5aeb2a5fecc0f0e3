"""Datasets that ship with zoo's dependencies, so demos and tests run offline.

The digits are scikit-learn's copy of the UCI "Optical Recognition of Handwritten
Digits" test set (1,797 8x8 grey-scale images, 10 classes, BSD licence); they ship
with scikit-learn, so zoo's demo and tests run offline.
"""

from __future__ import annotations

from zoo.data.examples import Examples, fingerprint


def digits_examples() -> Examples:
    """The bundled digits as zoo examples: 8x8x1 images of raw 0-255 pixels.

    scikit-learn stores intensities 0-16; they are stretched to 0-255 so the digits
    follow zoo's one image convention (``load`` scales them to [0, 1] for training,
    and a saved model takes 0-255 pixels).
    """
    from sklearn.datasets import load_digits as sklearn_digits

    digits = sklearn_digits()
    x = (digits.images * (255.0 / 16.0)).astype("float32")[..., None]
    y = digits.target.astype("int32")
    return Examples(
        x=x,
        y=y,
        task="classification",
        class_names=tuple(str(c) for c in digits.target_names),
        kind="array",
        source="digits (scikit-learn's 8x8 handwritten digits, bundled)",
        fingerprint=fingerprint(x, y),
        extra={"pixels": True},
    )


BUNDLED = {"digits": digits_examples}
