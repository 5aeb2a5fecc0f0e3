"""zoo.predict: raw inputs in (images, texts, tables, arrays), one row per input out."""

import os
import subprocess
import sys
import warnings
from pathlib import Path
from types import SimpleNamespace

import keras
import numpy as np
import pandas as pd
import pytest
from PIL import Image
from sample_data import write_images

import zoo
from zoo.data.images import decode_fn
from zoo.data.inputs import as_strings
from zoo.layers.preprocessing import attach

REVIEWS = {"pos": "good great fine lovely", "neg": "bad awful poor terrible"}


def write_reviews(root: Path) -> Path:
    for label, words in REVIEWS.items():
        (root / label).mkdir(parents=True)
        for i in range(6):
            (root / label / f"{i}.txt").write_text(" ".join(words.split() * (i % 3 + 1)))
    return root


def raw_predict(model: keras.Model, x) -> np.ndarray:
    """Keras's predict on raw strings or columns; off TensorFlow, its string layers run in
    tf.data (Keras runs them only there), then the network."""
    if keras.backend.backend() == "tensorflow":
        return model.predict(x, verbose=0)
    from zoo._compat.keras import preprocessed_batches
    from zoo.layers.preprocessing import split

    preprocessor, network = split(model)
    batches = preprocessed_batches(preprocessor, x, 32)
    return np.concatenate([network.predict_on_batch(b) for b in batches])


def houses_frame(n: int = 30) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "rooms": rng.integers(1, 6, n).astype("float64"),
            "area": rng.normal(80, 20, n),
            "city": rng.choice(["paris", "lyon", "nice"], n),
            "label": rng.choice(["cheap", "dear"], n),
        }
    )


def build_saved_models(root: Path) -> SimpleNamespace:
    """Tiny raw-input models (untrained: predictions need only be consistent), saved.

    ``digits``: 8x8 grey images of a fixed size (10 classes); ``photos``: RGB images
    of any size, resized inside (cat, dog); ``reviews``: strings (neg, pos);
    ``houses``: table rows (cheap, dear).
    """
    sources = {
        "digits": zoo.data.load("digits"),
        "photos": zoo.data.load(write_images(root / "photo_data", per_class=3), image_size=(8, 8)),
        "reviews": zoo.data.load(write_reviews(root / "review_data"), sequence_length=12),
        "houses": zoo.data.load(houses_frame(), target="label"),
    }
    networks = {
        "digits": zoo.build("convnet_tiny", input_shape=(8, 8, 1), num_classes=10),
        "photos": zoo.build("convnet_tiny", input_shape=(8, 8, 3), num_classes=2),
        "reviews": zoo.build(
            "rnn_text_tiny",
            **sources["reviews"].builder_arguments(
                zoo.registry.get_entry("rnn_text_tiny").parameters
            ),
        ),
        "houses": zoo.build("mlp_tiny", input_shape=sources["houses"].input_shape, num_classes=2),
    }
    models, paths = {}, {}
    for name, network in networks.items():
        models[name] = attach(network, sources[name].preprocessor)
        paths[name] = zoo.save(models[name], root / "saved" / name, data=sources[name].describe())
    return SimpleNamespace(models=models, paths=paths, data=sources, root=root)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    return build_saved_models(tmp_path_factory.mktemp("predict"))


def write_png(path: Path, size=(10, 12), mode="RGB", seed=0) -> Path:
    """A random PNG of `size` (height, width) in `mode`."""
    rng = np.random.default_rng(seed)
    channels = {"RGB": 3, "RGBA": 4, "L": 1}[mode]
    pixels = rng.integers(0, 256, (*size, channels), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels[..., 0] if channels == 1 else pixels, mode).save(path)
    return path


def probabilities(table: pd.DataFrame, names) -> np.ndarray:
    return table[list(names)].to_numpy()


# --- images ---------------------------------------------------------------------------


