"""Transfer learning: pretrained backbones with their preprocessing built in.

``zoo.transfer.list_backbones()`` lists them; ``image_classifier(backbone, num_classes)``
puts a fresh head on one. Fine-tuning, text (keras-hub) and TF Hub backbones follow
(issue 4).
"""

from zoo.transfer.backbones import (
    BACKBONES,
    build_backbone,
    image_classifier,
    list_backbones,
    local_weights,
)

__all__ = ["BACKBONES", "build_backbone", "image_classifier", "list_backbones", "local_weights"]
