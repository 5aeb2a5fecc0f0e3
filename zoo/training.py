"""``zoo.train``, ``zoo.evaluate`` and ``zoo.cross_validate``.

``train`` builds (inside the strategy scope), compiles with task defaults, trains with
sensible callbacks (progress, TensorBoard, early stopping, TerminateOnNaN, best
checkpoint, BackupAndRestore for ``resume=True``), evaluates on the test split and
saves the model with its card. Results come back as pandas tables.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import time
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pandas as pd

from zoo import _validation as v
from zoo import tasks
from zoo.tasks import TASKS, outputs_logits  # noqa: F401  (zoo.training.TASKS/outputs_logits)

RUNS_DIR = ".runs"


@dataclasses.dataclass
class Evaluation:
    """Metrics of a model on one split.

    Attributes:
        metrics: a dict of scalar metrics (accuracy, f1_macro, roc_auc, log_loss,
            ... for classification; rmse, mae, r2 for regression).
        report: per-class precision, recall, F1 and support (classification).
        confusion: the confusion matrix, rows = true class, columns = predicted.
        predictions: the model's outputs on the split.
    """

    metrics: dict[str, float]
    report: pd.DataFrame | None = None
    confusion: pd.DataFrame | None = None
    predictions: np.ndarray | None = dataclasses.field(default=None, repr=False)


@dataclasses.dataclass
class TrainResult:
    """What :func:`train` returns.

    Attributes:
        model: the trained model (best weights when early stopping restored them).
        history: one row per epoch (epoch, loss, val_loss, metrics, seconds).
        metrics: test metrics (validation metrics when there is no test split).
        report: per-class report (classification).
        confusion: confusion matrix (classification).
        path: where the model and its card were saved (None with ``save=False``).
        run_dir: TensorBoard logs, checkpoints and the resumption backup.
    """

    model: Any
    history: pd.DataFrame
    metrics: dict[str, float]
    report: pd.DataFrame | None
    confusion: pd.DataFrame | None
    path: Path | None
    run_dir: Path | None
    strategy: dict[str, Any]

    def plot(self, metrics: Any = None, path: Any = None) -> Any:
        """Training curves per metric (:func:`zoo.plots.training_curves`)."""
        from zoo import plots

        return plots.training_curves(self.history, metrics=metrics, path=path)


def _classification_metrics(y_true: np.ndarray, probabilities: np.ndarray, names: list[str]):
    from sklearn import metrics as skm

    k = len(names)
    if probabilities.ndim == 1 or probabilities.shape[-1] == 1:
        positive = probabilities.reshape(-1)
        probabilities = np.stack([1 - positive, positive], axis=-1)
    probabilities = np.clip(probabilities.astype("float64"), 1e-12, 1.0)
    probabilities /= probabilities.sum(axis=-1, keepdims=True)
    y_pred = probabilities.argmax(axis=-1)
    labels = list(range(k))
    result = {
        "accuracy": float(skm.accuracy_score(y_true, y_pred)),
        "precision_macro": float(
            skm.precision_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)
        ),
        "recall_macro": float(
            skm.recall_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)
        ),
        "f1_macro": float(
            skm.f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)
        ),
        "log_loss": float(skm.log_loss(y_true, probabilities, labels=labels)),
    }
    present = np.unique(y_true)
    if len(present) == k:
        if k == 2:
            result["roc_auc"] = float(skm.roc_auc_score(y_true, probabilities[:, 1]))
        else:
            result["roc_auc"] = float(
                skm.roc_auc_score(y_true, probabilities, multi_class="ovr", labels=labels)
            )
    else:  # ROC-AUC is undefined when a class is absent from the split
        result["roc_auc"] = float("nan")
    precision, recall, f1, support = skm.precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    report = pd.DataFrame(
        {"precision": precision, "recall": recall, "f1": f1, "support": support},
        index=pd.Index(names, name="class"),
    )
    confusion = pd.DataFrame(
        skm.confusion_matrix(y_true, y_pred, labels=labels),
        index=pd.Index(names, name="true"),
        columns=pd.Index(names, name="predicted"),
    )
    return result, report, confusion


def _regression_metrics(y_true: np.ndarray, predictions: np.ndarray) -> dict[str, float]:
    from sklearn import metrics as skm

    y_true = y_true.reshape(len(y_true), -1)
    predictions = predictions.reshape(len(predictions), -1)
    mse = float(skm.mean_squared_error(y_true, predictions))
    return {
        "rmse": float(np.sqrt(mse)),
        "mae": float(skm.mean_absolute_error(y_true, predictions)),
        "r2": float(skm.r2_score(y_true, predictions)),
        "mse": mse,
    }


def _as_data(data: Any, task: str | None = None):
    """`data`, loaded with ``zoo.data.load`` unless it is a Data (`task` for text corpora)."""
    from zoo.data import Data, load

    if isinstance(data, Data):
        return data
    return load(data, task=task)


def evaluate(model: Any, data: Any, *, split: str = "test", task: str | None = None) -> Evaluation:
    """Evaluate a model (or a saved model's name or path) on a data split.

    Args:
        model: a ``keras.Model``, or a name/path accepted by ``zoo.load``.
        data: a ``zoo.data.Data`` or any source ``zoo.data.load`` accepts.
        split: ``"test"`` or ``"validation"``; falls back to validation when the
            data has no test split.
        task: see :mod:`zoo.tasks` (default: the model's architecture's, else the
            data's). Autoencoders, language models and generators are scored with
            their compiled losses and metrics (a language model adds perplexity).

    Returns:
        An :class:`Evaluation` with metrics and, for classification, the per-class
        report and confusion matrix.

    Example:
        >>> result = zoo.evaluate("digits_convnet", "digits")
        >>> result.metrics["accuracy"], result.confusion
    """
    import zoo

    v.check_choice("split", split, ("test", "validation"))
    tasks.check(task)
    if not isinstance(model, keras.Model):
        model = zoo.load(model)
    data = _as_data(data, tasks.data_task(task, model))
    task = tasks.resolve(task, model, data)
    if getattr(data, split) is None:
        split = "validation" if split == "test" else "test"
    dataset = getattr(data, split)
    if dataset is None:
        raise v.invalid("data", "data with a test or validation split", data.sizes)
    if task not in tasks.SCORED_BY_SKLEARN:
        return Evaluation(_compiled_metrics(model, data, split, task))
    y_true = data.labels(split)
    predictions = _predict(model, dataset.map(lambda x, y: x))
    if data.task == "classification":
        if outputs_logits(model):
            predictions = _probabilities(predictions)
        names = (
            list(data.class_names)
            if data.class_names
            else [str(i) for i in range(predictions.shape[-1])]
        )
        metrics, report, confusion = _classification_metrics(y_true, predictions, names)
        return Evaluation(metrics, report, confusion, predictions)
    return Evaluation(_regression_metrics(y_true, predictions), predictions=predictions)


def _compiled_metrics(model, data, split: str, task: str) -> dict[str, float]:
    """A split scored with the model's compiled losses and metrics (Keras's evaluate)."""
    from zoo import distribute

    if not model.compiled:
        tasks.compile_model(model, task)
    dataset = distribute.even_first_batch(
        tasks.feed(getattr(data, split), task, getattr(model, "input_range", None)),
        model.distribute_strategy,
        _first_batch(data, split),
    )
    results = model.evaluate(dataset, verbose=0, return_dict=True)
    return tasks.add_scores({k: float(value) for k, value in results.items()}, task)


def _first_batch(data, split: str) -> int | None:
    """The size of a split's first batch, or None when the split's size is unknown."""
    size = data.sizes.get(split)
    return None if size is None else min(data.batch_size, size)


def _probabilities(predictions: np.ndarray) -> np.ndarray:
    """Logits to probabilities: a sigmoid for one unit, else a softmax."""
    if predictions.shape[-1] == 1:
        return 1 / (1 + np.exp(-predictions))
    shifted = np.exp(predictions - predictions.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def _predict(model, inputs) -> np.ndarray:
    """model.predict, or a plain batch loop where Keras's predict cannot run."""
    from zoo import distribute

    strategy = getattr(model, "distribute_strategy", None)
    if strategy is not None and distribute.is_multiworker(strategy):
        return np.concatenate([np.asarray(model(x, training=False)) for x in inputs])
    return np.asarray(model.predict(inputs, verbose=0))


def _build_model(model_or_name: Any, data, build_args: dict[str, Any]):
    from zoo import registry

    if isinstance(model_or_name, str):
        entry = registry.get_entry(model_or_name)
        arguments = {**data.builder_arguments(entry.parameters), **build_args}
        return registry.build(model_or_name, **arguments)
    if build_args:
        raise v.invalid(
            "build arguments",
            "given only with a registered architecture name",
            sorted(build_args),
            TypeError,
        )
    if isinstance(model_or_name, keras.Model):
        return model_or_name
    model = model_or_name()
    if not isinstance(model, keras.Model):
        raise v.invalid(
            "model_or_name",
            "a callable that returns a keras.Model",
            type(model).__name__,
            TypeError,
        )
    return model


def _check_model_argument(model_or_name: Any) -> None:
    if isinstance(model_or_name, (str, keras.Model)) or callable(model_or_name):
        return
    raise v.invalid(
        "model_or_name",
        "a keras.Model, a registered architecture name or a callable that builds a model",
        type(model_or_name).__name__,
        TypeError,
    )


def _history_frame(history: dict[str, list[float]], epochs: list[int], seconds: list[float]):
    frame = pd.DataFrame(history)
    frame.insert(0, "epoch", [e + 1 for e in epochs][: len(frame)])
    if len(seconds) == len(frame):
        frame["seconds"] = seconds
    return frame


def train(
    model_or_name: Any,
    data: Any,
    *,
    epochs: int = 20,
    learning_rate: float | None = None,
    optimizer: Any = "auto",
    task: str | None = None,
    early_stopping: int | None = 5,
    callbacks: list[Any] | None = None,
    strategy: Any = "auto",
    mixed_precision: str = "auto",
    jit_compile: Any = "auto",
    output: str | os.PathLike | None = None,
    save: bool = True,
    resume: bool = False,
    seed: int = 0,
    verbose: Any = "auto",
    **build_args: Any,
) -> TrainResult:
    """Train a model on data, evaluate it and save it with its card.

    Args:
        model_or_name: a registered name (built for the data's input shape and
            classes), a callable that builds a model (called inside the strategy
            scope), or a ``keras.Model``.
        data: a ``zoo.data.Data`` or any source ``zoo.data.load`` accepts.
        epochs: maximum epochs.
        learning_rate: learning rate when zoo compiles (default 1e-3, or the
            model's own for models that compile themselves, such as a GPT).
        optimizer: ``"auto"`` (Adam, or the model's own choice), an optimizer name
            or instance, when zoo compiles.
        task: ``"classification"``, ``"regression"``, ``"autoencoder"`` (inputs are
            the targets), ``"language_modeling"`` or ``"generative"`` (the model's
            own losses); see :mod:`zoo.tasks`. Default: the architecture's task
            (a VAE reconstructs, a GPT models language, a GAN generates), else
            the data's. A language model's `data` source is loaded as a corpus.
        early_stopping: patience in epochs on validation loss (best weights are
            restored); None or 0 to train all epochs.
        callbacks: extra Keras callbacks.
        strategy: ``zoo.distribute.strategy`` kind or a Strategy.
        mixed_precision: ``"auto"`` (bf16 on TPU, fp16 on GPU, off on CPU), ``"off"``
            or a policy name.
        jit_compile: passed to ``compile`` (turned off under several replicas).
        output: name under ``saved_models/`` or folder for the trained model
            (default: the model's name).
        save: save the model and its card.
        resume: continue a killed run from its last completed epoch (the run's
            BackupAndRestore folder); False starts afresh.
        seed: random seed.
        verbose: Keras verbosity; ``"auto"`` shows a progress bar in a terminal and
            one line per epoch otherwise.
        **build_args: builder arguments, with a registered name only.

    Returns:
        A :class:`TrainResult` with the model, a history DataFrame, test metrics and
        (classification) per-class report and confusion matrix.

    Raises:
        ValueError / TypeError: for invalid arguments, before any training.

    Example:
        >>> result = zoo.train("convnet_digits", "digits", epochs=5)
        >>> result.history.tail(1), result.metrics["accuracy"]
    """
    from zoo import distribute, plots, registry, saving

    _check_model_argument(model_or_name)
    epochs = v.check_int("epochs", epochs, minimum=1)
    if learning_rate is not None:
        learning_rate = v.check_float("learning_rate", learning_rate, minimum=0.0)
        if learning_rate <= 0:
            raise v.invalid("learning_rate", "a number > 0", learning_rate)
    if not isinstance(optimizer, (str, keras.optimizers.Optimizer)):
        raise v.invalid(
            "optimizer", "an optimizer name or a keras.optimizers.Optimizer", optimizer, TypeError
        )
    if isinstance(optimizer, str) and optimizer != "auto":
        try:
            keras.optimizers.get(optimizer)
        except ValueError:
            raise v.invalid("optimizer", "'auto' or a Keras optimizer name", optimizer) from None
    tasks.check(task)
    early_stopping = v.check_int("early_stopping", early_stopping, minimum=0, allow_none=True)
    callbacks = v.check_callbacks(callbacks)
    v.check_bool("save", save)
    v.check_bool("resume", resume)
    seed = v.check_int("seed", seed, minimum=0)
    verbose = v.check_verbose(verbose)

    if isinstance(model_or_name, keras.Model):
        # A ready-made model keeps the strategy it was built under.
        if not (isinstance(strategy, str) and strategy == "auto"):
            raise v.invalid(
                "strategy",
                "'auto' for a model that is already built (pass a registered name or a "
                "builder callable so zoo can build it inside the strategy's scope)",
                strategy,
            )
        strat = model_or_name.distribute_strategy
        policy = keras.config.dtype_policy().name  # its layers' dtypes are fixed already
    else:
        strat = distribute.strategy(strategy)
        policy = distribute.mixed_precision(mixed_precision, strat)
    settings = distribute.compile_settings(strat, jit_compile)
    keras.utils.set_random_seed(seed)
    data = _as_data(data, tasks.data_task(task, model_or_name))
    task = tasks.resolve(task, model_or_name, data)

    with distribute.dtype_policy(policy), strat.scope():
        model = _build_model(model_or_name, data, build_args)
        if not model.compiled:
            tasks.compile_model(
                model, task, optimizer=optimizer, learning_rate=learning_rate, **settings
            )

    target = saving.resolve(output if output is not None else model.name)
    run_dir = target.parent / RUNS_DIR / target.name
    backup_dir = run_dir / "backup"
    if not resume and backup_dir.exists():
        shutil.rmtree(backup_dir)
    run_dir.mkdir(parents=True, exist_ok=True)

    input_range = getattr(model, "input_range", None)
    train_ds = tasks.feed(data.train, task, input_range)
    val_ds = tasks.feed(data.validation, task, input_range)

    timer = _EpochTimer()
    start = time.perf_counter()
    if distribute.is_multiworker(strat):
        history = distribute.fit_multiworker(
            model, train_ds, strat=strat, epochs=epochs, validation=val_ds, verbose=verbose
        )
        epoch_numbers = list(range(len(history["loss"])))
    else:
        monitor = "val_loss" if val_ds is not None else "loss"
        # A GAN has no single loss (d_loss, g_loss): keep its last epoch, never stop early.
        has_loss = "loss" in [metric.name for metric in model.metrics]
        used = [
            timer,
            keras.callbacks.TerminateOnNaN(),
            keras.callbacks.TensorBoard(log_dir=str(run_dir / "logs")),
            keras.callbacks.ModelCheckpoint(
                str(run_dir / "best.weights.h5"),
                monitor=monitor,
                save_best_only=has_loss,
                save_weights_only=True,
            ),
            keras.callbacks.BackupAndRestore(str(backup_dir)),
        ]
        if early_stopping and has_loss:
            used.append(
                keras.callbacks.EarlyStopping(
                    monitor=monitor, patience=early_stopping, restore_best_weights=True
                )
            )
        fitted = model.fit(
            distribute.even_first_batch(train_ds, strat, _first_batch(data, "train")),
            validation_data=distribute.even_first_batch(
                val_ds, strat, _first_batch(data, "validation")
            ),
            epochs=epochs,
            callbacks=used + list(callbacks or []),
            verbose=verbose,
            shuffle=False,  # zoo.data pipelines shuffle themselves; Keras would warn
        )
        history, epoch_numbers = fitted.history, fitted.epoch
    seconds = time.perf_counter() - start
    frame = _history_frame(history, epoch_numbers, timer.seconds)

    report = confusion = None
    metrics: dict[str, float] = {}
    if task in tasks.SCORED_BY_SKLEARN:
        evaluation = evaluate(model, data, task=task)
        metrics, report, confusion = evaluation.metrics, evaluation.report, evaluation.confusion
    elif (data.test is not None or data.validation is not None) and not (
        distribute.is_multiworker(strat)
    ):
        split = "test" if data.test is not None else "validation"
        metrics = _compiled_metrics(model, data, split, task)

    path = None
    chief = os.environ.get("TF_CONFIG") is None or _is_chief()
    if save and chief:
        spec = registry.get_spec(model) or {}
        path = saving.save(
            model,
            output if output is not None else model.name,
            data=data.describe(),
            metrics=metrics,
            training={
                "architecture": spec.get("architecture"),
                "epochs_requested": epochs,
                "epochs_run": len(frame),
                "optimizer": type(tasks.optimizers(model)[0]).__name__,
                "learning_rate": _learning_rate(model),
                "early_stopping": early_stopping,
                "task": task,
                "seed": seed,
                "dtype_policy": policy,
                "seconds": round(seconds, 2),
                **distribute.describe(strat),
            },
        )
        frame.to_csv(path / "history.csv", index=False)
        plots.save_beside(path, history=frame, confusion=confusion)
    return TrainResult(
        model, frame, metrics, report, confusion, path, run_dir, distribute.describe(strat)
    )


def _learning_rate(model: keras.Model) -> float | None:
    """The (first) optimizer's learning rate at the end of training, for the card."""
    try:
        return float(keras.ops.convert_to_numpy(tasks.optimizers(model)[0].learning_rate))
    except (AttributeError, TypeError, ValueError):
        return None


def _is_chief() -> bool:
    import json

    task = json.loads(os.environ["TF_CONFIG"]).get("task", {})
    return task.get("type") in ("chief", None) or (
        task.get("type") == "worker" and task.get("index", 0) == 0
    )


class _EpochTimer(keras.callbacks.Callback):
    """Records the wall time of each epoch."""

    def __init__(self):
        super().__init__()
        self.seconds: list[float] = []
        self._start = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(round(time.perf_counter() - self._start, 3))


def cross_validate(
    model_or_name: Any,
    data: Any,
    *,
    folds: int = 5,
    epochs: int = 10,
    early_stopping: int | None = None,
    verbose: Any = 0,
    **train_args: Any,
) -> pd.DataFrame:
    """k-fold cross-validation (stratified for classification).

    Each fold trains a fresh model on the other folds and is scored on its own
    held-out fold. Early stopping is off by default: it would select epochs on the
    held-out fold itself.

    Args:
        model_or_name: a registered name, a builder callable, or a model (cloned
            with fresh weights for every fold).
        data: a ``zoo.data.Data`` or any source ``zoo.data.load`` accepts; its
            train and validation splits are pooled and folded, its test split
            is left untouched.
        folds: number of folds (>= 2).
        epochs: epochs per fold.
        early_stopping: see :func:`train`.
        verbose: Keras verbosity per fold.
        **train_args: more :func:`train` arguments (learning_rate, strategy, ...).

    Returns:
        A DataFrame with one row per fold (``fold`` 1..k) plus ``mean`` and ``std``
        rows, one column per metric.

    Example:
        >>> zoo.cross_validate("mlp", "digits", folds=3, epochs=5)
    """
    _check_model_argument(model_or_name)
    if "save" in train_args or "output" in train_args:
        raise v.invalid(
            "train_args", "without save/output (folds are not saved)", sorted(train_args), TypeError
        )
    data = _as_data(data)
    rows = []
    for index, fold in enumerate(data.folds(folds), start=1):
        if isinstance(model_or_name, keras.Model):
            template = model_or_name

            def model_fn(template=template):
                return keras.models.clone_model(template)

            candidate = model_fn
        else:
            candidate = model_or_name
        result = train(
            candidate,
            fold,
            epochs=epochs,
            early_stopping=early_stopping,
            verbose=verbose,
            save=False,
            output=f"cv_fold_{index}",
            **train_args,
        )
        rows.append({"fold": str(index), **result.metrics})
        keras.backend.clear_session()
    frame = pd.DataFrame(rows)
    numeric = frame.drop(columns="fold")
    summary = pd.DataFrame(
        [
            {"fold": "mean", **numeric.mean().to_dict()},
            {"fold": "std", **numeric.std(ddof=1).to_dict()},
        ]
    )
    return pd.concat([frame, summary], ignore_index=True).set_index("fold")
