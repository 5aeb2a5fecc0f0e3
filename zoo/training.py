"""``zoo.train``, ``zoo.evaluate`` and ``zoo.cross_validate``.

``train`` builds (inside the strategy scope), compiles with task defaults, trains with
sensible callbacks (progress, TensorBoard, early stopping, TerminateOnNaN, best
checkpoint, resumption for ``resume=True``), evaluates on the test split and saves the
model with its card, under any strategy (multi-worker included). Each step is the
engine's (:mod:`zoo.engine`), shared with ``fine_tune`` and ``zoo.tune``. Results come
back as pandas tables.
"""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path
from typing import Any

import keras
import pandas as pd

from zoo import _validation as v
from zoo import distribute, engine, optimizers, registry, saving, tasks
from zoo.engine import Evaluation
from zoo.tasks import TASKS, outputs_logits  # noqa: F401  (zoo.training.TASKS/outputs_logits)

RUNS_DIR = ".runs"


@dataclasses.dataclass
class TrainResult:
    """What :func:`train` returns.

    Attributes:
        model: the trained model (best weights when early stopping restored them),
            taking raw input: classifiers and regressors carry the data's
            preprocessing in front of the network (``zoo.layers.preprocessing``).
        history: one row per epoch (epoch, loss, val_loss, metrics, seconds).
        metrics: test metrics (validation metrics when there is no test split).
        report: per-class report (classification).
        confusion: confusion matrix (classification).
        path: where the model and its card were saved (None with ``save=False``).
        run_dir: TensorBoard logs, the best checkpoint and the resumption backup (None
            when the run left nothing there: ``save=False`` without ``tensorboard``).
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
        An :class:`~zoo.engine.Evaluation` with metrics and, for classification, the
        per-class report and confusion matrix.

    Example:
        >>> result = zoo.evaluate(zoo.train("mlp_tiny", "digits", epochs=1, save=False).model,
        ...                       "digits")
        >>> sorted(result.metrics)[:2]
        ['accuracy', 'f1_macro']
    """
    v.check_choice("split", split, ("test", "validation"))
    tasks.check(task)
    if not isinstance(model, keras.Model):
        model = saving.load(model)
    data = engine.as_data(data, tasks.data_task(task, model))
    fitting = engine.prepare(model, data)  # raw-input models are scored as their network
    task = tasks.resolve(task, model, data)
    return engine.evaluate(fitting.network, fitting.data, split=split, task=task)


def _build_model(model_or_name: Any, data, build_args: dict[str, Any]):
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


def _strategy_and_policy(model_or_name: Any, strategy: Any, mixed_precision: str):
    """The strategy to train under and the dtype policy to build with."""
    if not isinstance(model_or_name, keras.Model):
        strat = distribute.strategy(strategy)
        return strat, distribute.mixed_precision(mixed_precision, strat)
    strat = distribute.strategy_of_built(
        model_or_name, strategy, "a registered name or a builder callable"
    )
    return strat, keras.config.dtype_policy().name  # its layers' dtypes are fixed already


def _card(model, frame, epochs, initial_epoch, early_stopping, task, seed) -> dict[str, Any]:
    """The ``training`` entry of a trained model's card."""
    optimizer = tasks.optimizers(model)[0]
    return {
        "architecture": (registry.get_spec(model) or {}).get("architecture"),
        "epochs_requested": epochs,
        "epochs_run": len(frame),
        "initial_epoch": initial_epoch,
        "optimizer": type(optimizer).__name__,
        "learning_rate": optimizers.current_learning_rate(optimizer),
        "early_stopping": early_stopping,
        "task": task,
        "seed": seed,
    }


def _run_dir(model: keras.Model, output: Any) -> Path:
    target = saving.resolve(output if output is not None else model.name)
    return target.parent / RUNS_DIR / target.name


def _new_folders(run_dir: Path) -> list[Path]:
    """The run folder and those above it that do not exist yet, deepest first."""
    new = []
    folder = run_dir.absolute()
    while not folder.exists() and folder != folder.parent:
        new.append(folder)
        folder = folder.parent
    return new


