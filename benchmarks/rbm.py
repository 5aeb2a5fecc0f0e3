"""RBM features for digit classification: zoo's ``rbm`` vs scikit-learn's ``BernoulliRBM``.

scikit-learn's example "Restricted Boltzmann Machine features for digit
classification": the bundled 8x8 digits scaled to [0, 1], an RBM with 100 hidden units
trained for 20 epochs (``BernoulliRBM(n_components=100, learning_rate=0.06,
n_iter=20)``, batch size 10, its default), then logistic regression (C=6000, as the
example) on the hidden probabilities. zoo's ``rbm`` gets the same hidden units, epochs
and batch size with its own defaults (CD-1, SGD 0.02 with momentum 0.9, weight decay
1e-4), and the same logistic regression. Both are scored on one fixed, stratified
held-out split (20%), over several seeds run alternately (median and spread). The
example's data augmentation (images nudged by one pixel) is left out, for both.

The DBN row fine-tunes ``dbn_digits`` (64-256-128-10, 10 epochs of CD-1 per RBM) with
``zoo.train`` (20 epochs, Adam 3e-3) on the same split; its target is 0.95.

Usage: .venv/bin/python benchmarks/rbm.py [--quick] [--seeds N]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import zoo

HIDDEN, EPOCHS, BATCH = 100, 20, 10
DBN_TARGET = 0.95
NOTES = (
    "RBM features + logistic regression (C=6000) on the bundled digits (fixed 20% held-out "
    "split), zoo's rbm vs scikit-learn's BernoulliRBM (100 hidden units, 20 epochs, batch "
    "10; learning_rate 0.06 as scikit-learn's example), seeds alternating, medians; the "
    "DBN row is dbn_digits fine-tuned by zoo.train (20 epochs, learning_rate 3e-3)."
)


def _digits():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.images / 16.0).astype("float32")
    return train_test_split(x, digits.target, test_size=0.2, random_state=0, stratify=digits.target)


def _logistic_accuracy(train_features, y_train, test_features, y_test) -> float:
    from sklearn.linear_model import LogisticRegression

    logistic = LogisticRegression(C=6000.0, max_iter=2000)
    logistic.fit(train_features, y_train)
    return float(logistic.score(test_features, y_test))


def _sklearn(x_train, y_train, x_test, y_test, seed: int, epochs: int) -> tuple[float, float]:
    from sklearn.neural_network import BernoulliRBM

    start = time.perf_counter()
    rbm = BernoulliRBM(
        n_components=HIDDEN, learning_rate=0.06, n_iter=epochs, batch_size=BATCH, random_state=seed
    )
    rbm.fit(x_train.reshape(len(x_train), -1))
    seconds = time.perf_counter() - start
    features = [rbm.transform(x.reshape(len(x), -1)) for x in (x_train, x_test)]
    return _logistic_accuracy(features[0], y_train, features[1], y_test), seconds


def _zoo(x_train, y_train, x_test, y_test, seed: int, epochs: int) -> tuple[float, float]:
    import keras

    keras.utils.set_random_seed(seed)
    model = zoo.build("rbm", input_shape=(8, 8), units=HIDDEN, seed=seed)
    model.compile()
    start = time.perf_counter()
    model.fit(x_train, batch_size=BATCH, epochs=epochs, verbose=0)
    seconds = time.perf_counter() - start
    features = [model.transform(x) for x in (x_train, x_test)]
    return _logistic_accuracy(features[0], y_train, features[1], y_test), seconds


def _dbn(x_train, y_train, x_test, y_test, epochs: int, pretrain_epochs: int) -> float:
    data = zoo.data.load(x_train[..., None], y_train, test=(x_test[..., None], y_test), seed=0)
    result = zoo.train(
        "dbn_digits",
        data,
        epochs=epochs,
        learning_rate=3e-3,
        pretrain_epochs=pretrain_epochs,
        save=False,
        verbose=0,
    )
    return float(result.metrics["accuracy"])


def measure(quick: bool = False, seeds: int = 3) -> dict[str, list[float]]:
    """Accuracies and seconds of both RBMs per seed, and the DBN's accuracy."""
    x_train, x_test, y_train, y_test = _digits()
    epochs = 2 if quick else EPOCHS
    results: dict[str, list[float]] = {
        "sklearn": [],
        "zoo": [],
        "sklearn_s": [],
        "zoo_s": [],
    }
    for seed in range(1 if quick else seeds):
        for name, run_one in (("sklearn", _sklearn), ("zoo", _zoo)):  # alternating
            accuracy, seconds = run_one(x_train, y_train, x_test, y_test, seed, epochs)
            results[name].append(accuracy)
            results[f"{name}_s"].append(seconds)
            print(f"seed {seed} {name}: accuracy {accuracy:.4f}, {seconds:.1f} s", flush=True)
    results["dbn"] = [
        _dbn(x_train, y_train, x_test, y_test, 2 if quick else 20, 1 if quick else 10)
    ]
    print(f"dbn_digits fine-tuned: accuracy {results['dbn'][0]:.4f}", flush=True)
    return results


def _spread(values: list[float]) -> str:
    return f"{min(values):.4f}-{max(values):.4f}"


def run(quick: bool = False, seeds: int = 3) -> list[dict]:
    """run.py's rows: RBM features (zoo vs scikit-learn), fit times, the DBN's accuracy."""
    from common import fraction, row

    results = measure(quick, seeds)
    zoo_accuracy, sk_accuracy = np.median(results["zoo"]), np.median(results["sklearn"])
    return [
        row(
            f"RBM features + logistic regression, digits: zoo rbm vs sklearn BernoulliRBM "
            f"(median of {len(results['zoo'])}; zoo {_spread(results['zoo'])}, sklearn "
            f"{_spread(results['sklearn'])})",
            zoo_accuracy,
            sk_accuracy,
            "accuracy",
            ">= 1",
        ),
        row(
            f"RBM training time, digits ({HIDDEN} hidden, {2 if quick else EPOCHS} epochs, "
            f"batch {BATCH}): zoo vs sklearn",
            float(np.median(results["zoo_s"])),
            float(np.median(results["sklearn_s"])),
            "s",
            "(info)",
            higher=False,
        ),
        fraction(
            "dbn_digits fine-tuned by zoo.train: held-out accuracy vs the 0.95 target",
            results["dbn"][0],
            DBN_TARGET,
            "accuracy",
            ">= 1",
        ),
    ]


def main(argv=None) -> int:
    import sys
    from pathlib import Path

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).parent))
    import pandas as pd

    print(pd.DataFrame(run(quick=args.quick, seeds=args.seeds)).to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
