"""Process memory over a 20-trial search: zoo.tune against a plain build-and-fit loop.

The baseline is the careful hand-written loop: build, compile and fit a fresh model
per configuration, calling ``keras.backend.clear_session()`` and ``gc.collect()``
after each. It still grows by a few MB per model: TensorFlow keeps every traced train
step alive through a gradient function it registers globally and never removes (see
``zoo.distribute.release_traced_gradients``). zoo.tune (Keras Tuner clears the session
before every trial) drops those registrations after each trial. Both run the same
small MLPs on the bundled digits; the resident set size is read after every trial,
and the growth is the least-squares slope over the trials after the first quarter
(the first ones fill one-off caches). The ratio is the baseline's slope over zoo's.
"""

from __future__ import annotations

import argparse
import gc
import tempfile

import keras
import numpy as np
import psutil
from common import row

import zoo

NOTES = """The growth the baseline shows is TensorFlow's: Keras 3's TF optimizer
all-reduces gradients through ReplicaContext.all_reduce, whose custom_gradient
registers a gradient function (CustomGradient-N) in TF's global registry for every
traced train step and never removes it; the function holds the whole traced graph,
about 4 MB per small MLP. zoo.tune removes the registrations a trial made when it ends
(zoo.distribute.release_traced_gradients), so its memory stays flat.
"""

RSS: list[float] = []
UNITS = [(32,), (64,), (64, 32)]


def _rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


class _Record(keras.callbacks.Callback):
    def on_train_end(self, logs=None):
        gc.collect()
        RSS.append(_rss_mb())


def _slope(values: list[float]) -> float:
    """MB per trial: the least-squares slope after the first quarter of the trials."""
    tail = values[len(values) // 4 :]
    return float(np.polyfit(np.arange(len(tail)), tail, 1)[0])


def run(quick: bool = False) -> list[dict]:
    trials = 6 if quick else 20
    data = zoo.data.load("digits", batch_size=64)
    RSS.clear()
    with tempfile.TemporaryDirectory() as folder:
        zoo.tune(
            "mlp",
            data,
            space={"units": UNITS, "dropout": {"min": 0.0, "max": 0.3, "step": 0.1}},
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
            "mlp", input_shape=(8, 8, 1), num_classes=10, units=UNITS[trial % len(UNITS)]
        )
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        model.fit(data.train, validation_data=data.validation, epochs=1, verbose=0, shuffle=False)
        del model
        keras.backend.clear_session()
        gc.collect()
        plain.append(_rss_mb())
    print(f"RSS after each trial (MB), zoo.tune:   {[round(x) for x in tuned]}")
    print(f"RSS after each trial (MB), plain loop: {[round(x) for x in plain]}")
    zoo_slope, plain_slope = _slope(tuned), _slope(plain)
    return [
        row(
            f"zoo.tune memory growth per trial ({trials} trials) vs a clear_session loop",
            max(zoo_slope, 0.01),
            max(plain_slope, 0.01),
            "MB/trial",
            "zoo < 1 MB/trial",
            higher=False,
        )
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (for tests)")
    for result in run(parser.parse_args().quick):
        print(result)
