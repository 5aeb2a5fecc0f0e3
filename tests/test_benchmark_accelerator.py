"""benchmarks/accelerator.py: its quick mode on JAX without TensorFlow, and its arithmetic."""

import importlib.util
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import zoo

ROOT = Path(__file__).parent.parent
SCRIPT = ROOT / "benchmarks" / "accelerator.py"

# Runs the script as `python benchmarks/accelerator.py --quick --json ...` would, with
# every import of TensorFlow refused (and recorded, in case something swallows the error).
RUNNER = textwrap.dedent(
    """
    import importlib.abc, json, runpy, sys

    tried = []

    class RefuseTensorFlow(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "tensorflow" or name.startswith("tensorflow."):
                tried.append(name)
                raise ModuleNotFoundError(f"No module named {name!r} (refused)", name=name)
            return None

    sys.meta_path.insert(0, RefuseTensorFlow())
    script, output = sys.argv[1:3]
    sys.argv = [script, "--quick", "--json", output]
    sys.path.insert(0, str(__import__("pathlib").Path(script).parent))
    try:
        runpy.run_path(script, run_name="__main__")
        code = 0
    except SystemExit as stop:
        code = stop.code
    print(json.dumps({"code": code, "tried": sorted(set(tried))}))
    """
)


def _number(cell: str) -> float:
    return float(cell.split()[0])


def test_quick_mode_runs_on_jax_without_tensorflow(tmp_path):
    pytest.importorskip("jax")
    output = tmp_path / "results.json"
    env = {k: v for k, v in os.environ.items() if k not in ("XLA_FLAGS", "CUDA_VISIBLE_DEVICES")}
    env.update(KERAS_BACKEND="jax", JAX_PLATFORMS="cpu", ZOO_SAVED_MODELS=str(tmp_path / "m"))
    result = subprocess.run(
        [sys.executable, "-c", RUNNER, str(SCRIPT), str(output)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    ran = json.loads(result.stdout.strip().splitlines()[-1])
    assert ran == {"code": 0, "tried": []}, result.stderr[-4000:]
    assert "| benchmark | zoo | baseline | ratio | target |" in result.stdout  # the table

    found = json.loads(output.read_text())
    machine = found["machine"]
    assert machine["backend"] == "jax" and machine["platform"] == "cpu"
    assert machine["tensorflow_imported"] is False and machine["policy"] == "float32"
    assert machine["measured_peak_tflops"] > 0 and machine["table_peak_tflops"] is None
    assert found["quick"] is True and found["errors"] == {}
    rows = {row["benchmark"]: row for row in found["rows"]}
    expected = [
        r"zoo resnet_50 \(stride_on='1x1'\) vs keras ResNet50: training images/s",
        r"zoo resnet_50 \(stride_on='1x1'\) vs keras ResNet50: inference images/s",
        r"training images/s .* vs ~3,000 images/s per H100 \(MLPerf-class\)",
        r"^zoo resnet_50 \(stride_on='1x1'\) training .*: vs the measured float32 matmul peak",
        r"^keras ResNet50 training .*: vs the measured float32 matmul peak",
        r"^vit_b16 training: [\d,.]+ examples/s .*: vs the measured float32 matmul peak",
        r"^gpt2_small training: [\d,]+ tokens/s = [\d,.]+ sequences/s .*nanoGPT's FLOPs\): vs",
        r"^zoo's loop \(zoo.engine.fit, zoo.train's callbacks\) vs model.fit .*steps/s",
        r"^zoo's loop vs model.fit: wall time per epoch",
    ]
    for pattern in expected:
        assert [name for name in rows if re.search(pattern, name)], (pattern, list(rows))
    assert len(rows) == len(found["rows"]) == len(expected)
    for row in found["rows"]:
        assert row["ratio"] > 0 and _number(row["zoo"]) > 0 and _number(row["baseline"]) > 0, row
    gpt = next(row for name, row in rows.items() if name.startswith("gpt2_small"))
    assert gpt["target"] == ">= 0.25"  # no datasheet peak on a CPU: the measured one
    for values in found["raw"]["resnet50"].values():
        assert len(values) == 2 and min(values) > 0  # two interleaved repeats per side


@pytest.fixture(scope="module")
def accelerator():
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        spec = importlib.util.spec_from_file_location("benchmark_accelerator", SCRIPT)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(str(SCRIPT.parent))


@pytest.mark.parametrize(
    ("kind", "peak"),
    [
        ("NVIDIA H100 80GB HBM3", 989.0),
        ("NVIDIA H100 PCIe", 756.0),
        ("NVIDIA H200", 989.0),
        ("NVIDIA A100-SXM4-40GB", 312.0),
        ("NVIDIA A10", 125.0),
        ("NVIDIA A10G", None),
        ("NVIDIA L4", 121.0),
        ("NVIDIA L40S", 362.0),
        ("NVIDIA L40", 181.0),
        ("Tesla T4", 65.0),
        ("TPU v5 lite", 197.0),
        ("TPU v5", 459.0),
        ("TPU v5e", 197.0),
        ("TPU v6 lite", 918.0),
        ("TPU v4", 275.0),
        ("cpu", None),
    ],
)
def test_dense_peaks_match_the_device_kind(accelerator, kind, peak):
    assert accelerator.table_peak(kind)[0] == peak


def test_flops_are_the_published_counts(accelerator):
    # ViT-B/16 at 224x224: 17.6 G multiply-adds (timm), 35.1 GFLOP.
    _, vit = zoo.registry.resolve_arguments("vit_b16", {})
    assert accelerator.vit_forward_flops(**vit) / 1e9 == pytest.approx(35.13, abs=0.01)
    # GPT-2 small: N = 124,439,808 - 1,024 x 768 positions = 123.65M (nanoGPT: "123.65M"),
    # and nanoGPT's 6N + 12 L H Q T per token at T = 1,024.
    n = 124_439_808 - 1024 * 768
    per_token = accelerator.gpt_flops_per_token(n, 12, 768, 1024)
    assert per_token == 6 * n + 12 * 12 * 12 * 64 * 1024
    assert accelerator.compute_dtype("mixed_bfloat16") == "bfloat16"


@pytest.mark.tensorflow_only("it checks the refusal from a process on another backend")
def test_refuses_another_backend(accelerator):
    # The test process runs Keras on TensorFlow: the benchmark says how to run it instead.
    with pytest.raises(zoo.UserError, match=r"KERAS_BACKEND.*jax.*Received: KERAS_BACKEND="):
        accelerator.measure(quick=True)
