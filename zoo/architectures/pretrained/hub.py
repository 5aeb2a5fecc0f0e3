"""TF Hub modules in zoo's catalogue: the well-known handles, as rows.

:data:`HUB_BACKBONES` names well-known TF Hub feature-vector and text-embedding
handles; each is a row of the catalogue (``zoo.build("tfhub_mobilenet_v2_100_224",
num_classes=5)``): the module as a :class:`~zoo.architectures.pretrained.hub_layer.HubLayer`
named ``"backbone"`` with a new head. Image rows take raw 0-255 RGB images (the
``/ 255`` the modules expect is a layer of the model); text rows take raw strings.

Handles are resolved as :mod:`.hub_cache` says. Nothing here imports TensorFlow: the
layer and :func:`~.hub_layer.hub_classifier` live in :mod:`.hub_layer`, imported when a
model is built. Public as :mod:`zoo.transfer.hub`.
"""

from __future__ import annotations

from typing import Any

import keras

from zoo import _catalogue
from zoo.architectures.pretrained.hub_cache import is_cached

HUB_BACKBONES: dict[str, dict[str, Any]] = {
    "tfhub_mobilenet_v2_100_224": {
        "family": "mobilenet",
        "title": "MobileNetV2 1.00 224 feature vector (ImageNet)",
        "handle": "https://tfhub.dev/google/imagenet/mobilenet_v2_100_224/feature_vector/5",
        "task": "image",
        "input_size": 224,
        "output_dim": 1280,
        "params": None,
        "preprocessing": "0-1 floats (RGB / 255), 224x224",
    },
    "tfhub_efficientnet_v2_b0": {
        "family": "efficientnet",
        "title": "EfficientNetV2-B0 feature vector (ImageNet-1k)",
        "handle": (
            "https://tfhub.dev/google/imagenet/efficientnet_v2_imagenet1k_b0/feature_vector/2"
        ),
        "task": "image",
        "input_size": 224,
        "output_dim": 1280,
        "params": None,
        "preprocessing": "0-1 floats (RGB / 255), 224x224",
    },
    "tfhub_resnet_v2_50": {
        "family": "resnet",
        "title": "ResNet-50 v2 feature vector (ImageNet)",
        "handle": "https://tfhub.dev/google/imagenet/resnet_v2_50/feature_vector/5",
        "task": "image",
        "input_size": 224,
        "output_dim": 2048,
        "params": None,
        "preprocessing": "0-1 floats (RGB / 255), 224x224",
    },
    "tfhub_nnlm_en_dim50": {
        "family": "nnlm",
        "title": "NNLM English 50-dimensional sentence embedding",
        "handle": "https://tfhub.dev/google/nnlm-en-dim50/2",
        "task": "text",
        "input_size": None,
        "output_dim": 50,
        "params": None,
        "preprocessing": "raw strings, shape (batch,); splits on spaces itself",
    },
    "tfhub_universal_sentence_encoder": {
        "family": "use",
        "title": "Universal Sentence Encoder (512 dimensions)",
        "handle": "https://tfhub.dev/google/universal-sentence-encoder/4",
        "task": "text",
        "input_size": None,
        "output_dim": 512,
        "params": None,
        "preprocessing": "raw strings, shape (batch,); tokenizes itself",
    },
}
"""Well-known TF Hub feature-vector and text-embedding handles, by zoo name."""


def hub_rows() -> list[dict[str, Any]]:
    """Rows for ``zoo.transfer.list_backbones``, one per :data:`HUB_BACKBONES` entry.

    Returns:
        Dicts with ``name``, ``source`` (``"tfhub"``), ``task`` (``"image"`` or
        ``"text"``), ``input_size``, ``params`` (None: unknown without the model),
        ``preprocessing`` (what input the handle expects), ``weights_file`` (the handle)
        and ``offline`` (whether the handle is in TF Hub's cache folder now).

    Example:
        >>> [row["name"] for row in hub_rows() if row["task"] == "text"]
        ['tfhub_nnlm_en_dim50', 'tfhub_universal_sentence_encoder']
    """
    return [
        {
            "name": name,
            "source": "tfhub",
            "task": spec["task"],
            "input_size": spec["input_size"],
            "params": spec["params"],
            "preprocessing": spec["preprocessing"],
            "weights_file": spec["handle"],
            "offline": is_cached(spec["handle"]),
        }
        for name, spec in HUB_BACKBONES.items()
    ]


# --------------------------------------------------------------------- catalogue rows

ROW_SEARCH_SPACE: dict[str, Any] = {
    "dropout": {"min": 0.0, "max": 0.5, "step": 0.1},
    "learning_rate": {"min": 1e-4, "max": 1e-2, "sampling": "log"},
}


def _classifier(*args: Any, **kwargs: Any) -> keras.Model:
    from zoo.architectures.pretrained.hub_layer import hub_classifier  # imports TensorFlow

    return hub_classifier(*args, **kwargs)


def _row_builder(row: str):
    spec = HUB_BACKBONES[row]

    if spec["task"] == "image":

        def build(
            input_shape: Any = None,
            num_classes: int | None = None,
            trainable: bool = False,
            dropout: float = 0.2,
            head_activation: Any = None,
            name: str | None = None,
        ) -> keras.Model:
            return _classifier(
                spec["handle"],
                num_classes,
                task="image",
                input_shape=input_shape,
                trainable=trainable,
                dropout=dropout,
                head_activation=head_activation,
                name=name or f"{row}_classifier",
            )

    else:

        def build(
            num_classes: int | None = None,
            trainable: bool = False,
            dropout: float = 0.2,
            head_activation: Any = None,
            name: str | None = None,
        ) -> keras.Model:
            return _classifier(
                spec["handle"],
                num_classes,
                task="text",
                trainable=trainable,
                dropout=dropout,
                head_activation=head_activation,
                name=name or f"{row}_classifier",
            )

    build.__name__ = build.__qualname__ = row
    build.__doc__ = f"``hub_classifier({spec['handle']!r}, num_classes, ...)``."
    return build


def _register() -> None:
    for row, spec in HUB_BACKBONES.items():
        _catalogue.register_entry(
            _catalogue.Entry(
                row,
                spec["family"],
                f"{spec['task']} classification",
                f"TF Hub module {spec['title']} with a new head; "
                + ("raw 0-255 RGB in." if spec["task"] == "image" else "raw strings in."),
                _row_builder(row),
                {},
                ROW_SEARCH_SPACE,
                source="tfhub",
                weights=spec["handle"],
                counter=lambda: None,
                on_disk=lambda handle=spec["handle"]: is_cached(handle),
            )
        )


_register()
