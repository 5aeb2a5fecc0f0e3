"""Tables larger than the memory budget: streamed from disk, statistics in one pass."""

import tracemalloc

import numpy as np
import pandas as pd
import pytest

import zoo
from zoo._validation import ArgumentValueError
from zoo.data import streaming


def _table(n=3_000, seed=0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "size": rng.normal(50.0, 10.0, n),
            "rooms": rng.integers(1, 6, n),
            "city": rng.choice(["paris", "lyon", "nice"], n, p=[0.5, 0.3, 0.2]),
        }
    )
    frame["label"] = np.where(frame["size"] + 10 * (frame["city"] == "paris") > 55, "big", "small")
    return frame


@pytest.fixture
def table_csv(tmp_path):
    path = tmp_path / "houses.csv"
    _table().to_csv(path, index=False)
    return path


def _rows(dataset):
    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in dataset], strict=True)
    return np.concatenate(xs), np.concatenate(ys)


def test_a_table_over_the_budget_is_streamed_with_the_training_rows_statistics(table_csv):
    data = zoo.data.load(table_csv, target="label", memory_budget="16K", batch_size=50)
    assert "streamed in chunks" in data.source
    assert sum(data.sizes.values()) == 3_000 and data.sizes["test"] > 400
    assert data.class_names == ("big", "small") and data.task == "classification"
    small = zoo.data.load(table_csv, target="label")  # read whole: same columns, same encoding
    assert data.encoder.feature_names == small.encoder.feature_names
    assert data.input_shape == small.input_shape
    # Standardised with the training rows' own mean and variance.
    x, y = _rows(data.train)
    assert len(x) == data.sizes["train"] and set(np.unique(y)) == {0, 1}
    numeric = [data.encoder.feature_names.index(c) for c in ("size", "rooms")]
    np.testing.assert_allclose(x[:, numeric].mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(x[:, numeric].std(axis=0), 1.0, atol=1e-4)
    # The card says what the saved model takes: raw columns.
    assert data.describe()["inputs"]["columns"] == {
        "size": "numeric",
        "rooms": "numeric",
        "city": "categorical",
    }


def test_streamed_splits_are_disjoint_and_each_epoch_reshuffles(table_csv):
    data = zoo.data.load(table_csv, target="label", memory_budget=20_000, seed=4)
    first, _ = _rows(data.train)
    second, _ = _rows(data.train)
    assert not np.array_equal(first, second)  # reshuffled
    key = np.round(first, 5).tolist()
    assert sorted(key) == sorted(np.round(second, 5).tolist())  # the same rows
    held_out = np.concatenate([_rows(data.validation)[0], _rows(data.test)[0]])
    assert not {tuple(r) for r in np.round(held_out, 5)} & {tuple(r) for r in key}
    again = zoo.data.load(table_csv, target="label", memory_budget=20_000, seed=4)
    assert again.sizes == data.sizes and again.fingerprint == data.fingerprint
    np.testing.assert_array_equal(_rows(again.test)[0], _rows(data.test)[0])


def test_a_streamed_table_trains_and_its_saved_model_takes_raw_columns(table_csv, tmp_path):
    data = zoo.data.load(table_csv, target="label", memory_budget="16K", batch_size=64)
    result = zoo.train("mlp_tiny", data, epochs=5, output=tmp_path / "model", verbose=0)
    assert result.metrics["accuracy"] > 0.8
    raw = _table(n=20, seed=1).drop(columns="label")
    saved = zoo.predict(result.path, raw)  # a fresh load, with its card's class names
    trained = zoo.predict(result.model, raw, class_names=data.class_names)
    np.testing.assert_allclose(saved["probability"], trained["probability"], rtol=1e-5)
    assert set(saved["predicted"]) <= {"big", "small"}


def test_a_streamed_table_cannot_be_folded(table_csv):
    data = zoo.data.load(table_csv, target="label", memory_budget="16K")
    with pytest.raises(ArgumentValueError, match="tables streamed from disk cannot be folded"):
        next(data.folds(3))


def test_under_the_budget_a_table_is_read_whole(table_csv, monkeypatch):
    assert "streamed" not in zoo.data.load(table_csv, target="label").source
    monkeypatch.setenv(streaming.BUDGET_ENV, "10K")
    assert "streamed" in zoo.data.load(table_csv, target="label").source
    monkeypatch.setenv(streaming.BUDGET_ENV, "lots")
    with pytest.raises(ArgumentValueError, match="ZOO_MEMORY_BUDGET"):
        zoo.data.load(table_csv, target="label")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"memory_budget": "12 parsecs"}, "Received: memory_budget='12 parsecs'"),
        ({"memory_budget": 0}, "Received: memory_budget=0"),
        ({"memory_budget": "1K", "stratify": np.zeros(3_000)}, "None for a table streamed"),
        ({"memory_budget": "1K", "test": pd.DataFrame()}, "`test` must be None for a table"),
    ],
)
def test_streaming_arguments_are_checked(table_csv, arguments, message):
    with pytest.raises(ArgumentValueError, match=message):
        zoo.data.load(table_csv, target="label", **arguments)


def test_bad_rows_far_into_a_streamed_table_are_named_by_line(tmp_path):
    frame = _table(n=2_000)
    frame["size"] = frame["size"].astype(object)
    frame.loc[1_500, "size"] = "oops"
    path = tmp_path / "typo.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"text \['oops'\] at line\(s\) \[1502\] of typo.csv"):
        zoo.data.load(path, target="label", memory_budget="8K")
    frame = _table(n=2_000)
    frame.loc[1_700, "rooms"] = np.nan
    frame.to_csv(path, index=False)
    with pytest.raises(
        ValueError, match=r"NaN \(missing\) in column 'rooms': 1 at line\(s\) \[1702\]"
    ):
        zoo.data.load(path, target="label", memory_budget="8K")


def _wide_csv(path, n):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(n, 6)), columns=[f"x{i}" for i in range(6)])
    frame["kind"] = rng.choice(["a", "b", "c", "d"], n)
    frame["target"] = rng.integers(0, 2, n)
    frame.to_csv(path, index=False)
    return path


def _peak(work):
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_peak_memory_of_a_table_4x_the_budget_stays_near_the_budget(tmp_path):
    small, large = (
        _wide_csv(tmp_path / "small.csv", 30_000),
        _wide_csv(tmp_path / "large.csv", 60_000),
    )
    budget = small.stat().st_size // 4

    def stream(path):
        def work():
            data = zoo.data.load(path, memory_budget=budget, batch_size=256)
            for _ in data.train:
                pass

        return work

    whole = [_peak(lambda path=path: pd.read_csv(path)) for path in (small, large)]
    streamed = [_peak(stream(path)) for path in (small, large)]
    print(f"peak traced bytes: whole {whole}, streamed {streamed}, budget {budget:,}")
    assert whole[1] > 1.8 * whole[0]  # held whole, memory grows with the table
    assert streamed[1] < budget + (1 << 20)  # streamed: the budget and a constant
    assert streamed[1] < 1.2 * streamed[0]  # ... however large the file
