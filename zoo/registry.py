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
import json
import os
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np
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
    "memory_available",
    "names",
    "register",
    "register_entry",
    "resolve_arguments",
    "select",
    "set_spec",
]

_PARAMS_CACHE: dict[str, tuple[int, int] | None] = {}
_BYTES_CACHE: dict[str, int | None] = {}  # a configuration's parameter bytes
_BYTES_CACHE_SIZE = 512

MEMORY_LIMIT_ENV = "ZOO_MEMORY_LIMIT"
"""Environment variable that caps the memory :func:`build` assumes is available."""


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
        zoo._validation.ResourceLimitError: (a ``MemoryError``) when the model's
            parameters would not fit in the memory available (see
            :func:`memory_available`), before any of them is allocated; the message
            gives both sizes and the arguments to lower. Counted when the sizes passed
            could make the model large (presets fit), and for every build under an
            explicit ``$ZOO_MEMORY_LIMIT``.

    Example:
        >>> model = zoo.build("resnet_tiny", input_shape=(32, 32, 3), num_classes=10)
        >>> model = zoo.build("mobilenet_v3_small", num_classes=3, weights=None)
    """
    entry, arguments = resolve_arguments(name, overrides)
    _check_fits(entry, arguments, overrides)
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
    weights, trainable_weights = _shapes(entry, arguments)
    total = sum(_size(shape) for shape, _ in weights)
    trainable = sum(_size(shape) for shape, _ in trainable_weights)
    return {"total": total, "trainable": trainable}


def _shapes(
    entry: Entry, arguments: dict[str, Any]
) -> tuple[list[tuple[tuple[int, ...], str]], list[tuple[tuple[int, ...], str]]]:
    """``(shape, dtype)`` of every weight and of the trainable ones, nothing allocated.

    The model is built under a scope that gives its variables shapes but no values.
    Python's and NumPy's random streams are left as they were (layers draw their
    default seeds from Python's), so counting before a build does not change which
    weights a seeded build gets.
    """
    python_state, numpy_state = random.getstate(), np.random.get_state()
    try:
        with variables_without_values():
            model = entry.builder(**{**arguments, **entry.count_arguments})
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)
    return (
        [(tuple(w.shape), str(w.dtype)) for w in model.weights],
        [(tuple(w.shape), str(w.dtype)) for w in model.trainable_weights],
    )


def _size(shape: tuple[int, ...]) -> int:
    size = 1
    for dim in shape:
        size *= int(dim)
    return size


# ------------------------------------------------------------------------------ memory

_GB = 1e9
_UNITS = {"": 1, "b": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12}
_UNITS.update({"kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40})


def memory_available() -> int | None:
    """Bytes of memory this process can still take, or None where it cannot be read.

    The smallest of: the system's available memory (Linux ``MemAvailable`` from
    ``/proc/meminfo``, else ``os.sysconf``), what the process's cgroup limit leaves
    (``/sys/fs/cgroup/memory.max``, or cgroup v1's ``memory.limit_in_bytes``; page
    cache counts as free) and ``$ZOO_MEMORY_LIMIT`` (bytes, or a number with a unit:
    ``"8GB"``, ``"512MiB"``). :func:`build` refuses a model whose parameters need
    more than this.

    Raises:
        ValueError: for a ``$ZOO_MEMORY_LIMIT`` that is not a size.

    Example:
        >>> zoo.registry.memory_available() > 0
        True
    """
    known = [n for n in (_system_available(), _cgroup_available(), _env_limit()) if n is not None]
    return min(known) if known else None


def _env_limit() -> int | None:
    text = os.environ.get(MEMORY_LIMIT_ENV, "").strip()
    if not text:
        return None
    match = re.fullmatch(r"([0-9]*\.?[0-9]+(?:e[0-9]+)?)\s*([a-z]*)", text.lower())
    if match is None or match.group(2) not in _UNITS or float(match.group(1)) <= 0:
        raise v.ArgumentValueError(
            f"${MEMORY_LIMIT_ENV} must be a positive size in bytes, or a number with a unit "
            f"({', '.join(repr(u.upper()) for u in _UNITS if u)}), for example '8GB'; "
            f"unset it to use all the memory available. Received: {MEMORY_LIMIT_ENV}={text!r}"
        )
    return int(float(match.group(1)) * _UNITS[match.group(2)])


def _read_int(path: str) -> int | None:
    try:
        text = Path(path).read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None  # "max" (no limit) or unreadable


def _system_available(meminfo_path: str = "/proc/meminfo") -> int | None:
    try:
        with open(meminfo_path) as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def _inactive_file(path: str, key: str) -> int:
    try:
        for line in Path(path).read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == key and value.strip().isdigit():
                return int(value)
    except OSError:
        pass
    return 0


def _cgroup_available(root: str = "/sys/fs/cgroup") -> int | None:
    """What the cgroup limit leaves (v2, else v1), reclaimable page cache counted free."""
    for limit_file, usage_file, stat_file, key in (
        ("memory.max", "memory.current", "memory.stat", "inactive_file"),
        (
            "memory/memory.limit_in_bytes",
            "memory/memory.usage_in_bytes",
            "memory/memory.stat",
            "total_inactive_file",
        ),
    ):
        limit = _read_int(f"{root}/{limit_file}")
        if limit is None or limit >= 1 << 60:  # no limit ("max", or v1's huge number)
            continue
        usage = _read_int(f"{root}/{usage_file}") or 0
        usage -= min(usage, _inactive_file(f"{root}/{stat_file}", key))
        return max(limit - usage, 0)
    return None


def _itemsize(dtype: str) -> float:
    """Bytes per element of a dtype name: 4 for float32, 2 for bfloat16, 1 for bool."""
    if dtype == "bool":
        return 1
    bits = re.search(r"\d+", dtype)
    return int(bits.group()) / 8 if bits else 4


def _config_key(entry: Entry, arguments: dict[str, Any]) -> str | None:
    """A cache key for a configuration, or None if its arguments are not plain data."""

    def plain(value: Any) -> bool:
        if value is None or isinstance(value, (str, bool, int, float)):
            return True
        if isinstance(value, (list, tuple)):
            return all(plain(item) for item in value)
        if isinstance(value, dict):
            return all(isinstance(k, str) and plain(item) for k, item in value.items())
        return False

    if not plain(arguments):
        return None
    policy = keras.config.dtype_policy().name
    return json.dumps([entry.name, policy, keras.config.floatx(), arguments], sort_keys=True)


def _parameter_bytes(entry: Entry, arguments: dict[str, Any]) -> int | None:
    """Bytes the parameters of a configuration take, counted without allocating them.

    None where that is unknown without loading weights (TF Hub modules, shipped
    checkpoints, keras-hub presets without metadata) or where counting fails (the
    build then reports its own error). Cached per configuration.
    """
    if entry.counter is not None:
        if entry.source == "checkpoint":  # shipped and small; counting would load it
            return None
        counts = entry.counter()  # the default configuration (a head more is small)
        return None if counts is None else 4 * counts["total"]
    key = _config_key(entry, arguments)
    if key is not None and key in _BYTES_CACHE:
        return _BYTES_CACHE[key]
    try:
        weights, _ = _shapes(entry, arguments)
    except v.UserError:
        raise  # the build would raise the same
    except Exception:  # the real build reports it (or succeeds)
        return None
    nbytes = round(sum(_size(shape) * _itemsize(dtype) for shape, dtype in weights))
    if key is not None:
        if len(_BYTES_CACHE) >= _BYTES_CACHE_SIZE:
            del _BYTES_CACHE[next(iter(_BYTES_CACHE))]
        _BYTES_CACHE[key] = nbytes
    return nbytes


def _gb(nbytes: float) -> str:
    return f"{nbytes / _GB:.1f} GB" if nbytes >= 0.1 * _GB else f"{nbytes / _GB:.2g} GB"


def _default(entry: Entry, key: str) -> Any:
    if key in entry.arguments:
        return entry.arguments[key]
    parameter = inspect.signature(entry.builder).parameters.get(key)
    return inspect.Parameter.empty if parameter is None else parameter.default


def _culprits(
    entry: Entry, arguments: dict[str, Any], overrides: dict[str, Any], available: int
) -> list[str]:
    """The overrides to lower, most shrinking first.

    Those whose preset value alone makes the model fit, else those whose preset value
    shrinks it by a tenth or more.
    """
    nbytes = _parameter_bytes(entry, arguments) or 0
    sizes = []
    for key in overrides:
        default = _default(entry, key)
        if default is inspect.Parameter.empty or default == overrides[key]:
            continue
        try:
            size = _parameter_bytes(entry, {**arguments, key: default})
        except Exception:  # a preset value that does not combine: not a culprit
            continue
        if size is not None and size <= 0.9 * nbytes:
            sizes.append((size, key))
    sizes.sort()
    fitting = [key for size, key in sizes if size <= available]
    return fitting or [key for _, key in sizes]


# Presets fit in memory; only sizes a user passes can make a model outgrow memory, and only when
# they are large: below this product of the integers in the overrides the count (which
# costs about half a build) is skipped. Parameter counts are polynomial in the sizes,
# so a model needing gigabytes needs at least one large size or a large product.
_COUNT_FROM = 1 << 20


def _could_be_large(overrides: dict[str, Any]) -> bool:
    product = 1

    def visit(value: Any) -> None:
        nonlocal product
        if isinstance(value, bool):
            return
        if isinstance(value, (int, float)) and value == value and value >= 2:
            product *= min(float(value), float(_COUNT_FROM))
        elif isinstance(value, (list, tuple, set)):
            for item in value:
                visit(item)
        elif isinstance(value, dict):
            for item in value.values():
                visit(item)

    for value in overrides.values():
        visit(value)
    return product >= _COUNT_FROM


def _check_fits(entry: Entry, arguments: dict[str, Any], overrides: dict[str, Any]) -> None:
    """Refuse a configuration whose parameters would not fit in the memory available."""
    if not _could_be_large(overrides) and not os.environ.get(MEMORY_LIMIT_ENV):
        return  # (an explicit $ZOO_MEMORY_LIMIT caps every build)
    available = memory_available()
    if available is None:
        return
    nbytes = _parameter_bytes(entry, arguments)
    if nbytes is None or nbytes <= available:
        return
    culprits = _culprits(entry, arguments, overrides, available)
    if culprits:
        todo = "lower " + " and ".join(f"`{key}`" for key in culprits)
        received = ", ".join(f"{key}={overrides[key]!r}" for key in culprits)
    else:
        todo = "choose a smaller preset or smaller size arguments"
        received = ", ".join(
            [f"name={entry.name!r}", *(f"{key}={value!r}" for key, value in overrides.items())]
        )
    raise v.ResourceLimitError(
        f"The parameters of {entry.name!r} need {_gb(nbytes)}, more than the "
        f"{_gb(available)} of memory available (a model's parameters must fit in "
        f"memory): {todo}, or free memory (the limit is the smallest of the memory "
        f"free, the cgroup's limit and ${MEMORY_LIMIT_ENV}). Received: {received}"
    )


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
