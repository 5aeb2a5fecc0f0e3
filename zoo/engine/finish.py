"""The end of a run: history tables, and the saved model with its card and plots."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import keras
import pandas as pd

from zoo import _fs, distribute, plots, saving


def history_frame(
    history: dict[str, list[float]],
    epochs: list[int],
    seconds: list[float] | None = None,
    *,
    stage: str | None = None,
) -> pd.DataFrame:
    """Keras's history as a table: ``epoch`` (1-based), [``stage``], metrics, ``seconds``."""
    frame = pd.DataFrame(history)
    frame.insert(0, "epoch", [e + 1 for e in epochs][: len(frame)])
    if stage is not None:
        frame.insert(1, "stage", stage)
    if seconds is not None and len(seconds) == len(frame):
        frame["seconds"] = seconds
    return frame


def finish(
    model: keras.Model,
    output: str | os.PathLike,
    *,
    history: pd.DataFrame | None = None,
    confusion: pd.DataFrame | None = None,
    tuning: Any = None,
    tables: dict[str, pd.DataFrame] | None = None,
    **card: Any,
) -> Path | None:
    """Save `model` with its card, ``history.csv`` and plots; None on a non-chief worker.

    Args:
        model: the trained model.
        output: a name under ``saved_models/`` or a folder.
        history: the per-epoch table (written as ``history.csv`` and ``curves.png``).
        confusion: a confusion matrix (``confusion.png``).
        tuning: a ``TuneResult`` (``tuning.png``).
        tables: more tables to write beside the model, ``{"trials.csv": frame}``.
        **card: entries of the card (``data``, ``metrics``, ``training``, ...).
    """
    if not distribute.is_chief():
        return None
    path = saving.save(model, output, **card)
    for name, table in {
        **({"history.csv": history} if history is not None else {}),
        **(tables or {}),
    }.items():
        _fs.write_text(path / name, table.to_csv(index=False))
    plots.save_beside(path, history=history, confusion=confusion, search=tuning)
    return path
