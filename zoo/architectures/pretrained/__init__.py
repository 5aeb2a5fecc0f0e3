"""Pretrained networks as rows of zoo's catalogue; importing this package registers them.

- :mod:`.images`: ``keras.applications`` ImageNet backbones, ``<architecture>.keras_in1k``
  (``resnet_50.keras_in1k``, ``mobilenet_v3_small.keras_in1k``, ...), and the
  ``image_classifier`` transfer builder; :mod:`.applications` holds their table and
  names, :mod:`.imagenet` fetches their weights.
- :mod:`.text`: keras-hub text presets under their keras-hub names
  (``bert_tiny_en_uncased``, ...) and the ``text_classifier`` transfer builder.
- :mod:`.hub`: TF Hub modules (``tfhub_mobilenet_v2_100_224``, ...); :mod:`.hub_cache`
  finds them on disk; the Keras 3 layer is in :mod:`.hub_layer`, imported (with
  TensorFlow) only when one is built.
- :mod:`.checkpoints`: zoo's shipped checkpoints (``digits_convnet_pretrained``,
  ``fashion_convnet_pretrained``).

Every row builds with ``zoo.build(name, ...)`` and lists with
``zoo.list_architectures()``; nothing here touches the network until a model is built
with weights that are not on disk. ``zoo.transfer.list_backbones`` is the backbones'
view of the catalogue.
"""

from __future__ import annotations

from zoo.architectures.pretrained import checkpoints, hub, images, text
from zoo.architectures.pretrained.images import BACKBONE_COLUMNS

BACKBONE_SOURCES = ("keras.applications", "keras-hub", "tfhub")


__all__ = [
    "BACKBONE_COLUMNS",
    "BACKBONE_SOURCES",
    "checkpoints",
    "hub",
    "images",
    "text",
]
