"""The catalogue's store: its rows, how families register them, and name lookups.

Family modules (:mod:`zoo.architectures`) register their builders and presets here
with :func:`register` (pretrained rows with :func:`register_entry`); nothing here
imports a family. :mod:`zoo.registry` loads every family and answers questions about
the whole table (``build``, ``list_architectures``, ``count_params``); the lookups
here (:func:`find`, :func:`canonical_name`, :func:`get_entry`) see the rows that are
registered so far, all of them once :mod:`zoo.registry` has been used.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import warnings
from collections.abc import Callable
from typing import Any

import keras

from zoo import _validation as v
from zoo._json import to_jsonable

_SPEC_ATTRIBUTE = "_zoo_spec"

SOURCES = ("zoo", "keras.applications", "keras-hub", "tfhub", "checkpoint")
"""Where a row's network (and its weights) comes from."""

COLUMNS = [
    "name",
    "family",
    "task",
    "params",
    "source",
    "weights",
    "offline",
    "layout",
    "aliases",
    "description",
]
"""The columns of :func:`list_architectures`."""


@dataclasses.dataclass(frozen=True)
class Preset:
    """A named configuration of a builder.

    Args:
        description: one line shown by ``zoo.list_architectures()``.
        arguments: keyword arguments passed to the builder.
        task: the task column of the table; defaults to the builder's task.
        layout: which variant of a published network this is, where it matters (for
            example ``"v1.5, stride on the 3x3 (torchvision)"``); shown in the table.
    """

    description: str
    arguments: dict[str, Any] = dataclasses.field(default_factory=dict)
    task: str | None = None
    layout: str | None = None


@dataclasses.dataclass(frozen=True)
class Entry:
    """One row of the catalogue: a builder plus the arguments of a preset.

    Attributes:
        name: the row's name (``architecture`` or ``architecture.tag``).
        family: the network family (``"resnet"``, ``"mobilenet"``, ``"bert"``, ...).
        task: what the model does, for example ``"image classification"``.
        description: one line for the table.
        builder: the function that builds it (keyword arguments only).
        arguments: the preset's arguments for the builder.
        search_space: the default hyperparameter space of ``zoo.tune``.
        source: one of :data:`SOURCES`.
        weights: the pretrained weights the row has (``"imagenet"``, a keras-hub preset,
            a TF Hub handle, a checkpoint), or None.
        layout: which variant of a published network this is, where it matters.
        aliases: old names of this row, accepted with a ``DeprecationWarning``.
        count_arguments: arguments used only to count parameters (for example
            ``weights=None``, so counting never loads or downloads anything).
        counter: for rows that cannot be counted by building them offline, a function
            returning ``{"total", "trainable"}`` or None where unknown.
        on_disk: whether the row's weights are on disk now (None: no weights needed).
    """

    name: str
    family: str
    task: str
    description: str
    builder: Callable[..., keras.Model]
    arguments: dict[str, Any]
    search_space: dict[str, Any] = dataclasses.field(default_factory=dict)
    source: str = "zoo"
    weights: str | None = None
    layout: str | None = None
    aliases: tuple[str, ...] = ()
    count_arguments: dict[str, Any] = dataclasses.field(default_factory=dict)
    counter: Callable[[], dict[str, int] | None] | None = None
    on_disk: Callable[[], bool] | None = None

    @property
    def parameters(self) -> list[str]:
        """The keyword arguments the builder accepts."""
        return list(inspect.signature(self.builder).parameters)

    @property
    def architecture(self) -> str:
        """The name without its tag: ``resnet_50`` for ``resnet_50.keras_in1k``."""
        return self.name.partition(".")[0]

    @property
    def tag(self) -> str | None:
        """The tag (``keras_in1k``), or None for an untagged name."""
        return self.name.partition(".")[2] or None

    @property
    def offline(self) -> bool:
        """Whether the row builds without a download now (its weights are on disk)."""
        return True if self.on_disk is None else bool(self.on_disk())


_REGISTRY: dict[str, Entry] = {}
_ALIASES: dict[str, str] = {}  # deprecated old name -> row
_DEFAULTS: dict[str, str] = {}  # architecture -> its first registered tagged row


def register_entry(entry: Entry) -> Entry:
    """Add one row (and its deprecated aliases) to the catalogue.

    Raises:
        ValueError: a name or alias that is already taken, an unknown source, or a
            name with more than one ``.``.
        TypeError: preset arguments the builder does not accept.

    Example:
        >>> register_entry(Entry("tiny.mine", "mlp", "classification", "An MLP.",  # doctest: +SKIP
        ...                      build_mine, {}, source="checkpoint"))
    """
    _check_new(entry)
    _REGISTRY[entry.name] = entry
    for alias in entry.aliases:
        _ALIASES[alias] = entry.name
    if entry.tag is not None:
        _DEFAULTS.setdefault(entry.architecture, entry.name)
    return entry


