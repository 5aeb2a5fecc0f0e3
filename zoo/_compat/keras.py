"""Keras 3 (seen in 3.15): private APIs zoo needs and workarounds of its bugs."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import keras


@contextlib.contextmanager
def variables_without_values() -> Iterator[None]:
    """Create variables with shapes but no values (cheap parameter counting).

    Not a bug: Keras has no public way to build a model without allocating its
    weights. Inside ``keras.StatelessScope(initialize_variables=False)`` variables are
    deferred; the deferred ones are then dropped from Keras's private pending list
    (``keras.src.backend.common.global_state``) so that a later scope does not
    allocate them. Where the private module moved, models are built for real.
    """
    import keras

    try:
        from keras.src.backend.common import global_state
    except ImportError:  # pragma: no cover - private module moved: build for real
        yield
        return
    key = "uninitialized_variables"
    before = list(global_state.get_global_attribute(key, []) or [])
    try:
        with keras.StatelessScope(initialize_variables=False):
            yield
    finally:
        global_state.set_global_attribute(key, before)


# --- Keras under tf.distribute --------------------------------------------------------


def compile_settings(strat, jit_compile="auto", steps_per_execution: int = 1) -> dict:
    """Turn off compile settings that fail under several replicas (with a notice).

    Works around (Keras 3.15, TF 2.21): with more than one replica, XLA
    (``jit_compile=True``) fails on variables placed on other devices, and
    ``steps_per_execution > 1`` fails with a placeholder error in the TF trainer's
    multi-step function. Upstream: https://github.com/keras-team/keras/issues/19005 (XLA with
    tf.distribute, disabled upstream: https://github.com/keras-team/keras/pull/19006) and
    https://github.com/keras-team/keras/issues/19246 (the placeholder error).
    """
    from zoo import _validation as v

    steps_per_execution = v.check_int("steps_per_execution", steps_per_execution, minimum=1)
    if jit_compile not in ("auto", True, False):
        raise v.invalid("jit_compile", "'auto', True or False", jit_compile)
    jax_strategy = getattr(strat, "backend", None) == "jax"  # XLA is how JAX runs
    if strat is not None and strat.num_replicas_in_sync > 1 and not jax_strategy:
        if jit_compile is True or steps_per_execution > 1:
            print(
                "zoo: jit_compile and steps_per_execution > 1 are turned off under "
                f"{strat.num_replicas_in_sync} replicas (they fail there in Keras 3)."
            )
        return {"jit_compile": False, "steps_per_execution": 1}
    return {"jit_compile": jit_compile, "steps_per_execution": steps_per_execution}


def even_first_batch(dataset, strat, first_batch=None):
    """Split a batched dataset's first batch so that every replica gets a share.

    Works around (Keras 3.15, TF 2.21): ``fit`` and ``evaluate`` peek at the first
    batch under a strategy and average it over replicas to build the model; a first
    batch whose size the replica count does not divide (a validation split of 5
    examples on 2 devices) fails with "Inputs to operation AddN ... must have the same
    size". Upstream: https://github.com/keras-team/keras/issues/19246 (related:
    the same first-batch reduce fails with this error in its 2024-07 comment).

    The first batch is split into an even part and a rest of at least one example per
    replica (11 on 2 replicas: 8 and 3), in one pass over the data (a reshuffling
    dataset still yields every example once per epoch). A rest smaller than the
    replica count would leave a replica an empty batch, which some convolutions on
    oneDNN CPUs reject ("Incompatible shapes: [0,224,224,3] vs. [16]"); only a first
    batch under twice the replicas has one.

    Args:
        dataset: a batched ``tf.data.Dataset``, or None.
        strat: the strategy the model trains under.
        first_batch: the first batch's size when known (``min(batch_size, n)``); a
            size the replicas share evenly leaves the dataset as it is.

    Returns:
        ``dataset`` itself when nothing needs to change.
    """
    replicas = 1 if strat is None else strat.num_replicas_in_sync
    if dataset is None or replicas == 1:
        return dataset
    if first_batch is not None and first_batch % replicas == 0:
        return dataset
    import tensorflow as tf

    def split(index, batch):
        size = tf.shape(tf.nest.flatten(batch)[0])[0]
        even = size - size % replicas
        # The even part leaves the rest one example or more per replica when it can.
        head = tf.where(size % replicas > 0, even - replicas, even)
        head = tf.where(head >= replicas, head, tf.maximum(even, 1))
        head = tf.cast(tf.where(index == 0, head, size), tf.int64)
        rows = tf.data.Dataset.from_tensors(batch).unbatch()
        return (
            rows.take(head).batch(head).concatenate(rows.skip(head).batch(tf.cast(size, tf.int64)))
        )

    return dataset.enumerate().flat_map(split)


def fit_needs_custom_loop(strat) -> bool:
    """Whether ``model.fit`` cannot run under `strat`, so zoo's engine loops itself.

    Works around (Keras 3.15, TF 2.21): under ``MultiWorkerMirroredStrategy``, Keras
    3's ``fit`` and ``evaluate`` fail before the first step with "Attempt to convert
    a value (PerReplica ...)". The engine then trains through the public
    ``strategy.run`` API (:func:`zoo.engine.loop.fit`).
    Upstream: https://github.com/keras-team/keras/issues/20585 (also
    https://github.com/tensorflow/tensorflow/issues/72388).
    """
    if getattr(strat, "backend", None) == "jax":
        return False
    import tensorflow as tf

    return isinstance(strat, tf.distribute.MultiWorkerMirroredStrategy)


def replicated_predict_returns_copies(strat) -> bool:
    """Whether ``predict_on_batch`` under `strat` returns one copy per replica.

    Works around (Keras 3.15): under ``MirroredStrategy`` with several replicas,
    ``predict_on_batch`` concatenates one full copy of the outputs per replica; a plain
    ``model(x, training=False)`` call gives the one answer. Upstream: none found;
    minimal repro: under ``MirroredStrategy`` over 2 logical CPUs,
    ``Sequential([Input((3,)), Dense(2)]).predict_on_batch(np.ones((4, 3)))`` has shape
    (8, 2) while ``predict`` gives (4, 2).
    """
    if getattr(strat, "backend", None) == "jax":
        return False
    return strat is not None and strat.num_replicas_in_sync > 1


# --- Keras's functional graph (no public API) ----------------------------------------


def producing_layer(tensor):
    """The layer that produced a symbolic tensor of a functional model, or None.

    Not a bug: Keras 3 keeps this in the private ``_keras_history`` of the tensor.
    """
    try:
        return tensor._keras_history[0]
    except (AttributeError, IndexError, TypeError):
        return None


def inbound_nodes(layer) -> list:
    """The call nodes of a layer in the functional graphs it belongs to (private)."""
    return list(getattr(layer, "_inbound_nodes", None) or [])


def is_functional(model) -> bool:
    """Whether `model` is a graph of layer calls (a functional or Sequential model)."""
    return hasattr(model, "_inbound_nodes") and bool(getattr(model, "outputs", None))


def input_signature(model):
    """Keras's input signature of a model for export (``keras.src.export``, private).

    Raises:
        ValueError: for a subclassed model that has not been called yet.
    """
    from keras.src.export.export_utils import get_input_signature

    return get_input_signature(model)


def all_layers(layer) -> list:
    """`layer` and every layer inside it, recursively (custom layers' sublayers too).

    Not a bug: Keras 3 has no public recursive walk (``Model.layers`` lists direct
    children only, and plain layers have none); this is the private
    ``Layer._flatten_layers``.
    """
    return list(layer._flatten_layers(include_self=True, recursive=True))


# --- Saving and optimizers -------------------------------------------------------------


class CompiledOnLoad:
    """Mixin: a model with its own ``compile()`` is compiled again when loaded.

    Works around (Keras 3.0 to 3.15, by design): ``Trainer.compile_from_config`` does
    nothing for a class that overrides ``compile()`` (it only warns "``compile()`` was
    not called as part of model loading"), yet the loaded model says it is compiled and
    has no optimizer. No upstream issue: the warning documents it, and tells users to
    override ``compile_from_config`` as this does. The optimizer is built so that its
    saved state loads.
    """

    def compile_from_config(self, config: dict) -> None:
        import keras

        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.built and self.optimizer is not None:
            self.optimizer.build(self.trainable_variables)  # so its saved state loads


def variable_index(optimizer, variable) -> int:
    """The index of `variable` among the variables `optimizer` was built with.

    Not a bug: Keras 3 keeps this in the private ``Optimizer._get_variable_index``,
    which per-variable learning rates (:mod:`zoo.optimizers`' layer-wise ones) need.
    """
    return optimizer._get_variable_index(variable)


def is_download_failure(error: BaseException) -> bool:
    """Whether `error` is ``keras.utils.get_file``'s failed download.

    Works around (Keras 2 to 3.15): ``get_file`` raises a bare ``Exception("URL fetch
    failure on ...")``, so callers must catch ``Exception`` and read the message. No
    upstream issue (https://github.com/keras-team/keras/pull/11696 only set the text).
    """
    return type(error) is Exception and "URL fetch failure" in str(error)


def build_application(application, name: str, **kwargs):
    """``keras.applications.X(**kwargs)``, then named `name`.

    Works around (Keras 3.15): ``EfficientNetV2*(name=...)`` uses its ``name`` argument
    as a key of its block configurations, so any other name raises ``KeyError``. The
    model is renamed after it is built instead. Upstream: none found; minimal repro:
    ``keras.applications.EfficientNetV2B0(weights=None, include_top=False,
    name="backbone")`` raises ``KeyError: 'backbone'``.
    """
    model = application(**kwargs)
    model.name = name
    return model


def track_variable(layer, variable) -> None:
    """Make `layer` own an existing variable (its weights, saved and trained with it).

    Not a bug: Keras 3 tracks variables it creates itself; adopting one made elsewhere
    (a TF Hub SavedModel's, wrapped as ``keras.Variable``) goes through the private
    ``Layer._track_variable``, as Keras's own ``TFSMLayer`` does.
    """
    layer._track_variable(variable)


def built_at_init(layer) -> None:
    """Mark a layer whose variables exist from its constructor on as built (private API)."""
    layer._build_at_init()


# --- Resizing's training default (keras-team/keras#23166) -----------------------------


def defaults_to_training(layer: Any) -> bool:
    """Whether a layer's ``call`` defaults to ``training=True`` (see below)."""
    import inspect

    try:
        parameter = inspect.signature(layer.call).parameters.get("training")
    except (TypeError, ValueError):
        return False
    return parameter is not None and parameter.default is True


def called_in_inference_mode(model: keras.Model, signature: list[Any]) -> keras.Model:
    """`model`, called with ``training=False`` where a layer defaults to training mode.

    Works around (Keras 3.15): a layer whose ``call`` defaults to ``training=True``
    (``Resizing``, ``CenterCrop``: the resizing of a raw-image model) stores that
    default in the call context it shares with the layers after it, so a model called
    without ``training`` (as Keras's SavedModel and ONNX exporters call it) runs the
    network's Dropout and BatchNormalization in training mode: random outputs.
    Upstream: https://github.com/keras-team/keras/pull/23166 (root cause of
    https://github.com/keras-team/keras-hub/issues/2495). A functional wrapper that
    calls the model with ``training=False`` sets the mode for the whole call.
    """
    import keras

    if len(signature) != 1 or not any(defaults_to_training(x) for x in all_layers(model)):
        return model

    def symbolic(spec):
        return keras.Input(batch_shape=tuple(spec.shape), dtype=spec.dtype, name=spec.name)

    inputs = keras.tree.map_structure(symbolic, signature[0])
    return keras.Model(inputs, model(inputs, training=False), name=model.name)


# --- Keras under keras.distribution (JAX, several processes) ---------------------------


@contextlib.contextmanager
def without_distribution() -> Iterator[None]:
    """Run work that only one process does (the chief's saves) outside the distribution.

    Works around (Keras 3.15, JAX backend, several processes): ``save_weights`` creates
    a throwaway ``Optimizer(1.0)`` (``saving_lib.get_attr_skipset``), whose variable is
    laid out over the distribution's devices of every process; JAX then checks across
    processes that the value is the same, a collective the other workers never join, so
    the chief fails ("... passed to device_put is not the same on each process") or
    both hang. Outside the distribution the variable stays local; the model's own
    variables are replicated, so every process can read them. No upstream issue found
    (searched 2026-12); reproduced by ``tests/test_jax_backend.py`` multiworker test.
    """
    from keras import distribution

    active = distribution.distribution()
    if active is None:
        yield
        return
    distribution.set_distribution(None)
    try:
        yield
    finally:
        distribution.set_distribution(active)


def call_in_tf_data(model: keras.Model, inputs: Any) -> Any:
    """A functional model of ``tf.data``-ready layers called on ``tf.Tensor`` in ``tf.data``.

    Works around (Keras 3.15, any backend but TensorFlow): ``Functional.call``
    converts its inputs with the backend's ``convert_to_tensor`` (``jax.numpy`` on JAX),
    which fails on the symbolic tensors of a ``tf.data`` map ("Cannot convert a symbolic
    tf.Tensor ... to a numpy array"), although Keras's preprocessing layers
    (``StringLookup``, ``Normalization``, ``TextVectorization``, ...) switch to
    TensorFlow there by themselves. So the inputs are matched to the model's (by name
    for a dict, rank raised by one where the model wants a trailing 1, as Keras does)
    and the graph is run directly, in inference mode. Keras documents the limit:
    https://keras.io/api/layers/preprocessing_layers/ ("use them in tf.data").
    """
    import keras
    import tensorflow as tf
    from keras.src.models import functional

    struct = model.input
    if isinstance(struct, dict):  # in the graph's order, which is the flattened dict's
        pairs = [
            (inputs[name], struct[name]) for name in keras.tree.flatten({k: k for k in struct})
        ]
    elif isinstance(inputs, dict):  # inputs named like the model's
        pairs = [(inputs[ref.name], ref) for ref in keras.tree.flatten(struct)]
    else:
        pairs = list(zip(keras.tree.flatten(inputs), keras.tree.flatten(struct), strict=True))
    flat = []
    for x, ref in pairs:
        x = tf.convert_to_tensor(x)
        if x.dtype != tf.string and ref.dtype != "string" and x.dtype.name != ref.dtype:
            x = tf.cast(x, ref.dtype)
        if len(x.shape) == len(ref.shape) - 1 and ref.shape[-1] == 1:
            x = tf.expand_dims(x, -1)
        flat.append(x)
    return model._run_through_graph(
        flat, operation_fn=lambda op: functional.operation_fn(op, training=False)
    )


def preprocessed_batches(preprocessor: keras.Model, inputs: Any, batch_size: int):
    """``preprocessor`` run over `inputs` in a ``tf.data`` pipeline: numpy batches.

    How a model's raw-input preprocessing (strings, table columns) runs on a backend
    other than TensorFlow, where those layers only run in ``tf.data``
    (:func:`call_in_tf_data`).
    """
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices(inputs).batch(batch_size)
    dataset = dataset.map(lambda batch: call_in_tf_data(preprocessor, batch))
    return dataset.as_numpy_iterator()


def load_restricted_npz(path) -> dict[str, Any]:
    """The arrays of a ``keras.datasets`` ``.npz`` whose ragged members are pickled.

    Not a bug: Keras reads IMDB and Reuters (object arrays of token lists) with a
    restricted unpickler that rebuilds numpy arrays only, instead of
    ``np.load(allow_pickle=True)``, in the private ``keras.src.datasets.npz_utils``
    (Keras 3.12 to 3.15). zoo reads the same files the same safe way.
    """
    from keras.src.datasets import npz_utils

    return dict(npz_utils.load_npz(str(path)))


def load_restricted_pickle(file) -> Any:
    """One pickled CIFAR batch (a dict of bytes keys), rebuilding numpy arrays only.

    Not a bug: Keras's ``RestrictedUnpickler`` (private, in
    ``keras.src.datasets.npz_utils``, Keras 3.12 to 3.15) refuses any other class, so
    a tampered batch file cannot run code, which plain ``pickle.load`` would.
    """
    from keras.src.datasets import npz_utils

    return npz_utils.RestrictedUnpickler(file, encoding="bytes").load()


# --- FeatureSpace with given vocabularies (keras-team/keras#20088 left lookups out) -----


def feature_space_without_adapt(space: Any) -> Any:
    """Make a ``FeatureSpace`` whose preprocessors all have their state usable without adapt.

    Works around (Keras 3.15): ``FeatureSpace`` skips ``adapt`` for a ``Normalization``
    with a given mean and a ``TextVectorization`` with a given vocabulary, but not for a
    ``StringLookup`` given its ``vocabulary``: ``adapt`` then fails ("Cannot adapt layer
    ... after setting a static vocabulary") and calling it fails ("You need to call
    .adapt(dataset)"), so a vocabulary counted elsewhere (a table streamed from disk)
    cannot be used. Upstream: https://github.com/keras-team/keras/pull/20088 fixed the
    same for TextVectorization only. Marks it adapted (private flag) and builds it.
    """
    stuck = [
        name
        for name in space._list_adaptable_preprocessors()
        if not getattr(space.preprocessors[name], "_has_input_vocabulary", False)
    ]
    if stuck:
        raise ValueError(f"FeatureSpace preprocessors {stuck} have no given state")
    space._is_adapted = True
    space.get_encoded_features()
    return space
