"""Folders of images in class subfolders, and on-the-fly image augmentation.

Every file is checked once, and the result remembered in zoo's cache (see
:mod:`zoo.data.manifest`), so that a non-image, truncated or oversized file (over
Pillow's decompression-bomb limit), or one that TensorFlow's decoder would misread, is
named (or skipped and counted with ``skip_bad_files=True``). Up to :data:`STREAM_FROM`
new files are opened and decoded with Pillow while the folder is scanned (JPEGs at 1/8
scale, which still reads all their data), before training. Beyond that, a first load
would wait for the check (about 1.5 ms a photo on a core: half an hour for ImageNet),
so only a sample is checked up front and the rest while the pipeline first decodes them
(:class:`StreamedChecks`): TensorFlow's decoder fails on the same truncated, corrupt and
non-image files, the failing ones are skipped and named at the end of that pass. The
pipeline decodes with TensorFlow and caches the decoded images when they fit in memory.

:func:`open_image` is zoo's one way to open an image file with Pillow (folders here,
``zoo.predict``'s image files, ``fine_tune``'s look at a folder).
"""

from __future__ import annotations

import collections
import contextlib
import os
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from zoo import _validation as v
from zoo.data.examples import DamagedSourceError, Examples, encode_labels, fingerprint

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")
COLOR_MODES = ("auto", "rgb", "grayscale")
GREY_MODES = ("L", "1", "I;16", "I")  # Pillow modes read as one channel by color_mode="auto"
AUGMENTATIONS = ("flip", "rotation", "zoom", "contrast")
DEFAULT_AUGMENT = {"flip": "horizontal", "rotation": 0.1, "zoom": 0.1, "contrast": 0.1}


def _class_dirs(root: Path, kind: str) -> list[Path]:
    if not root.is_dir():
        raise v.invalid("source", f"an existing folder of {kind} in class subfolders", str(root))
    dirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not dirs:
        raise v.invalid(
            "source",
            f"a folder with one subfolder per class holding {kind} (root/<class>/<file>)",
            f"{root} has no class subfolders",
        )
    return dirs


def check_every_class(root: Path, dirs: list[Path], labels: list[str], kind: str) -> None:
    """Refuse class subfolders left without a usable file (a class would vanish)."""
    found = set(labels)
    empty = [d.name for d in dirs if d.name not in found]
    if empty and found:
        raise v.invalid(
            "source",
            f"a folder whose every class subfolder holds usable {kind} (a class without "
            "any would silently be left out; remove those subfolders or add files)",
            f"{root} with class subfolder(s) {empty} holding none",
        )


def report_bad_files(root: Path, bad: list[tuple[Path, str]], kind: str, skip: bool) -> None:
    """Raise naming the unusable files, or (with `skip`) print how many were skipped."""
    if not bad:
        return
    if not skip:
        listed = "; ".join(f"{path}: {why}" for path, why in bad[:5])
        more = f" (and {len(bad) - 5} more)" if len(bad) > 5 else ""
        raise v.ArgumentValueError(
            f"{len(bad)} file(s) in {root} cannot be used as {kind}: {listed}{more}. Remove "
            f"them, or pass skip_bad_files=True to skip them. Received: source={str(root)!r}"
        )
    first, why = bad[0]
    print(f"zoo.data: skipped {len(bad)} unusable file(s) in {root} (first: {first}: {why})")


class UnusableImageError(DamagedSourceError):
    """An image file Pillow cannot open or decode, or one over its pixel limit.

    Attributes:
        path: the file.
        reason: what is wrong and what to do, for messages that list several files.
    """

    def __init__(self, path: str | os.PathLike, reason: str):
        self.path = Path(path)
        self.reason = reason
        super().__init__(
            f"Image file {self.path} cannot be used: {reason}. Received: file={str(path)!r}"
        )


