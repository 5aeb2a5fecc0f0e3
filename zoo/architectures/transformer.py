"""Transformers: a text encoder classifier, the Vision Transformer and a GPT decoder.

References: Vaswani et al., "Attention is all you need", NeurIPS 2017 (the encoder
block); Dosovitskiy et al., "An image is worth 16x16 words", ICLR 2021 (ViT: patch
embedding, class token, learned positions, pre-norm blocks); Radford et al.,
"Language models are unsupervised multitask learners", 2019 (GPT-2: causal pre-norm
blocks, tied input and output embeddings). ``transformer_imdb`` is the Keras example
"Text classification with Transformer" (653,566 parameters); ``vit_b16`` is ViT-B/16
(86,567,656 parameters with a 1000-class head, as in Google's and timm's code);
``gpt2_small`` is GPT-2 small (124,439,808 parameters, as Hugging Face's ``gpt2``).
The blocks live in :mod:`zoo.layers.transformer`.

A GPT trained by ``zoo.train`` on a text corpus keeps the corpus's vocabulary and
tokenizer (``zoo.data.corpus``) in its config, so ``generate`` takes and returns text.
"""

from __future__ import annotations

import collections
from typing import Any

import keras
import numpy as np

from zoo import _validation as v
from zoo._catalogue import Preset, register
from zoo.architectures import _common
from zoo.layers import PatchEmbedding, SelectToken, TokenAndPositionEmbedding, TransformerBlock

POOLINGS = ("avg", "max")

CLASSIFIER_PRESETS = {
    "transformer_tiny": Preset(
        "A one-block text transformer for tests.",
        {"input_shape": (16,), "vocab_size": 100, "width": 16, "num_heads": 2, "mlp_dim": 32},
    ),
    "transformer_imdb": Preset(
        "The Keras example text transformer (IMDB, 20k words, 200 tokens; post-norm, ReLU).",
        {
            "input_shape": (200,),
            "num_classes": 2,
            "vocab_size": 20000,
            "width": 32,
            "num_layers": 1,
            "num_heads": 2,
            "mlp_dim": 32,
            "dropout": 0.1,
            "activation": "relu",
            "norm_first": False,
            "head_units": (20,),
        },
    ),
}

CLASSIFIER_SPACE = {
    "width": [32, 64, 128],
    "num_layers": [1, 2, 4],
    "num_heads": [2, 4],
    "dropout": {"min": 0.0, "max": 0.3, "step": 0.1},
    "learning_rate": {"min": 1e-4, "max": 3e-3, "sampling": "log"},
}

VIT_PRESETS = {
    "vit_tiny": Preset(
        "A two-block ViT for tests (32x32 images, 4x4 patches).",
        {
            "input_shape": (32, 32, 3),
            "num_classes": 10,
            "patch_size": 4,
            "width": 32,
            "num_layers": 2,
            "num_heads": 2,
            "mlp_dim": 64,
        },
    ),
    "vit_cifar": Preset(
        "A small ViT for 32x32 images (4x4 patches, width 192, 6 blocks, 3 heads).",
        {
            "input_shape": (32, 32, 3),
            "num_classes": 10,
            "patch_size": 4,
            "width": 192,
            "num_layers": 6,
            "num_heads": 3,
            "mlp_dim": 384,
            "dropout": 0.1,
        },
    ),
    "vit_b16": Preset(
        "ViT-B/16 (Dosovitskiy et al.): 224x224, 16x16 patches, width 768, 12 blocks.",
        {
            "input_shape": (224, 224, 3),
            "num_classes": 1000,
            "patch_size": 16,
            "width": 768,
            "num_layers": 12,
            "num_heads": 12,
            "mlp_dim": 3072,
        },
    ),
}

VIT_SPACE = {
    "patch_size": [2, 4],
    "width": [64, 128],
    "num_layers": [2, 4, 6],
    "num_heads": [2, 4],
    "dropout": {"min": 0.0, "max": 0.2, "step": 0.1},
    "learning_rate": {"min": 1e-4, "max": 3e-3, "sampling": "log"},
}


