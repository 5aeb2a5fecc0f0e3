"""Search spaces as plain dicts, turned into Keras Tuner hyperparameters.

A space maps an argument name to one of:

- a **list**: a choice among its values (``[(64,), (128, 64)]``, ``["relu", "gelu"]``);
  values that are not plain numbers, strings or booleans (tuples, None) are shown to
  Keras Tuner by their ``repr`` and handed back to the builder as they were;
- a **dict** with ``min`` and ``max``: a range, with optional ``step`` and
  ``sampling`` (``"linear"``, ``"log"`` or ``"reverse_log"``); integer bounds give
  integers, otherwise floats;
- anything else: a fixed value (a tuple is a fixed value, never a choice);
- ``None`` in an override: drop that name from the default space.

Names in :data:`FIT_KEYS` tune the training rather than the model: ``learning_rate``,
``batch_size``, ``optimizer``, ``schedule`` (``"constant"`` or ``"cosine"``) and
``epochs`` (not with Hyperband, which schedules epochs itself).

Example:
    >>> space = {"units": [(64,), (128, 64)], "dropout": {"min": 0.0, "max": 0.5,
    ...          "step": 0.1}, "learning_rate": {"min": 1e-4, "max": 1e-2,
    ...          "sampling": "log"}}
"""

from __future__ import annotations

import difflib
from typing import Any

import pandas as pd

from zoo import _validation as v

FIT_KEYS = ("learning_rate", "batch_size", "optimizer", "schedule", "epochs")
OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
SCHEDULES = ("constant", "cosine")
SAMPLINGS = ("linear", "log", "reverse_log")
_PLAIN = (bool, int, float, str)


def merge(default: dict[str, Any], override: dict[str, Any] | None) -> dict[str, Any]:
    """The default space with ``override``'s names replaced, added or (None) dropped."""
    if override is None:
        return dict(default)
    if not isinstance(override, dict):
        raise v.invalid("space", "a dict of argument name -> values", override, TypeError)
    merged = dict(default)
    for key, value in override.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def check(space: dict[str, Any], accepted: list[str], *, hyperband: bool = False) -> None:
    """Check every name and value of a space; raise saying what must hold.

    Args:
        space: the space.
        accepted: the builder's argument names (fit names are always accepted).
        hyperband: whether the algorithm schedules epochs itself.
    """
    known = [*accepted, *FIT_KEYS]
    for key, value in space.items():
        if not isinstance(key, str) or key not in known:
            close = difflib.get_close_matches(str(key), known, n=3)
            hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
            raise v.ArgumentValueError(
                f"Unknown search space name {key!r}: names are the builder's arguments "
                f"or {', '.join(FIT_KEYS)}.{hint} Received: space key {key!r}"
            )
        if key in ("num_classes", "input_shape", "name", "dtype"):
            raise v.invalid(f"space[{key!r}]", "left to zoo (it follows the data)", value)
        if key == "epochs" and hyperband:
            raise v.invalid(
                "space['epochs']", "absent with algorithm='hyperband' (it sets epochs)", value
            )
        _check_value(key, value)


def _check_value(key: str, value: Any) -> None:
    where = f"space[{key!r}]"
    if isinstance(value, list):
        if not value:
            raise v.invalid(where, "a non-empty list of choices", value)
        labels = [_label(x) for x in value]
        if len(set(labels)) != len(labels):
            raise v.invalid(where, "a list of distinct choices", value)
        for choice in value:
            _check_fit_value(key, choice)
        return
    if isinstance(value, dict):
        extra = set(value) - {"min", "max", "step", "sampling"}
        if extra or "min" not in value or "max" not in value:
            raise v.invalid(
                where, "a range dict with 'min' and 'max' (and optional 'step', 'sampling')", value
            )
        low, high = value["min"], value["max"]
        numbers = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (low, high))
        if not numbers or low >= high:
            raise v.invalid(where, "a range with numeric min < max", value)
        sampling = value.get("sampling", "linear")
        v.check_choice(f"{where}['sampling']", sampling, SAMPLINGS)
        if sampling != "linear" and low <= 0:
            raise v.invalid(where, f"a range with min > 0 for {sampling} sampling", value)
        step = value.get("step")
        if step is not None and (
            not isinstance(step, (int, float)) or isinstance(step, bool) or step <= 0
        ):
            raise v.invalid(f"{where}['step']", "a positive number", step)
        if key in ("optimizer", "schedule"):
            raise v.invalid(where, "a list of names, not a range", value)
        return
    _check_fit_value(key, value)


