import json
import subprocess
import sys

import pytest

from zoo import cli


def test_help_explains_every_command(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for command in ("demo", "list", "build"):
        assert command in out


def test_list_prints_table(capsys):
    assert cli.main(["list", "resnet_5*"]) == 0
    out = capsys.readouterr().out
    assert "resnet_50" in out and "25,557,032" in out and "resnet_18" not in out


def test_list_family_filter(capsys):
    assert cli.main(["list", "--family", "rnn"]) == 0
    out = capsys.readouterr().out
    assert "bilstm" in out and "vgg" not in out


def test_build_with_settings_and_save(capsys, tmp_path):
    code = cli.main(
        [
            "build",
            "mlp",
            "--input-shape",
            "12",
            "--num-classes",
            "3",
            "--set",
            "units=(8,4)",
            "--save",
            str(tmp_path / "m"),
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "Total params" in out
    card = json.loads((tmp_path / "m" / "zoo.json").read_text())
    assert card["arguments"]["units"] == [8, 4]
    assert card["arguments"]["input_shape"] == [12]


def test_bad_input_is_a_clear_error(capsys):
    assert cli.main(["build", "resnet50"]) == 2
    err = capsys.readouterr().err
    assert "resnet_50" in err and "Traceback" not in err
    assert cli.main(["build", "mlp", "--set", "units=-3"]) == 2
    assert "units" in capsys.readouterr().err


def test_console_script_runs_without_tensorflow_log_noise():
    result = subprocess.run(
        [sys.executable, "-m", "zoo.cli", "--version"], capture_output=True, text=True
    )
    assert result.returncode == 0 and result.stdout.startswith("zoo ")
    result = subprocess.run(
        [sys.executable, "-m", "zoo.cli", "list", "mlp_t*"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "mlp_tiny" in result.stdout
    assert "I0000" not in result.stderr and "cuInit" not in result.stderr


def test_demo_trains_and_saves(tmp_path, capsys):
    result = cli.run_demo(output=str(tmp_path / "demo"))
    assert result["test_accuracy"] >= 0.95
    out = capsys.readouterr().out
    assert "test accuracy" in out
    card = json.loads((tmp_path / "demo" / "zoo.json").read_text())
    assert card["architecture"] == "convnet_digits"
    assert card["metrics"]["test_accuracy"] == pytest.approx(result["test_accuracy"])
    assert card["data"]["source"] == "digits"


def test_import_and_help_do_not_load_tensorflow():
    code = (
        "import sys, zoo, zoo.cli\n"
        "try:\n    zoo.cli.main(['--help'])\nexcept SystemExit:\n    pass\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
