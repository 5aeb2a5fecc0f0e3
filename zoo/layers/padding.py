"""Padding layers."""

import keras

from zoo import _validation as v


@keras.saving.register_keras_serializable(package="zoo")
class PadChannels(keras.layers.Layer):
    """Zero-pad the channel (last) axis of a tensor.

    This is the parameter-free shortcut ("option A") of the CIFAR ResNets of He et
    al. (2015): the identity is subsampled spatially and padded with zero channels.

    Args:
        before: zero channels added before the existing ones.
        after: zero channels added after the existing ones.

    Example:
        >>> tuple(PadChannels(8, 8)(keras.ops.ones((1, 4, 4, 16))).shape)
        (1, 4, 4, 32)
    """

    def __init__(self, before: int, after: int, **kwargs):
        super().__init__(**kwargs)
        self.before = v.check_int("before", before, minimum=0)
        self.after = v.check_int("after", after, minimum=0)

    def call(self, inputs):
        pad = [[0, 0]] * (len(inputs.shape) - 1) + [[self.before, self.after]]
        return keras.ops.pad(inputs, pad)

    def compute_output_shape(self, input_shape):
        channels = input_shape[-1]
        if channels is not None:
            channels = channels + self.before + self.after
        return (*input_shape[:-1], channels)

    def get_config(self):
        return {**super().get_config(), "before": self.before, "after": self.after}
