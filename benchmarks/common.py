"""Shared helpers for zoo's benchmarks: timing callbacks, machine facts, result rows."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time

import keras
import numpy as np


class EpochClock(keras.callbacks.Callback):
    """Training steps per second of each epoch (train batches only)."""

    def __init__(self):
        super().__init__()
        self.steps_per_second: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self._steps = 0
        self._start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self._steps += 1
        self._end = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.steps_per_second.append(self._steps / (self._end - self._start))


def steady(rates: list[float]) -> list[float]:
    """The rates after the first (tracing, cache-filling) epoch."""
    return rates[1:] if len(rates) > 1 else rates


def best(rates: list[float]) -> float:
    """The best observed rate, as timeit reports the minimum time.

    On this shared 2-core VM, epoch rates of the same run swing between two levels
    (about 8 and 15 steps/s, measured) for reasons outside the process; interference
    only ever slows a run down, so the best rate is the stable estimate.
    """
    return max(rates)


def machine() -> str:
    """One line about this machine and the versions measured."""
    import tensorflow as tf

    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, TensorFlow {tf.__version__}, "
        f"Keras {keras.__version__}"
    )


def row(name: str, zoo_value: float, baseline_value: float, unit: str, target: str, higher=True):
    """A result row: ratio = zoo / baseline (or baseline / zoo for times)."""
    ratio = zoo_value / baseline_value if higher else baseline_value / zoo_value
    return {
        "benchmark": name,
        "zoo": f"{zoo_value:.2f} {unit}",
        "baseline": f"{baseline_value:.2f} {unit}",
        "ratio": round(ratio, 3),
        "target": target,
    }


def fraction(name: str, value: float, whole: float, unit: str, target: str = "(info)"):
    """A row whose ratio is value / whole: the zoo column holds the named model's value,
    the baseline column the reference it is a fraction of (for example a measured peak).
    """
    return {
        "benchmark": name,
        "zoo": f"{value:.2f} {unit}",
        "baseline": f"{whole:.2f} {unit}",
        "ratio": round(value / whole, 3),
        "target": target,
    }


def multiply_adds(model: keras.Model) -> int:
    """Multiply-adds of one forward pass of one example (Conv2D and Dense layers)."""
    total = 0
    for layer in model._flatten_layers(include_self=False):
        if isinstance(layer, keras.layers.Conv2D):
            height, width = layer.output.shape[1:3]
            total += height * width * int(np.prod(layer.kernel.shape))
        elif isinstance(layer, keras.layers.Dense):
            total += int(np.prod(layer.kernel.shape))
    return total


def current_mb() -> float:
    """This process's resident memory now, in MiB."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mb() -> float:
    """This process's peak resident memory so far, in MiB."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_result(script: str, args: list[str], **env: str) -> dict:
    """Run `script` with `args` in a fresh Python process; its last output line, as JSON."""
    out = subprocess.run(
        [sys.executable, script, *args],
        capture_output=True,
        text=True,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", **env),
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])
