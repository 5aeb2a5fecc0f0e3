"""Pretrained text backbones from keras-hub (BERT and its relatives) for classification.

Each preset in :data:`TEXT_BACKBONES` is a row of zoo's catalogue under its keras-hub
name (``zoo.build("bert_tiny_en_uncased", num_classes=2)``); public as
:mod:`zoo.transfer.text`.

:func:`text_classifier` builds a keras-hub ``TextClassifier`` that takes raw strings:
its preprocessor (tokenizer, packer, padding) is part of the model and always pads to
the ``sequence_length`` asked for, never to keras-hub's default of 512 (a shorter
backbone would otherwise fail in ``fit`` with "Paddings must be non-negative").
BERT: Devlin et al., 2019, https://arxiv.org/abs/1810.04805.

A preset is resolved in this order:
    1. a local preset folder (``preset="/path/to/folder"``), as written by
       ``backbone.save_to_preset(folder)`` plus ``tokenizer.save_to_preset(folder)``;
    2. ``$ZOO_WEIGHTS_DIR/<preset name>/``, a folder like the one above;
    3. kagglehub's cache, ``$KAGGLEHUB_CACHE/models/<owner>/<model>/keras/<variant>/<version>``
       (default ``~/.cache/kagglehub``), where keras-hub downloads built-in presets;
    4. a download by keras-hub, unless ``ZOO_OFFLINE=1``.
Offline, or when the download fails, the error names the preset, the folder to put it
in, and the files it must hold. No network is touched by :func:`text_rows`.

keras-hub compiles every task model when it is built (``Adam(5e-5)``, sparse
categorical cross-entropy on logits, sparse categorical accuracy), and
:func:`text_classifier` returns the model compiled that way. After
``keras.saving.load_model`` the model is compiled with those keras-hub defaults again,
not with the settings it was saved with (Keras warns that ``compile()`` was not called,
and the optimizer state is dropped): call ``zoo.transfer.text.recompile`` (or
``model.compile(...)``) with your own settings before training it further.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import keras

from zoo import _catalogue
from zoo import _validation as v
from zoo._compat.keras_hub import classifier_preprocessor, preset_file

OFFLINE_ENV = "ZOO_OFFLINE"
WEIGHTS_DIR_ENV = "ZOO_WEIGHTS_DIR"
KAGGLEHUB_CACHE_ENV = "KAGGLEHUB_CACHE"

_CONFIG = "config.json"
_TOKENIZER = "tokenizer.json"
_WEIGHTS = "model.weights.h5"
_SHARDED_WEIGHTS = "model.weights.json"
_TOKENIZER_ASSETS = "assets/tokenizer"
_PRESET_FILES = (
    f"{_CONFIG}, {_WEIGHTS}, {_TOKENIZER} and {_TOKENIZER_ASSETS}/, as "
    "backbone.save_to_preset(folder) and tokenizer.save_to_preset(folder) write them"
)


@dataclasses.dataclass(frozen=True)
class TextBackbone:
    """One built-in keras-hub text preset listed by :func:`text_rows`.

    Attributes:
        preprocessing: the tokenizer built into the model.
        max_sequence_length: the longest input (in tokens) its position embeddings cover.
        family: the family column of the catalogue (keras-hub's model family).
    """

    preprocessing: str
    max_sequence_length: int
    family: str = "bert"


_WORDPIECE = "WordPiece tokenizer, built in"
_SENTENCEPIECE = "SentencePiece tokenizer, built in"

TEXT_BACKBONES: dict[str, TextBackbone] = {
    "bert_tiny_en_uncased": TextBackbone(_WORDPIECE + " (lowercased)", 512, "bert"),
    "bert_small_en_uncased": TextBackbone(_WORDPIECE + " (lowercased)", 512, "bert"),
    "bert_base_en_uncased": TextBackbone(_WORDPIECE + " (lowercased)", 512, "bert"),
    "distil_bert_base_en_uncased": TextBackbone(_WORDPIECE + " (lowercased)", 512, "distil_bert"),
    "roberta_base_en": TextBackbone("byte-level BPE tokenizer, built in", 512, "roberta"),
    "albert_base_en_uncased": TextBackbone(_SENTENCEPIECE + " (lowercased)", 512, "albert"),
    "deberta_v3_small_en": TextBackbone(_SENTENCEPIECE, 512, "deberta_v3"),
}


# zoo.tune("text_classifier", data): the preset is itself a choice, at BERT-style rates.
SEARCH_SPACE: dict[str, Any] = {
    "preset": ["bert_tiny_en_uncased", "bert_small_en_uncased"],
    "dropout": {"min": 0.0, "max": 0.3, "step": 0.1},
    "learning_rate": {"min": 1e-5, "max": 1e-4, "sampling": "log"},
    "batch_size": [16, 32],
}
# zoo.tune("<preset>", data): one preset.
ROW_SEARCH_SPACE: dict[str, Any] = {k: value for k, value in SEARCH_SPACE.items() if k != "preset"}


def _keras_hub():
    import keras_hub  # imported lazily: it takes seconds and pulls in tensorflow-text

    return keras_hub


def _builtin_presets() -> dict[str, dict[str, Any]]:
    """keras-hub's built-in text classifier presets: name -> {metadata, kaggle_handle}."""
    return dict(_keras_hub().models.TextClassifier.presets)


def kagglehub_cache_dir() -> Path:
    """Where kagglehub keeps downloads: ``$KAGGLEHUB_CACHE`` or ``~/.cache/kagglehub``."""
    default = os.path.join(os.path.expanduser("~"), ".cache", "kagglehub")
    return Path(os.environ.get(KAGGLEHUB_CACHE_ENV) or default)


def _kaggle_cache_folder(handle: str) -> Path | None:
    """The cache folder of a ``kaggle://owner/model/framework/variation[/version]`` handle."""
    parts = handle.split("://", 1)[-1].strip("/").split("/")
    if len(parts) not in (4, 5):
        return None
    base = kagglehub_cache_dir() / "models" / Path(*parts[:4])
    if len(parts) == 5:
        return base / parts[4]
    # Unversioned: the newest version already in the cache, if any.
    if not base.is_dir():
        return None
    versions = [int(p.name) for p in base.iterdir() if p.is_dir() and p.name.isdigit()]
    return base / str(max(versions)) if versions else None


def _missing_files(folder: Path) -> list[str]:
    """The files a keras-hub (Keras format) text preset folder lacks."""
    missing = [name for name in (_CONFIG, _TOKENIZER) if not (folder / name).is_file()]
    if not ((folder / _WEIGHTS).is_file() or (folder / _SHARDED_WEIGHTS).is_file()):
        missing.append(_WEIGHTS)
    assets = folder / _TOKENIZER_ASSETS
    if not (assets.is_dir() and any(assets.iterdir())):
        missing.append(_TOKENIZER_ASSETS + "/")
    return missing


def _is_complete(folder: Path | None) -> bool:
    return folder is not None and folder.is_dir() and not _missing_files(folder)


def _expected_folders(preset: str, handle: str | None) -> list[Path]:
    """Where a local copy of a named preset may be, in the order they are tried."""
    folders = []
    if os.environ.get(WEIGHTS_DIR_ENV) and "://" not in preset:
        folders.append(Path(os.environ[WEIGHTS_DIR_ENV]) / preset)
    cached = _kaggle_cache_folder(handle) if handle else None
    if cached is not None:
        folders.append(cached)
    return folders


def cached_preset(preset: str) -> Path | None:
    """The complete local copy of a built-in preset (or ``kaggle://`` handle), or None.

    Looks in ``$ZOO_WEIGHTS_DIR/<preset>/`` and in kagglehub's cache; never touches the
    network.

    Example:
        >>> from zoo.transfer.text import cached_preset
        >>> cached_preset("bert_tiny_en_uncased")  # None until it is downloaded
    """
    v.check_str("preset", preset)
    handle = _handle(preset)
    return next((f for f in _expected_folders(preset, handle) if _is_complete(f)), None)


def _handle(preset: str) -> str | None:
    if preset.startswith("kaggle://"):
        return preset
    if "://" in preset:
        return None
    entry = _builtin_presets().get(preset)
    return entry.get("kaggle_handle") if entry else None


def _looks_like_path(preset: Any) -> bool:
    if isinstance(preset, os.PathLike):
        return True
    return (
        any(sep in preset for sep in ("/", "\\"))
        or preset.startswith(("~", "."))
        or os.path.exists(preset)
    )


def _read_config(folder: Path) -> dict[str, Any]:
    path = folder / _CONFIG
    try:
        with open(path, encoding="utf-8") as handle:
            config = json.load(handle)
    except (OSError, ValueError) as error:
        raise v.ArgumentValueError(
            f"The preset folder {folder} has an unreadable {_CONFIG} ({error}). A text "
            f"preset folder holds {_PRESET_FILES}. Received: preset={str(folder)!r}"
        ) from None
    if not isinstance(config, dict):
        raise v.ArgumentValueError(
            f"The preset folder {folder} has a {_CONFIG} that is not a JSON object. "
            f"Received: preset={str(folder)!r}"
        )
    return config


def _check_folder(folder: Path, received: str) -> dict[str, Any]:
    """Check a local preset folder and return its config.json."""
    if not folder.exists():
        raise v.ArgumentValueError(
            f"The preset folder {folder} does not exist. Pass a keras-hub preset name (see "
            f"zoo.transfer.text.TEXT_BACKBONES) or a folder that holds {_PRESET_FILES}. "
            f"Received: preset={received!r}"
        )
    if not folder.is_dir():
        raise v.ArgumentValueError(
            f"The preset {folder} is a file, not a folder. A preset folder holds "
            f"{_PRESET_FILES}. Received: preset={received!r}"
        )
    if not (folder / _CONFIG).is_file():
        raise v.ArgumentValueError(
            f"The preset folder {folder} has no {_CONFIG}. A text preset folder holds "
            f"{_PRESET_FILES}. Received: preset={received!r}"
        )
    config = _read_config(folder)
    # Keras-format presets (save_to_preset); Transformers-style folders are left to keras-hub.
    if "registered_name" in config:
        missing = _missing_files(folder)
        if missing:
            raise v.ArgumentValueError(
                f"The preset folder {folder} lacks {', '.join(missing)}. A text preset "
                f"folder holds {_PRESET_FILES}. Received: preset={received!r}"
            )
    return config


def _offline_error(preset: str, handle: str | None, reason: str) -> Exception:
    folders = _expected_folders(preset, handle)
    if folders:
        where = " or ".join(str(f) for f in folders)
        place = (
            f"Place the downloaded preset folder ({_PRESET_FILES}) at {where} "
            f"(kagglehub's cache is ${KAGGLEHUB_CACHE_ENV}, default ~/.cache/kagglehub; "
            f"or set ${WEIGHTS_DIR_ENV} and use <dir>/{preset}), "
        )
    else:
        place = f"Download the preset folder ({_PRESET_FILES}) on a connected machine, "
    return v.ArgumentValueError(
        f"The keras-hub preset {preset!r} is not available ({reason}). {place}or pass "
        f"a local preset folder as preset='/path/to/folder'. Received: preset={preset!r}"
    )


def _max_sequence_length(config: dict[str, Any]) -> int | None:
    inner = config.get("config", config)
    for key in ("max_sequence_length", "max_position_embeddings"):
        value = inner.get(key) if isinstance(inner, dict) else None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def _resolve(preset: Any) -> tuple[str, dict[str, Any] | None, str, str | None]:
    """Return (what to give keras-hub, its config, weights source, handle if downloading)."""
    if not isinstance(preset, (str, os.PathLike)) or (isinstance(preset, str) and not preset):
        raise v.invalid(
            "preset", "a keras-hub preset name or a local preset folder", preset, TypeError
        )
    if isinstance(preset, str) and ("://" in preset or preset in _builtin_presets()):
        name, handle = preset, _handle(preset)
    elif _looks_like_path(preset):
        received = os.fspath(preset)
        folder = Path(received).expanduser()
        config = _check_folder(folder, received)
        return str(folder), config, f"local preset folder {folder}", None
    else:
        raise v.unknown_name(
            "preset",
            preset,
            _builtin_presets(),
            hint="Pass a keras-hub text classifier preset (see zoo.transfer.text.TEXT_BACKBONES) "
            "or a local preset folder made with save_to_preset.",
        )
    local = next((f for f in _expected_folders(name, handle) if _is_complete(f)), None)
    if local is not None:
        source = f"keras-hub preset {name} (local copy {local})"
        return str(local), _read_config(local), source, None
    if os.environ.get(OFFLINE_ENV) == "1":
        raise _offline_error(name, handle, f"{OFFLINE_ENV}=1 and no local copy")
    try:
        config_path = preset_file(name, _CONFIG)
    except Exception as error:  # requests/kagglehub/keras-hub errors on a failed download
        raise _offline_error(
            name, handle, f"download failed: {type(error).__name__}: {error}"
        ) from error
    return name, _read_config(Path(config_path)), f"keras-hub preset {name}", handle


def _check_num_classes(num_classes: Any) -> int:
    num_classes = v.check_int("num_classes", num_classes)
    if num_classes < 2:
        raise v.invalid(
            "num_classes",
            "an integer >= 2 (keras-hub's head gives one logit per class under a softmax "
            "cross-entropy: with one class, label 1 is out of range and label 0 has zero "
            "loss; use num_classes=2 for a binary task)",
            num_classes,
        )
    return num_classes


def text_classifier(
    preset: str | os.PathLike,
    num_classes: int,
    *,
    sequence_length: int = 128,
    dropout: float | None = None,
    trainable: bool = True,
    name: str | None = None,
) -> keras.Model:
    """A keras-hub text classifier: raw strings -> tokenizer -> pretrained backbone -> head.

    The head outputs logits (no activation); the model comes compiled with keras-hub's
    fine-tuning defaults (``Adam(5e-5)``, ``SparseCategoricalCrossentropy(from_logits=True)``,
    ``SparseCategoricalAccuracy``). Labels are integer class ids. For a binary task use
    ``num_classes=2``: with ``num_classes=1`` keras-hub's softmax cross-entropy rejects
    label 1 and gives label 0 zero loss, so it is refused here.

    Args:
        preset: a keras-hub text classifier preset name such as ``"bert_tiny_en_uncased"``
            (resolved as the module docstring says), a ``kaggle://`` handle, or a local
            preset folder written by ``save_to_preset``.
        num_classes: the number of classes, at least 2.
        sequence_length: tokens per example after padding or truncation, including the
            special tokens; from 2 to the backbone's ``max_sequence_length``.
        dropout: dropout before the head; None keeps the family's default.
        trainable: False freezes ``model.backbone`` so that only the head trains.
        name: the model name (default keras-hub's, for example ``bert_text_classifier``).

    Returns:
        A compiled ``keras_hub.models.TextClassifier`` with ``model.backbone`` and
        ``model.preprocessor`` (whose ``sequence_length`` is the one asked for).

    Raises:
        ValueError: an unknown preset name (with close matches), a missing or incomplete
            folder (naming the files it must hold), a preset that is not available offline
            or could not be downloaded (naming where to put it), a ``sequence_length``
            longer than the backbone allows, or ``num_classes`` below 2.
        TypeError: arguments of the wrong type.

    Example:
        >>> import keras_hub, tensorflow as tf
        >>> backbone = keras_hub.models.BertBackbone(
        ...     vocabulary_size=8, num_layers=1, num_heads=1, hidden_dim=8,
        ...     intermediate_dim=16, max_sequence_length=16)
        >>> tokenizer = keras_hub.tokenizers.BertTokenizer(
        ...     vocabulary=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "good", "bad"])
        >>> backbone.save_to_preset("tiny_bert"); tokenizer.save_to_preset("tiny_bert")
        >>> from zoo.transfer.text import text_classifier
        >>> model = text_classifier("./tiny_bert", 2, sequence_length=8)
        >>> model.fit(tf.data.Dataset.from_tensor_slices((["good", "bad"], [1, 0])).batch(2))
    """
    num_classes = _check_num_classes(num_classes)
    sequence_length = v.check_int("sequence_length", sequence_length)
    if sequence_length < 2:
        raise v.invalid(
            "sequence_length",
            "an integer >= 2 (room for the [CLS] and [SEP] tokens)",
            sequence_length,
        )
    if dropout is not None:
        dropout = v.check_rate("dropout", dropout)
    v.check_bool("trainable", trainable)
    if name is not None:
        v.check_name("name", name)

    source, config, weights_source, handle = _resolve(preset)
    maximum = _max_sequence_length(config) if config else None
    if maximum is not None and sequence_length > maximum:
        raise v.invalid(
            "sequence_length",
            f"an integer <= {maximum}, the max_sequence_length of the backbone in preset "
            f"{os.fspath(preset)!r}",
            sequence_length,
        )

    keras_hub = _keras_hub()
    kwargs: dict[str, Any] = {"num_classes": num_classes}
    if dropout is not None:
        kwargs["dropout"] = dropout
    if name is not None:
        kwargs["name"] = name
    try:
        preprocessor = classifier_preprocessor(source, sequence_length)
        model = keras_hub.models.TextClassifier.from_preset(
            source, preprocessor=preprocessor, **kwargs
        )
    except OSError as error:
        if source != preset or not isinstance(preset, str) or _looks_like_path(preset):
            raise
        # A download that failed half way.
        raise _offline_error(preset, handle, f"download failed: {error}") from error
    except ValueError as error:
        if "Unable to find a subclass" in str(error):
            raise v.ArgumentValueError(
                f"The preset {os.fspath(preset)!r} holds a backbone that has no keras-hub "
                f"TextClassifier ({error}). Received: preset={os.fspath(preset)!r}"
            ) from None
        raise

    if maximum is None:  # Transformers-style folders: ask the built backbone.
        maximum = getattr(model.backbone, "max_sequence_length", None)
        if isinstance(maximum, int) and sequence_length > maximum:
            raise v.invalid(
                "sequence_length",
                f"an integer <= {maximum}, the max_sequence_length of the backbone",
                sequence_length,
            )
    if not trainable:
        model.backbone.trainable = False
        model.compile()  # keras-hub's defaults, with the frozen backbone

    preset_name = os.fspath(preset)
    _catalogue.set_spec(
        model,
        # A catalogue row where the preset is one; else the builder, with the folder.
        preset_name if preset_name in TEXT_BACKBONES else "text_classifier",
        {
            "preset": preset_name,
            "num_classes": num_classes,
            "sequence_length": sequence_length,
            "dropout": dropout,
            "trainable": trainable,
            "weights": weights_source,
        },
    )
    return model


def text_rows() -> list[dict[str, Any]]:
    """Rows describing :data:`TEXT_BACKBONES`, for ``zoo.transfer.list_backbones``.

    Never touches the network: ``offline`` says whether a complete copy of the preset is
    on disk now (``$ZOO_WEIGHTS_DIR/<name>/`` or kagglehub's cache).

    Returns:
        One dict per preset present in the installed keras-hub, with ``name``, ``source``
        (``"keras-hub"``), ``task`` (``"text"``), ``input_size`` (max sequence length),
        ``params`` (from keras-hub's preset metadata, or None), ``preprocessing``,
        ``weights_file`` (the preset's kaggle handle) and ``offline``.

    Example:
        >>> from zoo.transfer.text import text_rows
        >>> [row["name"] for row in text_rows()][:2]
        ['bert_tiny_en_uncased', 'bert_small_en_uncased']
    """
    presets = _builtin_presets()
    rows = []
    for name, spec in TEXT_BACKBONES.items():
        entry = presets.get(name)
        if entry is None:  # not in this keras-hub version
            continue
        params = entry.get("metadata", {}).get("params")
        rows.append(
            {
                "name": name,
                "source": "keras-hub",
                "task": "text",
                "input_size": spec.max_sequence_length,
                "params": int(params) if isinstance(params, int) else None,
                "preprocessing": spec.preprocessing,
                "weights_file": entry.get("kaggle_handle"),
                "offline": cached_preset(name) is not None,
            }
        )
    return rows


# -------------------------------------------------------------------- catalogue rows


def _params(name: str) -> dict[str, int] | None:
    """The preset's parameter count from keras-hub's metadata (no download), or None."""
    try:
        entry = _builtin_presets().get(name) or {}
    except ImportError:  # keras-hub missing or broken: unknown, as offline
        return None
    params = entry.get("metadata", {}).get("params")
    if not isinstance(params, int) or isinstance(params, bool):
        return None
    return {"total": params, "trainable": params}


def _on_disk(preset: str) -> bool:
    try:
        return cached_preset(preset) is not None
    except ImportError:  # keras-hub missing or broken: nothing it could load is here
        return False


def _row_builder(preset: str):
    def build(
        num_classes: int = 2,
        sequence_length: int = 128,
        dropout: float | None = None,
        trainable: bool = True,
        name: str | None = None,
    ) -> keras.Model:
        return text_classifier(
            preset,
            num_classes,
            sequence_length=sequence_length,
            dropout=dropout,
            trainable=trainable,
            name=name,
        )

    build.__name__ = build.__qualname__ = preset
    build.__doc__ = f"``text_classifier({preset!r}, num_classes, ...)``."
    return build


def _register() -> None:
    for preset, spec in TEXT_BACKBONES.items():
        _catalogue.register_entry(
            _catalogue.Entry(
                preset,
                spec.family,
                "text classification",
                f"keras-hub {preset} with a new head; raw strings in ({spec.preprocessing}); "
                "compiled with keras-hub's defaults.",
                _row_builder(preset),
                {},
                ROW_SEARCH_SPACE,
                source="keras-hub",
                weights=preset,
                counter=lambda preset=preset: _params(preset),
                on_disk=lambda preset=preset: _on_disk(preset),
            )
        )
    _catalogue.register_entry(
        _catalogue.Entry(
            "text_classifier",
            "transfer",
            "text classification",
            "Any keras-hub text classifier preset (or preset folder), fine-tuned whole; "
            "tunes the preset as a choice.",
            text_classifier,
            {},
            SEARCH_SPACE,
            counter=lambda: None,
        )
    )


_register()
