import pytest

import zoo
from zoo import cli


def test_help_lists_export_and_doctor(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "zoo export convnet_digits --format onnx" in out and "zoo doctor" in out


def test_export_command_prints_path_size_and_difference(tmp_path, capsys):
    zoo.save(zoo.build("convnet_tiny"), "tiny")
    assert cli.main(["export", "tiny", "--format", "onnx"]) == 0
    out = capsys.readouterr().out
    path = tmp_path / "saved_models" / "tiny" / "export" / "model.onnx"
    assert path.is_file()
    assert f"exported to {path} (" in out and " kB, " in out
    assert "largest absolute difference from Keras output_0: " in out


def test_export_command_output_and_failure_exit_codes(tmp_path, capsys):
    zoo.save(zoo.build("mlp_tiny", dtype="mixed_float16"), "mixed")
    target = tmp_path / "mixed.tflite"
    assert cli.main(["export", "mixed", "--format", "tflite", "--output", str(target)]) == 0
    before = target.read_bytes()
    assert "float32 copy" in capsys.readouterr().out

    arguments = ["export", "mixed", "--format", "tflite", "--output", str(target)]
    code = cli.main([*arguments, "--tolerance", "1e-12"])
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith("zoo export: error: The tflite export of model 'mlp_tiny' differs")
    assert "Traceback" not in err and "tolerance=1e-12" in err
    assert target.read_bytes() == before

    assert cli.main(["export", "nothing_here"]) == 2
    assert "No saved model" in capsys.readouterr().err


def test_export_command_rejects_unknown_formats(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["export", "tiny", "--format", "pdf"])
    assert info.value.code == 2
    assert "'saved_model', 'tflite', 'onnx'" in capsys.readouterr().err
