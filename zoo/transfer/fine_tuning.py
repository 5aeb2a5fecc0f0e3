"""``zoo.transfer.fine_tune``: fastai-style staged fine-tuning in one call.

Stage ``"head"`` trains the new head with the backbone frozen. When the backbone is
frozen and the training data is not augmented, the backbone's features are computed
once and the head trains on them (:mod:`zoo.transfer.feature_cache`), which is many
times faster per epoch than running the frozen backbone every epoch. Stage
``"fine_tune"`` then unfreezes the backbone (all of it, its top N weighted layers, or
from a named layer up) and trains on at a lower learning rate, optionally with
layer-wise decaying rates (:mod:`zoo.transfer.layerwise`). BatchNormalization layers
stay in inference mode (frozen statistics) unless ``train_batchnorm=True``: the Keras
transfer-learning recipe, and the usual cause of a fine-tune that wrecks a good model.

Each stage is a :class:`Stage` run by the engine (:mod:`zoo.engine`), which also
compiles, scores and saves, as it does for ``zoo.train``.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pandas as pd

from zoo import _validation as v
from zoo import distribute, engine, registry, saving
from zoo import optimizers as opt
from zoo.transfer import feature_cache
from zoo.transfer.feature_cache import CACHE_DIR
from zoo.transfer.layerwise import layerwise_optimizer
from zoo.transfer.surgery import (
    check_unfreeze,
    feature_split,
    find_backbone,
    preprocessing_expects_raw,
    unfreeze,
    with_new_head,
)

__all__ = [
    "CACHE_DIR",
    "FineTuneResult",
    "Stage",
    "feature_split",
    "find_backbone",
    "fine_tune",
    "with_new_head",
]


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


@dataclasses.dataclass
class Stage:
    """One stage of a fine-tune: what is fitted, on what, for how long, at what rate.

    Attributes:
        name: ``"head"`` or ``"fine_tune"``.
        model: the model fitted (the head alone when it trains on cached features).
        train: the training pipeline (images, or cached features).
        validation: the validation pipeline, or None.
        epochs: epochs of the stage.
        learning_rate: its (head) learning rate.
        optimizer: makes the stage's optimizer (inside the strategy's scope).
        trainable_layers: backbone layers it trains.
        feature_cache: whether it trains on cached features.
        layer_decay: the layer-wise decay of its rates, or None.
    """

    name: str
    model: keras.Model
    train: Any
    validation: Any
    epochs: int
    learning_rate: float
    optimizer: Callable[[], keras.optimizers.Optimizer]
    trainable_layers: int = 0
    feature_cache: bool = False
    layer_decay: float | None = None

    def run(
        self,
        whole: keras.Model,
        *,
        first_epoch: int,
        callbacks,
        early_stopping,
        verbose,
        first_batches,
    ) -> tuple[pd.DataFrame, dict[str, Any]]:
        """Compile and fit the stage; its history rows and its row of the stage table."""
        engine.compile_model(
            self.model,
            "classification",
            optimizer=self.optimizer,
            **distribute.compile_settings(self.model.distribute_strategy),
        )
        timer = engine.EpochTimer()
        used = engine.standard_callbacks(
            None,
            monitor="val_loss" if self.validation is not None else "loss",
            has_loss=True,
            early_stopping=early_stopping,
        )
        start = time.perf_counter()
        fitted = engine.fit(
            self.model,
            self.train,
            self.validation,
            epochs=self.epochs,
            callbacks=[timer, *used, *callbacks],
            verbose=verbose,
            first_batches=first_batches,
        )
        epochs = [first_epoch + e for e in fitted.epochs]
        frame = engine.history_frame(fitted.history, epochs, timer.seconds, stage=self.name)
        return frame, {
            "stage": self.name,
            "epochs": len(frame),
            "learning_rate": self.learning_rate,
            "layer_decay": self.layer_decay,
            "trainable_layers": self.trainable_layers,
            "trainable_params": int(sum(np.prod(w.shape) for w in whole.trainable_weights)),
            "feature_cache": self.feature_cache,
            "seconds": round(time.perf_counter() - start, 3),
        }


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
        >>> from zoo.transfer import demo
        >>> result = zoo.transfer.fine_tune(demo.CHECKPOINT, "digits", epochs=1,
        ...                                 fine_tune_epochs=1, save=False, verbose=0)
        >>> list(result.history["stage"])
        ['head', 'fine_tune']
    """
    from zoo.transfer.backbones import image_classifier

    checked = _check_arguments(locals())
    model, backbone_name, strat = _resolve_model(model, weights, strategy)
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
        if model.output_shape[-1] != data.num_classes:
            model = with_new_head(model, data.num_classes, dropout=dropout)
    backbone = find_backbone(model)
    checked["unfreeze"] = check_unfreeze(unfreeze, backbone)
    if fine_tune_epochs and checked["unfreeze"] is None:
        raise v.invalid(
            "unfreeze",
            "'all', a number of top layers or a layer name when fine_tune_epochs > 0",
            unfreeze,
        )
    options = data.options
    scale = 1.0 / options.scale if preprocessing_expects_raw(model) and options else 1.0
    scaled = _scaled_data(data, scale)  # back to raw 0-255 pixels where the model wants them
    if checked["cache_features"] is True and getattr(options, "augment", None):
        raise v.invalid(
            "cache_features",
            "False or 'auto' with augmented data (features change every epoch)",
            cache_features,
        )
    target = saving.resolve(output if output is not None else model.name)
    run = {
        "callbacks": checked["callbacks"],
        "early_stopping": early_stopping,
        "verbose": checked["verbose"],
        "first_batches": (
            engine.first_batch(data, "train"),
            engine.first_batch(data, "validation"),
        ),
    }
    frames, rows = [], []
    for make_stage in (_head_stage, _fine_tune_stage):
        stage = make_stage(model, backbone, scaled, checked, target.parent / CACHE_DIR, scale)
        if stage is not None:
            first_epoch = sum(len(frame) for frame in frames)
            frame, row = stage.run(model, first_epoch=first_epoch, **run)
            frames.append(frame)
            rows.append(row)
    if not model.compiled:  # only the head trained, on cached features
        engine.compile_model(
            model, "classification", optimizer=opt.factory(optimizer, checked["learning_rate"])
        )
    history = pd.concat(frames, ignore_index=True)
    evaluation = engine.evaluate(model, scaled, task="classification")
    path = None
    if save:
        card = _card(model, backbone_name, backbone, rows, checked)
        path = engine.finish(
            model,
            output if output is not None else model.name,
            history=history,
            confusion=evaluation.confusion,
            data=data.describe(),
            metrics=evaluation.metrics,
            fine_tuning={**card, "input_scale": scale, **distribute.describe(strat)},
        )
    return FineTuneResult(
        model,
        history,
        pd.DataFrame(rows),
        evaluation.metrics,
        evaluation.report,
        evaluation.confusion,
        path,
    )


