"""Data that ships with zoo's dependencies, so demos and tests run offline.

The named sources of ``zoo.data.load``, listed here and nowhere else:

- the standard datasets of :mod:`zoo.data.standard` (``"mnist"``, ``"fashion_mnist"``,
  ``"cifar10"``, ``"cifar100"``, ``"imdb"``, ``"reuters"``), read from disk or downloaded;
- ``"digits"`` (:data:`BUNDLED`): scikit-learn's copy of the UCI "Optical Recognition
  of Handwritten Digits" test set (1,797 8x8 grey-scale images, 10 classes, BSD
  licence), which ships with scikit-learn;
- ``"zen"`` (:data:`BUNDLED_TEXTS`): the Zen of Python (PEP 20), which ships with
  Python, a text for ``task="language_modeling"``.

:func:`unknown_source` is the one error for a name or path that is none of them.
"""

from __future__ import annotations

import codecs
import contextlib
import difflib
import io
import os
from pathlib import Path
from typing import Any

from zoo import _validation as v
from zoo.data import standard
from zoo.data.examples import Examples, fingerprint

# What a string that names a file looks like, when no such file exists.
DATA_SUFFIXES = (
    ".csv",
    ".tsv",
    ".txt",
    ".text",
    ".md",
    ".json",
    ".jsonl",
    ".parquet",
    ".feather",
    ".xlsx",
    ".xls",
    ".npy",
    ".npz",
    ".h5",
    ".zip",
    ".gz",
    ".tar",
    ".jpg",
    ".jpeg",
    ".png",
    ".bmp",
    ".gif",
)


class SourceNotFoundError(v.UserError, FileNotFoundError):
    """A data source given as a path names no file or folder."""


def digits_examples() -> Examples:
    """The bundled digits as zoo examples: 8x8x1 images of raw 0-255 pixels.

    scikit-learn stores intensities 0-16; they are stretched to 0-255 so the digits
    follow zoo's one image convention (``load`` scales them to [0, 1] for training,
    and a saved model takes 0-255 pixels).
    """
    from sklearn.datasets import load_digits as sklearn_digits

    digits = sklearn_digits()
    x = (digits.images * (255.0 / 16.0)).astype("float32")[..., None]
    y = digits.target.astype("int32")
    return Examples(
        x=x,
        y=y,
        task="classification",
        class_names=tuple(str(c) for c in digits.target_names),
        kind="array",
        source="digits (scikit-learn's 8x8 handwritten digits, bundled)",
        fingerprint=fingerprint(x, y),
        extra={"pixels": True},
    )


def zen_of_python() -> str:
    """The Zen of Python (PEP 20), which ships with Python as the ``this`` module."""
    with contextlib.redirect_stdout(io.StringIO()):  # importing `this` prints it
        import this
    return codecs.decode(this.s, "rot13") + "\n"


BUNDLED = {"digits": digits_examples}
"""Datasets of labelled examples, by name."""

BUNDLED_TEXTS = {"zen": zen_of_python}
"""Texts for ``task="language_modeling"``, by name."""

DESCRIPTIONS = {
    "digits": "8x8 images of handwritten digits, 10 classes",
    "zen": "the Zen of Python, a text for task='language_modeling'",
}


def named_sources() -> dict[str, str]:
    """Every name ``zoo.data.load`` accepts (``'tfds:NAME'`` aside), with what it is."""
    about = DESCRIPTIONS | {name: spec.about for name, spec in standard.DATASETS.items()}
    return {name: about[name] for name in sorted(BUNDLED | BUNDLED_TEXTS | standard.DATASETS)}


def _listed() -> str:
    return ", ".join(f"{name!r} ({about})" for name, about in named_sources().items())


def looks_like_path(source: str) -> bool:
    """Whether a string names a file or folder rather than a bundled name.

    It does when it holds a path separator, starts with ``.`` or ``~``, or ends in
    a data file suffix (``.csv``, ``.parquet``, ``.png``, ... see ``DATA_SUFFIXES``).
    """
    separators = {"/", "\\", os.sep, os.altsep} - {None}
    return (
        any(s in source for s in separators)
        or source.startswith((".", "~"))
        or Path(source).suffix.lower() in DATA_SUFFIXES
    )


