"""The catalogue: one table of every network zoo can build, and building by name.

Rows come from zoo's own builders (family modules register them with :func:`register`,
together with their named presets: ``resnet_50``, ``vgg_16_bn``, ...) and from
pretrained networks (:mod:`zoo.architectures.pretrained` registers ``keras.applications``
ImageNet backbones, keras-hub text presets, TF Hub modules and zoo's shipped
checkpoints with :func:`register_entry`). Users call :func:`build`,
:func:`list_architectures` and :func:`count_params`.

Names follow timm's ``architecture.tag``: the tag says which weights or implementation
(``resnet_50.keras_in1k`` is ``keras.applications.ResNet50`` with Keras's ImageNet-1k
weights, ``resnet_50`` is zoo's own torchvision-layout builder). A bare architecture
name that is not a row of its own means its first registered tag
(``mobilenet_v3_small`` is ``mobilenet_v3_small.keras_in1k``). Old names are kept for
one release as deprecated aliases: they work everywhere a name is accepted, with a
``DeprecationWarning`` that names the new one.
"""

from __future__ import annotations

import fnmatch
import inspect
from collections.abc import Callable
from typing import Any

import keras
import pandas as pd

from zoo import _validation as v
from zoo._catalogue import (
    _ALIASES,
    _DEFAULTS,
    _REGISTRY,
    COLUMNS,
    SOURCES,
    Entry,
    Preset,
    get_spec,
    register,
    register_entry,
    set_spec,
)
from zoo._catalogue import aliases as _aliases
from zoo._catalogue import canonical_name as _canonical_name
from zoo._catalogue import find as _find
from zoo._catalogue import get_entry as _get_entry
from zoo._compat.keras import variables_without_values

__all__ = [
    "COLUMNS",
    "SOURCES",
    "Entry",
    "Preset",
    "aliases",
    "build",
    "canonical_name",
    "count_params",
    "find",
    "get_entry",
    "get_spec",
    "is_deprecated",
    "list_architectures",
    "names",
    "register",
    "register_entry",
    "resolve_arguments",
    "select",
    "set_spec",
]

_PARAMS_CACHE: dict[str, tuple[int, int] | None] = {}


def _ensure_loaded() -> None:
    import zoo.architectures  # noqa: F401  (registers every family on import)


def find(name: Any, *, warn: bool = True) -> str | None:
    """The row a name means, or None (:func:`zoo._catalogue.find`, every family loaded).

    Example:
        >>> zoo.registry.find("mobilenet_v3_small")
        'mobilenet_v3_small.keras_in1k'
    """
    _ensure_loaded()
    return _find(name, warn=warn)


def canonical_name(name: Any, *, warn: bool = True) -> str:
    """The row a name means, with close matches if there is none.

    Raises:
        ValueError: for an unknown name (with close matches).
        TypeError: for a name that is not a string.

    Example:
        >>> zoo.registry.canonical_name("mobilenet_v2")
        'mobilenet_v2.keras_in1k'
    """
    _ensure_loaded()
    return _canonical_name(name, warn=warn)


def aliases() -> dict[str, str]:
    """Every other accepted name (bare architectures, deprecated names) and its row."""
    _ensure_loaded()
    return _aliases()


def is_deprecated(name: str) -> bool:
    """Whether `name` is a deprecated alias (accepted for one more release)."""
    _ensure_loaded()
    return name in _ALIASES and name not in _REGISTRY


def get_entry(name: str) -> Entry:
    """The catalogue entry for any accepted name, with close matches if unknown."""
    _ensure_loaded()
    return _get_entry(name)


def _names_itself(builder: Callable[..., Any]) -> bool:
    """Whether the builder picks the model's name itself (its `name` defaults to None)."""
    parameter = inspect.signature(builder).parameters.get("name")
    return parameter is not None and parameter.default is None


