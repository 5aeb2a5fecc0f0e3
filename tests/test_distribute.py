import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import zoo
from zoo import distribute
from zoo._validation import ArgumentValueError


def test_auto_strategy_on_this_machine_is_one_device():
    strategy = distribute.strategy("auto")
    info = distribute.describe(strategy)
    assert info["replicas"] == 1
    if not distribute.tpu_present() and info["device"] == "cpu":
        assert distribute.mixed_precision("auto", strategy) == "float32"


def test_explicit_strategies_and_errors(monkeypatch):
    assert distribute.describe(distribute.strategy("cpu"))["device"] == "cpu"
    for var in distribute.TPU_ENV:
        monkeypatch.delenv(var, raising=False)
    if not distribute.tpu_present():
        with pytest.raises(ArgumentValueError, match="needs an attached TPU"):
            distribute.strategy("tpu")
    import tensorflow as tf

    if not tf.config.list_physical_devices("GPU"):
        with pytest.raises(ArgumentValueError, match="needs a GPU"):
            distribute.strategy("gpu")
    monkeypatch.delenv("TF_CONFIG", raising=False)
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    with pytest.raises(ArgumentValueError, match="zoo launch"):
        distribute.strategy("multiworker")
    with pytest.raises(ArgumentValueError, match="'auto', 'cpu'"):
        distribute.strategy("quantum")


def test_mixed_precision_choices():
    assert distribute.mixed_precision("off") == "float32"
    assert distribute.mixed_precision("mixed_bfloat16") == "mixed_bfloat16"
    with pytest.raises(ArgumentValueError):
        distribute.mixed_precision("fp8")


def test_tpu_detection_uses_environment(monkeypatch):
    for var in distribute.TPU_ENV:
        monkeypatch.delenv(var, raising=False)
    present = distribute.tpu_present()
    monkeypatch.setenv("COLAB_TPU_ADDR", "10.0.0.2:8470")
    assert distribute.tpu_present()
    monkeypatch.delenv("COLAB_TPU_ADDR")
    assert distribute.tpu_present() == present


def _script(tmp_path, body):
    path = tmp_path / "worker.py"
    path.write_text(textwrap.dedent(body))
    return path


def _env(tmp_path):
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "ZOO_SAVED_MODELS": str(tmp_path)}


MIRRORED = """
import keras, numpy as np, zoo
zoo.distribute.logical_cpus(2)

def run(strategy):
    keras.utils.set_random_seed(1)
    # A fixed order: MirroredStrategy's distributed copy of a dataset reshuffles in
    # another order than the original does, which Adam then amplifies.
    data = zoo.data.load("digits", batch_size=64, shuffle=False)
    # jit_compile=True must be turned off (with a notice) under 2 replicas; XLA changes
    # rounding, which Adam amplifies, so the single-device run goes without it.
    jit = True if strategy == "mirrored" else False
    result = zoo.train("mlp", data, epochs=2, strategy=strategy, early_stopping=None,
                       save=False, verbose=0, seed=1, jit_compile=jit)
    assert result.strategy["replicas"] == (2 if strategy == "mirrored" else 1)
    return np.concatenate([w.ravel() for w in result.model.get_weights()]), result.metrics

single, m1 = run("cpu")
mirrored, m2 = run("mirrored")
print("MAXDIFF", float(np.abs(single - mirrored).max()), m1["accuracy"], m2["accuracy"])
"""


