"""Model surgery for transfer learning: find the backbone, cut it, re-head, unfreeze.

Works on zoo's image classifiers and checkpoints (a layer named ``"backbone"``),
keras-hub task models (a ``backbone`` attribute) and :class:`~zoo.layers.HubLayer`
models, also behind raw-input preprocessing (``zoo.layers.preprocessing.attach``, as
zoo saves models): the backbone is looked for in the network.
"""

from __future__ import annotations

import sys
from typing import Any

import keras
import numpy as np

from zoo import _validation as v
from zoo import registry
from zoo._compat.keras import inbound_nodes, is_functional
from zoo.architectures import classification_head
from zoo.layers.preprocessing import attach
from zoo.layers.preprocessing import split as split_preprocessing

_POOLING_LAYERS = (
    keras.layers.GlobalAveragePooling1D,
    keras.layers.GlobalAveragePooling2D,
    keras.layers.GlobalAveragePooling3D,
    keras.layers.GlobalMaxPooling1D,
    keras.layers.GlobalMaxPooling2D,
    keras.layers.GlobalMaxPooling3D,
    keras.layers.Flatten,
)


def leaf_layers(layer: keras.Layer) -> list[Any]:
    """The layers that own weights directly, in build order (nested models flattened)."""
    inner = getattr(layer, "layers", None)
    if not inner:
        return [layer]
    leaves = []
    for child in inner:
        leaves.extend(leaf_layers(child))
    return leaves


def find_backbone(model: keras.Model) -> keras.Layer:
    """The pretrained part of a model.

    Looks for, in order: a layer named ``"backbone"`` (zoo's image classifiers and
    checkpoints), a ``backbone`` attribute (keras-hub task models), a
    :class:`zoo.transfer.HubLayer`; in the network of a model that takes raw input.

    Raises:
        ValueError: when the model has none of these.
    """
    if not isinstance(model, keras.Model):
        raise v.invalid("model", "a keras.Model", type(model).__name__, TypeError)
    preprocessor, network = split_preprocessing(model)
    if preprocessor is not None:
        return find_backbone(network)
    names = [layer.name for layer in model.layers]
    if "backbone" in names:
        return model.get_layer("backbone")
    backbone = getattr(model, "backbone", None)
    if isinstance(backbone, keras.Layer):
        return backbone
    for layer in model.layers:
        if _is_hub_layer(layer):
            return layer
    raise v.invalid(
        "model",
        "a model with a pretrained part: a layer named 'backbone' (as "
        "zoo.transfer.image_classifier builds), a keras-hub task model or a hub_layer",
        f"{model.name} with layers {names[:8]}",
    )


def _outer_output(nodes: set, layer: keras.Layer):
    """The symbolic output of ``layer`` among a model's graph ``nodes`` (single call)."""
    calls = [node for node in inbound_nodes(layer) if node in nodes]
    if len(calls) != 1 or len(calls[0].output_tensors) != 1:
        return None
    return calls[0].output_tensors[0]


def _model_nodes(model: keras.Model) -> set:
    nodes = set()
    for layer in model.layers:
        nodes.update(inbound_nodes(layer))
    return nodes


def _consumers(model: keras.Model, nodes: set) -> dict[int, list[keras.Layer]]:
    users: dict[int, list[keras.Layer]] = {}
    for layer in model.layers:
        for node in inbound_nodes(layer):
            if node in nodes:
                for tensor in node.input_tensors:
                    users.setdefault(id(tensor), []).append(layer)
    return users


def feature_split(model: keras.Model, backbone: keras.Layer | None = None):
    """Split a functional model into (feature extractor, head) at the backbone.

    The cut is after the backbone and any global pooling/flatten that follows it, so
    the cached features are small. Both parts share the model's layers (training
    the head trains the model's head).

    Returns:
        ``(extractor, head)``, or None when the model is not a functional graph
        with a single-tensor backbone output.
    """
    backbone = backbone or find_backbone(model)
    if not isinstance(model, keras.Model) or not is_functional(model):
        return None
    try:
        nodes = _model_nodes(model)
        cut = _outer_output(nodes, backbone)
    except AttributeError:
        return None
    if cut is None or len(model.outputs) != 1:
        return None
    consumers = _consumers(model, nodes)
    while True:
        users = consumers.get(id(cut), [])
        if len(users) != 1 or not isinstance(users[0], _POOLING_LAYERS):
            break
        following = _outer_output(nodes, users[0])
        if following is None:
            break
        cut = following
    try:
        extractor = keras.Model(model.inputs, cut, name=f"{model.name}_features")
        head_model = keras.Model(cut, model.outputs[0], name=f"{model.name}_head")
    except (ValueError, TypeError):
        return None
    return extractor, head_model


