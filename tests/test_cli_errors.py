"""The CLI answers at once, checks before slow work, and shows user errors as one line."""

import json
import os
import subprocess
import sys

import pytest

from zoo import _catalogue_cache, cli
from zoo import _validation as v


def _run_without_tensorflow(argv, env=None):
    """Run ``cli.main(argv)`` in a fresh process; return (status, stderr, TF imported)."""
    code = (
        "import sys, zoo.cli\n"
        f"status = zoo.cli.main({argv!r})\n"
        "print(status, 'tensorflow' in sys.modules, 'keras' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    status, tensorflow, keras = result.stdout.split()[-3:]
    return int(status), result.stderr, tensorflow == "True" or keras == "True"


@pytest.fixture
def warm_catalogue():
    """The cached catalogue, as after one `zoo list` on this machine."""
    cli._catalogue(rows=True)
    assert _catalogue_cache.read()["rows"]


def test_name_errors_answer_without_loading_tensorflow(warm_catalogue):
    status, err, loaded = _run_without_tensorflow(["train", "resnet50x", "--data", "digits"])
    assert status == 2 and not loaded
    assert err.startswith("zoo train: error: Unknown architecture 'resnet50x'")
    assert "'resnet_50'" in err and "Traceback" not in err and err.count("\n") == 1
    status, err, loaded = _run_without_tensorflow(
        ["build", "mlp", "--set", "unitz=(3,)", "--set", "dropout=0.1"]
    )
    assert status == 2 and not loaded and "Did you mean 'units'?" in err
    status, err, loaded = _run_without_tensorflow(["evaluate", "nowhere", "--data", "digits"])
    assert status == 2 and not loaded and "No saved model at" in err and "nowhere" in err
    status, err, loaded = _run_without_tensorflow(["finetune", "mobilenet_v9", "--data", "x"])
    assert status == 2 and not loaded and "mobilenet_v" in err


def test_list_answers_from_the_cache(warm_catalogue, capsys):
    status, err, loaded = _run_without_tensorflow(["list", "resnet_*"])
    assert status == 0 and not loaded, err
    assert cli.main(["list", "resnet_*", "--family", "resnet"]) == 0
    out = capsys.readouterr().out
    assert "resnet_50 " in out and "25,557,032" in out and "mlp_tiny" not in out
    # An alias matches the row it names; filters combine as in zoo.list_architectures.
    assert cli.main(["list", "--pretrained", "--source", "checkpoint"]) == 0
    out = capsys.readouterr().out
    assert "digits_convnet_pretrained" in out and "resnet" not in out
    assert cli.main(["list", "nothing_like_this*"]) == 0
    assert "No architecture matches" in capsys.readouterr().out


def test_catalogue_cache_follows_what_it_depends_on(warm_catalogue, tmp_path, monkeypatch):
    assert _catalogue_cache.read() is not None
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))  # another weights folder
    assert _catalogue_cache.read() is None
    cli._catalogue(rows=True)
    assert _catalogue_cache.read() is not None
    (tmp_path / "keras" / "models").mkdir(parents=True)
    (tmp_path / "keras" / "models" / "weights.h5").write_bytes(b"new weights")
    assert _catalogue_cache.read() is None  # a file arrived where weights are found


def test_damaged_catalogue_cache_is_ignored_and_replaced(warm_catalogue, capsys):
    path = _catalogue_cache.cache_dir() / _catalogue_cache.FILE_NAME
    for damage in ("{not json", json.dumps([1, 2]), json.dumps({"key": "x"})):
        path.write_text(damage)
        assert _catalogue_cache.read() is None
        assert cli.main(["list", "mlp_tiny"]) == 0
        assert "mlp_tiny" in capsys.readouterr().out
        assert _catalogue_cache.read() is not None
    current = json.loads(path.read_text())
    path.write_text(json.dumps({**current, "accepted": ["not", "a", "dict"]}))
    assert _catalogue_cache.read() is None


