"""Test configuration: TensorFlow backend, quiet logs, fresh Keras state per test."""

import os
import tempfile

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
# The CLI's catalogue cache (zoo/_catalogue_cache.py) lives in a folder of the run's own.
os.environ["ZOO_CACHE_DIR"] = tempfile.mkdtemp(prefix="zoo-test-cache-")

import keras
import pytest


def pytest_collection_modifyitems(config, items):
    """On Keras's JAX backend, skip what needs TensorFlow's (``tensorflow_only(reason)``)
    and what does not depend on the backend at all (``once``: the TensorFlow pass runs it).
    """
    if keras.backend.backend() == "tensorflow":
        return
    for item in items:
        marker = item.get_closest_marker("tensorflow_only")
        if marker is not None:
            why = marker.args[0] if marker.args else "needs Keras's TensorFlow backend"
            item.add_marker(pytest.mark.skip(reason=f"TensorFlow backend only: {why}"))
        elif item.get_closest_marker("once") is not None:
            item.add_marker(pytest.mark.skip(reason="backend-independent: the TF pass runs it"))


def _no_network(host, port, timeout):
    raise OSError(f"the test suite never connects ({host}:{port})")


def _no_download(name):
    raise AssertionError(f"the test suite never downloads (dataset {name!r} is not on disk)")


@pytest.fixture(autouse=True)
def _fresh_keras_state(tmp_path, monkeypatch):
    """Seed everything, write saved models under tmp_path, clear Keras afterwards."""
    monkeypatch.setenv("ZOO_SAVED_MODELS", str(tmp_path / "saved_models"))
    monkeypatch.setattr("zoo.environment.probe", _no_network)  # zoo doctor's connection check
    monkeypatch.setattr("zoo.data.standard._download", _no_download)  # datasets by name
    keras.utils.set_random_seed(0)
    yield
    keras.backend.clear_session()


@pytest.fixture
def reachable_hosts(monkeypatch):
    """zoo doctor's hosts all answer (a stub: no socket opened); returns the hosts tried."""
    from zoo import environment

    for name in ("ZOO_OFFLINE", "ZOO_WEIGHTS_MIRROR", "https_proxy", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    tried = []
    monkeypatch.setattr(environment, "probe", lambda host, port, timeout: tried.append(host))
    return tried
