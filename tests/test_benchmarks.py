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
    assert "zoo.tune memory growth" in text and "zoo.tune --workers 2 vs 1" in text
    assert text.count("| ") > 8
