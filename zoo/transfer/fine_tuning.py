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

Raw input in, network input inside: a model made by
:func:`zoo.layers.preprocessing.attach` (a zoo model trained from scratch, loaded from
disk) is split, its network fine-tuned on the data's pipelines, and the result is
``attach(network, data.preprocessor)``; a transfer classifier that normalises raw
0-255 pixels itself gets 0-255 pipelines and ``data.make_preprocessor(rescale=False)``
(only the resizing, when the data was resized). Either way the returned and saved model
takes raw 0-255 pixels. Before any of that, the data's images are checked against the
model's input and adapted or refused (:mod:`zoo.transfer.adapting`); a head stage whose
loss does not move warns.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pandas as pd

from zoo import _validation as v
from zoo import distribute, engine, registry, saving
from zoo import optimizers as opt
from zoo.engine.inputs import takes_raw_pixels
from zoo.layers.preprocessing import split
from zoo.transfer import adapting, feature_cache
from zoo.transfer.feature_cache import CACHE_DIR
from zoo.transfer.layerwise import layerwise_optimizer
from zoo.transfer.surgery import (
    check_unfreeze,
    feature_split,
    find_backbone,
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
        model: the fine-tuned model, taking raw input (0-255 pixels): the data's
            preprocessing in front of the fine-tuned network
            (:func:`zoo.layers.preprocessing.split` takes them apart).
        history: one row per epoch with a ``stage`` column (``head``/``fine_tune``).
        stages: one row per stage: epochs, learning rate, trainable parameters,
            whether the feature cache was used, seconds.
        metrics: test metrics (validation metrics when there is no test split).
        report: per-class report (classification).
        confusion: confusion matrix (classification).
        path: where the model and its card were saved (None with ``save=False``).
        predictions: the outputs the metrics were computed from, on the test split
            (else validation) in its pipeline order.
    """

    model: Any
    history: pd.DataFrame
    stages: pd.DataFrame
    metrics: dict[str, float]
    report: pd.DataFrame | None
    confusion: pd.DataFrame | None
    path: Path | None
    predictions: np.ndarray | None = dataclasses.field(default=None, repr=False)

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
        worker_train: under multi-worker training, ``(workers, index, replicas) ->``
            that worker's share of the training images
            (:meth:`zoo.data.Data.worker_train`); None for cached features, which
            every worker reads whole and keeps its rows of (sharded by data).
        sharding: how `worker_train` splits the images, ``"file"`` or ``"data"``
            (:attr:`zoo.data.Data.sharding`), for the stage's row on the card.
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
    worker_train: Callable[[int, int, int], Any] | None = None
    sharding: str = "data"

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
            **distribute.compile_settings(distribute.strategy_of(self.model)),
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
            worker_train=self.worker_train,
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
            **self._sharding(),
        }

    def _sharding(self) -> dict[str, str]:
        """How a multi-worker run split the stage's training data, for its row."""
        strat = distribute.strategy_of(self.model)
        if not distribute.is_multiworker(strat):
            return {}
        if self.worker_train is None or distribute.describe(strat)["backend"] == "jax":
            return {"sharding": "data"}
        return {"sharding": self.sharding}


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
    image_size: Any = None,
    strategy: Any = "auto",
    callbacks: list[Any] | None = None,
    output: str | os.PathLike | None = None,
    save: bool = True,
    seed: int = 0,
    verbose: Any = "auto",
) -> FineTuneResult:
    """Fine-tune a pretrained model on new data: head first, then the backbone.

    The data's images are checked against the model's input first, before any
    backbone is built or any feature computed (:mod:`zoo.transfer.adapting`): a
    mismatch is adapted (resized, grey turned RGB; one printed line says so) or refused
    with an error naming both shapes and the ``image_size=`` fix.

    Args:
        model: a ``keras.Model`` with a backbone (see :func:`find_backbone`), also one
            that takes raw input (``zoo.layers.preprocessing.attach``), the name or
            path of a saved zoo model, or a backbone name from
            :func:`zoo.transfer.list_backbones` (an image classifier is built for the
            data, at its resolution). A head with the wrong number of classes is
            replaced.
        data: a ``zoo.data.Data`` or any source ``zoo.data.load`` accepts. A source is
            loaded to fit the model (image folders at its size and colours); a Data is
            adapted only where nothing is lost (grey to RGB, upsampling).
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
            weights, the data's fingerprint, the split and how images were adapted.
        early_stopping: patience on validation loss per stage (best weights
            restored); None trains every epoch.
        dropout: dropout before a new head.
        weights: backbone weights when ``model`` is a backbone name.
        image_size: (height, width), or an int for squares, to build a backbone given
            by name at (default: the data's resolution, or the backbone's smallest
            input, 32 for most and 71/75 for Xception/InceptionV3, if the images are
            smaller); for a model that takes any size, the size images are brought
            to. The size is printed and written on the card.
        strategy: a ``zoo.distribute.strategy`` kind or Strategy (the model is built
            or loaded in its scope when ``model`` is a name or path; a
            ``keras.Model`` keeps the strategy it was built in: leave ``"auto"``).
        callbacks: extra Keras callbacks for both stages.
        output: name under ``saved_models/`` or folder (default: the model's name).
        save: save the model with a card recording backbone, weights, image size,
            adaptations, stages and learning rates.
        seed: random seed.
        verbose: Keras verbosity (``"auto"``: progress bars in a terminal).

    Returns:
        A :class:`FineTuneResult` (history has a ``stage`` column); its model takes
        raw 0-255 pixels.

    Raises:
        ValueError / TypeError: for invalid arguments or data that do not fit the
            model, before any training.

    Warns:
        UserWarning: when the head stage's loss does not move in its first epochs
            (degenerate features: wrong pixel scale or resolution; or the rate).

    Example:
        >>> from zoo.transfer import demo
        >>> result = zoo.transfer.fine_tune(demo.CHECKPOINT, "digits", epochs=1,
        ...                                 fine_tune_epochs=1, save=False, verbose=0)
        >>> list(result.history["stage"])
        ['head', 'fine_tune']
        >>> result.model.input_shape  # raw 0-255 pixels in
        (None, 8, 8, 1)
    """
    checked = _check_arguments(locals())
    model, backbone_name, strat = _resolve_model(model, weights, strategy)
    preprocessor, network = (None, None) if model is None else split(model)
    checked["image_size"] = _check_image_size(image_size, network, backbone_name)
    keras.utils.set_random_seed(seed)
    data, loaded_here, read_as = _load_data(data, network, backbone_name, checked["image_size"])
    if data.task != "classification":
        raise v.invalid("data", "classification data", data.task)
    with strat.scope():
        if network is None:
            network, adaptation = _build_for_data(backbone_name, data, checked, weights, dropout)
        else:
            adaptation = _adaptation(network, preprocessor, data, loaded_here, checked, read_as)
        if network.output_shape[-1] != data.num_classes:
            network = with_new_head(network, data.num_classes, dropout=dropout)
    backbone = find_backbone(network)
    checked["unfreeze"] = check_unfreeze(unfreeze, backbone)
    if fine_tune_epochs and checked["unfreeze"] is None:
        raise v.invalid(
            "unfreeze",
            "'all', a number of top layers or a layer name when fine_tune_epochs > 0",
            unfreeze,
        )
    options = data.options
    if checked["cache_features"] is True and getattr(options, "augment", None):
        raise v.invalid(
            "cache_features",
            "False or 'auto' with augmented data (features change every epoch)",
            cache_features,
        )
    fitting = engine.prepare(network, data)  # 0-255 pipelines for raw-pixel classifiers
    fitted = adaptation.pipelines(fitting.data)
    raw_input = adaptation.preprocessor(fitting.preprocessor, data.input_shape)
    pipeline = {"input_scale": _input_scale(network, data), "adapted": adaptation.describe()}
    target = saving.resolve(output if output is not None else network.name)
    run = {
        "callbacks": checked["callbacks"],
        "early_stopping": early_stopping,
        "verbose": checked["verbose"],
        "first_batches": (
            engine.first_batch(fitted, "train"),
            engine.first_batch(fitted, "validation"),
        ),
    }
    frames, rows = [], []
    for make_stage in (_head_stage, _fine_tune_stage):
        stage = make_stage(network, backbone, fitted, checked, target.parent / CACHE_DIR, pipeline)
        if stage is not None:
            first_epoch = sum(len(frame) for frame in frames)
            frame, row = stage.run(network, first_epoch=first_epoch, **run)
            frames.append(frame)
            rows.append(row)
            if stage.name == "head":
                _check_head_learns(frame, data.num_classes, stage.learning_rate)
    if not network.compiled:  # only the head trained, on cached features
        engine.compile_model(
            network, "classification", optimizer=opt.factory(optimizer, checked["learning_rate"])
        )
        with strat.scope():  # built, so that it saves and loads whole with the network
            network.optimizer.build(network.trainable_variables)
    history = pd.concat(frames, ignore_index=True)
    evaluation = engine.evaluate(network, fitted, task="classification")
    with strat.scope():  # the network stays compiled inside (its optimizer saves with it)
        whole = engine.Fitting(network, fitted, raw_input).deployable("classification")
    path = None
    if save:
        card = _card(network, backbone_name, backbone, rows, checked)
        path = engine.finish(
            whole,
            output if output is not None else network.name,
            history=history,
            confusion=evaluation.confusion,
            data=data.describe(),
            metrics=evaluation.metrics,
            fine_tuning={**card, **pipeline, **distribute.describe(strat)},
        )
    return FineTuneResult(
        whole,
        history,
        pd.DataFrame(rows),
        evaluation.metrics,
        evaluation.report,
        evaluation.confusion,
        path,
        evaluation.predictions,
    )


