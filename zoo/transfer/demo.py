"""zoo's own small pretrained checkpoint and the offline transfer-learning demo.

The bundled 8x8 digits are split in two halves of different images (stratified,
fixed seed). ``pretrain_checkpoint`` trains a compact CNN to recognise the ten digits
on half A and saves it as ``saved_models/digits_convnet_pretrained`` (remake it with
``python scripts/make_pretrained_checkpoint.py``). ``run_demo`` then fine-tunes that
checkpoint on a different task, small (0-4) against large (5-9) digits, with one
labelled image of each digit from half B, and compares it with the same network
trained from scratch on the same labels and epochs; both are tested on every other
image of half B.

Why not digits 0-4 then 5-9, the classic Keras example: on 8x8 digits, features
learned on 0-4 separate 5-9 no better than raw pixels (a logistic regression on
either reaches the same accuracy with 1-5 labels per class), so fine-tuning gains
nothing there. A new labelling of unseen images is where pretraining pays here:
the checkpoint already tells the digits apart, so one example of each is enough to
learn which are small, while from scratch the network must learn the shapes too.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import keras
import numpy as np

from zoo import _fs, registry, saving, training
from zoo import _validation as v
from zoo.architectures.pretrained.checkpoints import checkpoint_file
from zoo.transfer.fine_tuning import fine_tune

CHECKPOINT = "digits_convnet_pretrained"
SPLIT_SEED = 1234
BACKBONE_ARGUMENTS = {
    "input_shape": (8, 8, 1),
    "filters": (32, 64),
    "convs_per_block": 2,
    "batch_norm": True,
    "num_classes": None,
    "name": "backbone",
}


def _halves() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x, digit labels, indices of half A, indices of half B) of the bundled digits.

    ``x`` holds raw pixels as uint8 (0-255), so that ``zoo.data.load`` treats the
    arrays as images: scaled to [0, 1] in the pipelines, with the same scaling in the
    preprocessing that trained and fine-tuned models carry (they take 0-255 pixels).
    """
    from sklearn.model_selection import train_test_split

    from zoo.data.bundled import digits_examples

    examples = digits_examples()
    a, b = train_test_split(
        np.arange(len(examples.y)), test_size=0.5, stratify=examples.y, random_state=SPLIT_SEED
    )
    pixels = np.round(examples.x).astype(np.uint8)  # 0-16 intensities stretched to 0-255
    return pixels, examples.y, np.sort(a), np.sort(b)


def pretraining_data(*, batch_size: int = 32, seed: int = 0):
    """Half A of the digits, ten classes: the checkpoint's pretraining data."""
    from zoo.data import load

    x, y, a, _ = _halves()
    return load(x[a], np.array([str(d) for d in y[a]]), batch_size=batch_size, seed=seed)


def small_large_data(
    *, per_digit: int = 1, validation_per_digit: int = 1, batch_size: int = 16, seed: int = 0
):
    """Half B of the digits labelled ``small`` (0-4) or ``large`` (5-9), with few labels.

    ``per_digit`` images of each digit train and ``validation_per_digit`` more
    validate (the splits are stratified by digit); every other image of half B is in
    the test split.
    """
    from zoo.data import load

    per_digit = v.check_int("per_digit", per_digit, minimum=1)
    validation_per_digit = v.check_int("validation_per_digit", validation_per_digit, minimum=1)
    x, y, _, b = _halves()
    labels = np.where(y[b] >= 5, "large", "small")
    n = len(b)
    labelled = 10 * (per_digit + validation_per_digit)
    if labelled > n // 2:
        limit = n // 20 - validation_per_digit
        raise v.invalid(
            "per_digit",
            f"small enough to leave half of the images for testing (<= {limit})",
            per_digit,
        )
    return load(
        x[b],
        labels,
        batch_size=batch_size,
        seed=seed,
        test_split=1 - labelled / n,
        validation_split=10 * validation_per_digit / n,
        stratify=y[b],
    )


