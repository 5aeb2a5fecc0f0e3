"""zoo.tune: spaces, algorithms, trials tables, failures, resume after kill -9."""

import json
import os
import signal
import subprocess
import sys
import textwrap

import keras_tuner
import numpy as np
import pandas as pd
import pytest

import zoo
from zoo._validation import ArgumentTypeError, ArgumentValueError
from zoo.tuning import space as spaces

SMALL = {
    "units": [(8,), (16, 8)],
    "dropout": {"min": 0.0, "max": 0.2, "step": 0.1},
    "batch_norm": None,
    "activation": None,
    "learning_rate": {"min": 1e-3, "max": 1e-2, "sampling": "log"},
}


@pytest.fixture(scope="module")
def digits():
    return zoo.data.load("digits", batch_size=64)


def test_spaces_become_hyperparameters_and_back():
    space = {
        "units": [(8,), (16, 8)],
        "batch_norm": [False, True],
        "activation": ["relu", "gelu"],
        "convs": {"min": 1, "max": 3},
        "dropout": {"min": 0.0, "max": 0.5, "step": 0.1},
        "learning_rate": {"min": 1e-4, "max": 1e-2, "sampling": "log"},
        "filters": (32, 64),
        "pooling": "max",
    }
    hp = keras_tuner.HyperParameters()
    values = spaces.sample(hp, space)
    assert values["units"] in [(8,), (16, 8)] and isinstance(values["batch_norm"], bool)
    assert isinstance(values["convs"], int) and isinstance(values["dropout"], float)
    assert values["filters"] == (32, 64) and values["pooling"] == "max"
    assert hp.values["units"] in ("(8,)", "(16, 8)")
    assert spaces.decode(space, {"units": "(16, 8)"})["units"] == (16, 8)
    table = spaces.describe(space)
    assert list(table["name"]) == list(space)
    assert table.set_index("name").loc["learning_rate", "sampling"] == "log"
    assert table.set_index("name").loc["learning_rate", "fit"]
    assert spaces.merge({"a": 1, "b": [1, 2]}, {"b": None, "c": 3}) == {"a": 1, "c": 3}


def test_every_family_declares_a_valid_default_space():
    for name in zoo.registry.names():
        entry = zoo.registry.get_entry(name)
        assert entry.search_space, f"{name} has no default search space"
        spaces.check(entry.search_space, entry.parameters)
        spaces.sample(keras_tuner.HyperParameters(), entry.search_space)
    assert "learning_rate" in set(zoo.tuning.search_space("resnet_50")["name"])


@pytest.mark.parametrize(
    ("space", "error", "text"),
    [
        ({"unitz": [(8,)]}, ArgumentValueError, "'units'"),
        ({"units": []}, ArgumentValueError, "non-empty"),
        ({"units": [(8,), (8,)]}, ArgumentValueError, "distinct"),
        ({"dropout": {"min": 0.5, "max": 0.1}}, ArgumentValueError, "min < max"),
        ({"dropout": {"low": 0.0, "max": 0.1}}, ArgumentValueError, "'min' and 'max'"),
        ({"learning_rate": {"min": 0, "max": 1, "sampling": "log"}}, ArgumentValueError, "min > 0"),
        ({"dropout": {"min": 0, "max": 1, "sampling": "exp"}}, ArgumentValueError, "sampling"),
        ({"optimizer": ["adam", "lion"]}, ArgumentValueError, "optimizer"),
        ({"batch_size": [0, 32]}, ArgumentValueError, "batch_size"),
        ({"num_classes": [2, 3]}, ArgumentValueError, "left to zoo"),
        ("units", ArgumentTypeError, "space"),
    ],
)
def test_bad_spaces_fail_before_any_trial(space, error, text, digits, tmp_path):
    with pytest.raises(error, match=text):
        zoo.tune("mlp", digits, space=space, directory=tmp_path, max_trials=1, epochs=1)
    assert not any(tmp_path.iterdir())


