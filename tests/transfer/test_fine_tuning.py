"""fine_tune: stages, freezing, BatchNorm, layer-wise rates, the feature cache, cards;
raw input in and out, the checks before any work, the flat-loss warning."""

import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import keras
import numpy as np
import pytest

import zoo
from zoo._validation import ArgumentTypeError, ArgumentValueError
from zoo.layers.preprocessing import attach, split
from zoo.transfer import (
    adapting,
    demo,
    feature_cache,
    find_backbone,
    fine_tune,
    layerwise_optimizer,
    with_new_head,
)
from zoo.transfer.layerwise import LayerwiseSGD


@pytest.fixture(scope="module")
def digits():
    return demo.small_large_data(per_digit=4, batch_size=16)


def _values(layer):
    return {w.path: np.array(w) for w in layer.weights}


def _changed(before, after):
    return {k for k in before if not np.allclose(before[k], after[k])}


def _bn(backbone):
    return [w for w in backbone.weights if "bn" in w.path]


def _raw(data, split="test"):
    """A split's images as raw 0-255 pixels (uint8), in the pipeline's order."""
    x = np.concatenate([x for x, _ in getattr(data, split).as_numpy_iterator()])
    return np.round(x / data.options.scale).astype("uint8")


def _grey_images(root, size=12, per_class=8):
    """A folder of grey PNGs, two classes told apart by brightness."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for c, name in enumerate(("dark", "light")):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            pixels = rng.integers(0, 120, (size, size)) + 120 * c
            Image.fromarray(pixels.astype("uint8"), mode="L").save(root / name / f"{i}.png")
    return root


def _tiny_rgb_classifier(size):
    """A transfer-style classifier on 0-255 RGB: ImagePreprocessing, a tiny backbone, a head."""
    inputs = keras.Input((size, size, 3), name="images")
    x = zoo.layers.ImagePreprocessing("tf", name="preprocessing")(inputs)
    backbone = keras.Sequential(
        [
            keras.Input((size, size, 3)),
            keras.layers.Conv2D(4, 3, activation="relu", name="conv"),
            keras.layers.GlobalAveragePooling2D(name="pool"),
        ],
        name="backbone",
    )
    outputs = keras.layers.Dense(2, activation="softmax", name="predictions")(backbone(x))
    return keras.Model(inputs, outputs, name="tiny_rgb")


def _three_digits():
    """Digits 0, 1 and 2 of half B, three balanced classes."""
    x, y, _, b = demo._halves()
    keep = b[np.isin(y[b], [0, 1, 2])][:150]
    return zoo.data.load(x[keep], y[keep].astype(str), batch_size=16, test_split=0.3)


def test_head_stage_freezes_backbone_and_trains_on_cached_features(digits, tmp_path):
    model = demo.build_network(2)
    backbone = find_backbone(model)
    before = _values(backbone)
    head_before = _values(model.get_layer("predictions"))
    result = fine_tune(model, digits, epochs=3, fine_tune_epochs=0, save=False, verbose=0)
    assert not _changed(before, _values(backbone))  # frozen really freezes
    assert _changed(head_before, _values(model.get_layer("predictions")))
    assert list(result.history["stage"]) == ["head"] * 3
    assert list(result.history["epoch"]) == [1, 2, 3]
    assert bool(result.stages["feature_cache"].iloc[0])
    assert result.stages["trainable_params"].iloc[0] == 64 * 2 + 2
    assert 0.0 <= result.metrics["accuracy"] <= 1.0


def test_fine_tune_stage_trains_backbone_but_not_batchnorm(digits):
    model = demo.build_network(2)
    backbone = find_backbone(model)
    before = _values(backbone)
    result = fine_tune(model, digits, epochs=1, fine_tune_epochs=2, save=False, verbose=0)
    changed = _changed(before, _values(backbone))
    assert any("conv" in path for path in changed)  # unfreezing really trains
    assert not any("bn" in path for path in changed)  # statistics and scale stay put
    assert list(result.history["stage"]) == ["head", "fine_tune", "fine_tune"]
    assert list(result.history["epoch"]) == [1, 2, 3]
    rates = result.stages.set_index("stage")["learning_rate"]
    assert rates["fine_tune"] == pytest.approx(rates["head"] / 10)
    assert result.stages["trainable_params"].iloc[1] > result.stages["trainable_params"].iloc[0]


def test_train_batchnorm_moves_statistics_when_asked(digits):
    model = demo.build_network(2)
    backbone = find_backbone(model)
    before = {w.path: np.array(w) for w in _bn(backbone)}
    fine_tune(
        model, digits, epochs=0, fine_tune_epochs=1, train_batchnorm=True, save=False, verbose=0
    )
    after = {w.path: np.array(w) for w in _bn(backbone)}
    changed = _changed(before, after)
    assert any("moving_mean" in p for p in changed) and any("gamma" in p for p in changed)


def test_unfreeze_top_layers_or_from_a_named_layer(digits):
    model = demo.build_network(2)
    backbone = find_backbone(model)
    before = _values(backbone)
    fine_tune(model, digits, epochs=0, fine_tune_epochs=1, unfreeze=1, save=False, verbose=0)
    assert {p.split("/")[-2] for p in _changed(before, _values(backbone))} == {"embedding"}

    model = demo.build_network(2)
    backbone = find_backbone(model)
    before = _values(backbone)
    fine_tune(
        model, digits, epochs=0, fine_tune_epochs=1, unfreeze="block2_conv1", save=False, verbose=0
    )
    layers = {p.split("/")[-2] for p in _changed(before, _values(backbone))}
    assert {"block2_conv1", "block2_conv2", "embedding"} <= layers
    assert not any(name.startswith("block1") for name in layers)


def test_layerwise_rates_apply_as_stated():
    inputs = keras.Input((3,))
    inner = keras.Sequential(
        [keras.layers.Dense(4, name="low"), keras.layers.Dense(4, name="high")], name="backbone"
    )
    outputs = keras.layers.Dense(2, name="head")(inner(inputs))
    model = keras.Model(inputs, outputs)
    optimizer = layerwise_optimizer(model, "sgd", 0.1, decay=0.5, groups=2)
    by_path = dict(
        zip([w.path for w in model.trainable_variables], optimizer.multipliers, strict=False)
    )
    assert {p.split("/")[-2]: m for p, m in by_path.items()} == {
        "low": 0.25,
        "high": 0.5,
        "head": 1.0,
    }
    x = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
    y = np.array([0, 1] * 4)
    deltas = []
    for chosen in (optimizer, keras.optimizers.SGD(0.1)):
        clone = keras.models.clone_model(model)
        clone.set_weights(model.get_weights())
        before = [np.array(w) for w in clone.trainable_variables]
        clone.compile(chosen, "sparse_categorical_crossentropy")
        clone.train_on_batch(x, y)
        deltas.append(
            [np.array(w) - b for w, b in zip(clone.trainable_variables, before, strict=False)]
        )
    for layerwise, plain, factor in zip(*deltas, optimizer.multipliers, strict=False):
        np.testing.assert_allclose(layerwise, factor * plain, rtol=1e-4, atol=1e-7)


def test_layerwise_optimizer_round_trips_with_the_model(digits, tmp_path):
    model = demo.build_network(2)
    result = fine_tune(
        model,
        digits,
        epochs=1,
        fine_tune_epochs=1,
        layer_decay=0.5,
        save=True,
        verbose=0,
        output=str(tmp_path / "tuned"),
    )
    network = split(result.model)[1]  # the network inside keeps its compiled optimizer
    assert type(network.optimizer).__name__ == "LayerwiseAdam"
    loaded = split(zoo.load(result.path))[1]
    assert type(loaded.optimizer).__name__ == "LayerwiseAdam"
    assert loaded.optimizer.multipliers == network.optimizer.multipliers
    x = next(iter(digits.test))[0]
    np.testing.assert_allclose(loaded(x), network(x), atol=1e-6)
    card = zoo.load_card(result.path)["fine_tuning"]
    assert [s["stage"] for s in card["stages"]] == ["head", "fine_tune"]
    assert card["stages"][1]["learning_rate"] == pytest.approx(1e-4)
    assert card["layer_decay"] == 0.5
    assert (result.path / "curves.png").stat().st_size > 1000
    history = (result.path / "history.csv").read_text().splitlines()
    assert history[0].startswith("epoch,stage")


def test_layerwise_sgd_checks_the_variable_count():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(LayerwiseSGD(0.1, multipliers=[1.0]), "mse")
    with pytest.raises(ArgumentValueError, match="one learning-rate factor per trainable"):
        model.train_on_batch(np.ones((2, 2)), np.ones((2, 1)))


def test_feature_cache_is_keyed_and_reused(digits, monkeypatch, tmp_path):
    monkeypatch.setenv("ZOO_SAVED_MODELS", str(tmp_path / "models"))
    model = demo.build_network(2)
    fine_tune(model, digits, epochs=1, fine_tune_epochs=0, save=False, verbose=0)
    cache = tmp_path / "models" / ".cache" / "features"
    first = sorted(cache.glob("*.npz"))
    assert len(first) == 2  # train and validation
    stamps = [p.stat().st_mtime_ns for p in first]
    fine_tune(model, digits, epochs=1, fine_tune_epochs=0, save=False, verbose=0)
    assert sorted(cache.glob("*.npz")) == first
    assert [p.stat().st_mtime_ns for p in first] == stamps  # reused, not recomputed
    other = demo.build_network(2)
    kernel = find_backbone(other).weights[0]
    kernel.assign(kernel + 0.01)  # other backbone weights: never the same cache
    fine_tune(other, digits, epochs=1, fine_tune_epochs=0, save=False, verbose=0)
    assert len(list(cache.glob("*.npz"))) == 4
    augmented = zoo.data.load(
        *demo._halves()[:2], augment={"rotation": 0.1}, batch_size=64, test_split=0.5
    )
    result = fine_tune(
        demo.build_network(10), augmented, epochs=1, fine_tune_epochs=0, save=False, verbose=0
    )
    assert not bool(result.stages["feature_cache"].iloc[0])
    with pytest.raises(ArgumentValueError, match="augmented"):
        fine_tune(demo.build_network(10), augmented, epochs=1, cache_features=True, verbose=0)


def test_demo_data_has_the_same_labels_of_every_digit(digits):
    _, y, _, b = demo._halves()
    train = digits._indices["train"]
    assert np.bincount(y[b][train], minlength=10).tolist() == [4] * 10
    assert digits.class_names == ("large", "small")
    assert digits.sizes["validation"] == 10 and digits.sizes["test"] == len(b) - 50
    with pytest.raises(ArgumentValueError, match="per_digit"):
        demo.small_large_data(per_digit=100)
    with pytest.raises(ArgumentTypeError, match="per_digit"):
        demo.small_large_data(per_digit=1.5)


def test_shipped_checkpoint_gets_a_new_head_and_round_trips(digits, tmp_path):
    card = zoo.load_card(demo.find_checkpoint())
    assert card["pretraining"]["made_by"] == "scripts/make_pretrained_checkpoint.py"
    assert card["output_shape"] == [None, 10]
    result = fine_tune(
        demo.CHECKPOINT,
        digits,
        epochs=2,
        fine_tune_epochs=1,
        verbose=0,
        output=str(tmp_path / "small_large"),
    )
    assert result.model.output_shape == (None, 2)
    assert result.model.input_shape == (None, 8, 8, 1)  # raw 0-255 pixels
    assert split(result.model)[0] is not None
    loaded = zoo.load(result.path)
    raw = _raw(digits)
    np.testing.assert_allclose(loaded.predict(raw, verbose=0), result.predictions, atol=1e-5)


def test_backbone_name_builds_a_raw_pixel_classifier_at_the_data_resolution(tmp_path, capsys):
    from sample_data import write_images

    folder = write_images(tmp_path / "images", per_class=6, size=(40, 36))
    result = fine_tune(
        "mobilenet_v2",
        folder,
        weights=None,
        epochs=1,
        fine_tune_epochs=1,
        unfreeze=3,
        strategy="cpu",
        verbose=0,
        output=str(tmp_path / "tuned"),
    )
    # The data's own 36x40 (height x width), not ImageNet's 224x224 upsampled.
    assert result.model.input_shape == (None, 36, 40, 3)
    assert result.model.get_layer("preprocessing").mode == "tf"
    assert list(result.history["stage"]) == ["head", "fine_tune"]
    assert "mobilenet_v2.keras_in1k at 36x40 (the data's resolution" in capsys.readouterr().out
    card = zoo.load_card(result.path)["fine_tuning"]
    assert card["image_size"] == [36, 40] and card["adapted"] is None
    assert card["input_scale"] == pytest.approx(255.0)  # 0-255 pixels into the classifier


def test_backbone_name_takes_image_size_and_its_smallest_input(tmp_path, capsys):
    from sample_data import write_images

    folder = write_images(tmp_path / "images", per_class=4, size=(20, 20))
    result = fine_tune(
        "mobilenet_v3_small",
        folder,
        weights=None,
        image_size=48,
        epochs=1,
        fine_tune_epochs=0,
        save=False,
        verbose=0,
    )
    assert result.model.input_shape == (None, None, None, 3)  # resized, as the data were
    assert split(result.model)[1].input_shape == (None, 48, 48, 3)
    assert "at 48x48 (image_size=(48, 48))" in capsys.readouterr().out
    # 8x8 grey digits: built at the backbone's smallest input, 32x32, and turned RGB.
    x, y, _, b = demo._halves()
    few = zoo.data.load(x[b][:40], y[b][:40] % 2, batch_size=16, test_split=0.25)
    result = fine_tune(
        "mobilenet_v3_small",
        few,
        weights=None,
        epochs=1,
        fine_tune_epochs=0,
        save=False,
        verbose=0,
    )
    out = capsys.readouterr().out
    assert "at 32x32 (its smallest input, the data's images being 8x8" in out
    assert "resized from 8x8 to 32x32 and turned from grey into RGB" in out
    assert result.model.input_shape == (None, 8, 8, 1)
    assert split(result.model)[1].input_shape == (None, 32, 32, 3)


@pytest.mark.parametrize(
    ("backbone", "data_size", "expected"),
    [
        ("mobilenet_v3_small", 40, (40, 40)),
        ("efficientnet_b0", 8, (32, 32)),
        ("convnext_tiny", 31, (32, 32)),
        ("xception", 64, (71, 71)),
        ("inception_v3", 100, (100, 100)),
        ("inception_v3", 32, (75, 75)),
    ],
)
def test_backbone_size_is_the_data_resolution_or_the_smallest_input(backbone, data_size, expected):
    from zoo.transfer import BACKBONES

    minimum = BACKBONES[backbone].min_size
    size, _ = adapting.backbone_size((data_size, data_size, 3), backbone, minimum, None)
    assert size == expected
    with pytest.raises(ArgumentValueError, match=rf"at least {minimum}x{minimum}"):
        adapting.check_image_size(minimum - 1, minimum, backbone)


# --- raw input in and out; checks before any work; the flat-loss warning ------------


def test_a_model_that_takes_raw_input_is_split_fine_tuned_and_put_back(digits, tmp_path, capsys):
    # A zoo model trained from scratch takes raw pixels: attach(network, preprocessor).
    wrapped = attach(zoo.load(demo.find_checkpoint()), demo.pretraining_data().preprocessor)
    zoo.save(wrapped, tmp_path / "from_scratch")
    before = _values(find_backbone(split(wrapped)[1]))
    result = fine_tune(
        str(tmp_path / "from_scratch"),
        digits,
        epochs=1,
        fine_tune_epochs=1,
        verbose=0,
        output=str(tmp_path / "tuned"),
    )
    preprocessor, network = split(result.model)
    assert [layer.name for layer in preprocessor.layers] == ["pixels", "rescale"]
    assert network.name == "digits_convnet" and network.output_shape == (None, 2)
    assert _changed(before, _values(find_backbone(network)))  # the network was fine-tuned
    raw = _raw(digits)
    np.testing.assert_allclose(result.model.predict(raw, verbose=0), result.predictions, atol=1e-5)
    assert capsys.readouterr().out == ""  # nothing adapted, nothing said

    # Data scaled otherwise than the network was trained: rescaled to its scale.
    x, y, _, b = demo._halves()
    unscaled = zoo.data.load(x[b], y[b] % 2, rescale=False, test_split=0.5)
    result = fine_tune(wrapped, unscaled, epochs=1, fine_tune_epochs=0, save=False, verbose=0)
    assert "rescaled by 0.00392157 to the model's pixel scale" in capsys.readouterr().out
    assert "fit_scale" in [layer.name for layer in split(result.model)[0].layers]


def test_surgery_looks_behind_raw_input_preprocessing(digits):
    network = demo.build_network(10)
    wrapped = attach(network, digits.preprocessor)
    assert find_backbone(wrapped) is network.get_layer("backbone")
    headed = with_new_head(wrapped, 3)
    preprocessor, inner = split(headed)
    assert [layer.name for layer in preprocessor.layers] == ["pixels", "rescale"]
    assert headed.output_shape == (None, 3) and headed.input_shape == (None, 8, 8, 1)
    assert inner.get_layer("backbone") is network.get_layer("backbone")


def test_data_that_do_not_fit_fail_before_any_feature_is_computed(tmp_path, monkeypatch):
    from sample_data import write_images

    computed = []
    monkeypatch.setattr(feature_cache, "features", lambda *args, **kw: computed.append(args))
    photos = zoo.data.load(write_images(tmp_path / "photos", per_class=6, size=(24, 24)))
    with pytest.raises(ArgumentValueError) as error:
        fine_tune(demo.CHECKPOINT, photos, verbose=0)
    message = str(error.value)
    assert "(8, 8, 1)" in message and "(24, 24, 3)" in message  # both shapes
    assert "image_size=(8, 8)" in message and "color_mode='grayscale'" in message  # the fix
    larger = zoo.data.load("digits", image_size=16)  # grey, but shrinking loses detail
    with pytest.raises(ArgumentValueError, match=r"shrinking.*image_size=\(8, 8\)"):
        fine_tune(demo.CHECKPOINT, larger, verbose=0)
    assert computed == []
    assert not (tmp_path / "saved_models" / ".cache").exists()


def test_a_folder_fine_tune_loads_itself_is_read_to_fit(tmp_path, capsys):
    from sample_data import write_images

    folder = write_images(tmp_path / "photos", per_class=6, size=(24, 24))
    result = fine_tune(demo.CHECKPOINT, folder, epochs=1, fine_tune_epochs=0, save=False)
    out = capsys.readouterr().out
    assert "the model takes 8x8 grey images" in out
    assert "read as grey (they are RGB) and resized to 8x8 (they are 24x24)" in out
    assert result.model.input_shape == (None, None, None, 1)  # any size, resized inside
    assert split(result.model)[1].input_shape == (None, 8, 8, 1)


def test_grey_data_are_turned_rgb_and_upsampled_for_an_rgb_model(tmp_path, capsys):
    data = zoo.data.load(_grey_images(tmp_path / "grey"), batch_size=8, test_split=0.25)
    assert data.input_shape == (12, 12, 1)
    result = fine_tune(
        _tiny_rgb_classifier(16),
        data,
        epochs=2,
        fine_tune_epochs=1,
        verbose=0,
        output=str(tmp_path / "tiny_rgb"),
    )
    assert "resized from 12x12 to 16x16 and turned from grey into RGB" in capsys.readouterr().out
    assert result.model.input_shape == (None, 12, 12, 1)  # what the data's images are
    card = zoo.load_card(result.path)["fine_tuning"]
    assert card["image_size"] == [16, 16]
    assert card["adapted"] == {"resize_to": [16, 16], "grey_to_rgb": True, "pixel_factor": 1.0}
    raw = _raw(data)
    np.testing.assert_allclose(result.model.predict(raw, verbose=0), result.predictions, atol=1e-5)
    # zoo.evaluate scores the adapted model whole, on raw pixels: the same numbers
    scored = zoo.evaluate(zoo.load(result.path), data)
    assert scored.metrics["accuracy"] == pytest.approx(result.metrics["accuracy"])


PARITY = """
import json, sys
import numpy as np
import zoo
found = {}
for folder in sys.argv[1:]:
    model = zoo.load(folder)
    predictions = model.predict(np.load(folder + "/raw.npy"), verbose=0)
    found[folder] = float(np.abs(predictions - np.load(folder + "/expected.npy")).max())
