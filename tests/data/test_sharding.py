"""Multi-worker shares of the training split: file sharding for folders, data for the rest."""

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import zoo
from zoo._validation import ArgumentValueError


def _ids_of(share, read_id):
    """The ids of a share's weight-1 rows and its batch sizes, over one epoch."""
    ids, sizes = [], []
    for x, _, weights in share:
        weights = weights.numpy()
        assert set(np.unique(weights)) <= {0.0, 1.0}
        ids.extend(read_id(x.numpy())[weights == 1.0])
        sizes.append(len(weights))
    return ids, sizes


def _check_partition(data, workers, replicas, read_id, epochs=2):
    expected = data.sizes["train"]
    shares = [data.worker_train(workers, index, replicas) for index in range(workers)]
    for _ in range(epochs):  # a reshuffled epoch is still a partition
        seen, batches = [], []
        for share in shares:
            ids, sizes = _ids_of(share, read_id)
            seen.extend(ids)
            batches.append(sizes)
        assert sorted(seen) == sorted(set(seen)) and len(seen) == expected
        # Every worker runs the same steps (one batch per replica each), of equal sizes.
        assert all(sizes == batches[0] for sizes in batches)
        assert len(batches[0]) % replicas == 0
        assert max(batches[0]) == data.batch_size // (workers * replicas)
    return shares


@pytest.mark.parametrize(("workers", "replicas"), [(1, 1), (2, 1), (3, 1), (2, 2)])
def test_in_memory_data_is_sharded_by_data_each_row_once(workers, replicas):
    n = 203  # no batch size divides it: the last global batch is padded
    x = np.arange(n, dtype="float32")[:, None] * np.ones((1, 3), "float32")
    y = np.arange(n) % 2
    data = zoo.data.load(x, y, batch_size=12, validation_split=0.1, test_split=0.1, seed=3)
    assert data.sharding == "data"
    _check_partition(data, workers, replicas, lambda rows: rows[:, 0].round().astype(int))


