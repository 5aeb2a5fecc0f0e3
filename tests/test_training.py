import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pandas as pd
import pytest

import zoo
from zoo._validation import ArgumentTypeError, ArgumentValueError


@pytest.fixture(scope="module")
def digits():
    return zoo.data.load("digits", batch_size=64)


def test_train_by_name_returns_tables_and_saves_card(digits, tmp_path):
    result = zoo.train("convnet_digits", digits, epochs=3, verbose=0)
    assert list(result.history["epoch"]) == [1, 2, 3]
    assert {"loss", "accuracy", "val_loss", "val_accuracy", "seconds"} <= set(result.history)
    for key in ("accuracy", "precision_macro", "recall_macro", "f1_macro", "roc_auc", "log_loss"):
        assert 0 <= result.metrics[key] < 10
    assert result.metrics["accuracy"] > 0.5
    assert list(result.report.columns) == ["precision", "recall", "f1", "support"]
    assert result.report["support"].sum() == digits.sizes["test"]
    assert result.confusion.shape == (10, 10)
    assert result.confusion.to_numpy().sum() == digits.sizes["test"]
    card = json.loads((result.path / "zoo.json").read_text())
    assert card["data"]["fingerprint"] == digits.fingerprint
    assert card["metrics"]["accuracy"] == pytest.approx(result.metrics["accuracy"])
    assert card["training"]["epochs_run"] == 3 and card["training"]["replicas"] == (
        zoo.distribute.strategy("auto").num_replicas_in_sync
    )
    assert pd.read_csv(result.path / "history.csv").shape[0] == 3
    for plot in ("curves.png", "confusion.png"):  # zoo.plots, beside the model
        assert (result.path / plot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [ax.get_title() for ax in result.plot().axes] == ["loss", "accuracy"]
    assert (result.run_dir / "logs").is_dir()  # TensorBoard


def test_evaluate_saved_model_matches_training(digits):
    result = zoo.train("convnet_tiny", digits, epochs=2, verbose=0, output="tiny")
    again = zoo.evaluate("tiny", digits)
    assert again.metrics["accuracy"] == pytest.approx(result.metrics["accuracy"])
    pd.testing.assert_frame_equal(again.confusion, result.confusion)


def test_train_builder_callable_and_model(digits):
    def builder():
        return zoo.build("mlp", input_shape=(8, 8, 1), num_classes=10, units=(16,))

    assert zoo.train(builder, digits, epochs=1, verbose=0, save=False).metrics["accuracy"] > 0
    model = builder()
    result = zoo.train(model, digits, epochs=1, verbose=0, save=False)
    preprocessor, network = zoo.layers.preprocessing.split(result.model)
    assert network is model and preprocessor is not None  # the model trained, raw pixels in
    again = zoo.train(result.model, digits, epochs=1, verbose=0, save=False)
    assert zoo.layers.preprocessing.split(again.model)[1] is model  # not wrapped twice


def test_train_without_save_leaves_nothing_on_disk(digits, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = zoo.train("mlp_tiny", digits, epochs=2, verbose=0, save=False)
    assert result.path is None and result.run_dir is None
    assert list(tmp_path.iterdir()) == []  # no TensorBoard logs, checkpoint or run folder
    asked = zoo.train("mlp_tiny", digits, epochs=1, verbose=0, save=False, tensorboard=True)
    assert asked.path is None and any((asked.run_dir / "logs").rglob("*.v2"))
    assert sorted(p.name for p in asked.run_dir.iterdir()) == ["logs"]  # no checkpoint
    with pytest.raises(ArgumentTypeError, match="Received: tensorboard='yes'"):
        zoo.train("mlp_tiny", digits, epochs=1, save=False, tensorboard="yes")


def test_regression_metrics():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 4)).astype("float32")
    y = x @ np.array([1.0, -2.0, 0.5, 0.0], "float32")
    result = zoo.train("mlp", (x, y), epochs=30, learning_rate=1e-2, verbose=0, save=False)
    assert set(result.metrics) == {"rmse", "mae", "r2", "mse"}
    assert result.metrics["r2"] > 0.8
    assert result.report is None and result.confusion is None
    assert "rmse" in result.history


def test_autoencoder_task(digits):
    def autoencoder():
        inputs = keras.Input((8, 8, 1))
        x = keras.layers.Flatten()(inputs)
        x = keras.layers.Dense(16, activation="relu")(x)
        x = keras.layers.Dense(64, activation="sigmoid")(x)
        return keras.Model(inputs, keras.layers.Reshape((8, 8, 1))(x))

    result = zoo.train(autoencoder, digits, task="autoencoder", epochs=3, verbose=0, save=False)
    assert result.history["loss"].iloc[-1] < result.history["loss"].iloc[0]
    assert "loss" in result.metrics


def test_cross_validate_rows_and_summary(digits):
    table = zoo.cross_validate("mlp", digits, folds=3, epochs=2, units=(32,))
    assert list(table.index) == ["1", "2", "3", "mean", "std"]
    assert table.loc["mean", "accuracy"] == pytest.approx(
        table.loc[["1", "2", "3"], "accuracy"].mean()
    )
    assert table.loc["std", "accuracy"] >= 0


def test_train_bad_arguments(digits):
    cases = [
        (("mlp", digits), {"epochs": 0}, ArgumentValueError),
        (("mlp", digits), {"task": "ranking"}, ArgumentValueError),
        (("mlp", digits), {"strategy": "quantum"}, ArgumentValueError),
        (("mlp", digits), {"mixed_precision": "fp8"}, ArgumentValueError),
        (("mlp", digits), {"learning_rate": 0.0}, ArgumentValueError),
        ((3, digits), {}, ArgumentTypeError),
        ((zoo.build("mlp_tiny"), digits), {"units": (3,)}, ArgumentTypeError),
        (("mlp", digits), {"unitz": (3,)}, ArgumentTypeError),
        (("mlp", "no_such_data"), {}, ArgumentValueError),
    ]
    for args, kwargs, error in cases:
        with pytest.raises(error, match="Received"):
            zoo.train(*args, verbose=0, save=False, **kwargs)
    with pytest.raises(ArgumentValueError, match="folds"):
        zoo.cross_validate("mlp", digits, folds=1)


def _run(script: str, tmp_path, *args, timeout=300):
    path = tmp_path / "script.py"
    path.write_text(textwrap.dedent(script))
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "ZOO_SAVED_MODELS": str(tmp_path / "models")}
    return subprocess.run(
        [sys.executable, str(path), *args], capture_output=True, text=True, env=env, timeout=timeout
    )


RESUME_SCRIPT = """
import os, signal, sys, keras, zoo

class KillAfter(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if sys.argv[1] == "kill" and epoch == 2:
            os.kill(os.getpid(), signal.SIGKILL)

result = zoo.train("mlp", "digits", epochs=6, early_stopping=None, verbose=0, output="run",
                   resume=sys.argv[1] == "resume", callbacks=[KillAfter()])
print("EPOCHS", list(result.history["epoch"]))
"""


@pytest.mark.once
def test_killed_run_resumes_at_its_last_epoch(tmp_path):
    killed = _run(RESUME_SCRIPT, tmp_path, "kill")
    assert killed.returncode == -9, killed.stderr[-2000:]
    resumed = _run(RESUME_SCRIPT, tmp_path, "resume")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "EPOCHS [4, 5, 6]" in resumed.stdout
    fresh = _run(RESUME_SCRIPT, tmp_path, "fresh")
    assert "EPOCHS [1, 2, 3, 4, 5, 6]" in fresh.stdout
