"""Values made JSON-serialisable, for model cards and registry specs."""

from __future__ import annotations

import math
import numbers
from pathlib import Path
from typing import Any

import numpy as np


def to_jsonable(value: Any) -> Any:
    """Convert a value to something ``json.dumps`` accepts (tuples become lists).

    Keras objects (initializers, regularizers, dtype policies) become their Keras
    serialization; numpy scalars and arrays become Python numbers and lists.
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {str(k): to_jsonable(item) for k, item in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [to_jsonable(item) for item in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "get_config"):
        import keras

        return keras.saving.serialize_keras_object(value)
    if hasattr(value, "to_dict"):  # pandas objects
        return to_jsonable(value.to_dict())
    return repr(value)
