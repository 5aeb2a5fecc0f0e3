"""zoo on Keras's JAX backend, run in child processes (a process has one Keras backend).

Each script runs under ``KERAS_BACKEND=jax`` with two virtual CPU devices, so
``strategy="auto"`` is data parallel through ``keras.distribution``.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import zoo

pytest.importorskip("jax")

JAX_ENV = {
    "KERAS_BACKEND": "jax",
    "XLA_FLAGS": "--xla_force_host_platform_device_count=2",
    "JAX_PLATFORMS": "cpu",
}


def _run_jax(script: str, tmp_path, timeout: int = 600) -> dict:
    """Run `script` on the JAX backend; it prints one JSON line last, returned here."""
    env = {**os.environ, **JAX_ENV, "ZOO_SAVED_MODELS": str(tmp_path / "saved_models")}
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_architectures_build_and_run_without_tensorflow(tmp_path):
    found = _run_jax(
        """
        import json, sys
        sys.modules["tensorflow"] = None  # any import of TensorFlow now fails
        import numpy as np
        import zoo
        names = [n for n in zoo.list_architectures(source="zoo")["name"] if n.endswith("_tiny")]
        built = {}
        for name in names:
            model = zoo.build(name)
            built[name] = int(model.count_params())
        model = zoo.build("resnet_tiny")
        out = model(np.zeros((2,) + model.input_shape[1:], "float32"))
        print(json.dumps({"built": built, "shape": list(out.shape)}))
        """,
        tmp_path,
    )
    assert len(found["built"]) >= 10 and found["shape"] == [2, 10]
    for name in ("mlp_tiny", "resnet_tiny", "gpt_tiny"):  # same architectures on both backends
        assert found["built"][name] == zoo.build(name).count_params()


def test_data_parallel_training_matches_one_device_and_everything_runs(tmp_path):
    found = _run_jax(
        """
        import json, sys
        import numpy as np
        import zoo

        data = zoo.data.load("digits", batch_size=64)
        auto = zoo.distribute.describe(zoo.distribute.strategy("auto"))
        runs = {}
        for strategy in ("auto", "cpu"):
            result = zoo.train("mlp_tiny", data, epochs=3, strategy=strategy, save=False,
                               verbose=0, seed=1)
            runs[strategy] = {
                "loss": result.history["loss"].tolist(),
                "accuracy": result.metrics["accuracy"],
                "replicas": result.strategy["replicas"],
            }
        saved = zoo.train("mlp_tiny", data, epochs=1, output="m", verbose=0)
        evaluated = zoo.evaluate("m", data).metrics["accuracy"]
        tuned = zoo.tune("mlp_tiny", data, max_trials=2, epochs=1, save=False,
                         directory="searches", verbose=0)
        tuned_ok = tuned.trials["status"].tolist()
        fine = zoo.transfer.fine_tune("digits_convnet_pretrained", data, epochs=2,
                                      fine_tune_epochs=1, save=False, verbose=0)
        lr = zoo.transfer.lr_find(zoo.build("mlp_tiny", input_shape=(8, 8, 1),
                                            num_classes=10), data, steps=10)
        print(json.dumps({
            "auto": auto, "runs": runs, "evaluated": evaluated, "tuned": tuned_ok,
            "fine_tune": fine.metrics["accuracy"], "lr_rows": len(lr.table),
            "saved_accuracy": saved.metrics["accuracy"],
        }))
        """,
        tmp_path,
    )
    assert found["auto"]["backend"] == "jax" and found["auto"]["replicas"] == 2
    assert found["auto"]["strategy"] == "DataParallel" and found["auto"]["device"] == "cpu"
    auto, one = found["runs"]["auto"], found["runs"]["cpu"]
    assert (auto["replicas"], one["replicas"]) == (2, 1)
    np.testing.assert_allclose(auto["loss"], one["loss"], rtol=2e-3)
    assert abs(auto["accuracy"] - one["accuracy"]) <= 0.01
    assert found["evaluated"] == pytest.approx(found["saved_accuracy"])
    assert found["tuned"] == ["COMPLETED", "COMPLETED"]
    assert found["fine_tune"] >= 0.9
    assert found["lr_rows"] >= 5


def test_uneven_batches_are_padded_not_refused(tmp_path):
    # 103 training rows in batches of 32 leave 7, which 2 devices cannot split.
    found = _run_jax(
        """
        import json
        import numpy as np
        import zoo

        rng = np.random.default_rng(0)
        x = rng.normal(size=(150, 4)).astype("float32")
        y = (x[:, 0] > 0).astype("int64")
        data = zoo.data.load(x, y, batch_size=32, validation_split=0.15, test_split=0.15)
        result = zoo.train("mlp_tiny", data, epochs=2, save=False, verbose=0)
        probabilities = zoo.predict(result.model, x[:7])
        print(json.dumps({"sizes": data.sizes, "rows": len(probabilities),
                          "history": len(result.history)}))
        """,
        tmp_path,
    )
    assert any(size % 32 % 2 for size in found["sizes"].values())  # an odd last batch
    assert found["rows"] == 7 and found["history"] == 2


def test_models_saved_on_tensorflow_load_on_jax_and_back(tmp_path):
    x = np.random.default_rng(0).uniform(0, 255, size=(5, 8, 8, 1)).astype("float32")
    np.save(tmp_path / "x.npy", x)
    model = zoo.train(
        "mlp_tiny",
        "digits",
        epochs=1,
        output=str(tmp_path / "saved_models" / "from_tf"),
        verbose=0,
    ).model
    np.save(tmp_path / "tf_out.npy", np.asarray(model.predict(x, verbose=0)))
    found = _run_jax(
        """
        import json
        import numpy as np
        import zoo

        x = np.load("x.npy")
        loaded = zoo.load("from_tf")
        same = bool(np.allclose(loaded.predict(x, verbose=0), np.load("tf_out.npy"),
                                atol=1e-5))
        result = zoo.train("mlp_tiny", "digits", epochs=1, output="from_jax", verbose=0)
        np.save("jax_out.npy", np.asarray(result.model.predict(x, verbose=0)))
        print(json.dumps({"same": same, "backend": zoo.load_card("from_jax")["versions"]}))
        """,
        tmp_path,
    )
    assert found["same"] and found["backend"]["backend"] == "jax"
    back = zoo.load(tmp_path / "saved_models" / "from_jax")
    np.testing.assert_allclose(
        back.predict(x, verbose=0), np.load(tmp_path / "jax_out.npy"), atol=1e-5
    )


def test_tensorflow_only_features_say_so_on_jax(tmp_path):
    found = _run_jax(
        """
        import json
        import zoo
        from zoo.transfer import hub

        messages = []
        for attempt in (
            lambda: zoo.export(zoo.build("mlp_tiny"), "m.tflite", format="tflite"),
            lambda: hub.hub_layer(str(zoo.__file__)),
            lambda: zoo.distribute.strategy("multiworker"),
        ):
            try:
                attempt()
                messages.append(None)
            except zoo.UserError as error:
                messages.append(str(error))
        print(json.dumps(messages))
        """,
        tmp_path,
    )
    assert all(message and "Received:" in message for message in found), found
    assert "TFLite export needs Keras's TensorFlow backend" in found[0]
    assert "TF Hub SavedModel needs Keras's TensorFlow backend" in found[1]
    assert "needs a cluster" in found[2] and "zoo launch" in found[2]


WORKER = """
import json, sys
import zoo

