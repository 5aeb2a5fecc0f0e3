"""Property-based tests: generated bad input ends in one zoo error, never a raw upstream one.

Three front doors get generated input: ``zoo.build`` (bad builder-contract values,
huge sizes), ``zoo.data.load`` (non-finite values, mismatched lengths, wrong dtypes,
stray text cells, damaged or missing files) and ``zoo.load`` (damaged archives and
cards). Each property either ends in a ``zoo.UserError`` whose message says what it
received and names the argument, column, rows or file (``FileNotFoundError`` for a
missing path), or, for a valid draw, succeeds, so no test passes vacuously.

Runs are deterministic (``derandomize=True``) and bounded: a few hundred examples in all,
every one a tiny model or table.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import tempfile
import warnings
import zipfile
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

import zoo
from zoo import _validation as v
from zoo import registry, saving


def _settings(examples: int):
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


def _no_raw_warnings(caught):
    """NumPy/pandas warnings (overflow in a cast, complex parts dropped) are noise."""
    noisy = [w for w in caught if issubclass(w.category, RuntimeWarning)]
    assert not noisy, [f"{w.category.__name__}: {w.message}" for w in noisy]


# ============================================================================ builders

# Cheap rows of the catalogue, one or two per family.
TINY = [
    "mlp_tiny",
    "convnet_tiny",
    "vgg_tiny",
    "resnet_tiny",
    "rnn_tiny",
    "rnn_text_tiny",
    "transformer_tiny",
    "vit_tiny",
    "gpt_tiny",
    "autoencoder_tiny",
    "conv_autoencoder_tiny",
    "vae_tiny",
    "ts_fcn_tiny",
    "ts_resnet_tiny",
    "rbm_tiny",
    "dbn_tiny",
    "dcgan_tiny",
    "cdcgan_tiny",
    "diffusion_tiny",
]
# Structure arguments: sizes (tuples of them or one) that must be positive integers.
SIZES = (
    "units",
    "filters",
    "dense_units",
    "widths",
    "latent_dim",
    "width",
    "mlp_dim",
    "vocab_size",
    "embedding_dim",
    "kernel_sizes",
)

_NAN, _INF = float("nan"), float("inf")
_bad_int_scalar = st.one_of(
    st.integers(max_value=0),
    st.sampled_from([0, -1, 1.0, 2.5, _NAN, _INF, -_INF, True, False, "8", "", b"4"]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=4),
    st.just(np.float32(4.0)),
)
_bad_num_classes = st.one_of(
    st.integers(max_value=0),
    st.sampled_from([1.0, 2.5, _NAN, _INF, True, False, "10", "", [10], (2,), np.float64(3)]),
    st.floats(allow_nan=True, allow_infinity=True),
)
_bad_dropout = st.one_of(
    st.floats(max_value=-1e-9, allow_infinity=True),
    st.floats(min_value=1, allow_infinity=True),
    st.sampled_from([_NAN, _INF, -_INF, 1, 1.0, "0.1", [0.1], True]),
)


def _entry(name):
    return registry.get_entry(name)


@st.composite
def _bad_input_shape(draw, preset):
    kind = draw(st.sampled_from(["rank", "element", "type"]))
    if kind == "rank":  # no builder takes rank 0 or rank 6 and up
        rank = draw(st.sampled_from([0, 6, 7]))
        return tuple(draw(st.lists(st.integers(1, 8), min_size=rank, max_size=rank)))
    if kind == "element":
        shape = list(preset)
        at = draw(st.integers(0, len(shape) - 1))
        shape[at] = draw(
            st.one_of(
                st.integers(max_value=0),
                st.sampled_from([2.0, 8.5, _NAN, _INF, "8", True, b"8", (8,)]),
            )
        )
        return tuple(shape)
    return draw(st.sampled_from(["abc", "(8, 8, 1)", 8.0, _NAN, {"h": 8}, b"\x08", {8}]))


@st.composite
def _bad_size(draw, preset):
    if isinstance(preset, (tuple, list)):
        values = list(preset)
        at = draw(st.integers(0, len(values) - 1))
        values[at] = draw(_bad_int_scalar)
        return tuple(values)
    return draw(_bad_int_scalar)


@st.composite
def _bad_build(draw):
    """(name, argument, bad value) for an argument the row takes."""
    name = draw(st.sampled_from(TINY))
    entry = _entry(name)
    arguments = {"input_shape", "num_classes", "dropout"} & set(entry.parameters)
    arguments |= {a for a in SIZES if a in entry.arguments}
    argument = draw(st.sampled_from(sorted(arguments)))
    if argument == "input_shape":
        value = draw(_bad_input_shape(entry.arguments.get("input_shape", (8,))))
    elif argument == "num_classes":
        value = draw(_bad_num_classes)
    elif argument == "dropout":
        value = draw(_bad_dropout)
    else:
        value = draw(_bad_size(entry.arguments[argument]))
    return name, argument, value


@st.composite
def _good_build(draw):
    """(name, overrides) that must build: valid values of the same arguments."""
    name = draw(st.sampled_from(TINY))
    entry = _entry(name)
    overrides = {}
    if "num_classes" in entry.parameters and draw(st.booleans()):
        overrides["num_classes"] = draw(st.sampled_from([2, 3, 7, np.int64(5)]))
    if "dropout" in entry.parameters and draw(st.booleans()):
        overrides["dropout"] = draw(st.sampled_from([0, 0.0, 0.25, 0.5, np.float32(0.1)]))
    shape = entry.arguments.get("input_shape")
    if shape is not None and draw(st.booleans()):  # doubled spatial sizes keep divisibility
        spatial = len(shape) - 1 if len(shape) == 3 else len(shape)
        scale = draw(st.sampled_from([1, 2]))
        overrides["input_shape"] = tuple(
            d * scale if i < spatial else d for i, d in enumerate(shape)
        )
    for argument in ("units", "filters", "dense_units"):
        preset = entry.arguments.get(argument)
        if isinstance(preset, tuple) and draw(st.booleans()):
            sizes = st.sampled_from([8, 16, np.int32(8)])
            overrides[argument] = tuple(draw(sizes) for _ in preset)
    return name, overrides


@_settings(250)
@given(case=_bad_build())
def test_a_bad_builder_argument_is_one_user_error(case):
    name, argument, value = case
    with pytest.raises(zoo.UserError) as caught:
        zoo.build(name, **{argument: value})
    assert isinstance(caught.value, (v.ArgumentValueError, v.ArgumentTypeError))
    message = str(caught.value)
    assert "Received:" in message, message
    assert f"`{argument}`" in message or f"{argument}=" in message, message


@_settings(30)
@given(case=_good_build())
def test_valid_builder_arguments_build(case):
    name, overrides = case
    model = zoo.build(name, **overrides)
    assert isinstance(model, keras.Model)
    assert model.count_params() > 0


_HUGE = [
    (name, argument)
    for name in ("mlp_tiny", "convnet_tiny", "rnn_tiny", "autoencoder_tiny", "vit_tiny", "gpt_tiny")
    for argument in ("units", "filters", "dense_units", "width", "vocab_size", "input_shape")
    if argument in registry.get_entry(name).arguments
]


@_settings(60)
@given(case=st.sampled_from(_HUGE), exponent=st.integers(10, 14))
def test_a_huge_size_is_refused_before_any_allocation(case, exponent):
    """Sizes of 10**10 and up: a ResourceLimitError (or an argument error), never a build.

    Every such size that reaches a weight needs far more than any machine has, so the
    only outcomes are a refusal or a model whose weights do not depend on it.
    """
    name, argument = case
    preset = _entry(name).arguments[argument]
    value = (10**exponent, *preset[1:]) if isinstance(preset, tuple) else 10**exponent
    try:
        model = zoo.build(name, **{argument: value})
    except v.ResourceLimitError as error:
        event("ResourceLimitError")
        message = str(error)
        assert f"`{argument}`" in message and f"Received: {argument}=" in message, message
        assert "GB" in message
        return
    except zoo.UserError as error:  # e.g. a rank the row does not take
        event(type(error).__name__)
        assert "Received:" in str(error)
        return
    event("built: its weights do not depend on the size")
    available = registry.memory_available()
    assert available is None or 4 * model.count_params() < available


def test_the_huge_size_property_is_not_vacuous():
    with pytest.raises(v.ResourceLimitError, match="Received: units="):
        zoo.build("mlp_tiny", units=(10**12,))
    with pytest.raises(v.ResourceLimitError, match="Received: input_shape="):
        zoo.build("vit_tiny", input_shape=(10**6, 10**6, 3))


# ========================================================================= zoo.data.load

_non_finite = st.sampled_from([_NAN, _INF, -_INF])


@st.composite
def _cells(draw, rows, columns, most=4):
    """Distinct (row, column) cells, at least one."""
    cells = draw(
        st.lists(
            st.tuples(st.integers(0, rows - 1), st.integers(0, columns - 1)),
            min_size=1,
            max_size=most,
            unique=True,
        )
    )
    return cells


def _load(*args, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            return zoo.data.load(*args, **kwargs)
        finally:
            _no_raw_warnings(caught)


@_settings(60)
@given(data=st.data())
def test_non_finite_features_are_named_with_their_rows(data):
    rows = data.draw(st.integers(20, 40), label="rows")
    shape = data.draw(st.sampled_from([(3,), (1,), (4, 4, 1), (5, 2)]), label="shape")
    dtype = data.draw(st.sampled_from(["float32", "float64"]), label="dtype")
    x = np.random.default_rng(rows).normal(size=(rows, *shape)).astype(dtype)
    y = np.arange(rows) % 2
    flat = x.reshape(rows, -1)
    cells = data.draw(_cells(rows, flat.shape[1]), label="cells")
    valid = data.draw(st.integers(0, 4), label="valid") == 0
    if valid:
        loaded = _load(x, y, batch_size=8)
        assert sum(loaded.sizes.values()) == rows
        return
    for row, column in cells:
        flat[row, column] = data.draw(_non_finite)
    x = flat.reshape(x.shape)
    with pytest.raises(v.ArgumentValueError) as caught:
        _load(x, y)
    message = str(caught.value)
    first = min(row for row, _ in cells)
    assert "Received: x=" in message and f"[{first}" in message, message


@_settings(40)
@given(data=st.data())
def test_non_finite_targets_and_labels_are_named_with_their_rows(data):
    rows = data.draw(st.integers(20, 40), label="rows")
    x = np.random.default_rng(rows).normal(size=(rows, 3)).astype("float32")
    task = data.draw(st.sampled_from(["regression", "classification"]), label="task")
    y = np.random.default_rng(1).normal(size=rows) if task == "regression" else np.arange(rows) % 3
    y = y.astype("float64")
    bad = data.draw(st.lists(st.integers(0, rows - 1), min_size=1, max_size=3, unique=True))
    for row in bad:
        y[row] = data.draw(_non_finite)
    with pytest.raises(v.ArgumentValueError) as caught:
        _load(x, y, task=task)
    message = str(caught.value)
    assert "Received: y=" in message and f"[{min(bad)}" in message, message


@_settings(30)
@given(rows=st.integers(1, 30), other=st.integers(0, 30), as_tuple=st.booleans())
def test_mismatched_lengths_are_one_user_error(rows, other, as_tuple):
    assume(rows != other)
    x = np.zeros((rows, 2), "float32")
    y = np.arange(other) % 2
    with pytest.raises(zoo.UserError) as caught:
        _load((x, y)) if as_tuple else _load(x, y)
    message = str(caught.value)
    assert "Received: y=" in message and str(rows) in message and str(other) in message


_bad_dtypes = st.sampled_from(
    [
        "complex64",
        "complex128",
        "object",
        "U3",
        "S3",
        "bool",
        "V4",
        "datetime64[s]",
        "timedelta64[s]",
    ]
)


@_settings(20)
@given(dtype=_bad_dtypes, rows=st.integers(20, 30))
def test_feature_arrays_of_a_wrong_dtype_are_refused(dtype, rows):
    x = np.zeros((rows, 2), dtype) if dtype == "V4" else np.ones((rows, 2)).astype(dtype)
    with pytest.raises(v.ArgumentTypeError, match="Received: x="):
        _load(x, np.arange(rows) % 2)


@_settings(10)
@given(rows=st.sampled_from([20, 30]), imaginary=st.sampled_from([0.5, 3.0]))
def test_a_complex_table_column_is_refused_not_cast(rows, imaginary):
    """A complex column would lose its imaginary part in silence: a zoo error instead."""
    frame = pd.DataFrame(
        {"a": np.arange(rows) + imaginary * 1j, "b": np.ones(rows), "target": np.arange(rows) % 2}
    )
    with pytest.raises(zoo.UserError, match="'a'"):
        _load(frame)


@_settings(15)
@given(rows=st.integers(20, 30), bad=st.integers(0, 19), value=_non_finite)
def test_non_finite_float16_features_are_refused_quietly(rows, bad, value):
    """float16 features are checked without NumPy's overflow warning."""
    x = np.ones((rows, 2), "float16")
    x[bad, 0] = value
    with pytest.raises(v.ArgumentValueError, match=rf"Received: x=.*\[{bad}"):
        _load(x, np.arange(rows) % 2)


