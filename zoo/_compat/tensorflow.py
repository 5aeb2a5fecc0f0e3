"""TensorFlow (seen in 2.21): workarounds of its bugs and its private APIs."""

from __future__ import annotations

from collections.abc import Callable


def is_default_strategy(strat) -> bool:
    """Whether `strat` is TensorFlow's default (no-op) strategy.

    Not a bug: the default strategy's class, ``_DefaultDistributionStrategy``, is
    private and has no public ``isinstance`` test.
    """
    return type(strat).__name__ == "_DefaultDistributionStrategy"


def release_traced_gradients() -> Callable[[], int]:
    """Start tracking TF's gradient registrations; call the result to drop them.

    Works around (TF 2.21 with Keras 3.15): every traced Keras 3 train step on the TF
    backend all-reduces its gradients through ``ReplicaContext.all_reduce``, whose
    ``custom_gradient`` registers a gradient function (``CustomGradient-N``) in
    TensorFlow's global registry (the private ``ops._gradient_registry``) and never
    removes it. The function holds the traced graph, so each model trained in a
    process keeps a few MB alive after ``clear_session()`` (4.3 MB per small MLP
    here). The gradient is built when the step is traced, so once training is over
    the registrations made during it are dead weight. Upstream: LINK_GRADIENT_REGISTRY.

    Returns:
        A function that removes the registrations made since this call and returns
        how many it removed (0 where TensorFlow's registry is not reachable).

    Example:
        >>> release = release_traced_gradients()
        >>> model.fit(...)  # traced here
        >>> release()
        2
    """
    registry = gradient_registry()
    if registry is None:
        return lambda: 0
    before = set(registry)

    def release() -> int:
        stale = [k for k in registry if k not in before and k.startswith("CustomGradient-")]
        for key in stale:
            registry.pop(key, None)
        return len(stale)

    return release


def gradient_registry() -> dict | None:
    """TensorFlow's private global gradient registry (a dict), or None if it moved."""
    try:
        from tensorflow.python.framework import ops

        registry = ops._gradient_registry._registry
    except (ImportError, AttributeError):  # a TF without the private registry
        return None
    return registry if isinstance(registry, dict) else None