def build_network(
    num_classes: int,
    *,
    embedding: int = 64,
    dropout: float = 0.2,
    backbone_arguments: dict[str, Any] | None = None,
    name: str = "digits_convnet",
) -> keras.Model:
    """The demo network: a backbone and a classification head.

    The backbone (one sub-model named "backbone") is zoo's headless convnet followed
    by a dense embedding.

    Args:
        num_classes: classes of the softmax head.
        embedding: units of the dense embedding, the backbone's output.
        dropout: dropout before the head.
        backbone_arguments: the convnet's arguments (default
            :data:`BACKBONE_ARGUMENTS`, for 8x8 digits; ``zoo.transfer.fashion`` passes
            its own for 28x28 images).
        name: the model's name.

    Raises:
        ValueError: for an invalid argument of the convnet.
    """
    arguments = {**(BACKBONE_ARGUMENTS if backbone_arguments is None else backbone_arguments)}
    inputs = keras.Input(shape=arguments["input_shape"], name="images")
    convnet = registry.build("convnet", **{**arguments, "name": "convnet"})
    features = convnet(inputs)
    features = keras.layers.Dense(embedding, activation="relu", name="embedding")(features)
    backbone = keras.Model(inputs, features, name="backbone")
    x = backbone(inputs)
    x = keras.layers.Dropout(dropout, name="head_dropout")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name=name)


def pretrain_checkpoint(
    output: str = CHECKPOINT, *, epochs: int = 40, seed: int = 0, verbose: Any = 0
) -> dict[str, Any]:
    """Train the demo network on half A of the digits and save it with its card.

    Returns:
        ``{"path", "accuracy", "epochs"}``.
    """
    data = pretraining_data(seed=seed)
    result = training.train(
        lambda: build_network(10),
        data,
        epochs=epochs,
        early_stopping=8,
        save=False,
        seed=seed,
        verbose=verbose,
    )
    path = saving.save(
        result.model,
        output,
        data=data.describe(),
        metrics=result.metrics,
        pretraining={
            "task": "digits 0-9 on half A of the bundled digits",
            "split_seed": SPLIT_SEED,
            "made_by": "scripts/make_pretrained_checkpoint.py",
            "backbone": "convnet",
            "backbone_arguments": dict(BACKBONE_ARGUMENTS),
            "epochs_run": len(result.history),
            "seed": seed,
        },
    )
    _fs.write_text(path / "history.csv", result.history.to_csv(index=False))
    return {
        "path": path,
        "accuracy": result.metrics["accuracy"],
        "epochs": len(result.history),
    }


def find_checkpoint(name: str = CHECKPOINT) -> Path:
    """The checkpoint's folder: a copy under ``saved_models/``, else the shipped one.

    The shipped one is package data (``zoo/checkpoints/``), so an installed wheel has it.
    """
    own = saving.saved_models_dir() / name
    if (own / saving.MODEL_FILE).is_file():
        return own
    return checkpoint_file(name).parent


def run_demo(
    *,
    per_digit: int = 1,
    epochs: int = 60,
    fine_tune_epochs: int = 20,
    seed: int = 0,
    output: str = "digits_small_large_finetuned",
    verbose: Any = 0,
) -> dict[str, Any]:
    """Fine-tune the shipped checkpoint on small/large digits against training from scratch.

    Both get the same few labelled images of half B, the same total epochs and the
    same optimizer; only the starting weights differ.

    Returns:
        ``{"fine_tuned_accuracy", "scratch_accuracy", "gain_points", "sizes",
        "history", "path", "seconds"}``.
    """
    start = time.perf_counter()
    checkpoint = find_checkpoint()
    data = small_large_data(per_digit=per_digit, seed=seed)
    tuned = fine_tune(
        saving.load(checkpoint),
        data,
        epochs=epochs,
        fine_tune_epochs=fine_tune_epochs,
        learning_rate=1e-2,
        fine_tune_learning_rate=1e-4,
        output=output,
        seed=seed,
        verbose=verbose,
    )
    scratch = training.train(
        lambda: build_network(2),
        data,
        epochs=epochs + fine_tune_epochs,
        learning_rate=1e-3,
        early_stopping=None,
        save=False,
        seed=seed,
        verbose=verbose,
    )
    fine = tuned.metrics["accuracy"]
    base = scratch.metrics["accuracy"]
    return {
        "fine_tuned_accuracy": fine,
        "scratch_accuracy": base,
        "gain_points": 100 * (fine - base),
        "sizes": data.sizes,
        "history": tuned.history,
        "stages": tuned.stages,
        "path": tuned.path,
        "checkpoint": checkpoint,
        "seconds": time.perf_counter() - start,
    }