def _frame(rows, columns, seed=0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        rng.normal(size=(rows, columns)), columns=[f"f{i}" for i in range(columns)]
    )
    frame["target"] = np.arange(rows) % 2
    return frame


@_settings(40)
@given(data=st.data())
def test_non_finite_table_cells_name_column_and_rows(data):
    rows = data.draw(st.integers(20, 40), label="rows")
    columns = data.draw(st.integers(1, 4), label="columns")
    frame = _frame(rows, columns)
    cells = data.draw(_cells(rows, columns, most=3), label="cells")
    for row, column in cells:
        frame.iloc[row, column] = data.draw(_non_finite)
    as_csv = data.draw(st.booleans(), label="csv")
    with tempfile.TemporaryDirectory() as folder:
        source = frame
        if as_csv:
            source = Path(folder) / "table.csv"
            frame.to_csv(source, index=False)
        with pytest.raises(v.ArgumentValueError) as caught:
            _load(source)
    message = str(caught.value)
    assert "Received:" in message, message
    # Each column named with its first bad row: the table's rows, or for a CSV its
    # lines (the header is line 1).
    offset = 2 if as_csv else 0
    named = re.findall(r"column 'f(\d+)'[^\[]*\[(\d+)", message)
    assert named, message
    for column, first in named:
        assert int(first) in {r + offset for r, c in cells if c == int(column)}, message


