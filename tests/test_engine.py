import json

import keras
import numpy as np
import pytest

import zoo
from zoo import distribute, engine
from zoo._validation import ArgumentValueError


def _model():
    model = zoo.build("mlp_tiny")
    model.compile("adam", "sparse_categorical_crossentropy")
    return model


def test_resume_restores_weights_optimizer_and_epoch(tmp_path):
    x, y = np.random.default_rng(0).random((16, 8)), np.zeros(16)
    first = _model()
    resume = engine.Resume(tmp_path / "backup")
    assert resume.restore(first) == 0 and resume.state() is None
    first.fit(x, y, epochs=3, callbacks=[resume], verbose=0)
    assert resume.state()["epoch"] == 3
    assert [p.name for p in (tmp_path / "backup").glob("*.h5")] == ["epoch-3.weights.h5"]

    second = _model()
    assert engine.Resume(tmp_path / "backup").restore(second) == 3
    for a, b in zip(first.get_weights(), second.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert int(second.optimizer.iterations.numpy()) == int(first.optimizer.iterations.numpy())

    reader = engine.Resume(tmp_path / "backup", write=False)  # a worker: reads, never writes
    reader.set_model(second)
    reader.on_epoch_end(3)
    reader.clear()
    assert resume.state()["epoch"] == 3
    resume.clear()
    assert not (tmp_path / "backup").exists() and resume.restore(_model()) == 0


def test_resume_ignores_a_state_whose_weights_are_missing(tmp_path):
    (tmp_path / "state.json").write_text(json.dumps({"epoch": 4, "weights": "gone.h5"}))
    assert engine.Resume(tmp_path).restore(_model()) == 0


def test_standard_callbacks_follow_the_run(tmp_path):
    kinds = [
        next(k.__name__ for k in type(c).__mro__ if k.__module__.startswith("keras"))
        for c in engine.standard_callbacks(
            tmp_path, monitor="val_loss", has_loss=True, early_stopping=3
        )
    ]
    assert kinds == ["TerminateOnNaN", "TensorBoard", "ModelCheckpoint", "EarlyStopping"]
    worker = engine.standard_callbacks(
        tmp_path, monitor="loss", has_loss=False, early_stopping=3, chief=False
    )
    assert [type(c).__name__ for c in worker] == ["TerminateOnNaN"]


def test_is_chief_reads_tf_config(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert distribute.is_chief()
    cluster = {"worker": ["a:1", "b:2"]}
    for task, chief in [
        ({"type": "worker", "index": 0}, True),
        ({"type": "worker", "index": 1}, False),
        ({"type": "chief", "index": 0}, True),
    ]:
        monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster, "task": task}))
        assert distribute.is_chief() is chief


def test_a_built_model_keeps_its_strategy():
    model = zoo.build("mlp_tiny")
    kept = distribute.strategy_of_built(model, "auto", "a name")
    assert kept is distribute.strategy_of(model)
    with pytest.raises(ArgumentValueError, match=r"already built \(pass a name"):
        distribute.strategy_of_built(model, "cpu", "a name")
    with pytest.raises(ArgumentValueError, match="registered name or a builder callable"):
        zoo.train(model, "digits", strategy="cpu", save=False)
    with pytest.raises(ArgumentValueError, match="pass a backbone name"):
        zoo.transfer.fine_tune(
            keras.Model(model.inputs, model.outputs), "digits", strategy="cpu", save=False
        )


def test_classification_head():
    inputs = keras.Input((4,))
    outputs = zoo.architectures.classification_head(inputs, 3, dropout=0.5)
    model = keras.Model(inputs, outputs)
    assert model.output_shape == (None, 3)
    assert model.layers[-1].name == "predictions"
    assert model.layers[-1].activation.__name__ == "softmax"
    inputs = keras.Input((4,))
    single = keras.Model(inputs, zoo.architectures.classification_head(inputs, 1))
    assert single.layers[-1].activation.__name__ == "sigmoid"
