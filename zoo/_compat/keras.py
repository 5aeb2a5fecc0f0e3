"""Keras 3 (seen in 3.15): private APIs zoo needs and workarounds of its bugs."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def variables_without_values() -> Iterator[None]:
    """Create variables with shapes but no values (cheap parameter counting).

    Not a bug: Keras has no public way to build a model without allocating its
    weights. Inside ``keras.StatelessScope(initialize_variables=False)`` variables are
    deferred; the deferred ones are then dropped from Keras's private pending list
    (``keras.src.backend.common.global_state``) so that a later scope does not
    allocate them. Where the private module moved, models are built for real.
    """
    import keras

    try:
        from keras.src.backend.common import global_state
    except ImportError:  # pragma: no cover - private module moved: build for real
        yield
        return
    key = "uninitialized_variables"
    before = list(global_state.get_global_attribute(key, []) or [])
    try:
        with keras.StatelessScope(initialize_variables=False):
            yield
    finally:
        global_state.set_global_attribute(key, before)
