"""Import TensorFlow without its C++ start-up log lines (for the CLI and notebooks)."""

from __future__ import annotations

import os
import sys
import tempfile


def import_tensorflow(list_devices: bool = False) -> None:
    """Import TensorFlow (and optionally list devices) with its start-up lines hidden.

    TF 2.21 writes oneDNN/CUDA notices to file descriptor 2 through absl, ignoring
    TF_CPP_MIN_LOG_LEVEL. They are captured and shown only if the import fails, or
    always with ZOO_TF_LOGS=1. Listing devices initialises TensorFlow's runtime, after
    which logical CPUs can no longer be configured, so only the CLI asks for it.
    """
    if os.environ.get("ZOO_TF_LOGS") == "1" or ("tensorflow" in sys.modules and not list_devices):
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr (some embedded interpreters)
        return
    with tempfile.TemporaryFile() as log:
        os.dup2(log.fileno(), 2)
        try:
            import tensorflow as tf

            if list_devices:
                tf.config.list_physical_devices()
        except BaseException:
            os.dup2(saved, 2)
            log.seek(0)
            sys.stderr.write(log.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