def test_bad_settings(digits, tmp_path):
    common = {"directory": tmp_path, "epochs": 1, "max_trials": 1}
    for kwargs, error, text in [
        ({"algorithm": "evolution"}, ArgumentValueError, "algorithm"),
        ({"objective": "val_acuracy"}, ArgumentValueError, "val_accuracy"),
        ({"direction": "up"}, ArgumentValueError, "direction"),
        ({"max_trials": 0}, ArgumentValueError, "max_trials"),
        ({"algorithm": "hyperband", "space": {"epochs": [1, 2]}}, ArgumentValueError, "epochs"),
        ({"strategy": "multiworker"}, ArgumentValueError, "trials run side by side|workers=N"),
    ]:
        with pytest.raises(error, match=text):
            zoo.tune("mlp", digits, **{**common, **kwargs})
    with pytest.raises(ArgumentValueError, match="mlp"):
        zoo.tune("mpl", digits, **common)
    with pytest.raises(ArgumentTypeError, match="name_or_builder"):
        zoo.tune(42, digits, **common)


@pytest.mark.once
def test_progress_lines_number_trials_as_the_table_and_file_urls_are_local_folders(
    digits, tmp_path, monkeypatch, capsys
):
    import re

    monkeypatch.chdir(tmp_path)
    result = zoo.tune(
        "mlp",
        digits,
        space=SMALL,
        max_trials=2,
        epochs=1,
        directory=f"file://{tmp_path}/my%20search",
        save=False,
        verbose=1,
    )
    printed = [int(n) for n in re.findall(r"zoo tune: trial (\d+):", capsys.readouterr().out)]
    assert printed == list(result.trials["trial"]) == [0, 1]
    assert result.directory.parent == tmp_path / "my search"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["my search"]  # no folder "file:"


