import json
import os
import signal
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

import zoo
from zoo import saving


def _outputs(model, seed=0):
    x = np.random.default_rng(seed).normal(size=(3, *model.input_shape[1:])).astype("float32")
    return x, keras.ops.convert_to_numpy(model(x, training=False))


def test_save_and_load_by_name(tmp_path):
    model = zoo.build("resnet_tiny")
    path = zoo.save(model, "tiny", metrics={"accuracy": np.float32(0.5)}, note="hello")
    assert path == tmp_path / "saved_models" / "tiny"
    assert sorted(p.name for p in path.iterdir()) == ["model.keras", "zoo.json"]

    card = json.loads((path / "zoo.json").read_text())
    assert card["architecture"] == "resnet_tiny"
    assert card["arguments"]["blocks_per_stage"] == [1, 1]
    assert card["versions"]["keras"] == keras.__version__
    assert {"zoo", "tensorflow", "backend"} <= set(card["versions"])
    assert card["metrics"] == {"accuracy": 0.5}
    assert card["note"] == "hello"
    assert card["params"]["total"] == model.count_params()
    assert zoo.load_card("tiny") == card

    x, expected = _outputs(model)
    loaded = zoo.load("tiny")
    np.testing.assert_allclose(loaded(x, training=False), expected, rtol=1e-5, atol=1e-6)
    assert zoo.registry.get_spec(loaded)["architecture"] == "resnet_tiny"


def test_save_to_folder_and_load_keras_file(tmp_path):
    model = zoo.build("mlp_tiny")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    folder = zoo.save(model, tmp_path / "out" / "mlp")
    loaded = zoo.load(folder / "model.keras")
    assert loaded.compiled
    assert zoo.load(str(folder)).name == "mlp_tiny"


def test_overwrite_replaces_and_can_be_refused(tmp_path):
    first = zoo.build("mlp_tiny", units=(4,))
    second = zoo.build("mlp_tiny", units=(6,))
    zoo.save(first, "m")
    zoo.save(second, "m")
    assert zoo.load("m").count_params() == second.count_params()
    with pytest.raises(FileExistsError, match="overwrite=True"):
        zoo.save(first, "m", overwrite=False)
    leftovers = [p.name for p in (tmp_path / "saved_models").iterdir()]
    assert leftovers == ["m"]


def test_failed_save_keeps_previous_version(tmp_path, monkeypatch):
    original = zoo.build("mlp_tiny", units=(4,))
    zoo.save(original, "m")
    x, expected = _outputs(original)

    def broken_save(self, path, *args, **kwargs):
        with open(path, "wb") as handle:
            handle.write(b"partial")
        raise KeyboardInterrupt("interrupted while writing")

    replacement = zoo.build("mlp_tiny", units=(9,))
    with monkeypatch.context() as patch, pytest.raises(KeyboardInterrupt):
        patch.setattr(keras.Model, "save", broken_save)
        zoo.save(replacement, "m")
    np.testing.assert_allclose(zoo.load("m")(x), expected, rtol=1e-5)
    assert [p.name for p in (tmp_path / "saved_models").iterdir()] == ["m"]


def test_interrupted_swap_is_recovered(tmp_path):
    zoo.save(zoo.build("mlp_tiny"), "m")
    root = tmp_path / "saved_models"
    # Simulate a crash between the two renames of the swap: only the backup exists.
    (root / "m").rename(root / ".backup-m-deadbeef")
    (root / ".tmp-m-cafe").mkdir()
    assert zoo.load("m").name == "mlp_tiny"
    assert sorted(p.name for p in root.iterdir()) == ["m"]


def test_killed_save_process_leaves_previous_version(tmp_path):
    """kill -9 a process in the middle of zoo.save, many times; the old model loads."""
    folder = tmp_path / "models" / "m"
    zoo.save(zoo.build("mlp_tiny", units=(4,)), folder)
    script = textwrap.dedent(
        f"""
        import zoo, keras, sys
        model = zoo.build("mlp_tiny", units=(4,))
        print("ready", flush=True)
        while True:
            zoo.save(model, {str(folder)!r})
        """
    )
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    process = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, env=env, text=True
    )
    try:
        assert process.stdout.readline().strip() == "ready"
        import time

        time.sleep(1.5)  # let it get through several saves and die mid-way
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    model = zoo.load(folder)
    assert model.count_params() == zoo.build("mlp_tiny", units=(4,)).count_params()
    assert sorted(p.name for p in folder.parent.iterdir()) == ["m"]


def test_generative_models_load_in_a_fresh_process(tmp_path):
    # zoo.load must register zoo's model classes itself (a new process has not
    # imported zoo.architectures when it loads a GAN, VAE or GPT).
    folders = {}
    for name in ("vae_tiny", "dcgan_tiny", "gpt_tiny", "diffusion_tiny"):
        model = zoo.build(name)
        folders[name] = zoo.save(model, tmp_path / name)
    script = "import sys, zoo\nfor path in sys.argv[1:]:\n    print(type(zoo.load(path)).__name__)"
    result = subprocess.run(
        [sys.executable, "-c", script, *map(str, folders.values())],
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["VAE", "GAN", "GPT", "Diffusion"]


def test_load_missing_lists_saved_models():
    zoo.save(zoo.build("mlp_tiny"), "present")
    with pytest.raises(FileNotFoundError, match="present"):
        zoo.load("absent")


def test_save_rejects_non_models():
    with pytest.raises(TypeError, match=r"keras\.Model"):
        zoo.save("not a model", "x")
    with pytest.raises(TypeError, match="overwrite"):
        zoo.save(zoo.build("mlp_tiny"), "x", overwrite="yes")


def test_to_jsonable_handles_keras_and_numpy_values():
    value = {
        "shape": (2, 3),
        "array": np.arange(3),
        "reg": keras.regularizers.L2(0.1),
        "nan": float("nan"),
    }
    out = saving.to_jsonable(value)
    assert out["shape"] == [2, 3] and out["array"] == [0, 1, 2] and out["nan"] == "nan"
    assert out["reg"]["class_name"] == "L2"
    json.dumps(out)
