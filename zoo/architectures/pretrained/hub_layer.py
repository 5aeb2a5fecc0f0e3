"""TF Hub SavedModels as trainable, serializable Keras 3 layers.

``hub.KerasLayer`` is a Keras 2 (``tf_keras``) layer that a Keras 3 model refuses, and
``keras.layers.TFSMLayer`` fails with Adam and loads only with ``safe_mode=False``.
:class:`HubLayer` loads the SavedModel with ``tensorflow_hub`` and tracks the
SavedModel's own ``tf.Variable`` objects as Keras variables (``keras.Variable(tf_variable)``
shares the variable, it does not copy it). Any Keras optimizer then updates exactly the
variables the SavedModel computes with, and a ``.keras`` file stores their values.

Handles are resolved as :mod:`.hub_cache` says; :func:`hub_classifier` puts a head on a
module, raw inputs in (what the catalogue's TF Hub rows build). Public as
:mod:`zoo.transfer.hub`.

Reference: TF Hub's reusable SavedModel API,
https://www.tensorflow.org/hub/reusable_saved_models
"""

from __future__ import annotations

import contextlib
import inspect
import os
import re
import tarfile
import warnings
from typing import Any

import keras
import tensorflow as tf

from zoo import _validation as v
from zoo._compat.keras import built_at_init, track_variable
from zoo._compat.tensorflow_hub import download_timeout, is_hub_module_v1
from zoo.architectures import _common
from zoo.architectures.pretrained.hub_cache import _resolve, _unavailable_error, is_remote

# Seconds a socket may wait while tensorflow_hub downloads (it sets no timeout itself, so
# a network that drops packets would otherwise hang for minutes on connect).
DOWNLOAD_TIMEOUT_S = 20.0


def load_saved_model(handle: str) -> Any:
    """Resolve `handle` (see the module docstring) and load it with ``hub.load``.

    Args:
        handle: a TF Hub URL handle or a local SavedModel folder.

    Returns:
        The restored SavedModel object (callable when it has a ``__call__``).

    Raises:
        ValueError: a missing folder, a folder that is not a SavedModel, a handle that is
            not cached while ``ZOO_OFFLINE=1``, a failed download (each error says which
            folder to place the model in), or a SavedModel TensorFlow cannot read.
    """
    target = _resolve(handle)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import tensorflow_hub as hub

    if target == handle and is_remote(handle):
        try:
            with download_timeout(DOWNLOAD_TIMEOUT_S):
                return hub.load(handle)
        except (OSError, ValueError, tarfile.TarError, tf.errors.OpError) as error:
            reason = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
            raise _unavailable_error(handle, f"download failed: {reason}") from None
    try:
        return hub.load(target)
    except (OSError, ValueError, tf.errors.OpError) as error:
        raise v.ArgumentValueError(
            f"TensorFlow could not load the SavedModel in {target}: {error}. "
            f"Received: handle={handle!r}"
        ) from None


# ----------------------------------------------------------------------------- the layer


def _check_handle(name: str, value: Any) -> str:
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str) or not value.strip():
        raise v.invalid(
            name, "a TF Hub handle (a URL) or the path of a SavedModel folder", value, TypeError
        )
    return value


def _check_arguments(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise v.invalid(
            "arguments", "None or a dict of keyword arguments for the SavedModel", value, TypeError
        )
    return dict(value)


def _variable_name(variable: tf.Variable) -> str:
    """A Keras-safe name (optimizer slots are named after it; ':' and '/' are not allowed)."""
    name = variable.name.rsplit(":", 1)[0]
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name) or "variable"


def _concrete_functions(function: Any) -> list[Any]:
    if hasattr(function, "concrete_functions"):
        return list(function.concrete_functions)
    if hasattr(function, "structured_input_signature"):
        return [function]
    return []


def _saved_model_variables(loaded: Any, function: Any) -> tuple[list[Any], list[Any]]:
    """(trainable, non-trainable) variables, by the reusable SavedModel API when present."""
    if hasattr(loaded, "variables") and hasattr(loaded, "trainable_variables"):
        trainable = list(loaded.trainable_variables)
        ids = {id(x) for x in trainable}
        return trainable, [x for x in loaded.variables if id(x) not in ids]
    # A plain tf.Module SavedModel has no variable lists: take what the function captures.
    trainable, frozen, seen = [], [], set()
    for concrete in _concrete_functions(function):
        for variable in concrete.variables:
            if id(variable) not in seen:
                seen.add(id(variable))
                (trainable if variable.trainable else frozen).append(variable)
    return trainable, frozen


