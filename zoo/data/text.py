"""Folders of text files in class subfolders, tokenised for zoo's sequence models.

The vocabulary is learned on the training split only with Keras's
``TextVectorization``; id 0 is padding (masked by zoo's RNNs) and id 1 is
out-of-vocabulary.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from zoo import _validation as v
from zoo.data.examples import Examples, encode_labels, fingerprint
from zoo.data.images import _class_dirs, check_every_class, list_files, report_bad_files

TEXT_EXTENSIONS = (".txt", ".text", ".md")


class TextEncoder:
    """Texts -> padded int32 token ids of a fixed length."""

    def __init__(self, vocab_size: int, sequence_length: int):
        self.vocab_size = vocab_size
        self.sequence_length = sequence_length
        self.layer = None

    def fit(self, texts: np.ndarray) -> TextEncoder:
        import keras

        self.layer = keras.layers.TextVectorization(
            max_tokens=self.vocab_size,
            output_mode="int",
            output_sequence_length=self.sequence_length,
        )
        self.layer.adapt(np.asarray(texts, dtype=object).astype(str), batch_size=256)
        return self

    @property
    def vocabulary(self) -> list[str]:
        """The learned vocabulary (index = token id)."""
        return self.layer.get_vocabulary()

    @property
    def preprocessor(self):
        """A ``keras.Model`` from raw strings to token ids (this fitted layer)."""
        from zoo.data import inputs

        return inputs.text(self.layer)

    def transform(self, texts) -> np.ndarray:
        import keras

        texts = np.asarray(texts, dtype=object).astype(str)
        return keras.ops.convert_to_numpy(self.layer(texts)).astype("int32")


def read_text_files(
    folder: Path, *, progress: bool = True, walked: dict[str, list[str]] | None = None
) -> tuple[list[str], list[tuple[str, str]]]:
    r"""Every text file's text under `folder` (in sorted path order) and the bad files.

    The files are listed in one walk (links followed, hidden files left out) and read
    by a few threads when there are thousands (reading waits on the disk more than
    on Python); a bar counts them, with the bad ones, when reading takes more than 2
    seconds. Line ends are read as Python's text mode reads them (``\r\n`` and
    ``\r`` become ``\n``).

    Args:
        folder: the folder.
        progress: show the bars.
        walked: a :func:`zoo.data.images.listing` of `folder` or a folder above it,
            if made already.

    Returns:
        (texts, bad): the texts, and (path, reason) of each file that is not a
        UTF-8 text file or cannot be read.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> _ = (folder / "a.txt").write_text("one\r\ntwo")
        >>> _ = (folder / "b.png").write_bytes(b"not text")
        >>> texts, bad = read_text_files(folder)
        >>> texts, [why for _, why in bad]
        (['one\ntwo'], ['not a text file (allowed: .txt, .text, .md)'])
    """
    listed = list_files([Path(folder)], walked, progress=progress)
    _, texts, bad = _read_files(listed, folder, progress)
    return texts, bad


def _read_files(
    files: list[Any], folder: Path, progress: bool = True
) -> tuple[list[Any], list[str], list[tuple[str, str]]]:
    """(the listed files that are text, their texts, (path, why) of the others).

    `files` are :class:`zoo.data.images.File`. A bar (``reading texts in <folder>``)
    counts the files read and the bad ones when reading takes more than 2 seconds.
    """
    from tqdm.auto import tqdm

    paths = [file.path for file in files]
    chunks = [paths[start : start + _CHUNK] for start in range(0, len(paths), _CHUNK)]
    kept, texts, bad = [], [], []
    bar = tqdm(
        total=len(paths),
        desc=f"reading texts in {folder}",
        unit="file",
        delay=2,
        disable=not progress,
    )
    with bar:
        done = 0
        for found in _read_chunks(chunks):
            for file, result in zip(files[done : done + len(found)], found, strict=True):
                if isinstance(result, tuple):
                    bad.append((file.path, result[0]))
                else:
                    kept.append(file)
                    texts.append(result)
            done += len(found)
            bar.update(len(found))
            if bad:
                bar.set_postfix(bad=len(bad))
    return kept, texts, bad


_CHUNK = 256  # files a thread reads at a time
_THREADS_FROM = 2048  # files from which threads read them


def _read_chunks(chunks: list[list[str]]):
    """The texts (or ``(why,)`` for a bad file) of each chunk, in order."""
    if sum(map(len, chunks)) < _THREADS_FROM:
        yield from map(_read_chunk, chunks)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(min(8, 2 * (os.cpu_count() or 1))) as pool:
        yield from pool.map(_read_chunk, chunks)


def _read_chunk(paths: list[str]) -> list[str | tuple[str]]:
    results: list[str | tuple[str]] = []
    for path in paths:
        if not path.lower().endswith(TEXT_EXTENSIONS):
            allowed = ", ".join(TEXT_EXTENSIONS)
            results.append((f"not a text file (allowed: {allowed})",))
            continue
        try:
            with open(path, "rb") as file:
                data = file.read()
        except OSError as error:  # a dangling link, a file without read permission
            results.append((f"cannot be read ({error.strerror or error})",))
            continue
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            results.append((f"not UTF-8 text ({error.reason})",))
            continue
        results.append(text.replace("\r\n", "\n").replace("\r", "\n"))
    return results


def from_folder(
    root: str | os.PathLike,
    *,
    vocab_size: int,
    sequence_length: int,
    skip_bad_files: bool,
    tokenize: bool = True,
    min_classes: int = 2,
    walked: dict[str, list[str]] | None = None,
) -> Examples:
    """Examples from ``root/<class>/<file>.txt``: token ids, or raw strings if not `tokenize`.

    `walked` is a :func:`zoo.data.images.listing` of `root`, if made already.
    """
    root = Path(root)
    dirs = _class_dirs(root, "text files")
    kept, texts, bad = _read_files(list_files(dirs, walked), root)
    labels = [file.label for file in kept]
    report_bad_files(root, bad, "text", skip_bad_files)
    if not texts:
        raise v.invalid(
            "source", "a folder with text files in its class subfolders", f"{root} has none"
        )
    check_every_class(root, dirs, labels, "text files")
    ids, names = encode_labels(np.array(labels), name="class subfolders", min_classes=min_classes)
    x = np.array(texts, dtype=object)
    return Examples(
        x=x if tokenize else np.array(texts, dtype=str),
        y=ids,
        task="classification",
        class_names=names,
        kind="text" if tokenize else "raw_text",
        source=f"text folder {root}",
        fingerprint=fingerprint(x, ids),
        make_encoder=(lambda: TextEncoder(vocab_size, sequence_length)) if tokenize else None,
    )
