"""Pretrained image backbones from ``keras.applications``, as one table.

Every classifier built here starts with the backbone's own input normalisation
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

import dataclasses
import fnmatch
import math
import os
from pathlib import Path
from typing import Any

import keras
import pandas as pd

from zoo import _validation as v
from zoo.layers import ImagePreprocessing

WEIGHTS_DIR_ENV = "ZOO_WEIGHTS_DIR"
OFFLINE_ENV = "ZOO_OFFLINE"
POOLINGS = ("avg", "max")
# zoo.tune("image_classifier", data): the backbone is itself a choice; the head trains
# on the frozen backbone (fine_tune then unfreezes the chosen one).
SEARCH_SPACE: dict[str, Any] = {
    "backbone": ["mobilenet_v3_small", "efficientnet_b0", "resnet50_v2"],
    "pooling": ["avg", "max"],
    "dropout": {"min": 0.0, "max": 0.5, "step": 0.1},
    "learning_rate": {"min": 1e-4, "max": 1e-2, "sampling": "log"},
}
# The columns of list_backbones(), which the keras-hub and TF Hub rows follow too.
BACKBONE_COLUMNS = (
    "name",
    "source",
    "task",
    "input_size",
    "params",
    "preprocessing",
    "weights_file",
    "offline",
)
_PARAMS_CACHE: dict[str, int] = {}


@dataclasses.dataclass(frozen=True)
class Backbone:
    """One pretrained image backbone.

    Attributes:
        application: the ``keras.applications`` function name.
        preprocessing: the :class:`ImagePreprocessing` mode it expects.
        default_size: the input size of its ImageNet weights.
        min_size: the smallest input height/width it accepts.
        weights_file: the file name of its headless ImageNet weights.
        extra: extra keyword arguments for the application function.
    """

    application: str
    preprocessing: str
    default_size: int
    min_size: int
    weights_file: str
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)


_KERAS_NOTOP = "weights_tf_dim_ordering_tf_kernels_notop.h5"

BACKBONES: dict[str, Backbone] = {
    "mobilenet_v2": Backbone(
        "MobileNetV2",
        "tf",
        224,
        32,
        "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5",
    ),
    "mobilenet_v3_small": Backbone(
        "MobileNetV3Small",
        "raw",
        224,
        32,
        "weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5",
        {"include_preprocessing": True},
    ),
    "mobilenet_v3_large": Backbone(
        "MobileNetV3Large",
        "raw",
        224,
        32,
        "weights_mobilenet_v3_large_224_1.0_float_no_top_v2.h5",
        {"include_preprocessing": True},
    ),
    "resnet50": Backbone("ResNet50", "caffe", 224, 32, f"resnet50_{_KERAS_NOTOP}"),
    "resnet50_v2": Backbone("ResNet50V2", "tf", 224, 32, f"resnet50v2_{_KERAS_NOTOP}"),
    "efficientnet_b0": Backbone("EfficientNetB0", "raw", 224, 32, "efficientnetb0_notop.h5"),
    "efficientnet_v2_b0": Backbone(
        "EfficientNetV2B0",
        "raw",
        224,
        32,
        "efficientnetv2-b0_notop.h5",
        {"include_preprocessing": True},
    ),
    "convnext_tiny": Backbone(
        "ConvNeXtTiny", "raw", 224, 32, "convnext_tiny_notop.h5", {"include_preprocessing": True}
    ),
    "densenet121": Backbone("DenseNet121", "torch", 224, 32, f"densenet121_{_KERAS_NOTOP}"),
    "xception": Backbone("Xception", "tf", 299, 71, f"xception_{_KERAS_NOTOP}"),
    "inception_v3": Backbone("InceptionV3", "tf", 299, 75, f"inception_v3_{_KERAS_NOTOP}"),
    "vgg16": Backbone("VGG16", "caffe", 224, 32, f"vgg16_{_KERAS_NOTOP}"),
}


def get_backbone(name: str) -> Backbone:
    """Return a backbone's table entry, with close matches for an unknown name."""
    if not isinstance(name, str):
        raise v.invalid("backbone", "a backbone name (a string)", name, TypeError)
    if name not in BACKBONES:
        raise v.unknown_name(
            "backbone", name, BACKBONES, hint="See zoo.transfer.list_backbones() for every name."
        )
    return BACKBONES[name]


