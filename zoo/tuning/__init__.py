"""Hyperparameter search with Keras Tuner, one call per architecture.

``tune(name, data)`` searches the architecture's default space (declared in its family
module, overridable with a plain dict; see :mod:`zoo.tuning.space`) with random, grid,
Bayesian or Hyperband search, resumes an interrupted search, and returns the trials as
a pandas table with the best model. ``search_space(name)`` shows a default space.
"""

from zoo.tuning.search import ALGORITHMS, TuneResult, get_entry, trials_frame, tune
from zoo.tuning.space import FIT_KEYS, describe


def search_space(name: str):
    """An architecture's default search space as a table (name, kind, values, sampling).

    `name` is a registered architecture or a transfer builder (``"image_classifier"``,
    ``"text_classifier"``, whose backbone or preset is itself a choice).

    Example:
        >>> zoo.tuning.search_space("mlp")
    """
    return describe(get_entry(name).search_space)


__all__ = [
    "ALGORITHMS",
    "FIT_KEYS",
    "TuneResult",
    "get_entry",
    "search_space",
    "trials_frame",
    "tune",
]
