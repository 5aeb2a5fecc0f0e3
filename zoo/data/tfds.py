"""TensorFlow Datasets sources (``"tfds:NAME"``), used offline-safely.

zoo never lets TFDS download: a dataset that is not prepared in the data folder fails
at once with instructions, instead of minutes of network retries.
"""

from __future__ import annotations

import os
from typing import Any

from zoo import _validation as v
from zoo._compat.tensorflow import tfds_not_prepared_errors

DATA_DIR_ENV = "TFDS_DATA_DIR"


def data_dir(explicit: str | os.PathLike | None) -> str:
    """The TFDS folder: the argument, ``$TFDS_DATA_DIR`` or ``~/tensorflow_datasets``."""
    if explicit is not None:
        return os.fspath(explicit)
    return os.environ.get(DATA_DIR_ENV, os.path.expanduser("~/tensorflow_datasets"))


def load_splits(
    name: str,
    *,
    validation_split: float,
    folder: str | os.PathLike | None,
) -> tuple[list[Any], Any, list[str]]:
    """Load train/validation/test splits of a prepared TFDS dataset, never downloading.

    Returns:
        (datasets, info, split names); a split the dataset lacks is None.
    """
    import tensorflow_datasets as tfds

    folder = data_dir(folder)
    try:
        builder = tfds.builder(name, data_dir=folder)
    except Exception as error:  # tfds raises DatasetNotFoundError and friends
        raise v.ArgumentValueError(
            f"Unknown TFDS dataset {name!r} ({error}). See tfds.list_builders(). "
            f"Received: source='tfds:{name}'"
        ) from None
    available = set(builder.info.splits) if builder.info.splits else set()
    percent = round(100 * validation_split)
    if not available or "validation" in available:
        wanted = ["train", "validation" if percent else None, "test"]
    else:
        wanted = [
            f"train[:{100 - percent}%]",
            f"train[{100 - percent}%:]" if percent else None,
            "test",
        ]
    splits = [
        s for s in wanted if s is not None and (not available or s.split("[")[0] in available)
    ]
    try:
        datasets, info = tfds.load(
            name,
            split=splits,
            data_dir=folder,
            download=False,
            as_supervised=True,
            with_info=True,
        )
    except tfds_not_prepared_errors():
        raise v.ArgumentValueError(
            f"TFDS dataset {name!r} is not prepared in {folder} and zoo does not download "
            f"at run time. On a connected machine run `tfds build {name} --data_dir "
            f"{folder}` (or tfds.load({name!r}, data_dir={folder!r})), then copy the "
            f"folder {os.path.join(folder, name)} to this machine; or set ${DATA_DIR_ENV} "
            f"or data_dir= to where it already is. Received: source='tfds:{name}'"
        ) from None
    by_name = dict(zip(splits, datasets, strict=True))
    result = [by_name.get(s) if s is not None else None for s in wanted]
    return result, info, wanted