def keras_cache_dir() -> Path:
    """Where Keras keeps downloaded weights: ``$KERAS_HOME/models`` or ``~/.keras/models``."""
    home = os.environ.get("KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras"))
    return Path(home) / "models"


def local_weights(name: str) -> Path | None:
    """The first local copy of a backbone's ImageNet weights, or None."""
    spec = get_backbone(name)
    candidates = []
    if os.environ.get(WEIGHTS_DIR_ENV):
        candidates.append(Path(os.environ[WEIGHTS_DIR_ENV]) / spec.weights_file)
    candidates.append(keras_cache_dir() / spec.weights_file)
    return next((path for path in candidates if path.is_file()), None)


def _missing_weights_error(name: str, reason: str) -> Exception:
    spec = get_backbone(name)
    folder = os.environ.get(WEIGHTS_DIR_ENV) or str(keras_cache_dir())
    return v.ArgumentValueError(
        f"ImageNet weights for backbone {name!r} are not available ({reason}). Place the file "
        f"{spec.weights_file!r} (keras.applications.{spec.application}, include_top=False) in "
        f"{folder} (or set ${WEIGHTS_DIR_ENV}), pass weights='/path/to/{spec.weights_file}', "
        f"or weights=None for random initialisation. Received: weights='imagenet'"
    )


def resolve_weights(name: str, weights: Any) -> tuple[Any, str]:
    """Return (what to give keras.applications, a description of the source)."""
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
    local = local_weights(name)
    if local is not None:
        return str(local), f"imagenet ({local})"
    if os.environ.get(OFFLINE_ENV) == "1":
        raise _missing_weights_error(name, f"{OFFLINE_ENV}=1 and no local copy")
    from zoo.transfer import weights as _weights  # lazy: weights imports this module

    if os.environ.get(_weights.MIRROR_ENV):
        row = _weights.pull([name], raise_errors=False).iloc[0]
        if row["status"] == "failed":
            raise _missing_weights_error(name, f"download from the mirror failed: {row['error']}")
        return row["file"], f"imagenet ({row['file']}, from {row['source'] or 'disk'})"
    return "imagenet", "imagenet (downloaded by Keras)"


def _check_input_shape(name: str, input_shape: Any) -> tuple[int, int, int]:
    spec = get_backbone(name)
    if input_shape is None:
        return (spec.default_size, spec.default_size, 3)
    shape = v.check_shape("input_shape", input_shape, ndim=3)
    if shape[-1] != 3:
        raise v.invalid(
            "input_shape", f"RGB images (3 channels) for backbone {name!r}", input_shape
        )
    if min(shape[:2]) < spec.min_size:
        raise v.invalid(
            "input_shape",
            f"at least {spec.min_size}x{spec.min_size} for backbone {name!r}",
            input_shape,
        )
    return shape


def build_backbone(name: str, *, weights: Any = "imagenet", input_shape: Any = None) -> keras.Model:
    """Build a headless backbone (no preprocessing, no pooling) with resolved weights.

    Example:
        >>> zoo.transfer.build_backbone("vgg16", weights=None, input_shape=(32, 32, 3))
    """
    return _build_backbone(name, weights, input_shape)[0]


def _build_backbone(name: str, weights: Any, input_shape: Any) -> tuple[keras.Model, str]:
    spec = get_backbone(name)
    shape = _check_input_shape(name, input_shape)
    source, description = resolve_weights(name, weights)
    application = getattr(keras.applications, spec.application)
    try:
        model = application(include_top=False, weights=source, input_shape=shape, **spec.extra)
    except ValueError as error:
        if source not in (None, "imagenet"):
            raise v.ArgumentValueError(
                f"The weights file {source} does not fit backbone {name!r} "
                f"(keras.applications.{spec.application}, include_top=False): {error}. "
                f"Received: weights={source!r}"
            ) from None
        raise
    except Exception as error:  # Keras raises a bare Exception on a failed download
        if source == "imagenet" and "URL fetch failure" in str(error):
            raise _missing_weights_error(name, f"download failed: {error}") from None
        raise
    # Renamed after building: EfficientNetV2 uses its `name` argument as a config key.
    model.name = "backbone"
    return model, description