def _card(model, backbone_name, backbone, rows, checked) -> dict[str, Any]:
    """The ``fine_tuning`` entry of a fine-tuned model's card."""
    spec = registry.get_spec(model) or {}
    arguments = spec.get("arguments", {})
    chosen, decay = checked["unfreeze"], checked["layer_decay"]
    return {
        "backbone": backbone_name or arguments.get("backbone") or backbone.name,
        "architecture": spec.get("architecture"),
        "weights": arguments.get("weights"),
        "stages": rows,
        "unfreeze": chosen if chosen is None or isinstance(chosen, (int, str)) else None,
        "layer_decay": decay,
        "layer_groups": checked["layer_groups"] if decay is not None else None,
        "train_batchnorm": checked["train_batchnorm"],
        "optimizer": checked["optimizer"],
        "seed": checked["seed"],
    }


def _resolve_model(model: Any, weights: Any, strategy: Any):
    """``(model or None, backbone name or None, strategy)`` for fine_tune's `model`."""
    from zoo.transfer.backbones import BACKBONES, canonical_name, resolve_weights

    if isinstance(model, str) and model in BACKBONES:
        name = canonical_name(model)  # a deprecated name warns once, the card gets the new
        resolve_weights(name, weights)  # missing weights fail before data loads
        return None, name, distribute.strategy(strategy)
    if isinstance(model, (str, os.PathLike)):
        model = _load_saved(model)
    elif not isinstance(model, keras.Model):
        raise v.invalid(
            "model",
            "a keras.Model, a saved zoo model's name or path, or a backbone name",
            type(model).__name__,
            TypeError,
        )
    return model, None, distribute.strategy_of_built(model, strategy, "a backbone name")


