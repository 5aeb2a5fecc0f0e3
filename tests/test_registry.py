from pathlib import Path

import keras
import pandas as pd
import pytest

import zoo
from zoo import registry
from zoo.architectures import FAMILIES
from zoo.registry import Preset, register

TESTS = Path(__file__).parent / "architectures"


def test_every_family_has_a_test_file_and_a_tiny_preset():
    assert {"mlp", "cnn", "rnn", "resnet", "pretrained"} <= set(FAMILIES)
    own = {}  # family module -> the names of zoo's own builders it registers
    for name in registry.names():
        entry = registry.get_entry(name)
        if entry.source == "zoo" and entry.family != "transfer":
            module = entry.builder.__module__.split(".")[2]
            own.setdefault(module, []).append(name)
    for family in FAMILIES:
        assert (TESTS / f"test_{family}.py").is_file(), f"no tests/architectures/test_{family}.py"
        if family != "pretrained":  # pretrained rows are tested offline with weights=None
            names = own.get(family, [])
            assert any(name.endswith("_tiny") for name in names), f"{family}: no *_tiny preset"


def test_every_tiny_preset_builds():
    tiny = [name for name in registry.names() if name.endswith("_tiny")]
    assert len(tiny) >= 4
    for name in tiny:
        model = zoo.build(name)
        assert isinstance(model, keras.Model) and model.name == name
        keras.backend.clear_session()


def test_list_architectures_table():
    table = zoo.list_architectures()
    assert list(table.columns) == [
        "name",
        "family",
        "task",
        "params",
        "source",
        "weights",
        "offline",
        "layout",
        "aliases",
        "description",
    ]
    assert table["name"].is_unique
    assert (table["params"].dropna() > 0).all()
    assert table[table["source"] == "zoo"]["params"].isna().sum() == 2  # the transfer builders
    assert table["description"].str.len().gt(0).all()
    row = table.set_index("name").loc["resnet_50"]
    assert (row["family"], row["params"], row["source"]) == ("resnet", 25_557_032, "zoo")
    assert row["offline"] and pd.isna(row["weights"])


def test_list_architectures_pattern():
    table = zoo.list_architectures("vgg_1?_bn")
    assert sorted(table["name"]) == ["vgg_11_bn", "vgg_13_bn", "vgg_16_bn", "vgg_19_bn"]
    assert zoo.list_architectures("no_such_*").empty
    with pytest.raises(TypeError, match="pattern"):
        zoo.list_architectures(3)


def test_unknown_name_suggests_close_matches():
    with pytest.raises(ValueError) as info:
        zoo.build("renset_50")
    message = str(info.value)
    assert "'resnet_50'" in message
    assert "zoo.list_architectures()" in message
    assert "Received: architecture='renset_50'" in message
    with pytest.raises(TypeError, match="architecture name"):
        zoo.build(50)
    with pytest.raises(ValueError, match="'mobilenet_v3_small'"):  # bare names are offered
        zoo.build("mobilenet_v3_smal")


def test_names_resolve_to_rows():
    assert registry.find("resnet_50") == "resnet_50"
    assert registry.find("mobilenet_v3_small") == "mobilenet_v3_small.keras_in1k"
    assert registry.find("no_such_net") is None and registry.find(3) is None
    with pytest.warns(DeprecationWarning, match="'resnet_50.keras_in1k'"):
        assert registry.canonical_name("resnet50") == "resnet_50.keras_in1k"
    assert registry.get_entry("mobilenet_v3_small").name == "mobilenet_v3_small.keras_in1k"
    entry = registry.get_entry("resnet_50.keras_in1k")
    assert (entry.architecture, entry.tag) == ("resnet_50", "keras_in1k")


def test_registering_rows_with_aliases_and_tags():
    def builder(units=1, name=None):  # pragma: no cover
        return None

    first = registry.Entry("fresh_net.tag_a", "mlp", "x", "first", builder, {}, aliases=("fn",))
    second = registry.Entry("fresh_net.tag_b", "mlp", "x", "second", builder, {})
    try:
        registry.register_entry(first)
        registry.register_entry(second)
        assert registry.find("fresh_net") == "fresh_net.tag_a"  # the first tag is the default
        assert registry.is_deprecated("fn") and registry.aliases()["fn"] == "fresh_net.tag_a"
        with pytest.raises(ValueError, match="already registered"):
            registry.register_entry(registry.Entry("fn", "mlp", "x", "taken", builder, {}))
        with pytest.raises(ValueError, match="already registered"):
            registry.register_entry(
                registry.Entry("other", "mlp", "x", "y", builder, {}, aliases=("resnet_50",))
            )
        with pytest.raises(ValueError, match="source"):
            registry.register_entry(
                registry.Entry("other", "mlp", "x", "y", builder, {}, source="web")
            )
    finally:
        for name in ("fresh_net.tag_a", "fresh_net.tag_b"):
            registry._REGISTRY.pop(name, None)
        registry._ALIASES.pop("fn", None)
        registry._DEFAULTS.pop("fresh_net", None)
    assert registry.find("fresh_net") is None


