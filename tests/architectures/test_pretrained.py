"""The pretrained rows of the catalogue: keras.applications backbones, keras-hub presets,
TF Hub modules, the shipped checkpoint and the transfer builders (issue 15, point 5)."""

import json
import warnings

import keras
import numpy as np
import pytest
from architecture_checks import check_architecture

import zoo
from zoo import registry
from zoo._compat.keras import variables_without_values
from zoo.architectures.pretrained import images
from zoo.transfer import BACKBONES, image_classifier, list_backbones

RENAMED = {
    "resnet50": "resnet_50.keras_in1k",
    "resnet50_v2": "resnet_50_v2.keras_in1k",
    "vgg16": "vgg_16.keras_in1k",
    "densenet121": "densenet_121.keras_in1k",
}
BARE = [
    "mobilenet_v2",
    "mobilenet_v3_small",
    "mobilenet_v3_large",
    "efficientnet_b0",
    "efficientnet_v2_b0",
    "convnext_tiny",
    "densenet_121",
    "xception",
    "inception_v3",
]


@pytest.fixture(autouse=True)
def _no_weights_anywhere(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setenv("KAGGLEHUB_CACHE", str(tmp_path / "kagglehub"))
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(tmp_path / "tfhub"))
    for name in ("ZOO_WEIGHTS_DIR", "ZOO_OFFLINE", "ZOO_WEIGHTS_MIRROR"):
        monkeypatch.delenv(name, raising=False)


def _keras_counts(spec):
    with variables_without_values():
        model = getattr(keras.applications, spec.application)(
            include_top=False, weights=None, **spec.extra
        )
    total = sum(int(np.prod(w.shape)) for w in model.weights)
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    return total, trainable


def test_keras_rows_count_what_keras_applications_counts():
    table = zoo.list_architectures(source="keras.applications").set_index("name")
    backbones = list_backbones().set_index("name")
    assert set(table.index) == set(BACKBONES) and len(BACKBONES) == 12
    for name, spec in BACKBONES.items():
        total, trainable = _keras_counts(spec)
        assert table.loc[name, "params"] == trainable, name
        assert backbones.loc[name, "params"] == trainable, name
        assert zoo.count_params(name) == {"total": total, "trainable": trainable}, name
    assert table.loc["vgg_16.keras_in1k", "params"] == 14_714_688  # keras VGG16, no top


@pytest.mark.parametrize(
    ("name", "backbone", "overrides"),
    [
        ("mobilenet_v3_small", "mobilenet_v3_small", {}),
        ("mobilenet_v3_small.keras_in1k", "mobilenet_v3_small", {}),
        ("resnet_50.keras_in1k", "resnet_50.keras_in1k", {"input_shape": (32, 32, 3)}),
        ("inception_v3", "inception_v3.keras_in1k", {"input_shape": (75, 75, 3)}),
    ],
)
def test_build_by_name_is_image_classifier(name, backbone, overrides):
    built = zoo.build(name, num_classes=3, weights=None, **overrides)
    reference = image_classifier(backbone, 3, weights=None, **overrides)
    assert [type(layer).__name__ for layer in built.layers] == [
        type(layer).__name__ for layer in reference.layers
    ]
    assert [w.shape for w in built.weights] == [w.shape for w in reference.weights]
    assert built.count_params() == reference.count_params()
    assert built.name == reference.name
    assert registry.get_spec(built) == registry.get_spec(reference)
    assert registry.get_spec(built)["architecture"] == registry.canonical_name(name)
    assert registry.get_spec(built)["arguments"]["weights"] == "random initialisation"


def test_headless_default_outputs_pooled_features():
    model = zoo.build("mobilenet_v2", weights=None, input_shape=(32, 32, 3))
    assert model.output_shape == (None, 1280)
    assert not model.get_layer("backbone").trainable


def test_keras_row_passes_the_shared_checks(tmp_path):
    check_architecture(
        "mobilenet_v2", tmp_path, weights=None, input_shape=(32, 32, 3), num_classes=3
    )


