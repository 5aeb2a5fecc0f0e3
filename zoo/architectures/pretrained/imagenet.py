"""Prefetch the ImageNet weights of the image backbones, checked, optionally from a mirror.

:data:`WEIGHTS` gives, for every row of :data:`~.applications.BACKBONES`
(``resnet_50.keras_in1k``, ...), the official download URL of its headless
(``include_top=False``) weights file and the hash that ``keras.applications`` checks it
against. The values are copied from the Keras sources (``keras/src/applications/*.py``);
``tests/transfer/test_weights.py`` intercepts Keras's own download call for each
backbone to catch drift. As in ``keras.utils.get_file``, a 64-character hash is SHA-256
and a 32-character one MD5. Keras publishes no hash for MobileNetV2, so that file is
checked only for the HDF5 signature. The file names are Keras's download names.

A mirror (``mirror=`` or ``$ZOO_WEIGHTS_MIRROR``) is a base URL (``https://``,
``http://``, ``file://``) or a local folder: the file is fetched from
``<mirror>/<weights file>`` instead, and checked against the same hash.

Downloads are atomic: the file is written to a temporary file in the target folder,
checked, then renamed, so an interrupted or corrupted download never leaves a broken
file under the final name and never replaces a good one. Public as
:mod:`zoo.transfer.weights`.

Example:
    >>> from zoo.transfer import weights
    >>> weights.pull(["resnet_50.keras_in1k", "mobilenet_v2"])  # doctest: +SKIP
    >>> weights.pull("all", mirror="https://example.org/weights", folder="w")  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import fnmatch
import hashlib
import http.client
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from zoo import _fs
from zoo import _validation as v
from zoo.architectures.pretrained.applications import (
    BACKBONES,
    OFFLINE_ENV,
    WEIGHTS_DIR_ENV,
    canonical_name,
    keras_cache_dir,
    local_weights,
)

MIRROR_ENV = "ZOO_WEIGHTS_MIRROR"
TIMEOUT = 30.0
COLUMNS = ["name", "file", "status", "source", "bytes", "seconds", "check", "error"]
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_CHUNK = 1 << 20


@dataclasses.dataclass(frozen=True)
class WeightsSource:
    """Where a backbone's headless ImageNet weights come from, and their hash.

    Attributes:
        url: the official download URL used by ``keras.applications``.
        file_hash: the hash Keras checks the file against, or None where Keras
            publishes none.
    """

    url: str
    file_hash: str | None

    @property
    def algorithm(self) -> str | None:
        """The hash algorithm, as ``keras.utils.get_file`` picks it (64 digits: SHA-256)."""
        if self.file_hash is None:
            return None
        return "sha256" if len(self.file_hash) == 64 else "md5"


_GCS = "https://storage.googleapis.com/tensorflow/keras-applications/"

# Literal values from keras/src/applications/*.py (Keras 3.15): the include_top=False
# branch of each application's weight loading. Checked against Keras by the tests.
WEIGHTS: dict[str, WeightsSource] = {
    # mobilenet_v2.py: BASE_WEIGHT_PATH; get_file is called without file_hash.
    "mobilenet_v2.keras_in1k": WeightsSource(
        _GCS + "mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5",
        None,
    ),
    # mobilenet_v3.py: BASE_WEIGHT_PATH, WEIGHTS_HASHES["small_224_1.0_float"][1].
    "mobilenet_v3_small.keras_in1k": WeightsSource(
        _GCS + "mobilenet_v3/weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5",
        "d3e8ec802a04aa4fc771ee12a9a9b836",
    ),
    # mobilenet_v3.py: WEIGHTS_HASHES["large_224_1.0_float"][1].
    "mobilenet_v3_large.keras_in1k": WeightsSource(
        _GCS + "mobilenet_v3/weights_mobilenet_v3_large_224_1.0_float_no_top_v2.h5",
        "07fb09a5933dd0c8eaafa16978110389",
    ),
    # resnet.py: BASE_WEIGHTS_PATH, WEIGHTS_HASHES["resnet50"][1].
    "resnet_50.keras_in1k": WeightsSource(
        _GCS + "resnet/resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
        "4d473c1dd8becc155b73f8504c6f6626",
    ),
    # resnet.py: WEIGHTS_HASHES["resnet50v2"][1] (resnet_v2.py calls resnet.ResNet).
    "resnet_50_v2.keras_in1k": WeightsSource(
        _GCS + "resnet/resnet50v2_weights_tf_dim_ordering_tf_kernels_notop.h5",
        "fac2f116257151a9d068a22e544a4917",
    ),
    # efficientnet.py: BASE_WEIGHTS_PATH (note: not under tensorflow/), WEIGHTS_HASHES["b0"][1].
    "efficientnet_b0.keras_in1k": WeightsSource(
        "https://storage.googleapis.com/keras-applications/efficientnetb0_notop.h5",
        "50bc09e76180e00e4465e1a485ddc09d",
    ),
    # efficientnet_v2.py: BASE_WEIGHTS_PATH, WEIGHTS_HASHES["b0"][1].
    "efficientnet_v2_b0.keras_in1k": WeightsSource(
        _GCS + "efficientnet_v2/efficientnetv2-b0_notop.h5",
        "893217f2bb855e2983157299931e43ff",
    ),
    # convnext.py: BASE_WEIGHTS_PATH, WEIGHTS_HASHES["convnext_tiny"][1] (SHA-256).
    "convnext_tiny.keras_in1k": WeightsSource(
        _GCS + "convnext/convnext_tiny_notop.h5",
        "d547c096cabd03329d7be5562c5e14798aa39ed24b474157cef5e85ab9e49ef1",
    ),
    # densenet.py: DENSENET121_WEIGHT_PATH_NO_TOP, hash inline in DenseNet().
    "densenet_121.keras_in1k": WeightsSource(
        _GCS + "densenet/densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5",
        "30ee3e1110167f948a6b9946edeeb738",
    ),
    # xception.py: WEIGHTS_PATH_NO_TOP, hash inline in Xception().
    "xception.keras_in1k": WeightsSource(
        _GCS + "xception/xception_weights_tf_dim_ordering_tf_kernels_notop.h5",
        "b0042744bf5b25fce3cb969f33bebb97",
    ),
    # inception_v3.py: WEIGHTS_PATH_NO_TOP, hash inline in InceptionV3().
    "inception_v3.keras_in1k": WeightsSource(
        _GCS + "inception_v3/inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
        "bcbd6486424b2319ff4ef7d526e38f63",
    ),
    # vgg16.py: WEIGHTS_PATH_NO_TOP, hash inline in VGG16().
    "vgg_16.keras_in1k": WeightsSource(
        _GCS + "vgg16/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
        "6d6bbae143d832006294945121d1f1fc",
    ),
}


class WeightsDownloadError(OSError):
    """Some weights files could not be pulled; ``table`` holds :func:`pull`'s result."""

    def __init__(self, message: str, table: pd.DataFrame) -> None:
        super().__init__(message)
        self.table = table