def resolve_arguments(name: str, overrides: dict[str, Any]) -> tuple[Entry, dict[str, Any]]:
    """Merge a preset's arguments with user overrides, checking every key."""
    entry = get_entry(name)
    v.check_kwargs(f"architecture {entry.name!r}", overrides, entry.parameters)
    arguments = {**entry.arguments, **overrides}
    if "name" in entry.parameters and "name" not in arguments and not _names_itself(entry.builder):
        arguments["name"] = entry.name
    return entry, arguments


def build(name: str, /, **overrides: Any) -> keras.Model:
    """Build any row of the catalogue by name.

    Args:
        name: a name from :func:`list_architectures`, for example ``"resnet_50"``
            (zoo's builder), ``"resnet_50.keras_in1k"`` (``keras.applications``
            with ImageNet weights), ``"bert_tiny_en_uncased"`` (keras-hub) or
            ``"digits_convnet_pretrained"`` (a shipped checkpoint); a bare
            architecture means its default tag.
        **overrides: builder arguments that replace the preset's, for example
            ``input_shape=(64, 64, 3)``, ``num_classes=5`` or ``weights=None``.

    Returns:
        A built, uncompiled ``keras.Model`` (keras-hub text classifiers come compiled
        with keras-hub's defaults).

    Raises:
        ValueError: for an unknown name (with close matches) or an invalid value.
        TypeError: for an argument the builder does not accept or a wrong type.

    Example:
        >>> model = zoo.build("resnet_tiny", input_shape=(32, 32, 3), num_classes=10)
        >>> model = zoo.build("mobilenet_v3_small", num_classes=3, weights=None)
    """
    entry, arguments = resolve_arguments(name, overrides)
    model = entry.builder(**arguments)
    if get_spec(model) is None:  # transfer builders record their own row and arguments
        set_spec(model, entry.name, arguments)
    return model


# ------------------------------------------------------------------------------ specs


def count_params(name: str, /, **overrides: Any) -> dict[str, int]:
    """Count the parameters of a catalogue row without allocating its weights.

    Pretrained rows are counted without loading or downloading weights. Rows that
    cannot be built offline (TF Hub modules, keras-hub presets) report what is known
    without building, and accept no overrides.

    Returns:
        ``{"total": ..., "trainable": ...}``; ``trainable`` excludes batch-norm
        moving statistics, as PyTorch's parameter counts do (for a pretrained backbone:
        what trains once it is unfrozen).

    Raises:
        ValueError: for a row whose parameters are unknown offline.

    Example:
        >>> zoo.registry.count_params("resnet_50")["trainable"]
        25557032
    """
    entry, arguments = resolve_arguments(name, overrides)
    if entry.counter is not None:
        if overrides:
            raise v.invalid(
                "overrides",
                f"empty for {entry.name!r}: its parameters are counted in its default "
                "configuration only",
                sorted(overrides),
            )
        counts = entry.counter()
        if counts is None:
            raise v.ArgumentValueError(
                f"The parameters of {entry.name!r} ({entry.source}) are unknown without its "
                f"weights on disk. Received: name={name!r}"
            )
        return dict(counts)
    with variables_without_values():
        model = entry.builder(**{**arguments, **entry.count_arguments})
    total = sum(_size(w.shape) for w in model.weights)
    trainable = sum(_size(w.shape) for w in model.trainable_weights)
    return {"total": total, "trainable": trainable}


def _size(shape: tuple[int, ...]) -> int:
    size = 1
    for dim in shape:
        size *= int(dim)
    return size


def _required(entry: Entry) -> list[str]:
    """The builder's arguments without a default that the entry does not give."""
    return [
        name
        for name, parameter in inspect.signature(entry.builder).parameters.items()
        if parameter.default is inspect.Parameter.empty
        and parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)
        and name not in entry.arguments
    ]


def _table_params(entry: Entry) -> int | None:
    """Trainable parameters of a row's default configuration, cached; None if unknown."""
    if entry.name not in _PARAMS_CACHE:
        if entry.counter is not None:
            counts = entry.counter()
        elif _required(entry):  # a builder with no default configuration
            counts = None
        else:
            counts = count_params(entry.name)
        _PARAMS_CACHE[entry.name] = (
            None if counts is None else (counts["total"], counts["trainable"])
        )
    cached = _PARAMS_CACHE[entry.name]
    return None if cached is None else cached[1]