def _check_arguments(given: dict[str, Any]) -> dict[str, Any]:
    """fine_tune's arguments checked (before any slow work), with defaults filled in."""
    epochs = v.check_int("epochs", given["epochs"], minimum=0)
    fine_tune_epochs = v.check_int("fine_tune_epochs", given["fine_tune_epochs"], minimum=0)
    if epochs + fine_tune_epochs == 0:
        raise v.invalid(
            "epochs", "> 0 or fine_tune_epochs > 0 (nothing to train)", (epochs, fine_tune_epochs)
        )
    learning_rate = opt.check_learning_rate("learning_rate", given["learning_rate"])
    rate = given["fine_tune_learning_rate"]
    rate = opt.check_learning_rate(
        "fine_tune_learning_rate", learning_rate / 10 if rate is None else rate
    )
    layer_decay = given["layer_decay"]
    if layer_decay is not None:
        layer_decay = v.check_float("layer_decay", layer_decay)
        if not 0 < layer_decay <= 1:
            raise v.invalid("layer_decay", "None or a factor in (0, 1]", layer_decay)
    v.check_bool("train_batchnorm", given["train_batchnorm"])
    v.check_choice("optimizer", given["optimizer"], opt.NAMES)
    v.check_rate("dropout", given["dropout"])
    v.check_bool("save", given["save"])
    return {
        "epochs": epochs,
        "fine_tune_epochs": fine_tune_epochs,
        "learning_rate": learning_rate,
        "fine_tune_learning_rate": rate,
        "layer_decay": layer_decay,
        "layer_groups": v.check_int("layer_groups", given["layer_groups"], minimum=1),
        "train_batchnorm": given["train_batchnorm"],
        "optimizer": given["optimizer"],
        "cache_features": v.check_choice(
            "cache_features", given["cache_features"], ("auto", True, False)
        ),
        "early_stopping": v.check_int(
            "early_stopping", given["early_stopping"], minimum=0, allow_none=True
        ),
        "callbacks": v.check_callbacks(given["callbacks"]),
        "unfreeze": given["unfreeze"],
        "seed": v.check_int("seed", given["seed"], minimum=0),
        "verbose": v.check_verbose(given["verbose"]),
    }


