"""Training tasks: how ``zoo.train``, ``zoo.tune`` and ``zoo.evaluate`` treat a model.

- ``classification`` and ``regression``: zoo's losses and metrics; scored with
  scikit-learn (report, confusion matrix, R^2).
- ``autoencoder``: the inputs are the targets; an autoencoder or VAE uses its own
  ``compile()`` (reconstruction loss, and the KL term of a VAE).
- ``language_modeling``: token windows with next-token targets; cross-entropy and
  accuracy per token, scored with perplexity; a GPT uses its own ``compile()``.
- ``generative``: the model's own ``compile()`` and losses (GANs, diffusion).

This module says what each task means (losses, metrics, objectives, how data feeds
it); :mod:`zoo.engine` compiles, fits and scores with it.

A registered architecture implies its task (a VAE trains as an autoencoder on any
image data, a GPT as a language model), so ``zoo.train("vae_tiny", "digits")`` needs
no ``task``; an explicit ``task`` wins over both the architecture and the data.
"""

from __future__ import annotations

import math
from typing import Any

import keras

from zoo import _validation as v
from zoo import registry
from zoo._compat.keras import producing_layer

TASKS = ("classification", "regression", "autoencoder", "language_modeling", "generative")
SCORED_BY_SKLEARN = ("classification", "regression")

# A registered architecture's task column -> the training task it implies.
_ARCHITECTURE_TASKS = {
    "reconstruction": "autoencoder",
    "image generation": "generative",
    "language modeling": "language_modeling",
    "feature learning": "generative",  # RBMs: their own compile, labels ignored
}


def check(task: Any) -> str | None:
    """`task` if it is None or one of :data:`TASKS`."""
    return None if task is None else v.check_choice("task", task, TASKS)


def for_architecture(model_or_name: Any) -> str | None:
    """The task a registered name (or a model zoo built) implies; None if it has none."""
    name = None
    if isinstance(model_or_name, str):
        name = registry.find(model_or_name, warn=False)
    elif isinstance(model_or_name, keras.Model):
        name = registry.find(
            (registry.get_spec(model_or_name) or {}).get("architecture"), warn=False
        )
    if name is None:
        return None
    return _ARCHITECTURE_TASKS.get(registry.get_entry(name).task)


def resolve(task: str | None, model_or_name: Any, data: Any) -> str:
    """The task to train with: explicit, else the architecture's, else the data's.

    Raises:
        ValueError: for a language-modelling task on other data, or the reverse.
    """
    task = check(task) or for_architecture(model_or_name) or data.task
    if (task == "language_modeling") != (data.task == "language_modeling"):
        raise v.invalid(
            "data",
            "language-modelling data (zoo.data.load(text, task='language_modeling')) for "
            "task='language_modeling', and only for it",
            f"{data.task} data for task={task!r}",
        )
    return task


def data_task(task: str | None, model_or_name: Any) -> str | None:
    """The ``zoo.data.load`` task for a source the model will train on (None: infer)."""
    task = check(task) or for_architecture(model_or_name)
    return "language_modeling" if task == "language_modeling" else None


def feed(dataset: Any, task: str, input_range: Any = None, *, model: Any = None) -> Any:
    """A split's ``(x, y)`` pipeline as the task trains on it.

    An autoencoder gets ``(x, x)`` (sample weights, a third element, are kept). A
    model whose ``input_range`` attribute is ``(-1, 1)`` (GANs, diffusion; pass it as
    `input_range`, or pass the `model`) gets images in [-1, 1]: zoo.data's images are
    in [0, 1] and are mapped there; images already with negative values are left as
    they are; values above 1 (0-255 pixels) fail with what to pass instead.

    Given the `model`, a generative model whose ``uses_labels`` attribute is False (an
    unconditional GAN) gets the images alone, whatever labels the data has; one whose
    ``uses_labels`` is True (a conditional GAN) gets ``(images, labels)`` and fails
    here, before training, on data without integer class ids.

    Example:
        >>> import tensorflow as tf
        >>> pairs = tf.data.Dataset.from_tensor_slices((np.ones((4, 8, 8, 1)), np.arange(4)))
        >>> images = feed(pairs.batch(2), "generative", model=zoo.build("dcgan_tiny"))
        >>> images.element_spec.shape.as_list(), float(next(iter(images)).numpy().max())
        ([None, 8, 8, 1], 1.0)
    """
    if dataset is None:
        return dataset
    if task == "autoencoder":
        return dataset.map(lambda x, y, *weights: (x, x, *weights))
    if model is not None and input_range is None:
        input_range = getattr(model, "input_range", None)
    uses_labels = getattr(model, "uses_labels", None) if task == "generative" else None
    if uses_labels is True:
        _check_class_ids(dataset)
    elif uses_labels is False and isinstance(dataset.element_spec, tuple):
        dataset = dataset.map(lambda x, *rest: x)
    if input_range is not None and tuple(input_range) == (-1.0, 1.0):
        dataset = _to_symmetric_range(dataset)
    return dataset


