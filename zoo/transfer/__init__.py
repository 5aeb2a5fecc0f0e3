"""Transfer learning: pretrained backbones with their preprocessing built in.

``zoo.transfer.list_backbones()`` lists them; ``image_classifier(backbone, num_classes)``
puts a fresh head on one; ``lr_find`` runs the learning-rate range test. Fine-tuning
stages, text (keras-hub) and TF Hub backbones follow (issue 4).
"""

from zoo.transfer.backbones import (
    BACKBONES,
    build_backbone,
    image_classifier,
    list_backbones,
    local_weights,
)
from zoo.transfer.lr_finder import LRFindResult, lr_find

__all__ = [
    "BACKBONES",
    "LRFindResult",
    "build_backbone",
    "image_classifier",
    "list_backbones",
    "local_weights",
    "lr_find",
]
