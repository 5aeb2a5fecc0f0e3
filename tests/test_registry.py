from pathlib import Path

import keras
import pytest

import zoo
from zoo import registry
from zoo.architectures import FAMILIES
from zoo.registry import Preset, register

TESTS = Path(__file__).parent / "architectures"


def test_every_family_has_a_test_file_and_a_tiny_preset():
    assert {"mlp", "cnn", "rnn", "resnet"} <= set(FAMILIES)
    table = zoo.list_architectures()
    for family in FAMILIES:
        assert (TESTS / f"test_{family}.py").is_file(), f"no tests/architectures/test_{family}.py"
        names = table[table["family"] == family]["name"]
        assert any(name.endswith("_tiny") for name in names), f"{family} has no *_tiny preset"


def test_every_tiny_preset_builds():
    tiny = [name for name in registry.names() if name.endswith("_tiny")]
    assert len(tiny) >= 4
    for name in tiny:
        model = zoo.build(name)
        assert isinstance(model, keras.Model) and model.name == name
        keras.backend.clear_session()


def test_list_architectures_table():
    table = zoo.list_architectures()
    assert list(table.columns) == ["name", "family", "task", "params", "description"]
    assert table["name"].is_unique
    assert (table["params"] > 0).all()
    assert table["description"].str.len().gt(0).all()
    row = table.set_index("name").loc["resnet_50"]
    assert (row["family"], row["params"]) == ("resnet", 25_557_032)


def test_list_architectures_pattern():
    table = zoo.list_architectures("vgg_1?_bn")
    assert sorted(table["name"]) == ["vgg_11_bn", "vgg_13_bn", "vgg_16_bn", "vgg_19_bn"]
    assert zoo.list_architectures("no_such_*").empty
    with pytest.raises(TypeError, match="pattern"):
        zoo.list_architectures(3)


def test_unknown_name_suggests_close_matches():
    with pytest.raises(ValueError) as info:
        zoo.build("resnet50")
    message = str(info.value)
    assert "'resnet_50'" in message
    assert "zoo.list_architectures()" in message
    assert "Received: architecture='resnet50'" in message
    with pytest.raises(TypeError, match="architecture name"):
        zoo.build(50)


def test_build_applies_overrides_and_names_model_after_preset():
    model = zoo.build("resnet_20", num_classes=100, input_shape=(16, 16, 3))
    assert model.name == "resnet_20"
    assert model.output_shape == (None, 100)
    assert model.input_shape == (None, 16, 16, 3)
    spec = registry.get_spec(model)
    assert spec["architecture"] == "resnet_20"
    assert spec["arguments"]["num_classes"] == 100
    assert spec["arguments"]["input_shape"] == [16, 16, 3]


def test_duplicate_registration_raises():
    with pytest.raises(ValueError, match="already registered"):

        @register("resnet_50", task="x", description="duplicate")
        def other(name="x"):  # pragma: no cover
            return None


def test_preset_with_unknown_argument_raises():
    with pytest.raises(TypeError, match="does not accept"):

        @register(
            "fresh_name_for_test",
            task="x",
            description="bad preset",
            presets={"fresh_name_for_test_tiny": Preset("bad", {"unitz": 3})},
        )
        def builder(units=1, name="x"):  # pragma: no cover
            return None

    assert "fresh_name_for_test" not in registry.names()


def test_count_params_does_not_allocate_weights():
    # Counting VGG-19 (143M parameters, 575 MB of float32) must not create values.
    counts = zoo.count_params("vgg_19")
    assert counts["trainable"] == 143_667_240
    model = zoo.build("convnet_tiny")
    assert model.count_params() == zoo.count_params("convnet_tiny")["total"]


def test_importing_the_families_draws_no_random_numbers():
    # A family that makes an unseeded initializer at import shifts Python's random
    # stream for whoever seeded before the first zoo.build (caught by the mirrored test).
    import subprocess
    import sys

    code = "import random, keras; keras.utils.set_random_seed(1); {}print(random.random())"
    outputs = [
        subprocess.run(
            [sys.executable, "-c", code.format(extra)], capture_output=True, text=True, check=True
        ).stdout
        for extra in ("", "import zoo.architectures; ")
    ]
    assert outputs[0] == outputs[1]
