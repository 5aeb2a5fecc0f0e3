"""zoo's checkpoint pretrained on real data, Fashion-MNIST, and its transfer to digits.

``pretrain_checkpoint`` trains a compact CNN (the demo network of
:mod:`zoo.transfer.demo` at 28x28: zoo's convnet backbone, one batch-normalised 3x3
convolution of 32 then 64 filters, each followed by 2x2 max pooling, and a 64-unit
embedding) on the official 60,000 training images of Fashion-MNIST
(``zoo.data.load("fashion_mnist")``; validation carved from them), scores it on the
official 10,000-image test set and saves it as ``fashion_convnet_pretrained``
(shipped in ``zoo/checkpoints/``; remake it with
``python scripts/make_fashion_checkpoint.py``). The saved file holds the weights
without the optimizer's state, which keeps it under 1 MB.

``transfer_trial`` measures what the checkpoint is worth on a task further from its
pretraining data than the demo's: the bundled 8x8 digits upsampled to 28x28, ten
classes, from a few labelled images per digit, against the same network trained from
scratch on the same labels and epochs, fine-tuned as ``zoo demo`` does and with a
longer fine-tuning stage (:data:`RECIPES`; ``python scripts/measure_fashion_transfer.py``
runs it over seeds).
"""

from __future__ import annotations

import time
from typing import Any

import keras
import numpy as np

from zoo import _fs, optimizers, registry, saving, training
from zoo import _validation as v
from zoo.layers.preprocessing import attach, split
from zoo.transfer.demo import build_network as _demo_network
from zoo.transfer.fine_tuning import fine_tune

CHECKPOINT = "fashion_convnet_pretrained"
DATASET = "fashion_mnist"
IMAGE_SIZE = 28
EMBEDDING = 64
BACKBONE_ARGUMENTS = {
    "input_shape": (IMAGE_SIZE, IMAGE_SIZE, 1),
    "filters": (32, 64),
    "convs_per_block": 1,
    "batch_norm": True,
    "num_classes": None,
    "name": "backbone",
}
"""The convnet under the checkpoint's 64-unit embedding (its ``"backbone"`` sub-model)."""


def build_network(num_classes: int, *, dropout: float = 0.2) -> keras.Model:
    """The checkpoint's network, freshly initialised, with a softmax head.

    Raises:
        ValueError: for an invalid `num_classes` or `dropout`.
    """
    return _demo_network(
        num_classes,
        embedding=EMBEDDING,
        dropout=dropout,
        backbone_arguments=BACKBONE_ARGUMENTS,
        name="fashion_convnet",
    )


def pretraining_data(*, batch_size: int = 128, seed: int = 0):
    """Fashion-MNIST with its official split: 54,000 train, 6,000 validation, 10,000 test.

    Raises:
        FileNotFoundError: when the dataset's files are not on this machine and
            cannot be downloaded (see :mod:`zoo.data.standard`).
    """
    from zoo.data import load

    return load(DATASET, batch_size=batch_size, seed=seed)


def _without_optimizer(model: keras.Model) -> keras.Model:
    """The trained model as a fresh, uncompiled copy, to save without the optimizer.

    (The optimizer's state would make two thirds of the file.)
    """
    preprocessor, network = split(model)
    fresh = build_network(network.output_shape[-1])
    fresh.set_weights(network.get_weights())
    return attach(fresh, preprocessor)