def test_names_bare_tagged_and_zoo_own():
    for bare in BARE:
        assert registry.canonical_name(bare) == f"{bare}.keras_in1k"
        assert bare not in registry.names()
    # Where zoo has its own builder, the bare name is zoo's, and the layout tells them apart.
    table = zoo.list_architectures("resnet_50*").set_index("name")
    assert table.loc["resnet_50", "source"] == "zoo"
    assert table.loc["resnet_50.keras_in1k", "source"] == "keras.applications"
    assert table.loc["resnet_50.keras_in1k", "layout"] == "v1, stride on the 1x1 (Keras/Caffe)"
    assert table.loc["resnet_50.keras_in1k", "weights"] == "imagenet"
    assert "resnet50 (deprecated)" in table.loc["resnet_50.keras_in1k", "aliases"]
    assert table.loc["resnet_50", "params"] == 25_557_032
    assert table.loc["resnet_50.keras_in1k", "params"] == 23_534_592
    assert registry.get_entry("vgg_16").source == "zoo"
    assert registry.get_entry("vgg_16.keras_in1k").source == "keras.applications"


@pytest.mark.parametrize(("old", "new"), sorted(RENAMED.items()))
def test_old_names_warn_and_mean_the_new_row(old, new):
    assert old not in registry.names() and registry.is_deprecated(old)
    assert registry.aliases()[old] == new
    with pytest.warns(DeprecationWarning, match=f"'{old}' is deprecated.*'{new}'") as caught:
        model = zoo.build(old, weights=None, input_shape=(32, 32, 3))
    assert caught[0].filename == __file__  # attributed to the caller, not to zoo
    assert registry.get_spec(model)["architecture"] == new
    with pytest.warns(DeprecationWarning, match=new):
        model = image_classifier(old, 2, weights=None, input_shape=(32, 32, 3))
    assert registry.get_spec(model)["arguments"]["backbone"] == new
    with pytest.warns(DeprecationWarning, match=new):
        assert zoo.transfer.local_weights(old) is None
    with pytest.warns(DeprecationWarning, match=new):
        assert images.canonical_name(old) == new
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert BACKBONES[old] is BACKBONES[new] and old in BACKBONES  # lookups stay quiet
        assert old not in list(BACKBONES)


def test_build_backbone_and_cli_accept_old_names(capsys):
    from zoo import cli

    with pytest.warns(DeprecationWarning, match="vgg_16.keras_in1k"):
        backbone = zoo.transfer.build_backbone("vgg16", weights=None, input_shape=(32, 32, 3))
    assert backbone.output_shape == (None, 1, 1, 512)
    with pytest.warns(DeprecationWarning, match="vgg_16.keras_in1k"):
        code = cli.main(["build", "vgg16", "--input-shape", "32,32,3", "--set", "weights=None"])
    assert code == 0 and "Total params" in capsys.readouterr().out


def test_list_architectures_is_one_table():
    table = zoo.list_architectures()
    assert list(table.columns) == registry.COLUMNS
    assert table["name"].is_unique
    assert set(table["source"]) == set(registry.SOURCES)
    assert not set(registry.aliases()) & set(table["name"])  # aliases are not rows
    zoo_rows = table[table["source"] == "zoo"]
    assert zoo_rows["offline"].all() and zoo_rows["weights"].isna().all()
    pretrained = zoo.list_architectures(pretrained=True)
    assert set(pretrained["source"]) == set(registry.SOURCES) - {"zoo"}
    assert pretrained["weights"].notna().all()
    assert not zoo.list_architectures(pretrained=False)["weights"].notna().any()
    hub_rows = zoo.list_architectures(source="tfhub")
    assert hub_rows["params"].isna().all() and not hub_rows["offline"].any()
    text = zoo.list_architectures(source=["keras-hub"]).set_index("name")
    assert text.loc["bert_tiny_en_uncased", "params"] == 4_385_920
    assert text.loc["bert_tiny_en_uncased", "weights"] == "bert_tiny_en_uncased"
    assert list(zoo.list_architectures("resnet50")["name"]) == ["resnet_50.keras_in1k"]
    with pytest.raises(ValueError, match="source"):
        zoo.list_architectures(source="torchvision")
    with pytest.raises(TypeError, match="pretrained"):
        zoo.list_architectures(pretrained="yes")


