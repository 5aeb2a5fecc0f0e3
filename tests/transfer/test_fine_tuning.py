"""fine_tune: stages, freezing, BatchNorm, layer-wise rates, the feature cache, cards."""

import json
import time

import keras
import numpy as np
import pytest

import zoo
from zoo._validation import ArgumentTypeError, ArgumentValueError
from zoo.transfer import demo, find_backbone, fine_tune, layerwise_optimizer
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
    assert type(result.model.optimizer).__name__ == "LayerwiseAdam"
    loaded = zoo.load(result.path)
    assert type(loaded.optimizer).__name__ == "LayerwiseAdam"
    assert loaded.optimizer.multipliers == result.model.optimizer.multipliers
    x = next(iter(digits.test))[0]
    np.testing.assert_allclose(loaded(x), result.model(x), atol=1e-6)
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
    loaded = zoo.load(result.path)
    x = next(iter(digits.test))[0]
    np.testing.assert_allclose(loaded(x), result.model(x), atol=1e-6)


def test_backbone_name_builds_a_raw_pixel_classifier(tmp_path):
    from sample_data import write_images

    folder = write_images(tmp_path / "images", per_class=6, size=(40, 40))
    result = fine_tune(
        "mobilenet_v2",
        folder,
        weights=None,
        epochs=1,
        fine_tune_epochs=1,
        unfreeze=3,
        strategy="cpu",
        save=False,
        verbose=0,
    )
    assert result.model.input_shape == (None, 224, 224, 3)
    assert result.model.get_layer("preprocessing").mode == "tf"
    assert list(result.history["stage"]) == ["head", "fine_tune"]


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
    import os
    import subprocess
    import sys
    from pathlib import Path

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
    with pytest.raises(ArgumentValueError, match="RGB images"):  # 8x8 grey digits
        fine_tune("mobilenet_v2", digits, weights=None, verbose=0)
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