@keras.saving.register_keras_serializable(package="zoo")
class HubLayer(keras.layers.Layer):
    """A TF2 SavedModel (TF Hub format) as a Keras 3 layer that trains and round-trips.

    The SavedModel's variables are the layer's weights: trainable ones (the SavedModel's
    ``trainable_variables``, or its trainable ``tf.Variable`` objects) train when the
    layer is trainable, the rest (for example BatchNormalization statistics) never do.
    When the SavedModel's ``__call__`` takes ``training``, the layer passes
    ``training and layer.trainable``, so a frozen layer always runs in inference mode.

    Saving stores the handle in the config and the variable values in the ``.keras`` file:
    loading rebuilds the layer from the handle (so the SavedModel must still be at that
    path, or in TF Hub's cache) and then restores the saved, possibly fine-tuned, values.
    Loading therefore runs the SavedModel's graph even in Keras's safe mode: only load
    ``.keras`` files whose handles you trust.

    Args:
        handle: a TF Hub URL handle or a local SavedModel folder (see the module docstring).
        trainable: whether the SavedModel's trainable variables train.
        output_key: the entry to return when the SavedModel returns a dict (needed when
            the dict has more than one entry).
        signature: call this named signature (for example ``"serving_default"``) instead
            of the SavedModel's ``__call__``; its inputs are passed by name.
        arguments: extra keyword arguments for every call, for example
            ``{"as_dict": True}``; they must be JSON-serializable.
        name: layer name.
        **kwargs: base ``keras.layers.Layer`` arguments (``dtype``...).

    Example:
        >>> layer = HubLayer("/models/mobilenet_v2", trainable=True)  # doctest: +SKIP
        >>> inputs = keras.Input((224, 224, 3))  # doctest: +SKIP
        >>> outputs = keras.layers.Dense(5)(layer(inputs))  # doctest: +SKIP
    """

    def __init__(
        self,
        handle: str,
        *,
        trainable: bool = False,
        output_key: str | None = None,
        signature: str | None = None,
        arguments: dict[str, Any] | None = None,
        name: str | None = None,
        **kwargs: Any,
    ):
        v.require_tensorflow_backend("A TF Hub SavedModel", "handle", handle)
        handle = _check_handle("handle", handle)
        v.check_bool("trainable", trainable)
        v.check_str("output_key", output_key, allow_none=True)
        v.check_str("signature", signature, allow_none=True)
        arguments = _check_arguments(arguments)
        if name is not None:
            v.check_name("name", name)
        # Inputs go to the SavedModel in the dtype its signature wants, not the policy's.
        kwargs.setdefault("autocast", False)
        super().__init__(trainable=trainable, name=name, **kwargs)
        self.handle = handle
        self.output_key = output_key
        self.signature = signature
        self._arguments = arguments

        loaded = load_saved_model(handle)
        hub_v1 = is_hub_module_v1(loaded)
        if hub_v1 and trainable:
            raise v.invalid(
                "trainable",
                "False for a model in the TF1 Hub format (it cannot be fine-tuned in TF2)",
                trainable,
            )
        self._loaded = loaded
        self._function, self._signature_name = self._pick_function(loaded, signature, hub_v1)
        self._default_key = "default" if hub_v1 and signature is None else None
        self._input_name, self._input_dtype = self._saved_input()
        self._has_training = self._signature_name is None and self._accepts_training()
        self._regularization_losses = (
            list(getattr(loaded, "regularization_losses", []))
            if self._signature_name is None
            else []
        )
        self._check_static_outputs()

        trainable_vars, frozen_vars = _saved_model_variables(loaded, self._function)
        trainable_ids = {id(x) for x in trainable_vars}
        for variable in trainable_vars + frozen_vars:
            # keras.Variable(tf.Variable) shares the variable the SavedModel reads.
            wrapped = keras.Variable(
                variable,
                trainable=id(variable) in trainable_ids,
                dtype=variable.dtype.name,
                name=_variable_name(variable),
            )
            track_variable(self, wrapped)
        built_at_init(self)

    # ---- construction helpers

    def _pick_function(self, loaded: Any, signature: str | None, hub_v1: bool):
        signatures = dict(getattr(loaded, "signatures", {}) or {})
        if signature is None and callable(loaded) and not hub_v1:
            return loaded.__call__, None
        if signature is None:
            signature = next((s for s in ("default", "serving_default") if s in signatures), None)
            if signature is None:
                raise v.invalid(
                    "signature",
                    "given: the SavedModel has no __call__"
                    + (f"; its signatures are {sorted(signatures)}" if signatures else "")
                    + f" (handle {self.handle!r})",
                    None,
                )
        if signature not in signatures:
            raise v.unknown_name(
                "signature",
                signature,
                signatures,
                hint=f"The signatures of {self.handle!r} are {sorted(signatures)}.",
            )
        return signatures[signature], signature

    def _saved_input(self) -> tuple[str | None, str | None]:
        concretes = _concrete_functions(self._function)
        if not concretes:
            return None, None
        args, kwargs = concretes[0].structured_input_signature
        if self._signature_name is not None:
            if len(kwargs) == 1:
                ((name, spec),) = kwargs.items()
                return name, spec.dtype.name if isinstance(spec, tf.TensorSpec) else None
            return None, None
        spec = args[0] if args else None
        if isinstance(spec, tf.TensorSpec):
            return None, spec.dtype.name
        return None, None

    def _accepts_training(self) -> bool:
        try:
            parameters = inspect.signature(self._function).parameters
        except (TypeError, ValueError):
            return False
        return "training" in parameters

    def _check_static_outputs(self) -> None:
        concretes = _concrete_functions(self._function)
        if concretes:
            with contextlib.suppress(AttributeError):
                self._select_output(concretes[0].structured_outputs)

    # ---- calling

    @property
    def arguments(self) -> dict[str, Any]:
        """The extra keyword arguments given to every call."""
        return dict(self._arguments)

    def _cast(self, inputs: Any) -> Any:
        if self._input_dtype is None or isinstance(inputs, dict):
            return inputs
        inputs = tf.convert_to_tensor(inputs)
        if inputs.dtype.is_floating and inputs.dtype.name != self._input_dtype:
            inputs = tf.cast(inputs, self._input_dtype)
        return inputs

    def _select_output(self, result: Any) -> Any:
        key = self.output_key or self._default_key
        if isinstance(result, dict):
            if key is None:
                if len(result) == 1:
                    return next(iter(result.values()))
                raise v.invalid(
                    "output_key",
                    f"one of {sorted(result)}: the SavedModel returns a dict",
                    None,
                )
            if key not in result:
                raise v.invalid("output_key", f"one of {sorted(result)}", key)
            return result[key]
        if self.output_key is not None:
            raise v.invalid(
                "output_key", "None: the SavedModel returns a single output, not a dict", key
            )
        return result

    def call(self, inputs, training=None):
        kwargs = dict(self._arguments)
        if self._signature_name is not None:
            if isinstance(inputs, dict):
                kwargs.update(inputs)
            elif self._input_name is not None:
                kwargs[self._input_name] = self._cast(inputs)
            else:
                raise v.invalid(
                    "inputs",
                    f"a dict keyed by the input names of signature {self._signature_name!r}",
                    type(inputs).__name__,
                    TypeError,
                )
            return self._select_output(self._function(**kwargs))
        inputs = self._cast(inputs)
        if not self._has_training:
            result = self._function(inputs, **kwargs)
        elif training is None or isinstance(training, bool):
            result = self._function(inputs, training=bool(training and self.trainable), **kwargs)
        elif self.trainable:
            result = tf.cond(
                tf.cast(training, tf.bool),
                lambda: self._function(inputs, training=True, **kwargs),
                lambda: self._function(inputs, training=False, **kwargs),
            )
        else:
            result = self._function(inputs, training=False, **kwargs)
        if self.trainable and self._regularization_losses:
            for loss in self._regularization_losses:
                self.add_loss(loss())
        return self._select_output(result)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "handle": self.handle,
                "output_key": self.output_key,
                "signature": self.signature,
                "arguments": dict(self._arguments) or None,
            }
        )
        return config