result = zoo.train("mlp_tiny", "digits", epochs=2, strategy=sys.argv[1], seed=3, verbose=0,
                   output="digits_mlp")
print(json.dumps({"strategy": result.strategy, "metrics": result.metrics,
                  "loss": result.history["loss"].tolist(), "saved": str(result.path)}))
"""


def test_two_processes_train_as_one_with_four_devices(tmp_path):
    # zoo launch on loopback: 2 workers x 2 CPU devices, joined by keras.distribution.initialize
    (tmp_path / "worker.py").write_text(WORKER)
    env = {**os.environ, **JAX_ENV, "ZOO_SAVED_MODELS": str(tmp_path / "saved_models")}
    launched = subprocess.run(
        [
            str(Path(sys.executable).parent / "zoo"),
            "launch",
            "--workers",
            "2",
            "--timeout",
            "300",
            "--",
            sys.executable,
            "worker.py",
            "multiworker",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=400,
    )
    assert launched.returncode == 0, launched.stdout[-3000:] + launched.stderr[-3000:]
    lines = [line.split("] ", 1) for line in launched.stdout.splitlines() if "] {" in line]
    workers = {prefix: json.loads(text) for prefix, text in lines}
    assert sorted(workers) == ["[worker 0", "[worker 1"]
    chief, other = workers["[worker 0"], workers["[worker 1"]
    assert chief["strategy"]["workers"] == 2 and chief["strategy"]["replicas"] == 4
    assert chief["metrics"] == other["metrics"]  # one model, evaluated together
    assert other["saved"] == "None"  # only the chief writes
    card = json.loads((tmp_path / "saved_models" / "digits_mlp" / "zoo.json").read_text())
    assert card["training"]["workers"] == 2 and card["training"]["backend"] == "jax"
    # The same training in one process over 4 devices: the same numbers.
    one = subprocess.run(
        [sys.executable, "worker.py", "auto"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={
            **env,
            "XLA_FLAGS": "--xla_force_host_platform_device_count=4",
            "ZOO_SAVED_MODELS": str(tmp_path / "single"),
        },
        timeout=300,
    )
    assert one.returncode == 0, one.stderr[-3000:]
    single = json.loads(one.stdout.strip().splitlines()[-1])
    assert single["strategy"]["replicas"] == 4 and single["strategy"]["workers"] == 1
    np.testing.assert_allclose(chief["loss"], single["loss"], rtol=1e-4)
    assert abs(chief["metrics"]["accuracy"] - single["metrics"]["accuracy"]) < 1e-6
