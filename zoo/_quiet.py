"""TensorFlow's native log lines kept off the terminal (CLI, notebooks, export)."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator


@contextlib.contextmanager
def native_logs_hidden(*, show_on_error: bool = False) -> Iterator[None]:
    """Send what native code writes to file descriptor 2 to a temporary file.

    TF 2.21 writes oneDNN/CUDA notices (and TFLite, tf2onnx their own) through absl,
    ignoring TF_CPP_MIN_LOG_LEVEL. With `show_on_error` the captured lines are written
    out if the block raises; ``ZOO_TF_LOGS=1`` shows them always.
    """
    if os.environ.get("ZOO_TF_LOGS") == "1":
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr (some embedded interpreters)
        yield
        return
    with tempfile.TemporaryFile() as log:
        os.dup2(log.fileno(), 2)
        try:
            yield
        except BaseException:
            if show_on_error:
                os.dup2(saved, 2)
                log.seek(0)
                sys.stderr.write(log.read().decode(errors="replace"))
            raise
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


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
