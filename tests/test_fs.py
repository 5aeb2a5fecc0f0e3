import os

import pytest

from zoo import _fs


def test_atomic_file_replaces_only_on_success(tmp_path):
    target = tmp_path / "table.csv"
    _fs.write_text(target, "old")
    with pytest.raises(RuntimeError), _fs.atomic_file(target) as partial:
        partial.write_text("half")
        raise RuntimeError("killed mid-write")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["table.csv"]  # no temporary left
    with _fs.atomic_file(target) as partial:
        assert partial.name.endswith("table.csv") and partial.parent == tmp_path
        partial.write_text("new")
    assert target.read_text() == "new"
    _fs.write_bytes(target, b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"


def test_staging_and_install_swap_a_folder(tmp_path):
    target = tmp_path / "model"
    with _fs.staging(target) as folder:
        (folder / "a.txt").write_text("1")
        _fs.install(folder, target)
    assert (target / "a.txt").read_text() == "1"
    with pytest.raises(RuntimeError), _fs.staging(target) as folder:
        (folder / "a.txt").write_text("2")
        raise RuntimeError("check failed before install")
    assert (target / "a.txt").read_text() == "1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
    with _fs.staging(target) as folder:
        (folder / "b.txt").write_text("2")
        _fs.install(folder, target)
    assert [p.name for p in target.iterdir()] == ["b.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # backup removed


def test_recover_finishes_a_swap_killed_between_its_renames(tmp_path):
    target = tmp_path / "model"
    backup = tmp_path / f"{_fs.BACKUP_PREFIX}model-dead"
    backup.mkdir()
    (backup / "a.txt").write_text("previous")
    (tmp_path / f"{_fs.TMP_PREFIX}model-stale").mkdir()
    _fs.recover(target)
    assert (target / "a.txt").read_text() == "previous"
    assert sorted(os.listdir(tmp_path)) == ["model"]


def test_install_moves_a_file(tmp_path):
    source, target = tmp_path / "new.bin", tmp_path / "model.tflite"
    target.write_bytes(b"old")
    source.write_bytes(b"new")
    assert _fs.install(source, target) == target
    assert target.read_bytes() == b"new" and not source.exists()