def test_mirrored_over_two_cpus_matches_single_device(tmp_path):
    result = subprocess.run(
        [sys.executable, str(_script(tmp_path, MIRRORED))],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    line = next(x for x in result.stdout.splitlines() if x.startswith("MAXDIFF"))
    _, diff, acc1, acc2 = line.split()
    assert float(diff) < 1e-3
    assert abs(float(acc1) - float(acc2)) < 0.02
    assert "turned off under 2 replicas" in result.stdout


MULTIWORKER = """
import json, os, sys, numpy as np, tensorflow as tf, zoo
from zoo.transfer import demo
strategy = zoo.distribute.strategy("multiworker")  # before any other TensorFlow work
out, source = sys.argv[1], sys.argv[2]
index = os.environ["ZOO_WORKER_INDEX"]
seen = []  # what this worker trained on: the input's mean tells the examples apart
share_of_worker = zoo.data.Data.worker_train

def noted(self, workers, index, replicas=1):
    def note(x, w):
        means = x.numpy().reshape(len(x), -1).mean(axis=1).round(4)
        seen.extend(float(m) for m in means[w.numpy() == 1])
        return 0

    def record(x, y, w):
        with tf.control_dependencies([tf.py_function(note, [x, w], tf.int64)]):
            return tf.identity(x), y, w

    return share_of_worker(self, workers, index, replicas).map(record)

zoo.data.Data.worker_train = noted
model = os.path.join(out, "model")
if source == "arrays":
    x = np.random.default_rng(0).normal(size=(301, 8)).astype("float32")
    data = zoo.data.load(x, (x[:, 1] > 0).astype(int), batch_size=64)
else:  # one grey level per file
    data = zoo.data.load(os.path.join(out, "ids"), batch_size=16, test_split=0.0)
if source == "fine_tune":  # 6x6 images resized to the checkpoint's 8x8 in the pipeline
    result = zoo.transfer.fine_tune(demo.CHECKPOINT, data, epochs=1,
                                    fine_tune_epochs=1, cache_features=False,
                                    strategy=strategy, output=model, verbose=2)
    card = zoo.load_card(result.path)["fine_tuning"]["stages"] if result.path else []
    shardings = [stage["sharding"] for stage in card]
else:
    result = zoo.train("mlp_tiny", data, epochs=2, strategy=strategy, early_stopping=None,
                       output=model, verbose=2)
    shardings = [zoo.load_card(result.path)["training"]["sharding"]] if result.path else []
weights = np.concatenate([w.ravel() for w in result.model.get_weights()])
np.save(os.path.join(out, f"weights_{index}.npy"), weights)
with open(os.path.join(out, f"worker_{index}.json"), "w") as f:
    json.dump({"seen": seen, "train": data.sizes["train"], "sharding": shardings}, f)
print("ACCURACY", result.metrics["accuracy"])
"""


@pytest.mark.parametrize("source", ["arrays", "folder", "fine_tune"])
def test_two_workers_on_loopback_share_each_example_once(tmp_path, capfd, source):
    import json

    from PIL import Image

    for name in ("a", "b"):  # 40 files, one grey level each
        (tmp_path / "ids" / name).mkdir(parents=True)
        for i in range(20):
            level = (i + 20 * (name == "b")) * 3
            Image.fromarray(np.full((6, 6), level, np.uint8)).save(
                tmp_path / "ids" / name / f"{i}.png"
            )
    script = _script(tmp_path, MULTIWORKER)
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    command = [sys.executable, str(script), str(tmp_path), source]
    code = distribute.launch(command, workers=2, timeout=400)
    out = capfd.readouterr().out
    assert code == 0, out[-3000:]
    first, second = (np.load(tmp_path / f"weights_{i}.npy") for i in (0, 1))
    np.testing.assert_allclose(first, second, atol=1e-6)
    assert "[worker 0] ACCURACY" in out and "[worker 1] ACCURACY" in out
    chief, worker = (json.loads((tmp_path / f"worker_{i}.json").read_text()) for i in (0, 1))
    # What the workers trained on: each training example once per epoch (2 epochs or
    # stages), split between them.
    train = chief["train"]
    assert len(chief["seen"]) + len(worker["seen"]) == 2 * train
    for epoch in (0, 1):
        mine, theirs = (
            seen[epoch * len(seen) // 2 : (epoch + 1) * len(seen) // 2]
            for seen in (chief["seen"], worker["seen"])
        )
        assert mine and theirs and len(set(mine + theirs)) == len(mine + theirs) == train
    expected = {"arrays": ["data"], "folder": ["file"], "fine_tune": ["file", "file"]}
    assert chief["sharding"] == expected[source]


CALLBACKS = """
import json, os, signal, sys
import keras, zoo
strategy = zoo.distribute.strategy("multiworker")  # before any other TensorFlow work
out, index, mode = sys.argv[1], os.environ["ZOO_WORKER_INDEX"], sys.argv[2]

class Count(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.epochs = []

    def on_epoch_begin(self, epoch, logs=None):
        if mode == "kill" and index == "1" and epoch == 2:
            os.kill(os.getpid(), signal.SIGKILL)

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append(epoch)

count = Count()
csv = keras.callbacks.CSVLogger(os.path.join(out, f"{mode}_{index}.csv"))
result = zoo.train("mlp_tiny", "digits", epochs=int(sys.argv[3]), strategy=strategy,
                   early_stopping=int(sys.argv[4]) or None, callbacks=[count, csv],
                   output=os.path.join(out, "model"), verbose=0, resume=mode == "resume")
card = zoo.load_card(result.path) if result.path else {}
with open(os.path.join(out, f"{mode}_{index}.json"), "w") as f:
    json.dump({"epochs": count.epochs, "saved": result.path is not None,
               "initial": card.get("training", {}).get("initial_epoch")}, f)
"""


def _launch_callbacks(tmp_path, mode, epochs, patience):
    import json

    script = _script(tmp_path, CALLBACKS)
    code = distribute.launch(
        [sys.executable, str(script), str(tmp_path), mode, str(epochs), str(patience)],
        workers=2,
        timeout=300,
        grace=5,
    )
    results = []
    for index in (0, 1):
        path = tmp_path / f"{mode}_{index}.json"
        results.append(json.loads(path.read_text()) if path.exists() else None)
    return code, results


def test_multiworker_honours_user_callbacks_checkpoints_and_tensorboard(tmp_path):
    code, (chief, worker) = _launch_callbacks(tmp_path, "plain", epochs=3, patience=2)
    assert code == 0
    # A user callback runs on every worker, through Keras's CallbackList.
    assert chief["epochs"] == worker["epochs"] == [0, 1, 2]
    for index in (0, 1):
        rows = (tmp_path / f"plain_{index}.csv").read_text().splitlines()
        assert rows[0].split(",")[:2] == ["epoch", "loss"] and len(rows) == 4
    # Only the chief saves the model, the best checkpoint and TensorBoard logs.
    assert chief["saved"] and not worker["saved"]
    run_dir = tmp_path / ".runs" / "model"
    assert (run_dir / "best.weights.h5").is_file()
    assert any((run_dir / "logs").rglob("events.out.tfevents.*"))


def test_multiworker_resumes_after_a_worker_is_killed(tmp_path):
    code, _ = _launch_callbacks(tmp_path, "kill", epochs=5, patience=0)
    assert code == 137  # worker 1 was killed with SIGKILL at the start of epoch 3
    code, (chief, worker) = _launch_callbacks(tmp_path, "resume", epochs=5, patience=0)
    assert code == 0
    # Both workers restore the chief's last state and run only the epochs left.
    assert chief["epochs"] == worker["epochs"] and chief["epochs"][-1] == 4
    assert chief["epochs"][0] == chief["initial"] > 0
    assert not (tmp_path / ".runs" / "model" / "backup").exists()  # cleared once finished


KILLED = """
import os, signal, threading, zoo
if os.environ["ZOO_WORKER_INDEX"] == "1":
    threading.Timer(15, lambda: os.kill(os.getpid(), signal.SIGKILL)).start()
zoo.train("mlp", "digits", epochs=10_000, strategy="multiworker", early_stopping=None,
          save=False, verbose=0)
"""


def test_killed_worker_stops_the_run_in_bounded_time(tmp_path, capfd):
    script = _script(tmp_path, KILLED)
    start = time.monotonic()
    code = distribute.launch([sys.executable, str(script)], workers=2, timeout=300, grace=5)
    elapsed = time.monotonic() - start
    err = capfd.readouterr().err
    assert code == 137  # 128 + SIGKILL
    assert "worker 1 failed first: it was killed by SIGKILL (signal 9)" in err
    assert elapsed < 90


def test_launch_validates_arguments():
    with pytest.raises(ArgumentValueError):
        distribute.launch([], workers=2)
    with pytest.raises(ArgumentValueError):
        distribute.launch(["true"], workers=0)


def test_launch_failing_worker_returns_its_code(tmp_path):
    code = distribute.launch(
        [
            sys.executable,
            "-c",
            "import os, sys; sys.exit(3 if os.environ['ZOO_WORKER_INDEX'] == '1' else 0)",
        ],
        workers=2,
        timeout=60,
    )
    assert code == 3


def test_zoo_is_importable_without_side_effects():
    assert callable(zoo.train) and callable(zoo.distribute.launch)


def test_worker_whose_peer_never_starts_exits_in_bounded_time(tmp_path):
    import json

    from zoo._processes import free_ports

    ports = free_ports(2)
    tf_config = {
        "cluster": {"worker": [f"127.0.0.1:{port}" for port in ports]},
        "task": {"type": "worker", "index": 0},
    }
    env = {**_env(tmp_path), "TF_CONFIG": json.dumps(tf_config), "ZOO_WORKER_START_TIMEOUT": "8"}
    start = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", "import zoo; zoo.distribute.strategy('multiworker')"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode != 0
    assert "within 8 s" in result.stderr and "Timeout" in result.stderr
    assert time.monotonic() - start < 60


def test_slurm_allocation_becomes_tf_config(tmp_path, monkeypatch):
    scontrol = tmp_path / "scontrol"
    scontrol.write_text("#!/bin/sh\nprintf 'node1\\nnode2\\n'\n")
    scontrol.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    for key, value in {
        "SLURM_JOB_ID": "42",
        "SLURM_PROCID": "1",
        "SLURM_NTASKS": "2",
        "SLURM_STEP_NUM_TASKS": "2",
        "SLURM_JOB_NODELIST": "node[1-2]",
        "SLURM_STEP_NODELIST": "node[1-2]",
        "SLURM_STEP_TASKS_PER_NODE": "1(x2)",
        "SLURM_TASKS_PER_NODE": "1(x2)",
    }.items():
        monkeypatch.setenv(key, value)
    config = distribute.cluster_from_slurm(port=23456)
    assert config["task"] == {"type": "worker", "index": 1}
    assert config["cluster"]["worker"] == ["node1:23456", "node2:23456"]


def test_even_first_batch_gives_every_replica_a_share():
    import types

    import numpy as np
    import tensorflow as tf

    two = types.SimpleNamespace(num_replicas_in_sync=2)
    x = np.arange(23, dtype="float32")
    dataset = tf.data.Dataset.from_tensor_slices((x, x)).batch(11)
    sizes = [len(b[0]) for b in distribute.even_first_batch(dataset, two)]
    assert sizes == [8, 3, 11, 1]  # every replica gets examples of the first batch
    values = np.concatenate([b[0] for b in distribute.even_first_batch(dataset, two)])
    np.testing.assert_array_equal(values, x)  # nothing lost or reordered
    shuffled = tf.data.Dataset.from_tensor_slices(x).shuffle(23, seed=1).batch(11)
    for _ in range(2):  # every epoch reshuffles, and still yields each example once
        values = np.concatenate(list(distribute.even_first_batch(shuffled, two)))
        np.testing.assert_array_equal(np.sort(values), x)
    assert distribute.even_first_batch(dataset, two, first_batch=12) is dataset
    assert distribute.even_first_batch(dataset, types.SimpleNamespace(num_replicas_in_sync=1)) is (
        dataset
    )
    assert distribute.even_first_batch(None, two) is None
    single = tf.data.Dataset.from_tensor_slices(x[:1]).batch(4)
    assert [len(b) for b in distribute.even_first_batch(single, two)] == [1]
    three = tf.data.Dataset.from_tensor_slices(x[:3]).batch(4)  # too few to share out
    assert [len(b) for b in distribute.even_first_batch(three, two)] == [2, 1]
    four = types.SimpleNamespace(num_replicas_in_sync=4)
    ten = tf.data.Dataset.from_tensor_slices(x[:10]).batch(16)
    assert [len(b) for b in distribute.even_first_batch(ten, four)] == [4, 6]


UNEVEN = """
import numpy as np, zoo
zoo.distribute.logical_cpus(2)
x = np.random.default_rng(0).normal(size=(51, 8)).astype("float32")
# 46 training examples in batches of 12 and a validation split of 5: the validation
# split's first batch cannot be shared by 2 replicas (Keras 3.15 fails on it).
data = zoo.data.load(x, np.arange(51) % 2, batch_size=12, test_split=0.0, validation_split=0.1)
result = zoo.train("mlp", data, epochs=2, strategy="mirrored", save=False, verbose=0,
                   early_stopping=None)
print("REPLICAS", result.strategy["replicas"], data.sizes["validation"])
"""


def test_mirrored_trains_when_a_first_batch_is_uneven(tmp_path):
    result = subprocess.run(
        [sys.executable, str(_script(tmp_path, UNEVEN))],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "REPLICAS 2 5" in result.stdout


def test_compile_settings_and_policy_helpers():
    single = distribute.strategy("cpu")
    assert distribute.compile_settings(single, True, 4) == {
        "jit_compile": True,
        "steps_per_execution": 4,
    }
    with pytest.raises(ArgumentValueError, match="jit_compile"):
        distribute.compile_settings(single, "always")
    with pytest.raises(ArgumentValueError, match="steps_per_execution"):
        distribute.compile_settings(single, "auto", 0)
    with pytest.raises(ArgumentValueError, match="count"):
        distribute.logical_cpus(0)
    import keras

    before = keras.config.dtype_policy().name
    with distribute.dtype_policy("mixed_bfloat16"):
        assert keras.config.dtype_policy().name == "mixed_bfloat16"
    assert keras.config.dtype_policy().name == before


def test_release_traced_gradients_drops_only_what_training_registered():
    import keras
    from tensorflow.python.framework import ops

    registry = ops._gradient_registry._registry
    x = np.random.default_rng(0).random((32, 4)).astype("float32")
    y = (x.sum(axis=1) > 2).astype("int32")
    kept = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    kept.compile("adam", "sparse_categorical_crossentropy")
    kept.fit(x, y, epochs=1, verbose=0)  # registered before: left alone
    before = set(registry)
    release = distribute.release_traced_gradients()
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, verbose=0)
    added = set(registry) - before
    assert added and all(key.startswith("CustomGradient-") for key in added)
    assert release() == len(added)
    assert set(registry) == before
    # The traced steps keep working: their gradients were built when they were traced.
    history = model.fit(x, y, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert np.isfinite(kept.fit(x, y, epochs=1, verbose=0).history["loss"]).all()


@pytest.mark.parametrize(
    ("capability", "policy"),
    [
        ((8, 0), "mixed_bfloat16"),
        ((9, 0), "mixed_bfloat16"),
        ((7, 5), "mixed_float16"),
        (None, "mixed_float16"),
    ],
)
def test_auto_precision_on_gpus_follows_compute_capability(monkeypatch, capability, policy):
    monkeypatch.setattr(distribute, "device_kind", lambda strat: "gpu")
    monkeypatch.setattr(distribute, "gpu_compute_capability", lambda strat=None: capability)
    assert distribute.mixed_precision("auto", object()) == policy
    monkeypatch.setattr(distribute, "device_kind", lambda strat: "tpu")
    assert distribute.mixed_precision("auto", object()) == "mixed_bfloat16"


def test_no_gpu_has_no_compute_capability():
    assert distribute.gpu_compute_capability() is None


def test_describe_names_the_backend():
    assert distribute.describe(distribute.strategy("auto"))["backend"] == "tensorflow"


def test_jax_padding_keeps_every_example_once():
    import numpy as np
    import tensorflow as tf

    from zoo import distribute_jax

    class TwoDevices:
        backend, num_replicas_in_sync = "jax", 2

    data = tf.data.Dataset.from_tensor_slices((np.arange(7.0), np.arange(7))).batch(4)
    batches = list(distribute_jax.even_batches(data, TwoDevices()).as_numpy_iterator())
    assert [len(x) for x, _, _ in batches] == [4, 4]  # 4 + 3, the 3 padded to 4
    weights = np.concatenate([w for _, _, w in batches])
    assert weights.tolist() == [1, 1, 1, 1, 1, 1, 1, 0]
    grown, size = distribute_jax.padded(np.arange(5), 2)
    assert size == 5 and grown.tolist() == [0, 1, 2, 3, 4, 4]


def test_jax_padding_weights_broadcast_against_image_targets():
    # An autoencoder's loss is per pixel, (batch, h, w): the weights must broadcast.
    import numpy as np
    import tensorflow as tf

    from zoo import distribute_jax

    class TwoDevices:
        backend, num_replicas_in_sync = "jax", 2

    images = np.zeros((3, 8, 8, 1), "float32")
    data = tf.data.Dataset.from_tensor_slices((images, images)).batch(3)
    ((x, y, weights),) = distribute_jax.even_batches(data, TwoDevices()).as_numpy_iterator()
    assert x.shape == y.shape == (4, 8, 8, 1) and weights.shape == (4, 1, 1)
    import keras

    loss = keras.losses.BinaryCrossentropy()(y, np.full_like(y, 0.5), sample_weight=weights)
    assert np.isfinite(float(loss))
    # A language model's targets are class ids per step: its loss is (batch, steps).
    steps = np.zeros((3, 5), "int32")
    data = tf.data.Dataset.from_tensor_slices((steps, steps)).batch(3)
    ((_, _, weights),) = distribute_jax.even_batches(data, TwoDevices()).as_numpy_iterator()
    assert weights.shape == (4, 1) and weights[:, 0].tolist() == [1, 1, 1, 0]
