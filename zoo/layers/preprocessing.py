"""Image preprocessing built into models, so users always feed raw 0-255 pixels."""

import keras

from zoo import _validation as v

MODES = ("caffe", "tf", "torch", "raw")
_CAFFE_MEAN = (103.939, 116.779, 123.68)  # BGR, as keras.applications.imagenet_utils
_TORCH_MEAN = (0.485, 0.456, 0.406)
_TORCH_STD = (0.229, 0.224, 0.225)


@keras.saving.register_keras_serializable(package="zoo")
class ImagePreprocessing(keras.layers.Layer):
    """The input normalisation a pretrained backbone expects, from raw 0-255 RGB.

    Modes (those of ``keras.applications.imagenet_utils.preprocess_input``):
        - ``"caffe"``: RGB -> BGR, minus the ImageNet BGR means (VGG, ResNet v1);
        - ``"tf"``: scale to [-1, 1] (MobileNetV2, ResNet v2, Xception, Inception);
        - ``"torch"``: scale to [0, 1], then ImageNet mean/std (DenseNet);
        - ``"raw"``: unchanged, for backbones that normalise inside themselves
          (EfficientNet, EfficientNetV2, ConvNeXt, MobileNetV3).

    Args:
        mode: one of the modes above.

    Example:
        >>> white = keras.ops.full((1, 2, 2, 3), 255.0)
        >>> keras.ops.convert_to_numpy(ImagePreprocessing("tf")(white))[0, 0, 0]
        array([1., 1., 1.], dtype=float32)
    """

    def __init__(self, mode: str, **kwargs):
        super().__init__(**kwargs)
        self.mode = v.check_choice("mode", mode, MODES)

    def call(self, inputs):
        x = keras.ops.cast(inputs, self.compute_dtype)
        if self.mode == "caffe":
            return keras.ops.flip(x, axis=-1) - keras.ops.convert_to_tensor(_CAFFE_MEAN, x.dtype)
        if self.mode == "tf":
            return x / 127.5 - 1.0
        if self.mode == "torch":
            mean = keras.ops.convert_to_tensor(_TORCH_MEAN, x.dtype)
            std = keras.ops.convert_to_tensor(_TORCH_STD, x.dtype)
            return (x / 255.0 - mean) / std
        return x

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}
