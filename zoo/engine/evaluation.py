"""Score a model on a split: scikit-learn tables, or the model's compiled metrics."""

from __future__ import annotations

import contextlib
import dataclasses
from typing import Any

import keras
import numpy as np
import pandas as pd

from zoo import _validation as v
from zoo import distribute, distribute_jax, tasks
from zoo._compat.keras import fit_needs_custom_loop
from zoo.data.images import naming_bad_files


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


def as_data(data: Any, task: str | None = None):
    """`data`, loaded with ``zoo.data.load`` unless it is a Data (`task` for text corpora)."""
    from zoo.data import Data, load

    if isinstance(data, Data):
        return data
    return load(data, task=task)


def first_batch(data, split: str) -> int | None:
    """The size of a split's first batch, or None when the split's size is unknown."""
    size = data.sizes.get(split)
    if size is None or getattr(data, "unchecked", 0):  # a file found bad may shrink it
        return None
    return min(data.batch_size, size)


def check_takes(model: keras.Model, data) -> None:
    """Refuse data whose inputs the model cannot take, naming both shapes.

    Raises:
        zoo._validation.ArgumentValueError: when the shapes (without the batch axis)
            differ in rank or in a fixed size.
    """
    shape = getattr(model, "input_shape", None)
    expected = getattr(data, "input_shape", None)
    if not isinstance(shape, tuple) or not shape or isinstance(shape[0], (tuple, list)):
        return  # several or structured inputs (or a subclassed model): nothing to compare
    if not isinstance(expected, tuple) or any(isinstance(d, (tuple, list)) for d in expected):
        return
    given = tuple(shape[1:])
    if len(given) == len(expected) and all(
        g is None or e is None or g == e for g, e in zip(given, expected, strict=True)
    ):
        return
    raise v.ArgumentValueError(
        f"The model {model.name!r} takes inputs of shape {given} (without the batch axis), "
        f"but this data's inputs have shape {tuple(expected)}: give it data like the data "
        "it was trained on (the same columns, image size and colour channels; see the "
        f"card's data entry). Received: data={getattr(data, 'source', data)!s}"
    )


def evaluate(model: keras.Model, data, *, split: str = "test", task: str) -> Evaluation:
    """Score `model` on a split of loaded `data` for `task`.

    Falls back to the validation split when there is no test split (and back).
    Classification and regression are scored with scikit-learn; other tasks with the
    model's compiled losses and metrics (a language model adds perplexity).
    """
    if getattr(data, split) is None:
        split = "validation" if split == "test" else "test"
    dataset = getattr(data, split)
    if dataset is None:
        raise v.invalid("data", "data with a test or validation split", data.sizes)
    check_takes(model, data)
    if task not in tasks.SCORED_BY_SKLEARN:
        return Evaluation(_compiled_metrics(model, data, split, task))
    y_true = data.labels(split)
    with naming_bad_files():
        predictions = predict(model, dataset.map(lambda x, y: x))
    if data.task == "classification":
        if tasks.outputs_logits(model):
            predictions = _probabilities(predictions)
        names = (
            list(data.class_names)
            if data.class_names
            else [str(i) for i in range(predictions.shape[-1])]
        )
        metrics, report, confusion = _classification_metrics(y_true, predictions, names)
        return Evaluation(metrics, report, confusion, predictions)
    return Evaluation(_regression_metrics(y_true, predictions), predictions=predictions)


def predict(model: keras.Model, inputs: Any) -> np.ndarray:
    """``model.predict``, or a plain batch loop where Keras's predict cannot run."""
    strategy = distribute.strategy_of(model)
    if strategy is not None and fit_needs_custom_loop(strategy):
        return np.concatenate([np.asarray(model(x, training=False)) for x in inputs])
    if distribute_jax.is_jax_strategy(strategy) and strategy.num_replicas_in_sync > 1:
        return _predict_sharded(model, inputs, strategy)
    return np.asarray(model.predict(inputs, verbose=0))


def _predict_sharded(model: keras.Model, inputs: Any, strategy: Any) -> np.ndarray:
    """Predict batch by batch on JAX devices, padding each batch to a multiple of them."""
    replicas = strategy.num_replicas_in_sync
    if isinstance(inputs, np.ndarray):
        step = 32 * replicas
        batches = (inputs[i : i + step] for i in range(0, len(inputs), step))
    else:
        batches = (
            tuple(np.asarray(t) for t in b) if isinstance(b, tuple) else np.asarray(b)
            for b in inputs.as_numpy_iterator()
        )
    outputs = []
    with strategy.scope():
        for batch in batches:
            grown, size = distribute_jax.padded(batch, replicas)
            outputs.append(distribute_jax.predict_on_batch(model, grown, strategy)[:size])
    return np.concatenate(outputs)


def _compiled_metrics(model, data, split: str, task: str) -> dict[str, float]:
    """A split scored with the model's compiled losses and metrics (Keras's evaluate)."""
    from zoo.engine.compiling import compile_model

    if fit_needs_custom_loop(distribute.strategy_of(model)):
        return {}  # Keras's evaluate fails there as fit does; the history has val_loss
    if not model.compiled:
        compile_model(model, task)
    strategy = distribute.strategy_of(model)
    dataset = distribute.even_batches(
        tasks.feed(getattr(data, split), task, model=model), strategy, first_batch(data, split)
    )
    jax_scope = distribute_jax.is_jax_strategy(strategy)
    with strategy.scope() if jax_scope else contextlib.nullcontext(), naming_bad_files():
        results = model.evaluate(dataset, verbose=0, return_dict=True)
    return tasks.add_scores({k: float(value) for k, value in results.items()}, task)


def _probabilities(predictions: np.ndarray) -> np.ndarray:
    """Logits to probabilities: a sigmoid for one unit, else a softmax."""
    if predictions.shape[-1] == 1:
        return 1 / (1 + np.exp(-predictions))
    shifted = np.exp(predictions - predictions.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


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

    def averaged(score):
        return float(score(y_true, y_pred, labels=labels, average="macro", zero_division=0))

    result = {
        "accuracy": float(skm.accuracy_score(y_true, y_pred)),
        "precision_macro": averaged(skm.precision_score),
        "recall_macro": averaged(skm.recall_score),
        "f1_macro": averaged(skm.f1_score),
        "log_loss": float(skm.log_loss(y_true, probabilities, labels=labels)),
    }
    if len(np.unique(y_true)) == k:
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
