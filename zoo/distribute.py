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
import queue
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

from zoo import _validation as v
from zoo import distribute_jax
from zoo._compat.keras import compile_settings, even_first_batch
from zoo._compat.tensorflow import (
    is_default_strategy,
    release_traced_gradients,
    start_watchdog,
)
from zoo._processes import (
    GuardedProcess,
    describe_exit,
    free_ports,
    shell_status,
    stop_processes,
    stream_output,
)

__all__ = [
    "PRECISIONS",
    "STRATEGIES",
    "cluster_from_slurm",
    "compile_settings",
    "describe",
    "device_kind",
    "dtype_policy",
    "even_batches",
    "even_first_batch",
    "gpu_compute_capability",
    "is_chief",
    "is_multiworker",
    "launch",
    "logical_cpus",
    "mixed_precision",
    "release_traced_gradients",
    "strategy",
    "strategy_of",
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
    _report_peer_failures()
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


def _peer_failure(error: BaseException | None) -> BaseException | None:
    """The TensorFlow error in `error`'s chain that says a peer worker stopped, if any."""
    import tensorflow as tf

    kinds = (
        tf.errors.UnavailableError,
        tf.errors.AbortedError,
        tf.errors.CancelledError,
        tf.errors.DeadlineExceededError,
    )
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        text = str(error)
        if isinstance(error, kinds) and any(
            word in text for word in ("ollective", "/job:worker", "peer", "/task:")
        ):
            return error
        error = error.__cause__ or error.__context__
    return None


def _peer_failure_line(error: BaseException) -> str:
    """One line for a worker whose peer stopped: who this is, what TensorFlow said.

    For example ``zoo launch: worker 0: a peer worker stopped (UnavailableError:
    recvmsg:Connection reset by peer); stopping``.
    """
    text = getattr(error, "message", None) or str(error)
    reason = text.split("aborted by:")[-1]  # the collective's own cause, when it names one
    reason = reason.split("The error could be from a previous operation")[0]
    lines = [line.strip() for line in reason.splitlines() if line.strip()]
    noise = ("File ", "Detected at node", "[[", "{{")  # where, not why
    lines = [x for x in lines if not (x.startswith(noise) or x.endswith("execution error:"))]
    reason = " ".join(lines)
    for tail in (" [type.googleapis.com", " [[", " [Op:", " Additional GRPC error"):
        reason = reason.split(tail)[0]
    reason = reason.strip() or type(error).__name__
    if len(reason) > 200:
        reason = reason[:197] + "..."
    if "ZOO_WORKER_INDEX" in os.environ:
        who = f"zoo launch: worker {os.environ['ZOO_WORKER_INDEX']}"
    else:
        task = json.loads(os.environ.get("TF_CONFIG") or "{}").get("task", {})
        who = f"zoo: {task.get('type', 'worker')} {task.get('index', 0)}"
    return f"{who}: a peer worker stopped ({type(error).__name__}: {reason}); stopping"


def _report_peer_failures() -> None:
    """Make an uncaught peer failure end this worker with one line, not a traceback.

    A multi-worker collective whose peer died raises ``UnavailableError`` (or an
    aborted, cancelled or timed-out error) from inside the training step, with a long
    traceback and the graph's node; the user's command (``zoo train``, a script) does
    not catch it. This hook prints :func:`_peer_failure_line` instead; Python then
    exits with code 1 as usual (its shutdown takes about a second here, with nothing
    printed). Any other error keeps Python's usual traceback.
    """
    previous = sys.excepthook
    if getattr(previous, "zoo_peer_failures", False):
        return

    def hook(kind, error, traceback):
        failure = _peer_failure(error) if isinstance(error, Exception) else None
        if failure is None:
            previous(kind, error, traceback)
            return
        try:
            line = _peer_failure_line(failure)
        except Exception:  # never lose the report: fall back to the traceback
            previous(kind, error, traceback)
            return
        print(line, file=sys.stderr, flush=True)

    hook.zoo_peer_failures = True
    sys.excepthook = hook


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
    if _backend() == "jax":
        described = distribute_jax.local("auto").describe()
        choice = {k: described[k] for k in ("strategy", "device", "replicas")}
        return {**choice, "mixed_precision": _auto_policy(choice["device"])}
    import tensorflow as tf

    gpus = tf.config.list_logical_devices("GPU")
    choice = {
        "tpu": {"strategy": "TPUStrategy", "device": "tpu", "replicas": None},
        "mirrored": {"strategy": "MirroredStrategy", "device": "gpu", "replicas": len(gpus)},
        "default": {"strategy": "default", "device": "gpu" if gpus else "cpu", "replicas": 1},
    }[_auto_kind(gpus)]
    return {**choice, "mixed_precision": _auto_policy(choice["device"])}


def _auto_kind(gpus: list[Any]) -> str:
    """``strategy("auto")``'s choice: ``"tpu"``, ``"mirrored"`` (several GPUs) or ``"default"``."""
    if tpu_present():
        return "tpu"
    if len(gpus) > 1:
        return "mirrored"
    return "default"


def strategy(kind: Any = "auto", *, devices: list[str] | None = None):
    """Return a ``tf.distribute.Strategy`` (on JAX: a :class:`zoo.distribute_jax.DataParallel`).

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
    if distribute_jax.is_jax_strategy(kind):
        return kind
    if _backend() == "jax":
        v.check_choice("strategy", kind, STRATEGIES)
        if kind == "multiworker":
            return _jax_multiworker_strategy()
        return distribute_jax.local(kind)
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


def _backend() -> str:
    import keras

    return keras.backend.backend()


def _jax_multiworker_strategy():
    """``keras.distribution.initialize`` for the cluster TF_CONFIG, Slurm or JAX describes."""
    config = json.loads(os.environ["TF_CONFIG"]) if "TF_CONFIG" in os.environ else None
    if config is None and "SLURM_JOB_ID" in os.environ and "SLURM_PROCID" in os.environ:
        config = cluster_from_slurm()
    cluster = None
    if config is not None:
        if not isinstance(config, dict):
            raise v.invalid("TF_CONFIG", "a JSON object with a cluster and a task", config)
        jobs = config.get("cluster", {})
        addresses = [*jobs.get("chief", []), *jobs.get("worker", [])]
        task = config.get("task", {})
        index = int(task.get("index", 0)) + (
            len(jobs.get("chief", [])) if task.get("type") == "worker" else 0
        )
        cluster = {"addresses": addresses, "process_id": index}
        where = f"TF_CONFIG={os.environ.get('TF_CONFIG') or json.dumps(config)}"
    elif "KERAS_DISTRIBUTION_JOB_ADDRESSES" in os.environ or tpu_present():
        where = "KERAS_DISTRIBUTION_* variables or the TPU pod's own"
    else:
        raise v.ArgumentValueError(
            "strategy='multiworker' needs a cluster: set TF_CONFIG or the "
            "KERAS_DISTRIBUTION_JOB_ADDRESSES / _NUM_PROCESSES / _PROCESS_ID variables, run "
            "under Slurm or on a TPU pod, or start local workers with "
            "`zoo launch --workers N -- zoo train ...`. Received: strategy='multiworker'"
        )
    import jax

    if not jax.distributed.is_initialized():
        print(
            f"zoo: waiting for the other workers to join ({where}); JAX gives up after 5 minutes.",
            file=sys.stderr,
            flush=True,
        )
    return distribute_jax.multiworker(cluster)


def strategy_of(model):
    """The strategy a built model's variables belong to (on any backend)."""
    if _backend() == "jax":
        return distribute_jax.of_model(model)
    return model.distribute_strategy


def even_batches(dataset, strat, first_batch=None):
    """Batches every replica can share, on either backend.

    TensorFlow: :func:`even_first_batch`; JAX: :func:`zoo.distribute_jax.even_batches`.
    """
    if distribute_jax.is_jax_strategy(strat):
        return distribute_jax.even_batches(dataset, strat)
    return even_first_batch(dataset, strat, first_batch)


def _worker_devices(strat) -> list[str]:
    import tensorflow as tf

    try:
        return list(strat.extended.worker_devices)
    except RuntimeError:  # the default (no-op) strategy: TensorFlow's own placement
        gpus = tf.config.list_logical_devices("GPU")
        return [gpus[0].name] if gpus else ["/cpu:0"]


def device_kind(strat) -> str:
    """``"tpu"``, ``"gpu"`` or ``"cpu"``: what the strategy's replicas run on."""
    if distribute_jax.is_jax_strategy(strat):
        return strat.device_kind
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
    if distribute_jax.is_jax_strategy(strat):
        return strat.describe()
    name = type(strat).__name__
    return {
        "backend": "tensorflow",
        "strategy": "default" if is_default_strategy(strat) else name,
        "replicas": int(strat.num_replicas_in_sync),
        "device": device_kind(strat),
        "devices": _worker_devices(strat),
    }


def is_chief() -> bool:
    """Whether this process is the chief of a multi-worker cluster (True outside one).

    The chief is the ``chief`` task, or worker 0 of a cluster without one; it alone
    writes checkpoints, TensorBoard logs and the saved model. On JAX without TF_CONFIG,
    it is process 0 of the cluster.
    """
    if os.environ.get("TF_CONFIG") is None:
        if "jax" in sys.modules and _backend() == "jax":
            import jax

            return not jax.distributed.is_initialized() or jax.process_index() == 0
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
    return strategy_of(model)


def is_multiworker(strat) -> bool:
    """True for MultiWorkerMirroredStrategy, or a JAX strategy spanning several processes."""
    if distribute_jax.is_jax_strategy(strat):
        return strat.processes > 1
    import tensorflow as tf

    return isinstance(strat, tf.distribute.MultiWorkerMirroredStrategy)


def mixed_precision(mode: str = "auto", strat: Any = None) -> str:
    """Choose a Keras dtype policy name.

    ``"auto"`` gives ``"mixed_bfloat16"`` on TPU and on GPUs of compute capability 8.0 or
    more, ``"mixed_float16"`` on older GPUs and ``"float32"`` on CPU (bf16 runs about 7x
    slower on CPUs without bf16 units); the same rule on both backends.
    ``"off"`` is ``"float32"``; policy names are returned as given.
    """
    v.check_choice("mixed_precision", mode, PRECISIONS)
    if mode == "auto":
        kind = device_kind(strat) if strat is not None else "cpu"
        return _auto_policy(kind, strat)
    return "float32" if mode == "off" else mode


def _auto_policy(kind: str, strat: Any = None) -> str:
    """The ``"auto"`` dtype policy for a kind of device.

    bfloat16 on TPUs and on GPUs with bf16 units (compute capability >= 8.0: Ampere and
    later), float16 (Keras adds loss scaling) on older GPUs, float32 on CPUs.
    """
    if kind == "gpu":
        capability = gpu_compute_capability(strat)
        return "mixed_bfloat16" if capability and capability >= (8, 0) else "mixed_float16"
    return AUTO_POLICIES.get(kind, "float32")


def gpu_compute_capability(strat: Any = None) -> tuple[int, int] | None:
    """The first GPU's CUDA compute capability, e.g. ``(8, 0)``; None if unknown or none."""
    try:
        if distribute_jax.is_jax_strategy(strat) or (strat is None and _backend() == "jax"):
            import jax

            gpus = [d for d in jax.local_devices() if d.platform in ("gpu", "cuda")]
            text = str(getattr(gpus[0], "compute_capability", "")) if gpus else ""
        else:
            import tensorflow as tf

            gpus = tf.config.list_physical_devices("GPU")
            details = tf.config.experimental.get_device_details(gpus[0]) if gpus else {}
            found = details.get("compute_capability")
            text = ".".join(str(p) for p in found) if found else ""
        major, minor = text.split(".")[:2]
        return int(major), int(minor)
    except (ValueError, IndexError, RuntimeError, AttributeError):
        return None


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
    """Run `command` as `workers` local workers on 127.0.0.1.

    Each worker gets a ``TF_CONFIG`` for a cluster of `workers` workers on free
    loopback ports (on Keras's JAX backend, ``strategy="multiworker"`` reads it too:
    worker 0's address is the coordinator of ``keras.distribution.initialize``), and
    its output is prefixed with ``[worker i]``. If any worker fails, a line says which
    one failed first and how (its exit code or signal), the others are stopped
    (SIGTERM, then SIGKILL after `grace` seconds: TensorFlow's multi-worker runtime
    catches SIGTERM as a preemption notice and keeps running) and its exit status is
    returned; a `timeout` bounds the whole run. A worker whose peer failed says so in
    one line (not TensorFlow's traceback). When ``TF_CONFIG`` is already set, or under
    Slurm, the command runs once as this node's worker.

    Workers never outlive the launcher: each runs under a guard process that ends it
    (and whatever it started) within seconds once the launcher is gone, however it
    went, ``kill -9`` included (see :mod:`zoo._processes`).

    Args:
        command: the program and its arguments, for example
            ``["zoo", "train", "mlp", "--data", "digits", "--strategy", "multiworker"]``.
        workers: how many workers to start (a positive integer).
        timeout: seconds after which every worker is stopped (None: no limit).
        grace: seconds between SIGTERM and SIGKILL when stopping workers.

    Returns:
        0 when every worker succeeded, else the exit status of the worker that failed
        first (128 + N for a signal N, as a shell reports it), 124 on timeout, 130 on
        Ctrl-C.

    Raises:
        ArgumentTypeError: `command` is not a list of strings, `workers` not an
            integer, `timeout` or `grace` not a number.
        ArgumentValueError: `command` is empty or its program is not found,
            `workers` < 1, `timeout` <= 0 or `grace` < 0. All checked before anything
            starts.

    Example:
        >>> zoo.distribute.launch(["zoo", "train", "mlp", "--data", "digits",  # doctest: +SKIP
        ...                        "--strategy", "multiworker"], workers=2)
    """
    command = _check_command(command)
    workers = v.check_int("workers", workers, minimum=1)
    if timeout is not None:
        timeout = v.check_float("timeout", timeout)
        if timeout <= 0:
            raise v.invalid(
                "timeout", "a positive number of seconds, or None for no limit", timeout
            )
    grace = v.check_float("grace", grace, minimum=0.0)
    env = dict(os.environ)
    if "TF_CONFIG" in env or cluster_from_slurm() is not None:
        if "TF_CONFIG" not in env:
            env["TF_CONFIG"] = json.dumps(cluster_from_slurm())
        return _run_one_worker(command, env, grace)

    ports = free_ports(workers)
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    processes: list[GuardedProcess] = []
    pumps, exits = [], queue.Queue()

    def started(index: int) -> GuardedProcess:
        worker_env = {
            **env,
            "TF_CONFIG": json.dumps(
                {"cluster": cluster, "task": {"type": "worker", "index": index}}
            ),
            "ZOO_WORKER_INDEX": str(index),
            "PYTHONUNBUFFERED": "1",
        }
        process = GuardedProcess(command, env=worker_env)
        processes.append(process)
        pumps.append(stream_output(process, f"[worker {index}] ", keep=_QuietCollectiveAborts()))
        # One waiter per worker: the queue holds exits in the order they happened.
        threading.Thread(
            target=lambda: exits.put((index, process.wait())), name="zoo-waiter", daemon=True
        ).start()
        return process

    def stop_all() -> None:
        stop_processes(processes, grace)
        for pump in pumps:  # the workers' last lines come before our return
            pump.join(timeout=2.0)

    start = time.monotonic()
    try:
        for index in range(workers):
            started(index)
        finished = 0
        while finished < workers:
            left = None if timeout is None else timeout - (time.monotonic() - start)
            if left is not None and left <= 0:
                print(
                    f"zoo launch: timed out after {timeout:g} s; stopping the workers.",
                    file=sys.stderr,
                    flush=True,
                )
                stop_all()
                return 124
            try:
                index, code = exits.get(timeout=0.5 if left is None else min(left, 0.5))
            except queue.Empty:
                continue
            if code == 0:
                finished += 1
                continue
            print(
                f"zoo launch: worker {index} failed first: it {describe_exit(code)}; "
                "stopping the other workers.",
                file=sys.stderr,
                flush=True,
            )
            stop_all()
            return shell_status(code)
        stop_all()  # all exited: only waits for their last lines
        return 0
    except KeyboardInterrupt:
        print("zoo launch: interrupted; stopping the workers.", file=sys.stderr, flush=True)
        stop_all()
        return 130
    except BaseException:
        stop_all()
        raise


def _check_command(command: Any) -> list[str]:
    """`command` as a list of strings whose program exists, or a zoo error."""
    import shutil

    if isinstance(command, (str, bytes)) or not isinstance(command, (list, tuple)):
        raise v.invalid(
            "command", "a list of strings, the program and its arguments", command, TypeError
        )
    if not command:
        raise v.invalid("command", "a command to run, after `--`", command)
    if not all(isinstance(part, str) for part in command):
        raise v.invalid(
            "command", "a list of strings (convert numbers with str)", command, TypeError
        )
    if shutil.which(command[0]) is None:
        raise v.invalid(
            "command",
            f"a program on PATH or the path of an executable file; {command[0]!r} is neither "
            "(check its spelling, activate the environment that has it, or give its path)",
            command,
        )
    return list(command)


def _run_one_worker(command: list[str], env: dict[str, str], grace: float) -> int:
    """Run this node's worker (``TF_CONFIG`` or Slurm), in our process group."""
    process = GuardedProcess(command, env=env, new_session=False, capture=False)
    try:
        return shell_status(process.wait())
    except KeyboardInterrupt:  # the worker got the terminal's Ctrl-C itself
        stop_processes([process], grace)
        return 130
    except BaseException:
        stop_processes([process], grace)
        raise


class _QuietCollectiveAborts:
    """Drops TensorFlow's C++ log records of an aborted collective, kept per worker.

    When a peer worker stops, TensorFlow logs the aborted collective (``E... ring_alg.cc:
    291] Aborting RingReduce with UNAVAILABLE: ...``, ``StartAbort``, ``Local rendezvous
    is aborting``, each with continuation lines) before the worker's own one-line report
    (:func:`_report_peer_failures`), which says the same.
    """

    STATUSES = ("UNAVAILABLE", "CANCELLED", "ABORTED", "DEADLINE_EXCEEDED")
    CONTINUATIONS = (
        "/job:",
        "The tasks have crashed",
        "The error could be from a previous operation",
        "Additional GRPC error information",
        ":UNKNOWN:Error received from peer",
    )

    def __init__(self) -> None:
        self.dropping = False

    def __call__(self, line: str) -> bool:
        if line[:1] in ("E", "W") and line[1:5].isdigit() and "] " in line:  # a C++ record
            text = line.split("] ", 1)[1]
            self.dropping = "bort" in text and any(s in text for s in self.STATUSES)
            return not self.dropping
        if self.dropping and line.startswith(self.CONTINUATIONS):
            return False
        self.dropping = False
        return True
