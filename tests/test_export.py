import json
import os
import re
import string
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import zoo
from zoo import exporting
from zoo.exporting import converting, running
from zoo.layers.preprocessing import attach


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
    real = running.artifact_outputs
    monkeypatch.setattr(running, "artifact_outputs", lambda *a: [x + 1.0 for x in real(*a)])
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
    # importlib.util.find_spec answers None for a module that sys.modules maps to None.
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
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

    monkeypatch.setattr(converting, "convert", broken)
    with pytest.raises(exporting.ExportError) as info:
        zoo.export(model, tmp_path / "m.onnx", format="onnx")
    assert str(info.value) == (
        "Cannot export model 'mlp_tiny' to onnx: something unsupported. "
        "Formats that exported this model here: saved_model."
    )
    assert _leftovers(tmp_path) == []


# --- Raw-input models (zoo.layers.preprocessing.attach): checked from raw input ----------

TEXTS = np.array(["Good, GREAT fine!", "sad bad awful poor angry happy nice good bad", "qqq good"])
ROWS = {
    "age": np.array([25.0, 61.5, 40.0], "float32"),
    "city": np.array(["rome", "oslo", "tokyo"], dtype=object),  # tokyo: never seen
}


def _text_model(tmp_path):
    words = {"pos": "good great fine nice happy", "neg": "bad awful poor sad angry"}
    for label, vocabulary in words.items():
        (tmp_path / "texts" / label).mkdir(parents=True)
        for i in range(6):
            text = " ".join(np.random.default_rng(i).choice(vocabulary.split(), 5))
            (tmp_path / "texts" / label / f"{i}.txt").write_text(text)
    data = zoo.data.load(tmp_path / "texts", sequence_length=8, vocab_size=50)
    network = zoo.build(
        "transformer_tiny", input_shape=(8,), num_classes=2, vocab_size=data.vocab_size
    )
    return attach(network, data.preprocessor)


def _table_model():
    frame = pd.DataFrame(
        {
            "age": np.linspace(20.0, 70.0, 30),
            "city": ["paris", "rome", "oslo"] * 10,
            "target": [0, 1] * 15,
        }
    )
    data = zoo.data.load(frame)
    network = zoo.build("mlp_tiny", input_shape=data.input_shape, num_classes=2)
    return attach(network, data.preprocessor)


def _image_model(image_size=None):
    data = zoo.data.load("digits", image_size=image_size)
    # Dropout on: a network run in training mode by mistake would not match.
    network = zoo.build("convnet_tiny", input_shape=data.input_shape, num_classes=10, dropout=0.5)
    return attach(network, data.preprocessor)


def _strings(values):
    return np.asarray(values, dtype=object).astype(str).astype(object)


def _predict(model, raw):
    return model.predict(raw, verbose=0)


def _run_file(fmt, path, feed):
    """Run a TFLite or ONNX file as a client would, on a dict of named arrays."""
    if fmt == "onnx":
        import onnxruntime

        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        names = [i.name for i in session.get_inputs()]
        if len(names) == 1:
            feed = {names[0]: next(iter(feed.values()))}
        return session.run(None, feed)[0]
    runner = running.tflite_interpreter(path).get_signature_runner()
    keys = list(runner.get_input_details())
    if len(keys) == 1:
        feed = {keys[0]: next(iter(feed.values()))}
    outputs = runner(**feed)
    return outputs[sorted(outputs)[0]]


def _client_token_ids(description, vocabulary_file, texts):
    """Token ids from the exported description alone (independent of zoo's code)."""
    lines = vocabulary_file.read_text(encoding="utf-8").split("\n")[:-1]
    assert len(lines) == description["vocabulary_size"] and lines[:2] == ["", "[UNK]"]
    ids = {token: i for i, token in enumerate(lines)}
    lower = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
    length = description["output_sequence_length"]
    rows = np.full((len(texts), length), description["padding_id"], "int32")
    for row, text in enumerate(texts):
        if description["lowercase"]:
            text = text.translate(lower)
        if description["strip_characters"]:
            text = re.sub(description["strip_characters"], "", text)
        tokens = [t for t in re.split(f"[{re.escape(description['whitespace'])}]+", text) if t]
        found = [ids.get(token, description["unknown_id"]) for token in tokens][:length]
        rows[row, : len(found)] = found
    return rows