def unknown_source(source: str | os.PathLike, *, language_modeling: bool = False) -> Exception:
    """The error for a source that is no named source and no existing file or folder.

    A string that looks like a path (:func:`looks_like_path`) or an ``os.PathLike``
    gives :class:`SourceNotFoundError` (a ``FileNotFoundError``) with the absolute path
    it was resolved to and close names in its folder; a bare name gives an
    ``ArgumentValueError`` listing every named source, closest first.
    """
    names = named_sources()
    if language_modeling:
        kinds = "a text file, a folder of text files, a list of strings"
    else:
        kinds = (
            "a CSV file, a folder of images or texts in class subfolders, 'tfds:NAME', "
            "(x, y) arrays, a pandas DataFrame"
        )
    if isinstance(source, os.PathLike) or looks_like_path(str(source)):
        path = Path(source).expanduser()
        resolved = path.absolute()
        where = ""
        parent = resolved.parent
        if parent.is_dir():
            siblings = [p.name for p in parent.iterdir() if not p.name.startswith(".")]
            close = difflib.get_close_matches(resolved.name, siblings, n=3, cutoff=0.6)
            if close:
                where = f" Did you mean {', '.join(repr(str(parent / c)) for c in close)}?"
        else:
            where = f" (its folder {parent} does not exist either)"
        return SourceNotFoundError(
            f"No file or folder at {str(source)!r} (resolved to absolute path {resolved})."
            f"{where} A source is {kinds}, or a named source: {_listed()}. "
            f"Received: source={str(source)!r}"
        )
    if language_modeling and source in BUNDLED:
        return v.ArgumentValueError(
            f"Data source {source!r} is a dataset of labelled examples, not a text for "
            f"task='language_modeling' (texts: {', '.join(map(repr, BUNDLED_TEXTS))}); "
            f"load it without task, or give a text. Received: source={source!r}"
        )
    if not language_modeling and source in BUNDLED_TEXTS:
        return v.ArgumentValueError(
            f"Data source {source!r} is a text for language models: load it with "
            f"task='language_modeling'. Received: source={source!r}"
        )
    close = difflib.get_close_matches(str(source), list(names), n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
    if not close and not language_modeling:
        hint = f" (A TensorFlow Datasets dataset is written 'tfds:{source}'.)"
    return v.ArgumentValueError(
        f"Unknown data source {str(source)!r}.{hint} Named sources: {_listed()}. "
        f"A source is also {kinds}; a file or folder must exist (a string with a path "
        f"separator or a suffix such as .csv is taken as a path). "
        f"Received: source={str(source)!r}"
    )


def list_datasets() -> Any:
    """The standard and bundled datasets as a pandas DataFrame, with where each is on disk.

    Columns: ``name``, ``task``, ``classes``, ``train`` and ``test`` (official sizes),
    ``on_disk`` (the folder found, ``"bundled"``, or missing (NaN): ``load`` would
    download it)
    and ``about``.

    Example:
        >>> table = zoo.data.list_datasets()
        >>> "fashion_mnist" in set(table["name"])
        True
    """
    import pandas as pd

    rows = []
    for name, spec in standard.DATASETS.items():
        found = standard.find(name)
        rows.append(
            {
                "name": name,
                "task": "classification",
                "kind": spec.kind,
                "train": spec.sizes[0],
                "test": spec.sizes[1],
                "on_disk": str(found) if found else None,
                "about": spec.about,
            }
        )
    for name, about in named_sources().items():
        if name not in standard.DATASETS:
            task = "language_modeling" if name == "zen" else "classification"
            rows.append(
                {
                    "name": name,
                    "task": task,
                    "kind": "text" if name == "zen" else "image",
                    "train": None,
                    "test": None,
                    "on_disk": "bundled",
                    "about": about,
                }
            )
    return pd.DataFrame(rows).astype({"train": "Int64", "test": "Int64"})