def _card(model, backbone_name, backbone, rows, checked) -> dict[str, Any]:
    """The ``fine_tuning`` entry of a fine-tuned model's card."""
    spec = registry.get_spec(model) or {}
    arguments = spec.get("arguments", {})
    chosen, decay = checked["unfreeze"], checked["layer_decay"]
    shape = model.input_shape
    image = isinstance(shape, tuple) and len(shape) == 4
    return {
        "backbone": backbone_name or arguments.get("backbone") or backbone.name,
        "architecture": spec.get("architecture"),
        "weights": arguments.get("weights"),
        "image_size": list(shape[1:3]) if image else None,
        "stages": rows,
        "unfreeze": chosen if chosen is None or isinstance(chosen, (int, str)) else None,
        "layer_decay": decay,
        "layer_groups": checked["layer_groups"] if decay is not None else None,
        "train_batchnorm": checked["train_batchnorm"],
        "optimizer": checked["optimizer"],
        "seed": checked["seed"],
    }


def _input_scale(network: keras.Model, data) -> float:
    """The factor from the pipelines' pixels to what the network takes (255 for 0-255)."""
    described = data.inputs
    if described.get("kind") == "image" and takes_raw_pixels(network):
        return 1.0 / described.get("scale", 1.0)
    return 1.0