def test_in_memory_shares_agree_with_the_pipeline_every_worker_runs():
    # A worker's share is its rows of the same global batches (same seed, same order).
    x = np.arange(40, dtype="float32")[:, None]
    data = zoo.data.load(x, np.arange(40) % 2, batch_size=8, test_split=0.0, seed=1)
    global_order = [int(v) for batch, _ in data._make_train() for v in batch.numpy()[:, 0]]
    halves = [[], []]
    for index in (0, 1):
        for x, _, weights in data.worker_train(2, index):
            halves[index].extend(int(v) for v in x.numpy()[weights.numpy() == 1, 0])
    batch = data.batch_size
    expect = [[], []]
    for start in range(0, len(global_order), batch):
        rows = global_order[start : start + batch]
        half = -(-len(rows) // 2)
        expect[0].extend(rows[:half])
        expect[1].extend(rows[half:])
    assert halves == expect


def _id_folder(root, classes=("a", "b", "c"), per_class=15):
    """PNGs of one gray level each: the level (id * 3) tells which file a row came from."""
    ids = 0
    for name in classes:
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            level = np.full((6, 6), ids * 3, dtype=np.uint8)
            Image.fromarray(level).save(root / name / f"{i}.png")
            ids += 1
    return root


def _image_id(batch):
    return (batch.reshape(len(batch), -1).mean(axis=1) * 255 / 3).round().astype(int)


@pytest.mark.parametrize(("workers", "replicas"), [(2, 1), (3, 1), (2, 2)])
def test_image_folders_are_sharded_by_file(tmp_path, workers, replicas):
    data = zoo.data.load(_id_folder(tmp_path / "ids"), batch_size=12, test_split=0.0, seed=0)
    assert data.sharding == "file"
    shares = _check_partition(data, workers, replicas, _image_id)
    # A worker decodes only its own files: its weight-0 rows repeat them.
    owned = []
    for share in shares:
        mine, every = set(), set()
        for x, _, weights in share:
            ids = _image_id(x.numpy())
            mine |= set(ids[weights.numpy() == 1])
            every |= set(ids)
        assert every == mine
        owned.append(mine)
    assert sum(len(files) for files in owned) == len(set().union(*owned))


def test_mapped_inputs_reach_every_split_and_every_workers_files(tmp_path):
    data = zoo.data.load(_id_folder(tmp_path / "ids"), batch_size=12, test_split=0.0, seed=0)
    grown = data.map_inputs(lambda x: tf.image.resize(x * 255.0, (8, 8)), (8, 8, 1))
    assert grown.input_shape == (8, 8, 1) and grown.sharding == "file"
    assert next(iter(grown.validation))[0].shape[1:] == (8, 8, 1)
    for index in (0, 1):  # the shares are mapped as the splits are, and still partition
        x, _, _ = next(iter(grown.worker_train(2, index)))
        assert x.shape[1:] == (8, 8, 1) and float(x.numpy().max()) > 1.0
    _check_partition(grown, 2, 1, lambda x: _image_id(x / 255.0))
    with pytest.raises(TypeError, match=r"`fn` must be a function.*Received: fn=3"):
        data.map_inputs(3)


def test_worker_train_checks_its_arguments():
    data = zoo.data.load("digits", batch_size=30)
    with pytest.raises(ArgumentValueError, match=r"multiple of the 4 replicas.*batch_size=30"):
        data.worker_train(2, 0, replicas=2)
    with pytest.raises(ArgumentValueError, match=r"`index`.*Received: index=2"):
        data.worker_train(2, 2)
    with pytest.raises(ArgumentValueError, match=r"`workers`.*Received: workers=0"):
        data.worker_train(0, 0)
    tiny = zoo.data.load(np.zeros((10, 2), "float32"), np.arange(10) % 2, batch_size=8)
    with pytest.raises(ArgumentValueError, match="at least 8 training examples"):
        tiny.worker_train(8, 0)


@pytest.mark.parametrize("cache", [True, False])
def test_folder_training_order_is_reshuffled_each_epoch(tmp_path, cache):
    # Uncached, the paths are reshuffled before decoding; cached, the decoded images.
    data = zoo.data.load(_id_folder(tmp_path / "ids"), batch_size=8, test_split=0.0, cache=cache)
    epochs = [[int(i) for x, _ in data.train for i in _image_id(x.numpy())] for _ in range(2)]
    assert epochs[0] != epochs[1] and sorted(epochs[0]) == sorted(epochs[1])
    assert len(set(epochs[0])) == data.sizes["train"]
    again = zoo.data.load(tmp_path / "ids", batch_size=8, test_split=0.0, cache=cache)
    assert [int(i) for x, _ in again.train for i in _image_id(x.numpy())] == epochs[0]


def test_streamed_folder_shares_stay_even_when_a_file_is_found_bad(tmp_path, monkeypatch):
    # A file found bad while streaming is dropped from its worker's share, which is
    # padded with a weight-0 row: every worker still runs the same steps (a worker
    # with fewer would leave the others waiting in their all-reduce).
    from zoo.data import images

    monkeypatch.setattr(images, "STREAM_FROM", 4)
    monkeypatch.setattr(images, "SAMPLE", 1)
    root = _id_folder(tmp_path / "ids")
    (root / "b" / "z_bad.png").write_text("not an image")
    data = zoo.data.load(root, batch_size=12, test_split=0.0, seed=0, skip_bad_files=True)
    assert data.unchecked > 0
    expected = data.sizes["train"] - 1  # it counts z_bad.png until it is read
    shares = [data.worker_train(2, index) for index in range(2)]
    seen, batches = [], []
    for share in shares:
        ids, sizes = _ids_of(share, _image_id)
        seen.extend(ids)
        batches.append(sizes)
    assert batches[0] == batches[1]
    assert sorted(seen) == sorted(set(seen)) and len(seen) == expected
