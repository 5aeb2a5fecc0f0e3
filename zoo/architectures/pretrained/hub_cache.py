"""TF Hub handles: where TF Hub caches them, and how zoo resolves one (no TensorFlow).

A handle is resolved in this order:
    1. a local folder that holds ``saved_model.pb`` (the extracted TF Hub archive);
    2. a URL handle already in TF Hub's cache, ``$TFHUB_CACHE_DIR/<sha1 of the handle>``
       (default ``<temp dir>/tfhub_modules``, the folder ``tensorflow_hub`` itself uses),
       read without the network;
    3. a download by ``tensorflow_hub``, unless ``ZOO_OFFLINE=1``.
Offline, or when the download fails, the error names the folder to extract the model into.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from zoo import _validation as v

OFFLINE_ENV = "ZOO_OFFLINE"
CACHE_ENV = "TFHUB_CACHE_DIR"

_SAVED_MODEL_FILES = ("saved_model.pb", "saved_model.pbtxt")

# --------------------------------------------------------------------------- resolving


def is_remote(handle: str) -> bool:
    """Whether `handle` is a URL (``https://``, ``gs://``...) rather than a local path."""
    return "://" in handle


def hub_cache_dir() -> Path:
    """TF Hub's cache folder: ``$TFHUB_CACHE_DIR``, else ``<temp dir>/tfhub_modules``.

    This mirrors ``tensorflow_hub.resolver.tfhub_cache_dir(use_temp=True)`` (which also
    reads an absl ``--tfhub_cache_dir`` flag; set the environment variable instead).
    """
    folder = os.environ.get(CACHE_ENV) or os.path.join(tempfile.gettempdir(), "tfhub_modules")
    return Path(folder).expanduser()


def cached_module_dir(handle: str) -> Path:
    """The folder TF Hub caches `handle` in: the cache folder / sha1 of the handle.

    Example:
        >>> cached_module_dir("https://tfhub.dev/google/nnlm-en-dim50/2").parent == hub_cache_dir()
        True
    """
    return hub_cache_dir() / hashlib.sha1(handle.encode("utf8")).hexdigest()


def _is_saved_model(folder: Path) -> bool:
    return folder.is_dir() and any((folder / name).is_file() for name in _SAVED_MODEL_FILES)


def is_cached(handle: str) -> bool:
    """Whether a URL handle's SavedModel is already in TF Hub's cache folder."""
    return _is_saved_model(cached_module_dir(handle))


def _offline() -> bool:
    return os.environ.get(OFFLINE_ENV) == "1"


def _unavailable_error(handle: str, reason: str) -> Exception:
    folder = cached_module_dir(handle)
    archive = ""
    if handle.startswith(("http://", "https://")):
        archive = f" (the archive is at {handle}?tf-hub-format=compressed)"
    return v.ArgumentValueError(
        f"The TF Hub model {handle!r} is not available ({reason}). On a machine with network "
        f"access, download the model's .tar.gz{archive} and extract it into {folder} (TF Hub's "
        f"cache folder for this handle; set ${CACHE_ENV} to move the cache), or pass the "
        f"extracted SavedModel folder instead: hub_layer('/path/to/saved_model'). "
        f"Received: handle={handle!r}"
    )


def _resolve(handle: str) -> str:
    """Return the local folder (or, online, the URL) that ``hub.load`` should read."""
    if not is_remote(handle):
        folder = Path(handle).expanduser()
        if not folder.exists():
            raise v.ArgumentValueError(
                f"No SavedModel folder at {folder.resolve()}: `handle` must be a TF Hub URL or "
                f"an existing folder that holds saved_model.pb and variables/ (an extracted TF "
                f"Hub .tar.gz archive). Place the SavedModel there or pass its folder. "
                f"Received: handle={handle!r}"
            )
        if not _is_saved_model(folder):
            what = "a file, not a folder" if folder.is_file() else "a folder without saved_model.pb"
            raise v.ArgumentValueError(
                f"{folder.resolve()} is {what}, so it is not a TF2 SavedModel: `handle` must "
                f"be a folder that holds saved_model.pb and variables/ (extract a downloaded "
                f"TF Hub .tar.gz archive into a folder first). Received: handle={handle!r}"
            )
        return str(folder)
    folder = cached_module_dir(handle)
    if _is_saved_model(folder):
        return str(folder)
    if folder.is_dir() and any(folder.iterdir()):
        raise v.ArgumentValueError(
            f"TF Hub's cache folder {folder} for {handle!r} holds no saved_model.pb (an "
            f"interrupted download?). Delete it, or extract the model's archive into it. "
            f"Received: handle={handle!r}"
        )
    if _offline():
        raise _unavailable_error(handle, f"{OFFLINE_ENV}=1 and it is not in TF Hub's cache")
    return handle
