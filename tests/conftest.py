"""Test configuration: TensorFlow backend, quiet logs, fresh Keras state per test."""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

import keras
import pytest


@pytest.fixture(autouse=True)
def _fresh_keras_state(tmp_path, monkeypatch):
    """Seed everything, write saved models under tmp_path, clear Keras afterwards."""
    monkeypatch.setenv("ZOO_SAVED_MODELS", str(tmp_path / "saved_models"))
    keras.utils.set_random_seed(0)
    yield
    keras.backend.clear_session()
