"""TensorFlow's native log lines kept off the terminal (CLI, notebooks, scripts, export).

On a machine without a GPU, TensorFlow 2.21 prints its start-up lines when imported
(twice: oneDNN, cudart and CPU-feature notices, through absl before its logging is set
up, whatever ``TF_CPP_MIN_LOG_LEVEL`` says), ``failed call to cuInit`` when it first lists
devices, and on CPUs without AVX-512 oneDNN's ``DT_BOOL only on platforms with AVX-512``
notice (an ERROR-level line) when some ops first run.

Once zoo is imported, all of these stay off the terminal whoever imports TensorFlow
next (zoo on first use, or the user's ``import keras``): :func:`hide_tensorflow_start_up`
makes that import run with the native output captured (written out if the import
fails), and sets ``TF_CPP_MIN_LOG_LEVEL=3`` (read once, at import) unless the user set
it before zoo was imported (JAX sets 1 when imported: zoo's decision stands), so later
native notices are not printed either; TensorFlow's errors still reach Python as
exceptions. ``ZOO_TF_LOGS=1`` shows everything.

What zoo cannot hide: when TensorFlow is imported before zoo (``import keras`` first),
its start-up lines are out before zoo runs; zoo then still keeps the ``cuInit`` line
quiet (:func:`import_tensorflow` lists the devices with the output captured).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from typing import Any

from zoo._compat.tensorflow import native_logs_hidden

__all__ = [
    "hide_tensorflow_start_up",
    "import_tensorflow",
    "keras_backend",
    "native_logs_hidden",
    "prepare_backend",
]

SHOW_LOGS_ENV = "ZOO_TF_LOGS"
LOG_LEVEL_ENV = "TF_CPP_MIN_LOG_LEVEL"

_devices_listed = False


def _showing() -> bool:
    return os.environ.get(SHOW_LOGS_ENV) == "1"


_user_level: str | None = None  # TF_CPP_MIN_LOG_LEVEL as the user set it before zoo


def _quiet_import(exec_module: Any, module: Any) -> None:
    # TensorFlow reads the level once, while it is imported. JAX sets it to 1 when it is
    # imported (before TensorFlow on that backend), so zoo decides from what the user
    # had set when zoo was imported, and puts the variable back afterwards.
    previous = os.environ.get(LOG_LEVEL_ENV)
    if not _showing() and _user_level is None:
        os.environ[LOG_LEVEL_ENV] = "3"
    global _devices_listed
    try:
        with native_logs_hidden(show_on_error=True):
            exec_module(module)
            # Where TensorFlow probes CUDA ("failed call to cuInit" without a GPU): here,
            # captured, rather than at the first tf.data op (on JAX, zoo.data's).
            module.config.list_physical_devices()
            _devices_listed = True
    finally:
        if previous is None:
            os.environ.pop(LOG_LEVEL_ENV, None)
        else:
            os.environ[LOG_LEVEL_ENV] = previous


class _QuietLoader(importlib.abc.Loader):
    """Runs TensorFlow's own loader with the native output captured, then steps aside."""

    def __init__(self, loader: importlib.abc.Loader):
        self.loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> Any:
        return self.loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        # TensorFlow sees its real loader (importlib.resources and friends use it).
        module.__loader__ = module.__spec__.loader = self.loader
        _quiet_import(self.loader.exec_module, module)


class _QuietTensorFlowFinder(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` as usual, once, and hands it to :class:`_QuietLoader`."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "tensorflow":
            return None
        _remove_finder()
        if _showing():
            return None
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return None
        spec.loader = _QuietLoader(spec.loader)
        return spec


def _remove_finder() -> None:
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _QuietTensorFlowFinder)]


def hide_tensorflow_start_up() -> None:
    """Make the next import of TensorFlow, by anyone, keep its start-up lines quiet.

    Does nothing if TensorFlow is already imported.
    """
    global _user_level
    if "tensorflow" in sys.modules:
        return
    if not any(isinstance(f, _QuietTensorFlowFinder) for f in sys.meta_path):
        _user_level = os.environ.get(LOG_LEVEL_ENV)
    _remove_finder()
    sys.meta_path.insert(0, _QuietTensorFlowFinder())


def keras_backend() -> str:
    """The backend Keras will use, found as Keras finds it, without importing Keras.

    ``$KERAS_BACKEND``, else ``backend`` in ``$KERAS_HOME/keras.json`` (default
    ``~/.keras``), else ``"tensorflow"``.
    """
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    import json

    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    try:
        with open(os.path.join(home, "keras.json"), encoding="utf-8") as handle:
            backend = json.load(handle).get("backend")
    except (OSError, ValueError, AttributeError):
        backend = None
    return backend if isinstance(backend, str) and backend else "tensorflow"


def prepare_backend() -> None:
    """Before zoo's first use of Keras: on TensorFlow, import it quietly (see module doc).

    On another backend TensorFlow is not imported here at all: only ``tf.data`` pipelines
    and TensorFlow-only features load it, through the same quiet hook.
    """
    if keras_backend() == "tensorflow":
        import_tensorflow()


def import_tensorflow() -> None:
    """Import TensorFlow and list its devices, with their native log lines hidden.

    Listing the physical devices is where TensorFlow probes CUDA (``cuInit``); it is
    instant, and logical devices (virtual CPUs, GPU memory limits) can still be
    configured afterwards.
    """
    global _devices_listed
    if _devices_listed:
        return
    hide_tensorflow_start_up()
    with native_logs_hidden(show_on_error=True):
        import tensorflow as tf

        tf.config.list_physical_devices()
    _devices_listed = True
