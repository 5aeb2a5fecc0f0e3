"""Distributed search on one machine: 2 supervised workers against 1, same fixed search.

The same grid search (8 trials of a small convnet on the bundled digits, 3 epochs
each) runs with ``workers=1`` and ``workers=2`` (Keras Tuner's chief plus worker
processes on 127.0.0.1, zoo's supervisor; each worker gets its share of the cores).
Times are wall-clock for the whole call, process start-up included. The ratio is
the 1-worker time over the 2-worker time (the target, a 2-worker time of at most 0.7
of the 1-worker time, is a ratio of at least 1.43).
"""

from __future__ import annotations

import argparse
import tempfile
import time

from common import row

import zoo

SPACE = {
    "filters": [(8, 16), (16, 32)],
    "dense_units": [(32,), (64,)],
    "learning_rate": [1e-3, 3e-3],
    "convs_per_block": 1,
    "batch_norm": False,
    "dropout": 0.0,
}


def _search(workers: int, epochs: int, trials: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        result = zoo.tune(
            "convnet",
            "digits",
            space=SPACE,
            algorithm="grid",
            max_trials=trials,
            epochs=epochs,
            workers=workers,
            directory=folder,
            save=False,
            verbose=0,
            load_options={"batch_size": 32},
        )
        seconds = time.perf_counter() - start
    done = int((result.trials["status"] == "COMPLETED").sum())
    print(f"{workers} worker(s): {done} trials in {seconds:.1f} s")
    return seconds


def run(quick: bool = False) -> list[dict]:
    epochs, trials = (1, 2) if quick else (3, 8)
    one = _search(1, epochs, trials)
    two = _search(2, epochs, trials)
    return [
        row(
            f"zoo.tune --workers 2 vs 1 ({trials} convnet trials, wall time)",
            two,
            one,
            "s",
            ">= 1.43 (2 workers <= 0.7 of 1)",
            higher=False,
        )
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (for tests)")
    for result in run(parser.parse_args().quick):
        print(result)
