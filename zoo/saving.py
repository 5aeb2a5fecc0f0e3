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
import math
import numbers
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

import keras
import numpy as np

from zoo import _validation as v
from zoo import registry

MODEL_FILE = "model.keras"
CARD_FILE = "zoo.json"
DEFAULT_DIR_ENV = "ZOO_SAVED_MODELS"
_BACKUP_PREFIX = ".backup-"
_TMP_PREFIX = ".tmp-"


def saved_models_dir() -> Path:
    """The default output folder: ``$ZOO_SAVED_MODELS`` or ``./saved_models``."""
    return Path(os.environ.get(DEFAULT_DIR_ENV, "saved_models"))


def to_jsonable(value: Any) -> Any:
    """Convert a value to something ``json.dumps`` accepts (tuples become lists).

    Keras objects (initializers, regularizers, dtype policies) become their Keras
    serialization; numpy scalars and arrays become Python numbers and lists.
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {str(k): to_jsonable(item) for k, item in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [to_jsonable(item) for item in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "get_config"):
        return keras.saving.serialize_keras_object(value)
    if hasattr(value, "to_dict"):  # pandas objects
        return to_jsonable(value.to_dict())
    return repr(value)


def resolve(name_or_path: str | os.PathLike) -> Path:
    """The folder of a saved model: a bare name means ``saved_models/<name>``."""
    if isinstance(name_or_path, os.PathLike):
        return Path(name_or_path)
    v.check_str("name_or_path", name_or_path)
    if os.sep in name_or_path or "/" in name_or_path or name_or_path.startswith("."):
        return Path(name_or_path)
    return saved_models_dir() / name_or_path


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _recover(target: Path) -> None:
    """Finish or undo a swap that an earlier, interrupted save left behind."""
    parent = target.parent
    if not parent.is_dir():
        return
    backups = sorted(parent.glob(f"{_BACKUP_PREFIX}{target.name}-*"), key=os.path.getmtime)
    if not target.exists() and backups:
        backups[-1].rename(target)  # the swap died between its two renames
        backups = backups[:-1]
    for stale in backups + list(parent.glob(f"{_TMP_PREFIX}{target.name}-*")):
        shutil.rmtree(stale, ignore_errors=True)


def _chmod_like_mkdir(path: Path) -> None:
    """Give a mkdtemp folder (0o700) the permissions a plain mkdir would."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o777 & ~umask)


def _versions() -> dict[str, str]:
    import tensorflow as tf

    import zoo

    return {
        "zoo": zoo.__version__,
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
        PosixPath('saved_models/my_mlp')
    """
    if not isinstance(model, keras.Model):
        raise v.invalid("model", "a keras.Model", type(model).__name__, TypeError)
    v.check_bool("overwrite", overwrite)
    target = resolve(name_or_path)
    _recover(target)
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

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"{_TMP_PREFIX}{target.name}-", dir=target.parent))
    try:
        _chmod_like_mkdir(tmp)
        model.save(tmp / MODEL_FILE)
        spec = registry.get_spec(model) or {}
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
        with open(tmp / CARD_FILE, "w", encoding="utf-8") as handle:
            json.dump(contents, handle, indent=2, sort_keys=False)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        with open(tmp / MODEL_FILE, "rb") as handle:
            os.fsync(handle.fileno())
        _fsync_dir(tmp)
        backup = None
        if target.exists():
            backup = target.parent / f"{_BACKUP_PREFIX}{target.name}-{uuid.uuid4().hex[:8]}"
            target.rename(backup)
        tmp.rename(target)
        _fsync_dir(target.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        _recover(target)
        raise
    if backup is not None:
        shutil.rmtree(backup, ignore_errors=True)
    return target


def _model_path(name_or_path: str | os.PathLike) -> tuple[Path, Path | None]:
    path = resolve(name_or_path)
    if path.suffix == ".keras" and not path.is_dir():
        return path, None
    _recover(path)
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
        >>> model = zoo.load("my_mlp")
    """
    import zoo.architectures  # GAN, VAE, Autoencoder, GPT, Diffusion model classes
    import zoo.layers
    import zoo.transfer  # noqa: F401  (HubLayer, layer-wise optimizers)

    v.check_bool("compile", compile)
    model_file, folder = _model_path(name_or_path)
    model = keras.saving.load_model(model_file, compile=compile)
    card = load_card(folder) if folder is not None else {}
    if card.get("architecture"):
        registry.set_spec(model, card["architecture"], card.get("arguments", {}))
    return model