def test_catalogue_layers_import_nothing_above_them():
    # registry and architectures sit below saving, tasks, engine, training, transfer,
    # tuning, exporting and the CLI: not even a function body may import those.
    import ast

    higher = (
        "zoo.saving",
        "zoo.tasks",
        "zoo.engine",
        "zoo.training",
        "zoo.transfer",
        "zoo.tuning",
        "zoo.exporting",
        "zoo.cli",
        "zoo.environment",
        "zoo.plots",
    )
    package = Path(zoo.__file__).parent
    files = [package / "registry.py", *sorted((package / "architectures").rglob("*.py"))]
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                modules = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            else:
                continue
            for module in modules:
                bad = module.startswith(tuple(f"{h}." for h in higher)) or module in higher
                if module == "zoo":  # from zoo import saving, ...
                    bad = False
                assert not bad, f"{path.relative_to(package)} imports {module}"
            if isinstance(node, ast.ImportFrom) and node.module == "zoo":
                names = {f"zoo.{alias.name}" for alias in node.names}
                assert not names & set(higher), f"{path.relative_to(package)} imports {names}"


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


# ------------------------------------------------------------------- memory bound


def test_a_build_too_big_for_memory_fails_before_allocating(monkeypatch):
    import time

    from zoo._validation import ResourceLimitError

    monkeypatch.setenv("ZOO_MEMORY_LIMIT", "8GB")  # the same on a machine with more RAM
    start = time.perf_counter()
    with pytest.raises(ResourceLimitError) as info:
        zoo.build("mlp_tiny", units=(10**9,), dropout=0.1)
    assert time.perf_counter() - start < 10  # counted, not allocated (about 5 ms here)
    message = str(info.value)
    assert isinstance(info.value, MemoryError)
    assert "76.0 GB" in message and "8.0 GB of memory available" in message
    assert "lower `units`" in message and "dropout" not in message  # dropout adds nothing
    assert message.endswith("Received: units=(1000000000,)")


def test_the_memory_limit_counts_bytes_by_dtype_and_names_a_preset_too_big(monkeypatch):
    from zoo._validation import ResourceLimitError

    float32 = 4 * zoo.count_params("mlp_tiny")["total"]  # 1,256 bytes
    monkeypatch.setenv("ZOO_MEMORY_LIMIT", str(float32 - 1))
    with pytest.raises(ResourceLimitError, match=r"Received: name='mlp_tiny'$"):
        zoo.build("mlp_tiny")
    with pytest.raises(ResourceLimitError):  # mixed precision keeps float32 variables
        zoo.build("mlp_tiny", dtype="mixed_float16")
    assert zoo.build("mlp_tiny", dtype="bfloat16").count_params() == float32 // 4
    monkeypatch.setenv("ZOO_MEMORY_LIMIT", str(float32))
    zoo.build("mlp_tiny")
    monkeypatch.setenv("ZOO_MEMORY_LIMIT", "lots")
    with pytest.raises(ValueError, match=r"ZOO_MEMORY_LIMIT.*Received: ZOO_MEMORY_LIMIT='lots'"):
        zoo.build("mlp_tiny")
    monkeypatch.setenv("ZOO_MEMORY_LIMIT", "1.5 KiB")
    assert registry.memory_available() == 1536


def test_memory_available_reads_meminfo_and_cgroup_limits(tmp_path):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       100 kB\nMemAvailable:    64 kB\n")
    assert registry._system_available(str(meminfo)) == 64 * 1024
    v2 = tmp_path / "v2"
    v2.mkdir()
    (v2 / "memory.max").write_text("max\n")
    assert registry._cgroup_available(str(v2)) is None  # no limit
    (v2 / "memory.max").write_text("1000\n")
    (v2 / "memory.current").write_text("700\n")
    (v2 / "memory.stat").write_text("anon 500\ninactive_file 200\n")
    assert registry._cgroup_available(str(v2)) == 500  # page cache counts as free
    v1 = tmp_path / "v1" / "memory"
    v1.mkdir(parents=True)
    (v1 / "memory.limit_in_bytes").write_text(str(2**63 - 4096))
    assert registry._cgroup_available(str(v1.parent)) is None
    (v1 / "memory.limit_in_bytes").write_text("2000")
    (v1 / "memory.usage_in_bytes").write_text("500")
    assert registry._cgroup_available(str(v1.parent)) == 1500
    assert registry.memory_available() > 0


def test_counting_before_a_build_leaves_seeded_builds_reproducible():
    # The first build of a configuration counts it (drawing layers' default seeds),
    # the second finds the count cached: both must get the same weights.
    for _ in range(2):
        keras.utils.set_random_seed(7)
        first = zoo.build("mlp_tiny", units=(5,)).get_weights()
        keras.utils.set_random_seed(7)
        second = zoo.build("mlp_tiny", units=(5,)).get_weights()
        for a, b in zip(first, second, strict=True):
            assert (a == b).all()
        registry._BYTES_CACHE.clear()
