"""Save and load models with a model card (``zoo.json``) beside each one.

A saved model is a folder holding ``model.keras`` and ``zoo.json``. Saves are atomic:
the new folder is written and synced under a temporary name, then swapped in with
renames, so a save interrupted at any point leaves the previous version loadable
(a half-finished swap is repaired by the next ``save`` or ``load``).

Cards are verified: :func:`load` checks that the archive is whole, that
``model.keras`` has the checksum its card records, and that the card's claims
(parameter counts, shapes, architecture and arguments) hold for the model it sits
beside; a damaged or lying folder raises ``DamagedFileError`` naming the folder, the
file and the damage. Nothing named in a card is imported or run.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
import traceback
from pathlib import Path
from typing import Any

import keras
import numpy as np

from zoo import _archive, _fs, registry
from zoo import _validation as v
from zoo._json import to_jsonable
from zoo._version import __version__
from zoo.layers.preprocessing import split

__all__ = [
    "CARD_FIELDS",
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
# The card's own fields, written by save and checked by load (not settable by **card).
CARD_FIELDS = (
    "name",
    "architecture",
    "arguments",
    "created",
    "versions",
    "params",
    "input_shape",
    "output_shape",
    "model_file",
    "sha256",
)


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


def _versions() -> dict[str, str]:
    from importlib import metadata  # (a card's versions are all strings)

    try:  # read from the installation: the JAX backend does not import TensorFlow
        tensorflow = metadata.version("tensorflow")
    except metadata.PackageNotFoundError:
        tensorflow = "absent"
    return {
        "zoo": __version__,
        "keras": keras.__version__,
        "tensorflow": tensorflow,
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
            ``metrics={"accuracy": 0.97}`` or ``data="digits"`` (not one of the
            card's own fields, :data:`CARD_FIELDS`, which zoo writes and verifies).

    Returns:
        The folder written.

    Raises:
        TypeError: if `model` is not a Keras model or a card entry cannot be
            stored as JSON.
        ValueError: if a card entry is one of the card's own fields.
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
        if key in CARD_FIELDS:
            raise v.invalid(
                "**card",
                "entries other than the card's own fields ("
                + ", ".join(CARD_FIELDS)
                + "), which zoo writes from the model itself; pick another key",
                key,
            )
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
            "sha256": _archive.sha256(tmp / MODEL_FILE),
            **{k: to_jsonable(value) for k, value in card.items()},
        }
        (tmp / CARD_FILE).write_text(json.dumps(contents, indent=2) + "\n", encoding="utf-8")
        _fs.install(tmp, target)  # synced, then swapped in: the old save stays whole till then
    return target


def _model_path(name_or_path: str | os.PathLike) -> tuple[Path, Path | None]:
    path = resolve(name_or_path)
    if path.suffix == ".keras" and not path.is_dir():
        if not path.is_file():
            raise FileNotFoundError(
                f"No saved model at {path} (no such .keras file). "
                f"Received: name_or_path={str(name_or_path)!r}"
            )
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


# ------------------------------------------------------------------------ verification

_RESTORE = "Restore the folder from a copy, or save the model again."
_EDITED = (
    "If you changed the model on purpose, load it with zoo.load(..., verify=False) "
    "and save it again to write a true card."
)
_LIED = (
    f"The card does not describe the model beside it: restore {CARD_FILE} from a copy or "
    f"save the model again. {_EDITED}"
)


def _damaged(
    where: Path, file: Path, problem: str, name_or_path: Any, fix: str = _RESTORE
) -> v.DamagedFileError:
    """A DamagedFileError naming the saved model, the file in it and what is wrong."""
    subject = f"{file.name} in the saved model {where}" if file != where else f"{file}"
    return v.DamagedFileError(
        f"Damaged saved model: {subject}: {problem}. {fix} "
        f"Received: name_or_path={str(name_or_path)!r}"
    )


def _check_archive(model_file: Path, where: Path, name_or_path: Any) -> None:
    """Check that `model_file` is a whole zip archive of a Keras model (every CRC)."""
    found = _archive.problem(model_file)
    if found is not None:
        raise _damaged(where, model_file, found, name_or_path)


# Not damage: a class the loading process has not imported or registered, or what Keras's
# safe mode refuses (lambdas); their own errors say what to do.
_NOT_DAMAGE = re.compile(
    r"could not locate (class|function)|register_keras_serializable|safe_mode|lambda",
    re.IGNORECASE,
)


def _keras_damage(error: BaseException) -> str | None:
    """What is damaged, if `error` from Keras's loader comes from a damaged archive."""
    if isinstance(error, (*_archive.ZIP_ERRORS, json.JSONDecodeError, UnicodeDecodeError)):
        return f"Keras cannot read it ({type(error).__name__}: {error})"
    frames = traceback.extract_tb(error.__traceback__)
    if any(f"{os.sep}h5py{os.sep}" in frame.filename for frame in frames):
        return (
            "its weights (model.weights.h5 inside) cannot be read "
            f"({type(error).__name__}: {error})"
        )
    message = " ".join(str(error).split())
    if _NOT_DAMAGE.search(message):
        return None
    shown = message if len(message) <= 300 else message[:297] + "..."
    if "could not be loaded" in message:  # Keras's summary of weights it could not restore
        return (
            "its weights (model.weights.h5 inside) do not fit the model its config.json "
            f"describes ({shown}): the archive is damaged or its parts come from different models"
        )
    if isinstance(error, (ValueError, TypeError, KeyError, AttributeError, IndexError)):
        return (
            f"Keras {keras.__version__} cannot rebuild the model from its config.json "
            f"({type(error).__name__}: {shown}): the archive is damaged, or was written by a "
            "Keras version this one cannot read"
        )
    return None