def _image_shape(network: keras.Model) -> tuple[Any, ...] | None:
    """The (height, width, channels) a network takes, or None if not one image input."""
    shape = getattr(network, "input_shape", None)
    if (
        isinstance(shape, tuple)
        and len(shape) == 4
        and all(d is None or isinstance(d, int) for d in shape)
    ):
        return tuple(shape[1:])
    return None


def _check_image_size(image_size: Any, network: keras.Model | None, backbone_name: str | None):
    """`image_size` checked against what it applies to (before any data loads)."""
    from zoo.transfer.backbones import BACKBONES

    if backbone_name is not None:
        minimum = BACKBONES[backbone_name].min_size
        return adapting.check_image_size(image_size, minimum, backbone_name)
    size = adapting.check_image_size(image_size, None, None)
    if size is None or network is None:
        return size
    shape = _image_shape(network)
    free = shape is not None and (shape[0] is None or shape[1] is None)
    if not free and (shape is None or size != shape[:2]):
        taken = "not images" if shape is None else f"{shape[0]}x{shape[1]} images"
        raise v.invalid(
            "image_size",
            f"None for this model, which takes {taken} (image_size sets the size of a "
            "backbone given by name, or of a model that takes images of any size)",
            image_size,
        )
    return size


def _model_shape(network: keras.Model, image_size: Any) -> tuple[Any, ...] | None:
    """The network's image shape, its free height and width set by `image_size`."""
    shape = _image_shape(network)
    if shape is None or image_size is None:
        return shape
    return (shape[0] or image_size[0], shape[1] or image_size[1], shape[2])