def test_image_files_and_a_folder_as_the_training_pipeline_sees_them(saved, tmp_path):
    folder = tmp_path / "scans"
    files = [
        write_png(folder / "b.png", (8, 8), "RGB", 1),
        write_png(folder / "a.png", (8, 8), "L", 2),
        write_png(folder / "deeper" / "c.png", (20, 14), "RGBA", 3),  # resized to 8x8
    ]
    (folder / "notes.txt").write_text("not an image: skipped in a folder")
    (folder / ".hidden.png").write_bytes(b"skipped too")
    single = write_png(tmp_path / "one.png", (8, 8), "RGB", 4)
    table = zoo.predict(saved.paths["digits"], [folder, str(single)])

    names = [str(i) for i in range(10)]
    assert list(table.columns) == ["input", "predicted", "probability", *names]
    expected_order = [folder / "a.png", folder / "b.png", folder / "deeper" / "c.png", single]
    assert list(table["input"]) == [str(p) for p in expected_order]
    probs = probabilities(table, names)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    assert list(table["predicted"]) == [names[i] for i in probs.argmax(axis=1)]
    np.testing.assert_allclose(table["probability"], probs.max(axis=1))

    # Pixels as zoo.data decodes them for training: RGB -> grey, resized, 0-255.
    decode = decode_fn((8, 8), 1, 1.0)
    pixels = np.stack([decode(str(p)).numpy() for p in expected_order])
    reference = saved.models["digits"].predict(pixels, verbose=0)
    np.testing.assert_allclose(probs, reference, atol=1e-5)
    assert sorted(files) == sorted(expected_order[:3])


def test_a_model_that_resizes_gets_each_size_as_it_is(saved, tmp_path):
    small = write_png(tmp_path / "small.png", (6, 9), "RGB", 1)
    large = write_png(tmp_path / "large.png", (30, 20), "RGB", 2)
    grey = write_png(tmp_path / "grey.png", (6, 9), "L", 3)  # grey -> RGB
    table = zoo.predict(saved.paths["photos"], [small, large, grey], batch_size=1)
    assert list(table.columns) == ["input", "predicted", "probability", "cat", "dog"]
    assert list(table["input"]) == [str(small), str(large), str(grey)]

    model = saved.models["photos"]
    for path, row in zip([small, large, grey], probabilities(table, ["cat", "dog"]), strict=True):
        pixels = np.asarray(Image.open(path).convert("RGB"), "float32")[None]
        expected = model.predict(pixels, verbose=0)[0]  # the model resizes it itself
        np.testing.assert_allclose(row, expected, atol=1e-5)


def test_image_arrays_of_raw_pixels(saved):
    rng = np.random.default_rng(0)
    batch = rng.integers(0, 256, (3, 8, 8, 1)).astype("uint8")
    table = zoo.predict(saved.models["digits"], batch)
    assert list(table["input"]) == [0, 1, 2]
    expected = saved.models["digits"].predict(batch.astype("float32"), verbose=0)
    np.testing.assert_allclose(
        probabilities(table, [str(i) for i in range(10)]), expected, atol=1e-6
    )

    one = zoo.predict(saved.models["digits"], batch[0])  # (h, w, c): one image
    assert list(one["input"]) == [0]
    pd.testing.assert_frame_equal(one, table.iloc[:1], atol=1e-6)

    big = rng.uniform(0, 255, (16, 16, 1))  # another size: resized to the model's 8x8
    resized = keras.ops.convert_to_numpy(
        keras.ops.image.resize(big[None].astype("float32"), (8, 8), antialias=True)
    )
    np.testing.assert_allclose(
        zoo.predict(saved.models["digits"], big)["probability"],
        saved.models["digits"].predict(resized, verbose=0).max(axis=1),
        atol=1e-6,
    )


def test_images_scaled_to_one_get_a_warning(saved):
    with pytest.warns(UserWarning, match=r"raw 0-255 pixels"):
        zoo.predict(saved.models["digits"], np.full((2, 8, 8, 1), 0.5))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        zoo.predict(saved.models["digits"], np.full((2, 8, 8, 1), 200.0))


# --- texts, tables, arrays ----------------------------------------------------------------


def test_strings_for_a_text_model(saved, tmp_path):
    model = saved.models["reviews"]
    texts = ["good great movie", "awful poor", "unknown words only"]
    table = zoo.predict(model, texts, class_names=["neg", "pos"])
    assert list(table.columns) == ["input", "predicted", "probability", "neg", "pos"]
    assert list(table["input"]) == texts
    expected = raw_predict(model, as_strings(texts))
    np.testing.assert_allclose(probabilities(table, ["neg", "pos"]), expected, atol=1e-6)

    by_name = zoo.predict(saved.paths["reviews"], texts)  # the card's class names
    pd.testing.assert_frame_equal(by_name, table, atol=1e-6)
    for form in (pd.Series(texts), np.array(texts), tuple(texts)):
        again = zoo.predict(model, form, class_names=["neg", "pos"])
        pd.testing.assert_frame_equal(again, table, atol=1e-6)
    assert list(zoo.predict(model, "good")["input"]) == ["good"]

    files = tmp_path / "texts"
    files.mkdir()
    for i, text in enumerate(texts):
        (files / f"{i}.txt").write_text(text)
    from_files = zoo.predict(saved.paths["reviews"], [files])  # pathlib.Path: files
    assert list(from_files["input"]) == [str(files / f"{i}.txt") for i in range(3)]
    np.testing.assert_allclose(from_files[["neg", "pos"]], table[["neg", "pos"]], atol=1e-6)


