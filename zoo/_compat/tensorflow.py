"""TensorFlow (seen in 2.21): workarounds of its bugs and its private APIs."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Callable, Iterator


def is_default_strategy(strat) -> bool:
    """Whether `strat` is TensorFlow's default (no-op) strategy.

    Not a bug: the default strategy's class, ``_DefaultDistributionStrategy``, is
    private and has no public ``isinstance`` test.
    """
    return type(strat).__name__ == "_DefaultDistributionStrategy"


def release_traced_gradients() -> Callable[[], int]:
    """Start tracking TF's gradient registrations; call the result to drop them.

    Works around (TF 2.21 with Keras 3.15): every traced Keras 3 train step on the TF
    backend all-reduces its gradients through ``ReplicaContext.all_reduce``, whose
    ``custom_gradient`` registers a gradient function (``CustomGradient-N``) in
    TensorFlow's global registry (the private ``ops._gradient_registry``) and never
    removes it. The function holds the traced graph, so each model trained in a
    process keeps a few MB alive after ``clear_session()`` (4.3 MB per small MLP
    here). The gradient is built when the step is traced, so once training is over
    the registrations made during it are dead weight.
    Upstream: https://github.com/tensorflow/tensorflow/issues/97697
    (fix attempts: https://github.com/tensorflow/tensorflow/pull/109334 leaves the
    registry entries; https://github.com/keras-team/tf-keras/pull/898 purges them in
    ``clear_session``).

    Returns:
        A function that removes the registrations made since this call and returns
        how many it removed (0 where TensorFlow's registry is not reachable).

    Example:
        >>> release = release_traced_gradients()
        >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        >>> model.compile("adam", "mse")
        >>> history = model.fit(np.ones((4, 3)), np.ones((4, 2)), verbose=0)  # traced here
        >>> release() > 0
        True
    """
    registry = gradient_registry()
    if registry is None:
        return lambda: 0
    before = set(registry)

    def release() -> int:
        stale = [k for k in registry if k not in before and k.startswith("CustomGradient-")]
        for key in stale:
            registry.pop(key, None)
        return len(stale)

    return release


def gradient_registry() -> dict | None:
    """TensorFlow's private global gradient registry (a dict), or None if it moved."""
    try:
        from tensorflow.python.framework import ops

        registry = ops._gradient_registry._registry
    except (ImportError, AttributeError):  # a TF without the private registry
        return None
    return registry if isinstance(registry, dict) else None


@contextlib.contextmanager
def native_logs_hidden(*, show_on_error: bool = False) -> Iterator[None]:
    """Send what native code writes to file descriptor 2 to a temporary file.

    Works around (TF 2.17 to 2.21): TensorFlow writes oneDNN/CUDA notices (and TFLite,
    tf2onnx their own) through absl, ignoring ``TF_CPP_MIN_LOG_LEVEL``.
    Upstream: https://github.com/tensorflow/tensorflow/issues/100442. With
    `show_on_error` the captured lines are written out if the block raises;
    ``ZOO_TF_LOGS=1`` shows them always.
    """
    if os.environ.get("ZOO_TF_LOGS") == "1":
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr (some embedded interpreters)
        yield
        return
    with tempfile.TemporaryFile() as log:
        os.dup2(log.fileno(), 2)
        try:
            yield
        except BaseException:
            if show_on_error:
                os.dup2(saved, 2)
                log.seek(0)
                sys.stderr.write(log.read().decode(errors="replace"))
            raise
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


@contextlib.contextmanager
def start_watchdog(seconds: float, message: str) -> Iterator[None]:
    """Exit the process if the block does not finish within `seconds`.

    Works around (TF 2.21): ``MultiWorkerMirroredStrategy()`` blocks forever in C++,
    holding the GIL, while a worker named in ``TF_CONFIG`` never starts;
    ``CommunicationOptions(timeout_seconds=...)`` does not bound it, and Python threads
    and signal handlers cannot run. faulthandler's C watchdog can: the message is
    printed first; on time-out faulthandler adds the traceback and exits.
    Upstream: https://github.com/tensorflow/tensorflow/issues/46931 (related).
    """
    import faulthandler

    print(message, file=sys.stderr, flush=True)
    faulthandler.dump_traceback_later(seconds, exit=True)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


def copy_then_rename(source: str, target: str) -> None:
    """Copy a file onto a ``tf.io.gfile`` path beside its target, then rename it over.

    Works around (TF 2.21): on ``ram://``, ``tf.io.gfile.copy(..., overwrite=True)``
    appends to an existing file instead of replacing it (a 10-byte file overwritten
    with "abc" reads "0123456789abc"); on every file system the rename also leaves the
    old file whole if the copy is interrupted.
    Upstream: https://github.com/tensorflow/tensorflow/issues/28508 (fixed for posix).
    """
    import tensorflow as tf

    tf.io.gfile.copy(source, f"{target}.tmp", overwrite=True)
    tf.io.gfile.rename(f"{target}.tmp", target, overwrite=True)


def tfds_not_prepared_errors() -> tuple[type[BaseException], ...]:
    """What ``tfds.load(..., download=False)`` raises for a dataset not on disk.

    Works around (tensorflow-datasets 4.9): a bare ``AssertionError`` ("Dataset ...:
    could not find data in ..."), not a typed error.
    Upstream: https://github.com/tensorflow/datasets/issues/2748 (related).
    """
    return (AssertionError,)


def tflite_builtins_only() -> dict:
    """Converter options for a TFLite file that the standard runtime runs (no Flex ops).

    Works around (TF 2.7 to 2.21, a limitation): with builtin ops only, the converter
    rejects an LSTM or a causal mask over variable batch and length ("'tf.TensorListReserve'
    op requires element_shape to be static"); variable shapes need TensorFlow Select
    (Flex) ops, which the standard runtime lacks. zoo's export then converts again with
    fixed shapes (batch 1 and the sample's sizes) and says so.
    Upstream: https://github.com/tensorflow/tensorflow/issues/62849 (also
    https://github.com/tensorflow/tensorflow/issues/58668).
    """
    import tensorflow as tf

    return {"target_spec": {"supported_ops": [tf.lite.OpsSet.TFLITE_BUILTINS]}}


def read_to_end_options():
    """tf.data options without autotuning, for a pipeline that is read to its end.

    Works around (TensorFlow 2.21, tf.data): the end of an autotuned pipeline's data
    is held back until the autotuner's next wake-up, at 10, 30, 70, ... 2,550 ms
    after the iterator starts (then further apart): up to half the elapsed time is
    added to reading it to the end (0.4 to 2.5 s after 2-second epochs of an image
    folder, measured; Keras's own folder datasets show it too). Keras's ``fit`` never
    waits for that end on a pipeline of known length, but it does on one whose length
    is unknown (zoo's image files checked while streaming, where a bad file drops out).
    No upstream issue found; repro: the canary
    ``test_canary_tf_autotune_holds_back_the_end_of_data``.

    Without autotuning, ``AUTOTUNE`` maps run one call per core and prefetch a
    buffer TensorFlow picks: as fast for decoding images (measured alike).
    """
    import tensorflow as tf

    options = tf.data.Options()
    options.autotune.enabled = False
    return options
