"""Folders of images in class subfolders, and on-the-fly image augmentation.

Every file is opened and fully decoded once with Pillow while the folder is scanned,
so that a non-image or truncated file is named before training starts (or skipped
and counted with ``skip_bad_files=True``). The pipeline itself decodes with
TensorFlow and caches the decoded images when they fit in memory.
"""

from __future__ import annotations

import collections
import os
from pathlib import Path
from typing import Any

import numpy as np

from zoo import _validation as v
from zoo.data.examples import Examples, encode_labels, fingerprint

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


def _scan_image(path: Path) -> tuple[tuple[int, int], str] | str:
    """Return ((height, width), mode) or the reason the file is unusable."""
    from PIL import Image, UnidentifiedImageError

    if path.suffix.lower() not in IMAGE_EXTENSIONS:
        return f"not an image file (allowed: {', '.join(IMAGE_EXTENSIONS)})"
    try:
        with Image.open(path) as image:
            image.load()  # full decode: catches truncated files
            return (image.height, image.width), image.mode
    except UnidentifiedImageError:
        return "not a readable image"
    except (OSError, SyntaxError, ValueError) as error:
        return f"corrupt or truncated image ({error})"


def scan_folder(
    root: str | os.PathLike,
    *,
    skip_bad_files: bool,
    progress: bool = True,
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...], list[tuple[int, int]], list[str]]:
    """List image files by class; return (paths, ids, class_names, sizes, modes)."""
    from tqdm.auto import tqdm

    root = Path(root)
    dirs = _class_dirs(root, "images")
    files = [
        (p, d.name)
        for d in dirs
        for p in sorted(d.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    ]
    if not files:
        raise v.invalid(
            "source", "a folder with image files in its class subfolders", f"{root} has none"
        )
    paths, labels, sizes, modes, bad = [], [], [], [], []
    for path, label in tqdm(
        files,
        desc=f"checking images in {root}",
        disable=not progress or len(files) < 500,
        unit="file",
    ):
        result = _scan_image(path)
        if isinstance(result, str):
            bad.append((path, result))
            continue
        paths.append(str(path))
        labels.append(label)
        sizes.append(result[0])
        modes.append(result[1])
    report_bad_files(root, bad, "images", skip_bad_files)
    if not paths:
        raise v.invalid("source", "a folder with at least one readable image", str(root))
    ids, names = encode_labels(np.array(labels), name="class subfolders")
    return np.array(paths), ids, names, sizes, modes


def from_folder(
    root: str | os.PathLike,
    *,
    image_size: tuple[int, int] | None,
    color_mode: str,
    skip_bad_files: bool,
) -> Examples:
    """Examples from ``root/<class>/<image>`` files."""
    paths, ids, names, sizes, modes = scan_folder(root, skip_bad_files=skip_bad_files)
    if color_mode == "auto":
        color_mode = "grayscale" if all(m in GREY_MODES for m in modes) else "rgb"
    channels = 1 if color_mode == "grayscale" else 3
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
    stats = [
        (os.path.relpath(p, root), os.path.getsize(p), int(os.path.getmtime(p))) for p in paths
    ]
    return Examples(
        x=paths,
        y=ids,
        task="classification",
        class_names=names,
        kind="image_files",
        source=f"image folder {root}",
        fingerprint=fingerprint(np.array([repr(s) for s in stats], dtype=object), ids),
        element_shape=(*image_size, channels),
    )


def decode_fn(image_size: tuple[int, int], channels: int, scale: float):
    """A tf.data map function: path -> float32 image of the requested size."""
    import tensorflow as tf

    height, width = image_size

    def decode(path):
        image = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
        if channels == 1:
            image = tf.image.rgb_to_grayscale(image)
        image = tf.image.resize(image, (height, width), antialias=True)
        image.set_shape((height, width, channels))
        return tf.cast(image, tf.float32) * scale

    return decode


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
    """Map the augmentation layers over a batched (images, labels) dataset."""
    import tensorflow as tf

    layer = augmenter(settings, seed)
    return dataset.map(
        lambda images, labels: (layer(images, training=True), labels),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
