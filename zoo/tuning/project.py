"""A search belongs to its data and space: the record kept in its project folder.

Keras Tuner resumes whatever it finds in a project folder, whether or not the call
that finds it searches the same space on the same data; a changed space or data then
fails deep inside a reload (``KeyError: '(256, 128)'``, ``variable.shape=(5, 256)``)
or, worse, mixes two searches in one table. So zoo names a search's folder after its
architecture and data (``mlp-1a2b3c4d``: the first 8 hex digits of
``Data.fingerprint``), and writes ``zoo_search.json`` in it when the search starts:
the architecture, the algorithm, the task, the objective and its direction, the
search space in a stable JSON form, and the data's fingerprint, splits (sizes and
seed), source, task, input shape and number of classes. A later call on that folder
is compared with the record before any trial, before the tuner is built:

- the same: the search resumes;
- different: a ``ValueError`` says what differs (there vs here) and how to go on
  (``overwrite=True``, or another ``project_name``);
- a folder with Keras Tuner's state but no record (made by an older zoo, or by Keras
  Tuner alone) cannot be checked, so it is refused with the same advice;
- a folder with a record but no trial yet (a call that stopped before its first trial)
  takes the new call's record: there is nothing to mix.
"""

from __future__ import annotations

import hashlib
import json
import numbers
import re
import shutil
from pathlib import Path
from typing import Any

from zoo import _fs
from zoo import _validation as v
from zoo._json import to_jsonable

RECORD = "zoo_search.json"
FORMAT = 1
_ADVICE = (
    "pass overwrite=True (zoo tune --overwrite) to start that search afresh, or another "
    "project_name (--project-name) to keep it"
)
_COMPARED = ("architecture", "algorithm", "task", "objective", "space", "data")
_ARGUMENT = {
    "architecture": "name_or_builder",
    "algorithm": "algorithm",
    "task": "task",
    "objective": "objective",
    "space": "space",
    "data": "data",
}
_DATA_KEYS = ("fingerprint", "splits", "task", "input_shape", "num_classes")


def short_fingerprint(fingerprint: Any) -> str:
    """8 hex digits for a data fingerprint: its start if it is hex, else a hash of it.

    Example:
        >>> short_fingerprint("1a2b3c4d5e6f7081")
        '1a2b3c4d'
    """
    text = str(fingerprint)
    if re.fullmatch(r"[0-9a-f]{8,}", text):
        return text[:8]
    return hashlib.sha256(text.encode()).hexdigest()[:8]  # "tfds:mnist:3.0.1"


def default_name(base: str, data: Any) -> str:
    """A search's default folder name: ``<architecture>-<8 hex digits of the data>``."""
    return f"{base}-{short_fingerprint(data.fingerprint)}"


def check_name(project_name: Any) -> str:
    """Check a project name: one folder name (no separators, not ``.`` or ``..``)."""
    v.check_str("project_name", project_name)
    if re.search(r"[/\\]", project_name) or project_name.strip() in (".", ".."):
        raise v.invalid(
            "project_name", "a folder name (no '/' or '\\', not '.' or '..')", project_name
        )
    return project_name


