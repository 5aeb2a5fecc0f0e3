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

    ``load_one(folder, channels=None, min_classes=2)`` loads one split folder; class
    names come from ``train`` and every other split may hold only classes train has
    (one class is enough there).
    """
    train = load_one(parts["train"])
    channels = train.element_shape[-1] if train.element_shape else None
    others = {
        split: load_one(parts[split], channels=channels, min_classes=1)
        for split in ("validation", "test")
        if split in parts
    }
    combined, positions = combine(train, {"train": np.arange(len(train))}, others)
    kind = "image" if train.kind == "image_files" else "text"
    listed = ", ".join(f"{parts[s].name}/" for s in positions)
    source = f"{kind} folder {root} (splits: {listed})"
    return dataclasses.replace(combined, source=source), positions


def combine(
    examples: Examples, fixed: dict[str, np.ndarray], others: dict[str, Examples]
) -> tuple[Examples, dict[str, np.ndarray]]:
    """`examples` (whose splits are at `fixed`) with the `others` splits appended.

    The training split decides the classes, the kind and the shape of an example:
    every other split must match them (it may hold fewer classes). Labels are
    re-numbered to the training split's class ids: matched by name, except that
    integer labels of arrays and tables are class ids when the training classes are
    not integers (Fashion-MNIST's 0-9 for "T-shirt/top" ... "Ankle boot").
    """
    names = examples.class_names
    positions = dict(fixed)
    xs, ys, start = [examples.x], [examples.y], len(examples)
    for split, other in others.items():
        if other.kind != examples.kind or other.task != examples.task:
            raise v.invalid(
                split,
                f"a source of the same kind as the training data ({examples.kind} for "
                f"{examples.task})",
                f"{other.kind} for {other.task} from {other.source}",
            )
        y = other.y if names is None else _class_ids(split, names, other)
        _check_same_shape(split, examples, other)
        if examples.kind == "table":
            other = dataclasses.replace(other, x=other.x[list(examples.x.columns)])
        xs.append(other.x)
        ys.append(y)
        positions[split] = np.arange(start, start + len(other))
        start += len(other)
    if examples.kind == "table":
        import pandas as pd

        x = pd.concat(xs, ignore_index=True)
    else:
        x = np.concatenate([np.asarray(part) for part in xs])
    parts = [examples, *others.values()]
    extra = examples.extra
    streamed = [e.extra["streamed"] for e in parts if e.extra.get("streamed") is not None]
    if streamed:  # image files each split checks as training reads them
        for other in streamed[1:]:
            streamed[0].merge(other)
        extra = {**extra, "streamed": streamed[0]}
    if "all_of_size" in extra:  # image files that need no resizing, in every split
        extra = {**extra, "all_of_size": all(e.extra.get("all_of_size") for e in parts)}
    combined = dataclasses.replace(
        examples,
        extra=extra,
        x=x,
        y=np.concatenate(ys),
        source="; ".join([examples.source] + [f"{s}: {o.source}" for s, o in others.items()]),
        fingerprint=fingerprint(*(e.fingerprint for e in parts)),
    )
    return combined, positions


def _is_integer(name: str) -> bool:
    return name.lstrip("-").isdigit()


def _class_ids(split: str, names: tuple[str, ...], other: Examples) -> np.ndarray:
    """`other`'s labels as the training split's class ids (see :func:`combine`)."""
    other_names = other.class_names
    as_ids = (
        other.kind in ("array", "table", "series")
        and not all(map(_is_integer, names))
        and all(map(_is_integer, other_names))
    )
    if as_ids:
        outside = [n for n in other_names if not 0 <= int(n) < len(names)]
        if outside:
            raise v.invalid(
                split,
                f"labels that are class ids 0..{len(names) - 1} (of {', '.join(names)}) "
                "or class names",
                f"{', '.join(outside)} in {other.source}",
            )
        return np.array([int(n) for n in other_names], "int32")[other.y]
    unknown = sorted(set(other_names) - set(names))
    if unknown:
        raise v.invalid(
            split,
            f"only classes that the training split has ({', '.join(names)})",
            f"{', '.join(unknown)} only in {other.source}",
        )
    return np.array([names.index(name) for name in other_names], "int32")[other.y]


def _check_same_shape(split: str, train: Examples, other: Examples) -> None:
    if train.kind == "image_files":
        if other.element_shape != train.element_shape:
            raise v.invalid(
                "image_size",
                f"set when the splits' images differ in size (train {train.element_shape}, "
                f"{split} {other.element_shape})",
                None,
            )
    elif train.kind == "table":
        columns, others = list(train.x.columns), list(other.x.columns)
        missing = [c for c in columns if c not in others]
        extra = [c for c in others if c not in columns]
        if missing or extra:
            raise v.invalid(
                split,
                f"a table with the training table's feature columns ({', '.join(columns)}) "
                f"and target {train.extra.get('target')!r}",
                f"{other.source}: missing {missing}, unexpected {extra}",
            )
        numeric = train.extra.get("numeric", [])
        text = [c for c in numeric if c not in other.extra.get("numeric", [])]
        if text:
            raise v.invalid(
                split,
                f"numbers in the columns that are numeric in the training table ({text})",
                f"{other.source} with other values there",
            )
    elif train.kind == "array" and train.extra.get("pixels") != other.extra.get("pixels"):
        kinds = {True: "uint8 images of 0-255 pixels", False: "features that are not uint8 images"}
        raise v.invalid(
            split,
            f"{kinds[bool(train.extra.get('pixels'))]}, as the training examples are (give "
            "both as uint8 0-255 pixels, or both as floats)",
            f"{other.source} of dtype {np.asarray(other.x).dtype}",
        )
    elif np.asarray(other.x).shape[1:] != np.asarray(train.x).shape[1:]:
        raise v.invalid(
            split,
            f"examples shaped like the training ones ({np.asarray(train.x).shape[1:]})",
            np.asarray(other.x).shape[1:],
        )
