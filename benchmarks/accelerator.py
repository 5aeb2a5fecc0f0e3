"""zoo on whatever accelerator Keras's JAX backend sees: side by side with Keras, and MFU.

Runs on Keras's JAX backend only, in a process of its own (``KERAS_BACKEND=jax``, which
this script sets when nothing else did), and imports nothing from TensorFlow: it is
made for an accelerator machine that has JAX but no TensorFlow. Parts (``--parts``):

- ``peak``: the device's dense peak from a table of published figures (matched on
  ``jax.devices()[0].device_kind``), and a measured one: the best of several square
  matrix products in the compute dtype (``jax.jit`` of ``a @ b``, 2 n^3 FLOPs).
- ``resnet50``: zoo's ``resnet_50`` built with ``stride_on="1x1"`` (the paper's v1, the
  same network as Keras's) against ``keras.applications.ResNet50(weights=None)``:
  training images/s (``fit``, SGD with momentum, sparse cross-entropy) and inference
  images/s (``predict``), on the same in-memory images and labels, sides interleaved.
- ``vit_b16`` and ``gpt2_small``: zoo's presets trained by ``fit`` as ``zoo.train``
  compiles them (``zoo.engine.compile_model``: AdamW for ViT; GPT's own AdamW and
  next-token loss), examples/s (and tokens/s), as model FLOPs utilisation.
- ``loop``: zoo's training loop (``zoo.engine.fit`` with ``zoo.train``'s callbacks: the
  NaN stop, best checkpoint, early stopping and the per-epoch resumption state) against
  a plain ``model.fit`` on the same in-memory arrays, same small CNN. ``zoo.train``
  itself needs TensorFlow (``zoo.data.load`` builds ``tf.data`` pipelines and
  TensorBoard logs use ``tf.summary``), so the zoo side feeds the arrays through a
  ``keras.utils.PyDataset`` and writes no TensorBoard logs.

Every model runs on one device (``jax.devices()[0]``; no distribution is set) under
the dtype policy ``zoo.distribute.auto_choice()`` picks (``mixed_bfloat16`` on TPUs and
GPUs of compute capability >= 8.0, ``mixed_float16`` on older GPUs, ``float32`` on
CPUs), unless ``--precision`` says otherwise. Each timed sample is one ``fit`` epoch
(or ``predict`` pass) over ``steps`` batches held in host memory, after a warm-up call
that compiles; ``fit`` dispatches steps asynchronously and each sample ends when the
device has finished (its logs are read). Repeats are interleaved; rows give medians,
with the spread (min-max) of the paired ratios or rates. Nothing seeds Keras (only
speed is measured, and ``keras.utils.set_random_seed`` imports TensorFlow whenever it
is installed, Keras 3.15): the weights and data are random.

FLOPs are counted analytically from the architecture (not with JAX's cost analysis,
which also counts elementwise work and differs between backends): ResNet: convolution
and dense multiply-adds from the layers, x2, training = 3x forward; ViT: the matrix
products of the patch embedding, attention (QKV, scores, values, projection), MLP and
head, training = 3x forward; GPT: nanoGPT's ``estimate_mfu``, ``6 N + 12 L H Q T`` per
token (N: parameters less the position embeddings; L layers, H heads of size Q,
context T).

Usage:
    KERAS_BACKEND=jax python benchmarks/accelerator.py [--quick] [--json PATH]
        [--parts peak,resnet50,...] [--precision auto|float32|mixed_bfloat16|...]
        [--set resnet_batch=128 ...] [--keep-going]
"""

from __future__ import annotations

import os

# This benchmark measures Keras's JAX backend: choose it before Keras is imported.
os.environ.setdefault("KERAS_BACKEND", "jax")

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

import keras
import numpy as np
from common import fraction, multiply_adds, row

import zoo
from zoo import _validation as v
from zoo import distribute, engine, registry

NOTES = """Run alone on Keras's JAX backend (`KERAS_BACKEND=jax python
benchmarks/accelerator.py --json results.json`), on one device, without TensorFlow.
zoo's resnet_50 is built with stride_on='1x1' (v1, Keras's layout); MLPerf's ResNet-50 is
v1.5 (about 6% more work), so the MLPerf-class row compares like with nearly like. MFU
counts FLOPs analytically (ResNet: conv and dense multiply-adds x2, training 3x forward;
ViT: its matrix products, training 3x forward; GPT: nanoGPT's 6N + 12LHQT per token)
against the device's published dense bf16 peak (fp16 on GPUs without bf16) and, as a
second reference, the best measured matrix product in the compute dtype. The zoo-loop
rows feed the arrays through a keras.utils.PyDataset, since zoo.train's tf.data input
needs TensorFlow."""

