"""Fit a compiled model under any strategy, with the same callbacks everywhere.

One device, ``MirroredStrategy`` and TPUs use Keras's ``model.fit`` (with the first
batch split evenly over replicas, :func:`zoo._compat.keras.even_first_batch`).
``MultiWorkerMirroredStrategy`` cannot run ``fit`` in Keras 3
(:func:`zoo._compat.keras.fit_needs_custom_loop`), so there the engine runs its own
loop through the public ``strategy.run`` API and drives the callbacks through a
``keras.callbacks.CallbackList`` exactly as ``fit`` does: user callbacks, early
stopping, checkpoints, TensorBoard and resumption behave the same.
"""

from __future__ import annotations

import contextlib
import dataclasses
from typing import Any

import keras
import numpy as np

from zoo import distribute, distribute_jax
from zoo._compat.keras import fit_needs_custom_loop
from zoo.data.images import naming_bad_files


@dataclasses.dataclass
class Fitted:
    """What one fit ran: Keras's history dict and the (0-based) epoch numbers."""

    history: dict[str, list[float]]
    epochs: list[int]


def fit(
    model: keras.Model,
    train: Any,
    validation: Any = None,
    *,
    epochs: int,
    callbacks: list[Any] = (),
    verbose: Any = "auto",
    initial_epoch: int = 0,
    first_batches: tuple[int | None, int | None] = (None, None),
    worker_train: Any = None,
) -> Fitted:
    """Train a compiled model on batched datasets under the strategy it was built in.

    Args:
        model: a compiled model.
        train: the training ``tf.data.Dataset`` of ``(x, y)`` batches.
        validation: the validation dataset, or None.
        epochs: the last epoch (as in Keras, counting from `initial_epoch`).
        callbacks: Keras callbacks, run on every worker.
        verbose: Keras verbosity.
        initial_epoch: the epoch to start at (a resumed run).
        first_batches: the sizes of the first training and validation batches when
            known (a size the replicas divide evenly needs no splitting).
        worker_train: under multi-worker training, ``(workers, index, replicas) ->``
            that worker's batches of ``(x, y, weight)``, one per local replica
            (:meth:`zoo.data.Data.worker_train`); without it every worker reads all of
            `train` and tf.data keeps its share of each batch.

    A model with a ``pretrained`` attribute that is False (a DBN) is first pretrained
    on the training inputs with its ``pretrain`` method, unless the run resumes.

    Returns:
        A :class:`Fitted` with the history of the epochs run.
    """
    pretrain = getattr(model, "pretrain", None)
    if initial_epoch == 0 and callable(pretrain) and getattr(model, "pretrained", True) is False:
        pretrain(train, verbose=verbose)  # a DBN's greedy layer-wise pretraining
    strat = distribute.strategy_of(model)
    if fit_needs_custom_loop(strat):
        distributed = _distributed(train, worker_train, strat)
        callbacks = list(callbacks)
        with naming_bad_files():
            return _fit_custom(
                model, distributed, validation, strat, epochs, callbacks, verbose, initial_epoch
            )
    # On JAX the batches are sharded inside the distribution's scope; on TensorFlow the
    # model carries its strategy.
    scope = strat.scope() if distribute_jax.is_jax_strategy(strat) else contextlib.nullcontext()
    with scope, naming_bad_files():
        fitted = model.fit(
            distribute.even_batches(train, strat, first_batches[0]),
            validation_data=distribute.even_batches(validation, strat, first_batches[1]),
            epochs=epochs,
            initial_epoch=initial_epoch,
            callbacks=list(callbacks),
            verbose=verbose,
            shuffle=False,  # zoo.data pipelines shuffle themselves; Keras would warn
        )
    return Fitted(fitted.history, list(fitted.epoch))


def _per_example_loss(model: keras.Model):
    loss = model.loss if not isinstance(model.loss, str) else keras.losses.get(model.loss)
    if isinstance(loss, keras.losses.Loss):
        config = loss.get_config()
        config["reduction"] = "none"
        loss = loss.__class__.from_config(config)
    if loss is None:
        raise ValueError(
            "Multi-worker training needs a model compiled with one loss (zoo's tasks "
            f"compile one); {model.name} has none. Received: model.loss=None"
        )
    return loss


