"""``zoo.transfer.fine_tune``: fastai-style staged fine-tuning in one call.

Stage ``"head"`` trains the new head with the backbone frozen. When the backbone is
frozen and the training data is not augmented, the backbone's features are computed
once and the head trains on them (the feature cache), which is many times faster per
epoch than running the frozen backbone every epoch. Stage ``"fine_tune"`` then
unfreezes the backbone (all of it, its top N weighted layers, or from a named layer
up) and trains on at a lower learning rate, optionally with layer-wise decaying rates
(:mod:`zoo.transfer.layerwise`). BatchNormalization layers stay in inference mode
(frozen statistics) unless ``train_batchnorm=True``: the Keras transfer-learning
recipe, and the usual cause of a fine-tune that wrecks a good model.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pandas as pd

from zoo import _validation as v
from zoo.transfer.layerwise import (
    BASE_OPTIMIZERS,
    OPTIMIZERS,
    _check_learning_rate,
    layerwise_optimizer,
)

CACHE_DIR = ".cache/features"
_POOLING_LAYERS = (
    keras.layers.GlobalAveragePooling1D,
    keras.layers.GlobalAveragePooling2D,
    keras.layers.GlobalAveragePooling3D,
    keras.layers.GlobalMaxPooling1D,
    keras.layers.GlobalMaxPooling2D,
    keras.layers.GlobalMaxPooling3D,
    keras.layers.Flatten,
)


@dataclasses.dataclass
class FineTuneResult:
    """What :func:`fine_tune` returns.

    Attributes:
        model: the fine-tuned model.
        history: one row per epoch with a ``stage`` column (``head``/``fine_tune``).
        stages: one row per stage: epochs, learning rate, trainable parameters,
            whether the feature cache was used, seconds.
        metrics: test metrics (validation metrics when there is no test split).
        report: per-class report (classification).
        confusion: confusion matrix (classification).
        path: where the model and its card were saved (None with ``save=False``).
    """

    model: Any
    history: pd.DataFrame
    stages: pd.DataFrame
    metrics: dict[str, float]
    report: pd.DataFrame | None
    confusion: pd.DataFrame | None
    path: Path | None

    def plot(self, metrics: Any = None, path: Any = None) -> Any:
        """Training curves per metric (:func:`zoo.plots.training_curves`)."""
        from zoo import plots

        return plots.training_curves(self.history, metrics=metrics, path=path)


def find_backbone(model: keras.Model) -> keras.Layer:
    """The pretrained part of a model.

    Looks for, in order: a layer named ``"backbone"`` (zoo's image classifiers and
    checkpoints), a ``backbone`` attribute (keras-hub task models), a
    :class:`zoo.transfer.HubLayer`.

    Raises:
        ValueError: when the model has none of these.
    """
    if not isinstance(model, keras.Model):
        raise v.invalid("model", "a keras.Model", type(model).__name__, TypeError)
    names = [layer.name for layer in model.layers]
    if "backbone" in names:
        return model.get_layer("backbone")
    backbone = getattr(model, "backbone", None)
    if isinstance(backbone, keras.Layer):
        return backbone
    for layer in model.layers:
        if type(layer).__name__ == "HubLayer":
            return layer
    raise v.invalid(
        "model",
        "a model with a pretrained part: a layer named 'backbone' (as "
        "zoo.transfer.image_classifier builds), a keras-hub task model or a hub_layer",
        f"{model.name} with layers {names[:8]}",
    )


def _outer_output(nodes: set, layer: keras.Layer):
    """The symbolic output of ``layer`` among a model's graph ``nodes`` (single call)."""
    nodes = [node for node in layer._inbound_nodes if node in nodes]
    if len(nodes) != 1 or len(nodes[0].output_tensors) != 1:
        return None
    return nodes[0].output_tensors[0]


def _model_nodes(model: keras.Model) -> set:
    nodes = set()
    for layer in model.layers:
        nodes.update(layer._inbound_nodes)
    return nodes