def _check_blocks(width, num_layers, num_heads, mlp_dim, attention_dropout, activation):
    width = v.check_int("width", width, minimum=1)
    num_layers = v.check_int("num_layers", num_layers, minimum=1)
    num_heads = v.check_int("num_heads", num_heads, minimum=1)
    if width % num_heads:
        raise v.ArgumentValueError(
            f"num_heads must divide width into equal heads (width={width}). "
            f"Received: num_heads={num_heads}"
        )
    mlp_dim = v.check_int("mlp_dim", mlp_dim, minimum=1)
    v.check_rate("attention_dropout", attention_dropout)
    v.check_activation("activation", activation)
    return width, num_layers, num_heads, mlp_dim


def _blocks(x, num_layers: int, num_heads: int, mlp_dim: int, **options: Any):
    """`num_layers` TransformerBlocks named block_1, block_2, ... applied in turn to `x`."""
    for i in range(1, num_layers + 1):
        x = TransformerBlock(num_heads, mlp_dim, name=f"block_{i}", **options)(x)
    return x


@register(
    "transformer_classifier",
    task="text classification",
    description="Transformer encoder over token ids: embeddings, N blocks, pooling, head.",
    presets=CLASSIFIER_PRESETS,
    family="transformer",
    search_space=CLASSIFIER_SPACE,
)
def transformer_classifier(
    input_shape: tuple[int] = (128,),
    num_classes: int | None = 2,
    *,
    vocab_size: int = 20000,
    width: int = 64,
    num_layers: int = 1,
    num_heads: int = 2,
    mlp_dim: int = 128,
    dropout: float = 0.1,
    attention_dropout: float = 0.0,
    activation: Any = "gelu",
    norm_first: bool = True,
    pooling: str = "avg",
    head_units: tuple[int, ...] = (),
    head_activation: Any = None,
    dtype: Any = None,
    name: str = "transformer_classifier",
) -> keras.Model:
    """Build a transformer encoder classifier for token ids (0 is padding).

    Token and learned position embeddings feed ``num_layers`` encoder blocks whose
    attention ignores padding; the sequence is pooled (padding excluded), passed
    through optional ReLU ``head_units`` with dropout, and classified.

    Args:
        input_shape: ``(max_length,)``, the padded sequence length.
        num_classes: classes of the head; None for a headless encoder.
        vocab_size: token ids are in ``[0, vocab_size)``.
        width: embedding and block width.
        num_layers: encoder blocks.
        num_heads: attention heads; they must divide `width`.
        mlp_dim: feed-forward width of each block.
        dropout: dropout in the blocks and the head.
        attention_dropout: dropout on attention weights.
        activation: feed-forward activation.
        norm_first: pre-norm blocks (True) or the 2017 post-norm ones (False).
        pooling: ``"avg"`` or ``"max"`` over the unpadded positions.
        head_units: hidden ReLU layers before the output.
        head_activation: output activation (default softmax, sigmoid for 1 class).
        dtype: dtype policy, for example ``"mixed_float16"``.
        name: model name.

    Returns:
        An uncompiled ``keras.Model`` taking int token ids.

    Raises:
        ValueError: invalid values, such as heads that do not divide the width.
        TypeError: wrong types.

    Example:
        >>> model = zoo.build("transformer_tiny")
        >>> model.output_shape
        (None, 2)
    """
    shape, num_classes, options = _common.check_contract(
        input_shape=input_shape,
        ndim=1,
        num_classes=num_classes,
        head_activation=head_activation,
        dropout=dropout,
        dtype=dtype,
        name=name,
    )
    vocab_size = v.check_int("vocab_size", vocab_size, minimum=2)
    width, num_layers, num_heads, mlp_dim = _check_blocks(
        width, num_layers, num_heads, mlp_dim, attention_dropout, activation
    )
    v.check_bool("norm_first", norm_first)
    v.check_choice("pooling", pooling, POOLINGS)
    head_units = v.check_int_sequence("head_units", head_units, min_length=0)

    inputs = keras.Input(shape=shape, dtype="int32", name="token_ids")
    x = TokenAndPositionEmbedding(vocab_size, shape[0], width, dtype=dtype, name="embedding")(
        inputs
    )
    x = keras.layers.Dropout(dropout, name="embedding_dropout")(x)
    x = _blocks(
        x,
        num_layers,
        num_heads,
        mlp_dim,
        dropout=dropout,
        attention_dropout=attention_dropout,
        activation=activation,
        norm_first=norm_first,
        dtype=dtype,
    )
    if norm_first:
        x = keras.layers.LayerNormalization(epsilon=1e-6, dtype=dtype, name="final_norm")(x)
    pool = (
        keras.layers.GlobalAveragePooling1D if pooling == "avg" else keras.layers.GlobalMaxPooling1D
    )
    x = pool(name=f"{pooling}_pool")(x)
    for i, units in enumerate(head_units, start=1):
        if dropout > 0:
            x = keras.layers.Dropout(dropout, name=f"head_dropout_{i}")(x)
        x = options.dense(units, activation="relu", name=f"head_dense_{i}")(x)
    outputs = _common.head(
        x,
        num_classes=num_classes,
        head_activation=head_activation,
        dropout=dropout,
        options=options,
    )
    return keras.Model(inputs, outputs, name=name)


