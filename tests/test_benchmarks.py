import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_every_benchmark_runs_on_tiny_sizes(tmp_path):
    output = tmp_path / "README.md"
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--output", str(output)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    text = output.read_text()
    assert "zoo.train vs model.fit" in text and "image-folder pipeline" in text
    assert "cached features" in text
    assert "300-file folder, second load (manifest): time to first batch" in text
    assert "## Image-folder start-up by folder size" in text
    assert "zoo.tune memory growth" in text and "zoo.tune --workers 2 vs 1" in text
    assert "zoo resnet_50 (stride_on='1x1') vs keras ResNet50: inference images/s" in text
    assert "zoo resnet_50 (stride_on='1x1') vs keras ResNet50: training images/s" in text
    for model in ("zoo resnet_50 (stride_on='1x1')", "zoo resnet_50", "keras ResNet50"):
        for kind in ("inference", "training"):
            assert f"{model} {kind}: fraction of measured fp32 matmul peak" in text
    # The torchvision rows appear exactly when torch and torchvision can be imported.
    has_torch = all(importlib.util.find_spec(name) for name in ("torch", "torchvision"))
    assert ("zoo resnet_50 vs torchvision resnet50" in text) == has_torch
    assert ("torchvision resnet50 training: fraction" in text) == has_torch
    assert ("so there are no torchvision rows" in text) != has_torch
    assert "## Published accuracies on Fashion-MNIST" in text
    assert "Fashion-MNIST MLP 256-128-100 (mlp_fashion_mnist): test accuracy" in text
    assert "not run (needs a GPU" in text  # the ResNet-18 row, in quick mode
    assert "RBM features + logistic regression, digits: zoo rbm vs sklearn BernoulliRBM" in text
    assert text.count("| ") > 8