def pretrain_checkpoint(
    output: str = CHECKPOINT,
    *,
    epochs: int = 5,
    learning_rate: float = 3e-3,
    batch_size: int = 128,
    dropout: float = 0.0,
    seed: int = 0,
    verbose: Any = 0,
) -> dict[str, Any]:
    """Train the network on Fashion-MNIST and save it with its card and history.

    The card's ``metrics`` are on the official test set; ``data.split_sources`` says
    which splits are official. About 4 minutes on 2 CPU cores.

    Args:
        output: a bare name (under ``saved_models/``) or a folder.
        epochs: training epochs (all are run).
        learning_rate: Adam's first learning rate, decayed to 0 along a cosine.
        batch_size: examples per batch.
        dropout: dropout before the head while pretraining (a few epochs underfit
            rather than overfit; ``zoo.build(..., num_classes=k)`` puts its own
            dropout before a new head).
        seed: seed of the validation split, shuffling and initialisation.
        verbose: Keras's verbosity.

    Returns:
        ``{"path", "accuracy", "epochs", "seconds", "size_bytes"}``.

    Raises:
        FileNotFoundError: when Fashion-MNIST is not on this machine and cannot be
            downloaded.
        ValueError: for an invalid argument.
    """
    start = time.perf_counter()
    epochs = v.check_int("epochs", epochs, minimum=1)
    learning_rate = optimizers.check_learning_rate("learning_rate", learning_rate)
    data = pretraining_data(batch_size=batch_size, seed=seed)
    steps = -(-data.sizes["train"] // batch_size)
    result = training.train(
        lambda: build_network(data.num_classes, dropout=dropout),
        data,
        epochs=epochs,
        optimizer=lambda: keras.optimizers.Adam(
            keras.optimizers.schedules.CosineDecay(learning_rate, epochs * steps)
        ),
        early_stopping=None,
        save=False,
        seed=seed,
        verbose=verbose,
    )
    seconds = time.perf_counter() - start
    path = saving.save(
        _without_optimizer(result.model),
        output,
        data=data.describe(),
        metrics=result.metrics,
        pretraining={
            "task": "the ten classes of Fashion-MNIST (Zalando), official split",
            "dataset": DATASET,
            "official_test_accuracy": result.metrics["accuracy"],
            "made_by": "scripts/make_fashion_checkpoint.py",
            "backbone": "convnet",
            "backbone_arguments": dict(BACKBONE_ARGUMENTS),
            "embedding": EMBEDDING,
            "epochs_run": len(result.history),
            "optimizer": f"Adam, learning rate {learning_rate} with cosine decay to 0",
            "batch_size": batch_size,
            "dropout": dropout,
            "seed": seed,
            "seconds": round(seconds, 1),
            "optimizer_state": "not saved (the model loads uncompiled)",
        },
    )
    _fs.write_text(path / "history.csv", result.history.to_csv(index=False))
    return {
        "path": path,
        "accuracy": result.metrics["accuracy"],
        "epochs": len(result.history),
        "seconds": seconds,
        "size_bytes": (path / saving.MODEL_FILE).stat().st_size,
    }


def digits_28() -> tuple[np.ndarray, np.ndarray]:
    """The bundled digits upsampled (bilinear) to 28x28x1 uint8 pixels (0-255), and labels."""
    from zoo.data.bundled import digits_examples

    examples = digits_examples()  # 8x8 intensities 0-16 stretched to 0-255
    pixels = keras.ops.image.resize(
        np.asarray(examples.x, dtype="float32"), (IMAGE_SIZE, IMAGE_SIZE), interpolation="bilinear"
    )
    pixels = np.clip(np.round(keras.ops.convert_to_numpy(pixels)), 0, 255).astype(np.uint8)
    return pixels, np.asarray(examples.y)


def digits_transfer_data(
    per_class: int, *, validation_per_class: int = 1, batch_size: int = 16, seed: int = 0
):
    """The 28x28 digits with `per_class` labelled images of each digit for training.

    `validation_per_class` more images of each digit validate; every other digit is in
    the test split. The labelled images are drawn from `seed` (stratified).

    Raises:
        ValueError: when the labelled images would leave less than half of the digits
            for testing, or for an invalid argument.
    """
    from zoo.data import load

    per_class = v.check_int("per_class", per_class, minimum=1)
    validation_per_class = v.check_int("validation_per_class", validation_per_class, minimum=1)
    x, y = digits_28()
    n = len(y)
    labelled = 10 * (per_class + validation_per_class)
    if labelled > n // 2:
        raise v.invalid(
            "per_class",
            "small enough to leave half of the digits for testing "
            f"(<= {n // 20 - validation_per_class})",
            per_class,
        )
    return load(
        x,
        np.array([str(d) for d in y]),
        batch_size=batch_size,
        seed=seed,
        test_split=1 - labelled / n,
        validation_split=10 * validation_per_class / n,
    )


RECIPES: dict[str, dict[str, Any]] = {
    "demo": {
        "epochs": 60,
        "fine_tune_epochs": 20,
        "learning_rate": 1e-2,
        "fine_tune_learning_rate": 1e-4,
    },
    "full": {
        "epochs": 20,
        "fine_tune_epochs": 60,
        "learning_rate": 1e-2,
        "fine_tune_learning_rate": 1e-3,
        "train_batchnorm": True,
    },
}
"""How ``transfer_trial`` fine-tunes the checkpoint (``zoo.transfer.fine_tune`` arguments).

``"demo"``: ``zoo demo``'s settings (60 head epochs, then 20 of everything at 1e-4).
``"full"``: a short head stage, then 60 epochs of everything at the rate the network
from scratch trains at, batch-norm statistics included (they are Fashion-MNIST's
until then). Both take 80 epochs in all, as the network from scratch does.
"""

SCRATCH_EPOCHS = 80
SCRATCH_LEARNING_RATE = 1e-3


def transfer_trial(
    per_class: int,
    *,
    seed: int = 0,
    recipes: dict[str, dict[str, Any]] | None = None,
    verbose: Any = 0,
) -> dict[str, Any]:
    """Fine-tune the checkpoint on few labelled digits against the network from scratch.

    Every arm gets the same labelled images (:func:`digits_transfer_data`), the same
    80 epochs in all and Adam; the network from scratch (:func:`build_network`,
    ``zoo.train``) trains at 1e-3. Nothing is saved.

    Args:
        per_class: labelled training images of each digit.
        seed: seed of the draw of labelled images, of shuffling and initialisation.
        recipes: named ``fine_tune`` arguments, each with ``epochs`` and
            ``fine_tune_epochs`` adding up to 80 (default :data:`RECIPES`).
        verbose: Keras's verbosity.

    Returns:
        ``{"per_class", "seed", "scratch", "fine_tuned": {recipe: accuracy},
        "gain_points": {recipe: points}, "sizes", "seconds"}`` (accuracies on the
        test split).

    Raises:
        ValueError: for an invalid argument, a recipe of another length, or a
            missing or damaged checkpoint.
    """
    start = time.perf_counter()
    recipes = RECIPES if recipes is None else recipes
    for name, arguments in recipes.items():
        total = arguments.get("epochs", 0) + arguments.get("fine_tune_epochs", 0)
        if total != SCRATCH_EPOCHS:
            raise v.invalid(
                f"recipes[{name!r}]",
                f"epochs + fine_tune_epochs = {SCRATCH_EPOCHS}, the epochs of the network "
                "from scratch",
                arguments,
            )
    data = digits_transfer_data(per_class, seed=seed)
    fine = {
        name: fine_tune(
            registry.build(CHECKPOINT, num_classes=data.num_classes),  # a fresh head
            data,
            save=False,
            seed=seed,
            verbose=verbose,
            **arguments,
        ).metrics["accuracy"]
        for name, arguments in recipes.items()
    }
    scratch = training.train(
        lambda: build_network(data.num_classes),
        data,
        epochs=SCRATCH_EPOCHS,
        learning_rate=SCRATCH_LEARNING_RATE,
        early_stopping=None,
        save=False,
        seed=seed,
        verbose=verbose,
    ).metrics["accuracy"]
    return {
        "per_class": per_class,
        "seed": seed,
        "scratch": scratch,
        "fine_tuned": fine,
        "gain_points": {name: 100 * (value - scratch) for name, value in fine.items()},
        "sizes": data.sizes,
        "seconds": time.perf_counter() - start,
    }