@register(
    "vit",
    task="image classification",
    description="Vision Transformer: patch embedding, class token, pre-norm blocks.",
    presets=VIT_PRESETS,
    family="transformer",
    search_space=VIT_SPACE,
)
def vit(
    input_shape: tuple[int, int, int] = (224, 224, 3),
    num_classes: int | None = 1000,
    *,
    patch_size: int = 16,
    width: int = 768,
    num_layers: int = 12,
    num_heads: int = 12,
    mlp_dim: int = 3072,
    dropout: float = 0.0,
    attention_dropout: float = 0.0,
    activation: Any = "gelu",
    head_activation: Any = None,
    dtype: Any = None,
    name: str = "vit",
) -> keras.Model:
    """Build a Vision Transformer (ViT) classifier.

    Images are cut into ``patch_size`` squares, projected to ``width``, prefixed with a
    class token and given learned positions; ``num_layers`` pre-norm blocks follow,
    then a final LayerNorm, and the class token's state is classified.

    Args:
        input_shape: (height, width, channels); `patch_size` must divide both sides.
        num_classes: classes of the head; None returns the class token's features.
        patch_size: side of the square patches.
        width: token width (the hidden size D).
        num_layers: transformer blocks.
        num_heads: attention heads; they must divide `width`.
        mlp_dim: feed-forward width of each block.
        dropout: dropout after the embeddings and in every block.
        attention_dropout: dropout on attention weights.
        activation: feed-forward activation.
        head_activation: output activation (default softmax, sigmoid for 1 class).
        dtype: dtype policy, for example ``"mixed_float16"``.
        name: model name.

    Returns:
        An uncompiled ``keras.Model``.

    Raises:
        ValueError: invalid values, such as an `input_shape` whose height or width
            `patch_size` does not divide (an image smaller than a patch) or heads that
            do not divide the width. TypeError: wrong types.

    Example:
        >>> model = zoo.build("vit_tiny")
        >>> model.output_shape
        (None, 10)
    """
    shape, num_classes, options = _common.check_contract(
        input_shape=input_shape,
        ndim=3,
        num_classes=num_classes,
        head_activation=head_activation,
        dropout=dropout,
        dtype=dtype,
        name=name,
    )
    patch_size = v.check_int("patch_size", patch_size, minimum=1)
    if shape[0] % patch_size or shape[1] % patch_size:
        raise v.ArgumentValueError(
            f"`input_shape` must have a height and width that `patch_size` divides (ViT "
            f"cuts images into {patch_size}x{patch_size} patches, so both sides must be "
            f"multiples of {patch_size}, at least {patch_size}): resize the images or "
            f"choose a patch_size that divides both sides. "
            f"Received: input_shape={tuple(input_shape)!r}, patch_size={patch_size}"
        )
    width, num_layers, num_heads, mlp_dim = _check_blocks(
        width, num_layers, num_heads, mlp_dim, attention_dropout, activation
    )

    inputs = keras.Input(shape=shape, name="images")
    x = PatchEmbedding(patch_size, width, dtype=dtype, name="patch_embedding")(inputs)
    if dropout > 0:
        x = keras.layers.Dropout(dropout, name="embedding_dropout")(x)
    x = _blocks(
        x,
        num_layers,
        num_heads,
        mlp_dim,
        dropout=dropout,
        attention_dropout=attention_dropout,
        activation=activation,
        dtype=dtype,
    )
    x = keras.layers.LayerNormalization(epsilon=1e-6, dtype=dtype, name="final_norm")(x)
    x = SelectToken(0, name="class_token")(x)
    outputs = _common.head(
        x,
        num_classes=num_classes,
        head_activation=head_activation,
        dropout=0.0,
        options=options,
    )
    return keras.Model(inputs, outputs, name=name)


