"""Plots of zoo's results: curves, confusion matrices, image grids.

Training curves (with fine-tuning stages), confusion matrices, learning-rate range
tests, tuning scores by trial, and image grids of samples and reconstructions.

Every function returns a matplotlib ``Figure`` built without pyplot's global state (so
plots render headless and in loops without leaking), which a notebook displays as the
cell's value; ``path=`` also writes it as a PNG (atomically: an interrupted write never
leaves a half-written file). ``zoo.train``, ``zoo.transfer.fine_tune`` and ``zoo.tune``
save theirs beside the model in ``saved_models/<name>/``.

Example:
    >>> result = zoo.train("convnet_tiny", "digits", epochs=3, save=False)
    >>> zoo.plots.training_curves(result, path="curves.png")
    >>> zoo.plots.confusion_matrix(result)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from zoo import _fs
from zoo import _validation as v

#: History columns that are bookkeeping, not curves.
_NOT_CURVES = ("epoch", "stage", "seconds", "lr", "learning_rate")
_STAGE_COLOURS = ("#f2f2f2", "#e3ecf7")


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    _show_in_notebooks(Figure)
    return Figure(figsize=(width, height), layout="constrained")


def _show_in_notebooks(figure_class: type) -> None:
    """Let IPython show a returned Figure as a PNG, pyplot imported or not.

    pyplot's inline backend registers this only once pyplot is imported, which zoo's
    plots never need.
    """
    try:
        from IPython import get_ipython
        from IPython.core.pylabtools import print_figure
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return
    formatter = shell.display_formatter.formatters["image/png"]
    if figure_class in formatter.type_printers:
        return
    formatter.for_type(figure_class, lambda figure: print_figure(figure, "png", bbox_inches=None))


def save(figure: Any, path: str | os.PathLike, *, dpi: int = 110) -> Path:
    """Write `figure` as a PNG at `path` atomically; returns the path.

    Example:
        >>> images = np.random.default_rng(0).random((8, 8, 8, 1))
        >>> zoo.plots.save(zoo.plots.image_grid(images), "samples.png")
        PosixPath('samples.png')
    """
    from matplotlib.figure import Figure

    if not isinstance(figure, Figure):
        raise v.invalid("figure", "a matplotlib Figure", type(figure).__name__, TypeError)
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise v.invalid("path", "a file name ending in .png", str(path))
    with _fs.atomic_file(path) as partial:
        figure.savefig(partial, format="png", dpi=dpi)
    return path


def _finish(figure: Any, path: str | os.PathLike | None) -> Any:
    if path is not None:
        save(figure, path)
    return figure


def _history(history: Any) -> pd.DataFrame:
    """A history table from a result, a Keras ``History``, a dict or a DataFrame."""
    if hasattr(history, "history") and not isinstance(history, dict):
        history = history.history  # TrainResult / FineTuneResult / keras History
    if isinstance(history, dict):
        history = pd.DataFrame(history)
    if not isinstance(history, pd.DataFrame):
        raise v.invalid(
            "history",
            "a training result, a keras History, a dict of lists or a DataFrame",
            type(history).__name__,
            TypeError,
        )
    if history.empty:
        raise v.invalid("history", "at least one epoch", "an empty table")
    return history


def curve_names(history: pd.DataFrame) -> list[str]:
    """The metrics a history has curves for, loss first (``val_`` merged into its metric)."""
    names = []
    for column in history.columns:
        base = column[4:] if column.startswith("val_") else column
        if base in _NOT_CURVES or base in names:
            continue
        if pd.api.types.is_numeric_dtype(history[column]):
            names.append(base)
    return sorted(names, key=lambda name: (name != "loss", not name.endswith("loss"), name))


def training_curves(
    history: Any,
    *,
    metrics: Sequence[str] | None = None,
    path: str | os.PathLike | None = None,
) -> Any:
    """One panel per metric, training and validation against epoch.

    A ``stage`` column (what :func:`zoo.transfer.fine_tune` records) shades each
    stage and marks where the next one starts.

    Args:
        history: a ``zoo.train``/``fine_tune`` result, a Keras ``History``, a dict of
            lists or a DataFrame with one row per epoch.
        metrics: the metrics to draw (default: all, loss first).
        path: also save the figure as this PNG.

    Returns:
        The matplotlib Figure.

    Example:
        >>> result = zoo.train("mlp_tiny", "digits", epochs=2, save=False, verbose=0)
        >>> figure = zoo.plots.training_curves(result, metrics=["loss", "accuracy"])
    """
    from matplotlib.ticker import MaxNLocator

    table = _history(history)
    available = curve_names(table)
    if metrics is None:
        names = available
    else:
        if isinstance(metrics, str):
            metrics = [metrics]
        names = list(metrics)
        for name in names:
            if name not in available:
                raise v.unknown_name("metric", name, available)
    if not names:
        raise v.invalid("history", "at least one numeric metric column", list(table.columns))
    epochs = table["epoch"] if "epoch" in table else pd.Series(range(1, len(table) + 1))
    columns = min(len(names), 3)
    rows = -(-len(names) // columns)
    figure = _figure(4.2 * columns, 3.0 * rows)
    axes = np.atleast_1d(figure.subplots(rows, columns, squeeze=False)).ravel()
    for ax, name in zip(axes, names, strict=False):
        _shade_stages(ax, table, epochs)
        for column, label, style, colour in (
            (name, "train", "-", "tab:blue"),
            (f"val_{name}", "validation", "--", "tab:orange"),
        ):
            if column in table:
                ax.plot(
                    epochs,
                    table[column],
                    style,
                    color=colour,
                    marker="o",
                    markersize=3,
                    label=label,
                )
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    for ax in axes[len(names) :]:
        ax.set_visible(False)
    return _finish(figure, path)


def _shade_stages(ax: Any, table: pd.DataFrame, epochs: pd.Series) -> None:
    if "stage" not in table or table["stage"].nunique() < 2:
        return
    stages = table["stage"].tolist()
    values = epochs.tolist()
    start = 0
    for index in range(1, len(stages) + 1):
        if index == len(stages) or stages[index] != stages[start]:
            left, right = values[start] - 0.5, values[index - 1] + 0.5
            colour = _STAGE_COLOURS[len(ax.patches) % len(_STAGE_COLOURS)]
            ax.axvspan(left, right, color=colour, zorder=0)
            ax.text(
                (left + right) / 2,
                0.98,
                stages[start],
                transform=ax.get_xaxis_transform(),
                ha="center",
                va="top",
                fontsize="small",
                color="0.35",
            )
            if start:
                ax.axvline(left, color="0.5", linestyle=":", linewidth=1)
            start = index


def confusion_matrix(
    confusion: Any,
    *,
    normalize: bool = False,
    path: str | os.PathLike | None = None,
) -> Any:
    """The confusion matrix as a heat map with counts (or row fractions) in each cell.

    Args:
        confusion: a result with a ``confusion`` table (``zoo.train``, ``zoo.evaluate``,
            ``fine_tune``), or a square DataFrame or array (rows: true class).
        normalize: show each row as fractions of its true class.
        path: also save the figure as this PNG.

    Example:
        >>> result = zoo.train("mlp_tiny", "digits", epochs=1, save=False, verbose=0)
        >>> figure = zoo.plots.confusion_matrix(result, normalize=True)
    """
    if hasattr(confusion, "confusion"):
        confusion = confusion.confusion
    if confusion is None:
        raise v.invalid(
            "confusion", "a classification result (this one has no confusion matrix)", None
        )
    if not isinstance(confusion, pd.DataFrame):
        confusion = pd.DataFrame(np.asarray(confusion))
    matrix = confusion.to_numpy(dtype="float64")
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or matrix.size == 0:
        raise v.invalid("confusion", "a non-empty square matrix", matrix.shape)
    v.check_bool("normalize", normalize)
    if normalize:
        totals = matrix.sum(axis=1, keepdims=True)
        matrix = np.divide(matrix, totals, out=np.zeros_like(matrix), where=totals > 0)
    k = len(matrix)
    size = min(2.5 + 0.45 * k, 12)
    figure = _figure(size + 1, size)
    ax = figure.subplots()
    image = ax.imshow(matrix, cmap="Blues", vmin=0)
    figure.colorbar(image, ax=ax, shrink=0.8)
    labels = [str(label) for label in confusion.index]
    ax.set_xticks(range(k), [str(label) for label in confusion.columns], rotation=45, ha="right")
    ax.set_yticks(range(k), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if k <= 30:
        high = matrix.max() or 1.0
        for (i, j), value in np.ndenumerate(matrix):
            text = f"{value:.2f}" if normalize else f"{value:.0f}"
            colour = "white" if value > high / 2 else "black"
            ax.text(j, i, text, ha="center", va="center", color=colour, fontsize="small")
    ax.set_title("confusion matrix" + (" (fraction of true class)" if normalize else ""))
    return _finish(figure, path)


def lr_find(
    result: Any,
    suggestion: float | None = None,
    *,
    path: str | os.PathLike | None = None,
) -> Any:
    """Smoothed loss against learning rate (log scale), with the suggested rate.

    Args:
        result: what :func:`zoo.transfer.lr_find` returns, or its table (``lr``,
            ``smoothed_loss`` or ``loss``).
        suggestion: the rate to mark (default: the result's suggestion).
        path: also save the figure as this PNG.

    Example:
        >>> model = zoo.build("mlp_tiny", input_shape=(8, 8, 1), num_classes=10)
        >>> figure = zoo.plots.lr_find(zoo.transfer.lr_find(model, "digits", steps=20))
    """
    table = result.table if hasattr(result, "table") else result
    if suggestion is None:
        suggestion = getattr(result, "suggestion", None)
    if not isinstance(table, pd.DataFrame) or "lr" not in table:
        raise v.invalid(
            "result", "an lr_find result or a table with an `lr` column", type(result).__name__
        )
    loss = "smoothed_loss" if "smoothed_loss" in table else "loss"
    figure = _figure(6, 4)
    ax = figure.subplots()
    ax.semilogx(table["lr"], table[loss], label=loss.replace("_", " "))
    if suggestion is not None:
        ax.axvline(suggestion, color="tab:red", linestyle="--", label=f"suggested {suggestion:.2e}")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("loss")
    ax.set_title("learning-rate range test")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    return _finish(figure, path)


def tuning(
    result: Any,
    *,
    objective: str | None = None,
    direction: str | None = None,
    path: str | os.PathLike | None = None,
) -> Any:
    """Score of each trial, the best so far, and failed trials marked.

    Args:
        result: what :func:`zoo.tune` returns, or its ``trials`` table (``trial``,
            ``status``, ``score``).
        objective: the axis label (default: the result's objective).
        direction: ``"min"`` or ``"max"`` (default: the result's, else ``"min"``).
        path: also save the figure as this PNG.

    Example:
        >>> result = zoo.tune("mlp_tiny", "digits", max_trials=2, epochs=1, verbose=0,
        ...                   save=False, overwrite=True)
        >>> figure = zoo.plots.tuning(result)
    """
    trials = result.trials if hasattr(result, "trials") else result
    if not isinstance(trials, pd.DataFrame) or not {"trial", "status", "score"} <= set(trials):
        raise v.invalid(
            "result",
            "a zoo.tune result or a table with trial, status and score columns",
            type(result).__name__,
        )
    objective = objective or getattr(result, "objective", "score")
    direction = direction or getattr(result, "direction", "min")
    direction = v.check_choice("direction", direction, ("min", "max"))
    done = trials[trials["status"] == "COMPLETED"].sort_values("trial")
    figure = _figure(6, 3.6)
    ax = figure.subplots()
    ax.scatter(done["trial"], done["score"], label="trial", color="tab:blue", zorder=3)
    best = done["score"].cummin() if direction == "min" else done["score"].cummax()
    ax.step(done["trial"], best, where="post", label="best so far", color="tab:orange")
    failed = trials[trials["status"] != "COMPLETED"]
    if len(failed):
        low = done["score"].min() if len(done) else 0.0
        ax.scatter(
            failed["trial"], [low] * len(failed), marker="x", color="tab:red", label="failed"
        )
    ax.set_xlabel("trial")
    ax.set_ylabel(objective)
    ax.set_title(f"search: {objective} ({direction})")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return _finish(figure, path)


def _images(images: Any, name: str) -> np.ndarray:
    try:
        import keras

        array = np.asarray(keras.ops.convert_to_numpy(images), dtype="float32")
    except (TypeError, ValueError):
        array = np.asarray(images, dtype="float32")
    if array.ndim == 4 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (3, 4) or (array.ndim == 4 and array.shape[-1] not in (3, 4)):
        raise v.invalid(
            name, "a batch of images shaped (n, height, width[, 1, 3 or 4])", array.shape
        )
    if not len(array):
        raise v.invalid(name, "at least one image", array.shape)
    return array


def _scale(array: np.ndarray, value_range: tuple[float, float] | None) -> np.ndarray:
    """Map pixels to [0, 1]: [-1, 1] (GANs, diffusion), [0, 255] or [0, 1] guessed."""
    if value_range is None:
        low, high = float(np.nanmin(array)), float(np.nanmax(array))
        value_range = (-1.0, 1.0) if low < -0.01 else (0.0, 255.0) if high > 1.5 else (0.0, 1.0)
    low, high = value_range
    if not high > low:
        raise v.invalid("value_range", "(low, high) with high > low", value_range)
    return np.clip((array - low) / (high - low), 0.0, 1.0)


def image_grid(
    images: Any,
    *,
    titles: Sequence[Any] | None = None,
    columns: int | None = None,
    value_range: tuple[float, float] | None = None,
    title: str | None = None,
    path: str | os.PathLike | None = None,
) -> Any:
    """A grid of images: samples from a generator, a batch of data, reconstructions.

    Args:
        images: an array or tensor shaped ``(n, height, width)`` or ``(n, height,
            width, channels)`` with 1, 3 or 4 channels.
        titles: one caption per image (labels, predictions).
        columns: images per row (default: up to 8).
        value_range: the pixels' ``(low, high)``; guessed as [-1, 1] when any is
            negative, [0, 255] when any exceeds 1.5, else [0, 1].
        title: the figure's title.
        path: also save the figure as this PNG.

    Example:
        >>> gan = zoo.build("dcgan_tiny")
        >>> figure = zoo.plots.image_grid(gan.generate(16, seed=0), columns=8)
    """
    array = _scale(_images(images, "images"), value_range)
    n = len(array)
    if titles is not None and len(titles) != n:
        raise v.invalid("titles", f"one caption per image ({n})", len(titles))
    columns = min(n, 8) if columns is None else v.check_int("columns", columns, minimum=1)
    rows = -(-n // columns)
    figure = _figure(
        1.3 * columns, 1.3 * rows + (0.4 if title else 0) + (0.2 * rows if titles else 0)
    )
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for index, ax in enumerate(axes):
        ax.axis("off")
        if index < n:
            ax.imshow(array[index], cmap="gray" if array.ndim == 3 else None, vmin=0, vmax=1)
            if titles is not None:
                ax.set_title(str(titles[index]), fontsize="small")
    if title:
        figure.suptitle(title)
    return _finish(figure, path)


def reconstructions(
    originals: Any,
    reconstructed: Any,
    *,
    n: int = 8,
    value_range: tuple[float, float] | None = None,
    path: str | os.PathLike | None = None,
) -> Any:
    """Originals (top row) over their reconstructions (bottom row).

    Args:
        originals: the input images.
        reconstructed: the model's outputs for them (same shape).
        n: how many pairs to show.
        value_range: as for :func:`image_grid` (guessed from the originals).
        path: also save the figure as this PNG.

    Example:
        >>> vae = zoo.build("vae_tiny")
        >>> images = np.random.default_rng(0).random((8, 8, 8, 1)).astype("float32")
        >>> figure = zoo.plots.reconstructions(images, vae.reconstruct(images))
    """
    first = _images(originals, "originals")
    second = _images(reconstructed, "reconstructed")
    if first.shape[1:] != second.shape[1:]:
        raise v.invalid(
            "reconstructed", f"images shaped like the originals {first.shape[1:]}", second.shape
        )
    n = min(v.check_int("n", n, minimum=1), len(first), len(second))
    if value_range is None:
        low = float(min(first.min(), second.min()))
        high = float(max(first.max(), second.max()))
        value_range = (-1.0, 1.0) if low < -0.01 else (0.0, 255.0) if high > 1.5 else (0.0, 1.0)
    pairs = np.concatenate([first[:n], second[:n]])
    titles = ["original"] + [""] * (n - 1) + ["reconstructed"] + [""] * (n - 1)
    return image_grid(pairs, titles=titles, columns=n, value_range=value_range, path=path)


def save_beside(
    folder: str | os.PathLike,
    *,
    history: Any = None,
    confusion: Any = None,
    search: Any = None,
) -> list[Path]:
    """Save a run's standard plots into `folder`; what ``train``/``fine_tune``/``tune`` call.

    Writes ``curves.png`` (training curves), ``confusion.png`` (classification) and
    ``tuning.png`` (a search) for what is given. A plot that fails to render warns
    instead of failing the run whose model is already saved.

    Returns:
        The paths written.
    """
    import warnings

    folder = Path(folder)
    jobs = [
        ("curves.png", training_curves, history),
        ("confusion.png", confusion_matrix, confusion),
        ("tuning.png", tuning, search),
    ]
    written = []
    for name, draw, value in jobs:
        if value is None:
            continue
        try:
            draw(value, path=folder / name)
            written.append(folder / name)
        except Exception as error:  # a plot never costs the saved run
            warnings.warn(f"zoo could not save {folder / name}: {error}", stacklevel=2)
    return written