def test_list_backbones_is_a_view_of_the_catalogue():
    backbones = list_backbones()
    catalogue = zoo.list_architectures(source=["keras.applications", "keras-hub", "tfhub"])
    assert set(backbones["name"]) == set(catalogue["name"])
    assert list(list_backbones("mobilenet_v2")["name"]) == ["mobilenet_v2.keras_in1k"]


def test_transfer_builders_are_entries_with_their_spaces():
    from zoo.transfer import backbones, text

    image = registry.get_entry("image_classifier")
    assert image.builder is zoo.transfer.image_classifier and image.family == "transfer"
    assert image.search_space == backbones.SEARCH_SPACE
    words = registry.get_entry("text_classifier")
    assert words.builder is zoo.transfer.text_classifier
    assert words.search_space == text.SEARCH_SPACE
    for choice in backbones.SEARCH_SPACE["backbone"]:
        assert choice in BACKBONES and not registry.is_deprecated(choice)
    arguments = {"backbone": "mobilenet_v2", "num_classes": 2, "input_shape": (32, 32, 3)}
    model = zoo.build("image_classifier", weights=None, **arguments)
    assert registry.get_spec(model)["architecture"] == "mobilenet_v2.keras_in1k"
    assert zoo.count_params("image_classifier", **arguments)["total"] == model.count_params()


def test_shipped_checkpoint_row(tmp_path):
    from zoo.transfer import demo

    model = zoo.build("digits_convnet_pretrained")
    reference = zoo.load(demo.find_checkpoint())
    x = np.random.default_rng(0).uniform(0, 16, size=(4, 8, 8, 1)).astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), reference.predict(x, verbose=0))
    assert not model.compiled
    row = (
        zoo.list_architectures(source="checkpoint")
        .set_index("name")
        .loc["digits_convnet_pretrained"]
    )
    assert row["offline"] and row["params"] == 82_282
    headed = check_architecture("digits_convnet_pretrained", tmp_path, num_classes=2)
    assert headed.output_shape == (None, 2)


def test_cards_record_catalogue_names(tmp_path):
    model = image_classifier("mobilenet_v2", 2, weights=None, input_shape=(32, 32, 3))
    path = zoo.save(model, tmp_path / "classifier")
    card = json.loads((path / "zoo.json").read_text())
    assert card["architecture"] == "mobilenet_v2.keras_in1k"
    assert card["arguments"]["num_classes"] == 2
    # An old card with a pseudo-name still loads, and keeps what it says.
    card["architecture"] = "transfer:mobilenet_v2"
    (path / "zoo.json").write_text(json.dumps(card))
    loaded = zoo.load(path)
    assert registry.get_spec(loaded)["architecture"] == "transfer:mobilenet_v2"


def test_importing_the_catalogue_imports_no_higher_layer_or_hub():
    import subprocess
    import sys

    code = (
        "import sys, zoo.architectures, zoo.registry; zoo.registry.names(); "
        "print(sorted(m for m in sys.modules if m.startswith(('zoo.transfer', 'zoo.saving', "
        "'zoo.training', 'zoo.tuning', 'keras_hub', 'tensorflow_hub'))))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_shipped_checkpoint_is_package_data():
    """The checkpoint lives inside the package and the wheel's package data holds it."""
    import fnmatch

    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    from pathlib import Path

    import zoo as package
    from zoo.architectures.pretrained.checkpoints import CHECKPOINTS, shipped_models_dir

    root = Path(package.__file__).parent
    assert shipped_models_dir().resolve().parent == root.resolve()
    project = tomllib.loads((root.parent / "pyproject.toml").read_text())
    globs = project["tool"]["setuptools"]["package-data"]["zoo"]
    for name in CHECKPOINTS:
        files = [p for p in (shipped_models_dir() / name).iterdir() if p.is_file()]
        assert {"model.keras", "zoo.json"} <= {p.name for p in files}
        for path in files:
            relative = path.relative_to(root).as_posix()
            assert any(fnmatch.fnmatch(relative, pattern) for pattern in globs), relative
