import json
import os
import subprocess
import sys

import pytest

from zoo import cli


def test_help_explains_every_command(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for command in ("demo", "list", "build", "train", "evaluate", "launch", "tune", "finetune"):
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
    assert cli.main(["build", "renset_50"]) == 2
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
    assert card["metrics"]["accuracy"] == pytest.approx(result["test_accuracy"])
    assert card["data"]["source"].startswith("digits")


def test_import_and_help_do_not_load_tensorflow():
    code = (
        "import sys, zoo, zoo.cli\n"
        "try:\n    zoo.cli.main(['--help'])\nexcept SystemExit:\n    pass\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_train_and_evaluate_commands(tmp_path, capsys):
    out_dir = tmp_path / "mlp_digits"
    code = cli.main(
        [
            "train",
            "mlp",
            "--data",
            "digits",
            "--epochs",
            "2",
            "--output",
            str(out_dir),
            "--set",
            "units=(32,)",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "accuracy" in out and "per class" in out and "saved to" in out
    card = json.loads((out_dir / "zoo.json").read_text())
    assert card["arguments"]["units"] == [32] and card["data"]["source"].startswith("digits")
    assert cli.main(["evaluate", str(out_dir), "--data", "digits"]) == 0
    out = capsys.readouterr().out
    assert "f1_macro" in out and "confusion matrix" in out


def test_train_command_takes_the_architectures_task(capsys, tmp_path):
    common = ["--epochs", "1", "--no-save"]
    assert cli.main(["train", "gpt_tiny", "--data", "zen", "--sequence-length", "16", *common]) == 0
    out = capsys.readouterr().out
    assert "language_modeling" in out and "perplexity" in out and "sample (greedy" in out
    assert cli.main(["train", "vae_tiny", "--data", "digits", *common]) == 0
    assert "kl_loss" in capsys.readouterr().out
    assert cli.main(["train", "mlp_tiny", "--data", "digits", "--task", "captioning"]) == 2
    assert "'autoencoder', 'language_modeling'" in capsys.readouterr().err


def test_train_command_bad_data_is_a_clear_error(capsys):
    assert cli.main(["train", "mlp", "--data", "no_such_source"]) == 2
    err = capsys.readouterr().err
    assert "data source" in err and "Traceback" not in err


def test_launch_command_runs_workers(capfd):
    code = cli.main(
        [
            "launch",
            "--workers",
            "2",
            "--",
            sys.executable,
            "-c",
            "import json, os; print(json.loads(os.environ['TF_CONFIG'])['task']['index'])",
        ]
    )
    assert code == 0
    out = capfd.readouterr().out
    assert "[worker 0] 0" in out and "[worker 1] 1" in out


def test_first_use_of_zoo_hides_tensorflows_start_up_lines():
    # TF 2.21 logs oneDNN/CUDA notices through absl whatever TF_CPP_MIN_LOG_LEVEL says;
    # zoo imports TensorFlow quietly on first use (notebooks, scripts), as the CLI does.
    script = "import zoo; print(zoo.build('mlp_tiny').count_params())"
    env = {k: v for k, v in os.environ.items() if k != "ZOO_TF_LOGS"}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "oneDNN custom operations" not in result.stderr
    assert "absl::InitializeLog" not in result.stderr


def test_train_command_reads_a_long_csv_as_series(capsys, tmp_path):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    n, length = 24, 4
    pd.DataFrame(
        {
            "sid": np.repeat(np.arange(n), length),
            "t": np.tile(np.arange(length), n),
            "value": rng.normal(100.0, 5.0, n * length),
            "label": np.repeat(np.arange(n) % 2, length),
        }
    ).to_csv(tmp_path / "long.csv", index=False)
    base = ["train", "rnn_tiny", "--data", str(tmp_path / "long.csv"), "--epochs", "1"]
    assert cli.main([*base, "--series", "long"]) == 2
    assert "id_column" in capsys.readouterr().err
    series = ["--series", "long", "--id-column", "sid", "--time-column", "t"]
    assert cli.main([*base, *series, "--output", str(tmp_path / "m")]) == 0
    inputs = json.loads((tmp_path / "m" / "zoo.json").read_text())["data"]["inputs"]
    assert inputs["kind"] == "series" and (inputs["length"], inputs["channels"]) == (4, 1)


def test_train_command_streams_a_csv_over_the_memory_budget(capsys, tmp_path):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=600), "city": rng.choice(["a", "b"], 600)})
    frame["label"] = (frame["x"] > 0).astype(int)
    frame.to_csv(tmp_path / "big.csv", index=False)
    base = ["train", "mlp_tiny", "--data", str(tmp_path / "big.csv"), "--target", "label"]
    assert cli.main([*base, "--memory-budget", "lots"]) == 2
    assert "memory_budget" in capsys.readouterr().err
    out = ["--epochs", "1", "--output", str(tmp_path / "m")]
    assert cli.main([*base, "--memory-budget", "4K", *out]) == 0
    data = json.loads((tmp_path / "m" / "zoo.json").read_text())["data"]
    assert "streamed in chunks" in data["source"]
    assert data["inputs"]["columns"] == {"x": "numeric", "city": "categorical"}