def _check_new(entry: Entry) -> None:
    for name in (entry.name, *entry.aliases):
        if name in _REGISTRY or name in _ALIASES:
            owner = _REGISTRY.get(name) or _REGISTRY[_ALIASES[name]]
            raise v.ArgumentValueError(
                f"Architecture name {name!r} is already registered by "
                f"{getattr(owner.builder, '__module__', '?')}; names must be unique. "
                f"Received: name={name!r}"
            )
    if entry.name.count(".") > 1 or entry.name.startswith(".") or entry.name.endswith("."):
        raise v.invalid("name", "'architecture' or 'architecture.tag'", entry.name)
    v.check_choice("source", entry.source, SOURCES)
    unknown = set(entry.arguments) - set(entry.parameters)
    if unknown:
        raise v.ArgumentTypeError(
            f"Preset {entry.name!r} passes arguments that "
            f"{getattr(entry.builder, '__name__', entry.builder)} does not accept. "
            f"Received: {sorted(unknown)}"
        )


def register(
    name: str,
    *,
    task: str,
    description: str,
    presets: dict[str, Preset] | None = None,
    family: str | None = None,
    search_space: dict[str, Any] | None = None,
    layout: str | None = None,
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
        layout: which variant of a published network the default configuration is.

    Raises:
        ValueError: if a name is already registered.

    Example:
        >>> @register("tiny_mlp", task="classification", description="An MLP.")  # doctest: +SKIP
        ... def tiny_mlp(input_shape=(4,), num_classes=2, name="tiny_mlp"): ...
    """

    def decorator(builder: Callable[..., keras.Model]) -> Callable[..., keras.Model]:
        fam = family or builder.__module__.rsplit(".", 1)[-1]
        space = dict(search_space or {})
        entries = [Entry(name, fam, task, description, builder, {}, space, layout=layout)]
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
                    layout=preset.layout,
                )
            )
        for entry in entries:  # all checked before any is added
            _check_new(entry)
        if len({entry.name for entry in entries}) != len(entries):
            raise v.invalid("presets", "names different from the builder's", sorted(presets))
        for entry in entries:
            register_entry(entry)
        return builder

    return decorator


# ------------------------------------------------------------------------------ names


def _warn_renamed(old: str, new: str) -> None:
    """A DeprecationWarning attributed to the first caller outside zoo."""
    frame = inspect.currentframe()
    level = 1
    while frame is not None and frame.f_globals.get("__name__", "").partition(".")[0] == "zoo":
        frame = frame.f_back
        level += 1
    del frame
    warnings.warn(
        f"The name {old!r} is deprecated and will be removed in the next release: "
        f"use {new!r} (see zoo.list_architectures()).",
        DeprecationWarning,
        stacklevel=level,
    )


def find(name: Any, *, warn: bool = True) -> str | None:
    """The row a name means, or None.

    That is the row itself, a bare architecture's default tag, or the new name of a
    deprecated alias (with a ``DeprecationWarning`` when `warn`).

    Example:
        >>> zoo.registry.find("mobilenet_v3_small")
        'mobilenet_v3_small.keras_in1k'
    """
    if not isinstance(name, str):
        return None
    if name in _REGISTRY:
        return name
    if name in _ALIASES:
        if warn:
            _warn_renamed(name, _ALIASES[name])
        return _ALIASES[name]
    return _DEFAULTS.get(name)


def canonical_name(name: Any, *, warn: bool = True) -> str:
    """The row a name means (see :func:`find`), with close matches if there is none.

    Raises:
        ValueError: for an unknown name (with close matches).
        TypeError: for a name that is not a string.

    Example:
        >>> zoo.registry.canonical_name("resnet50")  # DeprecationWarning
        'resnet_50.keras_in1k'
    """
    if not isinstance(name, str):
        raise v.invalid("name", "an architecture name (a string)", name, TypeError)
    row = find(name, warn=warn)
    if row is None:
        raise v.unknown_name(
            "architecture",
            name,
            [*_REGISTRY, *(bare for bare in _DEFAULTS if bare not in _REGISTRY)],
            hint="See zoo.list_architectures() (or `zoo list`) for every name.",
        )
    return row


def aliases() -> dict[str, str]:
    """Every other accepted name and the row it means.

    Those are bare architectures (their default tag) and deprecated old names.

    Example:
        >>> zoo.registry.aliases()["resnet50"]
        'resnet_50.keras_in1k'
    """
    bare = {name: row for name, row in _DEFAULTS.items() if name not in _REGISTRY}
    return {**bare, **_ALIASES}


def is_deprecated(name: str) -> bool:
    """Whether `name` is a deprecated alias (accepted for one more release)."""
    return name in _ALIASES and name not in _REGISTRY


def get_entry(name: str) -> Entry:
    """Return the catalogue entry for any accepted name, with close matches if unknown."""
    return _REGISTRY[canonical_name(name)]


def set_spec(model: keras.Model, architecture: str, arguments: dict[str, Any]) -> None:
    """Record which architecture and arguments built `model` (used by zoo.save).

    `architecture` is stored as given: loading an old card whose architecture is a
    pseudo-name such as ``transfer:resnet50`` keeps working.
    """
    spec = {"architecture": architecture, "arguments": to_jsonable(arguments)}
    # A JSON string, so Keras's attribute tracking leaves it alone.
    object.__setattr__(model, _SPEC_ATTRIBUTE, json.dumps(spec))


def get_spec(model: keras.Model) -> dict[str, Any] | None:
    """Return ``{"architecture", "arguments"}`` for a model zoo built, else None."""
    spec = getattr(model, _SPEC_ATTRIBUTE, None)
    return json.loads(spec) if spec else None


# ----------------------------------------------------------------------------- counting
