"""Time series sources: numpy (n, length, channels), wide and long tables, CSV (issue 20)."""

import json

import numpy as np
import pandas as pd
import pytest

import zoo
from zoo._validation import ArgumentValueError
from zoo.layers.preprocessing import split

RNG = np.random.default_rng(0)


def _series(n=40, length=6, channels=2, offset=0.0, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(offset, 3.0, (n, length, channels)) + np.arange(channels) * 10.0
    y = np.array([0, 1] * (n // 2))
    x[y == 1] += 1.0
    return x.astype("float32"), y


def _long(x, y, *, shuffle=True, seed=0):
    """`x` as a long table: one row per (series, step), channels c0, c1, ..."""
    n, length, channels = x.shape
    frame = pd.DataFrame(
        {
            "sid": np.repeat([f"s{i}" for i in range(n)], length),
            "t": np.tile(np.arange(length) * 10, n),
            **{f"c{c}": x[:, :, c].reshape(-1) for c in range(channels)},
            "label": np.repeat(y, length),
        }
    )
    if shuffle:  # the time column, not the rows' order, orders the steps of a series
        frame = frame.sample(frac=1.0, random_state=seed)
        series = frame["sid"].str[1:].astype(int)
        frame = frame.iloc[np.argsort(series.to_numpy(), kind="stable")].reset_index(drop=True)
        assert not frame["t"].is_monotonic_increasing
    return frame


def _wide(x, y):
    frame = pd.DataFrame(x[:, :, 0], columns=[f"t{i}" for i in range(x.shape[1])])
    return frame.assign(label=y)


def _all_x(data, split_name):
    return np.concatenate([np.asarray(b) for b, _ in getattr(data, split_name)])


# ------------------------------------------------------------------------------ numpy


def test_a_3d_float_array_is_a_series_standardised_per_channel_on_train_only():
    x, y = _series()
    data = zoo.data.load(x, y, test_split=0.2, shuffle=False)
    assert data.input_shape == (6, 2)
    train = x[data._indices["train"]].astype("float64")
    mean, std = train.mean(axis=(0, 1)), train.std(axis=(0, 1))
    np.testing.assert_allclose(data.encoder.mean, mean, rtol=1e-5)
    np.testing.assert_allclose(_all_x(data, "train"), (train - mean) / std, atol=1e-4)
    # validation and test use the training statistics, not their own
    test = x[data._indices["test"]]
    np.testing.assert_allclose(_all_x(data, "test"), (test - mean) / std, atol=1e-4)
    inputs = data.describe()["inputs"]
    assert inputs["kind"] == "series" and (inputs["length"], inputs["channels"]) == (6, 2)
    np.testing.assert_allclose(inputs["mean"], mean, rtol=1e-5)
    np.testing.assert_allclose(inputs["std"], std, rtol=1e-5)
    assert [layer.name for layer in data.preprocessor.layers] == ["series", "standardize"]
    np.testing.assert_allclose(
        data.preprocessor.predict(test, verbose=0), data.transform(test), atol=1e-5
    )


def test_a_test_split_of_another_mean_leaves_the_statistics_alone():
    x, y = _series(40)
    far, far_y = _series(20, offset=1000.0, seed=1)
    near = zoo.data.load(x, y, test=_series(20, seed=1))
    data = zoo.data.load(x, y, test=(far, far_y))
    assert data.sizes["test"] == 20
    np.testing.assert_array_equal(data.encoder.mean, near.encoder.mean)
    assert np.abs(_all_x(data, "test")).min() > 100  # far from the training mean


def test_other_arrays_keep_their_meaning():
    pixels = RNG.integers(0, 256, (20, 4, 4, 1)).astype("uint8")
    floats = pixels.astype("float32")
    counts = RNG.integers(0, 9, (20, 5, 2))
    y = np.array([0, 1] * 10)
    assert zoo.data.load(pixels, y).inputs["kind"] == "image"
    for raw in (floats, counts):  # 4-D floats, integer arrays: fed as they are
        data = zoo.data.load(raw, y, shuffle=False)
        assert data.inputs["kind"] == "array" and data.preprocessor is None
        np.testing.assert_array_equal(_all_x(data, "train"), raw[data._indices["train"]])


# ------------------------------------------------------------------------ wide and long


def test_wide_and_long_tables_give_the_series_of_the_array(tmp_path):
    x, y = _series(channels=1)
    from_array = zoo.data.load(x, y, shuffle=False)
    wide = zoo.data.load(_wide(x, y), series="wide", shuffle=False)
    long = zoo.data.load(
        _long(x, y), series="long", id_column="sid", time_column="t", shuffle=False
    )
    _long(x, y).to_csv(tmp_path / "long.csv", index=False)
    _wide(x, y).to_csv(tmp_path / "wide.csv", index=False)
    from_csv = {
        "wide": zoo.data.load(tmp_path / "wide.csv", series="wide", shuffle=False),
        "long": zoo.data.load(
            str(tmp_path / "long.csv"),
            series="long",
            id_column="sid",
            time_column="t",
            shuffle=False,
        ),
    }
    expected = _all_x(from_array, "train")
    for data in (wide, long, *from_csv.values()):
        assert data.input_shape == (6, 1) and data.inputs["kind"] == "series"
        np.testing.assert_allclose(_all_x(data, "train"), expected, atol=1e-5)
    assert long.inputs["form"] == "long" and long.inputs["channel_names"] == ["c0"]
    assert long.inputs["id_column"] == "sid" and wide.inputs["form"] == "wide"


def test_long_tables_have_several_channels_and_may_use_the_rows_order():
    x, y = _series(channels=3)
    frame = _long(x, y, shuffle=False).drop(columns="t")
    data = zoo.data.load(frame, series="long", id_column="sid", shuffle=False)
    assert data.input_shape == (6, 3)
    np.testing.assert_allclose(data._examples.x, x)  # ids in order of appearance
    picked = zoo.data.load(frame, series="long", id_column="sid", features=["c2", "c0"])
    assert picked.input_shape == (6, 2) and picked.inputs["channel_names"] == ["c2", "c0"]
    np.testing.assert_allclose(picked._examples.x, x[:, :, [2, 0]])


def test_a_wide_table_leaves_out_its_id_column_and_targets_can_be_regression():
    x, _ = _series(channels=1)
    frame = _wide(x, x[:, :, 0].mean(axis=1)).assign(name=[f"n{i}" for i in range(len(x))])
    data = zoo.data.load(frame, series="wide", id_column="name")
    assert data.task == "regression" and data.input_shape == (6, 1)


def test_a_table_without_series_is_still_a_table():
    x, y = _series(channels=1)
    data = zoo.data.load(_wide(x, y))
    assert data.inputs["kind"] == "table" and data.input_shape == (6,)


def test_given_test_splits_are_read_as_series_too():
    x, y = _series()
    test_x, test_y = _series(10, seed=2)
    data = zoo.data.load(
        _long(x, y), series="long", id_column="sid", time_column="t", test=_long(test_x, test_y)
    )
    assert data.sizes["test"] == 10 and data.split_sources["test"].startswith("test=")
    np.testing.assert_allclose(data._examples.x[data._indices["test"]], test_x)


# --------------------------------------------------------------------------- errors


def test_series_of_several_lengths_are_refused_with_what_to_do():
    x, y = _series()
    frame = _long(x, y, shuffle=False)
    frame = frame[~((frame["sid"] == "s3") & (frame["t"] >= 40))]  # s3: 4 steps
    with pytest.raises(ArgumentValueError) as info:
        zoo.data.load(frame, series="long", id_column="sid", time_column="t")
    message = str(info.value)
    assert "from 4 (sid ['s3'])" in message and "to 6 (sid ['s0', 's1'" in message
    assert ".head(4)" in message and "does not pad" in message


@pytest.mark.parametrize(
    ("change", "options", "match"),
    [
        (lambda f: f.assign(label=np.arange(len(f)) % 2), {}, "one label per series"),
        (lambda f: f.assign(c0=f["c0"].astype(str) + "x"), {}, r"non-numeric .*'c0'"),
        (lambda f: f.assign(c1=f["c1"].where(f.index != 7)), {}, r"NaN .*'c1'.*\[7\]"),
        (lambda f: f.assign(t=f["t"] // 20), {}, "repeated times"),
        (lambda f: f.assign(sid=f["sid"].where(f.index != 3)), {}, "id column 'sid'.*missing"),
        (lambda f: f, {"id_column": "sd"}, "did you mean 'sid'"),
        (lambda f: f, {"time_column": "label"}, "other than the target"),
        (lambda f: f, {"features": ["c0", "t"]}, "value columns, none of"),
    ],
)
def test_bad_long_tables_are_refused_naming_what_is_wrong(change, options, match):
    x, y = _series()
    frame = change(_long(x, y, shuffle=False))
    arguments = {"series": "long", "id_column": "sid", "time_column": "t", **options}
    with pytest.raises(ArgumentValueError, match=match):
        zoo.data.load(frame, **arguments)


@pytest.mark.parametrize(
    ("source", "options", "match"),
    [
        ("array", {"series": "long", "id_column": "sid"}, "unless the source is a table"),
        ("digits", {"series": "wide"}, "unless the source is a table"),
        ("long", {"series": "long"}, "id_column"),
        ("long", {"id_column": "sid"}, "only with series='long'"),
        ("long", {"series": "tall", "id_column": "sid"}, "'wide', 'long'"),
        ("wide", {"series": "wide", "time_column": "t0"}, "None for series='wide'"),
        ("wide", {"series": "wide", "categorical": ["t0"]}, "channels are numbers"),
    ],
)
def test_bad_series_options_are_refused(source, options, match):
    x, y = _series(channels=1)
    given = {"array": (x, y), "long": _long(x, y), "wide": _wide(x, y), "digits": "digits"}[source]
    with pytest.raises(ArgumentValueError, match=match):
        zoo.data.load(given, **options)


# ------------------------------------------------------------------- the saved model


def test_a_saved_series_model_takes_raw_series(tmp_path):
    x, y = _series(48, length=5, channels=2, offset=50.0)
    data = zoo.data.load(_long(x, y), series="long", id_column="sid", time_column="t")
    result = zoo.train("rnn_tiny", data, epochs=1, verbose=0, output=str(tmp_path / "m"))
    preprocessor, network = split(result.model)
    assert preprocessor is not None and result.model.input_shape == (None, 5, 2)
    raw = x[:8]
    expected = result.model.predict(raw, verbose=0)
    np.testing.assert_allclose(network.predict(data.transform(raw), verbose=0), expected, atol=1e-5)
    loaded = zoo.load(tmp_path / "m")
    np.testing.assert_allclose(loaded.predict(raw, verbose=0), expected, atol=1e-5)
    card = json.loads((tmp_path / "m" / "zoo.json").read_text())
    inputs = card["data"]["inputs"]
    assert inputs["kind"] == "series" and (inputs["length"], inputs["channels"]) == (5, 2)
    assert inputs["mean"][0] > 40  # raw series are far from standardised ones
