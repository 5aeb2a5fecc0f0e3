"""zoo's resnet_50 against keras.applications.ResNet50 (and torchvision's, if installed).

The same random images go through each model at the same batch size: inference is
``predict_on_batch`` (Keras's compiled predict function; torchvision: ``eval()`` under
``torch.inference_mode``), training is one ``train_on_batch`` step with plain SGD
(lr 0.01) and sparse categorical cross-entropy (torchvision: the same SGD step on
``cross_entropy``). Sides are interleaved after a warm-up call each, and every rate is
the best call, as timeit takes the best time (interference only slows).

The ResNet-50s differ in layout: zoo's default is torchvision's ("v1.5", stride 2 on
the 3x3 convolution of a bottleneck), Keras's the original v1 (stride 2 on the first
1x1: about 3.86 against 4.09 G multiply-adds per 224x224 image). Against Keras zoo's
is built with ``stride_on="1x1"``, the same network; the default is measured against
torchvision's. Each model's multiply-adds are counted from its layers and its achieved
GFLOP/s (1 multiply-add = 2 FLOPs; convolutions and dense layers only; training = 3x
forward) reported as a fraction of a measured float32 matmul's GFLOP/s.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

import keras
import numpy as np
import tensorflow as tf
from common import best, fraction, multiply_adds, row

import zoo

NOTES = """zoo's resnet_50 is torchvision's ResNet-50 v1.5 (stride 2 on the 3x3
convolution of a bottleneck: 4.09 G multiply-adds = 8.18 GFLOP per 224x224 image);
keras.applications.ResNet50 is the paper's v1 (stride 2 on the first 1x1: 3.86 G
multiply-adds = 7.72 GFLOP). The rows against Keras therefore build zoo's with
stride_on='1x1', the same network as Keras's (same layers and work; Keras's
convolutions also carry biases that the BatchNorm after them makes redundant:
25,636,712 parameters against zoo's 25,610,152), so the ratio
measures the implementation; the default v1.5 is compared with torchvision's resnet50,
which has its layout. FLOPs count convolutions and dense layers only, 1 multiply-add =
2 FLOPs, training = 3x forward. In the "fraction of measured fp32 matmul peak" rows the
zoo column holds the named model's achieved GFLOP/s and the baseline column the best
of several 2048x2048 float32 tf.matmul calls here (a practical peak, not the CPU's
nominal one). The Keras models run without XLA (Keras's jit_compile='auto' is off on a
CPU-only machine; forcing it on for zoo's measured the same inference and half the
training rate) and with TensorFlow's default thread pools (one thread per core).
torchvision's resnet50 runs in the same process with torch.set_num_threads(os.cpu_count()),
in NCHW as it comes."""

NO_TORCH = """torch and torchvision are not importable here, so there are no torchvision
rows; `pip install torch==2.14.1 torchvision==0.29.1` (x86_64) in the same environment
adds them."""


FULL = {"size": 224, "batch": 16, "repeats": 10, "matmul": 2048, "eager": False, "pause": 0.3}
# Quick mode runs the Keras models eagerly, without a warm-up call: tracing two
# ResNet-50 train steps alone takes about 7 s here, more than the whole smoke test.
QUICK = {"size": 64, "batch": 2, "repeats": 1, "matmul": 512, "eager": True, "pause": 0.0}


def matmul_gflops(n: int, repeats: int) -> float:
    """Best float32 GFLOP/s of an n x n by n x n tf.matmul (2 n^3 FLOPs)."""
    rng = np.random.default_rng(0)
    a = tf.constant(rng.random((n, n), dtype=np.float32))
    b = tf.constant(rng.random((n, n), dtype=np.float32))
    tf.matmul(a, b).numpy()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        tf.matmul(a, b).numpy()
        times.append(time.perf_counter() - start)
    return 2 * n**3 / min(times) / 1e9


class KerasSide:
    """A compiled Keras model and its timed calls."""

    def __init__(self, model: keras.Model, x: np.ndarray, y: np.ndarray, eager: bool = False):
        model.compile(
            optimizer=keras.optimizers.SGD(0.01),
            loss="sparse_categorical_crossentropy",
            run_eagerly=eager,
        )
        self.model, self.x, self.y = model, x, y
        self.macs = multiply_adds(model)

    def infer(self):
        self.model.predict_on_batch(self.x)

    def train(self):
        self.model.train_on_batch(self.x, self.y)


class TorchSide:
    """torchvision's resnet50 on the same images (NCHW) and labels."""

    def __init__(self, torch, torchvision, x: np.ndarray, y: np.ndarray):
        self.torch = torch
        self.model = torchvision.models.resnet50(weights=None)
        self.x = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
        self.y = torch.from_numpy(y.astype(np.int64))
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=0.01)
        self.macs = self._multiply_adds(self.x[:1])

    def _multiply_adds(self, image) -> int:
        """Multiply-adds of one forward pass (Conv2d and Linear), as multiply_adds."""
        nn, total, hooks = self.torch.nn, [0], []

        def count(module, inputs, output):
            weights = module.weight.numel()
            total[0] += weights * (output.shape[-1] * output.shape[-2] if output.ndim == 4 else 1)

        for module in self.model.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                hooks.append(module.register_forward_hook(count))
        self.model.eval()
        with self.torch.inference_mode():
            self.model(image)
        for hook in hooks:
            hook.remove()
        return total[0]

    def infer(self):
        self.model.eval()
        with self.torch.inference_mode():
            self.model(self.x)

    def train(self):
        self.model.train()
        loss = self.torch.nn.functional.cross_entropy(self.model(self.x), self.y)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()


