"""TensorFlow's native log lines kept off the terminal (CLI, notebooks, export)."""

from __future__ import annotations

from zoo._compat.tensorflow import native_logs_hidden

__all__ = ["import_tensorflow", "native_logs_hidden"]

import sys


def import_tensorflow(list_devices: bool = False) -> None:
    """Import TensorFlow (and optionally list devices) with its start-up lines hidden.

    Listing devices initialises TensorFlow's runtime, after which logical CPUs can no
    longer be configured, so only the CLI asks for it.
    """
    if "tensorflow" in sys.modules and not list_devices:
        return
    with native_logs_hidden(show_on_error=True):
        import tensorflow as tf

        if list_devices:
            tf.config.list_physical_devices()
