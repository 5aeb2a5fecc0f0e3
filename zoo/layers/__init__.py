"""Shared, serializable building blocks (registered with Keras under package "zoo")."""

from zoo.layers.padding import PadChannels

__all__ = ["PadChannels"]
