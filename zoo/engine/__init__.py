"""The one training pipeline under ``zoo.train``, ``fine_tune`` and ``zoo.tune``.

- :mod:`~zoo.engine.compiling`: compile a model for its task (one optimizer factory).
- :mod:`~zoo.engine.callbacks`: the standard callbacks (timing, NaN stop, TensorBoard,
  best checkpoint, resumption, early stopping), chief-aware.
- :mod:`~zoo.engine.loop`: fit under any strategy; multi-worker through a custom
  ``strategy.run`` loop that drives the same Keras callbacks.
- :mod:`~zoo.engine.evaluation`: score a split (scikit-learn tables or the model's
  compiled metrics).
- :mod:`~zoo.engine.inputs`: raw input outside, network input inside (what trains
  is the network; what is saved takes raw input).
- :mod:`~zoo.engine.finish`: history tables, and the saved model with its card,
  ``history.csv`` and plots.
"""

from zoo.engine.callbacks import EpochTimer, Resume, standard_callbacks
from zoo.engine.compiling import compile_model
from zoo.engine.evaluation import Evaluation, as_data, evaluate, first_batch, predict
from zoo.engine.finish import finish, history_frame
from zoo.engine.inputs import Fitting, prepare
from zoo.engine.loop import Fitted, fit

__all__ = [
    "EpochTimer",
    "Evaluation",
    "Fitted",
    "Fitting",
    "Resume",
    "as_data",
    "compile_model",
    "evaluate",
    "finish",
    "first_batch",
    "fit",
    "history_frame",
    "predict",
    "prepare",
    "standard_callbacks",
]