def with_new_head(
    model: keras.Model, num_classes: int, *, dropout: float = 0.2, name: str | None = None
) -> keras.Model:
    """The model up to its backbone features, with a fresh classification head.

    A model that takes raw input keeps its preprocessing in front of the new network.

    Example:
        >>> model = with_new_head(zoo.build("mobilenet_v3_small", num_classes=3, weights=None), 5)
        >>> model.output_shape
        (None, 5)
    """
    num_classes = v.check_int("num_classes", num_classes, minimum=1)
    v.check_rate("dropout", dropout)
    preprocessor, network = split_preprocessing(model)
    if preprocessor is not None:
        return attach(with_new_head(network, num_classes, dropout=dropout, name=name), preprocessor)
    split = feature_split(model)
    if split is None:
        raise v.invalid(
            "model",
            "a functional model whose backbone output can be cut to put on a new head",
            model.name,
        )
    extractor, _ = split
    features = extractor.outputs[0]
    outputs = classification_head(features, num_classes, dropout=dropout)
    new = keras.Model(model.inputs, outputs, name=name or model.name)
    spec = registry.get_spec(model)
    if spec:
        registry.set_spec(
            new, spec["architecture"], {**spec["arguments"], "num_classes": num_classes}
        )
    return new


def check_unfreeze(unfreeze: Any, backbone: keras.Layer) -> Any:
    """`unfreeze` if it names part of `backbone`: ``"all"``, None, a count or a layer name."""
    if unfreeze is None or unfreeze == "all":
        return unfreeze
    if isinstance(unfreeze, bool):
        raise v.invalid(
            "unfreeze", "'all', None, a number of top layers or a layer name", unfreeze, TypeError
        )
    if isinstance(unfreeze, (int, np.integer)):
        count = len([layer for layer in leaf_layers(backbone) if layer.weights])
        return v.check_int(
            "unfreeze", int(unfreeze), minimum=1, maximum=count
        )  # the top N weighted layers
    if isinstance(unfreeze, str):
        names = [layer.name for layer in leaf_layers(backbone)]
        if unfreeze not in names:
            raise v.unknown_name(
                "backbone layer",
                unfreeze,
                names,
                hint="Pass a layer name of the backbone (model.get_layer('backbone').layers).",
            )
        return unfreeze
    raise v.invalid(
        "unfreeze", "'all', None, a number of top layers or a layer name", unfreeze, TypeError
    )


def unfreeze(backbone: keras.Layer, choice: Any, train_batchnorm: bool) -> int:
    """Make the chosen top part of the backbone trainable; returns the layer count."""
    leaves = leaf_layers(backbone)
    weighted = [layer for layer in leaves if layer.weights]
    if choice == "all":
        chosen = weighted
    elif isinstance(choice, int):
        chosen = weighted[-choice:] if choice else []
    else:
        index = [layer.name for layer in leaves].index(choice)
        chosen = [layer for layer in leaves[index:] if layer.weights]
    backbone.trainable = True
    chosen_ids = {id(layer) for layer in chosen}
    for layer in leaves:
        is_bn = isinstance(layer, keras.layers.BatchNormalization)
        layer.trainable = id(layer) in chosen_ids and (train_batchnorm or not is_bn)
    return len(chosen)


def _is_hub_layer(layer: Any) -> bool:
    """Whether `layer` is a HubLayer (never true unless TF Hub's layer was imported)."""
    module = sys.modules.get("zoo.architectures.pretrained.hub_layer")
    return module is not None and isinstance(layer, module.HubLayer)
