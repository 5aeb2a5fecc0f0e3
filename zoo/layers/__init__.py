"""Shared, serializable building blocks (registered with Keras under package "zoo")."""

from zoo.layers.padding import PadChannels
from zoo.layers.preprocessing import ImagePreprocessing

__all__ = ["ImagePreprocessing", "PadChannels"]