def _check_fit_value(key: str, value: Any) -> None:
    if key == "optimizer":
        v.check_choice("space['optimizer']", value, OPTIMIZERS)
    elif key == "schedule":
        v.check_choice("space['schedule']", value, SCHEDULES)
    elif key in ("batch_size", "epochs"):
        v.check_int(f"space[{key!r}]", value, minimum=1)
    elif key == "learning_rate":
        v.check_float("space['learning_rate']", value, minimum=0.0)


def _label(value: Any) -> Any:
    return value if isinstance(value, _PLAIN) else repr(value)


def _same_plain_type(values: list[Any]) -> bool:
    kinds = {type(x) for x in values}
    return len(kinds) == 1 and kinds.pop() in _PLAIN


def sample(hp: Any, space: dict[str, Any]) -> dict[str, Any]:
    """Declare the space on a Keras Tuner ``hp`` and return this trial's values."""
    values: dict[str, Any] = {}
    for key, value in space.items():
        if isinstance(value, list):
            if all(isinstance(x, bool) for x in value) and len(value) == 2:
                values[key] = bool(hp.Boolean(key))
            elif _same_plain_type(value):
                got = hp.Choice(key, value)
                values[key] = next((x for x in value if x == got), got)  # plain Python type
            else:
                by_label = {repr(x): x for x in value}
                values[key] = by_label[hp.Choice(key, list(by_label))]
        elif isinstance(value, dict):
            low, high = value["min"], value["max"]
            step = value.get("step")
            sampling = value.get("sampling", "linear")
            integer = all(isinstance(x, int) for x in (low, high)) and (
                step is None or isinstance(step, int)
            )
            if integer:
                values[key] = int(hp.Int(key, low, high, step=step, sampling=sampling))
            else:
                values[key] = float(
                    hp.Float(key, float(low), float(high), step=step, sampling=sampling)
                )
        elif isinstance(value, _PLAIN):
            values[key] = hp.Fixed(key, value)
        else:
            values[key] = value  # a fixed tuple or object: passed through
    return values


def decode(space: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """Keras Tuner's values with choice labels turned back into the space's values."""
    decoded = dict(values)
    for key, value in space.items():
        if isinstance(value, list) and key in decoded:
            decoded[key] = next((x for x in value if _label(x) == decoded[key]), decoded[key])
    return decoded


def describe(space: dict[str, Any]) -> pd.DataFrame:
    """One row per name: kind (choice, int, float, fixed), values or range, sampling."""
    rows = []
    for key, value in space.items():
        if isinstance(value, list):
            row = {"kind": "choice", "values": [_label(x) for x in value], "sampling": None}
        elif isinstance(value, dict):
            integer = all(isinstance(value[k], int) for k in ("min", "max"))
            row = {
                "kind": "int" if integer else "float",
                "values": f"[{value['min']}, {value['max']}]"
                + (f" step {value['step']}" if value.get("step") else ""),
                "sampling": value.get("sampling", "linear"),
            }
        else:
            row = {"kind": "fixed", "values": _label(value), "sampling": None}
        rows.append({"name": key, "fit": key in FIT_KEYS, **row})
    return pd.DataFrame(rows, columns=["name", "fit", "kind", "values", "sampling"])
