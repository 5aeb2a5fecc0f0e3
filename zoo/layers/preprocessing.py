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


# --- raw input -> preprocessing -> network -------------------------------------------

PREPROCESSING = "preprocessing"


def attach(network: keras.Model, preprocessor: keras.Model | None) -> keras.Model:
    """One model that takes raw input: ``preprocessor`` then ``network``.

    The network is nested whole (its name, layers and weights unchanged), after the
    fitted preprocessing as a sub-model named ``"preprocessing"``; :func:`split`
    takes them apart again. With no preprocessor the network is returned as it is.

    Args:
        network: the model that takes preprocessed input.
        preprocessor: a ``keras.Model`` from raw input to the network's input, or None.

    Returns:
        A functional ``keras.Model`` named like the network.

    Example:
        >>> raw = keras.Input((2, 2, 1))
        >>> pre = keras.Model(raw, keras.layers.Rescaling(1 / 255)(raw), name="preprocessing")
        >>> net = keras.Sequential([keras.Input((2, 2, 1)), keras.layers.Flatten()], name="net")
        >>> whole = attach(net, pre)
        >>> whole.name, split(whole)[1] is net
        ('net', True)
        >>> keras.ops.convert_to_numpy(whole(keras.ops.full((1, 2, 2, 1), 255.0)))[0]
        array([1., 1., 1., 1.], dtype=float32)
    """
    if preprocessor is None:
        return network
    if not isinstance(preprocessor, keras.Model) or preprocessor.name != PREPROCESSING:
        raise v.invalid(
            "preprocessor",
            f"a keras.Model named {PREPROCESSING!r} (zoo.data's Data.preprocessor)",
            type(preprocessor).__name__,
            TypeError,
        )
    existing, _ = split(network)
    if existing is not None:
        return network  # it takes raw input already
    inputs = keras.tree.map_structure(
        lambda tensor: keras.Input(
            batch_shape=tensor.shape, dtype=tensor.dtype, name=tensor.name.split(":")[0]
        ),
        preprocessor.input,
    )
    # Preprocessing never trains; saying so also keeps Resizing's training=True default
    # from reaching the network's Dropout and BatchNormalization when the model is
    # called without `training` (https://github.com/keras-team/keras/pull/23166;
    # canary in tests/test_compat.py).
    features = preprocessor(inputs, training=False)
    return keras.Model(inputs, network(features), name=network.name)


def split(model: keras.Model) -> tuple[keras.Model | None, keras.Model]:
    """``(preprocessor, network)`` of a model made by :func:`attach`; else ``(None, model)``."""
    inner = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    if (
        len(inner) == 2
        and isinstance(inner[0], keras.Model)
        and inner[0].name == PREPROCESSING
        and isinstance(inner[1], keras.Model)
    ):
        return inner[0], inner[1]
    return None, model