def feature_split(model: keras.Model, backbone: keras.Layer | None = None):
    """Split a functional model into (feature extractor, head) at the backbone.

    The cut is after the backbone and any global pooling/flatten that follows it, so
    the cached features are small. Both parts share the model's layers (training
    the head trains the model's head).

    Returns:
        ``(extractor, head)``, or None when the model is not a functional graph
        with a single-tensor backbone output.
    """
    backbone = backbone or find_backbone(model)
    if not isinstance(model, keras.Model) or not hasattr(model, "_inbound_nodes"):
        return None
    try:
        nodes = _model_nodes(model)
        cut = _outer_output(nodes, backbone)
    except AttributeError:
        return None
    if cut is None or len(model.outputs) != 1:
        return None
    consumers = _consumers(model, nodes)
    while True:
        users = consumers.get(id(cut), [])
        if len(users) != 1 or not isinstance(users[0], _POOLING_LAYERS):
            break
        following = _outer_output(nodes, users[0])
        if following is None:
            break
        cut = following
    try:
        extractor = keras.Model(model.inputs, cut, name=f"{model.name}_features")
        head = keras.Model(cut, model.outputs[0], name=f"{model.name}_head")
    except (ValueError, TypeError):
        return None
    return extractor, head


def _consumers(model: keras.Model, nodes: set) -> dict[int, list[keras.Layer]]:
    users: dict[int, list[keras.Layer]] = {}
    for layer in model.layers:
        for node in layer._inbound_nodes:
            if node not in nodes:
                continue
            for tensor in node.input_tensors:
                users.setdefault(id(tensor), []).append(layer)
    return users


def with_new_head(
    model: keras.Model, num_classes: int, *, dropout: float = 0.2, name: str | None = None
) -> keras.Model:
    """The model up to its backbone features, with a fresh classification head.

    Example:
        >>> model = with_new_head(zoo.load("digits_0_4_pretrained"), 5)
    """
    from zoo import registry
    from zoo.architectures import _common

    num_classes = v.check_int("num_classes", num_classes, minimum=1)
    v.check_rate("dropout", dropout)
    split = feature_split(model)
    if split is None:
        raise v.invalid(
            "model",
            "a functional model whose backbone output can be cut to put on a new head",
            model.name,
        )
    extractor, _ = split
    features = extractor.outputs[0]
    outputs = _common.head(
        features,
        num_classes=num_classes,
        head_activation=None,
        dropout=dropout,
        options=_common.Options("glorot_uniform", None, None),
    )
    new = keras.Model(model.inputs, outputs, name=name or model.name)
    spec = registry.get_spec(model)
    if spec:
        registry.set_spec(
            new, spec["architecture"], {**spec["arguments"], "num_classes": num_classes}
        )
    return new


def _preprocessing_expects_raw(model: keras.Model) -> bool:
    from zoo.layers import ImagePreprocessing

    return any(isinstance(layer, ImagePreprocessing) for layer in model.layers)


def _unfreeze(backbone: keras.Layer, unfreeze: Any, train_batchnorm: bool) -> int:
    """Make the chosen top part of the backbone trainable; returns the layer count."""
    from zoo.transfer.layerwise import _leaf_layers

    leaves = _leaf_layers(backbone)
    weighted = [layer for layer in leaves if layer.weights]
    if unfreeze == "all":
        chosen = weighted
    elif isinstance(unfreeze, int):
        chosen = weighted[-unfreeze:] if unfreeze else []
    else:
        index = [layer.name for layer in leaves].index(unfreeze)
        chosen = [layer for layer in leaves[index:] if layer.weights]
    backbone.trainable = True
    chosen_ids = {id(layer) for layer in chosen}
    for layer in leaves:
        is_bn = isinstance(layer, keras.layers.BatchNormalization)
        layer.trainable = id(layer) in chosen_ids and (train_batchnorm or not is_bn)
    return len(chosen)


def _check_unfreeze(unfreeze: Any, backbone: keras.Layer) -> Any:
    from zoo.transfer.layerwise import _leaf_layers

    if unfreeze is None or unfreeze == "all":
        return unfreeze
    if isinstance(unfreeze, bool):
        raise v.invalid(
            "unfreeze", "'all', None, a number of top layers or a layer name", unfreeze, TypeError
        )
    if isinstance(unfreeze, (int, np.integer)):
        count = len([layer for layer in _leaf_layers(backbone) if layer.weights])
        return v.check_int(
            "unfreeze", int(unfreeze), minimum=1, maximum=count
        )  # the top N weighted layers
    if isinstance(unfreeze, str):
        names = [layer.name for layer in _leaf_layers(backbone)]
        if unfreeze not in names:
            raise v.unknown_name(
                "backbone layer",
                unfreeze,
                names,
                hint="Pass a layer name of the backbone (model.get_layer('backbone').layers).",
            )
        return unfreeze
    raise v.invalid(
        "unfreeze", "'all', None, a number of top layers or a layer name", unfreeze, TypeError
    )


