"""Hyperparameter search with Keras Tuner, one call per architecture.

``tune(name, data)`` searches the architecture's default space (declared in its family
module, overridable with a plain dict; see :mod:`zoo.tuning.space`) with random, grid,
Bayesian or Hyperband search, resumes an interrupted search, and returns the trials as
a pandas table with the best model. ``search_space(name)`` shows a default space.
"""

from zoo.tuning.search import ALGORITHMS, TuneResult, trials_frame, tune
from zoo.tuning.space import FIT_KEYS, describe


def search_space(name: str):
    """An architecture's default search space as a table (name, kind, values, sampling).

    Example:
        >>> zoo.tuning.search_space("mlp")
    """
    from zoo import registry

    return describe(registry.get_entry(name).search_space)


__all__ = ["ALGORITHMS", "FIT_KEYS", "TuneResult", "search_space", "trials_frame", "tune"]
