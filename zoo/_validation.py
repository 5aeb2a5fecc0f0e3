"""Shared argument checks, so that every error in zoo reads the same way.

Each check raises ``TypeError`` (wrong kind of value) or ``ValueError`` (right kind,
wrong value) with a message that says what must hold, the allowed values where there
is a short list, and ends with ``Received: name=value``. Checks return the value
normalised (tuples instead of lists, ints instead of numpy ints), so builders can use
the result directly.
"""

from __future__ import annotations

import difflib
import numbers
from collections.abc import Iterable, Sequence
from typing import Any


class UserError(Exception):
    """Base of every error zoo raises for something the user can fix.

    The command line prints these as one line with exit code 2 (the traceback only
    with ``--debug``); anything else is a bug in zoo or upstream and keeps its traceback.
    """


class ArgumentValueError(UserError, ValueError):
    """An argument has the right type but a value zoo cannot use."""


class ArgumentTypeError(UserError, TypeError):
    """An argument has a type zoo cannot use."""


class DamagedFileError(UserError, ValueError):
    """A file zoo reads (a saved model, its card, an image, a table) is damaged or lies.

    The message names the file, what is wrong with it and what to do.
    """


class ResourceLimitError(UserError, MemoryError):
    """Work that would not fit in the memory (or other resource) available."""


_ERRORS = {ValueError: ArgumentValueError, TypeError: ArgumentTypeError}


def _received(name: str, value: Any) -> str:
    return f"Received: {name}={value!r}"


def invalid(name: str, requirement: str, value: Any, error=ValueError) -> Exception:
    """Return (not raise) an error saying `name` must satisfy `requirement`.

    Example:
        >>> raise invalid("units", "a positive integer", -1)
        Traceback (most recent call last):
        ValueError: `units` must be a positive integer. Received: units=-1
    """
    error = _ERRORS.get(error, error)
    return error(f"`{name}` must be {requirement}. {_received(name, value)}")


def unknown_name(kind: str, name: Any, choices: Iterable[str], hint: str = "") -> Exception:
    """Return a ValueError for an unknown `name`, listing close matches.

    Example:
        >>> raise unknown_name("architecture", "resnet50", ["resnet_50", "resnet_18"])
        Traceback (most recent call last):
        ValueError: Unknown architecture 'resnet50'. Did you mean: 'resnet_50', ...
    """
    choices = sorted(choices)
    close = difflib.get_close_matches(str(name), choices, n=5, cutoff=0.5)
    message = f"Unknown {kind} {name!r}."
    if close:
        message += " Did you mean: " + ", ".join(repr(c) for c in close) + "?"
    elif len(choices) <= 12:
        message += " Allowed: " + ", ".join(repr(c) for c in choices) + "."
    if hint:
        message += f" {hint}"
    return ArgumentValueError(f"{message} {_received(kind, name)}")


def check_bool(name: str, value: Any) -> bool:
    """Check that `value` is a bool."""
    if not isinstance(value, bool):
        raise invalid(name, "True or False", value, TypeError)
    return value


def check_int(
    name: str,
    value: Any,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    allow_none: bool = False,
) -> int | None:
    """Check that `value` is an integer (not a bool) within the given bounds."""
    if value is None and allow_none:
        return None
    kind = "an integer" + (" or None" if allow_none else "")
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise invalid(name, kind, value, TypeError)
    value = int(value)
    if minimum is not None and value < minimum:
        requirement = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise invalid(name, requirement, value)
    if maximum is not None and value > maximum:
        raise invalid(name, f"an integer <= {maximum}", value)
    return value