def _client_rows(description, columns):
    """Encoded table rows from the exported description alone."""
    parts = []
    for block in description["encoding"]:
        values = columns[block["column"]]
        if block["kind"] == "numeric":
            std = max(np.sqrt(block["variance"]), block["epsilon"])
            parts.append(((values - block["mean"]) / std)[:, None])
        else:
            where = {v: i for i, v in enumerate(block["vocabulary"]) if i}
            parts.append(np.eye(block["width"])[[where.get(v, 0) for v in values]])
    return np.concatenate(parts, axis=1).astype("float32")


@pytest.mark.parametrize("fmt", ["saved_model", "tflite", "onnx"])
def test_raw_image_model_holds_its_rescaling_in_each_format(fmt, tmp_path):
    model = _image_model()
    target = tmp_path / ("saved" if fmt == "saved_model" else f"digits.{fmt}")
    result = zoo.export(model, target, format=fmt)
    assert result.input_shapes == ((None, 8, 8, 1),) and result.notes == ()
    assert result.preprocessing is None and result.max_abs_diff <= 1e-5
    pixels = np.random.default_rng(1).integers(0, 256, (3, 8, 8, 1)).astype("float32")
    if fmt == "saved_model":
        import tensorflow as tf

        loaded = tf.saved_model.load(str(target))  # kept: serve needs its variables
        got = loaded.serve(pixels).numpy()
    else:
        got = _run_file(fmt, target, {"pixels": pixels})
    np.testing.assert_allclose(got, _predict(model, pixels), atol=1e-5)


def test_resizing_image_model_as_a_saved_model_takes_any_size(tmp_path, capsys):
    import tensorflow as tf

    model = _image_model(image_size=12)
    result = zoo.export(model, tmp_path / "saved")
    assert result.input_shapes == ((None, None, None, 1),) and result.notes == ()
    assert result.max_abs_diff <= 1e-5  # checked at 12x12 and at another size
    served = tf.saved_model.load(str(tmp_path / "saved"))
    for size in ((12, 12), (17, 9), (5, 30)):
        pixels = np.random.default_rng(2).integers(0, 256, (2, *size, 1)).astype("float32")
        np.testing.assert_allclose(served.serve(pixels), _predict(model, pixels), atol=1e-5)


@pytest.mark.parametrize("fmt", ["tflite", "onnx"])
def test_resizing_image_model_goes_to_tflite_and_onnx_at_its_training_size(fmt, tmp_path):
    model = _image_model(image_size=12)
    target = tmp_path / f"digits.{fmt}"
    result = zoo.export(model, target, format=fmt)
    # Resizing with antialias is TensorFlow's ScaleAndTranslate: no TFLite builtin, no
    # tf2onnx conversion. At the training size the file holds the rescaling only.
    assert result.input_shapes == ((None, 12, 12, 1),)
    assert "12x12 images only" in result.notes[0] and "ScaleAndTranslate" in result.notes[0]
    pixels = np.random.default_rng(3).integers(0, 256, (2, 12, 12, 1)).astype("float32")
    np.testing.assert_allclose(
        _run_file(fmt, target, {"pixels": pixels}), _predict(model, pixels), atol=1e-5
    )


SERVE_SCRIPT = """
import json, sys
import numpy as np
import tensorflow as tf

expected = np.load(sys.argv[1])
texts = tf.saved_model.load(sys.argv[2])
rows = tf.saved_model.load(sys.argv[3]).signatures["serving_default"]
served_texts = texts.serve(tf.constant([str(t) for t in expected["texts"]]))
served_rows = rows(age=tf.constant(expected["age"]), city=tf.constant(expected["city"]))
report = {
    "text": float(np.abs(served_texts - expected["text"]).max()),
    "text_input": str(texts.signatures["serving_default"].structured_input_signature[1]),
    "table": float(np.abs(served_rows["output_0"] - expected["table"]).max()),
    "table_inputs": str(rows.structured_input_signature[1]),
}
print(json.dumps(report))
"""