# Formats TensorFlow's tf.io.decode_image reads as Pillow does (MPO: cameras' JPEGs).
_TENSORFLOW_FORMATS = ("JPEG", "MPO", "PNG", "GIF", "WEBP", "BMP")
# BMP pixel layouts TensorFlow decodes right: 24-bit, 32-bit and 8-bit grey, uncompressed.
_TENSORFLOW_BMP = ("BGR", "BGRX", "BGRA", "L")


def _pixels(error: Exception) -> int | None:
    found = re.search(r"\((\d+) pixels\)", str(error))
    return int(found.group(1)) if found else None


def _over_limit(pixels: int | None) -> str:
    from PIL import Image

    count = f"{pixels:,} pixels" if pixels else "more pixels"
    return (
        f"{count}, over Pillow's limit of {Image.MAX_IMAGE_PIXELS:,} "
        "(PIL.Image.MAX_IMAGE_PIXELS, a guard against decompression bombs); if you trust "
        "the file, raise that limit first (PIL.Image.MAX_IMAGE_PIXELS = None lifts it), "
        "or shrink or remove the file"
    )


def _tensorflow_problem(image: Any) -> str | None:
    """Why TensorFlow's decoder would fail on or misread an opened (not yet loaded) image."""
    if image.format not in _TENSORFLOW_FORMATS:
        return (
            f"a {image.format} image, which TensorFlow cannot decode (it reads JPEG, PNG, "
            "GIF, BMP and WebP); convert it to PNG or JPEG"
        )
    if image.format == "BMP":
        tile = image.tile[0] if image.tile else None
        layout = tile.args[0] if tile is not None and tile.args else None
        if tile is None or tile.codec_name != "raw" or layout not in _TENSORFLOW_BMP:
            return (
                f"a BMP whose pixel layout ({layout or 'compressed'}, Pillow mode "
                f"{image.mode}) TensorFlow decodes wrongly or not at all (it reads "
                "uncompressed 24- and 32-bit and 8-bit grey BMPs); convert it to PNG"
            )
    return None


@contextlib.contextmanager
def open_image(
    path: str | os.PathLike, *, decode: bool = True, tensorflow: bool = False
) -> Iterator[Any]:
    """Open an image file with Pillow, naming the file in any failure.

    An image of more than ``PIL.Image.MAX_IMAGE_PIXELS`` pixels (Pillow's guard against
    decompression bombs, which only warns up to twice that limit) is refused as an
    :class:`UnusableImageError` too, so it is one more bad file, named or skipped.

    Args:
        path: the image file.
        decode: decode the pixels (catches truncated files); False reads the header.
        tensorflow: also refuse files that TensorFlow's ``decode_image`` (zoo's
            pipelines) would fail on or misread: other formats behind an image
            suffix, and BMPs other than uncompressed 24/32-bit and 8-bit grey.

    Yields:
        The open ``PIL.Image.Image`` (closed on leaving the ``with`` block).

    Raises:
        UnusableImageError: (a ``DamagedFileError``, a ``ValueError``) naming the file
            and what is wrong.
    """
    from PIL import Image

    with warnings.catch_warnings():  # over the limit is refused; Pillow's warning repeats it
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        image, _ = _opened(path, decode=decode, tensorflow=tensorflow)
    with image:
        yield image