PARTS = ("peak", "gpt2_small", "resnet50", "vit_b16", "loop")

# Dense (non-sparse) peak TFLOP/s of one JAX device, bf16 (fp16 on GPUs without bf16:
# T4, V100), from the vendors' datasheets. The first entry whose text is in the
# device_kind wins, so a name that contains another (A100 contains A10) comes first. On
# TPU v2 and v3 a JAX device is one TensorCore (half a chip); from v4 on, one chip.
DENSE_PEAKS: tuple[tuple[str, float | None], ...] = (
    ("GH200", 989.0),
    ("H200 NVL", 835.0),
    ("H200", 989.0),
    ("H100 PCIe", 756.0),
    ("H100 NVL", 835.0),
    ("H100", 989.0),  # SXM: "NVIDIA H100 80GB HBM3"
    ("B200", 2250.0),
    ("A100", 312.0),
    ("A10G", None),  # AWS's variant of the A10: no published dense bf16 figure
    ("A10", 125.0),
    ("L40S", 362.0),
    ("L40", 181.0),
    ("L4", 121.0),
    ("T4", 65.0),  # fp16
    ("V100", 125.0),  # fp16 (SXM2)
    ("TPU v6 lite", 918.0),  # v6e (Trillium)
    ("TPU v6e", 918.0),
    ("TPU v5 lite", 197.0),  # v5e
    ("TPU v5e", 197.0),
    ("TPU v5", 459.0),  # v5p
    ("TPU v4", 275.0),
    ("TPU v3", 61.5),  # one TensorCore (123 per chip)
    ("TPU v2", 22.5),  # one TensorCore (45 per chip)
)

# MLPerf-class ResNet-50 training throughput of one H100 (issue 18's reference figure).
MLPERF_H100_IMAGES_PER_S = 3000.0

# steps: batches per timed sample; repeats: interleaved samples per side.
FULL: dict[str, Any] = {
    "matmul": 8192,
    "matmul_calls": 10,
    "resnet_size": 224,
    "resnet_batch": 256,
    "vit_batch": 256,
    "vit": {},  # the vit_b16 preset as it is
    "gpt_batch": 32,
    "gpt": {},  # the gpt2_small preset as it is (1,024 tokens per sequence)
    "steps": 12,
    "repeats": 5,
    "loop_examples": 25_600,
    "loop_batch": 256,
    "loop_epochs": 4,
    "loop_repeats": 3,
}
QUICK: dict[str, Any] = {
    "matmul": 256,
    "matmul_calls": 2,
    "resnet_size": 32,
    "resnet_batch": 2,
    "vit_batch": 2,
    "vit": {
        "input_shape": (32, 32, 3),
        "num_classes": 10,
        "patch_size": 8,
        "width": 32,
        "num_layers": 1,
        "num_heads": 2,
        "mlp_dim": 64,
    },
    "gpt_batch": 2,
    "gpt": {"vocab_size": 128, "max_length": 32, "width": 32, "num_layers": 1, "num_heads": 2},
    "steps": 1,
    "repeats": 2,
    "loop_examples": 64,
    "loop_batch": 16,
    "loop_epochs": 2,
    "loop_repeats": 1,
}
LOOP_CNN = {"filters": (32, 64), "dense_units": (128,)}  # benchmarks/train_overhead.py's


