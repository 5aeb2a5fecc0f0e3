"""Strategy selection, mixed precision and multi-worker training with Keras 3.

``strategy("auto")`` picks a TPU (only when one is really attached), several GPUs
(MirroredStrategy), one GPU, or the CPU. ``mixed_precision("auto", strategy)`` picks
bfloat16 on TPU, float16 on GPU and float32 on CPU.

Keras 3's ``model.fit`` fails under ``MultiWorkerMirroredStrategy`` (an open upstream
bug), so :func:`fit_multiworker` trains with a custom loop through the public
``strategy.run`` API instead; ``zoo.train`` uses it automatically.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from zoo import _validation as v

STRATEGIES = ("auto", "cpu", "gpu", "mirrored", "tpu", "multiworker")
PRECISIONS = ("auto", "off", "float32", "mixed_float16", "mixed_bfloat16")
TPU_ENV = ("TPU_NAME", "TPU_CONFIG", "KUBE_GOOGLE_CLOUD_TPU_ENDPOINTS", "COLAB_TPU_ADDR")
START_TIMEOUT_ENV = "ZOO_WORKER_START_TIMEOUT"


def tpu_present() -> bool:
    """True only when a TPU is really attached (checked without slow probing)."""
    if any(os.environ.get(name) for name in TPU_ENV):
        return True
    return os.path.exists("/dev/accel0") or os.path.exists("/dev/vfio/0")


def logical_cpus(count: int) -> None:
    """Split the CPU into `count` logical devices (for multi-replica code on a CPU).

    Must run before TensorFlow initialises its devices (before any op).

    Example:
        >>> zoo.distribute.logical_cpus(2)
        >>> zoo.distribute.strategy("mirrored").num_replicas_in_sync
        2
    """
    import tensorflow as tf

    count = v.check_int("count", count, minimum=1)
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(count)]
        )
    except RuntimeError:
        existing = len(tf.config.list_logical_devices("CPU"))
        if existing != count:
            raise v.invalid(
                "count",
                f"called before TensorFlow starts (it already has {existing} logical CPUs)",
                count,
                ValueError,
            ) from None


def _tpu_strategy():
    import tensorflow as tf

    local = os.path.exists("/dev/accel0") or os.path.exists("/dev/vfio/0")
    name = os.environ.get("TPU_NAME") or ("local" if local else None)
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=name)
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, RuntimeError, tf.errors.OpError) as error:
        raise v.ArgumentValueError(
            f"strategy='tpu' needs an attached TPU; connecting failed ({error}). On Colab "
            "choose Runtime > Change runtime type > TPU. Received: strategy='tpu'"
        ) from None
    return tf.distribute.TPUStrategy(resolver)


@contextlib.contextmanager
def _watchdog(seconds: float, message: str) -> Iterator[None]:
    """Exit the process if the block does not finish within `seconds`.

    TensorFlow's multi-worker start-up blocks in C++ without releasing the GIL, so a
    Python thread or signal handler never runs; faulthandler's C watchdog does. The
    message is printed first; on time-out faulthandler adds the traceback and exits.
    """
    import faulthandler

    print(message, file=sys.stderr, flush=True)
    faulthandler.dump_traceback_later(seconds, exit=True)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


def cluster_from_slurm(port: int = 12345) -> dict[str, Any] | None:
    """A TF_CONFIG dict for the current Slurm task, or None outside Slurm."""
    if "SLURM_JOB_ID" not in os.environ or "SLURM_PROCID" not in os.environ:
        return None
    import tensorflow as tf

    resolver = tf.distribute.cluster_resolver.SlurmClusterResolver(port_base=port)
    return {
        "cluster": resolver.cluster_spec().as_dict(),
        "task": {"type": resolver.task_type, "index": int(resolver.task_id)},
    }


_MULTIWORKER: list[Any] = []


def _multiworker_strategy():
    import tensorflow as tf

    if _MULTIWORKER:  # one per process: collective ops are configured once
        return _MULTIWORKER[0]
    if "TF_CONFIG" not in os.environ:
        config = cluster_from_slurm()
        if config is None:
            raise v.ArgumentValueError(
                "strategy='multiworker' needs a cluster: set TF_CONFIG, run under Slurm, or "
                "start local workers with `zoo launch --workers N -- zoo train ...`. "
                "Received: strategy='multiworker'"
            )
        os.environ["TF_CONFIG"] = json.dumps(config)
    seconds = float(os.environ.get(START_TIMEOUT_ENV, "120"))
    message = (
        f"zoo: waiting for the other workers to join (TF_CONFIG={os.environ['TF_CONFIG']}); "
        f"if they have not joined within {seconds:.0f} s this worker exits with a "
        f"'Timeout' traceback. Raise ${START_TIMEOUT_ENV} if workers start slowly."
    )
    options = tf.distribute.experimental.CommunicationOptions(timeout_seconds=seconds)
    try:
        with _watchdog(seconds, message):
            strat = tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
    except RuntimeError as error:
        if "program startup" not in str(error):
            raise
        raise v.ArgumentValueError(
            "strategy='multiworker' must be created before TensorFlow runs anything in "
            "this process: call `strategy = zoo.distribute.strategy('multiworker')` first, "
            "then load data and build models, and pass strategy=strategy. "
            "Received: strategy='multiworker'"
        ) from None
    _MULTIWORKER.append(strat)
    return strat


# The dtype policy mixed_precision("auto") picks for each kind of device.
AUTO_POLICIES = {"tpu": "mixed_bfloat16", "gpu": "mixed_float16", "cpu": "float32"}


def auto_choice() -> dict[str, Any]:
    """What ``strategy("auto")`` and ``mixed_precision("auto")`` would pick here.

    Creates no strategy and connects to no TPU (it does list TensorFlow's logical
    devices, as :func:`strategy` does), for example for ``zoo doctor``.

    Returns:
        ``{"strategy", "device", "replicas", "mixed_precision"}``: the strategy's
        class name (``"default"`` for TensorFlow's default strategy), the device
        kind its replicas run on, their number (None for a TPU, unknown until
        connected) and the dtype policy name.

    Example:
        >>> zoo.distribute.auto_choice()
        {'strategy': 'default', 'device': 'cpu', 'replicas': 1, 'mixed_precision': 'float32'}
    """
    import tensorflow as tf

    gpus = tf.config.list_logical_devices("GPU")
    choice = {
        "tpu": {"strategy": "TPUStrategy", "device": "tpu", "replicas": None},
        "mirrored": {"strategy": "MirroredStrategy", "device": "gpu", "replicas": len(gpus)},
        "default": {"strategy": "default", "device": "gpu" if gpus else "cpu", "replicas": 1},
    }[_auto_kind(gpus)]
    return {**choice, "mixed_precision": AUTO_POLICIES[choice["device"]]}


def _auto_kind(gpus: list[Any]) -> str:
    """``strategy("auto")``'s choice: ``"tpu"``, ``"mirrored"`` (several GPUs) or ``"default"``."""
    if tpu_present():
        return "tpu"
    if len(gpus) > 1:
        return "mirrored"
    return "default"


def strategy(kind: Any = "auto", *, devices: list[str] | None = None):
    """Return a ``tf.distribute.Strategy``.

    Args:
        kind: ``"auto"`` (TPU if attached, else all GPUs mirrored, one GPU, or the
            CPU), ``"cpu"``, ``"gpu"``, ``"mirrored"``, ``"tpu"``, ``"multiworker"``,
            or a Strategy instance (returned unchanged).
        devices: devices for ``"mirrored"`` (default: all GPUs, else all logical
            CPUs).

    Returns:
        The strategy.

    Raises:
        ValueError: when the requested hardware is absent (the message says why).

    Example:
        >>> zoo.distribute.strategy("auto")
    """
    import tensorflow as tf

    if isinstance(kind, tf.distribute.Strategy):
        return kind
    v.check_choice("strategy", kind, STRATEGIES)
    if kind == "multiworker":  # before anything that initialises TensorFlow's context
        return _multiworker_strategy()
    gpus = tf.config.list_logical_devices("GPU")
    if kind == "auto":
        auto = _auto_kind(gpus)
        if auto == "tpu":
            return _tpu_strategy()
        if auto == "mirrored":
            return tf.distribute.MirroredStrategy()
        # One device: TensorFlow's default strategy places ops on the GPU if there is
        # one. OneDeviceStrategy would cost ~20% of steps/s here (measured, small CNN).
        return tf.distribute.get_strategy()
    if kind == "cpu":
        return tf.distribute.OneDeviceStrategy("/cpu:0") if gpus else tf.distribute.get_strategy()
    if kind == "gpu":
        if not gpus:
            raise v.ArgumentValueError(
                "strategy='gpu' needs a GPU, but TensorFlow sees none "
                "(tf.config.list_physical_devices('GPU') is empty). Received: strategy='gpu'"
            )
        return tf.distribute.OneDeviceStrategy(gpus[0].name)
    if kind == "mirrored":
        if devices is None:
            devices = [d.name for d in gpus] or [
                d.name for d in tf.config.list_logical_devices("CPU")
            ]
        return tf.distribute.MirroredStrategy(devices=devices)
    if not tpu_present():  # kind == "tpu"
        raise v.ArgumentValueError(
            "strategy='tpu' needs an attached TPU; none is (no TPU_NAME, COLAB_TPU_ADDR "
            "or /dev/accel0). Received: strategy='tpu'"
        )
    return _tpu_strategy()


def _worker_devices(strat) -> list[str]:
    import tensorflow as tf

    try:
        return list(strat.extended.worker_devices)
    except RuntimeError:  # the default (no-op) strategy: TensorFlow's own placement
        gpus = tf.config.list_logical_devices("GPU")
        return [gpus[0].name] if gpus else ["/cpu:0"]


def device_kind(strat) -> str:
    """``"tpu"``, ``"gpu"`` or ``"cpu"``: what the strategy's replicas run on."""
    import tensorflow as tf

    if isinstance(strat, tf.distribute.TPUStrategy):
        return "tpu"
    if any("GPU" in d.upper() for d in _worker_devices(strat)):
        return "gpu"
    if isinstance(strat, tf.distribute.MultiWorkerMirroredStrategy):
        return "gpu" if tf.config.list_logical_devices("GPU") else "cpu"
    return "cpu"


def describe(strat) -> dict[str, Any]:
    """A JSON-friendly description of a strategy, for cards and logs."""
    name = type(strat).__name__
    return {
        "strategy": "default" if name == "_DefaultDistributionStrategy" else name,
        "replicas": int(strat.num_replicas_in_sync),
        "device": device_kind(strat),
        "devices": _worker_devices(strat),
    }


def is_multiworker(strat) -> bool:
    """True for MultiWorkerMirroredStrategy (where Keras 3's fit is broken)."""
    import tensorflow as tf

    return isinstance(strat, tf.distribute.MultiWorkerMirroredStrategy)


def mixed_precision(mode: str = "auto", strat: Any = None) -> str:
    """Choose a Keras dtype policy name.

    ``"auto"`` gives ``"mixed_bfloat16"`` on TPU, ``"mixed_float16"`` on GPU and
    ``"float32"`` on CPU (bf16 runs about 7x slower on CPUs without bf16 units).
    ``"off"`` is ``"float32"``; policy names are returned as given.
    """
    v.check_choice("mixed_precision", mode, PRECISIONS)
    if mode == "auto":
        kind = device_kind(strat) if strat is not None else "cpu"
        return AUTO_POLICIES.get(kind, "float32")
    return "float32" if mode == "off" else mode


@contextlib.contextmanager
def dtype_policy(policy: str) -> Iterator[None]:
    """Use a global Keras dtype policy inside the block, then restore the old one."""
    import keras

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def compile_settings(
    strat, jit_compile: Any = "auto", steps_per_execution: int = 1
) -> dict[str, Any]:
    """Adjust compile settings that break under several replicas (with a notice).

    With more than one replica, XLA (``jit_compile=True``) fails on variables placed
    on other devices and ``steps_per_execution > 1`` fails with a placeholder error
    (TF 2.21 / Keras 3.15): both are turned off.
    """
    steps_per_execution = v.check_int("steps_per_execution", steps_per_execution, minimum=1)
    if jit_compile not in ("auto", True, False):
        raise v.invalid("jit_compile", "'auto', True or False", jit_compile)
    if strat is not None and strat.num_replicas_in_sync > 1:
        if jit_compile is True or steps_per_execution > 1:
            print(
                "zoo: jit_compile and steps_per_execution > 1 are turned off under "
                f"{strat.num_replicas_in_sync} replicas (they fail there in Keras 3)."
            )
        return {"jit_compile": False, "steps_per_execution": 1}
    return {"jit_compile": jit_compile, "steps_per_execution": steps_per_execution}


def even_first_batch(dataset: Any, strat: Any, first_batch: int | None = None) -> Any:
    """Split a batched dataset's first batch so that every replica gets a share.

    Keras 3.15's ``fit`` and ``evaluate`` peek at the first batch under a strategy and
    average it over replicas to build the model; a first batch whose size the
    replica count does not divide (a validation split of 5 examples on 2 devices, or
    a training split smaller than one batch) fails there with "Inputs to operation
    AddN ... must have the same size". This splits the first batch into an even part
    and a rest of at least one example per replica (11 on 2 replicas: 8 and 3), in
    one pass over the data (a reshuffling dataset still yields every example once per
    epoch). A rest smaller than the replica count would leave a replica an empty
    batch, which some convolutions on oneDNN CPUs reject ("Incompatible shapes:
    [0,224,224,3] vs. [16]"); only a first batch under twice the replicas has one.

    Args:
        dataset: a batched ``tf.data.Dataset``, or None.
        strat: the strategy the model trains under.
        first_batch: the first batch's size when known (``min(batch_size, n)``);
            a size the replicas share evenly leaves the dataset as it is.

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


def release_traced_gradients() -> Callable[[], int]:
    """Start tracking TF's gradient registrations; call the result to drop them.

    Every traced Keras 3 train step on the TF backend all-reduces its gradients
    through ``ReplicaContext.all_reduce``, whose ``custom_gradient`` registers a
    gradient function (``CustomGradient-N``) in TensorFlow's global registry and
    never removes it. The function holds the traced graph, so each model trained in a
    process keeps a few MB alive after ``clear_session()`` (4.3 MB per small MLP
    here). The gradient is built when the step is traced, so once training is over
    the registrations made during it are dead weight.

    Returns:
        A function that removes the registrations made since this call and returns
        how many it removed (0 where TensorFlow's registry is not reachable).

    Example:
        >>> release = release_traced_gradients()
        >>> model.fit(...)  # traced here
        >>> release()
        2
    """
    try:
        from tensorflow.python.framework import ops

        registry = ops._gradient_registry._registry
    except (ImportError, AttributeError):  # a TF without the private registry
        return lambda: 0
    if not isinstance(registry, dict):
        return lambda: 0
    before = set(registry)

    def release() -> int:
        stale = [k for k in registry if k not in before and k.startswith("CustomGradient-")]
        for key in stale:
            registry.pop(key, None)
        return len(stale)

    return release


def _local_validation(model, validation, loss_fn) -> dict[str, float]:
    """Validation loss (and accuracy for classifiers), computed eagerly on this worker.

    Keras's evaluate() hits the same upstream bug as fit() under multi-worker.
    """
    import numpy as np

    losses, correct, count = [], 0, 0
    sparse = "SparseCategorical" in type(loss_fn).__name__
    binary = "BinaryCrossentropy" in type(loss_fn).__name__
    for x, y in validation:
        predictions = model(x, training=False)
        per_example = np.asarray(loss_fn(y, predictions)).reshape(len(y), -1).mean(axis=-1)
        losses.append(per_example)
        predictions = np.asarray(predictions)
        if sparse:
            correct += int((predictions.argmax(axis=-1) == np.asarray(y)).sum())
        elif binary:
            correct += int(
                ((predictions.reshape(len(y)) > 0.5) == np.asarray(y).reshape(len(y))).sum()
            )
        count += len(y)
    logs = {"val_loss": float(np.concatenate(losses).mean())}
    if sparse or binary:
        logs["val_accuracy"] = correct / max(count, 1)
    return logs


def fit_multiworker(
    model,
    train,
    *,
    strat,
    epochs: int,
    validation=None,
    verbose: int = 1,
    on_epoch_end: Callable[[int, dict[str, float]], None] | None = None,
) -> dict[str, list[float]]:
    """Train a compiled model under MultiWorkerMirroredStrategy with a custom loop.

    Uses the model's compiled loss and optimizer; every replica computes its loss
    on its shard, gradients are all-reduced by ``strategy.run``. Validation loss
    and metrics are computed locally on each worker after every epoch.

    Returns:
        A Keras-style history dict: ``{"loss": [...], "val_loss": [...], ...}``.
    """
    import keras
    import tensorflow as tf

    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    distributed = strat.experimental_distribute_dataset(train.with_options(options))
    loss_fn = model.loss if not isinstance(model.loss, str) else keras.losses.get(model.loss)
    if isinstance(loss_fn, keras.losses.Loss):
        config = loss_fn.get_config()
        config["reduction"] = "none"
        loss_fn = loss_fn.__class__.from_config(config)
    optimizer = model.optimizer
    replicas = strat.num_replicas_in_sync

    def replica_step(x, y):
        with tf.GradientTape() as tape:
            predictions = model(x, training=True)
            per_example = loss_fn(y, predictions)
            per_example = tf.reshape(per_example, [tf.shape(per_example)[0], -1])
            per_example = tf.reduce_mean(per_example, axis=-1)
            global_batch = tf.cast(tf.shape(per_example)[0] * replicas, tf.float32)
            loss = tf.reduce_sum(per_example) / global_batch
            if model.losses:
                loss += tf.add_n(model.losses) / replicas
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
        return loss

    @tf.function
    def step(x, y):
        per_replica = strat.run(replica_step, args=(x, y))
        return strat.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)

    history: dict[str, list[float]] = {"loss": []}
    for epoch in range(epochs):
        start = time.perf_counter()
        total, batches = 0.0, 0
        for x, y in distributed:
            total += float(step(x, y))
            batches += 1
        logs = {"loss": total / max(batches, 1)}
        if validation is not None:
            logs.update(_local_validation(model, validation, loss_fn))
        for key, value in logs.items():
            history.setdefault(key, []).append(value)
        if verbose:
            shown = " - ".join(f"{k}: {value:.4f}" for k, value in logs.items())
            print(
                f"Epoch {epoch + 1}/{epochs} - {time.perf_counter() - start:.1f}s - {shown}",
                flush=True,
            )
        if on_epoch_end is not None:
            on_epoch_end(epoch, logs)
    return history


def _free_ports(count: int) -> list[int]:
    import socket

    sockets, ports = [], []
    for _ in range(count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sockets.append(sock)
        ports.append(sock.getsockname()[1])
    for sock in sockets:
        sock.close()
    return ports


def _stream(process, prefix: str) -> threading.Thread:
    def pump():
        for line in process.stdout:
            sys.stdout.write(f"{prefix}{line}")
            sys.stdout.flush()

    thread = threading.Thread(target=pump, daemon=True)
    thread.start()
    return thread


def _stop_processes(processes: list[Any], grace: float) -> None:
    """SIGTERM each running process group, then SIGKILL those alive after `grace` s."""
    import signal
    import subprocess

    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for process in processes:
        try:
            process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def launch(
    command: list[str],
    *,
    workers: int = 2,
    timeout: float | None = None,
    grace: float = 10.0,
) -> int:
    """Run `command` as `workers` local TensorFlow workers on 127.0.0.1.

    Each worker gets a ``TF_CONFIG`` for a cluster of `workers` workers on free
    loopback ports, and its output is prefixed with ``[worker i]``. If any worker
    fails, the others are stopped (SIGTERM, then SIGKILL after `grace` seconds) and
    its exit code is returned; a `timeout` bounds the whole run. When ``TF_CONFIG``
    is already set, or under Slurm, the command runs once as this node's worker.

    Returns:
        0 when every worker succeeded, else the first failing worker's exit code
        (124 on timeout).

    Example:
        >>> zoo.distribute.launch(["zoo", "train", "mlp", "--data", "digits",
        ...                        "--strategy", "multiworker"], workers=2)
    """
    import subprocess

    if not command:
        raise v.invalid("command", "a command to run, after `--`", command)
    workers = v.check_int("workers", workers, minimum=1)
    if timeout is not None:
        timeout = v.check_float("timeout", timeout, minimum=1.0)
    env = dict(os.environ)
    if "TF_CONFIG" in env or cluster_from_slurm() is not None:
        if "TF_CONFIG" not in env:
            env["TF_CONFIG"] = json.dumps(cluster_from_slurm())
        return subprocess.call(command, env=env)

    ports = _free_ports(workers)
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    processes = []
    for index in range(workers):
        worker_env = {
            **env,
            "TF_CONFIG": json.dumps(
                {"cluster": cluster, "task": {"type": "worker", "index": index}}
            ),
            "ZOO_WORKER_INDEX": str(index),
            "PYTHONUNBUFFERED": "1",
        }
        process = subprocess.Popen(
            command,
            env=worker_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        processes.append(process)
        _stream(process, f"[worker {index}] ")

    def stop_all():
        _stop_processes(processes, grace)

    start = time.monotonic()
    try:
        while True:
            codes = [p.poll() for p in processes]
            failed = [(i, c) for i, c in enumerate(codes) if c not in (None, 0)]
            if failed:
                index, code = failed[0]
                print(
                    f"zoo launch: worker {index} exited with code {code}; stopping the "
                    f"other workers.",
                    file=sys.stderr,
                    flush=True,
                )
                stop_all()
                return code if code > 0 else 128 - code
            if all(c == 0 for c in codes):
                return 0
            if timeout is not None and time.monotonic() - start > timeout:
                print(f"zoo launch: timed out after {timeout:.0f} s; stopping.", file=sys.stderr)
                stop_all()
                return 124
            time.sleep(0.2)
    except KeyboardInterrupt:
        stop_all()
        return 130