def test_a_table_model_takes_a_dataframe_a_dict_or_a_csv(saved, tmp_path):
    frame = houses_frame(5).set_index(pd.Index(list("abcde")))
    frame["note"] = "ignored"  # columns the model does not take are left out
    table = zoo.predict(saved.paths["houses"], frame)
    assert list(table.columns) == ["input", "predicted", "probability", "cheap", "dear"]
    assert list(table["input"]) == list("abcde")
    columns = {
        "rooms": frame["rooms"].to_numpy("float32"),
        "area": frame["area"].to_numpy("float32"),
        "city": as_strings(frame["city"]),
    }
    expected = raw_predict(saved.models["houses"], columns)
    np.testing.assert_allclose(probabilities(table, ["cheap", "dear"]), expected, atol=1e-6)

    csv = tmp_path / "houses.csv"
    frame.to_csv(csv, index=False)
    from_csv = zoo.predict(saved.paths["houses"], str(csv))
    assert list(from_csv["input"]) == [0, 1, 2, 3, 4]
    np.testing.assert_allclose(from_csv[["cheap", "dear"]], table[["cheap", "dear"]], atol=1e-5)
    two = zoo.predict(saved.paths["houses"], [csv, csv])
    assert list(two["input"])[4:6] == [f"{csv}:4", f"{csv}:0"]

    as_dict = zoo.predict(saved.paths["houses"], {k: list(v) for k, v in columns.items()})
    np.testing.assert_allclose(as_dict[["cheap", "dear"]], table[["cheap", "dear"]], atol=1e-6)
    unseen = frame.assign(city=["berlin", None, "paris", "nice", "lyon"])  # like training
    assert len(zoo.predict(saved.models["houses"], unseen)) == 5


def test_feature_arrays_and_class_names():
    model = zoo.build("mlp_tiny", input_shape=(4,), num_classes=3)
    x = np.random.default_rng(0).normal(size=(5, 4))
    table = zoo.predict(model, x, class_names=["a", "b", "c"])
    assert list(table.columns) == ["input", "predicted", "probability", "a", "b", "c"]
    assert list(table["input"]) == [0, 1, 2, 3, 4]
    np.testing.assert_allclose(table[["a", "b", "c"]], model.predict(x, verbose=0), atol=1e-6)
    assert list(zoo.predict(model, x[0])["input"]) == [0]  # one example
    assert list(zoo.predict(model, [x[0], x[1:3]])["input"]) == [0, 1, 2]
    assert list(zoo.predict(model, x).columns[3:]) == ["0", "1", "2"]


def test_npy_files_for_array_and_image_models(saved, tmp_path):
    model = zoo.build("mlp_tiny", input_shape=(4,), num_classes=3)
    x = np.random.default_rng(0).normal(size=(3, 4)).astype("float32")
    np.save(tmp_path / "x.npy", x)
    pd.testing.assert_frame_equal(zoo.predict(model, tmp_path / "x.npy"), zoo.predict(model, x))
    pixels = np.random.default_rng(1).integers(0, 256, (2, 8, 8, 1)).astype("uint8")
    np.save(tmp_path / "pixels.npy", pixels)
    from_file = zoo.predict(saved.paths["digits"], str(tmp_path / "pixels.npy"))
    pd.testing.assert_frame_equal(from_file, zoo.predict(saved.paths["digits"], pixels))


def test_regression_values():
    one = zoo.build("mlp_tiny", input_shape=(3,), task="regression", num_outputs=1)
    table = zoo.predict(one, np.ones((2, 3)))
    assert list(table.columns) == ["input", "value"]
    np.testing.assert_allclose(table["value"], one.predict(np.ones((2, 3)), verbose=0)[:, 0])
    two = zoo.build("mlp_tiny", input_shape=(3,), task="regression", num_outputs=2)
    assert list(zoo.predict(two, np.ones((2, 3))).columns) == ["input", "value_0", "value_1"]