def _remove_if_empty(folders: list[Path]) -> None:
    """Remove the folders a run created (deepest first) where nothing is left in them."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:  # not empty (or already gone)
            break


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
    tensorboard: bool | None = None,
    resume: bool = False,
    seed: int = 0,
    verbose: Any = "auto",
    **build_args: Any,
) -> TrainResult:
    """Train a model on data, evaluate it and save it with its card.

    Everything here holds under every strategy, ``"multiworker"`` included: user
    callbacks, early stopping, the best checkpoint and TensorBoard logs (written by
    the chief), and ``resume``. With ``save=False`` nothing is left on disk: no
    TensorBoard logs or best checkpoint unless ``tensorboard=True``, and the
    resumption backup only while the run lasts (a killed run resumes).

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
        callbacks: extra Keras callbacks (run on every worker).
        strategy: ``zoo.distribute.strategy`` kind or a Strategy.
        mixed_precision: ``"auto"`` (bf16 on TPU, fp16 on GPU, off on CPU), ``"off"``
            or a policy name.
        jit_compile: passed to ``compile`` (turned off under several replicas).
        output: name under ``saved_models/`` or folder for the trained model
            (default: the model's name).
        save: save the model and its card, and keep the best epoch's weights in the
            run folder (``saved_models/.runs/<name>/best.weights.h5``).
        tensorboard: write TensorBoard logs in the run folder's ``logs``; default
            (None): with `save`.
        resume: continue a killed run from its last completed epoch (the state the
            run keeps in its ``backup`` folder); False starts afresh.
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
        >>> result = zoo.train("mlp_tiny", "digits", epochs=2, save=False, verbose=0)
        >>> list(result.history["epoch"]), "accuracy" in result.metrics
        ([1, 2], True)
    """
    _check_model_argument(model_or_name)
    epochs = v.check_int("epochs", epochs, minimum=1)
    if learning_rate is not None:
        learning_rate = optimizers.check_learning_rate("learning_rate", learning_rate)
    optimizer = optimizers.check(optimizer)
    tasks.check(task)
    early_stopping = v.check_int("early_stopping", early_stopping, minimum=0, allow_none=True)
    callbacks = v.check_callbacks(callbacks)
    v.check_bool("save", save)
    tensorboard = save if tensorboard is None else v.check_bool("tensorboard", tensorboard)
    v.check_bool("resume", resume)
    seed = v.check_int("seed", seed, minimum=0)
    verbose = v.check_verbose(verbose)
    strat, policy = _strategy_and_policy(model_or_name, strategy, mixed_precision)
    settings = distribute.compile_settings(strat, jit_compile)
    keras.utils.set_random_seed(seed)
    data = engine.as_data(data, tasks.data_task(task, model_or_name))
    task = tasks.resolve(task, model_or_name, data)
    with distribute.dtype_policy(policy), strat.scope():
        fitting = engine.prepare(_build_model(model_or_name, data, build_args), data)
    model, data = fitting.network, fitting.data  # trains on the pipelines; saved raw-input
    if not model.compiled:
        engine.compile_model(
            model, task, optimizer=optimizer, learning_rate=learning_rate, **settings
        )

    run_dir = _run_dir(model, output)
    created = _new_folders(run_dir)
    chief = distribute.is_chief()
    backup = engine.Resume(run_dir / "backup", write=chief)
    if not resume:
        backup.clear()
    # Without resume no worker restores: a non-chief must not read a stale backup that
    # the chief is clearing (the workers would fall out of step in their collectives).
    initial_epoch = backup.restore(model) if resume else 0
    train_ds = tasks.feed(data.train, task, model=model)
    val_ds = tasks.feed(data.validation, task, model=model)
    timer = engine.EpochTimer()
    standard = engine.standard_callbacks(
        run_dir,
        monitor="val_loss" if val_ds is not None else "loss",
        has_loss="loss" in [metric.name for metric in model.metrics],
        early_stopping=early_stopping,
        chief=chief,
        checkpoint=save,
        tensorboard=tensorboard,
    )
    start = time.perf_counter()
    fitted = engine.fit(
        model,
        train_ds,
        val_ds,
        epochs=epochs,
        callbacks=[timer, *standard, backup, *callbacks],
        verbose=verbose,
        initial_epoch=initial_epoch,
        first_batches=(engine.first_batch(data, "train"), engine.first_batch(data, "validation")),
        worker_train=lambda workers, index, replicas: tasks.feed(
            data.worker_train(workers, index, replicas), task, model=model
        ),
    )
    seconds = time.perf_counter() - start
    backup.clear()  # the run finished: a later resume=True starts afresh
    if not (save or tensorboard):
        _remove_if_empty(created)
        run_dir = run_dir if run_dir.exists() else None
    frame = engine.history_frame(fitted.history, fitted.epochs, timer.seconds)

    evaluation = engine.Evaluation({})
    if data.test is not None or data.validation is not None:
        evaluation = engine.evaluate(model, data, task=task)
    path = None
    deployable = fitting.deployable(task)
    if save:
        path = engine.finish(
            deployable,
            output if output is not None else model.name,
            history=frame,
            confusion=evaluation.confusion,
            data=data.describe(),
            metrics=evaluation.metrics,
            training=_card(model, frame, epochs, initial_epoch, early_stopping, task, seed)
            | {"dtype_policy": policy, "seconds": round(seconds, 2), **distribute.describe(strat)}
            | _sharding(data, strat),
        )
    result = (evaluation.metrics, evaluation.report, evaluation.confusion, path, run_dir)
    return TrainResult(deployable, frame, *result, distribute.describe(strat))


def _sharding(data: Any, strat: Any) -> dict[str, str]:
    """How the workers of a multi-worker run split the training split, for its card."""
    if not distribute.is_multiworker(strat):
        return {}
    if distribute.describe(strat)["backend"] == "jax":
        return {"sharding": "data"}  # every process reads each global batch, keeps its rows
    return {"sharding": data.sharding}


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
        >>> table = zoo.cross_validate("mlp_tiny", "digits", folds=2, epochs=1)
        >>> list(table.index)
        ['1', '2', 'mean', 'std']
    """
    _check_model_argument(model_or_name)
    if "save" in train_args or "output" in train_args:
        raise v.invalid(
            "train_args", "without save/output (folds are not saved)", sorted(train_args), TypeError
        )
    data = engine.as_data(data)
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