def _check_names(names: Any) -> list[str]:
    """Validate `names` (a name, "all", or a list of them) before any download.

    Returns the catalogue names; a deprecated old name warns and means its new name.
    """
    if isinstance(names, str):
        names = [names]
    if not isinstance(names, Iterable) or isinstance(names, bytes):
        raise v.invalid("names", "a backbone name, 'all' or a list of names", names, TypeError)
    names = list(names)
    if not names:
        raise v.invalid("names", "at least one backbone name (or 'all')", names)
    result: list[str] = []
    for name in names:
        if not isinstance(name, str):
            raise v.invalid("names", "backbone names (strings)", names, TypeError)
        if name == "all":
            result.extend(BACKBONES)
        else:
            result.append(canonical_name(name))
    return list(dict.fromkeys(result))


def default_folder() -> Path:
    """Where pulled weights go: ``$ZOO_WEIGHTS_DIR`` if set, else Keras's cache."""
    return Path(os.environ.get(WEIGHTS_DIR_ENV) or keras_cache_dir())


def _mirror_base(mirror: Any) -> str | None:
    """Return the mirror as a base URL without a trailing slash (None: official URLs)."""
    if mirror is None:
        mirror = os.environ.get(MIRROR_ENV) or None
        if mirror is None:
            return None
        name = MIRROR_ENV
    else:
        name = "mirror"
    if isinstance(mirror, os.PathLike):
        mirror = os.fspath(mirror)
    if not isinstance(mirror, str) or not mirror.strip():
        raise v.invalid(name, "a base URL or a local folder", mirror, TypeError)
    scheme = urllib.parse.urlsplit(mirror).scheme.lower()
    if scheme in ("http", "https", "file"):
        return mirror.rstrip("/")
    if Path(mirror).is_dir():
        return Path(mirror).resolve().as_uri()
    raise v.invalid(
        name,
        "an http://, https:// or file:// base URL, or an existing local folder",
        mirror,
    )


def source_url(name: str, mirror: Any = None) -> str:
    """The URL a backbone's weights are pulled from: the mirror's, else the official one.

    Example:
        >>> source_url("vgg_16.keras_in1k", "https://example.org/w")
        'https://example.org/w/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5'
    """
    (name,) = _check_names([name])
    base = _mirror_base(mirror)
    if base is None:
        return WEIGHTS[name].url
    return f"{base}/{BACKBONES[name].weights_file}"


def _check_label(source: WeightsSource) -> str:
    return source.algorithm or "hdf5-signature"


