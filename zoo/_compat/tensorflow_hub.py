"""TensorFlow Hub (seen in 0.16): what zoo works around to use it with Keras 3.

``hub.KerasLayer`` subclasses tf_keras's (Keras 2's) ``Layer``, so a Keras 3 model
refuses it ("Only instances of keras.Layer can be added"); zoo's own
:class:`~zoo.architectures.pretrained.hub_layer.HubLayer` loads the SavedModel and wraps
its variables as Keras 3 variables instead. Upstream:
https://github.com/tensorflow/hub/issues/920 (fix proposed in
https://github.com/tensorflow/hub/pull/930). ``keras.layers.TFSMLayer``, the Keras 3
replacement, names its variables ``w:0`` so that optimizers with slots fail
("'w:0_momentum' is not a valid scope name"; no upstream issue found: see the canary).
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator


@contextlib.contextmanager
def download_timeout(seconds: float) -> Iterator[None]:
    """Give sockets opened in the block a timeout (where none is set).

    Works around (tensorflow-hub 0.16): its resolver calls ``urllib.request.urlopen``
    with no timeout, so a network that drops packets hangs for minutes on connect.
    Upstream: none found (the library is in maintenance mode); see
    ``tensorflow_hub.resolver.HttpResolverBase._call_urlopen``.
    """
    previous = socket.getdefaulttimeout()
    if previous is None:
        socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def is_hub_module_v1(loaded) -> bool:
    """Whether a loaded SavedModel is in the TF1 Hub format (which cannot be fine-tuned).

    Not a bug: ``hub.load`` marks such modules with the private ``_is_hub_module_v1``,
    which ``hub.KerasLayer`` reads too; there is no public test.
    """
    return bool(getattr(loaded, "_is_hub_module_v1", False))
