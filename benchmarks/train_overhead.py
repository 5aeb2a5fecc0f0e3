"""zoo.train against a hand-written model.fit: same model, data, batch and epochs.

Both runs train a fresh copy of the same small CNN on the same in-memory 32x32x3
images with the same validation split; each repeat trains both back to back, and the
ratio is zoo's training steps/s over the plain fit's (best epoch after the first, as
timeit) in the median repeat, with the spread over repeats. zoo's extra work (TensorBoard logs,
best checkpoint, the resumption state, early stopping) happens between epochs; the
second row compares whole wall time per epoch, including that work.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import keras
import numpy as np
from common import EpochClock, best, row, steady

import zoo


def run(quick: bool = False) -> list[dict]:
    n, epochs, repeats = (512, 3, 1) if quick else (4_000, 4, 5)
    rng = np.random.default_rng(0)
    x = rng.random((n, 32, 32, 3), dtype=np.float32)
    y = (x[:, :16, :16, 0].mean(axis=(1, 2)) * 10).astype("int32") % 10
    data = zoo.data.load(x, y, batch_size=64, test_split=0.1, validation_split=0.1)
    arguments = {
        "input_shape": (32, 32, 3),
        "num_classes": 10,
        "filters": (32, 64),
        "dense_units": (128,),
    }
    zoo_rates, plain_rates, zoo_wall, plain_wall, ratios = [], [], [], [], []
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(repeats):  # interleaved, so drift hits both sides alike
            keras.utils.set_random_seed(0)
            model = zoo.build("convnet", **arguments)
            model.compile(
                optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"]
            )
            clock = EpochClock()
            start = time.perf_counter()
            model.fit(
                data.train,
                validation_data=data.validation,
                epochs=epochs,
                callbacks=[clock],
                verbose=0,
            )
            plain_wall.append((time.perf_counter() - start) / epochs)
            plain_best = best(steady(clock.steps_per_second))
            plain_rates.append(plain_best)

            keras.utils.set_random_seed(0)
            clock = EpochClock()
            start = time.perf_counter()
            zoo.train(
                "convnet",
                data,
                epochs=epochs,
                early_stopping=epochs,
                callbacks=[clock],
                output=f"{folder}/overhead",
                verbose=0,
                **{
                    k: value
                    for k, value in arguments.items()
                    if k not in ("input_shape", "num_classes")
                },
            )
            zoo_wall.append((time.perf_counter() - start) / epochs)
            zoo_rates.append(best(steady(clock.steps_per_second)))
            ratios.append(zoo_rates[-1] / plain_best)
    # Each repeat pairs the two sides back to back; the row gives the median repeat.
    middle = int(np.argsort(ratios)[len(ratios) // 2])
    spread = f"{min(ratios):.3f}-{max(ratios):.3f}"
    return [
        row(
            f"zoo.train vs model.fit: training steps/s (small CNN; median of {repeats} "
            f"paired repeats, ratios {spread})",
            zoo_rates[middle],
            plain_rates[middle],
            "steps/s",
            ">= 0.97",
        ),
        row(
            "zoo.train vs model.fit: wall time per epoch incl. evaluation and saving",
            np.median(zoo_wall),
            np.median(plain_wall),
            "s",
            "(info)",
            higher=False,
        ),
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (for tests)")
    for result in run(parser.parse_args().quick):
        print(result)