def _weights_digest(model: keras.Model) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps(model.get_config(), sort_keys=True, default=str).encode())
    for weight in model.weights:
        digest.update(weight.path.encode() if hasattr(weight, "path") else b"")
        digest.update(np.ascontiguousarray(keras.ops.convert_to_numpy(weight)).tobytes())
    return digest.hexdigest()


def _cache_key(extractor: keras.Model, data, split: str, scale: float) -> str:
    parts = {
        "extractor": _weights_digest(extractor),
        "data": data.fingerprint,
        "split": split,
        "sizes": data.sizes,
        "input_shape": list(data.input_shape),
        "scale": scale,
        "options": repr(data._options) if data._options is not None else None,
        "seed": getattr(data._options, "seed", None),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:24]


def _features(extractor, dataset, cache_dir: Path | None, key: str, verbose: int):
    """(features, labels) of a whole split, from the disk cache when it holds them."""
    path = None if cache_dir is None else cache_dir / f"{key}.npz"
    if path is not None and path.is_file():
        with np.load(path) as stored:
            return stored["features"], stored["labels"]
    features, labels = [], []
    batches = dataset
    if verbose:
        from tqdm.auto import tqdm

        batches = tqdm(dataset, desc="computing backbone features", leave=False)
    strategy = getattr(extractor, "distribute_strategy", None)
    replicated = strategy is not None and strategy.num_replicas_in_sync > 1
    for x, y in batches:
        # predict_on_batch returns one copy per replica under MirroredStrategy (Keras
        # 3.15); a plain call runs the one pass on the first device instead.
        out = extractor(x, training=False) if replicated else extractor.predict_on_batch(x)
        features.append(keras.ops.convert_to_numpy(out))
        labels.append(np.asarray(y))
    features_array, labels_array = np.concatenate(features), np.concatenate(labels)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".tmp-{os.getpid()}.npz")
        np.savez(partial, features=features_array, labels=labels_array)
        os.replace(partial, path)  # a killed run never leaves a half-written cache
    return features_array, labels_array


def _feature_dataset(features, labels, batch_size: int, shuffle: bool, seed: int):
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices((features, labels))
    if shuffle:
        dataset = dataset.shuffle(len(labels), seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def _rescaled(data, factor: float):
    """The data's pipelines with images multiplied by ``factor``."""
    if factor == 1.0:
        return data.train, data.validation, data.test

    def scale(dataset):
        if dataset is None:
            return None
        return dataset.map(lambda x, y: (x * factor, y))

    return scale(data.train), scale(data.validation), scale(data.test)


def _load_data(data: Any, model: keras.Model | None, backbone_name: str | None):
    from zoo.data import Data, load
    from zoo.transfer.backbones import BACKBONES

    if isinstance(data, Data):
        return data
    if model is not None and getattr(model, "preprocessor", None) is not None:
        return load(data, tokenize=False)  # keras-hub tasks tokenize raw strings themselves
    raw = backbone_name is not None or (model is not None and _preprocessing_expects_raw(model))
    if not raw:
        return load(data)
    if model is not None:
        size = tuple(model.input_shape[1:3])
    else:
        size = (BACKBONES[backbone_name].default_size,) * 2
    return load(data, rescale=False, image_size=size)


def _stage_frame(history: dict, stage: str, first_epoch: int, seconds: list[float]):
    from zoo.training import _history_frame

    epochs = range(first_epoch, first_epoch + len(next(iter(history.values()), [])))
    frame = _history_frame(history, list(epochs), seconds)
    frame.insert(1, "stage", stage)
    return frame


def _trainable_params(model: keras.Model) -> int:
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))


