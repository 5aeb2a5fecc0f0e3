import pytest

import zoo
from zoo import cli
from zoo.layers.preprocessing import attach


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


def test_export_command_prints_what_a_text_model_file_holds(tmp_path, capsys):
    # A text model's TextVectorization has no ONNX equivalent: the file holds the
    # network, and the notes name the files that describe the preprocessing.
    for label, words in (("pos", "good great fine"), ("neg", "bad awful poor")):
        (tmp_path / "texts" / label).mkdir(parents=True)
        for i, word in enumerate(words.split()):
            (tmp_path / "texts" / label / f"{i}.txt").write_text(f"{word} {words}")
    data = zoo.data.load(tmp_path / "texts", sequence_length=6, test_split=0, validation_split=0)
    network = zoo.build(
        "transformer_tiny", input_shape=(6,), num_classes=2, vocab_size=data.vocab_size
    )
    zoo.save(attach(network, data.preprocessor), "texts")
    assert cli.main(["export", "texts", "--format", "onnx"]) == 0
    out = capsys.readouterr().out
    folder = tmp_path / "saved_models" / "texts" / "export"
    assert "note: onnx: the file holds the network without its preprocessing" in out
    assert "model.onnx.preprocessing.json and model.onnx.vocabulary.txt" in out
    assert f"exported to {folder / 'model.onnx'} (" in out
    assert sorted(p.name for p in folder.iterdir()) == [
        "model.onnx",
        "model.onnx.preprocessing.json",
        "model.onnx.vocabulary.txt",
    ]
    assert cli.main(["export", "texts"]) == 0  # a SavedModel holds the preprocessing
    assert "note:" not in capsys.readouterr().out
