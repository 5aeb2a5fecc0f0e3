"""Prefetch the ImageNet weights of zoo's image backbones, checked, optionally from a mirror.

:data:`WEIGHTS` gives, for every row of :data:`zoo.transfer.BACKBONES`
(``resnet_50.keras_in1k``, ...), the official download URL of its headless
(``include_top=False``) weights file and the hash that ``keras.applications`` checks it
against; :func:`pull` downloads them atomically and checks them, from the official
URLs or a mirror (``mirror=`` or ``$ZOO_WEIGHTS_MIRROR``); :func:`list_weights` shows
what is on disk. Defined in :mod:`zoo.architectures.pretrained.imagenet`, which the
catalogue's backbones use when a mirror is set.

Example:
    >>> from zoo.transfer import weights
    >>> weights.pull(["resnet_50.keras_in1k", "mobilenet_v2"])  # doctest: +SKIP
    >>> weights.pull("all", mirror="https://example.org/weights", folder="w")  # doctest: +SKIP
"""

from zoo.architectures.pretrained.imagenet import (
    COLUMNS,
    MIRROR_ENV,
    TIMEOUT,
    WEIGHTS,
    WeightsDownloadError,
    WeightsSource,
    default_folder,
    file_hash,
    list_weights,
    pull,
    source_url,
)

__all__ = [
    "COLUMNS",
    "MIRROR_ENV",
    "TIMEOUT",
    "WEIGHTS",
    "WeightsDownloadError",
    "WeightsSource",
    "default_folder",
    "file_hash",
    "list_weights",
    "pull",
    "source_url",
]
