"""Which model is exported, and at which precision and tolerance.

A GAN exports its generator and a diffusion model is refused (its call is a training
step); TFLite and ONNX get a float32 copy of a mixed-precision model, which is checked
with the looser :data:`LOW_PRECISION_TOLERANCE`.
"""

from __future__ import annotations

from typing import Any

import keras

from zoo import _validation as v
from zoo._compat.keras import all_layers
from zoo.exporting.results import one_line

DEFAULT_TOLERANCE = 1e-4
LOW_PRECISION_TOLERANCE = 1e-2


def describe_model(model: Any) -> str:
    """A model (or anything passed as one) for error messages."""
    return f"<{type(model).__name__} {getattr(model, 'name', '?')!r}>"


def exportable(model: keras.Model) -> tuple[keras.Model, list[str]]:
    """The model to export (a GAN's generator), with notes; raises for diffusion models."""
    from zoo.architectures import diffusion, gan

    if isinstance(model, gan.GAN):
        return model.generator, [
            f"exported {model.name}.generator (noise{', labels' if model.num_classes else ''} "
            "-> images), which is what the GAN's call and generate() run; the "
            "discriminator is not exported"
        ]
    if isinstance(model, diffusion.Diffusion):
        raise v.ArgumentValueError(
            "`model` must have a deterministic inference call to be exported; a diffusion "
            "model's call is a training step (random timesteps and noise) and its sampling "
            "is a Python loop. Export its denoising network instead, "
            "zoo.export(model.network, ...) (noisy images and timesteps -> predicted "
            "noise), and run the sampling loop of Diffusion.generate around it. "
            f"Received: model={describe_model(model)}"
        )
    return model, []


def low_precision(model: keras.Model) -> bool:
    """Whether any layer computes in float16 or bfloat16."""
    dtypes = {getattr(layer, "compute_dtype", None) for layer in all_layers(model)}
    return bool(dtypes & {"float16", "bfloat16"})


_LOW_PRECISION = ("float16", "bfloat16", "mixed_float16", "mixed_bfloat16")


def _as_float32(config: Any) -> Any:
    """A serialized model with every float16/bfloat16 dtype and policy made float32."""
    if isinstance(config, dict):
        if config.get("class_name") in ("DTypePolicy", "FloatDTypePolicy"):
            name = config.get("config", {}).get("name")
            if name in _LOW_PRECISION:
                return {**config, "config": {**config["config"], "name": "float32"}}
        return {
            key: "float32"
            if key == "dtype" and isinstance(value, str) and value in _LOW_PRECISION
            else _as_float32(value)
            for key, value in config.items()
        }
    if isinstance(config, list):
        return [_as_float32(item) for item in config]
    return config


def _float32_copy(model: keras.Model) -> keras.Model:
    """The same network in float32, with the model's weights.

    Mixed-precision variables are float32 already, so no weight is rounded.
    """
    config = _as_float32(keras.saving.serialize_keras_object(model))
    copy = keras.saving.deserialize_keras_object(config)
    copy.set_weights(model.get_weights())
    return copy


def float32_model(exported: keras.Model, fmt: str, notes: list[str], fail) -> keras.Model:
    """A float32 copy of a mixed-precision model, with a note saying so."""
    policy = exported.dtype_policy.name
    try:
        copy = _float32_copy(exported)
    except Exception as error:
        raise fail(
            f"{fmt} needs a float32 model and copying this {policy} model to float32 "
            f"failed ({one_line(error)}); rebuild it with dtype='float32' and copy "
            "the weights over with set_weights"
        ) from error
    notes.append(
        f"exported a float32 copy of the {policy} model ({fmt} runs float32); "
        "the difference is measured against the original model"
    )
    return copy
