import numpy as np
import pytest

import zoo
from zoo import exporting


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.mark.parametrize("fmt", ["saved_model", "tflite", "onnx"])
def test_each_format_matches_keras(fmt, tmp_path, capsys):
    model = zoo.build("convnet_tiny")
    target = tmp_path / ("saved" if fmt == "saved_model" else f"convnet.{fmt}")
    result = zoo.export(model, target, format=fmt)
    assert result.path == target and target.exists()
    assert result.format == fmt and result.model_name == "convnet_tiny"
    assert result.max_abs_diff <= 1e-5 and result.tolerance == 1e-4
    assert set(result.output_diffs) == {"output_0"}
    assert result.size_bytes > 1000 and result.seconds > 0
    assert result.input_shapes == ((None, 8, 8, 1),) and result.notes == ()
    assert "largest absolute difference" in capsys.readouterr().out
    assert fmt in repr(result) and "tolerance" in str(result)
    assert _leftovers(tmp_path) == []


def test_default_path_is_beside_the_saved_model_folder(tmp_path):
    result = zoo.export(zoo.build("mlp_tiny"), format="tflite")
    assert result.path == tmp_path / "saved_models" / "mlp_tiny" / "export" / "model.tflite"


def test_rnn_and_transformer_through_saved_model(tmp_path):
    for name in ("rnn_text_tiny", "transformer_tiny"):
        result = zoo.export(zoo.build(name), tmp_path / name)
        assert result.max_abs_diff <= 1e-6
        assert (tmp_path / name / "saved_model.pb").is_file()


def test_tflite_fixes_the_shape_of_an_rnn(tmp_path):
    # A variable-batch LSTM needs TensorFlow Select ops (TensorList), absent from the
    # standard TFLite runtime: the file gets a fixed input shape instead.
    result = zoo.export(zoo.build("rnn_tiny"), tmp_path / "rnn.tflite", format="tflite")
    assert result.input_shapes == ((1, 6, 3),)
    assert "fixed input shape" in result.notes[0] and "TensorListReserve" in result.notes[0]
    assert result.max_abs_diff <= 1e-5


def test_onnx_converts_exact_gelu(tmp_path):
    # tf2onnx 1.17 leaves TensorFlow's Erfc unconverted; zoo teaches it erfc = 1 - erf.
    result = zoo.export(zoo.build("transformer_tiny"), tmp_path / "t.onnx", format="onnx")
    assert result.max_abs_diff <= 1e-5


def test_too_small_tolerance_raises_and_keeps_the_previous_file(tmp_path):
    model = zoo.build("mlp_tiny", dtype="mixed_float16")
    target = tmp_path / "mlp.onnx"
    first = zoo.export(model, target, format="onnx")
    assert first.tolerance == 1e-2  # mixed precision
    assert any("float32 copy" in note for note in first.notes)
    before = target.read_bytes()
    with pytest.raises(exporting.ExportParityError, match="Received: tolerance=1e-12") as info:
        zoo.export(model, target, format="onnx", tolerance=1e-12)
    assert "previous one is unchanged" in str(info.value)
    assert 0 < info.value.max_abs_diff < 1e-2
    assert target.read_bytes() == before
    assert _leftovers(tmp_path) == []


def test_failed_check_keeps_the_previous_saved_model(tmp_path, monkeypatch):
    model = zoo.build("mlp_tiny")
    target = tmp_path / "mlp"
    zoo.export(model, target)
    before = sorted(p.relative_to(target) for p in target.rglob("*"))
    real = exporting._artifact_outputs
    monkeypatch.setattr(exporting, "_artifact_outputs", lambda *a: [x + 1.0 for x in real(*a)])
    with pytest.raises(ValueError, match="differs from the Keras model by up to 1"):
        zoo.export(model, target)
    assert sorted(p.relative_to(target) for p in target.rglob("*")) == before
    assert _leftovers(tmp_path) == []

    import tensorflow as tf

    loaded = tf.saved_model.load(str(target))
    x = np.ones((1, 8), "float32")
    np.testing.assert_allclose(loaded.serve(x), model(x), atol=1e-6)