def fine_tune(
    model: Any,
    data: Any,
    *,
    epochs: int = 5,
    fine_tune_epochs: int = 5,
    learning_rate: float = 1e-3,
    fine_tune_learning_rate: float | None = None,
    unfreeze: Any = "all",
    layer_decay: float | None = None,
    layer_groups: int = 4,
    train_batchnorm: bool = False,
    optimizer: str = "adam",
    cache_features: Any = "auto",
    early_stopping: int | None = None,
    dropout: float = 0.2,
    weights: Any = "imagenet",
    strategy: Any = "auto",
    callbacks: list[Any] | None = None,
    output: str | os.PathLike | None = None,
    save: bool = True,
    seed: int = 0,
    verbose: Any = "auto",
) -> FineTuneResult:
    """Fine-tune a pretrained model on new data: head first, then the backbone.

    Args:
        model: a ``keras.Model`` with a backbone (see :func:`find_backbone`), the
            name or path of a saved zoo model, or a backbone name from
            :func:`zoo.transfer.list_backbones` (an image classifier is built for
            the data). A head with the wrong number of classes is replaced.
        data: a ``zoo.data.Data`` or any source ``zoo.data.load`` accepts; image
            folders are loaded at the model's input size as raw 0-255 pixels when the
            model has its preprocessing built in.
        epochs: epochs of the head stage (backbone frozen); 0 skips it.
        fine_tune_epochs: epochs of the fine-tuning stage; 0 skips it.
        learning_rate: learning rate of the head stage.
        fine_tune_learning_rate: learning rate of the fine-tuning stage (the head's,
            with ``layer_decay``); default ``learning_rate / 10``.
        unfreeze: what the fine-tuning stage trains: ``"all"``, the top N weighted
            layers of the backbone (an int), or every layer from a named one up.
        layer_decay: discriminative rates: each of ``layer_groups`` groups of
            backbone layers, from the top down, trains at this factor times the rate
            of the group above (in (0, 1]); None for one rate.
        layer_groups: how many groups the backbone is split into for ``layer_decay``.
        train_batchnorm: also train BatchNormalization layers (and update their
            statistics where the graph lets them); off by default.
        optimizer: ``"adam"``, ``"adamw"``, ``"sgd"`` or ``"rmsprop"``.
        cache_features: ``"auto"`` (cache when the backbone is frozen and the data
            is not augmented), True (require it), False. The cache lives under
            ``saved_models/.cache/features``, keyed by the extractor's config and
            weights, the data's fingerprint and the split.
        early_stopping: patience on validation loss per stage (best weights
            restored); None trains every epoch.
        dropout: dropout before a new head.
        weights: backbone weights when ``model`` is a backbone name.
        strategy: a ``zoo.distribute.strategy`` kind or Strategy (the model is built
            in its scope when ``model`` is a name).
        callbacks: extra Keras callbacks for both stages.
        output: name under ``saved_models/`` or folder (default: the model's name).
        save: save the model with a card recording backbone, weights, stages and
            learning rates.
        seed: random seed.
        verbose: Keras verbosity (``"auto"``: progress bars in a terminal).

    Returns:
        A :class:`FineTuneResult` (history has a ``stage`` column).

    Raises:
        ValueError / TypeError: for invalid arguments, before any training.

    Example:
        >>> result = zoo.transfer.fine_tune("digits_0_4_convnet", five_to_nine, epochs=10)
        >>> result.history.groupby("stage").tail(1)
    """
    from zoo import distribute, plots, registry, saving
    from zoo.training import _EpochTimer, _first_batch, evaluate, outputs_logits
    from zoo.transfer.backbones import BACKBONES, image_classifier

    epochs = v.check_int("epochs", epochs, minimum=0)
    fine_tune_epochs = v.check_int("fine_tune_epochs", fine_tune_epochs, minimum=0)
    if epochs + fine_tune_epochs == 0:
        raise v.invalid(
            "epochs", "> 0 or fine_tune_epochs > 0 (nothing to train)", (epochs, fine_tune_epochs)
        )
    learning_rate = _check_learning_rate("learning_rate", learning_rate)
    if fine_tune_learning_rate is None:
        fine_tune_learning_rate = learning_rate / 10
    fine_tune_learning_rate = _check_learning_rate(
        "fine_tune_learning_rate", fine_tune_learning_rate
    )
    if layer_decay is not None:
        layer_decay = v.check_float("layer_decay", layer_decay)
        if not 0 < layer_decay <= 1:
            raise v.invalid("layer_decay", "None or a factor in (0, 1]", layer_decay)
    layer_groups = v.check_int("layer_groups", layer_groups, minimum=1)
    v.check_bool("train_batchnorm", train_batchnorm)
    v.check_choice("optimizer", optimizer, tuple(OPTIMIZERS))
    v.check_choice("cache_features", cache_features, ("auto", True, False))
    early_stopping = v.check_int("early_stopping", early_stopping, minimum=0, allow_none=True)
    v.check_rate("dropout", dropout)
    callbacks = v.check_callbacks(callbacks)
    v.check_bool("save", save)
    seed = v.check_int("seed", seed, minimum=0)
    verbose = v.check_verbose(verbose)

    backbone_name = None
    if isinstance(model, str) and model in BACKBONES:
        from zoo.transfer.backbones import resolve_weights

        backbone_name = model
        model = None
        resolve_weights(backbone_name, weights)  # missing weights fail before data loads
    elif isinstance(model, (str, os.PathLike)):
        model = _load_saved(model)
    elif not isinstance(model, keras.Model):
        raise v.invalid(
            "model",
            "a keras.Model, a saved zoo model's name or path, or a backbone name",
            type(model).__name__,
            TypeError,
        )

    if model is not None and not (isinstance(strategy, str) and strategy == "auto"):
        raise v.invalid(
            "strategy",
            "'auto' for a model that is already built (pass a backbone name so zoo can "
            "build it inside the strategy's scope)",
            strategy,
        )
    strat = distribute.strategy(strategy) if model is None else model.distribute_strategy
    keras.utils.set_random_seed(seed)
    data = _load_data(data, model, backbone_name)
    if data.task != "classification":
        raise v.invalid("data", "classification data", data.task)

    with strat.scope():
        if model is None:
            model = image_classifier(
                backbone_name,
                data.num_classes,
                weights=weights,
                input_shape=data.input_shape,
                dropout=dropout,
            )
        backbone = find_backbone(model)
        if model.output_shape[-1] != data.num_classes:
            model = with_new_head(model, data.num_classes, dropout=dropout)
            backbone = find_backbone(model)
    unfreeze_checked = _check_unfreeze(unfreeze, backbone)
    if fine_tune_epochs and unfreeze_checked is None:
        raise v.invalid(
            "unfreeze",
            "'all', a number of top layers or a layer name when fine_tune_epochs > 0",
            unfreeze,
        )

    scale = 1.0
    if _preprocessing_expects_raw(model) and data._options is not None:
        scale = 1.0 / data._options.scale  # back to raw 0-255 pixels
    train_ds, val_ds, _ = _rescaled(data, scale)
    augmented = bool(getattr(data._options, "augment", None))
    if cache_features is True and augmented:
        raise v.invalid(
            "cache_features",
            "False or 'auto' with augmented data (features change every epoch)",
            cache_features,
        )

    target = saving.resolve(output if output is not None else model.name)
    frames, stages = [], []
    epoch_offset = 0
    spec = registry.get_spec(model) or {}
    weights_source = spec.get("arguments", {}).get("weights")

    def fit_stage(stage, fit_model, train, validation, n_epochs, rate, trainable_layers, cached):
        nonlocal epoch_offset
        timer = _EpochTimer()
        used = [timer, keras.callbacks.TerminateOnNaN()]
        if early_stopping:
            used.append(
                keras.callbacks.EarlyStopping(
                    monitor="val_loss" if validation is not None else "loss",
                    patience=early_stopping,
                    restore_best_weights=True,
                )
            )
        start = time.perf_counter()
        fitted = fit_model.fit(
            distribute.even_first_batch(train, strat, _first_batch(data, "train")),
            validation_data=distribute.even_first_batch(
                validation, strat, _first_batch(data, "validation")
            ),
            epochs=n_epochs,
            callbacks=used + callbacks,
            verbose=verbose,
            shuffle=False,  # zoo.data pipelines shuffle themselves; Keras would warn
        )
        frame = _stage_frame(fitted.history, stage, epoch_offset, timer.seconds)
        epoch_offset += len(frame)
        frames.append(frame)
        stages.append(
            {
                "stage": stage,
                "epochs": len(frame),
                "learning_rate": rate,
                "layer_decay": layer_decay if stage == "fine_tune" else None,
                "trainable_layers": trainable_layers,
                "trainable_params": _trainable_params(model),
                "feature_cache": cached,
                "seconds": round(time.perf_counter() - start, 3),
            }
        )

    logits = outputs_logits(model)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=logits)
    if model.output_shape[-1] == 1:
        loss = keras.losses.BinaryCrossentropy(from_logits=logits)
    settings = distribute.compile_settings(strat, "auto")

    def compile_model(target_model, chosen):
        with strat.scope():
            target_model.compile(
                optimizer=chosen, loss=loss, metrics=_metrics(model, logits), **settings
            )

    if epochs:
        backbone.trainable = False
        split = None
        if cache_features is not False and not augmented:
            with strat.scope():  # the head model then trains under the same strategy
                split = feature_split(model, backbone)
            if split is None and cache_features is True:
                raise v.invalid(
                    "cache_features",
                    "False or 'auto' for a model whose backbone output cannot be cut "
                    "(not a functional graph with one backbone output)",
                    cache_features,
                )
        with strat.scope():
            head_optimizer = BASE_OPTIMIZERS[optimizer](learning_rate=learning_rate)
        if split is not None:
            extractor, head = split
            cache_dir = target.parent / CACHE_DIR
            train_f = _features(
                extractor, train_ds, cache_dir, _cache_key(extractor, data, "train", scale), verbose
            )
            val_f = None
            if val_ds is not None:
                val_f = _features(
                    extractor,
                    val_ds,
                    cache_dir,
                    _cache_key(extractor, data, "validation", scale),
                    verbose,
                )
            cached_train = _feature_dataset(*train_f, data.batch_size, True, seed)
            cached_val = (
                None if val_f is None else _feature_dataset(*val_f, data.batch_size, False, seed)
            )
            compile_model(head, head_optimizer)
            fit_stage("head", head, cached_train, cached_val, epochs, learning_rate, 0, True)
        else:
            compile_model(model, head_optimizer)
            fit_stage("head", model, train_ds, val_ds, epochs, learning_rate, 0, False)

    if fine_tune_epochs:
        count = _unfreeze(backbone, unfreeze_checked, train_batchnorm)
        with strat.scope():
            if layer_decay is not None:
                tuned_optimizer = layerwise_optimizer(
                    model,
                    optimizer,
                    fine_tune_learning_rate,
                    backbone=backbone,
                    decay=layer_decay,
                    groups=layer_groups,
                )
            else:
                tuned_optimizer = BASE_OPTIMIZERS[optimizer](learning_rate=fine_tune_learning_rate)
        compile_model(model, tuned_optimizer)
        fit_stage(
            "fine_tune",
            model,
            train_ds,
            val_ds,
            fine_tune_epochs,
            fine_tune_learning_rate,
            count,
            False,
        )
    elif not model.compiled:
        compile_model(model, BASE_OPTIMIZERS[optimizer](learning_rate=learning_rate))

    history = pd.concat(frames, ignore_index=True)
    stage_table = pd.DataFrame(stages)
    evaluation = evaluate(model, _scaled_data(data, scale))
    metrics = evaluation.metrics

    path = None
    if save:
        path = saving.save(
            model,
            output if output is not None else model.name,
            data=data.describe(),
            metrics=metrics,
            fine_tuning={
                "backbone": backbone_name
                or spec.get("arguments", {}).get("backbone")
                or backbone.name,
                "architecture": spec.get("architecture"),
                "weights": weights_source,
                "stages": stages,
                "unfreeze": unfreeze
                if unfreeze is None or isinstance(unfreeze, (int, str))
                else None,
                "layer_decay": layer_decay,
                "layer_groups": layer_groups if layer_decay is not None else None,
                "train_batchnorm": train_batchnorm,
                "optimizer": optimizer,
                "input_scale": scale,
                "seed": seed,
                **distribute.describe(strat),
            },
        )
        history.to_csv(path / "history.csv", index=False)
        plots.save_beside(path, history=history, confusion=evaluation.confusion)
    return FineTuneResult(
        model, history, stage_table, metrics, evaluation.report, evaluation.confusion, path
    )