def _head_stage(model, backbone, data, checked, cache_dir: Path, scale: float) -> Stage | None:
    """The head stage (backbone frozen), on cached features where it can; None if skipped."""
    if not checked["epochs"]:
        return None
    backbone.trainable = False
    strat = model.distribute_strategy
    rate, name = checked["learning_rate"], checked["optimizer"]
    make = opt.factory(name, rate)
    split = None
    if checked["cache_features"] is not False and not getattr(data.options, "augment", None):
        with strat.scope():  # the head model then trains under the same strategy
            split = feature_split(model, backbone)
        if split is None and checked["cache_features"] is True:
            raise v.invalid(
                "cache_features",
                "False or 'auto' for a model whose backbone output cannot be cut "
                "(not a functional graph with one backbone output)",
                True,
            )
    if split is None:
        return Stage("head", model, data.train, data.validation, checked["epochs"], rate, make)
    extractor, head = split
    pipelines = []
    for name_of_split, shuffle in (("train", True), ("validation", False)):
        dataset = getattr(data, name_of_split)
        if dataset is None:
            pipelines.append(None)
            continue
        key = feature_cache.cache_key(extractor, data, name_of_split, scale)
        arrays = feature_cache.features(extractor, dataset, cache_dir, key, checked["verbose"])
        pipelines.append(
            feature_cache.feature_dataset(*arrays, data.batch_size, shuffle, checked["seed"])
        )
    return Stage("head", head, *pipelines, checked["epochs"], rate, make, feature_cache=True)


def _fine_tune_stage(model, backbone, data, checked, cache_dir: Path, scale: float) -> Stage | None:
    """The fine-tuning stage (backbone unfrozen, lower rates); None if skipped."""
    del cache_dir, scale  # the backbone changes: no cached features here
    if not checked["fine_tune_epochs"]:
        return None
    count = unfreeze(backbone, checked["unfreeze"], checked["train_batchnorm"])
    rate, decay = checked["fine_tune_learning_rate"], checked["layer_decay"]
    make = opt.factory(checked["optimizer"], rate)
    if decay is not None:
        with model.distribute_strategy.scope():
            made = layerwise_optimizer(
                model,
                checked["optimizer"],
                rate,
                backbone=backbone,
                decay=decay,
                groups=checked["layer_groups"],
            )
        make = opt.factory(made)
    return Stage(
        "fine_tune",
        model,
        data.train,
        data.validation,
        checked["fine_tune_epochs"],
        rate,
        make,
        trainable_layers=count,
        layer_decay=decay,
    )


def _scaled_data(data, scale: float):
    """`data` with its images multiplied by `scale` (1: unchanged)."""
    if scale == 1.0:
        return data

    def scaled(dataset):
        return None if dataset is None else dataset.map(lambda x, y: (x * scale, y))

    return dataclasses.replace(
        data, train=scaled(data.train), validation=scaled(data.validation), test=scaled(data.test)
    )


def _load_data(data: Any, model: keras.Model | None, backbone_name: str | None):
    from zoo.data import Data, load
    from zoo.transfer.backbones import BACKBONES

    if isinstance(data, Data):
        return data
    if model is not None and getattr(model, "preprocessor", None) is not None:
        return load(data, tokenize=False)  # keras-hub tasks tokenize raw strings themselves
    raw = backbone_name is not None or (model is not None and preprocessing_expects_raw(model))
    if not raw:
        return load(data)
    if model is not None:
        size = tuple(model.input_shape[1:3])
    else:
        size = (BACKBONES[backbone_name].default_size,) * 2
    return load(data, rescale=False, image_size=size)


def _load_saved(name_or_path: Any) -> keras.Model:
    """A saved zoo model by name or path, or one of zoo's shipped checkpoints."""
    from zoo.architectures.pretrained.checkpoints import CHECKPOINTS, shipped_models_dir
    from zoo.transfer.backbones import BACKBONES

    path = saving.resolve(name_or_path)
    if not path.exists() and isinstance(name_or_path, str) and name_or_path in CHECKPOINTS:
        path = shipped_models_dir() / name_or_path
    if not path.exists():
        raise v.unknown_name(
            "backbone or saved model",
            str(name_or_path),
            list(BACKBONES) + list(CHECKPOINTS) + _saved_names(),
            hint=f"Pass a backbone name (zoo.transfer.list_backbones()), a folder under "
            f"{saving.saved_models_dir()} or a path to a saved zoo model.",
        )
    return saving.load(path)


def _saved_names() -> list[str]:
    folder = saving.saved_models_dir()
    if not folder.is_dir():
        return []
    return [p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")]