def _build_for_data(backbone_name: str, data, checked, weights, dropout):
    """An image classifier for the data, at its resolution; and how the data fits it."""
    from zoo.transfer.backbones import BACKBONES, image_classifier

    spec = BACKBONES[backbone_name]
    size, why = adapting.backbone_size(
        data.input_shape, backbone_name, spec.min_size, checked["image_size"]
    )
    adaptation = adapting.plan(data.input_shape, (*size, 3), permissive=True)
    line = f"fine_tune: {backbone_name} at {size[0]}x{size[1]} ({why})"
    if adaptation:
        line += f"; the data's images are {adapting.describe(adaptation, data.input_shape)}"
    print(line)
    with warnings.catch_warnings():
        # keras.applications' MobileNets warn at any size but 224 (96-224 for V2) that
        # they load the 224 weights: the convolutions' weights fit every size.
        warnings.filterwarnings("ignore", message=".*will be loaded as the default")
        model = image_classifier(
            backbone_name,
            data.num_classes,
            weights=weights,
            input_shape=(*size, 3),
            dropout=dropout,
        )
    return model, adaptation


def _adaptation(network, preprocessor, data, loaded_here, checked, read_as):
    """How the data is made to fit a given network (printed when it changes anything)."""
    if getattr(network, "preprocessor", None) is not None:  # keras-hub: raw strings
        return adapting.Adaptation()
    shape = _model_shape(network, checked["image_size"])
    if shape is None:  # not one image input: the shapes must agree as they are
        given = getattr(network, "input_shape", None)
        if isinstance(given, tuple) and all(d is None or isinstance(d, int) for d in given):
            return adapting.plan(data.input_shape, given[1:], permissive=False)
        return adapting.Adaptation()
    factor = _pixel_factor(network, preprocessor, data)
    adaptation = adapting.plan(data.input_shape, shape, permissive=loaded_here, factor=factor)
    done = [f"{read_as} as they are loaded"] if read_as else []
    if adaptation:
        done.append(
            f"{adapting.describe(adaptation, data.input_shape)} in the pipelines and in the "
            "saved model's preprocessing"
        )
    if done:
        print(
            f"fine_tune: the model takes {adapting.describe_shape(shape)} images; the data's "
            f"images are {'; and '.join(done)}"
        )
    return adaptation


def _pixel_factor(network, preprocessor, data) -> float:
    """The factor from the data's pixel scale to the one a raw-input model's network had.

    1 when they agree, or when nothing says otherwise (no preprocessor, not images, a
    network that takes 0-255 pixels itself).
    """
    described = data.inputs
    if preprocessor is None or described.get("kind") != "image" or takes_raw_pixels(network):
        return 1.0
    trained = 1.0
    for layer in _all_layers(preprocessor):
        if isinstance(layer, keras.layers.Rescaling):
            if np.any(np.asarray(layer.offset) != 0):
                return 1.0
            trained *= float(np.asarray(layer.scale))
    factor = trained / described.get("scale", 1.0)
    return 1.0 if math.isclose(factor, 1.0, rel_tol=1e-6) else factor


def _all_layers(model: keras.Model) -> list[Any]:
    layers = []
    for layer in model.layers:
        layers.append(layer)
        if isinstance(layer, keras.Model):
            layers.extend(_all_layers(layer))
    return layers


FLAT_EPOCHS = 3
FLAT_TOLERANCE = 1e-3


def _check_head_learns(frame: pd.DataFrame, num_classes: int, learning_rate: float) -> None:
    """Warn when the head's loss does not move in its first epochs, far from fitting.

    A head on degenerate features (the same for every image) can only learn the
    class frequencies: its loss sits at chance level (ln 3 = 1.0986 on 3 balanced
    classes) from the first epoch on. Fires when the training loss of the first
    :data:`FLAT_EPOCHS` epochs (at least 2) varies by less than :data:`FLAT_TOLERANCE`
    of its mean while that mean is still at least half the chance level.
    """
    if "loss" not in frame:
        return
    losses = frame["loss"].to_numpy(dtype="float64")[:FLAT_EPOCHS]
    if len(losses) < 2 or not np.isfinite(losses).all():
        return
    chance = math.log(max(int(num_classes or 2), 2))
    mean = float(losses.mean())
    if losses.max() - losses.min() > FLAT_TOLERANCE * mean or mean < 0.5 * chance:
        return
    shown = ", ".join(f"{loss:.4f}" for loss in losses)
    warnings.warn(
        f"zoo.transfer.fine_tune: the head's training loss did not move in its first "
        f"{len(losses)} epochs ({shown}; chance level is ln({num_classes}) = {chance:.4f}). "
        "The backbone's features are likely degenerate, the same for every image: check "
        "the pixel scale the model expects (zoo's transfer classifiers take raw 0-255 "
        "pixels; a network zoo trained takes what its data pipelines yield), the "
        "resolution (images far smaller or larger than the backbone was trained on) and "
        "the weights (a backbone with random weights, weights=None, gives such features). "
        f"Otherwise the learning rate ({learning_rate:g}) may be too low or too high.",
        UserWarning,
        stacklevel=3,
    )