def _torch():
    # Importing triton after TensorFlow segfaults (in loading triton._C.libtriton), and
    # torchvision imports torch._dynamo, which imports triton when it is installed (the
    # CUDA wheels install it). These CPU runs never use Triton, so make it look absent:
    # torch then skips it.
    sys.modules.setdefault("triton", None)
    try:
        import torch
        import torchvision
    except ImportError:
        return None, None
    torch.set_num_threads(os.cpu_count() or 1)
    # The CUDA wheels probe for a GPU at the first backward pass and warn when none loads.
    warnings.filterwarnings("ignore", message="CUDA initialization", category=UserWarning)
    return torch, torchvision


def _rate(call, batch: int) -> float:
    """Images per second of one call on a batch."""
    start = time.perf_counter()
    call()
    return batch / (time.perf_counter() - start)


def run(quick: bool = False) -> list[dict]:
    settings = QUICK if quick else FULL
    size, batch = settings["size"], settings["batch"]
    rng = np.random.default_rng(0)
    x = rng.random((batch, size, size, 3), dtype=np.float32)
    y = rng.integers(0, 1000, batch).astype("int32")
    keras.utils.set_random_seed(0)
    shape_args = {"input_shape": (size, size, 3), "num_classes": 1000}
    sides = {
        "zoo": KerasSide(
            zoo.build("resnet_50", stride_on="1x1", **shape_args), x, y, settings["eager"]
        ),
        "zoo_v15": KerasSide(zoo.build("resnet_50", **shape_args), x, y, settings["eager"]),
        "keras": KerasSide(
            keras.applications.ResNet50(weights=None, input_shape=(size, size, 3)),
            x,
            y,
            settings["eager"],
        ),
    }
    torch, torchvision = _torch()
    global NOTES
    if torch is not None:
        torch.manual_seed(0)
        sides["torchvision"] = TorchSide(torch, torchvision, x, y)
    elif NO_TORCH not in NOTES:
        NOTES += "\n\n" + NO_TORCH
    if not settings["eager"]:
        for side in sides.values():  # warm-up: tracing, allocation
            side.infer()
            side.train()
    infer = {name: [] for name in sides}
    train = {name: [] for name in sides}
    peaks = []
    names = list(sides)
    # Inference rounds first, then training rounds (a training step's allocations and
    # threads otherwise disturb the next side's inference). Sides are interleaved and
    # who goes first rotates, and each timed call follows a pause: torch's OpenMP
    # threads spin for a while after their work, which slowed whichever side came next.
    for rates, kind in ((infer, "infer"), (train, "train")):
        for round_ in range(settings["repeats"]):
            peaks.append(matmul_gflops(settings["matmul"], 3))
            for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
                time.sleep(settings["pause"])
                rates[name].append(_rate(getattr(sides[name], kind), batch))
    peak = best(peaks)
    shape = f"{size}x{size}, batch {batch}"
    gflop = {name: 2 * side.macs / 1e9 for name, side in sides.items()}  # forward, per image
    pairs = [("zoo", "keras", "zoo resnet_50 (stride_on='1x1') vs keras ResNet50", ">= 1.0")]
    if torch is not None:
        pairs.append(
            (
                "zoo_v15",
                "torchvision",
                "zoo resnet_50 vs torchvision resnet50 (both v1.5)",
                "(info)",
            )
        )
    rows = [
        row(
            f"{title}: {kind} images/s ({shape}{', SGD' if kind == 'training' else ''})",
            best(rates[ours]),
            best(rates[theirs]),
            "images/s",
            target,
        )
        for ours, theirs, title, target in pairs
        for kind, rates in (("inference", infer), ("training", train))
    ]
    labels = {
        "zoo": "zoo resnet_50 (stride_on='1x1')",
        "zoo_v15": "zoo resnet_50",
        "keras": "keras ResNet50",
        "torchvision": "torchvision resnet50",
    }
    for kind, rates, factor in (("inference", infer, 1), ("training", train, 3)):
        for name in sides:
            rows.append(
                fraction(
                    f"{labels[name]} {kind}: fraction of measured fp32 matmul peak",
                    factor * best(rates[name]) * gflop[name],
                    peak,
                    "GFLOP/s",
                )
            )
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (for tests)")
    for result in run(parser.parse_args().quick):
        print(result)
