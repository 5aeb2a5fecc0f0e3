"""TF Hub SavedModels as trainable, serializable Keras 3 layers, and TF Hub's rows.

:class:`HubLayer` (:func:`hub_layer`) wraps a TF2 SavedModel as a Keras 3 layer that
trains with any optimizer and round-trips in ``.keras`` files
(:mod:`zoo.architectures.pretrained.hub_layer`); :data:`HUB_BACKBONES` names
well-known TF Hub handles, each a row of zoo's catalogue
(:mod:`zoo.architectures.pretrained.hub`): ``zoo.build("tfhub_nnlm_en_dim50",
num_classes=2)`` builds the module with a new head.

How a handle is resolved (local folder, TF Hub's cache, then a download unless
``ZOO_OFFLINE=1``) is in :mod:`zoo.architectures.pretrained.hub_cache`.
"""

from zoo.architectures.pretrained.hub import HUB_BACKBONES, hub_rows
from zoo.architectures.pretrained.hub_cache import (
    CACHE_ENV,
    OFFLINE_ENV,
    cached_module_dir,
    hub_cache_dir,
    is_cached,
    is_remote,
)
from zoo.architectures.pretrained.hub_layer import (
    HubLayer,
    hub_classifier,
    hub_layer,
    load_saved_model,
)

__all__ = [
    "CACHE_ENV",
    "HUB_BACKBONES",
    "OFFLINE_ENV",
    "HubLayer",
    "cached_module_dir",
    "hub_cache_dir",
    "hub_classifier",
    "hub_layer",
    "hub_rows",
    "is_cached",
    "is_remote",
    "load_saved_model",
]
