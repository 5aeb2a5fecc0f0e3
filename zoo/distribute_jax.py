"""zoo's strategies on Keras's JAX backend, through ``keras.distribution``.

The engine speaks the small part of the ``tf.distribute.Strategy`` interface it needs
(``scope()``, ``num_replicas_in_sync``); :class:`DataParallel` gives that face to
``keras.distribution.DataParallel`` over the local devices (TPU cores, GPUs, or the CPU
devices JAX sees, e.g. ``XLA_FLAGS=--xla_force_host_platform_device_count=2``). With
one device it is a no-op, like TensorFlow's default strategy.

Variables built inside ``scope()`` are laid out over the devices, and ``fit``,
``evaluate`` and ``predict`` shard each batch along its first axis, so every batch's
size must be a multiple of the device count: :func:`even_batches` pads training and
evaluation batches with zero-weight copies of their last example, and :func:`padded`
pads prediction batches, whose padding rows the engine drops.

Nothing here imports TensorFlow except the ``tf.data`` transforms.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from typing import Any

BACKEND = "jax"


class DataParallel:
    """Data parallelism over local JAX devices, with a ``tf.distribute``-like face.

    Args:
        devices: the JAX devices (default: every local device).

    Example:
        >>> strat = DataParallel()
        >>> strat.num_replicas_in_sync >= 1
        True
    """

    backend = BACKEND

    def __init__(self, devices: list[Any] | None = None):
        import jax

        self.devices = list(devices) if devices is not None else list(jax.local_devices())
        #: Processes the devices belong to (several after :func:`multiworker`) and ours.
        self.processes = len({d.process_index for d in self.devices})
        self.process_id = jax.process_index()
        self._distribution = None
        if len(self.devices) > 1:
            import keras

            # Across processes zoo shards the batches itself (even_batches), the same
            # way on every worker, so every worker runs the same number of steps.
            self._distribution = keras.distribution.DataParallel(
                devices=self.devices, auto_shard_dataset=False
            )

    @property
    def num_replicas_in_sync(self) -> int:
        return len(self.devices)

    def local_rows(self, size: int) -> slice:
        """This process's rows of a global batch of `size` (a multiple of the replicas)."""
        share = size // self.processes
        return slice(self.process_id * share, (self.process_id + 1) * share)

    @property
    def distribution(self):
        """The ``keras.distribution.DataParallel``, or None on one device."""
        return self._distribution

    @contextlib.contextmanager
    def scope(self) -> Iterator[None]:
        """Build, compile, fit and predict laid out over the devices inside the block."""
        if self._distribution is None:
            yield
            return
        with self._distribution.scope():
            yield

    @property
    def device_kind(self) -> str:
        """``"tpu"``, ``"gpu"`` or ``"cpu"``."""
        return _kind(self.devices[0])

    def describe(self) -> dict[str, Any]:
        return {
            "backend": BACKEND,
            "strategy": "DataParallel" if self._distribution is not None else "default",
            "replicas": self.num_replicas_in_sync,
            "workers": self.processes,
            "device": self.device_kind,
            "devices": [str(d) for d in self.devices],
        }

    def __repr__(self) -> str:
        return f"zoo.distribute_jax.DataParallel({self.num_replicas_in_sync} {self.device_kind})"


def _kind(device: Any) -> str:
    platform = str(getattr(device, "platform", "cpu")).lower()
    return "gpu" if platform in ("gpu", "cuda", "rocm") else platform


def is_jax_strategy(strat: Any) -> bool:
    """Whether `strat` is one of this module's strategies."""
    return getattr(strat, "backend", None) == BACKEND


@functools.cache
def _over(devices: tuple[Any, ...]) -> DataParallel:
    return DataParallel(list(devices))


def local(kind: str = "auto") -> DataParallel:
    """The strategy for ``kind``: ``"auto"`` is every local device of the default kind.

    ``"cpu"`` is one CPU device; ``"gpu"``/``"tpu"`` need one (the error says what JAX
    sees otherwise); ``"mirrored"`` is ``"auto"``.
    """
    import jax

    from zoo import _validation as v

    devices = jax.local_devices()
    if kind in ("auto", "mirrored"):
        return _over(tuple(devices))
    if kind == "cpu":
        return _over(tuple(jax.local_devices(backend="cpu")[:1]))
    chosen = [d for d in devices if _kind(d) == kind]
    if not chosen:
        raise v.ArgumentValueError(
            f"strategy={kind!r} needs a {kind.upper()}, but JAX sees only "
            f"{sorted({_kind(d) for d in devices})} devices (jax.local_devices()). "
            f"Received: strategy={kind!r}"
        )
    return _over(tuple(chosen if kind == "tpu" else chosen[:1]))


