"""The architecture registry: register builders and presets, build models by name.

Family modules register a builder with :func:`register`, together with their named
presets (``resnet_50``, ``vgg_16_bn``, ...). Users call :func:`build` and
:func:`list_architectures`.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import inspect
import json
from collections.abc import Callable
from typing import Any

import keras
import pandas as pd

from zoo import _validation as v
from zoo._compat.keras import variables_without_values

_SPEC_ATTRIBUTE = "_zoo_spec"


@dataclasses.dataclass(frozen=True)
class Preset:
    """A named configuration of a builder.

    Args:
        description: one line shown by ``zoo.list_architectures()``.
        arguments: keyword arguments passed to the builder.
        task: the task column of the table; defaults to the builder's task.
    """

    description: str
    arguments: dict[str, Any] = dataclasses.field(default_factory=dict)
    task: str | None = None


@dataclasses.dataclass(frozen=True)
class Entry:
    """One registered name: a builder plus the arguments of a preset."""

    name: str
    family: str
    task: str
    description: str
    builder: Callable[..., keras.Model]
    arguments: dict[str, Any]
    search_space: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def parameters(self) -> list[str]:
        """The keyword arguments the builder accepts."""
        return list(inspect.signature(self.builder).parameters)


_REGISTRY: dict[str, Entry] = {}
_PARAMS_CACHE: dict[str, tuple[int, int]] = {}


def register(
    name: str,
    *,
    task: str,
    description: str,
    presets: dict[str, Preset] | None = None,
    family: str | None = None,
    search_space: dict[str, Any] | None = None,
) -> Callable[[Callable[..., keras.Model]], Callable[..., keras.Model]]:
    """Register a builder under `name`, plus its named presets.

    Args:
        name: the builder's own registered name (its default configuration).
        task: what the model does, for example ``"image classification"``.
        description: a one-line description.
        presets: named configurations of this builder.
        family: the family; defaults to the name of the builder's module.
        search_space: the default hyperparameter space of ``zoo.tune`` for the
            builder and its presets, in :mod:`zoo.tuning.space`'s plain-dict form.

    Raises:
        ValueError: if a name is already registered.

    Example:
        >>> @register("tiny_mlp", task="classification", description="An MLP.")
        ... def tiny_mlp(input_shape=(4,), num_classes=2, name="tiny_mlp"): ...
    """

    def decorator(builder: Callable[..., keras.Model]) -> Callable[..., keras.Model]:
        fam = family or builder.__module__.rsplit(".", 1)[-1]
        space = dict(search_space or {})
        entries = [Entry(name, fam, task, description, builder, {}, space)]
        for preset_name, preset in (presets or {}).items():
            entries.append(
                Entry(
                    preset_name,
                    fam,
                    preset.task or task,
                    preset.description,
                    builder,
                    dict(preset.arguments),
                    space,
                )
            )
        accepted = set(inspect.signature(builder).parameters)
        for entry in entries:
            if entry.name in _REGISTRY:
                raise ValueError(
                    f"Architecture name {entry.name!r} is already registered by "
                    f"{_REGISTRY[entry.name].builder.__module__}; names must be unique. "
                    f"Received: name={entry.name!r}"
                )
            unknown = set(entry.arguments) - accepted
            if unknown:
                raise TypeError(
                    f"Preset {entry.name!r} passes arguments that {builder.__name__} "
                    f"does not accept. Received: {sorted(unknown)}"
                )
        for entry in entries:
            _REGISTRY[entry.name] = entry
        return builder

    return decorator


def _ensure_loaded() -> None:
    import zoo.architectures  # noqa: F401  (registers every family on import)


def get_entry(name: str) -> Entry:
    """Return the registry entry for `name`, with a helpful error if unknown."""
    _ensure_loaded()
    if not isinstance(name, str):
        raise v.invalid("name", "an architecture name (a string)", name, TypeError)
    if name not in _REGISTRY:
        raise v.unknown_name(
            "architecture",
            name,
            _REGISTRY,
            hint="See zoo.list_architectures() (or `zoo list`) for every name.",
        )
    return _REGISTRY[name]


def resolve_arguments(name: str, overrides: dict[str, Any]) -> tuple[Entry, dict[str, Any]]:
    """Merge a preset's arguments with user overrides, checking every key."""
    entry = get_entry(name)
    v.check_kwargs(f"architecture {name!r}", overrides, entry.parameters)
    arguments = {**entry.arguments, **overrides}
    if "name" in entry.parameters and "name" not in overrides:
        arguments["name"] = entry.name
    return entry, arguments