print("RESULT", json.dumps(found))
"""


def test_saved_fine_tuned_models_take_raw_pixels_in_a_fresh_process(digits, tmp_path):
    runs = {
        # A zoo network on [0, 1] pipelines: saved with the data's Rescaling in front.
        "checkpoint": (demo.CHECKPOINT, digits),
        # A classifier on 0-255 (ImagePreprocessing inside), grey 12x12 data: saved
        # with Resizing to 16x16 and grey to RGB in front.
        "adapted": (
            _tiny_rgb_classifier(16),
            zoo.data.load(_grey_images(tmp_path / "grey"), batch_size=8, test_split=0.25),
        ),
    }
    folders = []
    for name, (model, data) in runs.items():
        result = fine_tune(
            model, data, epochs=2, fine_tune_epochs=1, verbose=0, output=str(tmp_path / name)
        )
        np.save(result.path / "raw.npy", _raw(data))  # uint8 0-255 pixels
        np.save(result.path / "expected.npy", result.predictions)  # on the pipelines
        folders.append(str(result.path))
    script = tmp_path / "parity.py"
    script.write_text(PARITY)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    command = [sys.executable, str(script), *folders]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT"))
    differences = json.loads(line.split(" ", 1)[1])
    assert all(difference < 1e-5 for difference in differences.values()), differences


def test_a_head_whose_loss_does_not_move_warns():
    data = _three_digits()
    model = demo.build_network(3)
    for weight in find_backbone(model).get_layer("embedding").weights:
        weight.assign(np.zeros(weight.shape))  # every image gets the same (zero) features
    with pytest.warns(UserWarning, match=r"did not move.*ln\(3\) = 1\.0986") as caught:
        fine_tune(model, data, epochs=3, fine_tune_epochs=0, save=False, verbose=0)
    message = next(str(w.message) for w in caught if "did not move" in str(w.message))
    assert "pixel scale" in message and "resolution" in message and "learning rate" in message
    with warnings.catch_warnings():  # a pretrained backbone: the loss moves, no warning
        warnings.filterwarnings("error", message=".*did not move")
        fine_tune(demo.CHECKPOINT, data, epochs=3, fine_tune_epochs=0, save=False, verbose=0)


def test_the_flat_loss_check_needs_epochs_and_a_loss_far_from_fitted():
    import pandas as pd

    from zoo.transfer.fine_tuning import _check_head_learns

    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*did not move")
        _check_head_learns(pd.DataFrame({"loss": [1.0986]}), 3, 1e-3)  # one epoch
        _check_head_learns(pd.DataFrame({"loss": [0.01, 0.01, 0.01]}), 3, 1e-3)  # fitted
        _check_head_learns(pd.DataFrame({"loss": [1.2, 1.1, 1.05]}), 3, 1e-3)  # learning
        _check_head_learns(pd.DataFrame({"loss": [np.nan, np.nan]}), 3, 1e-3)
    with pytest.warns(UserWarning, match="did not move"):
        _check_head_learns(pd.DataFrame({"loss": [0.6931, 0.6931, 0.6932, 0.5]}), 2, 1e-3)


def test_plan_adapts_losslessly_or_says_how_to_load():
    assert not adapting.plan((8, 8, 1), (8, 8, 1), permissive=False)
    assert not adapting.plan((8, 8, 1), (None, None, 1), permissive=False)
    assert adapting.plan((8, 8, 1), (32, 32, 3), permissive=False) == adapting.Adaptation(
        size=(32, 32), to_rgb=True
    )
    assert adapting.plan((64, 64, 3), (32, 32, 3), permissive=True).size == (32, 32)
    with pytest.raises(ArgumentValueError, match=r"shrinking.*image_size=\(32, 32\)"):
        adapting.plan((64, 64, 3), (32, 32, 3), permissive=False)
    with pytest.raises(ArgumentValueError, match="RGB images for a grey model"):
        adapting.plan((8, 8, 3), (8, 8, 1), permissive=True)
    with pytest.raises(ArgumentValueError, match=r"shape the model takes, \(8, 8, 1\)"):
        adapting.plan((64,), (8, 8, 1), permissive=True)


MIRRORED = """
import json, sys
from pathlib import Path
import zoo
from sample_data import write_images
zoo.distribute.logical_cpus(2)
folder = write_images(Path(sys.argv[1]) / "images", per_class=8, size=(40, 40))
result = zoo.transfer.fine_tune(
    "mobilenet_v3_small", folder, weights=None, epochs=2, fine_tune_epochs=1, unfreeze=4,
    strategy="mirrored", output=sys.argv[1] + "/mirrored", verbose=0,
)
card = json.loads((result.path / "zoo.json").read_text())
print("RESULT", json.dumps({
    "replicas": card["fine_tuning"]["replicas"],
    "stages": list(result.history["stage"]),
    "cached": bool(result.stages["feature_cache"].iloc[0]),
    "accuracy": result.metrics["accuracy"],
}))
"""


def test_backbone_name_fine_tunes_under_mirrored_strategy(tmp_path):
    script = tmp_path / "mirrored.py"
    script.write_text(MIRRORED)
    tests = Path(__file__).resolve().parents[1]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(tests)}
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT"))
    result = json.loads(line.split(" ", 1)[1])
    assert result["replicas"] == 2
    assert result["stages"] == ["head", "head", "fine_tune"]
    assert result["cached"] and 0 <= result["accuracy"] <= 1


def test_bad_arguments(digits, monkeypatch, tmp_path):
    from sample_data import write_images

    model = demo.build_network(2)
    cases = [
        ({"model": "mobilnet_v2"}, ArgumentValueError, "mobilenet_v2"),
        ({"unfreeze": "blok2_conv1"}, ArgumentValueError, "block2_conv1"),
        ({"unfreeze": 0}, ArgumentValueError, "unfreeze"),
        ({"unfreeze": True}, ArgumentTypeError, "unfreeze"),
        ({"layer_decay": 0}, ArgumentValueError, "layer_decay"),
        ({"epochs": 0, "fine_tune_epochs": 0}, ArgumentValueError, "nothing to train"),
        ({"learning_rate": -1.0}, ArgumentValueError, "learning_rate"),
        ({"optimizer": "adagrad"}, ArgumentValueError, "optimizer"),
        ({"cache_features": "yes"}, ArgumentValueError, "cache_features"),
        ({"strategy": "mirrored"}, ArgumentValueError, "strategy"),
        ({"callbacks": [print]}, ArgumentTypeError, "callbacks"),
        ({"verbose": 3}, ArgumentValueError, "verbose"),
        ({"model": 3}, ArgumentTypeError, "model"),
        (
            {
                "model": keras.Sequential(
                    [keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(2)]
                )
            },
            ArgumentValueError,
            "backbone",
        ),
    ]
    for overrides, error, words in cases:
        arguments = {"model": model, "epochs": 1, "fine_tune_epochs": 1, **overrides}
        with pytest.raises(error, match=words):
            fine_tune(arguments.pop("model"), digits, **{"save": False, "verbose": 0, **arguments})
    with pytest.raises(ArgumentValueError, match="at least 32x32"):  # before data loads
        fine_tune("mobilenet_v2", digits, weights=None, image_size=16, verbose=0)
    with pytest.raises(ArgumentValueError, match=r"image_size.*takes 8x8 images"):
        fine_tune(model, digits, image_size=16, verbose=0)
    with pytest.raises(ArgumentValueError, match="image_size"):
        fine_tune(model, digits, image_size=(16, 16, 3), verbose=0)
    rgb = zoo.data.load(np.zeros((20, 8, 8, 4), "uint8"), np.arange(20) % 2)
    with pytest.raises(ArgumentValueError, match="RGB"):
        fine_tune("mobilenet_v2", rgb, weights=None, verbose=0)
    monkeypatch.setenv("ZOO_OFFLINE", "1")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    folder = write_images(tmp_path / "images", per_class=6)
    start = time.perf_counter()
    with pytest.raises(ArgumentValueError, match=r"mobilenet_v2_weights.*keras"):
        fine_tune("mobilenet_v2", folder, verbose=0)
    assert time.perf_counter() - start < 2


def test_finetune_command(tmp_path, capsys):
    from zoo import cli

    status = cli.main(
        [
            "finetune",
            demo.CHECKPOINT,
            "--data",
            "digits",
            "--epochs",
            "1",
            "--fine-tune-epochs",
            "1",
            "--unfreeze",
            "2",
            "--output",
            str(tmp_path / "cli"),
        ]
    )
    assert status == 0
    out = capsys.readouterr().out
    assert "fine_tune" in out and "accuracy" in out
    card = json.loads((tmp_path / "cli" / "zoo.json").read_text())
    assert card["fine_tuning"]["unfreeze"] == 2
    assert cli.main(["finetune", "mobilnet_v2", "--data", "digits"]) == 2


def test_demo_prints_fine_tuned_against_scratch(tmp_path, capsys):
    from zoo import cli

    result = cli.run_transfer_demo(
        str(tmp_path / "demo"), per_digit=2, epochs=3, fine_tune_epochs=1
    )
    out = capsys.readouterr().out
    assert "fine-tuned" in out and "from scratch" in out and "gain" in out
    assert 0 <= result["fine_tuned_accuracy"] <= 1 and 0 <= result["scratch_accuracy"] <= 1
    assert (tmp_path / "demo" / "zoo.json").is_file()
