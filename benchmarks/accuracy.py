"""Published Fashion-MNIST accuracies, reproduced side by side with zoo presets.

Each row of the Fashion-MNIST benchmark table (Zalando's README, as shipped by Debian's
``dataset-fashion-mnist``) that zoo has the architecture for is trained by ``zoo.train``
on the official 60,000 training images (10% of them held out for validation: the best
epoch is kept, early stopping after 5 epochs without progress; the BN convnet waits 8 and
halves its learning rate after 2 flat epochs, Keras's ReduceLROnPlateau) and
scored once on the official 10,000 test images, never seen before. Target: zoo's
accuracy >= the published one - 0.5 points. Rows marked GPU take too long on 2 CPU cores
and run only with ``--gpu-rows`` (or when Keras sees an accelerator).

Usage: .venv/bin/python benchmarks/accuracy.py [--quick] [--gpu-rows] [--seeds N]
       [--first-seed K] [--rows PRESET ...]
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np

import zoo

TARGET_POINTS = 0.5  # zoo may be at most this many points below the published figure


@dataclasses.dataclass(frozen=True)
class Published:
    """One row of the published table and the zoo preset with its architecture."""

    row: str
    accuracy: float
    preset: str
    epochs: int
    batch_size: int = 128
    early_stopping: int = 5
    reduce_lr: int | None = None  # halve the learning rate after this many flat epochs
    augment: dict | None = None
    gpu: bool = False
    build: dict = dataclasses.field(default_factory=dict)


ROWS = [
    Published("MLP 256-128-100", 0.8833, "mlp_fashion_mnist", epochs=30),
    Published("2 Conv+pooling (TensorFlow's tutorial)", 0.916, "convnet_tf_tutorial", epochs=12),
    Published("2 Conv+pooling+BN", 0.934, "convnet_bn", epochs=30, early_stopping=8, reduce_lr=2),
    Published(
        "ResNet18 + flips, translation, rotation",
        0.949,
        "resnet_18",
        epochs=60,
        augment={"flip": "horizontal_and_vertical", "rotation": 0.03, "translation": 0.1},
        gpu=True,
    ),
]
HUMAN = 0.835  # the table's crowd-sourced human accuracy, for reference


def _data(quick: bool, seed: int, published: Published):
    """Fashion-MNIST (a subset in quick mode; a stand-in when it is not on disk)."""
    from zoo.data import standard

    options = {"batch_size": published.batch_size, "seed": seed, "augment": published.augment}
    if not quick:
        return zoo.data.load("fashion_mnist", **options), "Fashion-MNIST"
    if standard.find("fashion_mnist") is not None:
        examples, where = standard.examples("fashion_mnist")
        x, y = examples.x, examples.y
        train, test = where["train"][:1_000], where["test"][:300]
        what = "Fashion-MNIST subset"
    else:  # quick mode only: the pipeline runs the same on random pixels
        rng = np.random.default_rng(seed)
        x = rng.integers(0, 256, size=(1_300, 28, 28, 1), dtype=np.uint8)
        y = np.arange(1_300) % 10
        train, test = np.arange(1_000), np.arange(1_000, 1_300)
        what = "random 28x28 stand-in (Fashion-MNIST not installed)"
    data = zoo.data.load(x[train], y[train], test=(x[test], y[test]), **options)
    return data, what


def _has_accelerator() -> bool:
    import keras

    if keras.backend.backend() == "jax":
        import jax

        return jax.default_backend() != "cpu"
    import tensorflow as tf

    return bool(tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("TPU"))


SECTION = ""  # the markdown section run.py adds to benchmarks/README.md


def _callbacks(published: Published) -> list:
    """Keras's ReduceLROnPlateau on validation loss where the row asks for it."""
    import keras

    if published.reduce_lr is None:
        return []
    return [
        keras.callbacks.ReduceLROnPlateau(
            "val_loss", factor=0.5, patience=published.reduce_lr, min_lr=1e-5
        )
    ]


