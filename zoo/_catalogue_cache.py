"""The catalogue kept on disk, so that the CLI answers without loading Keras.

Loading Keras (and TensorFlow under it) takes seconds, and counting the parameters of
every row of ``zoo.list_architectures()`` takes more. The CLI keeps what it needs to
answer ``zoo list`` and to check architecture names in one JSON file:
``$ZOO_CACHE_DIR/catalogue.json`` (default ``$XDG_CACHE_HOME/zoo``, or ``~/.cache/zoo``).

The file is keyed by everything the table depends on: zoo's own files (path, size and
modification time), the versions of Keras, keras-hub, TensorFlow and TF Hub, the
environment variables that say where weights are, and the folders where pretrained
weights are found (the modification times of their entries), so a change to any of
them makes the CLI compute the table again. It is written atomically; a damaged,
foreign or stale file is ignored and replaced. Nothing in it is executed.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CACHE_DIR_ENV = "ZOO_CACHE_DIR"
FILE_NAME = "catalogue.json"
FORMAT = 1

# What the pretrained rows' ``offline`` column depends on (see weight_folders()).
_ENVIRONMENT = ("ZOO_WEIGHTS_DIR", "KERAS_HOME", "KAGGLEHUB_CACHE", "TFHUB_CACHE_DIR")
_DISTRIBUTIONS = ("keras", "keras-hub", "tensorflow", "tensorflow-hub", "tf-keras")
_MAX_ENTRIES = 20_000  # a weights folder this large is not fingerprinted: no cache


def cache_dir() -> Path:
    """The per-user cache folder of zoo: ``$ZOO_CACHE_DIR``, else ``$XDG_CACHE_HOME/zoo``."""
    if os.environ.get(CACHE_DIR_ENV):
        return Path(os.environ[CACHE_DIR_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "zoo"


def weight_folders() -> list[Path]:
    """The folders whose contents decide which pretrained rows are on disk.

    The same folders as ``applications.keras_cache_dir()``, ``$ZOO_WEIGHTS_DIR``,
    ``text.kagglehub_cache_dir()`` and ``hub_cache.hub_cache_dir()`` (a test keeps
    them equal), found here without importing those Keras-loading modules.
    """
    home = os.environ.get("KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras"))
    kaggle = os.environ.get("KAGGLEHUB_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "kagglehub"
    )
    hub = os.environ.get("TFHUB_CACHE_DIR") or os.path.join(tempfile.gettempdir(), "tfhub_modules")
    folders = [Path(home) / "models", Path(kaggle).expanduser(), Path(hub).expanduser()]
    if os.environ.get("ZOO_WEIGHTS_DIR"):
        folders.insert(0, Path(os.environ["ZOO_WEIGHTS_DIR"]))
    return folders


def _entries(root: Path, *, skip_caches: bool) -> Iterator[str]:
    """``path size mtime`` for every file and folder under `root`, in a stable order."""
    count = 0
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(s for s in subfolders if not (skip_caches and s == "__pycache__"))
        for name in sorted(files) + subfolders:
            path = os.path.join(folder, name)
            try:
                stat = os.stat(path)
            except OSError:  # removed while we looked
                continue
            count += 1
            if count > _MAX_ENTRIES:
                raise OverflowError(root)
            size = 0 if os.path.isdir(path) else stat.st_size
            yield f"{os.path.relpath(path, root)} {size} {stat.st_mtime_ns}"


def _version(distribution: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "absent"


def key() -> str | None:
    """A digest of everything the table depends on; None if that cannot be told cheaply."""
    digest = hashlib.sha256(f"format {FORMAT}\n".encode())
    try:
        for line in _entries(Path(__file__).parent, skip_caches=True):
            digest.update(f"zoo {line}\n".encode())
        for folder in weight_folders():
            digest.update(f"folder {folder}\n".encode())
            if folder.is_dir():
                for line in _entries(folder, skip_caches=False):
                    digest.update(f"  {line}\n".encode())
    except OverflowError:
        return None
    for name in _DISTRIBUTIONS:
        digest.update(f"{name} {_version(name)}\n".encode())
    for name in (*_ENVIRONMENT, "KERAS_BACKEND"):
        digest.update(f"{name}={os.environ.get(name, '')}\n".encode())
    return digest.hexdigest()


def read() -> dict[str, Any] | None:
    """The cached catalogue if it is current, else None.

    A dict with ``accepted`` (every accepted name: the row it means), ``deprecated``
    (old name: row), ``parameters`` (row: builder arguments) and ``rows`` (the records
    of ``list_architectures()``, or None when only the names were cached).
    """
    path = cache_dir() / FILE_NAME
    try:
        contents = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(contents, dict) or contents.get("key") != key():
        return None
    for field in ("accepted", "deprecated", "parameters"):
        if not isinstance(contents.get(field), dict):
            return None
    rows = contents.get("rows")
    if rows is not None and not (isinstance(rows, list) and all(isinstance(r, dict) for r in rows)):
        return None
    return {field: contents[field] for field in ("accepted", "deprecated", "parameters", "rows")}


def write(catalogue: dict[str, Any]) -> None:
    """Store `catalogue` (the dict :func:`read` returns) atomically.

    A cache folder that cannot be written is skipped silently: the cache only saves time.
    """
    digest = key()
    if digest is None:
        return
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".catalogue-", suffix=".json")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump({"key": digest, **catalogue}, out)
            os.replace(temporary, folder / FILE_NAME)
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError:
        return
