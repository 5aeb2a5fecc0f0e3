"""Transfer learning: pretrained backbones fine-tuned on the user's data in one call.

``list_backbones()`` lists the backbones (``keras.applications`` image models,
keras-hub BERT-family presets, TF Hub SavedModels); ``image_classifier``,
``text_classifier`` and ``hub_layer`` put them in a model; ``fine_tune`` checks the
data against the model (:mod:`zoo.transfer.adapting`), trains the new head on cached
features, then unfreezes and trains on at a lower (optionally layer-wise) rate, and
returns a model that takes raw input (0-255 pixels); ``lr_find`` runs the learning-rate
range test; ``weights.pull`` prefetches ImageNet weights with checksums.
"""

from zoo.transfer import weights
from zoo.transfer.backbones import (
    BACKBONES,
    build_backbone,
    image_classifier,
    list_backbones,
    local_weights,
)
from zoo.transfer.fine_tuning import FineTuneResult, fine_tune
from zoo.transfer.hub import HUB_BACKBONES
from zoo.transfer.layerwise import (
    LayerwiseAdam,
    LayerwiseAdamW,
    LayerwiseRMSprop,
    LayerwiseSGD,
    layerwise_optimizer,
)
from zoo.transfer.lr_finder import LRFindResult, lr_find
from zoo.transfer.surgery import feature_split, find_backbone, with_new_head
from zoo.transfer.text import TEXT_BACKBONES, recompile, text_classifier

__all__ = [
    "BACKBONES",
    "HUB_BACKBONES",
    "TEXT_BACKBONES",
    "FineTuneResult",
    "HubLayer",
    "LRFindResult",
    "LayerwiseAdam",
    "LayerwiseAdamW",
    "LayerwiseRMSprop",
    "LayerwiseSGD",
    "build_backbone",
    "feature_split",
    "find_backbone",
    "fine_tune",
    "hub_layer",
    "image_classifier",
    "layerwise_optimizer",
    "list_backbones",
    "local_weights",
    "lr_find",
    "recompile",
    "text_classifier",
    "weights",
    "with_new_head",
]


def __getattr__(name: str):
    if name in ("HubLayer", "hub_layer"):  # TF Hub's layer imports TensorFlow: on first use
        from zoo.transfer import hub

        return getattr(hub, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