def _opened(
    path: str | os.PathLike, *, decode: bool, tensorflow: bool, draft: bool = False
) -> tuple[Any, tuple[int, int]]:
    """:func:`open_image`'s work: the open image and its (height, width), to close.

    It touches no (process-wide) warning filters, so threads may run it at once. With
    `draft`, a JPEG is decoded at an eighth of its size (Pillow's ``draft``: every byte
    of the compressed data is still read, so truncated and corrupt files still fail,
    at about half the cost); its pixels are then not the file's.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(path)
    except FileNotFoundError:
        raise UnusableImageError(path, "no such file") from None
    except UnidentifiedImageError:
        raise UnusableImageError(path, "not an image Pillow can read") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise UnusableImageError(path, _over_limit(_pixels(error))) from None  # warning: if
    except (OSError, SyntaxError, ValueError) as error:  # the caller's filters raise it
        raise UnusableImageError(path, f"corrupt or truncated image ({error})") from None
    size = (image.height, image.width)
    try:
        limit = Image.MAX_IMAGE_PIXELS
        if limit is not None and image.width * image.height > limit:
            raise UnusableImageError(path, _over_limit(image.width * image.height))
        problem = _tensorflow_problem(image) if tensorflow else None
        if problem:
            raise UnusableImageError(path, problem)
        if decode:
            try:
                if draft and image.format in ("JPEG", "MPO"):
                    image.draft(None, (max(1, image.width // 8), max(1, image.height // 8)))
                image.load()  # a full decode: truncated files fail here
            except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
                raise UnusableImageError(path, _over_limit(_pixels(error))) from None
            except (OSError, SyntaxError, ValueError) as error:
                raise UnusableImageError(path, f"corrupt or truncated image ({error})") from None
    except BaseException:
        image.close()
        raise
    return image, size


def _scan_image(path: Path) -> tuple[tuple[int, int], str] | str:
    """Return ((height, width), mode) or the reason the file is unusable (thread-safe)."""
    if path.suffix.lower() not in IMAGE_EXTENSIONS:
        return f"not an image file (allowed: {', '.join(IMAGE_EXTENSIONS)})"
    try:
        image, size = _opened(path, decode=True, tensorflow=True, draft=True)
        with image:
            return size, image.mode
    except UnusableImageError as error:
        return error.reason


def checker() -> str:
    """What decides a check's result: zoo's checks, Pillow's version and pixel limit."""
    import PIL
    from PIL import Image

    return f"images-1 pillow-{PIL.__version__} limit-{Image.MAX_IMAGE_PIXELS}"


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    """Python's cyclic garbage collector paused, for listing and checking a folder.

    A million small tuples made beside TensorFlow's large heap otherwise trigger full
    collections again and again (3/4 of the time of a 20,000-file listing, measured).
    """
    import gc

    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


class File(NamedTuple):
    """A file of a class folder.

    Its path, its path relative to the folder's root, its class, its size in bytes and
    its modification time in ns (both -1 when it cannot be read).
    """

    path: str
    relative: str
    label: str
    size: int
    mtime_ns: int


def listing(root: str | os.PathLike) -> dict[str, list[str]]:
    """Every folder under `root` -> its non-hidden file names, from one walk.

    Links are followed and subfolders come in sorted order: what a load needs to list a
    folder once.
    """
    found = {}
    for folder, subfolders, names in os.walk(os.fspath(root), followlinks=True):
        subfolders.sort()
        found[folder] = [name for name in names if not name.startswith(".")]
    return found


def list_files(
    dirs: list[Path], walked: dict[str, list[str]] | None = None, *, progress: bool = True
) -> list[File]:
    """Every file under the class folders, in sorted path order (a stat each, no open).

    `walked` is a :func:`listing` of their parent folder, if one was made already. A
    bar counts the files when listing them takes more than 2 seconds.
    """
    from tqdm.auto import tqdm

    listed = []
    for directory in dirs:
        top = os.fspath(directory)
        if walked is None:
            folders = listing(top)
        else:
            below = top + os.sep
            folders = {f: n for f, n in walked.items() if f == top or f.startswith(below)}
        paths = []
        for folder, names in folders.items():
            start = folder + os.sep  # (os.path.join is slow for a million files)
            paths += [start + name for name in names]
        if len(folders) == 1:  # a flat class folder: the names' order is the paths' order
            paths.sort()
        else:
            paths.sort(key=lambda path: path.split(os.sep))  # as pathlib sorts: part by part
        listed.append((directory.name, len(top) + 1, paths))
    total = sum(len(paths) for _, _, paths in listed)
    bar = tqdm(total=total, desc="listing files", unit="file", delay=2, disable=not progress)
    found = []
    for label, prefix, paths in listed:
        for number, path in enumerate(paths, 1):
            if number % 4096 == 0:
                bar.update(4096)
            relative = label + os.sep + path[prefix:]
            try:
                stat = os.stat(path)
            except OSError:  # a dangling link: reported as unusable by the check
                found.append(File(path, relative, label, -1, -1))
                continue
            found.append(File(path, relative, label, stat.st_size, stat.st_mtime_ns))
        bar.update(len(paths) % 4096)
    bar.close()
    return found