def test_logits_become_probabilities():
    inputs = keras.Input((2,))
    logits = keras.Model(inputs, keras.layers.Dense(3, name="logits")(inputs))
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    table = zoo.predict(logits, x, class_names=["x", "y", "z"])
    raw = logits.predict(x, verbose=0)
    softmax = np.exp(raw) / np.exp(raw).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(table[["x", "y", "z"]], softmax, rtol=1e-5)

    binary = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(inputs))
    table = zoo.predict(binary, x, class_names=["no", "yes"])
    positive = binary.predict(x, verbose=0)[:, 0]
    np.testing.assert_allclose(table["yes"], positive, rtol=1e-6)
    np.testing.assert_allclose(table["no"], 1 - positive, rtol=1e-6)
    assert list(table["predicted"]) == ["yes" if p > 0.5 else "no" for p in positive]


def test_top_k_layout(saved):
    pixels = np.random.default_rng(1).integers(0, 256, (4, 8, 8, 1))
    full = zoo.predict(saved.models["digits"], pixels)
    table = zoo.predict(saved.models["digits"], pixels, top=3)
    assert list(table.columns) == [
        "input",
        "predicted",
        "probability",
        "top1",
        "top1_probability",
        "top2",
        "top2_probability",
        "top3",
        "top3_probability",
    ]
    assert list(table["top1"]) == list(table["predicted"])
    probs = probabilities(full, [str(i) for i in range(10)])
    best = np.sort(probs, axis=1)[:, ::-1][:, :3]
    np.testing.assert_allclose(
        table[["top1_probability", "top2_probability", "top3_probability"]], best
    )
    for i, row in enumerate(probs):
        shown = [row[int(table[f"top{k}"].iloc[i])] for k in (1, 2, 3)]
        np.testing.assert_allclose(shown, best[i])


# --- a saved model in a fresh process -------------------------------------------------------