# ------------------------------------------------------------------------------ listing


def names() -> list[str]:
    """Every row's name, sorted (aliases are not rows: see :func:`aliases`)."""
    _ensure_loaded()
    return sorted(_REGISTRY)


def _aliases_of(name: str) -> str | None:
    shown = [bare for bare, row in _DEFAULTS.items() if row == name and bare not in _REGISTRY]
    shown += [f"{old} (deprecated)" for old, row in _ALIASES.items() if row == name]
    return ", ".join(shown) or None


def _matches(entry: Entry, pattern: str) -> bool:
    candidates = [entry.name, entry.architecture, *entry.aliases]
    return any(fnmatch.fnmatchcase(candidate, pattern) for candidate in candidates)


def _check_sources(source: Any) -> tuple[str, ...] | None:
    if source is None:
        return None
    chosen = (source,) if isinstance(source, str) else source
    if not isinstance(chosen, (list, tuple, set)) or not chosen:
        raise v.invalid("source", f"None, one of {SOURCES} or a list of them", source, TypeError)
    return tuple(v.check_choice("source", s, SOURCES) for s in chosen)


def select(
    pattern: str = "*", *, source: Any = None, pretrained: bool | None = None
) -> list[Entry]:
    """The rows that :func:`list_architectures` shows, as entries, in the table's order."""
    v.check_str("pattern", pattern)
    sources = _check_sources(source)
    if pretrained is not None:
        v.check_bool("pretrained", pretrained)
    _ensure_loaded()
    chosen = []
    for name in sorted(_REGISTRY, key=lambda n: (_REGISTRY[n].family, n)):
        entry = _REGISTRY[name]
        if not _matches(entry, pattern):
            continue
        if sources is not None and entry.source not in sources:
            continue
        if pretrained is not None and (entry.weights is not None) != pretrained:
            continue
        chosen.append(entry)
    return chosen


def list_architectures(
    pattern: str = "*", *, source: Any = None, pretrained: bool | None = None
) -> pd.DataFrame:
    """List the catalogue as a table: every name zoo builds.

    zoo's builders and presets, ``keras.applications`` backbones, keras-hub presets,
    TF Hub modules and shipped checkpoints, in one table. Never touches the network;
    parameter counts are computed without allocating weights and cached for the process.

    Args:
        pattern: a shell-style wildcard matched against the name, the name without its
            tag and the deprecated aliases, for example ``"resnet_*"``.
        source: only rows from this source (or these sources): ``"zoo"``,
            ``"keras.applications"``, ``"keras-hub"``, ``"tfhub"``, ``"checkpoint"``.
        pretrained: True for rows with pretrained weights only, False for rows without.

    Returns:
        A DataFrame with one row per name: ``name``, ``family``, ``task``,
        ``params`` (trainable parameters of the default configuration, which is
        headless for pretrained backbones; missing where unknown offline),
        ``source``, ``weights`` (the pretrained weights: ``"imagenet"``, a keras-hub
        preset, a TF Hub handle, a checkpoint, or None), ``offline`` (whether it builds
        without a download now: its weights are on disk, or it needs none),
        ``layout`` (which variant of a published network, where it matters),
        ``aliases`` (other accepted names) and ``description``.

    Example:
        >>> zoo.list_architectures("resnet_50*")[["name", "source", "layout"]]
        >>> zoo.list_architectures(source="keras.applications")
    """
    rows = [
        {
            "name": entry.name,
            "family": entry.family,
            "task": entry.task,
            "params": _table_params(entry),
            "source": entry.source,
            "weights": entry.weights,
            "offline": entry.offline,
            "layout": entry.layout,
            "aliases": _aliases_of(entry.name),
            "description": entry.description,
        }
        for entry in select(pattern, source=source, pretrained=pretrained)
    ]
    table = pd.DataFrame(rows, columns=COLUMNS).reset_index(drop=True)
    return table.astype({"params": "Int64", "offline": bool})
