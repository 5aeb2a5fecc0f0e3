"""Where an artifact goes: default paths, checked paths, installing it, its size.

The artifact and the files that describe its preprocessing (``<file>.preprocessing.json``
and ``<file>.vocabulary.txt``) are staged beside the target and moved into place
together; a later export without them removes stale ones.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import keras

from zoo import _fs, saving
from zoo import _validation as v

EXPORT_DIR = "export"
ARTIFACT_NAMES = {"saved_model": "saved_model", "tflite": "model.tflite", "onnx": "model.onnx"}
PREPROCESSING_SUFFIX = ".preprocessing.json"
VOCABULARY_SUFFIX = ".vocabulary.txt"


def resolve_saved(model: str | os.PathLike, root: Path | None) -> Path:
    """A saved model's folder or file: a bare name in `root` if given."""
    bare = isinstance(model, str) and not ("/" in model or os.sep in model or model[:1] == ".")
    if root is not None and bare:
        return root / model
    return saving.resolve(model)


def default_target(source: Path | None, model: keras.Model, fmt: str, root: Path | None) -> Path:
    """The artifact's default path: beside the saved model, or by the model's name."""
    if source is not None and source.suffix == ".keras" and not source.is_dir():
        folder = source.parent / f"{source.stem}_export"
    elif source is not None:
        folder = source / EXPORT_DIR
    else:
        folder = (root if root is not None else saving.saved_models_dir()) / model.name / EXPORT_DIR
    return folder / ARTIFACT_NAMES[fmt]


def check_target(path: Any, fmt: str) -> Path:
    """The artifact path for `path` (a file inside a folder), checked."""
    if not isinstance(path, (str, os.PathLike)) or not str(path).strip():
        raise v.invalid("path", "None or a file or folder path", path, TypeError)
    target = Path(path)
    if fmt != "saved_model" and (target.is_dir() or str(path).endswith(("/", os.sep))):
        target = target / ARTIFACT_NAMES[fmt]
    if fmt == "saved_model" and target.exists():
        is_saved_model = (target / "saved_model.pb").is_file()
        if not target.is_dir() or (not is_saved_model and any(target.iterdir())):
            raise v.invalid(
                "path",
                "a new folder or an existing SavedModel folder (it is replaced); this one "
                "holds other files",
                str(path),
            )
    elif fmt != "saved_model" and target.is_dir():
        raise v.invalid("path", f"a file path for format={fmt!r}", str(path))
    return target


def install_artifact(artifact: Path, target: Path, files: dict[str, Path]) -> Path | None:
    """Move the artifact and its preprocessing files into place; stale files go."""
    for name, path in files.items():
        _fs.install(path, target.parent / name)
    _fs.install(artifact, target)
    for suffix in (PREPROCESSING_SUFFIX, VOCABULARY_SUFFIX):
        name = f"{target.name}{suffix}"
        if name not in files:
            (target.parent / name).unlink(missing_ok=True)
    name = f"{target.name}{PREPROCESSING_SUFFIX}"
    return target.parent / name if name in files else None


def artifact_size(path: Path) -> int:
    """Size of the artifact in bytes (all files of a SavedModel)."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