_stray = st.one_of(
    st.sampled_from(["?", "-", "abc", "x1", "1.2.3", "12 kg", "#REF!", "O", "l0"]),
    st.text(alphabet="abcdefghijkmopqrstuvwxyz?#*", min_size=1, max_size=6),
)


def _is_number_or_missing(text):
    try:
        float(text)
        return True
    except ValueError:
        return text.strip().lower() in {"na", "n/a", "nan", "null", "none", "", "-nan", "#n/a"}


@_settings(40)
@given(data=st.data())
def test_stray_text_in_a_numeric_csv_column_names_column_and_lines(data):
    rows = data.draw(st.integers(30, 50), label="rows")
    frame = _frame(rows, 2).astype({"f1": object})
    count = data.draw(st.integers(1, rows // 10), label="count")
    where = data.draw(
        st.lists(st.integers(0, rows - 1), min_size=count, max_size=count, unique=True)
    )
    for row in where:
        text = data.draw(_stray)
        assume(not _is_number_or_missing(text))
        frame.loc[row, "f1"] = text
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "table.csv"
        frame.to_csv(path, index=False)
        with pytest.raises(v.ArgumentValueError) as caught:
            _load(path)
    message = str(caught.value)
    assert "'f1'" in message and "Received:" in message, message
    assert str(min(where) + 2) in message, message  # the first stray cell's line


@_settings(30)
@given(data=st.data())
def test_a_damaged_csv_is_a_user_error_or_a_table(data):
    """Truncated, flipped or overwritten CSV bytes: a zoo error, or a table that loads."""
    rows = data.draw(st.integers(20, 30), label="rows")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "table.csv"
        _frame(rows, 2).to_csv(path, index=False)
        raw = bytearray(path.read_bytes())
        offset = data.draw(st.integers(0, len(raw) - 1), label="offset")
        how = data.draw(st.sampled_from(["truncate", "flip", "overwrite"]), label="how")
        if how == "truncate":
            raw = raw[:offset]
        elif how == "flip":
            raw[offset] ^= data.draw(st.integers(1, 255), label="mask")
        else:
            span = data.draw(st.binary(min_size=1, max_size=16), label="span")
            raw[offset : offset + len(span)] = span
        path.write_bytes(bytes(raw))
        try:
            loaded = _load(path)
        except zoo.UserError as error:
            event(type(error).__name__)
            assert "Received:" in str(error), str(error)
        else:
            event("loads")
            assert sum(loaded.sizes.values()) > 0


@_settings(20)
@given(name=st.text(alphabet="abcxyz_-0123456789", min_size=1, max_size=12))
def test_a_missing_path_is_file_not_found(name, tmp_path):
    for source in (tmp_path / f"{name}.csv", str(tmp_path / name / "")):
        with pytest.raises(FileNotFoundError) as caught:
            _load(source)
        assert isinstance(caught.value, zoo.UserError)
        assert "Received:" in str(caught.value) or str(tmp_path) in str(caught.value)


# ============================================================================== zoo.load

_INPUTS = np.random.default_rng(0).normal(size=(4, 8)).astype("float32")


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A saved mlp_tiny folder and its outputs on fixed inputs."""
    model = zoo.build("mlp_tiny")
    folder = zoo.save(model, tmp_path_factory.mktemp("properties") / "mlp")
    return folder, np.asarray(model(_INPUTS))


def _outputs(model):
    return np.asarray(model(_INPUTS))


@pytest.fixture
def scratch():
    folder = Path(tempfile.mkdtemp(prefix="zoo-properties-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _copy(saved_folder, scratch, tag):
    target = scratch / tag
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(saved_folder, target)
    return target


def _damaged_or_same(path, reference, where, **kwargs):
    """zoo.load(path) is a DamagedFileError naming `where`, or a model with equal outputs."""
    try:
        model = zoo.load(path, **kwargs)
    except v.DamagedFileError as error:
        message = str(error)
        assert str(where) in message and "Received: name_or_path=" in message, message
        event("damaged")
        return "damaged"
    np.testing.assert_array_equal(_outputs(model), reference)
    event("loads, same outputs")
    return "same"


@_settings(60)
@given(data=st.data())
def test_damaged_archive_bytes_are_named_or_change_nothing(data, saved, scratch):
    folder, reference = saved
    copy = _copy(folder, scratch, "archive")
    model_file = copy / "model.keras"
    raw = bytearray(model_file.read_bytes())
    how = data.draw(st.sampled_from(["truncate", "flip", "overwrite"]), label="how")
    offset = data.draw(st.integers(0, len(raw) - 1), label="offset")
    if how == "truncate":
        raw = raw[:offset]
    elif how == "flip":
        raw[offset] ^= data.draw(st.integers(1, 255), label="mask")
    else:
        span = data.draw(st.binary(min_size=1, max_size=64), label="span")
        raw[offset : offset + len(span)] = span
    assume(bytes(raw) != model_file.read_bytes())
    model_file.write_bytes(bytes(raw))
    # The card's checksum catches every change; without it, the archive checks must.
    with pytest.raises(v.DamagedFileError, match=re.escape(str(copy))):
        zoo.load(copy)
    _damaged_or_same(copy, reference, copy, verify=False)
    bare = scratch / "bare.keras"
    shutil.copy(model_file, bare)
    _damaged_or_same(bare, reference, bare)


def _rezip(source, target, member, contents):
    """Copy a .keras archive with one member replaced (valid CRCs: the damage is inside)."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            new.writestr(info, contents if info.filename == member else old.read(info))


def _damage_member(data, raw):
    raw = bytearray(raw)
    how = data.draw(st.sampled_from(["truncate", "flip", "overwrite"]), label="how")
    offset = data.draw(st.integers(0, len(raw) - 1), label="offset")
    if how == "truncate":
        return bytes(raw[:offset])
    if how == "flip":
        raw[offset] ^= data.draw(st.integers(1, 255), label="mask")
    else:
        span = data.draw(st.binary(min_size=1, max_size=32), label="span")
        raw[offset : offset + len(span)] = span
    return bytes(raw)


@_settings(60)
@given(data=st.data())
def test_damaged_weights_inside_a_whole_archive_are_named(data, saved, scratch):
    """model.weights.h5 damaged before zipping (CRCs hold): a zoo error or a model.

    Without a card nothing records the weights' values, so a flip in their data loads
    other weights; what must not happen is a raw h5py or Keras error.
    """
    folder, _ = saved
    with zipfile.ZipFile(folder / "model.keras") as archive:
        weights = archive.read("model.weights.h5")
    target = scratch / "weights.keras"
    _rezip(folder / "model.keras", target, "model.weights.h5", _damage_member(data, weights))
    try:
        model = zoo.load(target)
    except v.DamagedFileError as error:
        assert str(target) in str(error), str(error)
    else:
        assert _outputs(model).shape == (4, 10)


@_settings(60)
@given(data=st.data())
def test_damaged_config_inside_a_whole_archive_is_named(data, saved, scratch):
    """config.json damaged before zipping (CRCs hold): a zoo error or the same model.

    A class name that no longer resolves is left as Keras's "Could not locate class"
    error, as for a model whose custom class is not imported (zoo cannot tell them apart).
    """
    folder, _ = saved
    with zipfile.ZipFile(folder / "model.keras") as archive:
        config = archive.read("config.json")
    target = scratch / "config.keras"
    _rezip(folder / "model.keras", target, "config.json", _damage_member(data, config))
    try:
        model = zoo.load(target)
    except v.DamagedFileError as error:
        assert str(target) in str(error), str(error)
    except TypeError as error:
        if "Could not locate class" not in str(error):
            raise
    else:  # a flip may name another valid setting ("relu" -> "selu"): nothing records it
        assert isinstance(model, keras.Model)


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@_settings(80)
@given(data=st.data())
def test_a_damaged_card_is_named_or_changes_nothing(data, saved, scratch):
    folder, reference = saved
    copy = _copy(folder, scratch, "card")
    card_file = copy / "zoo.json"
    card = json.loads(card_file.read_text())
    how = data.draw(st.sampled_from(["json", "bytes", "field", "truncate"]), label="how")
    if how == "json":
        card_file.write_text(json.dumps(data.draw(_json_values, label="card")))
    elif how == "bytes":
        card_file.write_bytes(data.draw(st.binary(max_size=64), label="card"))
    elif how == "field":
        field = data.draw(st.sampled_from(saving.CARD_FIELDS), label="field")
        card[field] = data.draw(_json_values, label="value")
        card_file.write_text(json.dumps(card))
    else:
        raw = card_file.read_bytes()
        end = len(raw.rstrip()) - 1  # cut inside the JSON (a lost final newline is no damage)
        card_file.write_bytes(raw[: data.draw(st.integers(0, end), label="offset")])
    outcome = _damaged_or_same(copy, reference, copy)
    if how == "truncate":
        assert outcome == "damaged"


@_settings(40)
@given(field=st.sampled_from(saving.CARD_FIELDS), data=st.data())
def test_a_card_field_of_the_wrong_type_is_named(field, data, saved, scratch):
    folder, _ = saved
    copy = _copy(folder, scratch, "field")
    card = json.loads((copy / "zoo.json").read_text())
    wrong = {
        "name": st.integers() | st.lists(st.text(max_size=3), max_size=2) | st.none(),
        "architecture": st.integers() | st.booleans() | st.lists(st.none(), max_size=2),
        "arguments": st.text(max_size=5) | st.integers() | st.lists(st.integers(), max_size=2),
        "created": st.integers() | st.none() | st.dictionaries(st.text(max_size=2), st.none()),
        "versions": st.text(max_size=5)
        | st.dictionaries(st.text(max_size=3), st.integers(), min_size=1),
        "params": st.text(max_size=5)
        | st.dictionaries(
            st.sampled_from(["total", "trainable"]), st.integers(max_value=-1), min_size=1
        )
        | st.dictionaries(st.sampled_from(["total"]), st.floats() | st.booleans(), min_size=1),
        "input_shape": st.text(max_size=5)
        | st.lists(st.integers(max_value=-1), min_size=1, max_size=3)
        | st.lists(
            st.floats(allow_nan=False) | st.booleans() | st.text(max_size=2), min_size=1, max_size=3
        ),
        "output_shape": st.integers() | st.lists(st.booleans(), min_size=1, max_size=2),
        "model_file": st.text(max_size=12).filter(lambda s: s != "model.keras") | st.integers(),
        "sha256": st.text(max_size=70).filter(lambda s: len(s) != 64) | st.integers() | st.none(),
    }[field]
    value = data.draw(wrong, label="value")
    card[field] = value
    (copy / "zoo.json").write_text(json.dumps(card))
    with pytest.raises(v.DamagedFileError) as caught:
        zoo.load(copy)
    message = str(caught.value)
    assert field in message and str(copy) in message, message


@_settings(30)
@given(digest=st.text(alphabet="0123456789abcdefABCDEF", min_size=64, max_size=64))
def test_a_changed_checksum_is_named(digest, saved, scratch):
    folder, reference = saved
    copy = _copy(folder, scratch, "sha")
    card = json.loads((copy / "zoo.json").read_text())
    assume(digest.lower() != card["sha256"])
    card["sha256"] = digest
    (copy / "zoo.json").write_text(json.dumps(card))
    with pytest.raises(v.DamagedFileError, match="sha256") as caught:
        zoo.load(copy)
    assert digest in str(caught.value) and str(copy) in str(caught.value)
    np.testing.assert_array_equal(_outputs(zoo.load(copy, verify=False)), reference)


def test_the_property_fixtures_are_whole(saved):
    folder, reference = saved
    assert not math.isnan(float(reference.sum()))
    np.testing.assert_array_equal(_outputs(zoo.load(folder)), reference)
