"""Save and load models with a model card (``zoo.json``) beside each one.

A saved model is a folder holding ``model.keras`` and ``zoo.json``. Saves are atomic:
the new folder is written and synced under a temporary name, then swapped in with
renames, so a save interrupted at any point leaves the previous version loadable
(a half-finished swap is repaired by the next ``save`` or ``load``).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import keras
import numpy as np

from zoo import _fs, registry
from zoo import _validation as v
from zoo._json import to_jsonable
from zoo._version import __version__
from zoo.layers.preprocessing import split

__all__ = [
    "CARD_FILE",
    "MODEL_FILE",
    "load",
    "load_card",
    "resolve",
    "save",
    "saved_models_dir",
    "to_jsonable",
]

MODEL_FILE = "model.keras"
CARD_FILE = "zoo.json"
DEFAULT_DIR_ENV = "ZOO_SAVED_MODELS"


def saved_models_dir() -> Path:
    """The default output folder: ``$ZOO_SAVED_MODELS`` or ``./saved_models``."""
    return Path(os.environ.get(DEFAULT_DIR_ENV, "saved_models"))


def resolve(name_or_path: str | os.PathLike) -> Path:
    """The folder of a saved model: a bare name means ``saved_models/<name>``."""
    if isinstance(name_or_path, os.PathLike):
        return Path(name_or_path)
    v.check_str("name_or_path", name_or_path)
    if os.sep in name_or_path or "/" in name_or_path or name_or_path.startswith("."):
        return Path(name_or_path)
    return saved_models_dir() / name_or_path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _versions() -> dict[str, str]:
    import tensorflow as tf

    return {
        "zoo": __version__,
        "keras": keras.__version__,
        "tensorflow": tf.__version__,
        "backend": keras.backend.backend(),
    }


def save(
    model: keras.Model,
    name_or_path: str | os.PathLike,
    *,
    overwrite: bool = True,
    **card: Any,
) -> Path:
    """Save `model` to ``<folder>/model.keras`` with a model card ``zoo.json``.

    Args:
        model: the model to save.
        name_or_path: a bare name (saved to ``saved_models/<name>/``, or under
            ``$ZOO_SAVED_MODELS``) or a folder path.
        overwrite: replace an existing save; if False an existing folder raises.
        **card: extra JSON-serialisable entries for the card, such as
            ``metrics={"accuracy": 0.97}`` or ``data="digits"``.

    Returns:
        The folder written.

    Raises:
        TypeError: if `model` is not a Keras model or a card entry cannot be
            stored as JSON.
        FileExistsError: if the folder exists and ``overwrite=False``.

    Example:
        >>> zoo.save(zoo.build("mlp_tiny"), "my_mlp", metrics={"accuracy": 0.9})
        PosixPath('.../my_mlp')
    """
    if not isinstance(model, keras.Model):
        raise v.invalid("model", "a keras.Model", type(model).__name__, TypeError)
    v.check_bool("overwrite", overwrite)
    target = resolve(name_or_path)
    _fs.recover(target)
    if target.exists() and not target.is_dir():
        raise v.invalid("name_or_path", "a folder (zoo saves a folder per model)", str(target))
    if target.exists() and not overwrite:
        raise FileExistsError(
            f"{target} already exists; pass overwrite=True to replace it. "
            f"Received: name_or_path={str(name_or_path)!r}, overwrite=False"
        )
    for key, value in card.items():
        try:
            json.dumps(to_jsonable(value))
        except (
            TypeError,
            ValueError,
        ) as error:  # pragma: no cover - to_jsonable is total
            raise v.invalid(key, "JSON-serialisable", value, TypeError) from error

    with _fs.staging(target) as tmp:
        model.save(tmp / MODEL_FILE)
        spec = registry.get_spec(model) or registry.get_spec(split(model)[1]) or {}
        contents = {
            "name": model.name,
            "architecture": spec.get("architecture"),
            "arguments": spec.get("arguments", {}),
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "versions": _versions(),
            "params": {
                "total": int(model.count_params()),
                "trainable": int(sum(np.prod(w.shape) for w in model.trainable_weights)),
            },
            # None for subclassed models (a GAN, a diffusion model), which have neither.
            "input_shape": to_jsonable(getattr(model, "input_shape", None)),
            "output_shape": to_jsonable(getattr(model, "output_shape", None)),
            "model_file": MODEL_FILE,
            "sha256": _sha256(tmp / MODEL_FILE),
            **{k: to_jsonable(value) for k, value in card.items()},
        }
        (tmp / CARD_FILE).write_text(json.dumps(contents, indent=2) + "\n", encoding="utf-8")
        _fs.install(tmp, target)  # synced, then swapped in: the old save stays whole till then
    return target


def _model_path(name_or_path: str | os.PathLike) -> tuple[Path, Path | None]:
    path = resolve(name_or_path)
    if path.suffix == ".keras" and not path.is_dir():
        return path, None
    _fs.recover(path)
    if not (path / MODEL_FILE).is_file():
        hint = ""
        root = saved_models_dir()
        if root.is_dir():
            known = sorted(p.name for p in root.iterdir() if (p / MODEL_FILE).is_file())
            if known:
                hint = " Saved models in " + str(root) + ": " + ", ".join(known) + "."
        raise FileNotFoundError(
            f"No saved model at {path} (expected {path / MODEL_FILE}).{hint} "
            f"Received: name_or_path={str(name_or_path)!r}"
        )
    return path / MODEL_FILE, path


def load_card(name_or_path: str | os.PathLike) -> dict[str, Any]:
    """Return the model card (``zoo.json``) of a saved model as a dict."""
    _, folder = _model_path(name_or_path)
    if folder is None or not (folder / CARD_FILE).is_file():
        return {}
    with open(folder / CARD_FILE, encoding="utf-8") as handle:
        return json.load(handle)


def load(name_or_path: str | os.PathLike, *, compile: bool = True) -> keras.Model:
    """Load a model saved by :func:`save` (or any ``.keras`` file), in safe mode.

    Args:
        name_or_path: a bare name under ``saved_models/``, a folder, or a
            ``.keras`` file.
        compile: restore the training configuration if the model was compiled.

    Returns:
        The ``keras.Model``.

    Raises:
        FileNotFoundError: if nothing is saved there (the message lists what is).

    Example:
        >>> path = zoo.save(zoo.build("mlp_tiny"), "my_mlp")
        >>> zoo.load("my_mlp").name
        'mlp_tiny'
    """
    import zoo.architectures  # GAN, VAE, Autoencoder, GPT, Diffusion model classes
    import zoo.architectures.pretrained.hub_layer  # HubLayer
    import zoo.layers
    import zoo.optimizers  # noqa: F401  (the layer-wise optimizers)

    v.check_bool("compile", compile)
    model_file, folder = _model_path(name_or_path)
    model = keras.saving.load_model(model_file, compile=compile)
    card = load_card(folder) if folder is not None else {}
    if card.get("architecture"):
        for part in {id(model): model, id(split(model)[1]): split(model)[1]}.values():
            registry.set_spec(part, card["architecture"], card.get("arguments", {}))
    return model