def hub_layer(
    handle_or_folder: str | os.PathLike,
    *,
    trainable: bool = False,
    output_key: str | None = None,
    signature: str | None = None,
    arguments: dict[str, Any] | None = None,
    name: str | None = None,
) -> HubLayer:
    """A Keras 3 layer around a TF Hub model or a local TF2 SavedModel folder.

    The handle is resolved as the module docstring says: a local folder, TF Hub's cache
    (``$TFHUB_CACHE_DIR``), then a download unless ``ZOO_OFFLINE=1``.

    Args:
        handle_or_folder: a TF Hub URL handle (for example one from :data:`HUB_BACKBONES`)
            or the folder of an extracted SavedModel; stored as given in the config.
        trainable: fine-tune the SavedModel's trainable variables (default frozen).
        output_key: the entry to return when the SavedModel returns a dict.
        signature: call this signature instead of the SavedModel's ``__call__``.
        arguments: extra keyword arguments for every call (JSON-serializable).
        name: layer name (default ``"hub_layer"``).

    Returns:
        A :class:`HubLayer`. Use it in a functional model with ``keras.Input``; a model
        holding it saves to ``.keras`` and loads back with ``keras.saving.load_model``.

    Raises:
        TypeError: a handle that is not a string or path, or arguments of the wrong type.
        ValueError: a missing folder, a folder that is not a SavedModel, a handle that
            cannot be downloaded or is not cached while ``ZOO_OFFLINE=1`` (the message names
            the folder to extract the model into), an unknown signature or output key.

    Example:
        >>> features = zoo.transfer.hub.hub_layer("/models/mobilenet_v2")  # doctest: +SKIP
        >>> inputs = keras.Input((224, 224, 3))  # doctest: +SKIP
        >>> model = keras.Model(inputs, keras.layers.Dense(5)(features(inputs)))  # doctest: +SKIP
    """
    handle = _check_handle("handle_or_folder", handle_or_folder)
    return HubLayer(
        handle,
        trainable=trainable,
        output_key=output_key,
        signature=signature,
        arguments=arguments,
        name=name,
    )


