"""zoo's shipped checkpoints as rows of the catalogue.

A shipped checkpoint is a model zoo trained and ships as package data under
``zoo/checkpoints/<name>/`` (``model.keras`` with its card, whose SHA-256 it must match):
``zoo.build(name)`` loads it (uncompiled), and ``num_classes=`` puts a new head on its
``"backbone"`` sub-model.
``zoo.load(name)`` and ``zoo.transfer.fine_tune(name, data)`` read the same folder.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import keras

from zoo import _archive, _catalogue
from zoo import _validation as v
from zoo._compat.keras import inbound_nodes
from zoo.architectures import _common
from zoo.layers.preprocessing import attach, split

MODEL_FILE = "model.keras"


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    """One shipped checkpoint.

    Attributes:
        family: the family column of the catalogue.
        task: the task column.
        description: one line for the table.
        weights: what its weights were trained on.
        script: the script that remakes it, named in errors about a missing or
            damaged copy.
    """

    family: str
    task: str
    description: str
    weights: str
    script: str = "scripts/make_pretrained_checkpoint.py"


CHECKPOINTS: dict[str, Checkpoint] = {
    "digits_convnet_pretrained": Checkpoint(
        "cnn",
        "image classification",
        "zoo's convnet backbone with a 64-unit embedding, pretrained on the ten 8x8 digits "
        "(remake: scripts/make_pretrained_checkpoint.py).",
        "digits 0-9, half A of the bundled 8x8 digits",
    ),
    "fashion_convnet_pretrained": Checkpoint(
        "cnn",
        "image classification",
        "zoo's convnet backbone (32-64, batch norm) with a 64-unit embedding, pretrained on "
        "Fashion-MNIST, 28x28 grey (remake: scripts/make_fashion_checkpoint.py).",
        "Fashion-MNIST, official 60,000-image training split",
        "scripts/make_fashion_checkpoint.py",
    ),
}
"""The shipped checkpoints, by name (the folder under ``zoo/checkpoints/``)."""

ROW_SEARCH_SPACE: dict[str, Any] = {
    "dropout": {"min": 0.0, "max": 0.5, "step": 0.1},
    "learning_rate": {"min": 1e-4, "max": 1e-2, "sampling": "log"},
}


def shipped_models_dir() -> Path:
    """Where shipped checkpoints live: ``zoo/checkpoints/``, inside the installed package."""
    return Path(__file__).resolve().parents[2] / "checkpoints"


def checkpoint_file(name: str) -> Path:
    """The ``model.keras`` of a shipped checkpoint.

    Raises:
        ValueError: an unknown name, or a checkpoint missing from this installation
            (with how to remake it).
    """
    if name not in CHECKPOINTS:
        raise v.unknown_name("checkpoint", name, CHECKPOINTS)
    path = shipped_models_dir() / name / MODEL_FILE
    if not path.is_file():
        raise v.ArgumentValueError(
            f"zoo's shipped checkpoint {name!r} is missing: expected {path}. Remake it with "
            f"`python {CHECKPOINTS[name].script}`. Received: checkpoint={name!r}"
        )
    _verify(name, path)
    return path


def _verify(name: str, path: Path) -> None:
    """Refuse a shipped checkpoint whose archive is damaged or differs from its card."""
    found = _archive.problem(path)
    card_file = path.parent / "zoo.json"
    if found is None and card_file.is_file():
        try:
            expected = json.loads(card_file.read_text(encoding="utf-8")).get("sha256")
        except (ValueError, AttributeError) as error:
            found = f"its card {card_file} cannot be read ({type(error).__name__})"
        else:
            actual = _archive.sha256(path)
            if isinstance(expected, str) and actual != expected:
                found = f"its SHA-256 is {actual}, its card records {expected}"
    if found is not None:
        raise v.DamagedFileError(
            f"zoo's shipped checkpoint {name!r} is damaged: {path}: {found}. Reinstall zoo, "
            f"or remake it with `python {CHECKPOINTS[name].script}`. "
            f"Received: checkpoint={name!r}"
        )


def load_checkpoint(
    checkpoint: str,
    num_classes: int | None = None,
    *,
    dropout: float = 0.2,
    head_activation: Any = None,
    name: str | None = None,
) -> keras.Model:
    """Load a shipped checkpoint, uncompiled, optionally with a new head.

    Args:
        checkpoint: a name from :data:`CHECKPOINTS`.
        num_classes: None keeps the checkpoint's own head; a number puts a fresh head
            (dropout, then softmax; sigmoid for 1) on its ``"backbone"`` sub-model,
            keeping the raw-input preprocessing in front.
        dropout: dropout before a new head.
        head_activation: the new head's activation.
        name: the model name (default the checkpoint's).

    Example:
        >>> model = load_checkpoint("digits_convnet_pretrained", num_classes=2)
    """
    num_classes = v.check_num_classes(num_classes)
    v.check_rate("dropout", dropout)
    v.check_activation("head_activation", head_activation, allow_none=True)
    if name is not None:
        v.check_name("name", name)
    model = keras.saving.load_model(checkpoint_file(checkpoint), compile=False)
    if num_classes is not None:  # a new head on the network; raw-input preprocessing kept
        preprocessor, network = split(model)
        # cut the loaded graph at the backbone (calling it anew would leave it with two
        # calls, and fine_tune could no longer find where to cut)
        (call,) = inbound_nodes(network.get_layer("backbone"))  # loaded: called once
        features = call.output_tensors[0]
        inputs = network.inputs
        outputs = _common.head(
            features,
            num_classes=num_classes,
            head_activation=head_activation,
            dropout=dropout,
            options=_common.Options("glorot_uniform", None, None),
        )
        model = attach(keras.Model(inputs, outputs, name=network.name), preprocessor)
    if name is not None:
        model.name = name
    return model


def _count(name: str) -> dict[str, int] | None:
    try:
        model = load_checkpoint(name)
    except ValueError:  # missing from this installation
        return None
    total = sum(math.prod(w.shape) for w in model.weights)
    trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
    return {"total": total, "trainable": trainable}


def _row_builder(checkpoint: str):
    def build(
        num_classes: int | None = None,
        dropout: float = 0.2,
        head_activation: Any = None,
        name: str | None = None,
    ) -> keras.Model:
        return load_checkpoint(
            checkpoint,
            num_classes,
            dropout=dropout,
            head_activation=head_activation,
            name=name,
        )

    build.__name__ = build.__qualname__ = checkpoint
    build.__doc__ = f"``load_checkpoint({checkpoint!r}, num_classes, ...)``."
    return build


def _register() -> None:
    for checkpoint, spec in CHECKPOINTS.items():
        _catalogue.register_entry(
            _catalogue.Entry(
                checkpoint,
                spec.family,
                spec.task,
                spec.description,
                _row_builder(checkpoint),
                {},
                ROW_SEARCH_SPACE,
                source="checkpoint",
                weights=spec.weights,
                counter=lambda checkpoint=checkpoint: _count(checkpoint),
                on_disk=lambda checkpoint=checkpoint: (
                    shipped_models_dir() / checkpoint / MODEL_FILE
                ).is_file(),
            )
        )


_register()
