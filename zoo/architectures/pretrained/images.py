"""Pretrained image backbones from ``keras.applications``: rows ``<architecture>.keras_in1k``.

Each row is a ``keras.applications`` network with Keras's ImageNet-1k weights, named
with zoo's spelling and the tag ``keras_in1k``: ``resnet_50.keras_in1k`` is
``keras.applications.ResNet50`` (v1, stride on the 1x1 as in Keras/Caffe), while
``resnet_50`` is zoo's own builder (v1.5, stride on the 3x3 as in torchvision). Where zoo
has no builder of its own, the bare name means the tagged row (``mobilenet_v3_small``).
The old names (``resnet50``, ``resnet50_v2``, ``vgg16``, ``densenet121``) work for one
more release, with a ``DeprecationWarning``.

Every model built here starts with the backbone's own input normalisation
(:class:`zoo.layers.ImagePreprocessing`), so it takes raw 0-255 RGB images.

ImageNet weights are resolved in this order:
    1. ``weights=<file>``: a ``.weights.h5``/``.h5`` file for the headless backbone;
    2. ``$ZOO_WEIGHTS_DIR/<file name>`` (the file names are in :data:`BACKBONES`);
    3. Keras's cache, ``$KERAS_HOME/models/<file name>`` (default ``~/.keras/models``);
    4. unless ``ZOO_OFFLINE=1``: with ``$ZOO_WEIGHTS_MIRROR`` set, a checked download
       of ``<mirror>/<file name>`` into 2 or 3 (:func:`zoo.transfer.weights.pull`),
       otherwise a download by Keras.
Offline or when the download fails, the error names the exact file and where to put it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import keras

from zoo import _catalogue
from zoo import _validation as v
from zoo._compat.keras import build_application, is_download_failure
from zoo.architectures import _common
from zoo.architectures.pretrained import imagenet
from zoo.architectures.pretrained.applications import (
    _ROWS,
    BACKBONE_COLUMNS,
    BACKBONES,
    OFFLINE_ENV,
    TAG,
    WEIGHTS_DIR_ENV,
    Backbone,
    _local,
    canonical_name,
    get_backbone,
    keras_cache_dir,
    local_weights,
)
from zoo.layers import ImagePreprocessing

POOLINGS = ("avg", "max")
# zoo.tune("image_classifier", data): the backbone is itself a choice; the head trains
# on the frozen backbone (fine_tune then unfreezes the chosen one).
SEARCH_SPACE: dict[str, Any] = {
    "backbone": ["mobilenet_v3_small", "efficientnet_b0", "resnet_50_v2.keras_in1k"],
    "pooling": ["avg", "max"],
    "dropout": {"min": 0.0, "max": 0.5, "step": 0.1},
    "learning_rate": {"min": 1e-4, "max": 1e-2, "sampling": "log"},
}
# zoo.tune("<backbone row>", data): the head on one frozen backbone.
ROW_SEARCH_SPACE: dict[str, Any] = {
    key: value for key, value in SEARCH_SPACE.items() if key != "backbone"
}


def _missing_weights_error(row: str, reason: str) -> Exception:
    spec = _ROWS[row]
    folder = os.environ.get(WEIGHTS_DIR_ENV) or str(keras_cache_dir())
    return v.ArgumentValueError(
        f"ImageNet weights for backbone {row!r} are not available ({reason}). Place the file "
        f"{spec.weights_file!r} (keras.applications.{spec.application}, include_top=False) in "
        f"{folder} (or set ${WEIGHTS_DIR_ENV}), pass weights='/path/to/{spec.weights_file}', "
        f"or weights=None for random initialisation. Received: weights='imagenet'"
    )


def resolve_weights(name: str, weights: Any) -> tuple[Any, str]:
    """Return (what to give keras.applications, a description of the source)."""
    row = canonical_name(name)
    if weights is None:
        return None, "random initialisation"
    if isinstance(weights, (str, os.PathLike)) and weights != "imagenet":
        path = Path(weights)
        if not path.is_file():
            raise v.invalid("weights", "'imagenet', None or an existing weights file", str(weights))
        return str(path), f"file {path}"
    if weights != "imagenet":
        raise v.invalid(
            "weights", "'imagenet', None or a path to a weights file", weights, TypeError
        )
    local = _local(_ROWS[row])
    if local is not None:
        return str(local), f"imagenet ({local})"
    if os.environ.get(OFFLINE_ENV) == "1":
        raise _missing_weights_error(row, f"{OFFLINE_ENV}=1 and no local copy")
    if os.environ.get(imagenet.MIRROR_ENV):
        row_table = imagenet.pull([row], raise_errors=False).iloc[0]
        if row_table["status"] == "failed":
            raise _missing_weights_error(
                row, f"download from the mirror failed: {row_table['error']}"
            )
        return row_table["file"], (
            f"imagenet ({row_table['file']}, from {row_table['source'] or 'disk'})"
        )
    return "imagenet", "imagenet (downloaded by Keras)"


def _check_input_shape(row: str, input_shape: Any) -> tuple[int, int, int]:
    spec = _ROWS[row]
    if input_shape is None:
        return (spec.default_size, spec.default_size, 3)
    shape = v.check_shape("input_shape", input_shape, ndim=3)
    if shape[-1] != 3:
        raise v.invalid("input_shape", f"RGB images (3 channels) for backbone {row!r}", input_shape)
    if min(shape[:2]) < spec.min_size:
        raise v.invalid(
            "input_shape",
            f"at least {spec.min_size}x{spec.min_size} for backbone {row!r}",
            input_shape,
        )
    return shape


def build_backbone(name: str, *, weights: Any = "imagenet", input_shape: Any = None) -> keras.Model:
    """Build a headless backbone (no preprocessing, no pooling) with resolved weights.

    Example:
        >>> zoo.transfer.build_backbone("vgg_16.keras_in1k", weights=None, input_shape=(32, 32, 3))
    """
    return _build_backbone(canonical_name(name), weights, input_shape)[0]


def _build_backbone(row: str, weights: Any, input_shape: Any) -> tuple[keras.Model, str]:
    spec = _ROWS[row]
    shape = _check_input_shape(row, input_shape)
    source, description = resolve_weights(row, weights)
    application = getattr(keras.applications, spec.application)
    try:
        model = build_application(
            application,
            "backbone",
            include_top=False,
            weights=source,
            input_shape=shape,
            **spec.extra,
        )
    except ValueError as error:
        if source not in (None, "imagenet"):
            raise v.ArgumentValueError(
                f"The weights file {source} does not fit backbone {row!r} "
                f"(keras.applications.{spec.application}, include_top=False): {error}. "
                f"Received: weights={source!r}"
            ) from None
        raise
    except Exception as error:  # Keras raises a bare Exception on a failed download
        if source == "imagenet" and is_download_failure(error):
            raise _missing_weights_error(row, f"download failed: {error}") from None
        raise
    return model, description


def image_classifier(
    backbone: str,
    num_classes: int | None,
    *,
    weights: Any = "imagenet",
    input_shape: Any = None,
    dropout: float = 0.2,
    pooling: str = "avg",
    trainable: bool = False,
    head_activation: Any = None,
    name: str | None = None,
) -> keras.Model:
    """A classifier: raw 0-255 images -> backbone preprocessing -> backbone -> new head.

    The backbone is called with ``training=False`` so its BatchNormalization layers
    stay in inference mode even when it is unfrozen for fine-tuning (the Keras
    transfer-learning recipe); it is frozen (``trainable=False``) by default. The
    model records its catalogue row (``mobilenet_v3_small.keras_in1k``) for its card:
    ``zoo.build("mobilenet_v3_small", num_classes=3)`` builds the same model.

    Args:
        backbone: a name from :func:`list_backbones`, for example
            ``"mobilenet_v3_small"`` or ``"resnet_50.keras_in1k"``.
        num_classes: classes of the new head (softmax; sigmoid for 1); None for a
            headless model that outputs the pooled features.
        weights: ``"imagenet"`` (resolved as the module docstring says), None, or a
            weights file for the headless backbone.
        input_shape: (height, width, 3); default the backbone's ImageNet size.
        dropout: dropout before the head.
        pooling: global ``"avg"`` or ``"max"`` pooling of the backbone features.
        trainable: whether the backbone starts trainable.
        head_activation: output activation (default softmax, sigmoid for 1 class).
        name: model name (default ``<architecture>_classifier``).

    Returns:
        An uncompiled ``keras.Model`` whose backbone is the sub-model named
        ``"backbone"``.

    Raises:
        ValueError: unknown backbone (with close matches), weights that are missing
            offline (naming the file and folder) or do not fit, an input too small.

    Example:
        >>> model = zoo.transfer.image_classifier("mobilenet_v2", 5, weights=None,
        ...                                       input_shape=(96, 96, 3))
    """
    row = canonical_name(backbone)
    spec = _ROWS[row]
    num_classes = v.check_num_classes(num_classes)
    v.check_rate("dropout", dropout)
    v.check_choice("pooling", pooling, POOLINGS)
    v.check_bool("trainable", trainable)
    v.check_activation("head_activation", head_activation, allow_none=True)
    name = v.check_name("name", name or f"{row.partition('.')[0]}_classifier")
    shape = _check_input_shape(row, input_shape)

    base, weights_source = _build_backbone(row, weights, shape)
    base.trainable = trainable
    inputs = keras.Input(shape=shape, name="images")
    x = ImagePreprocessing(spec.preprocessing, name="preprocessing")(inputs)
    x = base(x, training=False)
    pool = (
        keras.layers.GlobalAveragePooling2D if pooling == "avg" else keras.layers.GlobalMaxPooling2D
    )
    x = pool(name=f"{pooling}_pool")(x)
    options = _common.Options("glorot_uniform", None, None)
    outputs = _common.head(
        x,
        num_classes=num_classes,
        head_activation=head_activation,
        dropout=dropout,
        options=options,
    )
    model = keras.Model(inputs, outputs, name=name)
    _catalogue.set_spec(
        model,
        row,
        {
            "backbone": row,
            "num_classes": num_classes,
            "weights": weights_source,
            "input_shape": shape,
            "dropout": dropout,
            "pooling": pooling,
        },
    )
    return model


def backbone_row(name: str) -> dict[str, Any]:
    """The :data:`BACKBONE_COLUMNS` of a backbone, except ``params`` (the catalogue's)."""
    row = canonical_name(name, warn=False)
    spec = _ROWS[row]
    return {
        "name": row,
        "source": "keras.applications",
        "task": "image",
        "input_size": spec.default_size,
        "params": None,
        "preprocessing": spec.preprocessing,
        "weights_file": spec.weights_file,
        "offline": _local(spec) is not None,
    }


# -------------------------------------------------------------------- catalogue rows


_PREPROCESSING = {
    "caffe": "BGR, ImageNet means subtracted",
    "tf": "scaled to [-1, 1]",
    "torch": "ImageNet mean and std",
    "raw": "its own normalisation",
}


def _row_builder(row: str):
    spec = _ROWS[row]

    def build(
        input_shape: Any = None,
        num_classes: int | None = None,
        weights: Any = "imagenet",
        dropout: float = 0.2,
        pooling: str = "avg",
        trainable: bool = False,
        head_activation: Any = None,
        name: str | None = None,
    ) -> keras.Model:
        return image_classifier(
            row,
            num_classes,
            weights=weights,
            input_shape=input_shape,
            dropout=dropout,
            pooling=pooling,
            trainable=trainable,
            head_activation=head_activation,
            name=name,
        )

    build.__name__ = build.__qualname__ = row.replace(".", "_")
    build.__doc__ = (
        f"keras.applications.{spec.application} (ImageNet-1k weights) with a new head: "
        f"``image_classifier({row!r}, num_classes, ...)``; None classes: pooled features."
    )
    return build


def _register() -> None:
    for row, spec in _ROWS.items():
        _catalogue.register_entry(
            _catalogue.Entry(
                row,
                spec.family,
                "image classification",
                f"keras.applications.{spec.application}, Keras's ImageNet-1k weights; raw "
                f"0-255 RGB in ({_PREPROCESSING[spec.preprocessing]} inside).",
                _row_builder(row),
                {},
                ROW_SEARCH_SPACE,
                source="keras.applications",
                weights="imagenet",
                layout=spec.layout,
                aliases=spec.old_names,
                count_arguments={"weights": None, "trainable": True},
                on_disk=lambda spec=spec: _local(spec) is not None,
            )
        )
    _catalogue.register_entry(
        _catalogue.Entry(
            "image_classifier",
            "transfer",
            "image classification",
            "Any keras.applications backbone (frozen) with a new head; tunes the backbone "
            "as a choice.",
            image_classifier,
            {},
            SEARCH_SPACE,
            count_arguments={"weights": None, "trainable": True},
        )
    )


_register()


__all__ = [
    "BACKBONES",
    "BACKBONE_COLUMNS",
    "OFFLINE_ENV",
    "POOLINGS",
    "ROW_SEARCH_SPACE",
    "SEARCH_SPACE",
    "TAG",
    "WEIGHTS_DIR_ENV",
    "Backbone",
    "backbone_row",
    "build_backbone",
    "canonical_name",
    "get_backbone",
    "image_classifier",
    "keras_cache_dir",
    "local_weights",
    "resolve_weights",
]