# New or changed files above which a load checks only a sample of them up front and the
# rest as the pipeline first decodes them (StreamedChecks): about a second of checking
# at most before the first batch, however large the folder.
STREAM_FROM = 1000
SAMPLE = 100  # files checked up front then, for the image size and colour mode
STREAMED = (".jpg", ".jpeg", ".png")  # suffixes that may be checked while streaming

# Files to check before the check runs in worker processes (each pays about 0.6 s to
# start; threads would not help: opening a small image is mostly Python, under the GIL).
PARALLEL_FROM = 4000
_CHUNK = 128


def _check_chunk(paths: list[str], limit: int | None = None) -> list[Any]:
    """Check results of `paths`; in a worker process, `limit` is the caller's pixel limit."""
    from PIL import Image

    if limit != -1:
        Image.MAX_IMAGE_PIXELS = limit
    with warnings.catch_warnings():  # over the limit is refused; the warning repeats it
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        return [_as_result(_scan_image(Path(path))) for path in paths]


def _as_result(scanned: Any) -> Any:
    """A check result as JSON data: ``[height, width, mode]`` or the reason string."""
    if isinstance(scanned, str):
        return scanned
    (height, width), mode = scanned
    return [height, width, mode]


def _checked_chunks(chunks: list[list[str]]) -> Iterator[list[Any]]:
    """Results of each chunk, in order: in worker processes when there are many files."""
    import multiprocessing

    from PIL import Image

    total = sum(map(len, chunks))
    workers = min(os.cpu_count() or 1, 8, len(chunks))
    forks = "fork" in multiprocessing.get_all_start_methods()
    if total < PARALLEL_FROM or workers < 2 or not forks:
        yield from (_check_chunk(chunk, -1) for chunk in chunks)  # -1: the limit as it is
        return
    from concurrent.futures import ProcessPoolExecutor

    # Forked workers: "spawn" and "forkserver" would re-run the caller's script in every
    # worker (a script without a __main__ guard would start again). The workers touch
    # only Pillow, never TensorFlow's threads or locks (PyTorch's DataLoader forks alike).
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
    try:
        yield from pool.map(_check_chunk, chunks, [Image.MAX_IMAGE_PIXELS] * len(chunks))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def check_files(
    root: Path, files: list[File], *, progress: bool = True, stream: bool = False
) -> list[Any]:
    """The check result of every file: ``[height, width, mode]``, why it is unusable, or None.

    Results come from the folder's manifest (:mod:`zoo.data.manifest`) for files whose
    size and modification time are unchanged; the others are checked (in a worker
    process per core when there are thousands) and remembered. An interrupted check
    keeps what it found, so the next load goes on from there.

    With `stream`, when more than :data:`STREAM_FROM` files are new or changed, only
    an even sample of :data:`SAMPLE` of those JPEGs and PNGs is checked (with the other
    formats); the rest get None: they are checked as the pipeline first decodes them
    (:class:`StreamedChecks`).
    """
    from tqdm.auto import tqdm

    from zoo.data import manifest as manifests

    stored = manifests.Manifest.read(root, checker=checker())
    results = [stored.get(f.relative, f.size, f.mtime_ns) for f in files]
    todo = [i for i, result in enumerate(results) if result is None]
    if stream and len(todo) > STREAM_FROM:
        later = [i for i in todo if files[i].size >= 0 and files[i].path.lower().endswith(STREAMED)]
        sample = set(later[:: max(1, len(later) // SAMPLE)][:SAMPLE])
        deferred = set(later) - sample
        todo = [i for i in todo if i not in deferred]
    chunks = [todo[start : start + _CHUNK] for start in range(0, len(todo), _CHUNK)]
    bar = tqdm(
        total=len(todo),
        desc=f"checking images in {root}",
        disable=not progress or len(todo) < 500,
        unit="file",
    )
    bad = 0
    try:
        with bar:
            checked = _checked_chunks([[files[i].path for i in chunk] for chunk in chunks])
            for chunk, found in zip(chunks, checked, strict=True):
                for i, result in zip(chunk, found, strict=True):
                    bad += isinstance(result, str)
                    results[i] = result
                    if files[i].size >= 0:
                        stored.put(files[i].relative, files[i].size, files[i].mtime_ns, result)
                bar.update(len(chunk))
                bar.set_postfix(bad=bad, remembered=len(files) - len(todo))
        stored.keep_only({f.relative for f in files})
    finally:
        stored.write()
    return results


class StreamedChecks:
    """Image files of a load checked as the pipeline first decodes them.

    A first load of a large folder does not open every file before training (see
    :data:`STREAM_FROM`): the pipeline decodes them with TensorFlow, which fails on
    the same truncated, corrupt and non-image files Pillow does, and refuses an image
    over Pillow's pixel limit once decoded (only JPEG and PNG files are left to it:
    a BMP or GIF behind their suffix is not refused). A file that fails is skipped
    (``ignore_errors``); at the end of each pass over a split,
    :meth:`finish` names the files that failed (Pillow says why), remembers every
    result in the folder's manifest (the next load starts at the speed of listing)
    and raises :class:`zoo.ArgumentValueError` naming them, at the end of every pass
    over a split that holds them (a pass whose iterator was dropped, as Keras drops
    the one it builds a model from, does not swallow the error); with
    ``skip_bad_files=True`` it prints once how many were skipped.

    Attributes:
        files: path -> (folder root, :class:`File`) of the files still to check.
        size: the (height, width) images are resized to when it was inferred from
            the checked files (the others are resized to it too, and counted).
    """

    def __init__(self, skip_bad_files: bool, size: tuple[int, int] | None = None):
        import threading

        self.files: dict[str, tuple[Path, File]] = {}
        self.skip = skip_bad_files
        self.size = size
        self.bad: dict[str, tuple[Path, str]] = {}  # path -> (folder root, why)
        self._decoded = None  # a tf.lookup table of what the pipelines decoded
        self._lock = threading.Lock()

    def add(self, root: Path, files: list[File]) -> None:
        self.files.update({f.path: (root, f) for f in files})

    def merge(self, other: StreamedChecks | None) -> StreamedChecks:
        """These checks and `other`'s (the splits of one load), as one."""
        if other is not None and other is not self:
            self.files.update(other.files)
            self.bad.update(other.bad)
        return self

    def among(self, paths: Any) -> list[str]:
        """The files of `paths` still to check."""
        return [p for p in dict.fromkeys(np.asarray(paths).tolist()) if p in self.files]

    def record(self, paths: Any, shapes: Any) -> Any:
        """Note a batch of decoded files (``paths`` and their ``(height, width)``).

        A TensorFlow op for the pipeline (a hash table insert: no Python per batch).
        """
        import tensorflow as tf

        if self._decoded is None:
            with tf.init_scope():  # made once, eagerly, not in the pipeline's function
                self._decoded = tf.lookup.experimental.MutableHashTable(
                    tf.string, tf.int64, default_value=tf.constant([-1, -1], tf.int64)
                )
        return self._decoded.insert(paths, tf.cast(shapes, tf.int64))

    def _take_decoded(self) -> dict[str, list[Any]]:
        """The decoded files noted so far -> ``[height, width, None]``.

        No Pillow mode: ``color_mode="auto"`` goes by the files Pillow checked.
        """
        if self._decoded is None:
            return {}
        keys, values = self._decoded.export()
        return {
            key.decode(): [height, width, None]
            for key, (height, width) in zip(
                keys.numpy().tolist(), values.numpy().tolist(), strict=True
            )
        }

    def finish(self, paths: list[str]) -> None:
        """End of a pass over `paths`: name what failed, remember every result."""
        from zoo.data import manifest as manifests

        with self._lock, _no_gc():
            done = [p for p in paths if p in self.files]
            decoded = self._take_decoded() if done else {}
            found: dict[Path, list[tuple[File, Any]]] = {}
            new_bad = []
            resized = 0
            for path in done:
                root, file = self.files.pop(path)
                result = decoded.get(path) or _why_unusable(path)
                if isinstance(result, str):
                    self.bad[path] = (root, result)
                    new_bad.append(path)
                elif self.size is not None and tuple(result[:2]) != tuple(self.size):
                    resized += 1
                found.setdefault(root, []).append((file, result))
            for root, results in found.items():
                stored = manifests.Manifest.read(root, checker=checker())
                for file, result in results:
                    stored.put(file.relative, file.size, file.mtime_ns, result)
                stored.write()
            # Skipped files are said once; unless skipped, every pass that meets one fails.
            if self.skip:
                named = new_bad
            else:
                named = [p for p in paths if p in self.bad] if self.bad else []
            bad: dict[Path, list[tuple[str, str]]] = {}
            for path in named:
                root, why = self.bad[path]
                bad.setdefault(root, []).append((path, why))
        if resized:
            print(
                f"zoo.data: {resized} image(s) checked while training are not "
                f"{tuple(self.size)} like the images checked before, and were resized to "
                "it; pass image_size= to choose the size"
            )
        for root, unusable in bad.items():
            try:
                report_bad_files(root, unusable, "images", self.skip)
            except v.ArgumentValueError as error:
                _FAILURES.append(error)
                raise

    def decode_fn(self, image_size: tuple[int, int], channels: int, scale: float):
        """A tf.data map function: path -> (image, its (height, width) as read).

        It fails (the pipeline skips the file) where TensorFlow's decoder does and on
        an image over Pillow's pixel limit.
        """
        import tensorflow as tf
        from PIL import Image

        limit = Image.MAX_IMAGE_PIXELS
        resize = _resize_fn(image_size, channels, scale)

        def decode(path):
            image = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
            shape = tf.shape(image)[:2]
            if limit is not None:
                pixels = tf.cast(shape[0], tf.int64) * tf.cast(shape[1], tf.int64)
                within = tf.debugging.Assert(pixels <= limit, ["over the pixel limit:", path])
                with tf.control_dependencies([within]):
                    shape = tf.identity(shape)
            return resize(image), shape

        return tf.autograph.experimental.do_not_convert(decode)  # (autograph: 1 s to convert)


def _why_unusable(path: str) -> str:
    """Why a file TensorFlow's pipeline could not use fails, as Pillow's check says."""
    from PIL import Image

    with warnings.catch_warnings():  # over the limit is said in the result
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        result = _scan_image(Path(path))
    if isinstance(result, str):
        return result
    return "TensorFlow's decoder fails on it, though Pillow reads it; convert it to PNG or JPEG"


# The bad-file errors StreamedChecks raised lately (inside tf.data, which wraps them).
_FAILURES: collections.deque = collections.deque(maxlen=8)


@contextlib.contextmanager
def naming_bad_files() -> Iterator[None]:
    """Re-raise the bad-file error of a pipeline's :class:`StreamedChecks` as itself.

    Raised inside tf.data, it reaches a training or evaluation loop wrapped in a
    TensorFlow error.

    Example:
        >>> with naming_bad_files():
        ...     pass
    """
    try:
        yield
    except Exception as error:
        message = str(error)
        for failure in reversed(_FAILURES):
            if failure is not error and str(failure) in message:
                raise failure from None
        raise


def scan_folder(
    root: str | os.PathLike,
    *,
    skip_bad_files: bool,
    progress: bool = True,
    min_classes: int = 2,
    walked: dict[str, list[str]] | None = None,
    stream: bool = False,
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...], list[tuple[int, int]], list[str], list, list]:
    """List image files by class; return (paths, ids, class_names, sizes, modes, stats, later).

    `stats` holds (relative path, bytes, whole-second mtime) of every file listed (the
    folder as it is, whatever the checks found); `sizes` and `modes` are those of the
    checked usable files; `later` holds the :class:`File` of each file left to check
    in the pipeline (with `stream`, see :func:`check_files`), counted as usable until
    then. `walked` is the folder's :func:`listing`, if made already.
    """
    root = Path(root)
    dirs = _class_dirs(root, "images")
    files = list_files(dirs, walked, progress=progress)
    if not files:
        raise v.invalid(
            "source", "a folder with image files in its class subfolders", f"{root} has none"
        )
    results = check_files(root, files, progress=progress, stream=stream)
    paths, labels, sizes, modes, bad, later = [], [], [], [], [], []
    for file, result in zip(files, results, strict=True):
        if isinstance(result, str):
            bad.append((file.path, result))
            continue
        paths.append(file.path)
        labels.append(file.label)
        if result is None:
            later.append(file)
            continue
        sizes.append((result[0], result[1]))
        modes.append(result[2])
    stats = [(f.relative, f.size, f.mtime_ns // 1_000_000_000) for f in files]
    report_bad_files(root, bad, "images", skip_bad_files)
    if not paths:
        raise v.invalid("source", "a folder with at least one readable image", str(root))
    check_every_class(root, dirs, labels, "images")
    ids, names = encode_labels(np.array(labels), name="class subfolders", min_classes=min_classes)
    return np.array(paths), ids, names, sizes, modes, stats, later


def from_folder(
    root: str | os.PathLike,
    *,
    image_size: tuple[int, int] | None,
    color_mode: str,
    skip_bad_files: bool,
    min_classes: int = 2,
    walked: dict[str, list[str]] | None = None,
) -> Examples:
    """Examples from ``root/<class>/<image>`` files (`walked`: its :func:`listing`).

    Up to :data:`STREAM_FROM` new or changed files are checked before this returns;
    beyond that, a sample is, and the rest as training first reads them
    (``extra["streamed"]``, a :class:`StreamedChecks`): ``color_mode="auto"`` and an
    inferred image size then come from the files checked so far.
    """
    root = Path(root)
    with _no_gc():
        paths, ids, names, sizes, modes, stats, later = scan_folder(
            root,
            skip_bad_files=skip_bad_files,
            min_classes=min_classes,
            walked=walked,
            stream=True,
        )
        relatives, sizes_bytes, mtimes = zip(*stats, strict=True)  # (classes: in the paths)
        described = fingerprint("\x1f".join(relatives), np.array(sizes_bytes), np.array(mtimes))
    if color_mode == "auto":  # by the files Pillow checked (streamed ones have no mode)
        known = [m for m in modes if m is not None]
        color_mode = "grayscale" if known and all(m in GREY_MODES for m in known) else "rgb"
    channels = 1 if color_mode == "grayscale" else 3
    inferred = image_size is None
    if image_size is None and not sizes:  # with skip_bad_files, every checked one was bad
        raise v.invalid(
            "image_size",
            "set when none of the images checked before training is usable (the sample "
            f"checked of {len(later)} new files in {root} held none)",
            None,
        )
    if image_size is None:
        counts = collections.Counter(sizes)
        if len(counts) > 1:
            (common, _), (other, _) = counts.most_common(2)
            raise v.invalid(
                "image_size",
                "set when the images differ in size, for example "
                f"image_size={common} (found {common} and {other} among others)",
                None,
            )
        image_size = sizes[0]
    extra = {"all_of_size": not later and all(size == tuple(image_size) for size in sizes)}
    if later:
        streamed = StreamedChecks(skip_bad_files, image_size if inferred else None)
        streamed.add(root, later)
        extra["streamed"] = streamed
    return Examples(
        x=paths,
        y=ids,
        task="classification",
        class_names=names,
        kind="image_files",
        source=f"image folder {root}",
        fingerprint=described,
        element_shape=(*image_size, channels),
        extra=extra,
    )


def decode_fn(
    image_size: tuple[int, int], channels: int, scale: float, *, all_of_size: bool = False
):
    """A tf.data map function: path -> float32 image of the requested size.

    `all_of_size`: every file is known to be of `image_size` already (no resize step).
    """
    import tensorflow as tf

    resize = _resize_fn(image_size, channels, scale, all_of_size=all_of_size)

    def decode(path):
        image = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
        return resize(image)

    return tf.autograph.experimental.do_not_convert(decode)


def _resize_fn(
    image_size: tuple[int, int], channels: int, scale: float, *, all_of_size: bool = False
):
    """Decoded uint8 RGB -> float32 image of the requested size and channels, scaled."""
    import tensorflow as tf

    height, width = image_size

    def resize(image):
        if channels == 1:
            image = tf.image.rgb_to_grayscale(image)
        if all_of_size:
            image = tf.cast(image, tf.float32)
        else:
            image = tf.cond(  # images already of the size skip the resize (half the work)
                tf.reduce_all(tf.shape(image)[:2] == (height, width)),
                lambda: tf.cast(image, tf.float32),
                lambda: tf.image.resize(image, (height, width), antialias=True),
            )
        image.set_shape((height, width, channels))
        return image * scale

    return resize


def check_augment(augment: Any) -> dict[str, Any] | None:
    """Normalise `augment`: False/None, True (defaults), or a dict of settings."""
    if augment is None or augment is False:
        return None
    if augment is True:
        return dict(DEFAULT_AUGMENT)
    if not isinstance(augment, dict):
        raise v.invalid(
            "augment", f"True, False or a dict with keys from {AUGMENTATIONS}", augment, TypeError
        )
    unknown = [k for k in augment if k not in AUGMENTATIONS]
    if unknown:
        raise v.invalid("augment", f"a dict with keys from {AUGMENTATIONS}", augment)
    settings = {}
    for key, value in augment.items():
        if key == "flip":
            settings[key] = v.check_choice(
                "augment['flip']", value, ("horizontal", "vertical", "horizontal_and_vertical")
            )
        else:
            settings[key] = v.check_float(f"augment[{key!r}]", value, minimum=0.0, maximum=1.0)
    return settings


def augmenter(settings: dict[str, Any], seed: int):
    """A Keras Sequential of random preprocessing layers for the training pipeline."""
    import keras

    layers = []
    if "flip" in settings:
        layers.append(keras.layers.RandomFlip(settings["flip"], seed=seed))
    if settings.get("rotation"):
        layers.append(keras.layers.RandomRotation(settings["rotation"], seed=seed + 1))
    if settings.get("zoom"):
        layers.append(keras.layers.RandomZoom(settings["zoom"], seed=seed + 2))
    if settings.get("contrast"):
        layers.append(keras.layers.RandomContrast(settings["contrast"], seed=seed + 3))
    return keras.Sequential(layers, name="augmentation")


def augment_batches(dataset, settings: dict[str, Any], seed: int):
    """Map the augmentation layers over a batched (images, labels[, weights]) dataset."""
    import tensorflow as tf

    # Layer by layer: Keras's random image layers switch to TensorFlow inside tf.data on
    # any backend, a Sequential around them does not (it converts its inputs with the
    # backend's own arrays, which fails on JAX).
    layers = augmenter(settings, seed).layers

    def augment(images, *rest):
        for layer in layers:
            images = layer(images, training=True)
        return images, *rest

    return dataset.map(augment, num_parallel_calls=tf.data.AUTOTUNE)