def _resolve_model(model: Any, weights: Any, strategy: Any):
    """``(model or None, backbone name or None, strategy)`` for fine_tune's `model`."""
    from zoo.transfer.backbones import BACKBONES, canonical_name, resolve_weights

    if isinstance(model, str) and model in BACKBONES:
        name = canonical_name(model)  # a deprecated name warns once, the card gets the new
        resolve_weights(name, weights)  # missing weights fail before data loads
        return None, name, distribute.strategy(strategy)
    if isinstance(model, (str, os.PathLike)):  # loaded inside the strategy's scope
        strat = distribute.strategy(strategy)
        with strat.scope():
            return _load_saved(model), None, strat
    if not isinstance(model, keras.Model):
        raise v.invalid(
            "model",
            "a keras.Model, a saved zoo model's name or path, or a backbone name",
            type(model).__name__,
            TypeError,
        )
    return (
        model,
        None,
        distribute.strategy_of_built(
            model, strategy, "a backbone name, or the saved model's name or path"
        ),
    )


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
    if given["image_size"] is not None:
        adapting.check_image_size(given["image_size"], None, None)
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


def _head_stage(model, backbone, data, checked, cache_dir: Path, pipeline) -> Stage | None:
    """The head stage (backbone frozen), on cached features where it can; None if skipped."""
    if not checked["epochs"]:
        return None
    backbone.trainable = False
    strat = distribute.strategy_of(model)
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
        return Stage(
            "head",
            model,
            data.train,
            data.validation,
            checked["epochs"],
            rate,
            make,
            worker_train=data.worker_train,
            sharding=data.sharding,
        )
    extractor, head = split
    pipelines = []
    for name_of_split, shuffle in (("train", True), ("validation", False)):
        dataset = getattr(data, name_of_split)
        if dataset is None:
            pipelines.append(None)
            continue
        key = feature_cache.cache_key(extractor, data, name_of_split, pipeline)
        arrays = feature_cache.features(extractor, dataset, cache_dir, key, checked["verbose"])
        pipelines.append(
            feature_cache.feature_dataset(*arrays, data.batch_size, shuffle, checked["seed"])
        )
    return Stage("head", head, *pipelines, checked["epochs"], rate, make, feature_cache=True)


def _fine_tune_stage(model, backbone, data, checked, cache_dir: Path, pipeline) -> Stage | None:
    """The fine-tuning stage (backbone unfrozen, lower rates); None if skipped."""
    del cache_dir, pipeline  # the backbone changes: no cached features here
    if not checked["fine_tune_epochs"]:
        return None
    count = unfreeze(backbone, checked["unfreeze"], checked["train_batchnorm"])
    rate, decay = checked["fine_tune_learning_rate"], checked["layer_decay"]
    make = opt.factory(checked["optimizer"], rate)
    if decay is not None:
        with distribute.strategy_of(model).scope():
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
        worker_train=data.worker_train,
        sharding=data.sharding,
    )


def _load_data(data: Any, network: keras.Model | None, backbone_name: str | None, image_size):
    """``(Data, whether fine_tune loaded it, how a folder was read to fit or None)``.

    A source is loaded to fit the model: image folders at its size and colours (RGB,
    and `image_size` if given, for a backbone name), raw strings for keras-hub tasks.
    """
    from zoo.data import Data, load

    if isinstance(data, Data):
        return data, False, None
    if network is not None and getattr(network, "preprocessor", None) is not None:
        return load(data, tokenize=False), True, None  # keras-hub tasks tokenize themselves
    peeked = adapting.peek_folder(data)
    if peeked is None:
        return load(data), True, None
    if network is None:  # a backbone name: RGB, at the data's resolution or image_size
        options = {"color_mode": "rgb"}
        if image_size is not None:
            options["image_size"] = image_size
        return load(data, **options), True, None
    shape = _model_shape(network, image_size)
    if shape is None:
        return load(data), True, None
    options, read_as = adapting.folder_options(peeked, shape)
    return load(data, **options), True, read_as


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
