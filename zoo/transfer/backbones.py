"""Pretrained image backbones from ``keras.applications``: the public names.

The backbones are rows of zoo's catalogue (``zoo.list_architectures(source=
"keras.applications")``), defined in :mod:`zoo.architectures.pretrained.images`:
``resnet_50.keras_in1k``, ``mobilenet_v3_small.keras_in1k`` (also called
``mobilenet_v3_small``), ... The old names (``resnet50``, ``resnet50_v2``, ``vgg16``,
``densenet121``) work for one more release, with a ``DeprecationWarning``.

Every classifier takes raw 0-255 RGB images; how ImageNet weights are found (a file,
``$ZOO_WEIGHTS_DIR``, Keras's cache, a checked download) is in
:mod:`zoo.architectures.pretrained.images`.
"""

import pandas as pd

from zoo import _validation as v
from zoo import registry
from zoo.architectures.pretrained import BACKBONE_SOURCES, hub, images, text
from zoo.architectures.pretrained.images import (
    BACKBONE_COLUMNS,
    BACKBONES,
    OFFLINE_ENV,
    POOLINGS,
    SEARCH_SPACE,
    TAG,
    WEIGHTS_DIR_ENV,
    Backbone,
    build_backbone,
    canonical_name,
    get_backbone,
    image_classifier,
    keras_cache_dir,
    local_weights,
    resolve_weights,
)


def list_backbones(pattern: str = "*") -> pd.DataFrame:
    """List the pretrained backbones as a table: a view of the catalogue.

    Never touches the network.

    Args:
        pattern: a shell-style wildcard on the name (or the name without its tag,
            or a deprecated old name).

    Returns:
        One row per backbone: ``name`` (the catalogue's), ``source``
        (``keras.applications``, ``keras-hub`` or ``tfhub``), ``task``,
        ``input_size`` (image size or maximum sequence length), ``params`` (the
        catalogue's: trainable parameters of the headless backbone; None where unknown
        offline), ``preprocessing``, ``weights_file`` (file, preset handle or TF Hub
        handle) and ``offline`` (whether the weights are on disk now).

    Example:
        >>> zoo.transfer.list_backbones("mobilenet*")
    """
    v.check_str("pattern", pattern)
    entries = registry.select(pattern, source=BACKBONE_SOURCES)
    table = registry.list_architectures(pattern, source=BACKBONE_SOURCES)
    params = dict(zip(table["name"], table["params"], strict=True))
    chosen = {entry.name for entry in entries}
    rows = [images.backbone_row(name) for name in images.BACKBONES if name in chosen]
    rows += [row for row in text.text_rows() if row["name"] in chosen]
    rows += [row for row in hub.hub_rows() if row["name"] in chosen]
    for row in rows:
        row["params"] = params[row["name"]]
    return pd.DataFrame(rows, columns=list(BACKBONE_COLUMNS)).astype(
        {"input_size": "Int64", "params": "Int64"}
    )


__all__ = [
    "BACKBONES",
    "BACKBONE_COLUMNS",
    "OFFLINE_ENV",
    "POOLINGS",
    "SEARCH_SPACE",
    "TAG",
    "WEIGHTS_DIR_ENV",
    "Backbone",
    "build_backbone",
    "canonical_name",
    "get_backbone",
    "image_classifier",
    "keras_cache_dir",
    "list_backbones",
    "local_weights",
    "resolve_weights",
]
