"""Shared, serializable building blocks (registered with Keras under package "zoo")."""

from zoo.layers.padding import PadChannels
from zoo.layers.preprocessing import ImagePreprocessing
from zoo.layers.transformer import (
    PatchEmbedding,
    SelectToken,
    TokenAndPositionEmbedding,
    TransformerBlock,
)

__all__ = [
    "ImagePreprocessing",
    "PadChannels",
    "PatchEmbedding",
    "SelectToken",
    "TokenAndPositionEmbedding",
    "TransformerBlock",
]