def check_float(
    name: str,
    value: Any,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    exclusive_maximum: bool = False,
) -> float:
    """Check that `value` is a real number within the given bounds."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise invalid(name, "a number", value, TypeError)
    value = float(value)
    if value != value:  # NaN
        raise invalid(name, "a number, not NaN", value)
    low_ok = minimum is None or value >= minimum
    high_ok = maximum is None or (value < maximum if exclusive_maximum else value <= maximum)
    if not (low_ok and high_ok):
        low = "" if minimum is None else f"{minimum} <= "
        high = "" if maximum is None else (" < " if exclusive_maximum else " <= ") + f"{maximum}"
        raise invalid(name, f"a number with {low}{name}{high}", value)
    return value


def check_rate(name: str, value: Any) -> float:
    """Check a dropout-style rate in [0, 1)."""
    return check_float(name, value, minimum=0.0, maximum=1.0, exclusive_maximum=True)


def check_choice(name: str, value: Any, choices: Sequence[Any]) -> Any:
    """Check that `value` is one of `choices`."""
    if not any(type(value) is type(c) and value == c for c in choices):
        allowed = ", ".join(repr(c) for c in choices)
        raise invalid(name, f"one of {allowed}", value)
    return value


def check_str(name: str, value: Any, *, allow_none: bool = False) -> str | None:
    """Check that `value` is a non-empty string."""
    if value is None and allow_none:
        return None
    if not isinstance(value, str) or not value.strip():
        raise invalid(name, "a non-empty string", value, TypeError)
    return value


def check_int_sequence(
    name: str,
    value: Any,
    *,
    minimum: int = 1,
    min_length: int = 1,
    length: int | None = None,
) -> tuple[int, ...]:
    """Check a list/tuple of integers (for example units or filters per layer).

    A single integer is accepted and treated as a one-element sequence.
    """
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value,)
    if not isinstance(value, (list, tuple)):
        raise invalid(name, "a list or tuple of integers", value, TypeError)
    if length is not None and len(value) != length:
        raise invalid(name, f"a sequence of exactly {length} integers", value)
    if len(value) < min_length:
        raise invalid(name, f"a sequence of at least {min_length} integer(s)", value)
    for item in value:
        if isinstance(item, bool) or not isinstance(item, numbers.Integral):
            raise invalid(name, "a list or tuple of integers", value, TypeError)
        if item < minimum:
            raise invalid(name, f"a sequence of integers >= {minimum}", value)
    return tuple(int(v) for v in value)


def check_same_length(names: Sequence[str], values: Sequence[Sequence[Any]]) -> None:
    """Check that several per-stage sequences have the same length."""
    lengths = [len(v) for v in values]
    if len(set(lengths)) > 1:
        joined = " and ".join(f"`{n}`" for n in names)
        received = ", ".join(f"{n}={tuple(v)!r}" for n, v in zip(names, values, strict=True))
        raise ArgumentValueError(
            f"{joined} must have the same length (one entry per stage). Received: {received}"
        )


def check_shape(
    name: str,
    value: Any,
    *,
    ndim: int | Sequence[int],
    allow_none: Sequence[int] = (),
) -> tuple[int | None, ...]:
    """Check an input shape (without the batch axis).

    Args:
        name: argument name for the error message.
        value: the shape to check.
        ndim: the allowed number of dimensions (or a sequence of allowed numbers).
        allow_none: positions that may be ``None`` (variable length).
    """
    allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    what = " or ".join(str(n) for n in allowed)
    requirement = f"a tuple of {what} positive integers (without the batch axis)"
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value,)
    if not isinstance(value, (list, tuple)):
        raise invalid(name, requirement, value, TypeError)
    if len(value) not in allowed:
        raise invalid(name, requirement, value)
    shape = []
    for i, dim in enumerate(value):
        if dim is None:
            if i not in allow_none:
                raise invalid(name, requirement + " (None only for variable length)", value)
            shape.append(None)
            continue
        if isinstance(dim, bool) or not isinstance(dim, numbers.Integral):
            raise invalid(name, requirement, value, TypeError)
        if dim < 1:
            raise invalid(name, requirement, value)
        shape.append(int(dim))
    return tuple(shape)


def check_min_spatial(
    input_shape: tuple[int | None, ...],
    minimum: int,
    reason: str,
    *,
    name: str = "input_shape",
) -> None:
    """Check that the spatial (height, width) dims are at least `minimum`."""
    spatial = [d for d in input_shape[:-1] if d is not None]
    if any(d < minimum for d in spatial):
        raise invalid(
            name,
            f"at least {minimum} pixels in height and width ({reason})",
            tuple(input_shape),
        )


def _activation_names() -> list[str]:
    import keras  # lazily: the CLI checks names without loading Keras

    return sorted(
        n
        for n in dir(keras.activations)
        if not n.startswith("_") and n not in {"get", "serialize", "deserialize"}
    )


def check_activation(name: str, value: Any, *, allow_none: bool = False) -> Any:
    """Check an activation: a name Keras knows, or a callable."""
    import keras  # lazily: the CLI checks names without loading Keras

    if value is None and allow_none:
        return None
    if callable(value):
        return value
    if not isinstance(value, str):
        raise invalid(name, "an activation name or a callable", value, TypeError)
    try:
        keras.activations.get(value)
    except (ValueError, TypeError):
        choices = _activation_names()
        close = difflib.get_close_matches(value, choices, n=3)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise ArgumentValueError(
            f"`{name}` must be a Keras activation name such as 'relu', 'gelu', "
            f"'tanh' or 'softmax'.{hint} {_received(name, value)}"
        ) from None
    return value


def check_initializer(name: str, value: Any) -> Any:
    """Check a kernel initializer: a name Keras knows, or an Initializer."""
    import keras  # lazily: the CLI checks names without loading Keras

    if isinstance(value, keras.initializers.Initializer):
        return value
    if not isinstance(value, str):
        raise invalid(
            name,
            "an initializer name or a keras.initializers.Initializer",
            value,
            TypeError,
        )
    try:
        keras.initializers.get(value)
    except (ValueError, TypeError):
        raise invalid(
            name,
            "a Keras initializer name such as 'glorot_uniform', 'he_normal' or 'zeros'",
            value,
        ) from None
    return value


def check_regularizer(name: str, value: Any) -> Any:
    """Check a kernel regularizer and return a Keras regularizer (or None).

    Accepts None, a float (L2 weight decay factor), 'l1', 'l2', 'l1_l2', or a
    keras.regularizers.Regularizer.
    """
    import keras  # lazily: the CLI checks names without loading Keras

    if value is None or isinstance(value, keras.regularizers.Regularizer):
        return value
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        factor = check_float(name, value, minimum=0.0)
        return keras.regularizers.L2(factor) if factor > 0 else None
    if isinstance(value, str) and value in ("l1", "l2", "l1_l2"):
        return keras.regularizers.get(value)
    raise invalid(
        name,
        "None, a float (L2 factor), 'l1', 'l2', 'l1_l2' or a keras.regularizers.Regularizer",
        value,
        TypeError if not isinstance(value, str) else ValueError,
    )


def check_dtype(name: str, value: Any) -> Any:
    """Check a dtype policy name (for example 'float32' or 'mixed_float16') or None."""
    import keras  # lazily: the CLI checks names without loading Keras

    if value is None or isinstance(value, keras.DTypePolicy):
        return value
    if not isinstance(value, str):
        raise invalid(name, "None, a dtype policy name or a keras.DTypePolicy", value, TypeError)
    try:
        keras.DTypePolicy(value)
    except (ValueError, TypeError):
        raise invalid(
            name,
            "a floating dtype policy such as 'float32', 'bfloat16', 'mixed_float16' "
            "or 'mixed_bfloat16'",
            value,
        ) from None
    policy = keras.DTypePolicy(value)
    if "float" not in policy.variable_dtype:
        raise invalid(name, "a floating dtype policy", value)
    return value


def check_name(name: str, value: Any) -> str:
    """Check a model or layer name (non-empty, no path separators)."""
    check_str(name, value)
    if "/" in value or "\\" in value:
        raise invalid(name, "a name without path separators", value)
    return value


def check_num_classes(value: Any) -> int | None:
    """Check `num_classes`: a positive integer, or None for a headless model."""
    return check_int("num_classes", value, minimum=1, allow_none=True)


def check_callbacks(value: Any) -> list[Any]:
    """Check `callbacks`: None or a list of ``keras.callbacks.Callback``."""
    import keras  # lazily: the CLI checks names without loading Keras

    if value is not None and not (
        isinstance(value, (list, tuple))
        and all(isinstance(c, keras.callbacks.Callback) for c in value)
    ):
        raise invalid("callbacks", "a list of keras.callbacks.Callback", value, TypeError)
    return list(value or [])


def check_verbose(value: Any) -> int:
    """Check a Keras `verbose`: 0, 1, 2 or ``"auto"`` (a bar in a terminal, else 2)."""
    import sys

    if value == "auto":
        value = 1 if sys.stdout.isatty() else 2
    return check_choice("verbose", value, (0, 1, 2))


def check_kwargs(kind: str, kwargs: dict[str, Any], allowed: Iterable[str]) -> None:
    """Check that every keyword argument is one a builder accepts."""
    allowed = sorted(allowed)
    for key in kwargs:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=3, cutoff=0.6)
            hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
            raise ArgumentTypeError(
                f"Unknown argument {key!r} for {kind}.{hint} Accepted arguments: "
                f"{', '.join(allowed)}. Received: {key}={kwargs[key]!r}"
            )


def require_tensorflow_backend(what: str, name: str, value: Any) -> None:
    """Refuse `what` (a TensorFlow-only feature) on another Keras backend, saying why.

    Example:
        >>> require_tensorflow_backend("TFLite export", "format", "tflite")  # on TF: passes
    """
    import keras

    backend = keras.backend.backend()
    if backend != "tensorflow":
        raise ArgumentValueError(
            f"{what} needs Keras's TensorFlow backend (it runs TensorFlow graphs), but this "
            f"process runs Keras on {backend!r}: start Python with KERAS_BACKEND=tensorflow "
            f"for it, or choose what works on every backend. {_received(name, value)}"
        )
