"""Every notebook runs top to bottom in fast mode (ZOO_NOTEBOOK_FAST=1) without an error."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))


def test_the_six_notebooks_are_there():
    names = [path.stem for path in NOTEBOOKS]
    assert names == [
        "01_quickstart",
        "02_architectures",
        "03_transfer_learning",
        "04_tuning",
        "05_generative",
        "06_colab_tpu",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_notebook_is_committed_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_notebook_runs_in_fast_mode(path, tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_NOTEBOOK_FAST", "1")  # the kernel inherits the environment,
    monkeypatch.setenv("ZOO_OFFLINE", "1")  # ZOO_SAVED_MODELS (tmp_path) included
    if path.stem == "06_colab_tpu":  # its first cell picks the JAX backend, as on Colab
        monkeypatch.delenv("KERAS_BACKEND", raising=False)
        monkeypatch.setenv("XLA_FLAGS", "--xla_force_host_platform_device_count=2")
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError naming the cell and the traceback
    outputs = [output for cell in notebook.cells for output in cell.get("outputs", [])]
    assert not [output for output in outputs if output.get("output_type") == "error"]
    # Every notebook draws something, and zoo.plots' figures show as images.
    assert any("image/png" in output.get("data", {}) for output in outputs)
