"""Folders whose subfolders are the splits: ``root/train/<class>/...``, ``root/test/...``.

The layout Keras, TFDS and Kaggle users expect: ``train/`` (or ``training/``), and
optionally ``validation/`` (``val/``, ``valid/``) and ``test/`` (``testing/``), each
with one subfolder per class. The given splits are kept as they are; a missing
validation or test split is carved from ``train`` as usual.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import numpy as np

from zoo import _validation as v
from zoo.data.examples import Examples, fingerprint

SPLIT_NAMES = {
    "train": ("train", "training"),
    "validation": ("validation", "val", "valid"),
    "test": ("test", "testing"),
}


def split_folders(root: Path) -> dict[str, Path] | None:
    """``{split: folder}`` when every subfolder of `root` names a split and one is train."""
    subfolders = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]
    found: dict[str, Path] = {}
    for folder in subfolders:
        split = next((s for s, names in SPLIT_NAMES.items() if folder.name.lower() in names), None)
        if split is None:
            return None  # a class folder: the usual root/<class>/<file> layout
        if split in found:
            raise v.invalid(
                "source",
                f"one {split} folder (accepted names: {', '.join(SPLIT_NAMES[split])})",
                f"{found[split].name}/ and {folder.name}/ in {root}",
            )
        found[split] = folder
    if "train" not in found:
        return None
    return found


def from_split_folders(
    parts: dict[str, Path], load_one: Callable[..., Examples], root: Path
) -> tuple[Examples, dict[str, np.ndarray]]:
    """One :class:`Examples` of every split folder, and each split's positions in it.

    ``load_one(folder, channels=None)`` loads one split folder; class names come
    from ``train`` and every other split may hold only classes train has.
    """
    train = load_one(parts["train"])
    loaded = {"train": train}
    channels = train.element_shape[-1] if train.element_shape else None
    for split in ("validation", "test"):
        if split in parts:
            loaded[split] = load_one(parts[split], channels=channels)
    names = train.class_names
    xs, ys, positions, start = [], [], {}, 0
    for split, examples in loaded.items():
        unknown = sorted(set(examples.class_names) - set(names))
        if unknown:
            raise v.invalid(
                "source",
                f"{split} classes that train/ has too ({', '.join(names)})",
                f"{', '.join(unknown)} only in {parts[split]}",
            )
        if examples.element_shape != train.element_shape:
            raise v.invalid(
                "image_size",
                f"set when the splits' images differ in size (train {train.element_shape}, "
                f"{split} {examples.element_shape})",
                None,
            )
        remap = np.array([names.index(name) for name in examples.class_names], "int32")
        xs.append(np.asarray(examples.x))
        ys.append(remap[examples.y])
        positions[split] = np.arange(start, start + len(examples))
        start += len(examples)
    x = np.concatenate(xs)
    y = np.concatenate(ys)
    combined = dataclasses.replace(
        train,
        x=x,
        y=y,
        source=f"{'image' if train.kind == 'image_files' else 'text'} folder {root} "
        f"(splits: {', '.join(f'{parts[s].name}/' for s in loaded)})",
        fingerprint=fingerprint(*(e.fingerprint for e in loaded.values())),
    )
    return combined, positions
