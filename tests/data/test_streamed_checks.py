"""Large new image folders are checked as the pipeline first decodes them.

A first load of a folder with more than ``images.STREAM_FROM`` new files checks a
sample up front and the rest while training: a bad file is skipped, named at the end
of the pass (or counted with ``skip_bad_files=True``) and remembered, like the files
that decoded, so the next load neither opens a file nor meets the bad one again.
"""

import re

import numpy as np
import PIL.Image
import pytest
from sample_data import write_images

import zoo
from zoo._validation import ArgumentValueError
from zoo.data import images, manifest


@pytest.fixture(autouse=True)
def small_stream(monkeypatch):
    """Stream from 4 new files on, with one file (the first) checked up front."""
    monkeypatch.setattr(images, "STREAM_FROM", 4)
    monkeypatch.setattr(images, "SAMPLE", 1)


def _folder(tmp_path, per_class=6):
    return write_images(tmp_path / "imgs", per_class=per_class, formats=("png", "jpg"))


def _add_bad_files(root):
    good = (root / "dog" / "1.jpg").read_bytes()
    (root / "dog" / "z_truncated.jpg").write_bytes(good[: len(good) // 2])
    (root / "cat" / "z_text.png").write_text("not an image")
    return ["z_truncated.jpg", "z_text.png"]


def _count(dataset):
    return sum(len(y) for _, y in dataset.as_numpy_iterator())


def test_a_first_load_streams_the_check_and_a_second_load_opens_nothing(tmp_path, monkeypatch):
    root = _folder(tmp_path)
    first = zoo.data.load(root, validation_split=0, test_split=0, batch_size=4)
    assert first.unchecked == 11  # 12 files, 1 checked up front
    assert _count(first.train) == 12
    assert first.unchecked == 0
    entries = manifest.Manifest.read(root, checker=images.checker()).entries
    assert len(entries) == 12
    assert entries["cat/0.png"][2] == [10, 12, "RGB"]  # checked by Pillow: with its mode
    assert entries["dog/1.jpg"][2] == [10, 12, None]  # decoded while streaming

    opened = []
    monkeypatch.setattr(images, "_scan_image", lambda path: opened.append(path))
    second = zoo.data.load(root, validation_split=0, test_split=0, batch_size=4)
    assert opened == [] and second.unchecked == 0
    assert second.fingerprint == first.fingerprint and second.sizes == first.sizes
    assert second.input_shape == first.input_shape == (10, 12, 3)


def test_bad_files_found_while_streaming_are_named_at_the_end_of_the_pass(tmp_path):
    root = _folder(tmp_path)
    bad = _add_bad_files(root)
    data = zoo.data.load(root, validation_split=0, test_split=0, batch_size=4)
    assert data.sizes["train"] == 14  # not yet known to be bad
    with (
        pytest.raises(ArgumentValueError, match=r"2 file\(s\) in .* cannot be used") as raised,
        images.naming_bad_files(),
    ):
        _count(data.train)
    message = str(raised.value)
    assert all(name in message for name in bad) and "skip_bad_files=True" in message
    assert "truncated" in message and "not an image" in message
    with pytest.raises(ArgumentValueError, match="z_t"), images.naming_bad_files():
        _count(data.train)  # every pass fails, not only the first: its error may have
        # gone unseen (Keras's JAX fit drops the iterator it builds the model from, whose
        # prefetching can reach the end of a small split)
    with pytest.raises(ArgumentValueError, match="z_t"):  # remembered: named at load
        zoo.data.load(root, validation_split=0, test_split=0)


def test_training_stops_with_the_bad_files_named(tmp_path):
    root = _folder(tmp_path)
    _add_bad_files(root)
    with pytest.raises(ArgumentValueError, match=r"z_truncated\.jpg"):
        data = zoo.data.load(root, batch_size=4, test_split=0, validation_split=0.25)
        zoo.train("mlp", data, epochs=1, output=tmp_path / "model")


def test_skipped_bad_files_are_counted_and_left_out(tmp_path, capsys):
    root = _folder(tmp_path)
    _add_bad_files(root)
    data = zoo.data.load(root, validation_split=0, test_split=0, skip_bad_files=True)
    assert _count(data.train) == 12
    assert "skipped 2 unusable file(s)" in capsys.readouterr().out
    assert _count(data.train) == 12  # again, silently
    assert "skipped" not in capsys.readouterr().out
    again = zoo.data.load(root, validation_split=0, test_split=0, skip_bad_files=True)
    assert again.sizes["train"] == 12 and again.unchecked == 0
    assert again.fingerprint == data.fingerprint  # the folder did not change


def test_held_out_splits_are_checked_as_they_are_read(tmp_path, capsys):
    root = _folder(tmp_path, per_class=10)
    _add_bad_files(root)
    data = zoo.data.load(root, validation_split=0.25, test_split=0.25, skip_bad_files=True)
    total = sum(data.sizes.values())
    labels = data.labels("test")  # the pipeline's order, without the skipped files
    read = _count(data.train) + _count(data.validation) + len(labels)
    assert read == total - 2 and data.unchecked == 0
    counts = re.findall(r"skipped (\d+) unusable file", capsys.readouterr().out)
    assert sum(map(int, counts)) == 2  # named by the pass of the split each was in


def test_images_over_the_pixel_limit_are_refused_while_streaming(tmp_path, monkeypatch):
    root = _folder(tmp_path)
    PIL.Image.new("RGB", (40, 30)).save(root / "cat" / "z_big.png")
    monkeypatch.setattr(PIL.Image, "MAX_IMAGE_PIXELS", 1000)  # 12x10 fits, 40x30 not
    data = zoo.data.load(root, validation_split=0, test_split=0)
    with (
        pytest.raises(ArgumentValueError, match=r"z_big\.png: 1,200 pixels, over Pillow's"),
        images.naming_bad_files(),
    ):
        _count(data.train)


def test_streamed_images_of_another_size_are_resized_and_counted(tmp_path, capsys):
    root = _folder(tmp_path)
    PIL.Image.new("RGB", (20, 16)).save(root / "dog" / "z_large.png")
    data = zoo.data.load(root, validation_split=0, test_split=0)
    assert data.input_shape == (10, 12, 3)  # the sample's size
    batches = list(data.train.as_numpy_iterator())
    assert sum(len(y) for _, y in batches) == 13
    assert {x.shape[1:] for x, _ in batches} == {(10, 12, 3)}
    out = capsys.readouterr().out
    assert "1 image(s) checked while training are not (10, 12)" in out
    assert "image_size=" in out
    with pytest.raises(ArgumentValueError, match="image_size"):  # now all sizes are known
        zoo.data.load(root, validation_split=0, test_split=0)


def test_colour_mode_auto_goes_by_the_files_pillow_checked(tmp_path):
    root = tmp_path / "grey"
    rng = np.random.default_rng(0)
    for label in ("a", "b"):
        (root / label).mkdir(parents=True)
        for i in range(5):
            pixels = rng.integers(0, 255, (8, 8), dtype=np.uint8)
            PIL.Image.fromarray(pixels).save(root / label / f"{i}.png")
    first = zoo.data.load(root, validation_split=0, test_split=0)
    assert first.input_shape == (8, 8, 1)
    _count(first.train)
    second = zoo.data.load(root, validation_split=0, test_split=0)
    assert second.input_shape == (8, 8, 1) and second.unchecked == 0