def _check_class_ids(dataset: Any) -> None:
    spec = dataset.element_spec
    labels = spec[1] if isinstance(spec, tuple) and len(spec) > 1 else None
    dtype = None if labels is None else keras.backend.standardize_dtype(labels.dtype)
    if dtype is None or "int" not in dtype:
        raise v.invalid(
            "data",
            "labelled data (integer class ids) for a conditional GAN, such as a "
            "classification dataset; train an unconditional GAN (without "
            "conditional=True) on unlabelled images",
            "no labels" if dtype is None else f"{dtype} targets",
        )


def _to_symmetric_range(dataset: Any) -> Any:
    import numpy as np

    pairs = isinstance(dataset.element_spec, tuple)
    x = np.asarray(next(iter(dataset))[0] if pairs else next(iter(dataset)))
    low, high = float(x.min()), float(x.max())
    if high > 1.0 + 1e-6:
        raise v.invalid(
            "data",
            "images in [0, 1] or [-1, 1] for a GAN or diffusion model (load image folders "
            "and TFDS images with rescale=True, or scale arrays yourself)",
            f"images with values from {low:g} to {high:g}",
        )
    if low < 0.0:
        return dataset
    if not pairs:
        return dataset.map(lambda x: x * 2.0 - 1.0)
    return dataset.map(lambda x, *rest: (x * 2.0 - 1.0, *rest))


def outputs_logits(model: keras.Model) -> bool:
    """Whether a classifier's output layer leaves its scores unnormalised (logits).

    True when the layer that produces the output has a linear activation, as the
    heads of keras-hub classifiers do; False for softmax or sigmoid outputs and for
    models whose output layer cannot be told.
    """
    try:
        layer = producing_layer(model.outputs[0])
    except (AttributeError, IndexError, TypeError, ValueError):
        return False
    if getattr(layer, "produces_logits", False):  # a tied output embedding, say
        return True
    activation = getattr(layer, "activation", None)
    return getattr(activation, "__name__", None) == "linear"


def uses_own_compile(model: keras.Model, task: str) -> bool:
    """Whether the model compiles itself for `task` (zoo's generative families do)."""
    own = type(model).compile is not keras.Model.compile
    return task == "generative" or (own and task in ("autoencoder", "language_modeling"))


def losses_and_metrics(model: keras.Model, task: str) -> tuple[Any, list[Any]]:
    """The loss and metrics zoo compiles a plain model with for `task`."""
    logits = outputs_logits(model)
    if task == "classification":
        units = model.output_shape[-1] if isinstance(model.output_shape, tuple) else None
        if units == 1:
            threshold = 0.0 if logits else 0.5
            return keras.losses.BinaryCrossentropy(from_logits=logits), [
                keras.metrics.BinaryAccuracy(name="accuracy", threshold=threshold)
            ]
        return keras.losses.SparseCategoricalCrossentropy(from_logits=logits), ["accuracy"]
    if task == "regression":
        return keras.losses.MeanSquaredError(), [
            keras.metrics.MeanAbsoluteError(name="mae"),
            keras.metrics.RootMeanSquaredError(name="rmse"),
        ]
    if task == "language_modeling":
        return keras.losses.SparseCategoricalCrossentropy(from_logits=logits), [
            keras.metrics.SparseCategoricalAccuracy(name="accuracy")
        ]
    if task == "autoencoder":
        return keras.losses.MeanSquaredError(), [keras.metrics.MeanAbsoluteError(name="mae")]
    raise v.invalid("task", "a task zoo compiles plain models for", task)


def optimizers(model: keras.Model) -> list[Any]:
    """The optimizers a compiled model trains with (a GAN's two, else one)."""
    found = [getattr(model, n, None) for n in ("d_optimizer", "g_optimizer")]
    found = [opt for opt in found if opt is not None]
    return found or [model.optimizer]


def objectives(task: str, model: keras.Model | None, has_validation: bool) -> list[str]:
    """The metric names a search on `task` can optimise (``val_`` ones with validation).

    `model` is a compiled probe of the architecture, whose own metrics (a VAE's
    ``kl_loss``, a GAN's ``d_loss``, ``g_loss`` and held-out ``mmd``) are added.
    """
    base = {
        "classification": ["loss", "accuracy"],
        "language_modeling": ["loss", "accuracy"],
        "regression": ["loss", "mae", "rmse"],
        "autoencoder": ["loss", "mae"],
    }
    names = list(base.get(task, []))
    if model is not None:
        names += [m.name for m in model.metrics if m.name != "compile_metrics"]
    names = list(dict.fromkeys(names))
    held_out = getattr(model, "held_out_metrics", ())
    trained = [name for name in names if name not in held_out]
    return trained + ([f"val_{name}" for name in names] if has_validation else [])


def default_objective(task: str, model: keras.Model | None = None) -> str:
    """What a search minimises or maximises by default (before any ``val_`` prefix)."""
    if task == "classification":
        return "accuracy"
    return getattr(model, "default_objective", "loss")


def add_scores(metrics: dict[str, float], task: str) -> dict[str, float]:
    """Task scores derived from Keras's metrics: a language model's perplexity."""
    if task == "language_modeling" and "loss" in metrics:
        metrics["perplexity"] = math.exp(min(metrics["loss"], 700.0))
    return metrics