IMAGE_SIZE = 224


def hub_classifier(
    handle: str,
    num_classes: int | None = None,
    *,
    task: str = "image",
    input_shape: Any = None,
    trainable: bool = False,
    dropout: float = 0.2,
    head_activation: Any = None,
    name: str | None = None,
) -> keras.Model:
    """A TF Hub module (or SavedModel folder) with a new head, on raw inputs.

    Args:
        handle: a TF Hub URL handle or a local SavedModel folder.
        num_classes: classes of the new head (softmax; sigmoid for 1); None for the
            module's features.
        task: ``"image"`` (raw 0-255 RGB in, divided by 255 inside the model, as TF
            Hub's image modules expect) or ``"text"`` (raw strings of shape (batch,)).
        input_shape: (height, width, 3) for images; default 224x224.
        trainable: fine-tune the module's variables (default frozen).
        dropout: dropout before the head.
        head_activation: output activation (default softmax, sigmoid for 1 class).
        name: the model name (default ``hub_classifier``).

    Returns:
        An uncompiled ``keras.Model`` whose module is the layer named ``"backbone"``.

    Example:
        >>> model = hub_classifier("/models/mobilenet_v2", 5)  # doctest: +SKIP
    """
    v.check_choice("task", task, ("image", "text"))
    num_classes = v.check_num_classes(num_classes)
    v.check_rate("dropout", dropout)
    v.check_bool("trainable", trainable)
    v.check_activation("head_activation", head_activation, allow_none=True)
    name = v.check_name("name", name or "hub_classifier")
    if task == "image":
        shape = (IMAGE_SIZE, IMAGE_SIZE, 3) if input_shape is None else input_shape
        shape = v.check_shape("input_shape", shape, ndim=3)
        if shape[-1] != 3:
            raise v.invalid("input_shape", "RGB images (3 channels)", input_shape)
        inputs = keras.Input(shape=shape, name="images")
        x = keras.layers.Rescaling(1 / 255, name="preprocessing")(inputs)
    else:
        if input_shape not in (None, (), []):
            raise v.invalid("input_shape", "None for a text module (raw strings)", input_shape)
        inputs = keras.Input(shape=(), dtype="string", name="texts")
        x = inputs
    x = hub_layer(handle, trainable=trainable, name="backbone")(x)
    outputs = _common.head(
        x,
        num_classes=num_classes,
        head_activation=head_activation,
        dropout=dropout,
        options=_common.Options("glorot_uniform", None, None),
    )
    return keras.Model(inputs, outputs, name=name)