def _metrics(model: keras.Model, logits: bool) -> list[Any]:
    if model.output_shape[-1] == 1:
        return [keras.metrics.BinaryAccuracy(name="accuracy", threshold=0.0 if logits else 0.5)]
    return ["accuracy"]


def _scaled_data(data, scale: float):
    if scale == 1.0:
        return data
    train, validation, test = _rescaled(data, scale)
    return dataclasses.replace(data, train=train, validation=validation, test=test)


def _load_saved(name_or_path: Any) -> keras.Model:
    from zoo import saving

    path = saving.resolve(name_or_path)
    if not path.exists() and isinstance(name_or_path, str):
        from zoo.transfer import demo

        shipped = demo._repository_models() / name_or_path
        path = shipped if (shipped / "model.keras").is_file() else path
    if not path.exists():
        from zoo.transfer.backbones import BACKBONES

        raise v.unknown_name(
            "backbone or saved model",
            str(name_or_path),
            list(BACKBONES) + _saved_names(),
            hint=f"Pass a backbone name (zoo.transfer.list_backbones()), a folder under "
            f"{saving.saved_models_dir()} or a path to a saved zoo model.",
        )
    return saving.load(path)


def _saved_names() -> list[str]:
    from zoo import saving

    folder = saving.saved_models_dir()
    if not folder.is_dir():
        return []
    return [p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")]
