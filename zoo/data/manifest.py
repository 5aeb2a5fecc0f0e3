"""What zoo learned about a folder's files, remembered between loads.

Checking an image folder decodes every file once, with Pillow before training or with
TensorFlow while the pipeline first reads it (see :mod:`zoo.data.images`), 0.2 to
1.5 ms a file. The result for each file (its size in pixels and Pillow mode, the mode
None when TensorFlow checked it, or why it cannot be used) is kept in a *manifest*
keyed by the
file's path relative to the folder, its size in bytes and its modification time in
nanoseconds, so the next load of the same folder checks only what is new or changed and
otherwise starts at the speed of listing it.

Manifests live in zoo's cache folder (``$ZOO_CACHE_DIR/folders``, by default
``~/.cache/zoo/folders``), one JSON file per folder named by a hash of its absolute path,
never inside the user's data. They are written atomically; a damaged, foreign or stale
manifest (another format, another checker: a new Pillow, a changed
``PIL.Image.MAX_IMAGE_PIXELS``) is ignored and replaced. ``ZOO_FOLDER_MANIFESTS=0``
turns them off (every load checks every file again).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from zoo import _fs
from zoo._catalogue_cache import cache_dir

FORMAT = 1
ENABLE_ENV = "ZOO_FOLDER_MANIFESTS"


def enabled() -> bool:
    """False when ``$ZOO_FOLDER_MANIFESTS`` is ``0``/``false``/``no``/``off``."""
    return os.environ.get(ENABLE_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def path_for(root: Path) -> Path:
    """The manifest file of folder `root` in zoo's cache folder."""
    key = hashlib.sha256(str(Path(root).resolve()).encode()).hexdigest()[:32]
    return cache_dir() / "folders" / f"{key}.json"


class Manifest:
    """Check results of one folder's files: ``{relative path: (size, mtime_ns, result)}``.

    `checker` names what produced the results (for images: the Pillow version and its
    pixel limit); a manifest written by another checker is not used.

    Example:
        >>> import tempfile
        >>> root = Path(tempfile.mkdtemp())
        >>> manifest = Manifest.read(root, checker="example")
        >>> manifest.put("a/1.png", 10, 123, [8, 8, "L"])
        >>> manifest.get("a/1.png", 10, 123), manifest.get("a/1.png", 11, 123)
        ([8, 8, 'L'], None)
    """

    def __init__(self, root: Path, checker: str, entries: dict[str, list[Any]] | None = None):
        self.root = Path(root)
        self.checker = checker
        self.entries = entries or {}
        self.changed = False

    @classmethod
    def read(cls, root: Path, *, checker: str) -> Manifest:
        """The stored manifest of `root`, or an empty one (none, damaged, stale or off)."""
        empty = cls(root, checker)
        if not enabled():
            return empty
        try:
            stored = json.loads(path_for(root).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return empty
        if (
            not isinstance(stored, dict)
            or stored.get("format") != FORMAT
            or stored.get("checker") != checker
            or stored.get("root") != str(Path(root).resolve())
            or not isinstance(stored.get("files"), dict)
        ):
            return empty
        return cls(root, checker, stored["files"])

    def get(self, relative: str, size: int, mtime_ns: int) -> Any:
        """The stored result for this file as it is now, or None (unknown or changed)."""
        entry = self.entries.get(relative)
        if isinstance(entry, list) and len(entry) == 3 and entry[:2] == [size, mtime_ns]:
            return entry[2]
        return None

    def put(self, relative: str, size: int, mtime_ns: int, result: Any) -> None:
        """Remember `result` (JSON data) for this file."""
        self.entries[relative] = [size, mtime_ns, result]
        self.changed = True

    def keep_only(self, relatives: set[str]) -> None:
        """Forget files that are gone from the folder."""
        gone = [name for name in self.entries if name not in relatives]
        for name in gone:
            del self.entries[name]
        self.changed = self.changed or bool(gone)

    def write(self) -> None:
        """Store the manifest atomically if it changed.

        A cache that cannot be written is skipped (the next load checks again), never an
        error.
        """
        if not self.changed or not enabled():
            return
        record = {
            "format": FORMAT,
            "checker": self.checker,
            "root": str(self.root.resolve()),
            "files": self.entries,
        }
        try:
            _fs.write_text(path_for(self.root), json.dumps(record, separators=(",", ":")))
        except OSError:
            return
        self.changed = False
