"""Atomic writes: a file or folder is either the old one or the new one, never half.

Everything zoo writes to disk (saved models, exports, cards, tables, plots, downloaded
weights, the feature cache, tuning tables) goes through these helpers:

- :func:`atomic_file` yields a temporary sibling path to write; on success it is
  synced and renamed over the target (``os.replace``), on failure removed.
- :func:`staging` yields a temporary sibling folder, removed afterwards whatever
  happens; :func:`install` moves a finished file or folder from it onto the target
  (a folder is swapped through a backup name, repaired by :func:`recover` if the swap
  itself was interrupted).

Example:
    >>> with atomic_file("table.csv") as partial:
    ...     frame.to_csv(partial)
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

TMP_PREFIX = ".tmp-"
BACKUP_PREFIX = ".backup-"


def fsync_dir(path: str | os.PathLike) -> None:
    """Flush a folder's entries (renames into it) to disk, where the platform allows."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _fsync_tree(path: Path) -> None:
    if path.is_file():
        _fsync_file(path)
        return
    for root, _, files in os.walk(path):
        for name in files:
            _fsync_file(Path(root) / name)
        fsync_dir(root)


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `path`; move it onto `path` when the block succeeds.

    The temporary name ends with the target's name (``np.savez``, ``savefig`` and
    Keras's ``.weights.h5`` check look at it). A
    block that raises, or a process killed inside it, leaves `path` as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{TMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}-{path.name}")
    try:
        yield partial
        _fsync_file(partial)
        os.replace(partial, path)
        fsync_dir(path.parent)
    finally:
        partial.unlink(missing_ok=True)


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write `text` to `path` atomically (UTF-8); returns the path."""
    with atomic_file(path) as partial:
        partial.write_text(text, encoding="utf-8")
    return Path(path)


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write `data` to `path` atomically; returns the path."""
    with atomic_file(path) as partial:
        partial.write_bytes(data)
    return Path(path)


def recover(target: str | os.PathLike) -> None:
    """Finish or undo a folder swap that an interrupted :func:`install` left behind."""
    target = Path(target)
    parent = target.parent
    if not parent.is_dir():
        return
    backups = sorted(parent.glob(f"{BACKUP_PREFIX}{target.name}-*"), key=os.path.getmtime)
    if not target.exists() and backups:
        backups[-1].rename(target)  # the swap died between its two renames
        backups = backups[:-1]
    for stale in backups + list(parent.glob(f"{TMP_PREFIX}{target.name}-*")):
        shutil.rmtree(stale, ignore_errors=True)


@contextlib.contextmanager
def staging(target: str | os.PathLike) -> Iterator[Path]:
    """Yield an empty folder beside `target` (same file system), removed afterwards.

    Write the new version in it, check it, then :func:`install` it onto `target`.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    recover(target)
    folder = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{target.name}-", dir=target.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(folder, 0o777 & ~umask)  # as a plain mkdir would, not mkdtemp's 0o700
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def install(source: str | os.PathLike, target: str | os.PathLike) -> Path:
    """Move a finished file or folder onto `target`, synced, replacing what was there.

    A file is renamed over the target. A folder is swapped in through a backup name,
    so until the last rename the previous version stays whole, and a swap killed in
    between is completed by :func:`recover`.
    """
    source, target = Path(source), Path(target)
    _fsync_tree(source)
    if source.is_file():
        os.replace(source, target)
        fsync_dir(target.parent)
        return target
    backup = None
    if target.exists():
        backup = target.parent / f"{BACKUP_PREFIX}{target.name}-{uuid.uuid4().hex[:8]}"
        target.rename(backup)
    try:
        source.rename(target)
    except BaseException:
        if backup is not None:
            backup.rename(target)
        raise
    fsync_dir(target.parent)
    if backup is not None:
        shutil.rmtree(backup, ignore_errors=True)
    return target