def run(
    quick: bool = False,
    gpu_rows: bool | None = None,
    seeds: int = 1,
    presets: tuple[str, ...] | None = None,
    first_seed: int = 0,
) -> list[dict]:
    """Train every row (or those of `presets`); returns run.py's rows, sets :data:`SECTION`."""
    global SECTION
    gpu_rows = _has_accelerator() if gpu_rows is None else gpu_rows
    known = [published.preset for published in ROWS]
    unknown = sorted(set(presets or ()) - set(known))
    if unknown:
        raise ValueError(f"presets must be among the table's rows {known}; got {unknown}")
    results, rows = [], []
    for published in ROWS:
        if presets and published.preset not in presets:
            continue
        if published.gpu and (quick or not gpu_rows):
            results.append({"published": published, "skipped": True})
            continue
        scores, walls, epochs_run = [], [], []
        for seed in range(first_seed, first_seed + seeds):
            data, what = _data(quick, seed, published)
            start = time.perf_counter()
            result = zoo.train(
                published.preset,
                data,
                epochs=1 if quick else published.epochs,
                early_stopping=published.early_stopping,
                callbacks=_callbacks(published),
                seed=seed,
                save=False,
                verbose=0,
                **published.build,
            )
            walls.append(time.perf_counter() - start)
            scores.append(float(result.metrics["accuracy"]))
            epochs_run.append(len(result.history))
            print(
                f"{published.preset} seed {seed}: test accuracy {scores[-1]:.4f} after "
                f"{epochs_run[-1]} epochs in {walls[-1] / 60:.1f} min",
                flush=True,
            )
        accuracy = float(np.median(scores))
        results.append(
            {
                "published": published,
                "skipped": False,
                "accuracy": accuracy,
                "scores": scores,
                "wall": float(np.median(walls)),
                "epochs": epochs_run,
                "data": what,
                "params": zoo.count_params(published.preset)["total"],
            }
        )
        met = accuracy >= published.accuracy - TARGET_POINTS / 100
        rows.append(
            {
                "benchmark": f"Fashion-MNIST {published.row} ({published.preset}): test accuracy",
                "zoo": f"{accuracy:.4f}",
                "baseline": f"{published.accuracy:.4f} (published)",
                "ratio": round(accuracy / published.accuracy, 3),
                "target": f">= published - {TARGET_POINTS} points: {'met' if met else 'NOT met'}",
            }
        )
        print(rows[-1], flush=True)
    SECTION = _section(results, quick, seeds)
    return rows


def _section(results: list[dict], quick: bool, seeds: int) -> str:
    lines = [
        "## Published accuracies on Fashion-MNIST",
        "",
        "`benchmarks/accuracy.py` trains zoo presets with the architectures of rows of the",
        "Fashion-MNIST benchmark table through `zoo.train` on the official 60,000 training",
        "images (10% held out for validation: the best epoch is kept, early stopping",
        "patience 5; `convnet_bn` waits 8 and halves its learning rate after 2 epochs",
        "without progress) and scores them once on the official 10,000 test",
        "images. Target: zoo",
        f">= published - {TARGET_POINTS} points. Human accuracy on the table: {HUMAN}.",
        "",
        "| published row | zoo preset | parameters | zoo accuracy | published | difference "
        "(points) | epochs run (max) | seeds | wall time | target |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for result in results:
        published = result["published"]
        if result["skipped"]:
            lines.append(
                f"| {published.row} | `{published.preset}` | "
                f"{zoo.count_params(published.preset)['total']:,} | not run (needs a GPU: "
                f"`--gpu-rows`) | {published.accuracy:.4f} | | ({published.epochs}) | | | |"
            )
            continue
        points = 100 * (result["accuracy"] - published.accuracy)
        met = points >= -TARGET_POINTS
        spread = (
            f" ({min(result['scores']):.4f}-{max(result['scores']):.4f})"
            if len(result["scores"]) > 1
            else ""
        )
        lines.append(
            f"| {published.row} | `{published.preset}` | {result['params']:,} | "
            f"{result['accuracy']:.4f}{spread} | {published.accuracy:.4f} | {points:+.2f} | "
            f"{'/'.join(map(str, result['epochs']))} ({published.epochs}) | {seeds} | "
            f"{result['wall'] / 60:.1f} min | {'met' if met else 'NOT met'} |"
        )
    if quick:
        lines += ["", "Quick mode (1 epoch on a subset): not representative."]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1 epoch on a subset")
    parser.add_argument("--gpu-rows", action="store_true", help="also the rows marked GPU")
    parser.add_argument("--seeds", type=int, default=1, help="seeds per row (median kept)")
    parser.add_argument("--first-seed", type=int, default=0, help="seeds start here")
    parser.add_argument("--rows", nargs="+", metavar="PRESET", help="only these rows' presets")
    args = parser.parse_args(argv)
    presets = tuple(args.rows) if args.rows else None
    run(
        quick=args.quick,
        gpu_rows=args.gpu_rows or None,
        seeds=args.seeds,
        presets=presets,
        first_seed=args.first_seed,
    )
    print(SECTION)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