def test_unknown_format_lists_the_formats():
    with pytest.raises(ValueError) as info:
        zoo.export(zoo.build("mlp_tiny"), format="pdf")
    message = str(info.value)
    assert "'saved_model', 'tflite', 'onnx'" in message and "Received: format='pdf'" in message


def test_bad_arguments_are_clear(tmp_path):
    model = zoo.build("mlp_tiny")
    with pytest.raises(TypeError, match=r"keras\.Model"):
        zoo.export(3)
    with pytest.raises(ValueError, match="tolerance"):
        zoo.export(model, tmp_path / "m", tolerance=-1.0)
    with pytest.raises(ValueError, match=r"input 'inputs' has shape \(None, 8\)"):
        zoo.export(model, tmp_path / "m", sample=np.ones((2, 5)))
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="holds other files"):
        zoo.export(model, tmp_path / "busy")
    assert (tmp_path / "busy" / "notes.txt").read_text() == "mine"


def test_sample_as_a_dict_for_two_inputs(tmp_path):
    network = zoo.build("diffusion_tiny").network  # [noisy images, timesteps]
    names = [t.name for t in network.inputs]
    sample = {names[0]: np.zeros((3, 8, 8, 1)), names[1]: np.array([1.0, 5.0, 50.0])}
    result = zoo.export(network, tmp_path / "unet.tflite", format="tflite", sample=sample)
    assert result.input_shapes == ((None, 8, 8, 1), (None,))
    assert result.max_abs_diff <= 1e-5


def test_export_a_saved_model_by_name(tmp_path):
    zoo.save(zoo.build("mlp_tiny"), "tiny")
    result = zoo.export("tiny", format="onnx")
    assert result.path == tmp_path / "saved_models" / "tiny" / "export" / "model.onnx"
    assert result.path.is_file()
    other = tmp_path / "elsewhere"
    zoo.save(zoo.build("mlp_tiny"), other / "tiny2")
    result = zoo.export("tiny2", saved_models_dir=other)
    assert result.path == other / "tiny2" / "export" / "saved_model"
    with pytest.raises(FileNotFoundError, match="tiny"):
        zoo.export("missing")


def test_gan_exports_its_generator(tmp_path):
    gan = zoo.build("dcgan_tiny")
    result = zoo.export(gan, tmp_path / "gan")
    assert "generator" in result.notes[0]
    assert result.input_shapes == ((None, 16),)
    assert result.path == tmp_path / "gan" and result.max_abs_diff == 0.0


def test_diffusion_model_points_to_its_network():
    with pytest.raises(ValueError, match=r"zoo.export\(model.network"):
        zoo.export(zoo.build("diffusion_tiny"))


def test_missing_onnx_packages_say_what_to_install(monkeypatch):
    monkeypatch.setattr(exporting, "_installed", lambda name: name != "onnxruntime")
    with pytest.raises(ImportError) as info:
        zoo.export(zoo.build("mlp_tiny"), format="onnx")
    message = str(info.value)
    assert "missing: onnxruntime" in message and "pip install tf2onnx onnx onnxruntime" in message
    assert "zoo[export]" in message


def test_converter_failures_name_model_format_and_reason(tmp_path, monkeypatch):
    model = zoo.build("mlp_tiny")
    zoo.export(model, tmp_path / "ok")

    def broken(*args, **kwargs):
        raise RuntimeError("something unsupported\nwith details")

    monkeypatch.setattr(exporting, "_convert", broken)
    with pytest.raises(exporting.ExportError) as info:
        zoo.export(model, tmp_path / "m.onnx", format="onnx")
    assert str(info.value) == (
        "Cannot export model 'mlp_tiny' to onnx: something unsupported. "
        "Formats that exported this model here: saved_model."
    )
    assert _leftovers(tmp_path) == []