def test_text_and_table_saved_models_take_raw_strings_and_columns_in_a_fresh_process(
    tmp_path,
):
    text_model, table_model = _text_model(tmp_path), _table_model()
    text_result = zoo.export(text_model, tmp_path / "texts_served")
    table_result = zoo.export(table_model, tmp_path / "rows_served")
    assert text_result.input_shapes == ((None,),) and text_result.max_abs_diff <= 1e-5
    assert table_result.input_shapes == ((None,), (None,)) and table_result.notes == ()
    expected = tmp_path / "expected.npz"
    np.savez(
        expected,
        texts=TEXTS,
        text=_predict(text_model, _strings(TEXTS)),
        age=ROWS["age"],
        city=ROWS["city"].astype(str),
        table=_predict(table_model, ROWS),
    )
    script = tmp_path / "serve.py"
    script.write_text(SERVE_SCRIPT)
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "3"}
    command = [sys.executable, str(script), str(expected), str(text_result.path)]
    done = subprocess.run(
        [*command, str(table_result.path)], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["text"] <= 1e-5 and report["table"] <= 1e-5
    assert "tf.string" in report["text_input"]
    assert "'age': TensorSpec(shape=(None,), dtype=tf.float32" in report["table_inputs"]
    assert "'city': TensorSpec(shape=(None,), dtype=tf.string" in report["table_inputs"]


@pytest.mark.parametrize("fmt", ["tflite", "onnx"])
def test_text_model_goes_to_tflite_and_onnx_as_its_network_and_vocabulary(fmt, tmp_path):
    model = _text_model(tmp_path)
    target = tmp_path / f"texts.{fmt}"
    result = zoo.export(model, target, format=fmt)
    assert result.preprocessing == tmp_path / f"texts.{fmt}.preprocessing.json"
    assert "without its preprocessing (TextVectorization)" in result.notes[0]
    assert "StaticRegexReplace" in result.notes[0] and result.input_shapes == ((None, 8),)
    assert f"preprocessing for clients: {result.preprocessing}" in str(result)
    description = json.loads(result.preprocessing.read_text())
    assert description["kind"] == "text" and description["artifact"] == target.name
    vocabulary = tmp_path / description["vocabulary_file"]
    assert vocabulary.name == f"texts.{fmt}.vocabulary.txt"
    ids = _client_token_ids(description, vocabulary, TEXTS)
    assert ids[2, 0] == description["unknown_id"] and ids[0, 3] == description["padding_id"]
    np.testing.assert_allclose(
        _run_file(fmt, target, {"ids": ids}), _predict(model, _strings(TEXTS)), atol=1e-5
    )


def test_table_model_goes_to_tflite_whole_with_raw_columns(tmp_path):
    model = _table_model()
    target = tmp_path / "rows.tflite"
    result = zoo.export(model, target, format="tflite")
    # FeatureSpace one-hot encodes with DenseBincount, not a TFLite builtin; the string
    # lookup and a one-hot op are, so the file takes the raw columns.
    assert result.preprocessing is None and result.input_shapes == ((None,), (None,))
    assert "rebuilt" in result.notes[0] and "DenseBincount" in result.notes[0]
    np.testing.assert_allclose(_run_file("tflite", target, ROWS), _predict(model, ROWS), atol=1e-5)


def test_table_model_goes_to_onnx_as_its_network_and_encoding(tmp_path):
    model = _table_model()
    target = tmp_path / "rows.onnx"
    result = zoo.export(model, target, format="onnx", sample=pd.DataFrame({**ROWS, "x": 1}))
    assert "LookupTableFindV2" in result.notes[0] and result.input_shapes == ((None, 5),)
    description = json.loads(result.preprocessing.read_text())
    assert [block["column"] for block in description["encoding"]] == ["age", "city"]
    assert description["encoding"][1]["vocabulary"][0] == "[UNK]"  # unseen categories
    rows = _client_rows(description, ROWS)
    np.testing.assert_allclose(
        _run_file("onnx", target, {"rows": rows}), _predict(model, ROWS), atol=1e-5
    )
    # A later export that takes raw input again leaves no stale description behind.
    zoo.export(zoo.build("mlp_tiny"), target, format="onnx")
    assert not result.preprocessing.exists()