def test_a_saved_model_by_name_in_a_fresh_process_gives_the_same_table(saved, tmp_path):
    folder = tmp_path / "scans"
    write_png(folder / "a.png", (7, 9), "RGB", 1)
    write_png(folder / "b.png", (15, 11), "L", 2)
    csv = tmp_path / "houses.csv"
    houses_frame(4).to_csv(csv, index=False)
    texts = ["good great", "awful"]
    code = (
        "import sys, zoo\n"
        "out = sys.argv[1]\n"
        "zoo.predict('photos', [sys.argv[2]], top=2).to_pickle(out + '.photos')\n"
        "zoo.predict('reviews', sys.argv[4:]).to_pickle(out + '.reviews')\n"
        "zoo.predict('houses', sys.argv[3]).to_pickle(out + '.houses')\n"
    )
    out = tmp_path / "table"
    env = {**os.environ, "ZOO_SAVED_MODELS": str(saved.root / "saved")}
    result = subprocess.run(
        [sys.executable, "-c", code, str(out), str(folder), str(csv), *texts],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    expected = {
        "photos": zoo.predict(
            saved.models["photos"], [str(folder)], top=2, class_names=["cat", "dog"]
        ),
        "reviews": zoo.predict(saved.models["reviews"], texts, class_names=["neg", "pos"]),
        "houses": zoo.predict(
            saved.models["houses"], pd.read_csv(csv), class_names=["cheap", "dear"]
        ),
    }
    for name, table in expected.items():
        pd.testing.assert_frame_equal(pd.read_pickle(f"{out}.{name}"), table, atol=1e-6)


# --- bad inputs ---------------------------------------------------------------------------


def test_bad_image_inputs_name_the_input(saved, tmp_path):
    digits = saved.paths["digits"]
    fake = tmp_path / "fake.png"
    fake.write_text("not a png")
    with pytest.raises(ValueError, match=f"readable image files. Received: inputs='{fake}: not"):
        zoo.predict(digits, [fake])
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    with pytest.raises(ValueError, match=f"image files .*Received: inputs='{notes}: not an image"):
        zoo.predict(digits, notes)
    with pytest.raises(ValueError, match=r"existing image files or folders of images"):
        zoo.predict(digits, str(tmp_path / "missing.png"))
    empty = tmp_path / "empty"
    (empty / "sub").mkdir(parents=True)
    (empty / "sub" / "readme.md").write_text("no images here")
    with pytest.raises(ValueError, match=f"folders that hold image files .*'{empty} has none'"):
        zoo.predict(digits, empty)
    with pytest.raises(ValueError, match=r"the model takes images, not text.*inputs='a cat'"):
        zoo.predict(digits, "a cat")
    with pytest.raises(ValueError, match=r"\(n, height, width, 1\).*shape \(2, 8, 8, 3\)"):
        zoo.predict(digits, np.zeros((2, 8, 8, 3)))
    with pytest.raises(TypeError, match=r"not text"):
        zoo.predict(digits, [["a cat", "a dog"]])
    with pytest.raises(ValueError, match=r"at least one input"):
        zoo.predict(digits, [])


def test_bad_text_table_and_array_inputs_name_the_input(saved, tmp_path):
    with pytest.raises(TypeError, match=r"strings .*Received: inputs=3"):
        zoo.predict(saved.paths["reviews"], [3])
    with pytest.raises(TypeError, match=r"strings .*shape \(2, 3\)"):
        zoo.predict(saved.paths["reviews"], np.zeros((2, 3)))

    frame = houses_frame(3).drop(columns=["city", "area"])
    with pytest.raises(ValueError, match=r"missing: \['area', 'city'\]"):
        zoo.predict(saved.paths["houses"], frame)
    with pytest.raises(
        ValueError, match=r"numbers in the numeric column 'rooms'.*first rows \[1\]"
    ):
        zoo.predict(saved.paths["houses"], houses_frame(3).assign(rooms=[1, "many", 2]))
    with pytest.raises(ValueError, match=r"existing CSV files.*nothing.csv"):
        zoo.predict(saved.paths["houses"], "nothing.csv")
    with pytest.raises(TypeError, match=r"a DataFrame, a dict of columns or CSV file paths"):
        zoo.predict(saved.paths["houses"], np.zeros((2, 3)))

    model = zoo.build("mlp_tiny", input_shape=(4,), num_classes=3)
    with pytest.raises(ValueError, match=r"shape \(n, 4\) or \(4,\).*shape \(2, 5\)"):
        zoo.predict(model, np.zeros((2, 5)))
    with pytest.raises(ValueError, match=r"one name per class of the model \(3 classes\)"):
        zoo.predict(model, np.zeros((2, 4)), class_names=["a", "b"])


def test_bad_arguments_and_models():
    model = zoo.build("mlp_tiny", input_shape=(4,), num_classes=3)
    with pytest.raises(ValueError, match=r"at most the number of classes \(3\)"):
        zoo.predict(model, np.zeros((1, 4)), top=4)
    with pytest.raises(ValueError, match=r"`top` must be a positive integer"):
        zoo.predict(model, np.zeros((1, 4)), top=0)
    regressor = zoo.build("mlp_tiny", input_shape=(4,), task="regression", num_outputs=1)
    with pytest.raises(ValueError, match=r"None for a regression model"):
        zoo.predict(regressor, np.zeros((1, 4)), top=1)
    with pytest.raises(FileNotFoundError, match=r"No saved model at .*no_such_model"):
        zoo.predict("no_such_model", np.zeros((1, 4)))
    with pytest.raises(TypeError, match=r"`model` must be a keras.Model or a saved model"):
        zoo.predict(42, np.zeros((1, 4)))
    with pytest.raises(ValueError, match=r"a classifier or a regressor.*reconstruction"):
        zoo.predict(zoo.build("autoencoder_tiny"), np.zeros((1, 8, 8, 1)))
    with pytest.raises(ValueError, match=r"a classifier or a regressor.*language_modeling"):
        zoo.predict(zoo.build("gpt_tiny"), np.zeros((1, 8)))
    with pytest.raises(ValueError, match=r"a functional keras.Model with known inputs"):
        zoo.predict(zoo.build("dcgan_tiny"), np.zeros((1, 8, 8, 1)))


def test_a_model_saved_before_raw_inputs_warns(tmp_path):
    model = zoo.build("convnet_tiny", input_shape=(8, 8, 1), num_classes=3)
    zoo.save(model, tmp_path / "old", data={"task": "classification", "class_names": list("abc")})
    pixels = np.full((2, 8, 8, 1), 128, "uint8")
    with pytest.warns(UserWarning, match="before saved models took raw 0-255 pixels"):
        table = zoo.predict(str(tmp_path / "old"), pixels)
    assert set(table["predicted"]) <= {"a", "b", "c"}