def _log(message: str) -> None:
    print(f"[accelerator] {message}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- peaks


def table_peak(device_kind: str) -> tuple[float | None, str | None]:
    """The dense peak TFLOP/s of one device of `device_kind`, and the entry matched.

    Returns ``(None, None)`` for a device not in :data:`DENSE_PEAKS` (CPUs included),
    and ``(None, entry)`` for a known device without a published figure.
    """
    for text, peak in DENSE_PEAKS:
        if text.lower() in device_kind.lower():
            return peak, text
    return None, None


def compute_dtype(policy: str) -> str:
    """The dtype a Keras policy computes in: ``mixed_bfloat16`` -> ``bfloat16``."""
    return keras.DTypePolicy(policy).compute_dtype


def matmul_rates(n: int, dtype: str, repeats: int, calls: int) -> list[float]:
    """FLOP/s of `calls` back-to-back n x n matrix products, once per repeat."""
    import jax
    import jax.numpy as jnp

    keys = jax.random.split(jax.random.key(0))
    a = jax.random.normal(keys[0], (n, n), dtype=jnp.float32).astype(dtype)
    b = jax.random.normal(keys[1], (n, n), dtype=jnp.float32).astype(dtype)
    product = jax.jit(lambda a, b: a @ b)
    product(a, b).block_until_ready()  # compile
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = [product(a, b) for _ in range(calls)]
        jax.block_until_ready(out)
        rates.append(2 * n**3 * calls / (time.perf_counter() - start))
    return rates


# ----------------------------------------------------------------------------- FLOPs


def vit_forward_flops(
    input_shape: tuple[int, int, int],
    patch_size: int,
    width: int,
    num_layers: int,
    mlp_dim: int,
    num_classes: int | None,
    **_: Any,
) -> int:
    """FLOPs of one image's ViT forward pass: its matrix products (2 per multiply-add).

    Patch embedding, then per block the QKV projection, attention scores, weighted
    values, output projection and the two MLP layers, then the head. ViT-B/16 at
    224x224: 35.1 GFLOP (17.6 G multiply-adds, as timm reports).
    """
    height, side, channels = input_shape
    patches = (height // patch_size) * (side // patch_size)
    tokens = patches + 1  # the class token
    embed = 2 * patches * patch_size * patch_size * channels * width
    block = (
        2 * tokens * width * 3 * width  # queries, keys, values
        + 2 * 2 * tokens * tokens * width  # scores, and the weighted sum of values
        + 2 * tokens * width * width  # output projection
        + 2 * 2 * tokens * width * mlp_dim  # MLP in and out
    )
    return embed + num_layers * block + 2 * width * (num_classes or 0)


def gpt_flops_per_token(params: int, num_layers: int, width: int, context: int) -> int:
    """nanoGPT's training FLOPs per token: ``6 N + 12 L H Q T`` (H Q = width).

    `params` is N, the parameters less the position embeddings (nanoGPT's
    ``get_num_params()``; the token embeddings count, being the output layer too).
    """
    return 6 * params + 12 * num_layers * width * context


# ----------------------------------------------------------------------------- timing


def _sample(call, examples: int) -> float:
    """Examples per second of one call (which returns once the device is done)."""
    start = time.perf_counter()
    call()
    return examples / (time.perf_counter() - start)


def flops_fraction(name: str, value: float, whole: float, target: str = "(info)"):
    """A :func:`common.fraction` row of FLOP/s, in TFLOP/s (GFLOP/s below 1 TFLOP/s)."""
    scale, unit = (1e12, "TFLOP/s") if whole >= 1e12 else (1e9, "GFLOP/s")
    return fraction(name, value / scale, whole / scale, unit, target)


def _spread(values: list[float]) -> str:
    return f"{min(values):.3f}-{max(values):.3f}" if len(values) > 1 else f"{values[0]:.3f}"


def _fit(model, x, y, batch):
    return lambda: model.fit(x, y, batch_size=batch, epochs=1, shuffle=False, verbose=0)


def _predict(model, x, batch):
    return lambda: model.predict(x, batch_size=batch, verbose=0)


class Bench:
    """One benchmark run: settings, the device, the peaks, and the rows so far."""

    def __init__(self, settings: dict[str, Any], policy: str, quick: bool):
        import jax

        self.settings, self.policy, self.quick = settings, policy, quick
        self.device = jax.devices()[0]
        self.kind = str(self.device.device_kind)
        self.peak, self.peak_entry = table_peak(self.kind)
        self.measured: float | None = None  # FLOP/s
        self.rows: list[dict[str, Any]] = []
        self.raw: dict[str, Any] = {}
        self.errors: dict[str, str] = {}

    def machine(self) -> dict[str, Any]:
        import jax
        import jaxlib

        return {
            "device_kind": self.kind,
            "platform": self.device.platform,
            "devices": len(jax.devices()),
            "table_peak_tflops": self.peak,
            "table_entry": self.peak_entry,
            "measured_peak_tflops": None if self.measured is None else self.measured / 1e12,
            "policy": self.policy,
            "backend": keras.backend.backend(),
            "jax": jax.__version__,
            "jaxlib": jaxlib.__version__,
            "keras": keras.__version__,
            "zoo": zoo.__version__,
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
            "tensorflow_imported": sys.modules.get("tensorflow") is not None,
        }

    # MFU rows: against the table's peak when the device is known, and the measured one.
    def mfu_rows(self, title: str, flops_per_second: float, target: str = "(info)") -> None:
        if self.peak is not None:
            self.rows.append(
                flops_fraction(
                    f"{title}: MFU, vs {self.kind}'s dense {self.peak:g} TFLOP/s (datasheet)",
                    flops_per_second,
                    self.peak * 1e12,
                    target,
                )
            )
        if self.measured is not None:
            self.rows.append(
                flops_fraction(
                    f"{title}: vs the measured {compute_dtype(self.policy)} matmul peak",
                    flops_per_second,
                    self.measured,
                    "(info)" if self.peak is not None else target,
                )
            )

    # --------------------------------------------------------------------- parts

    def run_peak(self) -> None:
        s = self.settings
        dtype = compute_dtype(self.policy)
        rates = matmul_rates(s["matmul"], dtype, max(s["repeats"], 3), s["matmul_calls"])
        self.measured = max(rates)
        self.raw["matmul_tflops"] = [r / 1e12 for r in rates]
        if self.peak is not None:
            self.rows.append(
                flops_fraction(
                    f"measured {dtype} matmul ({s['matmul']}^3, best of {len(rates)}) on "
                    f"{self.kind}: vs its dense {self.peak:g} TFLOP/s (datasheet)",
                    self.measured,
                    self.peak * 1e12,
                )
            )

    def run_resnet50(self) -> None:
        s = self.settings
        size, batch, repeats = s["resnet_size"], s["resnet_batch"], s["repeats"]
        n = batch * s["steps"]
        rng = np.random.default_rng(0)
        x = rng.random((n, size, size, 3), dtype=np.float32) * 255
        y = rng.integers(0, 1000, n).astype("int32")
        shape = (size, size, 3)
        models = {
            "zoo": zoo.build("resnet_50", stride_on="1x1", input_shape=shape, num_classes=1000),
            "keras": keras.applications.ResNet50(weights=None, input_shape=shape),
        }
        for model in models.values():
            model.compile(
                optimizer=keras.optimizers.SGD(0.1, momentum=0.9),
                loss="sparse_categorical_crossentropy",
            )
        calls = {
            (name, kind): (_fit(m, x, y, batch) if kind == "training" else _predict(m, x, batch))
            for name, m in models.items()
            for kind in ("inference", "training")
        }
        for (name, kind), call in calls.items():  # warm-up: compiling, allocating
            _log(f"resnet50: compiling {name} {kind}")
            call()
        rates = {key: [] for key in calls}
        names = list(models)
        for kind in ("inference", "training"):
            for round_ in range(repeats):
                for name in names[round_ % 2 :] + names[: round_ % 2]:
                    rates[name, kind].append(_sample(calls[name, kind], n))
            _log(f"resnet50 {kind}: " + ", ".join(f"{k}={rates[k, kind]}" for k in names))
        self.raw["resnet50"] = {f"{name} {kind}": r for (name, kind), r in rates.items()}
        where = f"{size}x{size}, batch {batch}, {self.policy}, on {self.kind}"
        for kind in ("training", "inference"):
            ours, theirs = rates["zoo", kind], rates["keras", kind]
            ratios = [a / b for a, b in zip(ours, theirs, strict=True)]
            self.rows.append(
                row(
                    f"zoo resnet_50 (stride_on='1x1') vs keras ResNet50: {kind} images/s "
                    f"({where}{', SGD' if kind == 'training' else ''}; median of {repeats} "
                    f"interleaved repeats, ratios {_spread(ratios)})",
                    statistics.median(ours),
                    statistics.median(theirs),
                    "images/s",
                    ">= 1.0",
                )
            )
        trained = statistics.median(rates["zoo", "training"])
        self.rows.append(
            fraction(
                f"zoo resnet_50 (stride_on='1x1') training images/s ({where}) vs "
                f"~{MLPERF_H100_IMAGES_PER_S:,.0f} images/s per H100 (MLPerf-class)",
                trained,
                MLPERF_H100_IMAGES_PER_S,
                "images/s",
            )
        )
        for name, label in (
            ("zoo", "zoo resnet_50 (stride_on='1x1')"),
            ("keras", "keras ResNet50"),
        ):
            flops = 3 * 2 * multiply_adds(models[name])  # training = 3x forward
            self.mfu_rows(
                f"{label} training ({where})",
                flops * statistics.median(rates[name, "training"]),
            )

    def run_vit_b16(self) -> None:
        s = self.settings
        overrides = dict(s["vit"])
        _, arguments = registry.resolve_arguments("vit_b16", overrides)
        batch, repeats = s["vit_batch"], s["repeats"]
        n = batch * s["steps"]
        model = zoo.build("vit_b16", **overrides)
        engine.compile_model(model, "classification", optimizer="adamw")
        rng = np.random.default_rng(0)
        x = rng.random((n, *arguments["input_shape"]), dtype=np.float32) * 255
        y = rng.integers(0, arguments["num_classes"], n).astype("int32")
        call = _fit(model, x, y, batch)
        _log("vit_b16: compiling")
        call()
        rates = [_sample(call, n) for _ in range(repeats)]
        self.raw["vit_b16 training"] = rates
        rate = statistics.median(rates)
        flops = 3 * vit_forward_flops(**arguments)  # training = 3x forward
        side = arguments["input_shape"][0]
        self.mfu_rows(
            f"vit_b16 training: {rate:,.1f} examples/s ({side}x{side}, batch {batch}, "
            f"{self.policy}, AdamW, on {self.kind}; median of {repeats}, "
            f"spread {_spread(rates)} examples/s)",
            flops * rate,
        )

    def run_gpt2_small(self) -> None:
        s = self.settings
        overrides = dict(s["gpt"])
        _, arguments = registry.resolve_arguments("gpt2_small", overrides)
        batch, repeats = s["gpt_batch"], s["repeats"]
        context, vocab = arguments["max_length"], arguments["vocab_size"]
        n = batch * s["steps"]
        model = zoo.build("gpt2_small", **overrides)
        engine.compile_model(model, "language_modeling")  # GPT's own: AdamW, next token
        tokens = np.random.default_rng(0).integers(0, vocab, (n, context)).astype("int32")
        call = _fit(model, tokens, None, batch)
        _log("gpt2_small: compiling")
        call()
        rates = [_sample(call, n) for _ in range(repeats)]  # sequences/s
        self.raw["gpt2_small training sequences/s"] = rates
        rate = statistics.median(rates)
        params = model.count_params() - context * arguments["width"]  # less positions
        per_token = gpt_flops_per_token(
            params, arguments["num_layers"], arguments["width"], context
        )
        self.mfu_rows(
            f"gpt2_small training: {rate * context:,.0f} tokens/s = {rate:,.2f} sequences/s "
            f"(batch {batch} x {context} tokens, {self.policy}, AdamW, on {self.kind}; "
            f"median of {repeats}, spread {_spread(rates)} sequences/s; nanoGPT's FLOPs)",
            per_token * context * rate,
            ">= 0.25",
        )

    def run_loop(self) -> None:
        s = self.settings
        n, batch, epochs = s["loop_examples"], s["loop_batch"], s["loop_epochs"]
        repeats = s["loop_repeats"]
        rng = np.random.default_rng(0)
        x = rng.random((n, 32, 32, 3), dtype=np.float32)
        y = (x[:, :16, :16, 0].mean(axis=(1, 2)) * 10).astype("int32") % 10
        steps = -(-n // batch)
        arguments = {"input_shape": (32, 32, 3), "num_classes": 10, **LOOP_CNN}
        zoo_rates, plain_rates, zoo_wall, plain_wall = [], [], [], []
        with tempfile.TemporaryDirectory() as folder:
            for repeat in range(repeats):  # paired, back to back
                model = zoo.build("convnet", **arguments)
                model.compile(
                    optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"]
                )
                marks = EpochMarks()
                model.fit(
                    x,
                    y,
                    batch_size=batch,
                    epochs=epochs,
                    shuffle=False,
                    callbacks=[marks],
                    verbose=0,
                )
                plain_rates.append(max(marks.steady_steps_per_second(steps)))
                plain_wall.append(statistics.median(marks.steady_wall()))

                model = zoo.build("convnet", **arguments)
                engine.compile_model(model, "classification")
                run_dir = Path(folder) / f"run{repeat}"
                marks = EpochMarks()
                standard = engine.standard_callbacks(
                    run_dir,
                    monitor="loss",
                    has_loss=True,
                    early_stopping=epochs,
                    checkpoint=True,
                    tensorboard=False,  # keras.callbacks.TensorBoard needs TensorFlow
                )
                engine.fit(
                    model,
                    ArrayBatches(x, y, batch),
                    None,
                    epochs=epochs,
                    callbacks=[
                        marks,
                        engine.EpochTimer(),
                        *standard,
                        engine.Resume(run_dir / "backup"),
                    ],
                    verbose=0,
                )
                zoo_rates.append(max(marks.steady_steps_per_second(steps)))
                zoo_wall.append(statistics.median(marks.steady_wall()))
                _log(f"loop repeat {repeat}: zoo {zoo_rates[-1]:.1f}, fit {plain_rates[-1]:.1f}")
        self.raw["loop"] = {
            "zoo steps/s": zoo_rates,
            "fit steps/s": plain_rates,
            "zoo s/epoch": zoo_wall,
            "fit s/epoch": plain_wall,
        }
        ratios = [a / b for a, b in zip(zoo_rates, plain_rates, strict=True)]
        where = f"small CNN, batch {batch}, {steps} steps/epoch, {self.policy}, on {self.kind}"
        self.rows += [
            row(
                f"zoo's loop (zoo.engine.fit, zoo.train's callbacks) vs model.fit on in-memory "
                f"arrays: training steps/s ({where}; best epoch after the first, median of "
                f"{repeats} paired repeats, ratios {_spread(ratios)})",
                statistics.median(zoo_rates),
                statistics.median(plain_rates),
                "steps/s",
                ">= 0.97",
            ),
            row(
                "zoo's loop vs model.fit: wall time per epoch incl. zoo's checkpoint and "
                "resumption state",
                statistics.median(zoo_wall),
                statistics.median(plain_wall),
                "s",
                "(info)",
                higher=False,
            ),
        ]


class EpochMarks(keras.callbacks.Callback):
    """When each epoch began and ended (its logs read, so the device had finished)."""

    def __init__(self):
        super().__init__()
        self.begins: list[float] = []
        self.ends: list[float] = []
        self.done = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self.begins.append(time.perf_counter())

    def on_epoch_end(self, epoch, logs=None):
        if logs and "loss" in logs:
            float(logs["loss"])  # waits for the device
        self.ends.append(time.perf_counter())

    def on_train_end(self, logs=None):
        self.done = time.perf_counter()

    def steady_steps_per_second(self, steps: int) -> list[float]:
        """Steps/s of each epoch after the first (which compiles)."""
        rates = [steps / (end - begin) for begin, end in zip(self.begins, self.ends, strict=True)]
        return rates[1:] or rates

    def steady_wall(self) -> list[float]:
        """Seconds from each epoch's start to the next's (its callbacks' work included)."""
        marks = [*self.begins[1:], self.done]
        walls = [after - before for before, after in zip(self.begins, marks, strict=True)]
        return walls[1:] or walls


class ArrayBatches(keras.utils.PyDataset):
    """Consecutive ``(x, y)`` batches of in-memory arrays, for ``zoo.engine.fit``."""

    def __init__(self, x: np.ndarray, y: np.ndarray, batch_size: int):
        super().__init__()
        self.x, self.y, self.batch_size = x, y, batch_size

    def __len__(self) -> int:
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, index: int):
        part = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return self.x[part], self.y[part]


# ----------------------------------------------------------------------------- driver


def _check_backend() -> None:
    backend = keras.backend.backend()
    if backend != "jax":
        raise v.invalid(
            "KERAS_BACKEND",
            "'jax', set before Python starts: benchmarks/accelerator.py measures Keras's JAX "
            "backend in a process of its own (run `KERAS_BACKEND=jax python "
            "benchmarks/accelerator.py`, not through a process already on another backend)",
            backend,
        )


def _settings(quick: bool, overrides: dict[str, Any] | None) -> dict[str, Any]:
    settings = dict(QUICK if quick else FULL)
    for key, value in (overrides or {}).items():
        if key not in settings or isinstance(settings[key], dict):
            raise v.unknown_name(
                "setting", key, [k for k, s in settings.items() if not isinstance(s, dict)]
            )
        settings[key] = v.check_int(key, value, minimum=1)
    return settings


def measure(
    quick: bool = False,
    parts: tuple[str, ...] | list[str] = PARTS,
    precision: str = "auto",
    overrides: dict[str, Any] | None = None,
    keep_going: bool = False,
    on_part=None,
) -> dict[str, Any]:
    """Run the named parts; returns ``{"machine", "settings", "rows", "raw", "errors"}``.

    Args:
        quick: tiny sizes (a smoke test on a CPU).
        parts: some of :data:`PARTS`, run in that order (``peak`` first when named).
        precision: ``"auto"`` (``zoo.distribute.auto_choice()``'s policy) or a Keras
            dtype policy name.
        overrides: integer settings to change (``{"resnet_batch": 128}``).
        keep_going: record a failing part's error and go on (else raise it).
        on_part: called with the partial result after each part (to save it).

    Raises:
        ValueError: the backend is not JAX, or an unknown part, setting or precision.
    """
    _check_backend()
    for part in parts:
        if part not in PARTS:
            raise v.unknown_name("part", part, PARTS)
    settings = _settings(quick, overrides)
    if precision == "auto":
        precision = distribute.auto_choice()["mixed_precision"]
    choices = ("float32", "mixed_float16", "mixed_bfloat16", "bfloat16", "float16")
    precision = v.check_choice("precision", precision, ("auto", *choices))
    bench = Bench(settings, precision, quick)
    previous = keras.config.dtype_policy()
    _log(f"{bench.kind} ({bench.device.platform}); policy {precision}; parts {list(parts)}")

    def result() -> dict[str, Any]:
        return {
            "machine": bench.machine(),
            "quick": quick,
            "settings": settings,
            "rows": bench.rows,
            "raw": bench.raw,
            "errors": bench.errors,
        }

    try:
        for part in sorted(parts, key=PARTS.index):
            _log(f"running {part}")
            keras.config.set_dtype_policy(precision)
            start = time.perf_counter()
            try:
                getattr(bench, f"run_{part}")()
            except Exception as error:  # a failing part (out of memory, say)
                if not keep_going:
                    raise
                bench.errors[part] = "".join(traceback.format_exception_only(error)).strip()
                _log(f"{part} failed:\n{traceback.format_exc()}")
            finally:
                keras.backend.clear_session()
            bench.raw.setdefault("seconds", {})[part] = round(time.perf_counter() - start, 1)
            if on_part is not None:
                on_part(result())
    finally:
        keras.config.set_dtype_policy(previous)
    return result()


def run(quick: bool = False) -> list[dict[str, Any]]:
    """The result rows of every part (``benchmarks/run.py``'s interface)."""
    return measure(quick)["rows"]


def markdown(rows: list[dict[str, Any]]) -> str:
    """The rows as a pandas table in Markdown (as benchmarks/README.md holds them)."""
    import pandas as pd

    table = pd.DataFrame(rows, columns=["benchmark", "zoo", "baseline", "ratio", "target"])
    lines = ["| " + " | ".join(table.columns) + " |", "|" + " --- |" * len(table.columns)]
    lines += [
        "| " + " | ".join(str(v) for v in values) + " |" for values in table.itertuples(index=False)
    ]
    return "\n".join(lines)


def _write_json(path: str, found: dict[str, Any]) -> None:
    partial = Path(f"{path}.partial")
    partial.write_text(json.dumps(found, indent=1, default=str))
    partial.replace(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes (for tests, on a CPU)")
    parser.add_argument(
        "--json", metavar="PATH", help="also write the results here (after each part)"
    )
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated, of {PARTS}")
    parser.add_argument("--precision", default="auto", help="auto, float32, mixed_bfloat16, ...")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=N",
        help="an integer setting (repeatable)",
    )
    parser.add_argument(
        "--keep-going", action="store_true", help="record a failing part and run the others"
    )
    args = parser.parse_args(argv)
    overrides = {}
    for item in args.set:
        key, _, value = item.partition("=")
        try:
            overrides[key] = int(value)
        except ValueError:
            parser.error(f"--set takes KEY=INTEGER. Received: --set {item}")
    parts = tuple(p.strip() for p in args.parts.split(",") if p.strip())
    save = (lambda found: _write_json(args.json, found)) if args.json else None
    try:
        found = measure(args.quick, parts, args.precision, overrides, args.keep_going, save)
    except v.UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(markdown(found["rows"]))
    print(json.dumps(found["machine"]))
    for part, error in found["errors"].items():
        print(f"{part} failed: {error}", file=sys.stderr)
    return 1 if found["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
