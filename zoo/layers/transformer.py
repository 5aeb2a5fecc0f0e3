"""Transformer building blocks shared by the text encoder, ViT and GPT families.

The attention itself is Keras's ``MultiHeadAttention``; these layers add what the
three architectures have in common: learned token and position embeddings (with the
token matrix reusable as a tied output projection), ViT's patch embedding with a
class token, and the pre- or post-norm encoder/decoder block (Vaswani et al., 2017;
pre-norm as in GPT-2 and ViT).
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from zoo import _validation as v


@keras.saving.register_keras_serializable(package="zoo")
class TokenAndPositionEmbedding(keras.layers.Layer):
    """Token embedding plus a learned position embedding.

    With ``mask_zero=True`` token id 0 is padding and the output carries a mask that
    attention layers respect. Called with ``reverse=True`` on hidden states, it
    projects them back onto the vocabulary with the same token matrix (tied input and
    output embeddings), giving float32 logits.

    Args:
        vocab_size: number of token ids.
        max_length: the longest sequence (number of positions).
        width: embedding width.
        mask_zero: treat id 0 as padding.
        embeddings_initializer: initializer of both tables.

    Example:
        >>> layer = TokenAndPositionEmbedding(100, 16, 8)
        >>> tuple(layer(keras.ops.ones((2, 5), "int32")).shape)
        (2, 5, 8)
    """

    def __init__(
        self,
        vocab_size: int,
        max_length: int,
        width: int,
        mask_zero: bool = True,
        embeddings_initializer: Any = "uniform",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.vocab_size = v.check_int("vocab_size", vocab_size, minimum=2)
        self.max_length = v.check_int("max_length", max_length, minimum=1)
        self.width = v.check_int("width", width, minimum=1)
        self.mask_zero = v.check_bool("mask_zero", mask_zero)
        self.embeddings_initializer = keras.initializers.get(embeddings_initializer)
        self.supports_masking = mask_zero
        self.tokens = keras.layers.Embedding(
            vocab_size,
            width,
            embeddings_initializer=self.embeddings_initializer,
            dtype=self.dtype_policy,
            name="tokens",
        )
        self.positions = keras.layers.Embedding(
            max_length,
            width,
            embeddings_initializer=self.embeddings_initializer,
            dtype=self.dtype_policy,
            name="positions",
        )

    def build(self, input_shape):
        self.tokens.build(input_shape)
        self.positions.build((None,))

    # As a model's output this layer is the tied projection (reverse=True): logits.
    produces_logits = True

    def call(self, inputs, reverse: bool = False):
        if reverse:  # hidden states (..., width) -> float32 vocabulary logits
            embeddings = ops.cast(self.tokens.embeddings, "float32")
            return ops.matmul(ops.cast(inputs, "float32"), ops.transpose(embeddings))
        length = ops.shape(inputs)[-1]
        positions = self.positions(ops.arange(length))
        return self.tokens(inputs) + ops.expand_dims(positions, 0)

    def compute_mask(self, inputs, mask=None, reverse: bool = False):
        return ops.not_equal(inputs, 0) if self.mask_zero and not reverse else None

    def compute_output_shape(self, input_shape, reverse: bool = False):
        if reverse:
            return (*input_shape[:-1], self.vocab_size)
        return (*input_shape, self.width)

    def compute_output_spec(self, inputs, reverse: bool = False):
        shape = self.compute_output_shape(inputs.shape, reverse=reverse)
        dtype = "float32" if reverse else self.compute_dtype
        return keras.KerasTensor(shape, dtype=dtype)

    def get_config(self):
        return {
            **super().get_config(),
            "vocab_size": self.vocab_size,
            "max_length": self.max_length,
            "width": self.width,
            "mask_zero": self.mask_zero,
            "embeddings_initializer": keras.initializers.serialize(self.embeddings_initializer),
        }


@keras.saving.register_keras_serializable(package="zoo")
class PatchEmbedding(keras.layers.Layer):
    """ViT's input: non-overlapping patches, linearly projected, a class token, positions.

    Images (H, W, C) become ``(H/p * W/p + 1, width)`` token sequences: a strided
    convolution projects each p x p patch (the same as flattening it into a Dense
    layer), a learned class token is prepended and learned position embeddings added.

    Args:
        patch_size: the patch side p; it must divide the image height and width.
        width: the token width.

    Example:
        >>> tuple(PatchEmbedding(4, 8)(keras.ops.ones((2, 16, 16, 3))).shape)
        (2, 17, 8)
    """

    def __init__(self, patch_size: int, width: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.patch_size = v.check_int("patch_size", patch_size, minimum=1)
        self.width = v.check_int("width", width, minimum=1)
        self.projection = keras.layers.Conv2D(
            width,
            patch_size,
            strides=patch_size,
            padding="valid",
            dtype=self.dtype_policy,
            name="projection",
        )

    def build(self, input_shape):
        height, width_px = input_shape[1], input_shape[2]
        self.projection.build(input_shape)
        self.num_patches = (height // self.patch_size) * (width_px // self.patch_size)
        self.class_token = self.add_weight(
            shape=(1, 1, self.width), initializer="zeros", name="class_token"
        )
        self.position_embedding = self.add_weight(
            shape=(1, self.num_patches + 1, self.width),
            initializer=keras.initializers.RandomNormal(stddev=0.02),
            name="position_embedding",
        )

    def call(self, images):
        patches = self.projection(images)
        batch = ops.shape(patches)[0]
        patches = ops.reshape(patches, (batch, -1, self.width))
        token = ops.broadcast_to(ops.cast(self.class_token, patches.dtype), (batch, 1, self.width))
        tokens = ops.concatenate([token, patches], axis=1)
        return tokens + ops.cast(self.position_embedding, tokens.dtype)

    def compute_output_shape(self, input_shape):
        patches = (input_shape[1] // self.patch_size) * (input_shape[2] // self.patch_size)
        return (input_shape[0], patches + 1, self.width)

    def get_config(self):
        return {**super().get_config(), "patch_size": self.patch_size, "width": self.width}


@keras.saving.register_keras_serializable(package="zoo")
class TransformerBlock(keras.layers.Layer):
    """Multi-head self-attention and a feed-forward network, each with a residual.

    ``norm_first=True`` is the pre-norm block of GPT-2 and ViT (LayerNorm before each
    sub-layer); False is the original post-norm block of Vaswani et al. ``causal=True``
    lets each position attend only to itself and earlier ones (a decoder). A padding
    mask on the input (from ``mask_zero`` embeddings) keeps attention off padding.

    Args:
        num_heads: attention heads; they must divide the input width.
        mlp_dim: hidden width of the feed-forward network.
        dropout: dropout after attention and feed-forward outputs.
        attention_dropout: dropout on the attention weights.
        activation: feed-forward activation (``"gelu"``; ``"relu"`` in the 2017 paper).
        norm_first: pre-norm (True) or post-norm (False).
        causal: mask future positions.
        epsilon: LayerNorm epsilon.

    Example:
        >>> tuple(TransformerBlock(2, 16)(keras.ops.ones((1, 5, 8))).shape)
        (1, 5, 8)
    """

    def __init__(
        self,
        num_heads: int,
        mlp_dim: int,
        dropout: float = 0.0,
        attention_dropout: float = 0.0,
        activation: Any = "gelu",
        norm_first: bool = True,
        causal: bool = False,
        epsilon: float = 1e-6,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.num_heads = v.check_int("num_heads", num_heads, minimum=1)
        self.mlp_dim = v.check_int("mlp_dim", mlp_dim, minimum=1)
        self.dropout = v.check_rate("dropout", dropout)
        self.attention_dropout = v.check_rate("attention_dropout", attention_dropout)
        self.activation = v.check_activation("activation", activation)
        self.norm_first = v.check_bool("norm_first", norm_first)
        self.causal = v.check_bool("causal", causal)
        self.epsilon = v.check_float("epsilon", epsilon, minimum=1e-12)
        self.supports_masking = True

    def build(self, input_shape):
        width = input_shape[-1]
        if width % self.num_heads:
            raise v.ArgumentValueError(
                f"num_heads must divide the width ({width}) into equal heads. "
                f"Received: num_heads={self.num_heads}"
            )
        policy = self.dtype_policy
        self.attention = keras.layers.MultiHeadAttention(
            self.num_heads,
            width // self.num_heads,
            dropout=self.attention_dropout,
            dtype=policy,
            name="attention",
        )
        self.attention.build(input_shape, input_shape)
        self.norm_1 = keras.layers.LayerNormalization(
            epsilon=self.epsilon, dtype=policy, name="norm_1"
        )
        self.norm_2 = keras.layers.LayerNormalization(
            epsilon=self.epsilon, dtype=policy, name="norm_2"
        )
        self.norm_1.build(input_shape)
        self.norm_2.build(input_shape)
        self.mlp_in = keras.layers.Dense(
            self.mlp_dim, activation=self.activation, dtype=policy, name="mlp_in"
        )
        self.mlp_out = keras.layers.Dense(width, dtype=policy, name="mlp_out")
        self.mlp_in.build(input_shape)
        self.mlp_out.build((*input_shape[:-1], self.mlp_dim))
        self.drop = keras.layers.Dropout(self.dropout, dtype=policy)

    def _attend(self, x, mask, training):
        attention_mask = None
        if mask is not None:  # (batch, keys) -> (batch, queries, keys)
            attention_mask = ops.expand_dims(ops.cast(mask, "bool"), 1)
        y = self.attention(
            x,
            x,
            attention_mask=attention_mask,
            use_causal_mask=self.causal,
            training=training,
        )
        return self.drop(y, training=training)

    def _feed_forward(self, x, training):
        return self.drop(self.mlp_out(self.mlp_in(x)), training=training)

    def call(self, inputs, mask=None, training=None):
        x = inputs
        if self.norm_first:
            x = x + self._attend(self.norm_1(x), mask, training)
            return x + self._feed_forward(self.norm_2(x), training)
        x = self.norm_1(x + self._attend(x, mask, training))
        return self.norm_2(x + self._feed_forward(x, training))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "mlp_dim": self.mlp_dim,
            "dropout": self.dropout,
            "attention_dropout": self.attention_dropout,
            "activation": self.activation
            if isinstance(self.activation, str)
            else keras.activations.serialize(self.activation),
            "norm_first": self.norm_first,
            "causal": self.causal,
            "epsilon": self.epsilon,
        }


@keras.saving.register_keras_serializable(package="zoo")
class SelectToken(keras.layers.Layer):
    """One position of a sequence: (batch, length, width) -> (batch, width).

    Args:
        index: the position (0 is ViT's class token; -1 the last token).

    Example:
        >>> tuple(SelectToken(0)(keras.ops.ones((2, 5, 8))).shape)
        (2, 8)
    """

    def __init__(self, index: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.index = v.check_int("index", index)

    def call(self, inputs):
        return inputs[:, self.index]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *input_shape[2:])

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        return {**super().get_config(), "index": self.index}