def build(name: str, /, **overrides: Any) -> keras.Model:
    """Build a registered architecture or preset by name.

    Args:
        name: a name from :func:`list_architectures`, for example ``"resnet_50"``.
        **overrides: builder arguments that replace the preset's, for example
            ``input_shape=(64, 64, 3)`` or ``num_classes=5``.

    Returns:
        A built, uncompiled ``keras.Model``.

    Raises:
        ValueError: for an unknown name (with close matches) or an invalid value.
        TypeError: for an argument the builder does not accept or a wrong type.

    Example:
        >>> model = zoo.build("resnet_tiny", input_shape=(32, 32, 3), num_classes=10)
    """
    entry, arguments = resolve_arguments(name, overrides)
    model = entry.builder(**arguments)
    set_spec(model, entry.name, arguments)
    return model


def set_spec(model: keras.Model, architecture: str, arguments: dict[str, Any]) -> None:
    """Record which architecture and arguments built `model` (used by zoo.save)."""
    from zoo.saving import to_jsonable

    spec = {"architecture": architecture, "arguments": to_jsonable(arguments)}
    # A JSON string, so Keras's attribute tracking leaves it alone.
    object.__setattr__(model, _SPEC_ATTRIBUTE, json.dumps(spec))


def get_spec(model: keras.Model) -> dict[str, Any] | None:
    """Return ``{"architecture", "arguments"}`` for a model zoo built, else None."""
    spec = getattr(model, _SPEC_ATTRIBUTE, None)
    return json.loads(spec) if spec else None


def count_params(name: str, /, **overrides: Any) -> dict[str, int]:
    """Count the parameters of an architecture without allocating its weights.

    Returns:
        ``{"total": ..., "trainable": ...}``; ``trainable`` excludes batch-norm
        moving statistics, as PyTorch's parameter counts do.

    Example:
        >>> zoo.registry.count_params("resnet_50")["trainable"]
        25557032
    """
    entry, arguments = resolve_arguments(name, overrides)
    with variables_without_values():
        model = entry.builder(**arguments)
    total = sum(_size(w.shape) for w in model.weights)
    trainable = sum(_size(w.shape) for w in model.trainable_weights)
    return {"total": total, "trainable": trainable}


def _size(shape: tuple[int, ...]) -> int:
    size = 1
    for dim in shape:
        size *= int(dim)
    return size


def names() -> list[str]:
    """Every registered name, sorted."""
    _ensure_loaded()
    return sorted(_REGISTRY)


def list_architectures(pattern: str = "*") -> pd.DataFrame:
    """List registered architectures and presets as a table.

    Args:
        pattern: a shell-style wildcard on the name, for example ``"resnet_*"``.

    Returns:
        A DataFrame with one row per name: ``name``, ``family``, ``task``,
        ``params`` (trainable parameters of the default configuration) and
        ``description``.

    Example:
        >>> zoo.list_architectures("vgg_*")[["name", "params"]].head(2)
    """
    v.check_str("pattern", pattern)
    _ensure_loaded()
    rows = []
    for name in sorted(_REGISTRY, key=lambda n: (_REGISTRY[n].family, n)):
        if not fnmatch.fnmatchcase(name, pattern):
            continue
        entry = _REGISTRY[name]
        if name not in _PARAMS_CACHE:
            counts = count_params(name)
            _PARAMS_CACHE[name] = (counts["total"], counts["trainable"])
        rows.append(
            {
                "name": name,
                "family": entry.family,
                "task": entry.task,
                "params": _PARAMS_CACHE[name][1],
                "description": entry.description,
            }
        )
    columns = ["name", "family", "task", "params", "description"]
    return pd.DataFrame(rows, columns=columns).reset_index(drop=True)
