"""Pretrained text backbones from keras-hub (BERT and its relatives) for classification.

:func:`text_classifier` builds a keras-hub ``TextClassifier`` that takes raw strings,
its preprocessor's ``sequence_length`` always the one asked for; every preset in
:data:`TEXT_BACKBONES` is also a row of zoo's catalogue under its keras-hub name
(``zoo.build("bert_tiny_en_uncased", num_classes=2)``). Defined in
:mod:`zoo.architectures.pretrained.text`, which says how presets are found offline.
BERT: Devlin et al., 2019, https://arxiv.org/abs/1810.04805.

keras-hub compiles every task model when it is built (``Adam(5e-5)``, sparse
categorical cross-entropy on logits, sparse categorical accuracy), and
:func:`text_classifier` returns the model compiled that way. After
``keras.saving.load_model`` the model is compiled with those keras-hub defaults again,
not with the settings it was saved with (Keras warns that ``compile()`` was not called,
and the optimizer state is dropped): call :func:`recompile` (or ``model.compile(...)``)
with your own settings before training it further.
"""

from __future__ import annotations

from typing import Any

import keras

from zoo import _validation as v
from zoo.architectures.pretrained.text import (
    KAGGLEHUB_CACHE_ENV,
    OFFLINE_ENV,
    SEARCH_SPACE,
    TEXT_BACKBONES,
    WEIGHTS_DIR_ENV,
    TextBackbone,
    cached_preset,
    kagglehub_cache_dir,
    text_classifier,
    text_rows,
)

__all__ = [
    "KAGGLEHUB_CACHE_ENV",
    "OFFLINE_ENV",
    "SEARCH_SPACE",
    "TEXT_BACKBONES",
    "WEIGHTS_DIR_ENV",
    "TextBackbone",
    "cached_preset",
    "kagglehub_cache_dir",
    "recompile",
    "text_classifier",
    "text_rows",
]


def recompile(model: keras.Model, **compile_kwargs: Any) -> keras.Model:
    """Compile a (loaded) keras-hub task again, with keras-hub's defaults or your settings.

    ``keras.saving.load_model`` gives a keras-hub task back compiled with keras-hub's
    defaults, not with the optimizer, loss and metrics it was saved with; call this (or
    ``model.compile``) before training it further.

    Args:
        model: a keras-hub task, for example one from :func:`text_classifier`.
        **compile_kwargs: ``model.compile`` arguments; ``optimizer``, ``loss`` and
            ``metrics`` default to ``"auto"`` (keras-hub's choice for the task).

    Returns:
        The same model, compiled.

    Example:
        >>> model = keras.saving.load_model("classifier.keras")  # doctest: +SKIP
        >>> from zoo.transfer.text import recompile  # doctest: +SKIP
        >>> recompile(model, optimizer=keras.optimizers.Adam(1e-4))  # doctest: +SKIP
    """
    if not isinstance(model, keras.Model):
        raise v.invalid("model", "a keras.Model", model, TypeError)
    model.compile(**compile_kwargs)
    return model
