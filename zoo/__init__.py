"""zoo: a Keras 3 model zoo and transfer-learning toolkit on TensorFlow.

The public API is re-exported here and imported on first use, so ``import zoo`` and
``zoo --help`` stay fast; TensorFlow loads when a function first needs it.

Example:
    >>> import zoo
    >>> zoo.list_architectures("resnet_*")
    >>> model = zoo.build("resnet_20", num_classes=100)
    >>> zoo.save(model, "cifar100_resnet20")
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from zoo._quiet import hide_tensorflow_start_up
from zoo._version import __version__

# Keep TensorFlow's C++ start-up lines out of notebooks, scripts and the CLI, whoever
# imports it after zoo (zoo itself, or `import keras`); see zoo/_quiet.py.
hide_tensorflow_start_up()

_FUNCTIONS = {
    "build": "zoo.registry",
    "count_params": "zoo.registry",
    "list_architectures": "zoo.registry",
    "load": "zoo.saving",
    "load_card": "zoo.saving",
    "save": "zoo.saving",
    "train": "zoo.training",
    "evaluate": "zoo.training",
    "cross_validate": "zoo.training",
    "tune": "zoo.tuning",
    "export": "zoo.exporting",
    "predict": "zoo.predicting",
    "doctor": "zoo.environment",
    # What zoo raises for what a user can fix (``except zoo.UserError``), without Keras.
    "UserError": "zoo._validation",
    "DamagedFileError": "zoo._validation",
    "ResourceLimitError": "zoo._validation",
}
# zoo.doctor must run (and report) when TensorFlow is broken.
_WITHOUT_TENSORFLOW = ("doctor", "UserError", "DamagedFileError", "ResourceLimitError")
_MODULES = (
    "architectures",
    "data",
    "distribute",
    "layers",
    "plots",
    "registry",
    "saving",
    "training",
    "transfer",
    "tuning",
)

__all__ = [
    "DamagedFileError",
    "ResourceLimitError",
    "UserError",
    "__version__",
    "architectures",
    "build",
    "count_params",
    "cross_validate",
    "data",
    "distribute",
    "doctor",
    "evaluate",
    "export",
    "layers",
    "list_architectures",
    "load",
    "load_card",
    "plots",
    "predict",
    "registry",
    "save",
    "saving",
    "train",
    "training",
    "transfer",
    "tune",
    "tuning",
]

if TYPE_CHECKING:  # pragma: no cover
    from zoo import (
        architectures,
        data,
        distribute,
        layers,
        plots,
        registry,
        saving,
        training,
        transfer,
        tuning,
    )
    from zoo._validation import DamagedFileError, ResourceLimitError, UserError
    from zoo.environment import doctor
    from zoo.exporting import export
    from zoo.predicting import predict
    from zoo.registry import build, count_params, list_architectures
    from zoo.saving import load, load_card, save
    from zoo.training import cross_validate, evaluate, train
    from zoo.tuning import tune


def __getattr__(name: str) -> Any:
    if (name in _FUNCTIONS or name in _MODULES) and name not in _WITHOUT_TENSORFLOW:
        from zoo._quiet import prepare_backend

        prepare_backend()  # first use: TensorFlow (its backend) without its C++ start-up lines
    if name in _FUNCTIONS:
        value = getattr(importlib.import_module(_FUNCTIONS[name]), name)
    elif name in _MODULES:
        value = importlib.import_module(f"zoo.{name}")
    else:
        raise AttributeError(f"module 'zoo' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