def _distributed(train, worker_train, strat):
    """The training batches spread over the workers' replicas."""
    import tensorflow as tf

    if worker_train is not None:  # each worker builds only its own share

        def share(context):
            replicas = context.num_replicas_in_sync // context.num_input_pipelines
            return worker_train(context.num_input_pipelines, context.input_pipeline_id, replicas)

        return strat.distribute_datasets_from_function(share)
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return strat.experimental_distribute_dataset(train.with_options(options))


def _fit_custom(model, distributed, validation, strat, epochs, callbacks, verbose, initial_epoch):
    import tensorflow as tf

    loss_fn = _per_example_loss(model)
    optimizer = model.optimizer
    replicas = strat.num_replicas_in_sync

    def replica_step(x, y, weights=None):
        if weights is None:
            weights = tf.ones([tf.shape(y)[0]], tf.float32)
        # The mean over the global batch's real rows (weight 0 rows only even it out).
        context = tf.distribute.get_replica_context()
        total = context.all_reduce(tf.distribute.ReduceOp.SUM, tf.reduce_sum(weights))
        with tf.GradientTape() as tape:
            predictions = model(x, training=True)
            per_example = loss_fn(y, predictions)
            per_example = tf.reshape(per_example, [tf.shape(per_example)[0], -1])
            per_example = tf.reduce_mean(per_example, axis=-1)
            weighted = tf.cast(per_example, tf.float32) * weights
            loss = tf.reduce_sum(weighted) / tf.maximum(total, 1.0)
            if model.losses:
                loss += tf.add_n(model.losses) / replicas
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
        return loss

    @tf.function
    def step(batch):
        per_replica = strat.run(replica_step, args=batch)
        return strat.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)

    verbose = 1 if verbose == "auto" else verbose
    hooks = keras.callbacks.CallbackList(
        callbacks,
        add_history=True,
        add_progbar=bool(verbose),
        model=model,
        verbose=verbose,
        epochs=epochs,
        steps=None,  # unknown until the first epoch ends, as for a dataset of unknown size
    )
    model.stop_training = False
    hooks.on_train_begin()
    logs: dict[str, float] = {}
    for epoch in range(initial_epoch, epochs):
        hooks.on_epoch_begin(epoch)
        total, batches = 0.0, 0
        for batch in distributed:
            hooks.on_train_batch_begin(batches)
            total += float(step(tuple(batch)))
            batches += 1
            hooks.on_train_batch_end(batches - 1, {"loss": total / batches})
        logs = {"loss": total / max(batches, 1)}
        if validation is not None:
            logs.update(_local_validation(model, validation, loss_fn))
        hooks.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    hooks.on_train_end(logs)
    history = model.history
    return Fitted(dict(history.history), list(history.epoch))


def _local_validation(model, validation, loss_fn) -> dict[str, float]:
    """Validation loss (and accuracy for classifiers), computed eagerly on this worker.

    Keras's ``evaluate`` fails under multi-worker as ``fit`` does.
    """
    losses, correct, count = [], 0, 0
    sparse = isinstance(loss_fn, keras.losses.SparseCategoricalCrossentropy)
    binary = isinstance(loss_fn, keras.losses.BinaryCrossentropy)
    for x, y in validation:
        predictions = model(x, training=False)
        per_example = np.asarray(loss_fn(y, predictions)).reshape(len(y), -1).mean(axis=-1)
        losses.append(per_example)
        predictions = np.asarray(predictions)
        if sparse:
            correct += int((predictions.argmax(axis=-1) == np.asarray(y)).sum())
        elif binary:
            threshold = 0.0 if loss_fn.get_config().get("from_logits") else 0.5
            correct += int(
                ((predictions.reshape(len(y)) > threshold) == np.asarray(y).reshape(len(y))).sum()
            )
        count += len(y)
    logs = {"val_loss": float(np.concatenate(losses).mean())}
    if sparse or binary:
        logs["val_accuracy"] = correct / max(count, 1)
    return logs