def image_classifier(
    backbone: str,
    num_classes: int,
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
    transfer-learning recipe); it is frozen (``trainable=False``) by default.

    Args:
        backbone: a name from :func:`list_backbones`, for example ``"mobilenet_v2"``.
        num_classes: classes of the new head (softmax; sigmoid for 1).
        weights: ``"imagenet"`` (resolved as the module docstring says), None, or a
            weights file for the headless backbone.
        input_shape: (height, width, 3); default the backbone's ImageNet size.
        dropout: dropout before the head.
        pooling: global ``"avg"`` or ``"max"`` pooling of the backbone features.
        trainable: whether the backbone starts trainable.
        head_activation: output activation (default softmax, sigmoid for 1 class).
        name: model name (default ``<backbone>_classifier``).

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
    from zoo.architectures import _common

    spec = get_backbone(backbone)
    num_classes = v.check_int("num_classes", num_classes, minimum=1)
    v.check_rate("dropout", dropout)
    v.check_choice("pooling", pooling, POOLINGS)
    v.check_bool("trainable", trainable)
    v.check_activation("head_activation", head_activation, allow_none=True)
    name = v.check_name("name", name or f"{backbone}_classifier")
    shape = _check_input_shape(backbone, input_shape)

    base, weights_source = _build_backbone(backbone, weights, shape)
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
    from zoo import registry

    registry.set_spec(
        model,
        f"transfer:{backbone}",
        {
            "backbone": backbone,
            "num_classes": num_classes,
            "weights": weights_source,
            "input_shape": shape,
            "dropout": dropout,
            "pooling": pooling,
        },
    )
    return model


def list_backbones(pattern: str = "*") -> pd.DataFrame:
    """List the pretrained backbones as a table.

    Returns:
        One row per backbone: ``name``, ``source`` (``keras.applications``,
        ``keras-hub`` or ``tfhub``), ``task``, ``input_size`` (image size or maximum
        sequence length), ``params`` (headless; None where unknown offline),
        ``preprocessing``, ``weights_file`` (file, preset handle or TF Hub handle)
        and ``offline`` (whether the weights are on disk now).

    Example:
        >>> zoo.transfer.list_backbones("mobilenet*")
    """
    from zoo._compat.keras import variables_without_values

    v.check_str("pattern", pattern)
    rows = []
    for name, spec in BACKBONES.items():
        if not fnmatch.fnmatchcase(name, pattern):
            continue
        if name not in _PARAMS_CACHE:
            with variables_without_values():
                model = getattr(keras.applications, spec.application)(
                    include_top=False, weights=None, **spec.extra
                )
            _PARAMS_CACHE[name] = sum(math.prod(w.shape) for w in model.weights)
        rows.append(
            {
                "name": name,
                "source": "keras.applications",
                "task": "image",
                "input_size": spec.default_size,
                "params": _PARAMS_CACHE[name],
                "preprocessing": spec.preprocessing,
                "weights_file": spec.weights_file,
                "offline": local_weights(name) is not None,
            }
        )
    from zoo.transfer import hub, text

    if any(fnmatch.fnmatchcase(name, pattern) for name in text.TEXT_BACKBONES):
        rows += [r for r in text.text_rows() if fnmatch.fnmatchcase(r["name"], pattern)]
    rows += [r for r in hub.hub_rows() if fnmatch.fnmatchcase(r["name"], pattern)]
    return pd.DataFrame(rows, columns=list(BACKBONE_COLUMNS)).astype(
        {"input_size": "Int64", "params": "Int64"}
    )
