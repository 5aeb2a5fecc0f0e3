"""Image folders are checked once: a manifest in zoo's cache remembers every file's result."""

import json
import os
import warnings

import numpy as np
import PIL.Image
import pytest
from sample_data import write_images

import zoo
from zoo._validation import ArgumentValueError
from zoo.data import images, manifest


@pytest.fixture
def opened(monkeypatch):
    """The files zoo's folder check opens, in order."""
    seen = []
    check = images._scan_image

    def counting(path):
        seen.append(path.name)
        return check(path)

    monkeypatch.setattr(images, "_scan_image", counting)
    return seen


def _touch_later(path):
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))


def test_a_second_load_of_an_unchanged_folder_opens_no_file(tmp_path, opened):
    root = write_images(tmp_path / "imgs", per_class=6)
    first = zoo.data.load(root, validation_split=0.25, test_split=0.25)
    assert len(opened) == 12
    second = zoo.data.load(root, validation_split=0.25, test_split=0.25)
    assert len(opened) == 12  # nothing opened again
    assert second.fingerprint == first.fingerprint and second.sizes == first.sizes
    assert second.input_shape == first.input_shape and second.class_names == first.class_names
    stored = manifest.path_for(root)
    assert stored.parent.parent == manifest.cache_dir() and stored.is_file()
    assert sorted(p.name for p in root.iterdir()) == ["cat", "dog"]  # nothing in the data


def test_new_and_changed_files_are_checked_again_and_removed_ones_forgotten(tmp_path, opened):
    root = write_images(tmp_path / "imgs", per_class=6)
    zoo.data.load(root)
    opened.clear()
    changed = root / "cat" / "0.png"
    PIL.Image.new("RGB", (12, 10)).save(changed)  # new content, same size and name
    _touch_later(changed)
    PIL.Image.new("RGB", (12, 10)).save(root / "dog" / "new.png")
    (root / "dog" / "1.png").unlink()
    data = zoo.data.load(root)
    assert sorted(opened) == ["0.png", "new.png"]
    assert sum(data.sizes.values()) == 12
    files = json.loads(manifest.path_for(root).read_text())["files"]
    assert "dog/new.png" in files and "dog/1.png" not in files


def test_bad_files_are_remembered_and_still_named(tmp_path, opened, capsys):
    root = write_images(tmp_path / "imgs", per_class=6)
    (root / "cat" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    for _ in range(2):
        with pytest.raises(ArgumentValueError, match=r"broken\.png: not an image"):
            zoo.data.load(root)
    assert opened.count("broken.png") == 1
    data = zoo.data.load(root, skip_bad_files=True)
    assert sum(data.sizes.values()) == 12 and "skipped 1" in capsys.readouterr().out
    (root / "cat" / "broken.png").unlink()
    PIL.Image.new("RGB", (12, 10)).save(root / "cat" / "broken.png")  # fixed by the user
    _touch_later(root / "cat" / "broken.png")
    assert sum(zoo.data.load(root).sizes.values()) == 13


def test_a_damaged_or_foreign_manifest_is_ignored_and_replaced(tmp_path, opened):
    root = write_images(tmp_path / "imgs", per_class=4)
    zoo.data.load(root)
    stored = manifest.path_for(root)
    for damage in (b"{not json", b"[]", json.dumps({"format": 99}).encode()):
        stored.write_bytes(damage)
        opened.clear()
        zoo.data.load(root)
        assert len(opened) == 8
        assert json.loads(stored.read_text())["format"] == manifest.FORMAT
    record = json.loads(stored.read_text())
    record["files"]["cat/0.png"] = [1, 2, [99, 99, "RGB"]]  # a stale entry
    stored.write_text(json.dumps(record))
    opened.clear()
    assert zoo.data.load(root).input_shape == (10, 12, 3)
    assert opened == ["0.png"]


def test_a_new_pixel_limit_checks_the_folder_again(tmp_path, opened, monkeypatch):
    root = write_images(tmp_path / "imgs", per_class=4)
    PIL.Image.new("RGB", (30, 30)).save(root / "cat" / "huge.png")
    zoo.data.load(root, skip_bad_files=True, image_size=8)
    monkeypatch.setattr(PIL.Image, "MAX_IMAGE_PIXELS", 400)
    opened.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ArgumentValueError, match=r"huge\.png: 900 pixels, over Pillow"):
            zoo.data.load(root, image_size=8)
    assert len(opened) == 9