def multiworker(cluster: dict[str, Any] | None) -> DataParallel:
    """Join this process to a cluster (``keras.distribution.initialize``); data parallel over all.

    Args:
        cluster: ``{"addresses": ["host:port", ...], "process_id": i}`` (the first
            address is the coordinator, process 0), or None to let Keras and JAX find
            the cluster themselves (``KERAS_DISTRIBUTION_*`` variables, Cloud TPU pods).

    Returns:
        A :class:`DataParallel` over every device of every process. Calling it again in
        the same process returns the same cluster.

    Raises:
        ArgumentValueError: if JAX already ran something in this process (a cluster
            must be joined first), or the cluster could not be joined (the message
            gives the addresses tried and JAX's reason).
    """
    import jax

    from zoo import _validation as v

    if not jax.distributed.is_initialized():
        from jax._src import xla_bridge  # JAX has no public question for this

        if xla_bridge.backends_are_initialized():
            raise v.ArgumentValueError(
                "strategy='multiworker' must be created before JAX runs anything in this "
                "process: call `strategy = zoo.distribute.strategy('multiworker')` first, "
                "or pass strategy='multiworker' to the first zoo call. "
                "Received: strategy='multiworker'"
            )
        import keras

        arguments = {}
        if cluster is not None:
            arguments = {
                "job_addresses": ",".join(cluster["addresses"]),
                "num_processes": len(cluster["addresses"]),
                "process_id": cluster["process_id"],
            }
        try:
            keras.distribution.initialize(**arguments)
        except (RuntimeError, ValueError) as error:
            where = arguments or "found by JAX (KERAS_DISTRIBUTION_* or a TPU pod)"
            raise v.ArgumentValueError(
                f"strategy='multiworker' could not join the cluster {where}: {error}. Check "
                "that every worker runs with the same addresses and that the first one can "
                "be reached. Received: strategy='multiworker'"
            ) from None
    return _over(tuple(jax.devices()))


def predict_on_batch(model: Any, batch: Any, strat: DataParallel) -> Any:
    """Predictions for a whole batch padded to a multiple of the replicas, as numpy.

    Across processes each worker predicts its rows and all gather the rest.
    """
    import numpy as np

    if strat.processes == 1:
        return np.asarray(model.predict_on_batch(batch))
    from jax.experimental import multihost_utils

    arrays = batch if isinstance(batch, (list, tuple)) else [batch]
    rows = strat.local_rows(len(arrays[0]))
    mine = [a[rows] for a in arrays]
    local = model.predict_on_batch(type(batch)(mine) if arrays is batch else mine[0])
    return np.asarray(multihost_utils.process_allgather(np.asarray(local), tiled=True))


def of_model(model: Any) -> DataParallel:
    """The strategy a model's variables are laid out over (one device if unsharded)."""
    import jax

    for variable in getattr(model, "weights", []):
        sharding = getattr(getattr(variable, "value", None), "sharding", None)
        devices = getattr(sharding, "device_set", None)
        if devices:
            return _over(tuple(sorted(devices, key=lambda d: d.id)))
    return _over(tuple(jax.local_devices()[:1]))  # no variables: nothing to lay out


def even_batches(dataset: Any, strat: Any) -> Any:
    """Pad each batch of a batched ``(x, y)`` ``tf.data.Dataset`` to a multiple of the replicas.

    The padding repeats the batch's last example with sample weight 0, so losses and
    metrics count only real examples (a 3-tuple's weights are padded with zeros; a
    dataset of ``x`` alone, which has no labels to weigh, is padded as it is). Every
    example is seen once per epoch and the number of batches is kept. Across several
    processes (:func:`multiworker`) every worker reads the same batches (zoo's shuffles
    are seeded) and keeps its own rows of each, so all run the same number of steps.
    Returns ``dataset`` itself on one replica.
    """
    replicas = 1 if strat is None else strat.num_replicas_in_sync
    if dataset is None or replicas == 1:
        return dataset
    import tensorflow as tf

    processes, index = getattr(strat, "processes", 1), getattr(strat, "process_id", 0)

    def pad(*batch):
        size = tf.shape(tf.nest.flatten(batch)[0])[0]
        extra = (-size) % replicas

        def mine(t):  # this process's rows of the padded batch
            share = (size + extra) // processes
            return t if processes == 1 else t[index * share : (index + 1) * share]

        def grow(t):
            return mine(tf.concat([t, tf.repeat(t[-1:], extra, axis=0)], axis=0))

        if len(batch) == 1:
            return tf.nest.map_structure(grow, batch[0])
        x, y = tf.nest.map_structure(grow, batch[0]), tf.nest.map_structure(grow, batch[1])
        if len(batch) == 3:
            weights = tf.cast(batch[2], tf.float32)
        else:
            weights = _broadcastable(tf.ones([size]), tf.nest.flatten(batch[1])[0])
        zeros = tf.zeros(tf.concat([[extra], tf.shape(weights)[1:]], axis=0))
        return x, y, mine(tf.concat([weights, zeros], axis=0))

    return dataset.map(pad, num_parallel_calls=tf.data.AUTOTUNE)


def _broadcastable(weights: Any, y: Any) -> Any:
    """Per-example `weights` shaped like the per-position loss Keras computes for `y`.

    Keras weighs a loss ``(batch, ...)`` by weights of its rank (or one less, when its
    last axis is 1). Its losses reduce the last axis of dense targets (an image target
    ``(batch, h, w, c)`` has a loss ``(batch, h, w)``: weights ``(batch, 1, 1)``) and
    keep the shape of integer class ids (a language model's ``(batch, steps)``:
    ``(batch, 1)``); vectors and single labels take ``(batch,)``.
    """
    rank = y.shape.rank or 1
    loss_rank = max(1, rank if y.dtype.is_integer else rank - 1)
    return weights[(slice(None),) + (None,) * (loss_rank - 1)]


def padded(batch: Any, replicas: int) -> tuple[Any, int]:
    """A numpy batch padded (repeating its last row) to a multiple of `replicas`.

    Returns the padded batch and the true size, so predictions can be cut back.
    """
    import numpy as np

    arrays = batch if isinstance(batch, (list, tuple)) else [batch]
    size = len(arrays[0])
    extra = (-size) % replicas
    if extra == 0:
        return batch, size
    grown = [np.concatenate([a, np.repeat(a[-1:], extra, axis=0)]) for a in arrays]
    return (type(batch)(grown) if isinstance(batch, (list, tuple)) else grown[0]), size
