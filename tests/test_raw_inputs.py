"""Saved models take raw input (pixels, strings, table columns) in a fresh process."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
from sample_data import write_images

import zoo
from zoo.layers.preprocessing import split


def _fresh(code: str, tmp_path) -> dict:
    """Run `code` in a new Python process (cwd tmp_path); it prints one JSON line."""
    env = {**os.environ, "ZOO_SAVED_MODELS": str(tmp_path / "saved_models")}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _texts(root):
    words = {"pos": "good great fine lovely", "neg": "bad awful poor dreadful"}
    rng = np.random.default_rng(0)
    for label, vocabulary in words.items():
        (root / label).mkdir(parents=True)
        for i in range(12):
            text = " ".join(rng.choice(vocabulary.split(), 6))
            (root / label / f"{i}.txt").write_text(text, encoding="utf-8")
    return root


def test_image_model_takes_raw_pixels_in_a_fresh_process(tmp_path):
    result = zoo.train("mlp_tiny", "digits", epochs=1, verbose=0, output=str(tmp_path / "m"))
    preprocessor, network = split(result.model)
    assert [layer.name for layer in preprocessor.layers] == ["pixels", "rescale"]
    from sklearn.datasets import load_digits

    pixels = (load_digits().images[:20] * (255 / 16)).round().astype("uint8")[..., None]
    expected = result.model.predict(pixels, verbose=0)
    # the network on the pipeline's [0, 1] pixels gives the same as the model on raw ones
    np.testing.assert_allclose(network.predict(pixels / 255.0, verbose=0), expected, atol=1e-5)
    np.save(tmp_path / "pixels.npy", pixels)
    code = """
        import json, numpy as np, keras
        import zoo
        pixels = np.load("pixels.npy")
        a = zoo.load("./m").predict(pixels, verbose=0)
        b = keras.saving.load_model("m/model.keras").predict(pixels.astype("float32"), verbose=0)
        print(json.dumps({"zoo": a.tolist(), "keras": b.tolist()}))
    """
    got = _fresh(code, tmp_path)
    np.testing.assert_allclose(got["zoo"], expected, atol=1e-5)
    np.testing.assert_allclose(got["keras"], expected, atol=1e-5)
    card = json.loads((tmp_path / "m" / "zoo.json").read_text())
    assert card["data"]["inputs"]["kind"] == "image" and card["architecture"] == "mlp_tiny"


def test_resized_image_model_takes_any_size(tmp_path):
    write_images(tmp_path / "photos", size=(12, 10))
    data = zoo.data.load(tmp_path / "photos", image_size=(6, 6), test_split=0.2)
    result = zoo.train("mlp_tiny", data, epochs=1, verbose=0, output=str(tmp_path / "m"))
    assert result.model.input_shape == (None, None, None, 3)
    from PIL import Image

    image = np.asarray(Image.open(tmp_path / "photos" / "cat" / "0.png"))[None]
    bigger = np.asarray(Image.open(tmp_path / "photos" / "cat" / "0.png").resize((24, 20)))[None]
    np.save(tmp_path / "image.npy", image)
    np.save(tmp_path / "bigger.npy", bigger)
    expected = result.model.predict(image, verbose=0)
    code = """
        import json, numpy as np
        import zoo
        model = zoo.load("./m")
        a = model.predict(np.load("image.npy"), verbose=0)
        b = model.predict(np.load("bigger.npy"), verbose=0)
        print(json.dumps({"a": a.tolist(), "b": b.tolist()}))
    """
    got = _fresh(code, tmp_path)
    np.testing.assert_allclose(got["a"], expected, atol=1e-5)
    assert np.asarray(got["b"]).shape == expected.shape


def test_text_model_takes_strings_in_a_fresh_process(tmp_path):
    data = zoo.data.load(_texts(tmp_path / "reviews"), sequence_length=8, test_split=0.2)
    result = zoo.train("rnn_text_tiny", data, epochs=1, verbose=0, output=str(tmp_path / "m"))
    texts = ["good great lovely", "awful dreadful bad words unseen"]
    strings = zoo.data.inputs.as_strings(texts)
    expected = result.model.predict(strings, verbose=0)
    ids = data.transform(texts)
    np.testing.assert_allclose(split(result.model)[1].predict(ids, verbose=0), expected, atol=1e-5)
    code = f"""
        import json, numpy as np, keras, tensorflow as tf
        import zoo
        texts = {texts!r}
        a = zoo.load("./m").predict(np.array(texts, dtype=object), verbose=0)
        b = keras.saving.load_model("m/model.keras").predict(tf.constant(texts), verbose=0)
        print(json.dumps({{"zoo": a.tolist(), "keras": b.tolist()}}))
    """
    got = _fresh(code, tmp_path)
    np.testing.assert_allclose(got["zoo"], expected, atol=1e-5)
    np.testing.assert_allclose(got["keras"], expected, atol=1e-5)


def _table(n=60):
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "age": rng.integers(18, 80, n),
            "income": rng.normal(50, 10, n),
            "city": rng.choice(["paris", "oslo", "rome"], n),
            "label": rng.choice(["yes", "no"], n),
        }
    )


def test_table_model_takes_raw_columns_in_a_fresh_process(tmp_path):
    _table().to_csv(tmp_path / "table.csv", index=False)
    data = zoo.data.load(str(tmp_path / "table.csv"), target="label")
    result = zoo.train("mlp_tiny", data, epochs=1, verbose=0, output=str(tmp_path / "m"))
    rows = pd.DataFrame({"age": [30, 71], "income": [42.0, 61.5], "city": ["oslo", "lima"]})
    columns = data.encoder.columns(rows)
    expected = result.model.predict(columns, verbose=0)
    np.testing.assert_allclose(
        split(result.model)[1].predict(data.transform(rows), verbose=0), expected, atol=1e-5
    )
    card = json.loads((tmp_path / "m" / "zoo.json").read_text())
    assert card["data"]["inputs"]["columns"] == {
        "age": "numeric",
        "income": "numeric",
        "city": "categorical",
    }
    code = """
        import json, numpy as np, keras
        import zoo
        columns = {
            "age": np.array([30.0, 71.0], "float32"),
            "income": np.array([42.0, 61.5], "float32"),
            "city": np.array(["oslo", "lima"], dtype=object),
        }
        a = zoo.load("./m").predict(columns, verbose=0)
        b = keras.saving.load_model("m/model.keras").predict(columns, verbose=0)
        print(json.dumps({"zoo": a.tolist(), "keras": b.tolist()}))
    """
    got = _fresh(code, tmp_path)
    np.testing.assert_allclose(got["zoo"], expected, atol=1e-5)
    np.testing.assert_allclose(got["keras"], expected, atol=1e-5)


def test_preprocessing_is_fitted_on_the_training_split_only():
    frame = _table(200)
    frame.loc[:, "income"] = np.where(np.arange(200) % 2 == 0, 10.0, 1000.0)
    data = zoo.data.load(frame, target="label", validation_split=0.1, test_split=0.2)
    train = frame.iloc[data._indices["train"]]
    normalize = data.encoder.space.preprocessors["income"]
    np.testing.assert_allclose(
        np.asarray(normalize.mean).reshape(-1), [train["income"].mean()], rtol=1e-5
    )


@pytest.mark.parametrize("dtype", ["uint8", "float32"])
def test_one_pixel_convention_for_arrays(dtype):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (40, 6, 6, 3)).astype(dtype)
    y = rng.integers(0, 2, 40)
    data = zoo.data.load(x, y, test_split=0.2)
    batch = next(iter(data.train))[0].numpy()
    if dtype == "uint8":  # raw 0-255 pixels: scaled in the pipeline, and in the model
        assert batch.max() <= 1.0 and data.inputs["kind"] == "image"
        assert data.preprocessor is not None
    else:  # float arrays are the user's own scale, fed as they are
        assert batch.max() > 1.0 and data.preprocessor is None


def test_a_column_constant_in_training_is_centred_not_blown_up(tmp_path):
    frame = _table(40).assign(const=3.0)
    data = zoo.data.load(frame, target="label")
    rows = pd.DataFrame({"age": [30], "income": [50.0], "city": ["oslo"], "const": [5.0]})
    encoded = data.transform(rows)[0]
    assert encoded[data.encoder.feature_names.index("const")] == pytest.approx(2.0)
    model = zoo.train("mlp_tiny", data, epochs=1, verbose=0, output=str(tmp_path / "m"))
    loaded = zoo.load(tmp_path / "m")
    columns = data.encoder.columns(rows)
    np.testing.assert_allclose(split(loaded)[0].predict(columns, verbose=0), [encoded], atol=1e-5)
    assert split(model.model)[0] is not None


def test_attach_checks_its_preprocessor_and_never_wraps_twice():
    import keras

    from zoo.layers.preprocessing import attach

    data = zoo.data.load("digits")
    network = zoo.build("mlp_tiny", input_shape=(8, 8, 1), num_classes=10)
    with pytest.raises(TypeError, match=r"named 'preprocessing'.*Received"):
        attach(network, keras.Sequential([keras.layers.Rescaling(1 / 255)], name="other"))
    assert attach(network, None) is network
    whole = attach(network, data.preprocessor)
    assert split(whole) == (whole.layers[1], network)
    assert attach(whole, data.preprocessor) is whole  # takes raw input already
    assert split(network) == (None, network)
