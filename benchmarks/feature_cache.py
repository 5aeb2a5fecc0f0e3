"""fine_tune's head stage: cached backbone features against running the frozen backbone.

The same VGG16 classifier (random weights, so it runs offline; the speed does
not depend on the weights) is fine-tuned head-only on the same images twice: with
the feature cache (features computed once, then the head trains on them) and with
``cache_features=False`` (the frozen backbone runs every epoch). The ratio is epoch
time without the cache over epoch time with it (best epoch after the first), and a
second row compares the two runs' validation accuracy after the same epochs.
"""

from __future__ import annotations

import argparse

import keras
import numpy as np
from common import best, row, steady

import zoo

NOTES = """The uncached side runs VGG16 over every image every epoch, so the ratio grows
with the backbone and the image count and shrinks when anything else competes for the
cores; an earlier run with MobileNetV2 at 96x96 measured 31.6x. Random weights keep it
offline; the accuracy row is a sanity check that caching changes nothing but speed.
"""


def _images(n: int, size: int, classes: int = 5):
    rng = np.random.default_rng(0)
    y = np.arange(n) % classes
    x = rng.uniform(0, 255, (n, size, size, 3)).astype("float32")
    for c in range(classes):  # a class signal the head can learn
        x[y == c, :, :, c % 3] *= 0.2  # one colour channel dimmed per class
        x[y == c, : size // 2] *= 0.5 + 0.1 * c
    return x, np.array([f"class_{c}" for c in y])


def _head_stage(data, epochs: int, cache) -> tuple[list[float], float, float]:
    keras.utils.set_random_seed(0)
    model = zoo.transfer.image_classifier(
        "vgg_16.keras_in1k", data.num_classes, weights=None, input_shape=data.input_shape
    )
    result = zoo.transfer.fine_tune(
        model,
        data,
        epochs=epochs,
        fine_tune_epochs=0,
        learning_rate=1e-2,
        cache_features=cache,
        save=False,
        verbose=0,
    )
    seconds = list(result.history["seconds"])
    return seconds, float(result.history["val_accuracy"].iloc[-1]), result.stages["seconds"][0]


def run(quick: bool = False) -> list[dict]:
    n, size, epochs = (64, 32, 2) if quick else (1_024, 64, 6)
    x, y = _images(n, size)
    data = zoo.data.load(x, y, batch_size=32, test_split=0.1, validation_split=0.2)
    cached, cached_accuracy, cached_total = _head_stage(data, epochs, "auto")
    plain, plain_accuracy, plain_total = _head_stage(data, epochs, False)
    print(
        f"head stage fit: {cached_total:.1f} s on cached features (computed once before it) "
        f"vs {plain_total:.1f} s through the frozen backbone, {epochs} epochs"
    )
    return [
        row(
            "fine_tune head stage: cached features vs frozen backbone every epoch",
            best([1 / s for s in steady(cached)]),
            best([1 / s for s in steady(plain)]),
            "epochs/s",
            ">= 10",
        ),
        row(
            "fine_tune head stage: validation accuracy, cached vs not (same epochs)",
            cached_accuracy,
            plain_accuracy,
            "accuracy",
            "~1 (within noise)",
        ),
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (for tests)")
    for result in run(parser.parse_args().quick):
        print(result)