def test_directory_urls_a_file_system_cannot_take_are_refused(digits, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for directory, text in [
        ("foo://bucket/tuning", "not foo://"),
        ("file://server/share/tuning", "a file:// URL of a folder on this machine"),
    ]:
        with pytest.raises(ArgumentValueError, match=f"{text}.*Received: directory='{directory}'"):
            zoo.tune("mlp", digits, directory=directory, max_trials=1, epochs=1)
    assert not any(tmp_path.iterdir())


def test_random_search_gives_a_table_the_best_model_and_a_card(digits, tmp_path):
    result = zoo.tune(
        "mlp",
        digits,
        space=SMALL,
        max_trials=3,
        epochs=2,
        directory=tmp_path / "search",
        output=tmp_path / "best",
        verbose=0,
    )
    trials = result.trials
    assert list(trials["trial"]) == [0, 1, 2]
    assert (trials["status"] == "COMPLETED").all()
    assert {"score", "best_epoch", "seconds", "units", "dropout", "learning_rate"} <= set(trials)
    assert trials["seconds"].gt(0).all() and trials["error"].isna().all()
    best = trials.loc[trials["score"].idxmax()]
    assert result.best_hyperparameters["units"] in [(8,), (16, 8)]
    assert result.best_hyperparameters["dropout"] == pytest.approx(best["dropout"])
    assert result.objective == "val_accuracy" and result.direction == "max"
    on_disk = pd.read_csv(result.directory / "trials.csv")
    assert list(on_disk["trial"]) == [0, 1, 2]
    card = zoo.load_card(result.path)
    assert card["search"]["algorithm"] == "random" and card["search"]["trials"] == 3
    assert card["search"]["best_hyperparameters"]["units"] == repr(
        result.best_hyperparameters["units"]
    )
    loaded = zoo.load(result.path)
    x = next(iter(digits.test))[0]
    np.testing.assert_allclose(loaded.predict(x, verbose=0), result.model.predict(x, verbose=0))
    assert result.plot().axes[0].get_ylabel() == "val_accuracy"
    assert (result.path / "tuning.png").stat().st_size > 1000


@pytest.mark.once
def test_failed_trials_are_recorded_and_the_search_goes_on(digits, tmp_path):
    import keras

    def build(hp):  # a huge initial kernel makes the loss NaN at once
        scale = hp.Choice("init", [0.05, 1e38])
        return keras.Sequential(
            [
                keras.Input((8, 8, 1)),
                keras.layers.Flatten(),
                keras.layers.Dense(
                    10,
                    activation="softmax",
                    kernel_initializer=keras.initializers.RandomNormal(stddev=scale),
                ),
            ]
        )

    result = zoo.tune(
        build, digits, algorithm="grid", epochs=1, directory=tmp_path, save=False, verbose=0
    )
    trials = result.trials.set_index("init")
    assert trials.loc[0.05, "status"] == "COMPLETED"
    assert trials.loc[1e38, "status"] == "FAILED"
    assert "loss became nan" in trials.loc[1e38, "error"].lower()
    assert result.best_hyperparameters["init"] == 0.05
    # An invalid combination (a builder argument the builder rejects) fails the same way.
    result = zoo.tune(
        "mlp",
        digits,
        space={**SMALL, "units": [(8,), (0,)], "dropout": 0.0, "learning_rate": 1e-2},
        algorithm="grid",
        epochs=1,
        directory=tmp_path,
        save=False,
        verbose=0,
    )
    trials = result.trials.set_index("units")
    assert trials.loc["(8,)", "status"] == "COMPLETED"
    assert trials.loc["(0,)", "status"] == "FAILED"
    assert "units" in trials.loc["(0,)", "error"]


@pytest.mark.once
@pytest.mark.parametrize("algorithm", ["grid", "bayesian", "hyperband"])
def test_other_algorithms(algorithm, digits, tmp_path):
    space = {**SMALL, "dropout": 0.0, "learning_rate": [1e-3, 1e-2]}
    result = zoo.tune(
        "mlp",
        digits,
        space=space,
        algorithm=algorithm,
        max_trials=3,
        epochs=3 if algorithm == "hyperband" else 1,
        objective="val_loss",
        directory=tmp_path,
        save=False,
        verbose=0,
    )
    assert result.direction == "min"
    assert (result.trials["status"] == "COMPLETED").sum() >= 2
    best = result.trials.loc[result.trials["score"].idxmin()]
    assert result.best_hyperparameters["learning_rate"] == best["learning_rate"]


def test_generative_families_search_their_own_objectives(digits, tmp_path):
    options = {"max_trials": 2, "epochs": 1, "directory": tmp_path, "verbose": 0}
    gan = zoo.tune("dcgan_tiny", digits, save=False, **options)
    assert (gan.objective, gan.direction) == ("val_mmd", "min")  # kernel MMD, held out
    assert (gan.trials.status == "COMPLETED").all() and "mmd" in gan.metrics
    vae = zoo.tune("vae_tiny", digits, output=tmp_path / "vae", **options)
    assert vae.objective == "val_loss" and "kl_loss" in vae.metrics
    assert json.loads((vae.path / "zoo.json").read_text())["search"]["task"] == "autoencoder"
    small = {"width": [16], "num_layers": [1], "num_heads": [2], "dropout": None}
    gpt = zoo.tune(
        "gpt_tiny",
        "zen",
        space=small,
        load_options={"sequence_length": 16},
        save=False,
        **{**options, "max_trials": 1},
    )
    assert gpt.objective == "val_loss" and "perplexity" in gpt.metrics
    unvalidated = zoo.data.load("digits", validation_split=0.0)
    with pytest.raises(ArgumentValueError, match="mmd only on validation"):
        zoo.tune("dcgan_tiny", unvalidated, save=False, **options)


def test_a_builder_that_takes_hp(digits, tmp_path):
    import keras

    def build(hp):
        return keras.Sequential(
            [
                keras.Input((8, 8, 1)),
                keras.layers.Flatten(),
                keras.layers.Dense(hp.Choice("width", [8, 16]), activation="relu"),
                keras.layers.Dense(10, activation="softmax"),
            ]
        )

    result = zoo.tune(
        build,
        digits,
        space={"learning_rate": [1e-2]},
        max_trials=2,
        epochs=1,
        directory=tmp_path,
        save=False,
        verbose=0,
    )
    assert set(result.trials["width"]) <= {8, 16}
    assert result.directory.name == f"build-{digits.fingerprint[:8]}"


KILLED = """
import glob, os, signal, sys
import keras, zoo

class KillInSecondTrial(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        trials = glob.glob(sys.argv[1] + "/mlp-*/trial_*")
        if len(trials) >= 2 and epoch == 0:
            os.kill(os.getpid(), signal.SIGKILL)

import zoo.tuning.search as search
original = search._hypermodel
def patched(*args, **kwargs):
    model = original(*args, **kwargs)
    fit = model.fit
    def killing_fit(hp, m, *a, **k):
        k["callbacks"] = [*k.get("callbacks", []), KillInSecondTrial()]
        return fit(hp, m, *a, **k)
    model.fit = killing_fit
    return model
search._hypermodel = patched if sys.argv[2] == "kill" else original
result = zoo.tune("mlp", "digits", space=SPACE, max_trials=3, epochs=2, directory=sys.argv[1],
                  save=False, verbose=0)
print("TRIALS", result.trials[["trial", "status", "score"]].to_json(orient="records"))
""".replace("SPACE", repr(SMALL))


@pytest.mark.once
def test_a_search_killed_mid_trial_resumes_with_the_same_call(tmp_path):
    script = tmp_path / "search.py"
    script.write_text(textwrap.dedent(KILLED))
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    run = [sys.executable, str(script), str(tmp_path / "tuning")]
    killed = subprocess.run([*run, "kill"], capture_output=True, text=True, env=env, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    (folder,) = (tmp_path / "tuning").glob("mlp-*")  # mlp-<data fingerprint>
    first = pd.read_csv(folder / "trials.csv")
    assert list(first["status"]) == ["COMPLETED"]
    resumed = subprocess.run([*run, "resume"], capture_output=True, text=True, env=env, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    line = next(x for x in resumed.stdout.splitlines() if x.startswith("TRIALS"))
    trials = json.loads(line.split(" ", 1)[1])
    assert [t["status"] for t in trials] == ["COMPLETED"] * 3
    assert trials[0]["score"] == pytest.approx(first["score"][0])  # kept, not re-run


def test_command_line_search_prints_trials_and_resumes(tmp_path, capsys):
    from zoo import cli

    arguments = [
        "tune",
        "mlp",
        "--data",
        "digits",
        "--max-trials",
        "2",
        "--epochs",
        "1",
        "--space",
        "units=[(8,), (16,)]",
        "--space",
        "batch_norm=None",
        "--space",
        "activation=None",
        "--directory",
        str(tmp_path / "search"),
        "--output",
        str(tmp_path / "best"),
    ]
    assert cli.main(arguments) == 0
    out = capsys.readouterr().out
    assert "zoo tune: trial 0:" in out and "zoo tune: trial 1:" in out  # the table's ids
    assert "best val_accuracy" in out and (tmp_path / "best" / "trials.csv").is_file()
    assert cli.main([*arguments[:5], "3", *arguments[6:]]) == 0  # resumes: one more trial
    out = capsys.readouterr().out
    assert "zoo tune: trial 2:" in out and "zoo tune: trial 0:" not in out
    assert cli.main(["tune", "mlp", "--data", "digits", "--space", "unitz=[(8,)]"]) == 2
    assert "units" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:  # refused by the parser, before any work
        cli.main(["tune", "mlp", "--data", "digits", "--workers", "-1"])
    assert exit_info.value.code == 2
    assert "--workers: must be an integer >= 0" in capsys.readouterr().err


MIRRORED = """
import json, sys
import zoo
zoo.distribute.logical_cpus(2)
data = zoo.data.load("digits", batch_size=33, validation_split=0.05)  # uneven first batches
result = zoo.tune("mlp", data, space=SPACE, max_trials=2, epochs=1, strategy="mirrored",
                  directory=sys.argv[1] + "/search", output=sys.argv[1] + "/best", verbose=0)
card = zoo.load_card(result.path)
print("RESULT", json.dumps({"replicas": card["search"]["replicas"],
                            "statuses": list(result.trials["status"])}))
""".replace("SPACE", repr(SMALL))


def test_trials_build_and_train_under_mirrored_strategy(tmp_path):
    script = tmp_path / "mirrored.py"
    script.write_text(MIRRORED)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT"))
    result = json.loads(line.split(" ", 1)[1])
    assert result == {"replicas": 2, "statuses": ["COMPLETED", "COMPLETED"]}


DISTRIBUTED = """
import sys
import zoo
result = zoo.tune("mlp", "digits", space=SPACE, max_trials=4, epochs=EPOCHS, workers=2,
                  trials_per_process=PER_PROCESS, directory=sys.argv[1], save=False,
                  load_options={"batch_size": 64})
print("TRIALS", result.trials[["trial", "status"]].to_json(orient="records"))
""".replace("SPACE", repr(SMALL))


def _distributed(tmp_path, epochs, per_process):
    script = tmp_path / "distributed.py"
    script.write_text(
        DISTRIBUTED.replace("EPOCHS", str(epochs)).replace("PER_PROCESS", str(per_process))
    )
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, str(script), str(tmp_path / "search")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )


def _trials(output):
    line = next(x for x in output.splitlines() if x.startswith("TRIALS"))
    return json.loads(line.split(" ", 1)[1])


def test_two_workers_on_loopback_share_the_trials_and_the_chief_exits(tmp_path):
    process = _distributed(tmp_path, epochs=1, per_process=1)  # every worker recycles
    output, _ = process.communicate(timeout=600)
    assert process.returncode == 0, output[-3000:]
    assert [t["status"] for t in _trials(output)] == ["COMPLETED"] * 4
    assert "[tuner0] zoo tune: trial" in output and "[tuner1] zoo tune: trial" in output
    assert "restarting" not in output  # recycling a worker is not a failure
    (folder,) = (tmp_path / "search").iterdir()  # the chief and its workers share one
    assert folder.name.startswith("mlp-") and (folder / "zoo_search.json").is_file()
    assert len(list(folder.glob("trial_*"))) == 4


@pytest.mark.once
def test_a_killed_worker_is_restarted_and_the_search_completes(tmp_path):
    import time

    import psutil

    process = _distributed(tmp_path, epochs=4, per_process=10)
    search = tmp_path / "search"
    deadline = time.monotonic() + 300
    victim = None
    while victim is None and time.monotonic() < deadline:
        time.sleep(0.5)
        if not any(search.glob("mlp-*/trial_*")):
            continue
        for child in psutil.Process(process.pid).children(recursive=True):
            try:
                if child.environ().get("KERASTUNER_TUNER_ID") == "tuner0":
                    victim = child
            except psutil.Error:
                continue
    assert victim is not None, "no worker tuner0 found"
    victim.kill()  # SIGKILL, mid-trial
    output, _ = process.communicate(timeout=600)
    assert process.returncode == 0, output[-3000:]
    assert "worker tuner0 exited with code -9; restarting it" in output
    assert [t["status"] for t in _trials(output)] == ["COMPLETED"] * 4


def test_grid_hands_parallel_workers_distinct_combinations(tmp_path):
    from zoo.tuning.grid import GridOracle

    def oracle(kind, name):
        hp = keras_tuner.HyperParameters()
        hp.Choice("a", [1, 2])
        hp.Choice("b", ["x", "y"])
        made = kind(objective="val_loss", max_trials=10, hyperparameters=hp)
        made._set_project_dir(str(tmp_path), name)
        return made

    # Keras Tuner's own grid oracle derives combinations from finished trials, so a
    # third worker waits while two trials run (the reason zoo has its own).
    upstream = oracle(keras_tuner.oracles.GridSearchOracle, "upstream")
    statuses = [str(upstream.create_trial(f"tuner{i}").status) for i in range(3)]
    assert statuses == ["RUNNING", "RUNNING", "IDLE"]

    grid = oracle(GridOracle, "zoo")
    trials = [grid.create_trial(f"tuner{i}") for i in range(4)]  # none has ended
    assert [str(t.status) for t in trials] == ["RUNNING"] * 4
    values = [(t.hyperparameters.values["a"], t.hyperparameters.values["b"]) for t in trials]
    assert values == [(1, "x"), (1, "y"), (2, "x"), (2, "y")]  # Keras Tuner's order
    assert str(grid.create_trial("tuner4").status) == "STOPPED"


@pytest.mark.tensorflow_only(
    "TensorFlow's registry of traced gradient functions (release_traced_gradients)"
)
def test_trials_leave_no_traced_graphs_behind(digits, tmp_path):
    from tensorflow.python.framework import ops

    def registered():
        return sum(k.startswith("CustomGradient-") for k in ops._gradient_registry._registry)

    before = registered()
    zoo.tune(
        "mlp",
        digits,
        space=SMALL,
        max_trials=2,
        epochs=1,
        directory=tmp_path,
        save=False,
        verbose=0,
    )
    assert registered() == before


@pytest.fixture
def pictures():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(48, 32, 32, 3)).astype("float32")
    y = np.arange(48) % 2
    x[y == 1, :, :16] = 255.0  # a visible difference between the classes
    return zoo.data.load(x, y, batch_size=16)


@pytest.mark.once
def test_transfer_backbone_is_itself_a_choice(pictures, tmp_path):
    table = zoo.tuning.search_space("image_classifier")
    assert "backbone" in set(table["name"])
    result = zoo.tune(
        "image_classifier",
        pictures,
        space={
            "backbone": ["mobilenet_v3_small", "mobilenet_v2"],
            "weights": [None],  # offline: random weights stand in for ImageNet's (None drops)
            "dropout": 0.0,
            "learning_rate": 1e-3,
        },
        algorithm="grid",
        max_trials=4,
        epochs=1,
        directory=tmp_path / "search",
        output=tmp_path / "best",
        verbose=0,
    )
    trials = result.trials
    assert (trials["status"] == "COMPLETED").all()
    assert set(trials["backbone"]) == {"mobilenet_v3_small", "mobilenet_v2"}
    assert len(trials) == 4  # 2 backbones x 2 poolings, the default space's choice
    assert result.best_hyperparameters["backbone"] in {"mobilenet_v3_small", "mobilenet_v2"}
    card = zoo.load_card(result.path)
    assert (
        card["search"]["best_hyperparameters"]["backbone"]
        == result.best_hyperparameters["backbone"]
    )
    x = next(iter(pictures.test))[0]
    loaded = zoo.load(result.path)
    np.testing.assert_allclose(
        loaded.predict(x, verbose=0), result.model.predict(x, verbose=0), atol=1e-5
    )


def test_transfer_backbones_without_weights_offline_fail_before_any_trial(
    pictures, tmp_path, monkeypatch
):
    monkeypatch.setenv("ZOO_OFFLINE", "1")
    monkeypatch.setenv("ZOO_WEIGHTS_DIR", str(tmp_path / "weights"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    with pytest.raises(ArgumentValueError, match=r"efficientnetb0_notop\.h5") as error:
        zoo.tune("image_classifier", pictures, max_trials=1, epochs=1, directory=tmp_path)
    assert "'weights': [None]" in str(error.value)
    assert not list(tmp_path.glob("image_classifier*"))
    with pytest.raises(ArgumentValueError, match="image_classifier"):
        zoo.tune("image_clasifier", pictures, directory=tmp_path)


@pytest.mark.once
def test_a_remote_directory_is_mirrored_and_resumes(digits, tmp_path, monkeypatch):
    import tensorflow as tf

    monkeypatch.chdir(tmp_path)  # the local copy lives under ./saved_models
    remote = "ram://zoo-tests/tuning"
    common = dict(space=SMALL, epochs=1, directory=remote, save=False, verbose=0)
    first = zoo.tune("mlp", digits, max_trials=2, **common)
    project = f"{remote}/{first.directory.name}"
    assert tf.io.gfile.exists(f"{project}/trials.csv")
    assert tf.io.gfile.exists(f"{project}/oracle.json")
    assert tf.io.gfile.exists(f"{project}/zoo_search.json")
    import shutil

    shutil.rmtree(tmp_path / "saved_models")  # a new runtime: only the remote copy is left
    result = zoo.tune("mlp", digits, max_trials=3, **common)
    assert list(result.trials["trial"]) == [0, 1, 2]
    # Trials 0 and 1 came back from the remote copy, not run again.
    assert list(result.trials["seconds"][:2]) == list(first.trials["seconds"])
    with tf.io.gfile.GFile(f"{project}/trials.csv") as handle:
        assert len(pd.read_csv(handle)) == 3
    tf.io.gfile.rmtree(remote)


def test_mirror_clear_empties_both_sides(tmp_path):
    import tensorflow as tf

    from zoo.tuning.mirror import Mirror

    mirror = Mirror("ram://zoo-tests/clear/p", tmp_path / "p")
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "trials.csv").write_text("trial\n0\n")
    assert mirror.push() == 1 and tf.io.gfile.exists("ram://zoo-tests/clear/p/trials.csv")
    mirror.clear()
    assert not tf.io.gfile.exists("ram://zoo-tests/clear/p") and not (tmp_path / "p").exists()