def _shape_ok(value: Any) -> bool:
    """A shape as a card stores it: None, or lists/objects of non-negative ints and None."""
    if value is None:
        return True
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value >= 0
    if isinstance(value, list):
        return all(_shape_ok(item) for item in value)
    if isinstance(value, dict):
        return all(_shape_ok(item) for item in value.values())
    return False


def _count_ok(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


# field -> (what it must be, check); a field may be missing (older cards).
_CARD_FIELDS: dict[str, tuple[str, Any]] = {
    "name": ("a string", lambda x: isinstance(x, str)),
    "architecture": ("a string or null", lambda x: x is None or isinstance(x, str)),
    "arguments": ("a JSON object", lambda x: isinstance(x, dict)),
    "created": ("a string", lambda x: isinstance(x, str)),
    "versions": (
        "a JSON object of strings",
        lambda x: isinstance(x, dict) and all(isinstance(i, str) for i in x.values()),
    ),
    "params": (
        'a JSON object {"total": int, "trainable": int} of non-negative integers',
        lambda x: isinstance(x, dict) and all(_count_ok(i) for i in x.values()),
    ),
    "input_shape": ("null or a list of non-negative integers and nulls", _shape_ok),
    "output_shape": ("null or a list of non-negative integers and nulls", _shape_ok),
    "model_file": (f"{MODEL_FILE!r} (zoo reads no other file)", lambda x: x == MODEL_FILE),
    "sha256": (
        "64 hexadecimal digits",
        lambda x: isinstance(x, str) and re.fullmatch(r"[0-9a-fA-F]{64}", x) is not None,
    ),
}


def _read_card(folder: Path, name_or_path: Any) -> dict[str, Any]:
    """The card of a saved model folder, checked to be a JSON object of the right fields."""
    card_file = folder / CARD_FILE
    if not card_file.is_file():
        return {}

    fix = (
        f"Restore {CARD_FILE} from a copy or save the model again (deleting {CARD_FILE} "
        "loads the model without a card, unverified)."
    )

    def damaged(problem: str) -> v.DamagedFileError:
        return _damaged(folder, card_file, problem, name_or_path, fix)

    raw = card_file.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise damaged(
            f"it is not UTF-8 text (byte {error.start} is {raw[error.start]:#04x})"
        ) from None
    try:
        card = json.loads(text)
    except json.JSONDecodeError as error:
        raise damaged(
            f"invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}"
        ) from None
    except RecursionError:
        raise damaged("its JSON is nested too deeply to be a model card") from None
    if not isinstance(card, dict):
        kind = {list: "a JSON list", str: "a JSON string", type(None): "null"}.get(
            type(card), "a JSON number" if isinstance(card, (int, float)) else "not an object"
        )
        raise damaged(f"the card is {kind}, not a JSON object")
    for field, (requirement, check) in _CARD_FIELDS.items():
        if field in card and not check(card[field]):
            value = json.dumps(card[field])
            if len(value) > 80:
                value = value[:77] + "..."
            raise damaged(f"field {field!r} must be {requirement}, not {value}")
    return card


def load_card(name_or_path: str | os.PathLike) -> dict[str, Any]:
    """Return the model card (``zoo.json``) of a saved model as a dict.

    The card is checked to be a JSON object whose fields have the right types; its
    claims about the model are checked by :func:`load`. A bare ``.keras`` file or a
    folder without a card has the empty card ``{}``.

    Raises:
        FileNotFoundError: if nothing is saved there.
        zoo._validation.DamagedFileError: if ``zoo.json`` is not valid UTF-8 JSON, not
            an object, or has a field of the wrong type (the message names the file,
            and the line and column of invalid JSON).

    Example:
        >>> path = zoo.save(zoo.build("mlp_tiny"), "my_mlp")
        >>> zoo.load_card("my_mlp")["architecture"]
        'mlp_tiny'
    """
    _, folder = _model_path(name_or_path)
    if folder is None:
        return {}
    return _read_card(folder, name_or_path)


def _size(shape: Any) -> int:
    return int(np.prod([int(d) for d in shape], dtype=np.int64)) if len(shape) else 1


def _count(model: keras.Model) -> dict[str, int]:
    return {
        "total": sum(_size(w.shape) for w in model.weights),
        "trainable": sum(_size(w.shape) for w in model.trainable_weights),
    }


def _shape_of(model: keras.Model, attribute: str) -> Any:
    try:
        return to_jsonable(getattr(model, attribute, None))
    except (AttributeError, ValueError, TypeError):  # subclassed models have none
        return None


def _as_stored(value: Any) -> bool:
    """Whether a card argument is a description of a value, not the value.

    to_jsonable stores Keras objects as their serialisation (a JSON object) and
    functions as a repr (``<function ...>``); neither can be passed to a builder.
    """
    return isinstance(value, dict) or (
        isinstance(value, str) and value.startswith("<") and value.endswith(">")
    )


def _architecture_lie(card: dict[str, Any], model: keras.Model) -> str | None:
    """How the card's architecture and arguments disagree with `model`, or None.

    The architecture must be a registered name (or an old ``transfer:<name>`` card
    name); its parameters are counted without allocating weights
    (:func:`zoo.registry.count_params`) and compared with the model's. Rows counted
    offline only in their default configuration (shipped checkpoints, keras-hub and
    TF Hub rows) are checked by name alone when the card gives other arguments.
    """
    architecture = card.get("architecture")
    if not architecture:
        return None
    arguments = card.get("arguments", {})
    name = architecture
    if name.startswith("transfer:"):  # cards written before the one catalogue
        name = name.partition(":")[2]
    row = registry.find(name, warn=False)
    if row is None:
        return (
            f"the card's architecture {architecture!r} is not a registered zoo "
            "architecture (zoo.list_architectures(); a family you register yourself must "
            "be registered before loading)"
        )
    entry = registry.get_entry(row)
    claim = f"architecture {architecture!r} with arguments {json.dumps(arguments)}"
    if entry.counter is not None:
        overrides = {
            key: value
            for key, value in arguments.items()
            if key != "name"
            and not (key in entry.arguments and to_jsonable(entry.arguments[key]) == value)
            and not (isinstance(value, str) and registry.find(value, warn=False) == row)
        }
        if overrides:
            return None  # counted in its default configuration only: the name is checked
        try:
            expected = registry.count_params(row)
        except (ValueError, TypeError):  # unknown without its weights on disk
            return None
    else:
        usable = {}
        for key, value in arguments.items():
            if _as_stored(value):
                continue
            if key not in entry.parameters:
                # image_classifier(backbone=...) records its row under `backbone`
                if isinstance(value, str) and registry.find(value, warn=False) == row:
                    continue
                return (
                    f"the card claims {claim}, but {row!r} takes no argument {key!r} "
                    f"(its arguments: {', '.join(entry.parameters)})"
                )
            usable[key] = value
        try:
            expected = registry.count_params(row, **usable)
        except (ValueError, TypeError) as error:
            return f"the card claims {claim}, which {row!r} cannot build ({error})"
    network = split(model)[1]
    actual = {_count(model)["total"], _count(network)["total"]}
    if expected["total"] not in actual:
        return (
            f"the card claims {claim}, which has {expected['total']:,} parameters, but "
            f"the model has {_count(network)['total']:,}"
        )
    return None


def _check_claims(card: dict[str, Any], model: keras.Model, where: Path, name_or_path: Any) -> None:
    """Raise if the card's params, shapes or architecture disagree with `model`."""

    def lie(problem: str) -> v.DamagedFileError:
        return _damaged(where, where / CARD_FILE, problem, name_or_path, _LIED)

    counts = _count(model)
    for key, claimed in card.get("params", {}).items():
        if key in counts and claimed != counts[key]:
            raise lie(
                f"the card claims params.{key} = {claimed:,}, but model.keras has "
                f"{counts[key]:,} {key} parameters"
            )
    for field in ("input_shape", "output_shape"):
        claimed, actual = card.get(field), _shape_of(model, field)
        if claimed is not None and actual is not None and claimed != actual:
            raise lie(
                f"the card claims {field} = {json.dumps(claimed)}, but model.keras has "
                f"{json.dumps(actual)}"
            )
    problem = _architecture_lie(card, model)
    if problem is not None:
        raise lie(problem)


def load(
    name_or_path: str | os.PathLike, *, compile: bool = True, verify: bool = True
) -> keras.Model:
    """Load a model saved by :func:`save` (or any ``.keras`` file), in safe mode.

    The archive is checked whole first (every member's CRC-32), then, for a folder
    with a card, that ``model.keras`` has the card's ``sha256`` and that the loaded
    model has the card's parameter counts, input and output shapes, and the parameter
    count of the card's architecture with its arguments (counted without allocating
    weights). Nothing named in a card is imported or run. The checks read the file
    twice more (checksum and CRCs): about 0.1 s for a 100 MB model on a 2-core CPU,
    where Keras itself takes 0.3 s to load it.

    Args:
        name_or_path: a bare name under ``saved_models/``, a folder, or a
            ``.keras`` file.
        compile: restore the training configuration if the model was compiled.
        verify: check the checksum and the card's claims. Pass False to load a model
            you edited on purpose: the archive must still be whole and the card well
            formed, and the card's architecture is kept only where it matches the model.

    Returns:
        The ``keras.Model``.

    Raises:
        FileNotFoundError: if nothing is saved there (the message lists what is).
        zoo._validation.DamagedFileError: if ``model.keras`` is truncated, fails a
            CRC check or cannot be read, if ``zoo.json`` is not a well-formed card, or
            (with ``verify=True``) if the checksum or a claim of the card does not
            match the model. The message names the folder, the file and the damage.

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
    v.check_bool("verify", verify)
    model_file, folder = _model_path(name_or_path)
    where = model_file if folder is None else folder
    card = _read_card(folder, name_or_path) if folder is not None else {}
    _check_archive(model_file, where, name_or_path)
    expected = card.get("sha256")
    if verify and expected is not None:
        actual = _archive.sha256(model_file)
        if actual != expected.lower():
            raise _damaged(
                where,
                model_file,
                f"its sha256 is {actual}, but its card {CARD_FILE} records {expected} "
                "(the file changed after it was saved)",
                name_or_path,
                f"{_RESTORE} {_EDITED}",
            )
    try:
        model = keras.saving.load_model(model_file, compile=compile)
    except Exception as error:
        problem = _keras_damage(error)
        if problem is None:
            raise  # not damage: a missing custom class, an unsafe lambda, ...
        raise _damaged(where, model_file, problem, name_or_path) from error
    if verify and card:
        _check_claims(card, model, where, name_or_path)
    if card.get("architecture") and (verify or _architecture_lie(card, model) is None):
        for part in {id(model): model, id(split(model)[1]): split(model)[1]}.values():
            registry.set_spec(part, card["architecture"], card.get("arguments", {}))
    return model