def test_cache_sees_the_folders_the_weights_code_uses(tmp_path, monkeypatch):
    from zoo.architectures.pretrained import applications, hub_cache, text

    for env in ("ZOO_WEIGHTS_DIR", "KERAS_HOME", "KAGGLEHUB_CACHE", "TFHUB_CACHE_DIR"):
        monkeypatch.setenv(env, str(tmp_path / env))
        folders = _catalogue_cache.weight_folders()
        assert applications.keras_cache_dir() in folders
        assert text.kagglehub_cache_dir() in folders
        assert hub_cache.hub_cache_dir() in folders
    assert tmp_path / "ZOO_WEIGHTS_DIR" in _catalogue_cache.weight_folders()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "mlp", "--data", "digits", "--epochs", "0"], "--epochs: must be an integer"),
        (["train", "mlp", "--data", "digits", "--epochs", "x"], "--epochs: must be an integer"),
        (["train", "mlp", "--data", "digits", "--learning-rate", "-1"], "must be a number > 0"),
        (["tune", "mlp", "--data", "digits", "--max-trials", "0"], "--max-trials: must be"),
        (["tune", "mlp", "--data", "digits", "--workers", "-1"], "--workers: must be"),
        (["launch", "--workers", "0", "--", "echo"], "--workers: must be an integer >= 1"),
        (["predict", "m", "x.png", "--top", "0"], "--top: must be an integer >= 1"),
        (["evaluate", "m", "--data", "digits", "--augment"], "unrecognized arguments: --augment"),
    ],
)
def test_bad_numbers_are_refused_by_the_parser(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_user_errors_are_one_line_and_debug_shows_the_traceback(capsys, monkeypatch):
    def broken(args):
        raise v.DamagedFileError("saved_models/m/model.keras is damaged\nsecond line")

    monkeypatch.setattr(cli, "_build", broken)
    assert cli.main(["build", "mlp_tiny"]) == 2
    err = capsys.readouterr().err
    assert err == "zoo build: error: saved_models/m/model.keras is damaged second line\n"
    with pytest.raises(v.DamagedFileError):
        cli.main(["build", "mlp_tiny", "--debug"])
    with pytest.raises(v.DamagedFileError):
        cli.main(["--debug", "build", "mlp_tiny"])
    monkeypatch.setenv("ZOO_DEBUG", "1")
    with pytest.raises(v.DamagedFileError):
        cli.main(["build", "mlp_tiny"])


def test_bugs_keep_their_traceback(monkeypatch):
    def buggy(args):
        raise KeyError("a bug, not a user error")

    monkeypatch.setattr(cli, "_build", buggy)
    with pytest.raises(KeyError):
        cli.main(["build", "mlp_tiny"])


def test_evaluate_of_a_missing_model_names_it(capsys, tmp_path):
    assert cli.main(["evaluate", str(tmp_path / "absent"), "--data", "digits"]) == 2
    err = capsys.readouterr().err
    assert "No saved model" in err and "absent" in err and "Traceback" not in err


QUIET_ENV = {"ZOO_TF_LOGS", "TF_CPP_MIN_LOG_LEVEL", "CUDA_VISIBLE_DEVICES"}


def _stderr_of(script: str) -> str:
    env = {k: value for k, value in os.environ.items() if k not in QUIET_ENV}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stderr


def test_quiet_whoever_imports_tensorflow_after_zoo():
    run = "x = keras.ops.ones((2,)) + 1\nm = zoo.build('mlp_tiny')\nm(np.zeros((1, 8)))\n"
    err = _stderr_of("import numpy as np\nimport zoo, keras\n" + run)
    assert err == "", err  # no banner, no cuInit, no oneDNN notice
    # Keras first: TensorFlow's banner is out before zoo runs; zoo adds no cuInit line.
    # zoo's first use lists the devices quietly, before the user's first op would.
    err = _stderr_of("import numpy as np\nimport keras, zoo\nzoo.build('mlp_tiny')\n" + run)
    assert "cuInit" not in err


def test_zoo_tf_logs_shows_tensorflows_lines():
    env = {k: value for k, value in os.environ.items() if k not in QUIET_ENV}
    result = subprocess.run(
        [sys.executable, "-c", "import zoo, tensorflow"],
        capture_output=True,
        text=True,
        env={**env, "ZOO_TF_LOGS": "1"},
        timeout=300,
    )
    assert result.returncode == 0 and "absl::InitializeLog" in result.stderr


def test_evaluate_on_data_of_another_shape_is_one_line(tmp_path, capsys):
    import numpy as np
    import pandas as pd

    import zoo

    zoo.save(zoo.build("mlp_tiny", input_shape=(8, 8, 1), num_classes=10), "digits_mlp")
    table = tmp_path / "table.csv"
    pd.DataFrame({"a": np.arange(40.0), "b": np.arange(40.0), "y": [0, 1] * 20}).to_csv(
        table, index=False
    )
    assert cli.main(["evaluate", "digits_mlp", "--data", str(table), "--target", "y"]) == 2
    err = capsys.readouterr().err
    assert "takes inputs of shape (8, 8, 1)" in err and "have shape (2,)" in err
    assert "Traceback" not in err and err.count("\n") == 1