GPT_PRESETS = {
    "gpt_tiny": Preset(
        "A two-block character-level GPT for tests (64 symbols, 32 positions).",
        {"vocab_size": 64, "max_length": 32, "width": 32, "num_layers": 2, "num_heads": 2},
    ),
    "gpt2_small": Preset(
        "GPT-2 small (Radford et al.): 50,257 tokens, 1,024 positions, 12 blocks of 768.",
        {
            "vocab_size": 50257,
            "max_length": 1024,
            "width": 768,
            "num_layers": 12,
            "num_heads": 12,
            "dropout": 0.1,
        },
    ),
}

GPT_SPACE = {
    "width": [64, 128, 256],
    "num_layers": [2, 4, 6],
    "num_heads": [2, 4],
    "dropout": {"min": 0.0, "max": 0.2, "step": 0.1},
    "learning_rate": {"min": 1e-4, "max": 3e-3, "sampling": "log"},
}


@keras.saving.register_keras_serializable(package="zoo")
class GPT(_common.CompiledOnLoad, keras.Model):
    """A decoder-only language model: token ids (batch, length) -> next-token logits.

    A functional model (token and position embeddings, causal pre-norm blocks, a
    final LayerNorm, the token matrix again as the output projection) with language
    modelling defaults: ``compile()`` uses AdamW and from-logits cross-entropy, and
    ``fit(x)`` on token sequences alone trains each position to predict the next
    (pass ``(x, y)`` to give the targets yourself). Given the `vocabulary` and
    `tokenizer` of its corpus (``zoo.train`` passes them), it keeps them in its config
    and ``generate`` takes and returns text. Build it with ``zoo.build("gpt", ...)``;
    the arguments are those of :func:`gpt`.
    """

    def __init__(
        self,
        vocab_size: int,
        max_length: int,
        width: int,
        num_layers: int,
        num_heads: int,
        mlp_dim: int,
        dropout: float = 0.0,
        attention_dropout: float = 0.0,
        activation: Any = "gelu",
        epsilon: float = 1e-5,
        name: str = "gpt",
        vocabulary: list[str] | None = None,
        tokenizer: str | None = None,
        **kwargs: Any,
    ) -> None:
        dtype = kwargs.pop("dtype", None)
        inputs = keras.Input(shape=(None,), dtype="int32", name="token_ids")
        embedding = TokenAndPositionEmbedding(
            vocab_size,
            max_length,
            width,
            mask_zero=False,
            embeddings_initializer=keras.initializers.RandomNormal(stddev=0.02),
            dtype=dtype,
            name="embedding",
        )
        x = embedding(inputs)
        if dropout > 0:
            x = keras.layers.Dropout(dropout, name="embedding_dropout")(x)
        x = _blocks(
            x,
            num_layers,
            num_heads,
            mlp_dim,
            dropout=dropout,
            attention_dropout=attention_dropout,
            activation=activation,
            causal=True,
            epsilon=epsilon,
            dtype=dtype,
        )
        x = keras.layers.LayerNormalization(epsilon=epsilon, dtype=dtype, name="final_norm")(x)
        logits = embedding(x, reverse=True)
        super().__init__(inputs, logits, name=name, **kwargs)
        self.vocab_size = vocab_size
        self.max_length = max_length
        self._token_encoder = None  # made from the vocabulary on first use
        config = {
            "vocab_size": vocab_size,
            "max_length": max_length,
            "width": width,
            "num_layers": num_layers,
            "num_heads": num_heads,
            "mlp_dim": mlp_dim,
            "dropout": dropout,
            "attention_dropout": attention_dropout,
            "activation": activation,
            "epsilon": epsilon,
            "dtype": dtype,
        }
        if vocabulary is not None:  # configs without them stay as they were
            config.update(vocabulary=list(vocabulary), tokenizer=tokenizer)
        self._gpt_config = config

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, **self._gpt_config}

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: Any = None) -> GPT:
        return cls(**config)

    def compile(self, optimizer: Any = "auto", loss: Any = "auto", metrics: Any = "auto", **kwargs):
        """Keras's compile, where ``"auto"`` is AdamW(3e-4), logits cross-entropy, accuracy."""
        if optimizer == "auto":
            optimizer = keras.optimizers.AdamW(learning_rate=3e-4, weight_decay=0.01)
        if loss == "auto":
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        if metrics == "auto":
            metrics = [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    def _next_token_targets(self, x, y, y_pred):
        if y is None and x is not None:  # language modelling: predict token t+1 at t
            return x[:, 1:], y_pred[:, :-1]
        return y, y_pred

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        y, y_pred = self._next_token_targets(x, y, y_pred)
        return super().compute_loss(x, y, y_pred, sample_weight, training=training)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        y, y_pred = self._next_token_targets(x, y, y_pred)
        return super().compute_metrics(x, y, y_pred, sample_weight)

    @property
    def vocabulary(self) -> list[str] | None:
        """The corpus's tokens (index = token id), or None."""
        vocabulary = self._gpt_config.get("vocabulary")
        return None if vocabulary is None else list(vocabulary)

    @property
    def tokenizer(self) -> str | None:
        """``"character"`` or ``"word"``: how text becomes tokens; None without a vocabulary."""
        return self._gpt_config.get("tokenizer")

    def token_encoder(self) -> Any:
        """Its corpus's ``zoo.data.corpus.TokenEncoder`` (None without a vocabulary).

        Example:
            >>> model = zoo.build("gpt_tiny", vocab_size=4, vocabulary=["", "[UNK]", "a", "b"],
            ...                   tokenizer="character")
            >>> model.token_encoder().decode([2, 3, 1])
            'ab[UNK]'
        """
        if self.vocabulary is None:
            return None
        if self._token_encoder is None:
            from zoo.data.corpus import TokenEncoder

            encoder = TokenEncoder.from_vocabulary(self.vocabulary, self.tokenizer)
            object.__setattr__(self, "_token_encoder", encoder)  # not tracked by Keras
        return self._token_encoder

    def generate(
        self,
        prompt: Any,
        max_new_tokens: int = 32,
        temperature: float = 1.0,
        top_k: int | None = None,
        seed: int | None = None,
    ) -> Any:
        """Continue a text, or token sequences, one sampled token at a time.

        Args:
            prompt: text (a string, tokenised as the model's corpus was: symbols
                outside its vocabulary become ``[UNK]``), or token ids: one sequence
                (1-D) or a batch of equal length (2-D).
            max_new_tokens: tokens to add.
            temperature: softmax temperature; 0 picks the most likely token (greedy).
            top_k: sample only among the k most likely tokens (None: all).
            seed: makes sampling reproducible.

        Returns:
            For text, the prompt followed by the new tokens' text (a string). For ids,
            the prompts followed by the new tokens, as int32 numpy, 1-D for a 1-D prompt.

        Raises:
            ValueError: an empty prompt, ids outside the vocabulary, text for a model
                without a vocabulary, a negative temperature, or top_k outside
                [1, vocab_size].

        Example:
            >>> model = zoo.build("gpt_tiny")
            >>> model.generate([1, 2, 3], max_new_tokens=5, temperature=0).shape
            (8,)
            >>> symbols = ["", "[UNK]", *"abcdefghijklmnopqrstuvwxyz .,"]
            >>> model = zoo.build("gpt_tiny", vocab_size=len(symbols), vocabulary=symbols,
            ...                   tokenizer="character")
            >>> text = model.generate("a zoo", max_new_tokens=5, seed=0)
            >>> text.startswith("a zoo"), len(text) <= len("a zoo") + 5 * len("[UNK]")
            (True, True)
        """
        if isinstance(prompt, str):
            return self._generate_text(prompt, max_new_tokens, temperature, top_k, seed)
        try:
            ids = np.asarray(prompt)
        except ValueError:  # ragged
            raise v.invalid("prompt", "sequences of equal length", prompt) from None
        if ids.ndim not in (1, 2) or ids.shape[-1] == 0 or ids.dtype.kind not in "iu":
            raise v.invalid(
                "prompt", "a string, or a non-empty 1-D or 2-D array of token ids", prompt
            )
        if ids.min() < 0 or ids.max() >= self.vocab_size:
            raise v.invalid(
                "prompt", f"token ids in [0, {self.vocab_size})", f"{ids.min()}..{ids.max()}"
            )
        max_new_tokens = v.check_int("max_new_tokens", max_new_tokens, minimum=0)
        temperature = v.check_float("temperature", temperature, minimum=0.0)
        top_k = v.check_int("top_k", top_k, minimum=1, maximum=self.vocab_size, allow_none=True)
        seed = v.check_int("seed", seed, minimum=0, allow_none=True)
        single = ids.ndim == 1
        ids = ids[None].astype("int32") if single else ids.astype("int32")
        generator = keras.random.SeedGenerator(seed) if seed is not None else None
        for _ in range(max_new_tokens):
            context = ids[:, -self.max_length :]
            logits = self(context, training=False)[:, -1, :]
            if temperature == 0:
                chosen = keras.ops.argmax(logits, axis=-1)
            else:
                logits = logits / temperature
                if top_k is not None:
                    kth = keras.ops.top_k(logits, top_k)[0][:, -1:]
                    logits = keras.ops.where(logits < kth, -1e9, logits)
                chosen = keras.random.categorical(logits, 1, seed=generator)[:, 0]
            chosen = keras.ops.convert_to_numpy(chosen).astype("int32")
            ids = np.concatenate([ids, chosen[:, None]], axis=1)
        return ids[0] if single else ids

    def _generate_text(self, prompt, max_new_tokens, temperature, top_k, seed) -> str:
        encoder = self.token_encoder()
        if encoder is None:
            raise v.invalid(
                "prompt",
                "token ids for a model without a vocabulary (train it with zoo.train on a "
                "text corpus, such as zoo.train('gpt_tiny', 'zen'), or build it with "
                "vocabulary= and tokenizer=, to give it text)",
                prompt,
            )
        ids = encoder.transform(prompt)
        if len(ids) == 0:
            raise v.invalid("prompt", f"text with at least one {self.tokenizer} token", prompt)
        out = self.generate(ids, max_new_tokens, temperature, top_k, seed)
        new = encoder.decode(out[len(ids) :])
        # The prompt as given (not as decoded: its unknown symbols stay as they were).
        if self.tokenizer == "word" and new and not prompt[-1].isspace():
            return f"{prompt} {new}"
        return prompt + new


@register(
    "gpt",
    task="language modeling",
    description="GPT decoder: causal pre-norm blocks, tied embeddings, generate().",
    presets=GPT_PRESETS,
    family="transformer",
    search_space=GPT_SPACE,
)
def gpt(
    vocab_size: int = 50257,
    max_length: int = 1024,
    *,
    width: int = 768,
    num_layers: int = 12,
    num_heads: int = 12,
    mlp_dim: int | None = None,
    dropout: float = 0.0,
    attention_dropout: float = 0.0,
    activation: Any = "gelu",
    vocabulary: list[str] | None = None,
    tokenizer: str | None = None,
    dtype: Any = None,
    name: str = "gpt",
) -> GPT:
    """Build a GPT-style decoder-only language model.

    Args:
        vocab_size: token ids are in ``[0, vocab_size)``.
        max_length: the most positions (the context window).
        width: embedding and block width.
        num_layers: causal transformer blocks.
        num_heads: attention heads; they must divide `width`.
        mlp_dim: feed-forward width (default ``4 * width``, as GPT-2).
        dropout: dropout on embeddings and block outputs.
        attention_dropout: dropout on attention weights.
        activation: feed-forward activation.
        vocabulary: the corpus's tokens, index = token id (``data.encoder.vocabulary``
            of ``zoo.data.load(..., task="language_modeling")``: ``""`` for padding and
            ``"[UNK]"`` first), `vocab_size` of them; kept in the model's config, so
            that ``generate`` takes and returns text. ``zoo.train`` passes the corpus's.
        tokenizer: ``"character"`` or ``"word"``, how the corpus was tokenised; given
            with `vocabulary`.
        dtype: dtype policy, for example ``"mixed_float16"`` (logits stay float32).
        name: model name.

    Returns:
        An uncompiled :class:`GPT` (a ``keras.Model`` with ``generate``).

    Raises:
        ValueError: invalid values, such as heads that do not divide the width, or a
            vocabulary that is not `vocab_size` distinct tokens.
        TypeError: wrong types.

    Example:
        >>> model = zoo.build("gpt_tiny")
        >>> model.output_shape
        (None, None, 64)
    """
    vocab_size = v.check_int("vocab_size", vocab_size, minimum=2)
    max_length = v.check_int("max_length", max_length, minimum=1)
    mlp_dim = 4 * v.check_int("width", width, minimum=1) if mlp_dim is None else mlp_dim
    width, num_layers, num_heads, mlp_dim = _check_blocks(
        width, num_layers, num_heads, mlp_dim, attention_dropout, activation
    )
    v.check_rate("dropout", dropout)
    vocabulary, tokenizer = _check_vocabulary(vocabulary, tokenizer, vocab_size)
    v.check_dtype("dtype", dtype)
    v.check_name("name", name)
    return GPT(
        vocab_size,
        max_length,
        width,
        num_layers,
        num_heads,
        mlp_dim,
        dropout=dropout,
        attention_dropout=attention_dropout,
        activation=activation,
        name=name,
        vocabulary=vocabulary,
        tokenizer=tokenizer,
        dtype=dtype,
    )


def _check_vocabulary(vocabulary: Any, tokenizer: Any, vocab_size: int):
    """`vocabulary` (a list) and `tokenizer`, both None or both given and consistent."""
    from zoo.data.corpus import TOKENIZERS

    if vocabulary is None:
        if tokenizer is not None:
            raise v.invalid("tokenizer", "None without a vocabulary", tokenizer)
        return None, None
    if not isinstance(vocabulary, (list, tuple)) or not all(
        isinstance(token, str) for token in vocabulary
    ):
        raise v.invalid(
            "vocabulary", "a list of token strings", type(vocabulary).__name__, TypeError
        )
    vocabulary = list(vocabulary)
    if vocabulary[:2] != ["", "[UNK]"]:
        raise v.invalid(
            "vocabulary",
            "a corpus vocabulary: '' (padding) and '[UNK]' first, as "
            "zoo.data.load(..., task='language_modeling').encoder.vocabulary",
            vocabulary[:3],
        )
    if len(vocabulary) != vocab_size:
        raise v.invalid(
            "vocabulary",
            f"vocab_size={vocab_size} tokens (one per token id)",
            f"{len(vocabulary)} tokens",
        )
    if len(set(vocabulary)) != len(vocabulary):
        repeated = sorted(t for t, n in collections.Counter(vocabulary).items() if n > 1)
        raise v.invalid("vocabulary", "distinct tokens", f"repeated {repeated[:5]}")
    if tokenizer is None:
        raise v.invalid(
            "tokenizer", f"one of {', '.join(map(repr, TOKENIZERS))} with a vocabulary", None
        )
    return vocabulary, v.check_choice("tokenizer", tokenizer, TOKENIZERS)