def test_turned_off_every_load_checks_every_file(tmp_path, opened, monkeypatch):
    monkeypatch.setenv("ZOO_FOLDER_MANIFESTS", "0")
    root = write_images(tmp_path / "imgs", per_class=4)
    zoo.data.load(root)
    zoo.data.load(root)
    assert len(opened) == 16 and not manifest.path_for(root).exists()


def test_an_interrupted_check_resumes_where_it_stopped(tmp_path, monkeypatch):
    root = write_images(tmp_path / "imgs", per_class=100, size=(6, 6))
    check, calls = images._scan_image, []

    def interrupted(path):
        calls.append(path)
        if len(calls) == 150:
            raise KeyboardInterrupt
        return check(path)

    monkeypatch.setattr(images, "_scan_image", interrupted)
    with pytest.raises(KeyboardInterrupt):
        zoo.data.load(root)
    remembered = json.loads(manifest.path_for(root).read_text())["files"]
    assert 0 < len(remembered) < 200
    calls.clear()
    monkeypatch.setattr(images, "_scan_image", lambda path: calls.append(path) or check(path))
    assert sum(zoo.data.load(root).sizes.values()) == 200
    assert len(calls) == 200 - len(remembered)


def test_worker_processes_give_the_results_in_file_order_with_counts(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(images, "PARALLEL_FROM", 100)  # 600 files: worker processes
    monkeypatch.setattr(PIL.Image, "MAX_IMAGE_PIXELS", 30)  # the workers' limit too
    root = write_images(tmp_path / "imgs", per_class=300, size=(4, 4))
    for i in range(0, 300, 50):  # bad files and other sizes scattered through the folder
        (root / "dog" / f"{i}.png").write_bytes(b"no image")
        PIL.Image.new("L", (5, 7)).save(root / "cat" / f"{i}.png")
    files = images.list_files([root / "cat", root / "dog"])
    results = images.check_files(root, files, progress=True)
    expected = images._check_chunk([file.path for file in files], -1)  # in this process
    assert results == expected
    assert sum(isinstance(r, str) for r in results) == 6 + 6  # 5x7 > 30 pixels
    assert all("over Pillow's limit of 30" in r for r in results if r[0] == "3")
    shown = capsys.readouterr().err
    assert "checking images in" in shown and "600/600" in shown and "bad=12" in shown
    again = images.check_files(root, files, progress=True)
    assert again == results and "checking images" not in capsys.readouterr().err
    data = zoo.data.load(root, image_size=4, skip_bad_files=True)
    assert sum(data.sizes.values()) == 588
    np.testing.assert_array_equal(np.bincount(data._examples.y), [294, 294])


def test_jpegs_are_checked_whole_at_a_reduced_scale(tmp_path):
    """The check decodes JPEGs at 1/8 scale: truncated ones still fail, sizes stay true."""
    root = write_images(tmp_path / "imgs", per_class=3, size=(64, 48), formats=("jpg",))
    good = (root / "cat" / "0.jpg").read_bytes()
    (root / "dog" / "cut.jpg").write_bytes(good[: len(good) // 2])
    with pytest.raises(ArgumentValueError, match=r"cut\.jpg: corrupt or truncated image"):
        zoo.data.load(root)
    data = zoo.data.load(root, skip_bad_files=True)
    assert data.input_shape == (48, 64, 3) and sum(data.sizes.values()) == 6
    image = next(iter(data.train))[0][0].numpy()
    assert image.shape == (48, 64, 3) and image.min() >= 0.0 and image.max() <= 1.0
