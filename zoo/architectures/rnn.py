"""Recurrent networks: LSTM, GRU and SimpleRNN stacks, optionally bidirectional.

For token sequences (with an embedding whose id 0 is padding and masked) and for
numeric time series (optionally masking padded steps); sequence classification,
regression, and many-to-many (per-step) outputs.

References:
    Hochreiter and Schmidhuber, "Long Short-Term Memory", Neural Computation 1997.
    Cho et al., "Learning Phrase Representations using RNN Encoder-Decoder", 2014 (GRU).
    Schuster and Paliwal, "Bidirectional Recurrent Neural Networks", 1997.
"""

from __future__ import annotations

from typing import Any

import keras

from zoo import _validation as v
from zoo._catalogue import Preset, register
from zoo.architectures import _common

CELLS = {
    "lstm": keras.layers.LSTM,
    "gru": keras.layers.GRU,
    "simple_rnn": keras.layers.SimpleRNN,
}

PRESETS = {
    "rnn_tiny": Preset(
        "A one-layer LSTM over a short numeric sequence, for tests.",
        {"input_shape": (6, 3), "units": (8,), "num_classes": 3},
    ),
    "rnn_text_tiny": Preset(
        "A bidirectional GRU over token ids with masked padding, for tests.",
        {
            "input_shape": (12,),
            "vocab_size": 50,
            "embedding_dim": 8,
            "cell": "gru",
            "units": (8,),
            "bidirectional": True,
            "num_classes": 2,
        },
        task="text classification",
    ),
    "rnn_tagger_tiny": Preset(
        "A SimpleRNN sequence tagger (one prediction per token), for tests.",
        {
            "input_shape": (10,),
            "vocab_size": 30,
            "embedding_dim": 8,
            "cell": "simple_rnn",
            "units": (8,),
            "return_sequences": True,
            "num_classes": 4,
        },
        task="sequence tagging",
    ),
    "lstm": Preset("A two-layer LSTM over numeric sequences.", {"cell": "lstm"}),
    "gru": Preset("A two-layer GRU over numeric sequences.", {"cell": "gru"}),
    "simple_rnn": Preset(
        "A two-layer SimpleRNN (Elman network) over numeric sequences.",
        {"cell": "simple_rnn"},
    ),
    "bilstm": Preset(
        "A two-layer bidirectional LSTM over numeric sequences.",
        {"cell": "lstm", "bidirectional": True},
    ),
    "bilstm_imdb": Preset(
        "The Keras IMDB example: embedding 128, two BiLSTM(64), sigmoid output.",
        {
            "input_shape": (200,),
            "vocab_size": 20000,
            "embedding_dim": 128,
            "units": (64, 64),
            "bidirectional": True,
            "num_classes": 1,
        },
        task="text classification",
    ),
    "lstm_forecaster": Preset(
        "An LSTM regressor for univariate time series (next value).",
        {"input_shape": (None, 1), "units": (32,), "task": "regression"},
        task="time-series regression",
    ),
}


SEARCH_SPACE = {
    "cell": ["lstm", "gru"],
    "units": [(32,), (64,), (64, 64)],
    "bidirectional": [False, True],
    "dropout": {"min": 0.0, "max": 0.4, "step": 0.1},
    "learning_rate": {"min": 1e-4, "max": 1e-2, "sampling": "log"},
}


