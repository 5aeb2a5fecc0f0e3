"""benchmarks/timeseries.py: UCR files, its fail-fast message and its quick mode."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location(
        "benchmark_timeseries", ROOT / "benchmarks" / "timeseries.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_reads_ucr_text_and_tsv_files(bench, tmp_path):
    folder = tmp_path / "Tiny"
    folder.mkdir()
    (folder / "Tiny_TRAIN.tsv").write_text("1\t0.5\t1.5\t2.5\n2\t-1\t0\t1\n")
    (folder / "Tiny_TEST.tsv").write_text("2,3,4,5\n")
    train, test = bench.find("Tiny", tmp_path)
    x, y = bench.read_ucr(train)
    assert x.shape == (2, 3, 1) and x.dtype == np.float32
    np.testing.assert_allclose(x[0, :, 0], [0.5, 1.5, 2.5])
    assert y.tolist() == [1, 2]
    x_test, y_test = bench.read_ucr(test)
    assert x_test[0, :, 0].tolist() == [3.0, 4.0, 5.0] and y_test.tolist() == [2]
    (folder / "Tiny_TRAIN.tsv").write_text("1 0.5 1.5\n2 1.0\n")
    with pytest.raises(ValueError, match="same length"):
        bench.read_ucr(folder / "Tiny_TRAIN.tsv")


def test_batch_size_is_dl4tsc(bench):
    assert [bench.batch_size(n) for n in (5, 28, 50, 1000)] == [1, 2, 5, 16]


def test_full_mode_fails_fast_naming_files_and_folders(bench, tmp_path):
    with pytest.raises(FileNotFoundError) as error:
        bench.run(ucr_dir=tmp_path, datasets=("GunPoint",))
    message = str(error.value)
    assert "GunPoint/GunPoint_TRAIN.txt" in message and str(tmp_path) in message
    assert "--ucr-dir" in message and "ZOO_DATA_DIR" in message


def test_quick_mode_trains_both_models_on_the_stand_in(bench, tmp_path):
    rows = bench.run(quick=True, ucr_dir=tmp_path, datasets=("GunPoint",))
    assert [row["benchmark"] for row in rows] == [
        f"UCR GunPoint {model} ({bench.QUICK_EPOCHS} epochs): test accuracy [stand-in data]"
        for model in ("ts_fcn", "ts_resnet")
    ]
    for row in rows:
        assert 0.0 <= float(row["zoo"]) <= 1.0
        assert row["baseline"].endswith("(Wang et al. 2017)")
    section = bench.SECTION
    assert section.startswith("## Published accuracies on UCR time series")
    assert "| GunPoint (40/40, 64) | `ts_fcn` |" in section
    assert "| GunPoint (40/40, 64) | `ts_resnet` |" in section
    assert "synthetic stand-in" in section and "not representative" in section
