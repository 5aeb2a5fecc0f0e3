"""Grid search whose combinations parallel workers can share.

Keras Tuner's ``GridSearchOracle`` derives each new combination from a *finished*
trial (it supports hyperparameters that appear only under conditions), so with
several workers all but one wait: a 2-worker grid search takes as long as a 1-worker
one. zoo's spaces are flat (every name is sampled in every trial), so the whole grid
is known up front; :class:`GridOracle` hands each request the first combination no
trial holds yet, in Keras Tuner's order (defaults first, the last name varying
fastest). Spaces with conditional hyperparameters (an ``hp`` builder's scopes) keep
Keras Tuner's own method.
"""

from __future__ import annotations

import itertools
from typing import Any

import keras_tuner
from keras_tuner.engine import trial as trial_module


def _ordered_values(hp: Any) -> list[Any]:
    values = list(hp.values)
    if hp.default in values:
        values.remove(hp.default)
    return [hp.default, *values]


class GridOracle(keras_tuner.oracles.GridSearchOracle):
    """``GridSearchOracle`` that gives every worker its own untried combination."""

    def populate_space(self, trial_id: str) -> dict[str, Any]:
        space = self.get_space().space
        if not self.start_order or any(hp.conditions for hp in space):
            return super().populate_space(trial_id)
        names = [hp.name for hp in space]
        taken = {
            tuple(trial.hyperparameters.values.get(name) for name in names)
            for trial in self.trials.values()
        }
        for combination in itertools.product(*(_ordered_values(hp) for hp in space)):
            if combination not in taken:
                return {
                    "status": trial_module.TrialStatus.RUNNING,
                    "values": dict(zip(names, combination, strict=True)),
                }
        return {"status": trial_module.TrialStatus.STOPPED, "values": None}


class GridSearch(keras_tuner.Tuner):
    """Keras Tuner's ``GridSearch`` arguments, with :class:`GridOracle`."""

    def __init__(
        self,
        hypermodel: Any = None,
        objective: Any = None,
        max_trials: int | None = None,
        seed: int | None = None,
        max_consecutive_failed_trials: int = 3,
        **kwargs: Any,
    ) -> None:
        oracle = GridOracle(
            objective=objective,
            max_trials=max_trials,
            seed=seed,
            max_consecutive_failed_trials=max_consecutive_failed_trials,
        )
        super().__init__(oracle=oracle, hypermodel=hypermodel, **kwargs)
