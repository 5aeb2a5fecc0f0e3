"""Strategy selection, mixed precision and multi-worker training with Keras 3.

``strategy("auto")`` picks a TPU (only when one is really attached), several GPUs
(MirroredStrategy), one GPU, or the CPU. ``mixed_precision("auto", strategy)`` picks
bfloat16 on TPU, float16 on GPU and float32 on CPU.

``launch`` runs a command as N local workers (``zoo launch``); the engine
(:mod:`zoo.engine`) trains under any of these strategies.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Iterator
from typing import Any

from zoo import _validation as v
from zoo._compat.keras import compile_settings, even_first_batch
from zoo._compat.tensorflow import (
    is_default_strategy,
    release_traced_gradients,
    start_watchdog,
)
from zoo._processes import free_ports, stop_processes, stream_output

__all__ = [
    "PRECISIONS",
    "STRATEGIES",
    "cluster_from_slurm",
    "compile_settings",
    "describe",
    "device_kind",
    "dtype_policy",
    "even_first_batch",
    "is_chief",
    "is_multiworker",
    "launch",
    "logical_cpus",
    "mixed_precision",
    "release_traced_gradients",
    "strategy",
    "strategy_of_built",
    "tpu_present",
]

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

    Must run before TensorFlow initialises its devices (before any op), so the example
    is for a fresh process.

    Example:
        >>> zoo.distribute.logical_cpus(2)  # doctest: +SKIP
        >>> zoo.distribute.strategy("mirrored").num_replicas_in_sync  # doctest: +SKIP
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
        with start_watchdog(seconds, message):
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
        "strategy": "default" if is_default_strategy(strat) else name,
        "replicas": int(strat.num_replicas_in_sync),
        "device": device_kind(strat),
        "devices": _worker_devices(strat),
    }


def is_chief() -> bool:
    """Whether this process is the chief of a multi-worker cluster (True outside one).

    The chief is the ``chief`` task, or worker 0 of a cluster without one; it alone
    writes checkpoints, TensorBoard logs and the saved model.
    """
    if os.environ.get("TF_CONFIG") is None:
        return True
    task = json.loads(os.environ["TF_CONFIG"]).get("task", {})
    kind = task.get("type")
    return kind in ("chief", None) or (kind == "worker" and int(task.get("index", 0)) == 0)


def strategy_of_built(model, strategy: Any, build_from: str):
    """The strategy a built model keeps; `strategy` must then be ``"auto"``.

    Variables are placed when a model is built, so a model built outside a strategy's
    scope cannot move into one. `build_from` says what to pass instead so that zoo can
    build the model inside the scope.
    """
    if not (isinstance(strategy, str) and strategy == "auto"):
        raise v.invalid(
            "strategy",
            f"'auto' for a model that is already built (pass {build_from} so zoo can "
            "build it inside the strategy's scope)",
            strategy,
        )
    return model.distribute_strategy


def is_multiworker(strat) -> bool:
    """True for MultiWorkerMirroredStrategy."""
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
        >>> zoo.distribute.launch(["zoo", "train", "mlp", "--data", "digits",  # doctest: +SKIP
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

    ports = free_ports(workers)
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
        stream_output(process, f"[worker {index}] ")

    def stop_all():
        stop_processes(processes, grace)

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
