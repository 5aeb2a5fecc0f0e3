"""The image-folder pipeline against in-memory tensors, training the same small CNN.

PNG files are written to a temporary folder, then the same images are loaded both
through ``zoo.data.load(folder)`` (decode, cache, shuffle, batch, prefetch) and as
in-memory numpy arrays. The ratio is training steps/s from the folder over steps/s
from memory, best epoch after the first (which decodes and fills the cache) of each
side, paired repeat by repeat; the row is the median repeat, with the spread.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import keras
import numpy as np
from common import EpochClock, best, row, steady
from PIL import Image

import zoo


def _write_folder(root: Path, n: int, size: int) -> None:
    rng = np.random.default_rng(0)
    for i in range(n):
        label = i % 10
        folder = root / f"class_{label}"
        folder.mkdir(parents=True, exist_ok=True)
        pixels = rng.integers(0, 255, (size, size, 3), dtype=np.uint8)
        pixels[: size // 2, : size // 2, 0] = 25 * label
        Image.fromarray(pixels).save(folder / f"{i}.png")


def _train(data, epochs: int) -> list[float]:
    keras.utils.set_random_seed(0)
    model = zoo.build("convnet", input_shape=data.input_shape, num_classes=10, filters=(32, 64))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    clock = EpochClock()
    model.fit(data.train, epochs=epochs, callbacks=[clock], verbose=0)
    return steady(clock.steps_per_second)


def run(quick: bool = False) -> list[dict]:
    n, epochs, repeats = (200, 2, 1) if quick else (3_000, 4, 5)
    with tempfile.TemporaryDirectory() as folder:
        _write_folder(Path(folder), n, 32)
        from_folder = zoo.data.load(folder, batch_size=64, validation_split=0, test_split=0.05)
        images = np.concatenate([x for x, _ in from_folder.train.as_numpy_iterator()])
        labels = np.concatenate([y for _, y in from_folder.train.as_numpy_iterator()])
        in_memory = zoo.data.load(
            images, labels, batch_size=64, validation_split=0, test_split=0.05
        )
        folder_rates, memory_rates, ratios = [], [], []
        for _ in range(repeats):  # each repeat pairs the two sides back to back
            folder_rates.append(best(_train(from_folder, epochs)))
            memory_rates.append(best(_train(in_memory, epochs)))
            ratios.append(folder_rates[-1] / memory_rates[-1])
    middle = int(np.argsort(ratios)[len(ratios) // 2])
    spread = f"{min(ratios):.3f}-{max(ratios):.3f}"
    return [
        row(
            "image-folder pipeline vs in-memory tensors: training steps/s (median of "
            f"{repeats} paired repeats, ratios {spread})",
            folder_rates[middle],
            memory_rates[middle],
            "steps/s",
            ">= 0.95",
        )
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (for tests)")
    for result in run(parser.parse_args().quick):
        print(result)
