"""The ``keras.applications`` ImageNet backbones: their table and their names.

Each row is a ``keras.applications`` network with Keras's ImageNet-1k weights, named
with zoo's spelling and the tag ``keras_in1k`` (``resnet_50.keras_in1k``). Where zoo has
no builder of its own the bare name means the tagged row (``mobilenet_v3_small``); the
old names (``resnet50``, ``resnet50_v2``, ``vgg16``, ``densenet121``) work for one more
release, with a ``DeprecationWarning``. :data:`BACKBONES` accepts all of them.

The weights files are found in ``$ZOO_WEIGHTS_DIR`` or Keras's cache
(:func:`local_weights`); :mod:`.images` builds the models and
:mod:`.imagenet` downloads the files.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from zoo import _catalogue
from zoo import _validation as v

WEIGHTS_DIR_ENV = "ZOO_WEIGHTS_DIR"
OFFLINE_ENV = "ZOO_OFFLINE"
TAG = "keras_in1k"
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


@dataclasses.dataclass(frozen=True)
class Backbone:
    """One pretrained image backbone.

    Attributes:
        application: the ``keras.applications`` function name.
        preprocessing: the :class:`ImagePreprocessing` mode it expects.
        default_size: the input size of its ImageNet weights.
        min_size: the smallest input height/width it accepts.
        weights_file: the file name of its headless ImageNet weights (Keras's
            download name).
        extra: extra keyword arguments for the application function.
        family: the family column of the catalogue.
        layout: which variant of the published network, where zoo has one of its own.
        old_names: names it had before the catalogue's names (deprecated aliases).
    """

    application: str
    preprocessing: str
    default_size: int
    min_size: int
    weights_file: str
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)
    family: str = ""
    layout: str | None = None
    old_names: tuple[str, ...] = ()


_KERAS_NOTOP = "weights_tf_dim_ordering_tf_kernels_notop.h5"
_RAW = {"include_preprocessing": True}

_ROWS: dict[str, Backbone] = {
    f"mobilenet_v2.{TAG}": Backbone(
        "MobileNetV2",
        "tf",
        224,
        32,
        "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5",
        family="mobilenet",
    ),
    f"mobilenet_v3_small.{TAG}": Backbone(
        "MobileNetV3Small",
        "raw",
        224,
        32,
        "weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5",
        _RAW,
        family="mobilenet",
    ),
    f"mobilenet_v3_large.{TAG}": Backbone(
        "MobileNetV3Large",
        "raw",
        224,
        32,
        "weights_mobilenet_v3_large_224_1.0_float_no_top_v2.h5",
        _RAW,
        family="mobilenet",
    ),
    f"resnet_50.{TAG}": Backbone(
        "ResNet50",
        "caffe",
        224,
        32,
        f"resnet50_{_KERAS_NOTOP}",
        family="resnet",
        layout="v1, stride on the 1x1 (Keras/Caffe)",
        old_names=("resnet50",),
    ),
    f"resnet_50_v2.{TAG}": Backbone(
        "ResNet50V2",
        "tf",
        224,
        32,
        f"resnet50v2_{_KERAS_NOTOP}",
        family="resnet",
        layout="v2, pre-activation (Keras)",
        old_names=("resnet50_v2",),
    ),
    f"efficientnet_b0.{TAG}": Backbone(
        "EfficientNetB0", "raw", 224, 32, "efficientnetb0_notop.h5", family="efficientnet"
    ),
    f"efficientnet_v2_b0.{TAG}": Backbone(
        "EfficientNetV2B0",
        "raw",
        224,
        32,
        "efficientnetv2-b0_notop.h5",
        _RAW,
        family="efficientnet",
    ),
    f"convnext_tiny.{TAG}": Backbone(
        "ConvNeXtTiny", "raw", 224, 32, "convnext_tiny_notop.h5", _RAW, family="convnext"
    ),
    f"densenet_121.{TAG}": Backbone(
        "DenseNet121",
        "torch",
        224,
        32,
        f"densenet121_{_KERAS_NOTOP}",
        family="densenet",
        old_names=("densenet121",),
    ),
    f"xception.{TAG}": Backbone(
        "Xception", "tf", 299, 71, f"xception_{_KERAS_NOTOP}", family="xception"
    ),
    f"inception_v3.{TAG}": Backbone(
        "InceptionV3", "tf", 299, 75, f"inception_v3_{_KERAS_NOTOP}", family="inception"
    ),
    f"vgg_16.{TAG}": Backbone(
        "VGG16",
        "caffe",
        224,
        32,
        f"vgg16_{_KERAS_NOTOP}",
        family="cnn",
        layout="configuration D, convolutional base (no 4096-4096 dense layers)",
        old_names=("vgg16",),
    ),
}


def _row(name: Any, *, warn: bool) -> str | None:
    """The backbone row `name` means (a row, a bare name, an old name), or None."""
    row = _catalogue.find(name, warn=warn)
    return row if row in _ROWS else None


class _Backbones(Mapping):
    """The backbone table, by catalogue name; lookups accept other names quietly.

    Lookups (``in``, ``[]``) also accept bare names (``mobilenet_v2``) and deprecated
    old names (``resnet50``), without a warning; iteration gives the catalogue's names.
    """

    def __getitem__(self, name: str) -> Backbone:
        row = _row(name, warn=False)
        if row is None:
            raise KeyError(name)
        return _ROWS[row]

    def __contains__(self, name: object) -> bool:
        return _row(name, warn=False) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(_ROWS)

    def __len__(self) -> int:
        return len(_ROWS)

    def __repr__(self) -> str:
        return f"BACKBONES({dict(_ROWS)!r})"


BACKBONES: Mapping[str, Backbone] = _Backbones()
"""Every ``keras.applications`` backbone row, by catalogue name (see :class:`Backbone`)."""


def _choices() -> list[str]:
    bare = [name for name, row in _catalogue.aliases().items() if row in _ROWS]
    return [*_ROWS, *(name for name in bare if not _catalogue.is_deprecated(name))]


def canonical_name(name: Any, *, warn: bool = True) -> str:
    """The catalogue name of a backbone: ``resnet50`` -> ``resnet_50.keras_in1k``.

    Accepts the catalogue's names, bare names (``mobilenet_v2``) and, with a
    ``DeprecationWarning``, the old names.

    Raises:
        ValueError: for a name that is not a ``keras.applications`` backbone (with
            close matches).
        TypeError: for a name that is not a string.

    Example:
        >>> canonical_name("mobilenet_v3_small")
        'mobilenet_v3_small.keras_in1k'
    """
    if not isinstance(name, str):
        raise v.invalid("backbone", "a backbone name (a string)", name, TypeError)
    row = _row(name, warn=warn)
    other = None if row is not None else _catalogue.find(name, warn=False)
    twin = None if other is None else f"{other.partition('.')[0]}.{TAG}"
    if twin in _ROWS and _catalogue.get_entry(other).source == "zoo":
        raise v.ArgumentValueError(
            f"{name!r} is zoo's own {other!r} (zoo.build({other!r}), no pretrained weights), "
            f"not a keras.applications backbone: the backbone with Keras's ImageNet weights "
            f"is {twin!r}. Received: backbone={name!r}"
        )
    if row is None:
        raise v.unknown_name(
            "backbone",
            name,
            _choices(),
            hint="See zoo.transfer.list_backbones() (or zoo.list_architectures("
            "source='keras.applications')) for every name.",
        )
    return row


def get_backbone(name: str) -> Backbone:
    """Return a backbone's table entry, with close matches for an unknown name."""
    return _ROWS[canonical_name(name)]


def keras_cache_dir() -> Path:
    """Where Keras keeps downloaded weights: ``$KERAS_HOME/models`` or ``~/.keras/models``."""
    home = os.environ.get("KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras"))
    return Path(home) / "models"


def _local(spec: Backbone) -> Path | None:
    candidates = []
    if os.environ.get(WEIGHTS_DIR_ENV):
        candidates.append(Path(os.environ[WEIGHTS_DIR_ENV]) / spec.weights_file)
    candidates.append(keras_cache_dir() / spec.weights_file)
    return next((path for path in candidates if path.is_file()), None)


def local_weights(name: str) -> Path | None:
    """The first local copy of a backbone's ImageNet weights, or None."""
    return _local(get_backbone(name))
