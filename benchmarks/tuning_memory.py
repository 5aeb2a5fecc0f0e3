"""Process memory over a 20-trial search: zoo.tune against a plain build-and-fit loop.

zoo.tune runs Keras Tuner, which clears the Keras session (and collects garbage)
before every trial. The baseline is what people write by hand: build and fit a fresh
model per configuration in one process without clearing anything. Both run the same
small MLPs on the bundled digits; the resident set size is read after every trial.
The ratio is the baseline's growth over the last three quarters of the trials divided
by zoo's (the first trials include one-off tracing and caches).
"""

from __future__ import annotations

import argparse
import tempfile

import keras
import psutil
from common import row

import zoo

RSS: list[float] = []


def _rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


class _Record(keras.callbacks.Callback):
    def on_train_end(self, logs=None):
        RSS.append(_rss_mb())


def _growth(values: list[float]) -> float:
    start = len(values) // 4
    return max(values[start:]) - values[start]


def run(quick: bool = False) -> list[dict]:
    trials = 4 if quick else 20
    data = zoo.data.load("digits", batch_size=64)
    space = {"units": [(32,), (64,), (64, 32)], "dropout": {"min": 0.0, "max": 0.3, "step": 0.1}}
    RSS.clear()
    with tempfile.TemporaryDirectory() as folder:
        zoo.tune(
            "mlp",
            data,
            space=space,
            max_trials=trials,
            epochs=1,
            directory=folder,
            callbacks=[_Record()],
            save=False,
            verbose=0,
        )
    tuned = list(RSS)
    plain = []
    for trial in range(trials):
        model = zoo.build(
            "mlp", input_shape=(8, 8, 1), num_classes=10, units=((32,), (64,), (64, 32))[trial % 3]
        )
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        model.fit(data.train, validation_data=data.validation, epochs=1, verbose=0)
        plain.append(_rss_mb())
    zoo_growth, plain_growth = _growth(tuned), _growth(plain)
    print(f"RSS per trial (MB), zoo.tune: {[round(x) for x in tuned]}")
    print(f"RSS per trial (MB), plain loop: {[round(x) for x in plain]}")
    return [
        row(
            f"zoo.tune memory growth over {trials} trials vs a plain build-and-fit loop",
            max(zoo_growth, 1.0),
            max(plain_growth, 1.0),
            "MB",
            "zoo grows < 50 MB",
            higher=False,
        )
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (for tests)")
    for result in run(parser.parse_args().quick):
        print(result)