def _verify(path: Path, source: WeightsSource) -> str | None:
    """Return None when the file at `path` is good, else what is wrong with it."""
    if source.file_hash is None:
        with open(path, "rb") as handle:
            head = handle.read(len(_HDF5_SIGNATURE))
        if head != _HDF5_SIGNATURE:
            return "not an HDF5 file (Keras publishes no hash for it; the signature is wrong)"
        return None
    actual = file_hash(path, source.algorithm)
    if actual != source.file_hash:
        return f"{source.algorithm} checksum mismatch: expected {source.file_hash}, got {actual}"
    return None


def file_hash(path: str | os.PathLike, algorithm: str = "sha256") -> str:
    """The hex digest of a file (``"md5"`` or ``"sha256"``), read in chunks.

    Example:
        >>> size = open("weights.h5", "wb").write(b"abc")
        >>> file_hash("weights.h5", "md5")
        '900150983cd24fb0d6963f7d28e17f72'
    """
    v.check_choice("algorithm", algorithm, ("md5", "sha256"))
    hasher = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def _download(
    url: str, target: Path, source: WeightsSource, *, timeout: float, progress: bool, label: str
) -> int:
    """Download `url` to `target` atomically and verify it; return the bytes written.

    Raises:
        OSError: network errors, a short read, or a file that fails the check (the
            temporary file is removed and `target` is left as it was).
    """
    received = 0
    with _fs.atomic_file(target) as temp:  # `target` changes only once the file checks out
        with open(temp, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as r:
            length = r.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            bar = None
            if progress:
                from tqdm.auto import tqdm

                bar = tqdm(
                    total=total, unit="B", unit_scale=True, desc=label, file=sys.stderr, leave=False
                )
            try:
                for chunk in iter(lambda: r.read(_CHUNK), b""):
                    out.write(chunk)
                    received += len(chunk)
                    if bar is not None:
                        bar.update(len(chunk))
            finally:
                if bar is not None:
                    bar.close()
        if total is not None and received != total:
            raise OSError(f"incomplete download: got {received} of {total} bytes")
        problem = _verify(temp, source)
        if problem is not None:
            raise OSError(problem)
    return received


def _describe(error: BaseException, url: str) -> str:
    if isinstance(error, urllib.error.HTTPError):
        text = f"HTTP Error {error.code}: {error.reason}"
    elif isinstance(error, urllib.error.URLError):
        text = f"download failed: {error.reason}"
    elif isinstance(error, TimeoutError):
        text = f"timed out: {error or 'no data'}"
    elif isinstance(error, http.client.IncompleteRead):
        text = f"incomplete download: the connection closed early ({error!r})"
    else:
        text = str(error) or type(error).__name__
    return f"{text} (from {url})"


def _offline_error(missing: list[str], folder: Path) -> Exception:
    files = ", ".join(repr(BACKBONES[name].weights_file) for name in missing)
    return v.ArgumentValueError(
        f"Cannot pull ImageNet weights with {OFFLINE_ENV}=1. Place the file(s) {files} "
        f"(from another machine: `zoo weights pull {' '.join(missing)}`, or from the "
        f"official URLs in zoo.transfer.weights.WEIGHTS) in {folder}, or unset {OFFLINE_ENV}. "
        f"Received: names={missing!r}"
    )


def pull(
    names: str | Iterable[str],
    *,
    mirror: str | os.PathLike | None = None,
    folder: str | os.PathLike | None = None,
    force: bool = False,
    progress: bool = True,
    raise_errors: bool = True,
    timeout: float = TIMEOUT,
) -> pd.DataFrame:
    """Download backbones' headless ImageNet weights and verify their checksums.

    Every name is checked before anything is downloaded. A file already in `folder`
    with a good checksum is kept (status ``"present"``) unless `force`. Each download
    goes to a temporary file beside the target, is checked, then renamed into place.

    Args:
        names: backbone names (see :func:`zoo.transfer.list_backbones`; bare names such
            as ``"mobilenet_v2"`` work too), one name, or ``"all"`` for every backbone.
        mirror: a base URL (or local folder) serving the files under their Keras file
            names; default ``$ZOO_WEIGHTS_MIRROR``, else the official Keras URLs.
        folder: where to put the files; default ``$ZOO_WEIGHTS_DIR`` if set, else
            Keras's cache (``$KERAS_HOME/models``, ``~/.keras/models``), where
            ``keras.applications`` and :func:`zoo.transfer.image_classifier` find them.
        force: download again even when a good copy is present.
        progress: show a progress bar per download on stderr.
        raise_errors: raise :class:`WeightsDownloadError` after trying every name when
            any failed; with False, failures are only reported in the table.
        timeout: seconds to wait for the connection and for each read.

    Returns:
        One row per backbone: ``name``, ``file`` (the local path), ``status``
        (``"downloaded"``, ``"present"`` or ``"failed"``), ``source`` (the URL, empty
        when present), ``bytes``, ``seconds``, ``check`` (``"md5"``, ``"sha256"`` or
        ``"hdf5-signature"`` where Keras publishes no hash) and ``error`` (empty
        unless failed).

    Raises:
        ValueError: an unknown name (with close matches), a bad mirror, or
            ``ZOO_OFFLINE=1`` while a file is missing (naming each file and the folder).
        WeightsDownloadError: some downloads failed and `raise_errors` is True; the
            message lists each failure and the table is its ``table`` attribute.

    Example:
        >>> from zoo.transfer import weights
        >>> table = weights.pull(["mobilenet_v2"], progress=False)  # doctest: +SKIP
        >>> table[["name", "status", "bytes"]]  # doctest: +SKIP
    """
    selected = _check_names(names)
    base = _mirror_base(mirror)
    v.check_bool("force", force)
    v.check_bool("progress", progress)
    v.check_bool("raise_errors", raise_errors)
    timeout = v.check_float("timeout", timeout, minimum=0.001)
    if folder is not None and not isinstance(folder, (str, os.PathLike)):
        raise v.invalid("folder", "a folder path or None", folder, TypeError)
    target_folder = Path(folder) if folder is not None else default_folder()
    target_folder = target_folder.expanduser()

    offline = os.environ.get(OFFLINE_ENV) == "1"
    present: dict[str, tuple[int, float]] = {}
    for name in selected:
        path = target_folder / BACKBONES[name].weights_file
        if force or not path.is_file():
            continue
        start = time.perf_counter()
        if _verify(path, WEIGHTS[name]) is None:
            present[name] = (path.stat().st_size, time.perf_counter() - start)
    missing = [name for name in selected if name not in present]
    if offline and missing:
        raise _offline_error(missing, target_folder)
    if missing:
        try:
            target_folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise v.invalid(
                "folder", f"a folder that can be created ({error})", str(target_folder)
            ) from None

    rows = []
    for name in selected:
        spec, source = BACKBONES[name], WEIGHTS[name]
        path = target_folder / spec.weights_file
        row = {
            "name": name,
            "file": str(path),
            "source": "",
            "check": _check_label(source),
            "error": "",
        }
        if name in present:
            size, seconds = present[name]
            rows.append({**row, "status": "present", "bytes": size, "seconds": seconds})
            continue
        url = source.url if base is None else f"{base}/{spec.weights_file}"
        start = time.perf_counter()
        try:
            size = _download(
                url, path, source, timeout=timeout, progress=progress, label=spec.weights_file
            )
            status, error = "downloaded", ""
        except (OSError, ValueError, http.client.HTTPException) as caught:
            size, status, error = 0, "failed", _describe(caught, url)
            if isinstance(caught, urllib.error.HTTPError):
                caught.close()
        rows.append(
            {
                **row,
                "status": status,
                "source": url,
                "bytes": size,
                "seconds": time.perf_counter() - start,
                "error": error,
            }
        )
    table = pd.DataFrame(rows, columns=COLUMNS)
    failed = table[table["status"] == "failed"]
    if raise_errors and len(failed):
        lines = "; ".join(f"{r.name}: {r.error}" for r in failed.itertuples())
        raise WeightsDownloadError(
            f"Could not pull the ImageNet weights of {len(failed)} of {len(table)} "
            f"backbone(s) into {target_folder}: {lines}. Nothing was left under a final "
            f"file name for them. Retry, set ${MIRROR_ENV} (or mirror=) to a server holding "
            f"the files, or place them in {target_folder} by hand. "
            f"Received: names={list(failed['name'])!r}",
            table,
        )
    return table


def list_weights(pattern: str = "*") -> pd.DataFrame:
    """Which backbones have ImageNet weights on disk now (no checksums are computed).

    Args:
        pattern: a shell-style wildcard on the name or on the name without its tag.

    Returns:
        One row per backbone: ``name``, ``file`` (the weights file name),
        ``offline`` (whether a local copy exists) and ``folder`` (the folder holding
        it, or where :func:`pull` would put it).

    Example:
        >>> from zoo.transfer import weights
        >>> weights.list_weights("resnet*")
    """
    v.check_str("pattern", pattern)
    rows = []
    for name, spec in BACKBONES.items():
        bare = name.partition(".")[0]
        if not (fnmatch.fnmatchcase(name, pattern) or fnmatch.fnmatchcase(bare, pattern)):
            continue
        local = local_weights(name)
        folder = local.parent if local is not None else default_folder()
        rows.append(
            {
                "name": name,
                "file": spec.weights_file,
                "offline": local is not None,
                "folder": str(folder),
            }
        )
    return pd.DataFrame(rows, columns=["name", "file", "offline", "folder"])
