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

#: Names from :mod:`zoo.architectures.pretrained.hub_layer`, which imports TensorFlow:
#: loaded on first use, so importing zoo.transfer on Keras's JAX backend does not.
_FROM_HUB_LAYER = ("HubLayer", "hub_classifier", "hub_layer", "load_saved_model")


def __getattr__(name: str):
    if name in _FROM_HUB_LAYER:
        from zoo.architectures.pretrained import hub_layer as module

        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CACHE_ENV",
    "HUB_BACKBONES",
    "OFFLINE_ENV",
    "HubLayer",  # noqa: F822 (lazy, see __getattr__)
    "cached_module_dir",
    "hub_cache_dir",
    "hub_classifier",  # noqa: F822 (lazy, see __getattr__)
    "hub_layer",  # noqa: F822 (lazy, see __getattr__)
    "hub_rows",
    "is_cached",
    "is_remote",
    "load_saved_model",  # noqa: F822 (lazy, see __getattr__)
]