@register(
    "rnn",
    task="sequence classification",
    description="Stacked recurrent network (LSTM/GRU/SimpleRNN), optionally bidirectional.",
    presets=PRESETS,
    search_space=SEARCH_SPACE,
)
def rnn(
    input_shape: tuple[int | None, ...] = (None, 8),
    num_classes: int | None = 2,
    *,
    cell: str = "lstm",
    units: tuple[int, ...] = (64, 64),
    bidirectional: bool = False,
    vocab_size: int | None = None,
    embedding_dim: int = 64,
    mask_value: float | None = None,
    return_sequences: bool = False,
    activation: Any = "tanh",
    dropout: float = 0.0,
    recurrent_dropout: float = 0.0,
    task: str = "classification",
    num_outputs: int | None = 1,
    head_activation: Any = None,
    kernel_initializer: Any = "glorot_uniform",
    kernel_regularizer: Any = None,
    dtype: Any = None,
    name: str = "rnn",
) -> keras.Model:
    """Build a stacked recurrent network.

    With ``vocab_size`` set, inputs are integer token ids of shape ``(steps,)``, id 0
    is padding and is masked through every layer. Without it, inputs are numeric of
    shape ``(steps, features)``; set ``mask_value`` to skip padded steps.

    Args:
        input_shape: ``(steps,)`` for tokens or ``(steps, features)`` for numbers;
            ``steps`` may be None for variable length.
        num_classes: classes for classification; None for a headless model.
        cell: ``"lstm"``, ``"gru"`` or ``"simple_rnn"``.
        units: units of each recurrent layer.
        bidirectional: wrap each layer in ``Bidirectional`` (outputs concatenated).
        vocab_size: vocabulary size for token inputs (ids in ``[0, vocab_size)``).
        embedding_dim: embedding size for token inputs.
        mask_value: for numeric inputs, steps whose features all equal this value
            are masked.
        return_sequences: many-to-many: one prediction per step.
        activation: the cells' activation.
        dropout: dropout between recurrent layers and before the head.
        recurrent_dropout: dropout on the recurrent state (disables cuDNN kernels).
        task: ``"classification"`` or ``"regression"``.
        num_outputs: outputs for ``task="regression"``; None for a headless model.
        head_activation: output activation; softmax (sigmoid for one class) or linear
            by default.
        kernel_initializer: initializer of the input kernels.
        kernel_regularizer: None, an L2 factor (float), 'l1', 'l2' or a Regularizer.
        dtype: dtype policy (the output stays float32 under mixed precision).
        name: model name.

    Returns:
        An uncompiled ``keras.Model``.

    Raises:
        ValueError: for an invalid value. TypeError: for a wrong type.

    Example:
        >>> zoo.build("rnn_tiny").output_shape
        (None, 3)
    """
    vocab_size = v.check_int("vocab_size", vocab_size, minimum=2, allow_none=True)
    tokens = vocab_size is not None
    if tokens and not (isinstance(input_shape, (tuple, list)) and len(input_shape) == 1):
        raise v.invalid("input_shape", "(steps,) when `vocab_size` is set (token ids)", input_shape)
    shape, num_classes, options = _common.check_contract(
        input_shape=input_shape,
        ndim=1 if tokens else 2,
        num_classes=num_classes,
        head_activation=head_activation,
        dropout=dropout,
        dtype=dtype,
        name=name,
        kernel_initializer=kernel_initializer,
        kernel_regularizer=kernel_regularizer,
        allow_none=(0,),
    )
    v.check_choice("cell", cell, tuple(CELLS))
    units = v.check_int_sequence("units", units)
    v.check_bool("bidirectional", bidirectional)
    embedding_dim = v.check_int("embedding_dim", embedding_dim, minimum=1)
    if mask_value is not None:
        if tokens:
            raise v.invalid("mask_value", "None for token inputs (id 0 is masked)", mask_value)
        mask_value = v.check_float("mask_value", mask_value)
    v.check_bool("return_sequences", return_sequences)
    v.check_activation("activation", activation)
    recurrent_dropout = v.check_rate("recurrent_dropout", recurrent_dropout)
    task, num_outputs = _common.check_task(task, num_outputs)

    if tokens:
        inputs = keras.Input(shape=shape, dtype="int32", name="tokens")
        x = keras.layers.Embedding(
            vocab_size, embedding_dim, mask_zero=True, dtype=dtype, name="embedding"
        )(inputs)
    else:
        inputs = keras.Input(shape=shape, name="inputs")
        x = inputs
        if mask_value is not None:
            x = keras.layers.Masking(mask_value, dtype=dtype, name="masking")(inputs)

    layer_class = CELLS[cell]
    for i, width in enumerate(units, start=1):
        last = i == len(units)
        if i > 1 and dropout > 0:
            x = keras.layers.Dropout(dropout, name=f"dropout_{i - 1}")(x)
        layer = layer_class(
            width,
            activation=activation,
            return_sequences=return_sequences or not last,
            recurrent_dropout=recurrent_dropout,
            kernel_initializer=options.kernel_initializer,
            kernel_regularizer=options.kernel_regularizer,
            dtype=dtype,
            name=f"{cell}_{i}",
        )
        if bidirectional:
            layer = keras.layers.Bidirectional(layer, dtype=dtype, name=f"bi{cell}_{i}")
        x = layer(x)
    outputs = _common.head(
        x,
        num_classes=num_classes,
        head_activation=head_activation,
        dropout=dropout,
        options=options,
        task=task,
        num_outputs=num_outputs,
    )
    return keras.Model(inputs, outputs, name=name)
