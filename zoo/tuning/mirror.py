"""Searches kept in a remote folder (``gs://...``): run in a local copy, synced up.

Keras 3 writes trial checkpoints (``checkpoint.weights.h5``) with h5py from the host
process, so a TPU job never needs its tuning folder to be readable by the TPU (the
``File system scheme '[local]' not implemented`` failure of Keras Tuner with TF-format
checkpoints). h5py cannot write to object stores though, and a Colab or TPU VM disk
does not outlive the runtime. So a ``directory`` with a URL scheme that TensorFlow's
file system knows (``gs://``, ``s3://`` with tensorflow-io, ``ram://``) is mirrored:
the search runs in a local folder, pulled from the remote one first (so the same call
resumes there), and files that changed are pushed after every trial and at the end.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any

from zoo._compat.tensorflow import copy_then_rename


def is_remote(path: Any) -> bool:
    """Whether `path` is a URL (``scheme://...``) other than ``file://``."""
    text = os.fspath(path) if isinstance(path, (str, os.PathLike)) else ""
    return bool(re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", text)) and not text.startswith("file://")


def local_folder(remote: str, root: Path) -> Path:
    """A stable local folder under `root` for the remote folder `remote`."""
    readable = re.sub(r"[^A-Za-z0-9_.-]+", "_", remote)[-60:].strip("_")
    digest = hashlib.sha1(remote.encode()).hexdigest()[:8]
    return root / f"{readable}-{digest}"


class Mirror:
    """A local folder kept in step with a remote one through ``tf.io.gfile``."""

    def __init__(self, remote: str, local: Path) -> None:
        self.remote = remote.rstrip("/")
        self.local = Path(local)
        self._pushed: dict[str, tuple[int, float]] = {}

    def clear(self) -> None:
        """Delete the search on both sides (a search started afresh)."""
        import shutil

        import tensorflow as tf

        if tf.io.gfile.isdir(self.remote):
            tf.io.gfile.rmtree(self.remote)
        shutil.rmtree(self.local, ignore_errors=True)

    def pull(self) -> int:
        """Copy the remote folder's files down (a resumed search); return how many."""
        import tensorflow as tf

        if not tf.io.gfile.isdir(self.remote):
            return 0
        count = 0
        for folder, _, files in tf.io.gfile.walk(self.remote):
            relative = folder[len(self.remote) :].lstrip("/")
            for name in files:
                if name.endswith(".tmp"):  # an interrupted push
                    continue
                target = self.local / relative / name
                target.parent.mkdir(parents=True, exist_ok=True)
                tf.io.gfile.copy(f"{folder.rstrip('/')}/{name}", str(target), overwrite=True)
                self._pushed[str(target)] = _stamp(target)
                count += 1
        return count

    def push(self) -> int:
        """Copy up the local files that are new or changed since the last push."""
        import tensorflow as tf

        count = 0
        for path in sorted(self.local.rglob("*")):
            if not path.is_file() or path.name.endswith(".tmp"):
                continue
            stamp = _stamp(path)
            if self._pushed.get(str(path)) == stamp:
                continue
            target = f"{self.remote}/{path.relative_to(self.local).as_posix()}"
            tf.io.gfile.makedirs(target.rsplit("/", 1)[0])
            copy_then_rename(str(path), target)  # the old file stays whole till then
            self._pushed[str(path)] = stamp
            count += 1
        return count


def _stamp(path: Path) -> tuple[int, float]:
    info = path.stat()
    return info.st_size, info.st_mtime