def stable(value: Any) -> Any:
    """A space value in a stable JSON form (keys sorted; tuples by their repr).

    Choices of tuples are shown by their repr, as Keras Tuner sees them; Keras objects
    by their config; functions by their qualified name.

    Example:
        >>> stable({"units": [(8,), (16, 8)], "dropout": {"min": 0.0, "max": 0.5}})
        {'dropout': {'max': 0.5, 'min': 0.0}, 'units': ['(8,)', '(16, 8)']}
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return to_jsonable(value)
    if isinstance(value, dict):
        return {str(k): stable(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list):
        return [stable(x) for x in value]
    if hasattr(value, "get_config"):
        return to_jsonable(value)
    if callable(value) and hasattr(value, "__qualname__"):
        return f"{getattr(value, '__module__', '')}.{value.__qualname__}"
    return re.sub(r" at 0x[0-9a-fA-F]+", "", repr(value))  # tuples, other objects


def record(
    *,
    architecture: str,
    algorithm: str,
    task: str,
    objective: str,
    direction: str,
    space: dict[str, Any],
    data: Any,
) -> dict[str, Any]:
    """What a search belongs to, as written in its ``zoo_search.json``."""
    from zoo._version import __version__

    return {
        "format": FORMAT,
        "zoo_version": __version__,
        "architecture": architecture,
        "algorithm": algorithm,
        "task": task,
        "objective": {"name": objective, "direction": direction},
        "space": stable(space),
        "data": {
            "source": str(data.source),
            "fingerprint": str(data.fingerprint),
            "task": data.task,
            "input_shape": [None if d is None else int(d) for d in data.input_shape],
            "num_classes": None if data.num_classes is None else int(data.num_classes),
            "splits": _splits(data),
        },
    }


def _splits(data: Any) -> dict[str, Any]:
    """How the data was split: the split sizes and seed (same content, other splits: differs)."""
    options = getattr(data, "options", None)
    sizes = {k: None if n is None else int(n) for k, n in (data.sizes or {}).items()}
    return {"sizes": sizes, "seed": getattr(options, "seed", None)}


def has_search(folder: Path) -> bool:
    """Whether `folder` holds a Keras Tuner search (its state, a trial or zoo's table)."""
    if not folder.is_dir():
        return False
    names = [p.name for p in folder.iterdir()]
    return any(
        name in ("oracle.json", "trials.csv")
        or (name.startswith("tuner") and name.endswith(".json"))
        or name.startswith("trial_")
        for name in names
    )


def claim(folder: str | Path, new: dict[str, Any], *, overwrite: bool) -> None:
    """Make `folder` the search `new` describes, or refuse if it holds another search.

    With `overwrite`, the folder is emptied first. Otherwise an existing record must
    match `new` (architecture, algorithm, task, objective, space, data); a folder with
    Keras Tuner's state and no record is refused (it cannot be checked). The record is
    written (atomically) when the folder holds no search yet.

    Raises:
        ValueError: the folder holds a different search, or one without a record.
    """
    folder = Path(folder)
    if overwrite and folder.exists():
        shutil.rmtree(folder)
    path = folder / RECORD
    searched = has_search(folder)
    if path.is_file():
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(old, dict):
                raise ValueError("not a JSON object")
        except (OSError, ValueError) as error:
            if searched:
                raise v.invalid(
                    "project_name",
                    f"a search whose record can be read to resume it: {path} cannot "
                    f"({error}); {_ADVICE}",
                    folder.name,
                ) from None
            old = None
        if old is not None:
            differences = _differences(old, new)
            if not differences:
                return
            if searched:
                argument, received = _blame(differences[0][0], old, new)
                described = "; ".join(text for _, text in differences)
                raise v.invalid(
                    argument,
                    f"what the search in {folder} was started with, to resume it "
                    f"({described}); {_ADVICE}",
                    received,
                )
    elif searched:
        raise v.invalid(
            "project_name",
            f"a search zoo can check before resuming it: {folder} holds a Keras Tuner "
            f"search without zoo's record of its data and space ({RECORD}; made by an "
            f"older zoo?), so resuming it could mix two searches; {_ADVICE}",
            folder.name,
        )
    _fs.write_text(path, json.dumps(new, indent=2, sort_keys=True) + "\n")


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _short(value: Any, limit: int = 80) -> str:
    text = value if isinstance(value, str) else _canonical(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _data_difference(before: dict[str, Any], after: dict[str, Any]) -> str:
    parts = []
    for key in _DATA_KEYS:
        old, new = before.get(key), after.get(key)
        if _canonical(old) != _canonical(new):
            if key == "input_shape":
                old, new = (None if x is None else tuple(x) for x in (old, new))
            parts.append(f"{key} {old} there, {new} here")
    return "data " + ", ".join(parts)


def _differences(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, str]]:
    """(key, 'what: old there, new here') for each recorded key that differs."""
    found = []
    for key in _COMPARED:
        before, after = old.get(key), new.get(key)
        if key == "data":
            before = before if isinstance(before, dict) else {}
            if all(_canonical(before.get(k)) == _canonical(after.get(k)) for k in _DATA_KEYS):
                continue
            text = _data_difference(before, after)
        elif _canonical(before) == _canonical(after):
            continue
        elif key == "objective":
            before = before if isinstance(before, dict) else {}
            text = (
                f"objective {before.get('name')} ({before.get('direction')}) there, "
                f"{after['name']} ({after['direction']}) here"
            )
        elif key == "space":
            text = _space_difference(before if isinstance(before, dict) else {}, after)
        else:
            text = f"{key} {before!r} there, {after!r} here"
        found.append((key, text))
    return found


def _space_difference(before: dict[str, Any], after: dict[str, Any], most: int = 3) -> str:
    names = [
        name
        for name in sorted({*before, *after})
        if name not in before
        or name not in after
        or _canonical(before[name]) != _canonical(after[name])
    ]
    parts = []
    for name in names[:most]:
        old = _short(before[name]) if name in before else "absent"
        new = _short(after[name]) if name in after else "absent"
        parts.append(f"space[{name!r}] {old} there, {new} here")
    if len(names) > most:
        parts.append(f"and {len(names) - most} more")
    return ", ".join(parts)


def _blame(key: str, old: dict[str, Any], new: dict[str, Any]) -> tuple[str, Any]:
    """The argument to name in the error for a difference in `key`, and its new value."""
    if key == "data":
        return "data", {k: new["data"][k] for k in ("source", *_DATA_KEYS)}
    if key == "space":
        before = old.get("space") if isinstance(old.get("space"), dict) else {}
        after = new["space"]
        return "space", {  # the names that differ; None for a dropped one, as in `space`
            name: after.get(name)
            for name in sorted({*before, *after})
            if name not in before
            or name not in after
            or _canonical(before[name]) != _canonical(after[name])
        }
    if key == "objective":
        before = old.get("objective")
        if isinstance(before, dict) and before.get("name") == new["objective"]["name"]:
            return "direction", new["objective"]["direction"]
        return "objective", new["objective"]["name"]
    return _ARGUMENT[key], new[key]
