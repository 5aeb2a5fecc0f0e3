"""A search's trials as a table, written beside the search after every trial."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from zoo import _fs

SECONDS_FILE = "zoo_seconds.txt"


class RecycleWorker(Exception):
    """A worker process ran its share of trials and exits to return its memory."""


def write_trials(tuner: Any) -> pd.DataFrame:
    """Write ``trials.csv`` in the search folder (atomically); return the table."""
    table = trials_frame(tuner)
    _fs.write_text(Path(tuner.project_dir) / "trials.csv", table.to_csv(index=False))
    return table


def _seconds(tuner: Any, trial_id: str) -> float | None:
    path = Path(tuner.get_trial_dir(trial_id)) / SECONDS_FILE
    try:
        return float(path.read_text())
    except (OSError, ValueError):
        return None


def trials_frame(tuner: Any) -> pd.DataFrame:
    """A tuner's trials as a DataFrame (one row per trial, hyperparameters as columns)."""
    rows = []
    for trial_id, trial in sorted(tuner.oracle.trials.items(), key=lambda t: int(t[0])):
        message = (getattr(trial, "message", None) or "").strip().splitlines()
        rows.append(
            {
                "trial": int(trial_id),
                # Keras Tuner says INVALID for a trial that raised, FAILED for one that
                # reported failure (NaN loss); both are failed trials here.
                "status": "FAILED" if str(trial.status) == "INVALID" else str(trial.status),
                "score": trial.score,
                "best_epoch": None if trial.best_step is None else int(trial.best_step) + 1,
                "seconds": _seconds(tuner, trial_id),
                **{k: x for k, x in trial.hyperparameters.values.items()},
                "error": message[-1] if message and trial.status != "COMPLETED" else None,
            }
        )
    columns = ["trial", "status", "score", "best_epoch", "seconds"]
    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(columns=[*columns, "error"])
    ordered = columns + [c for c in frame.columns if c not in columns and c != "error"]
    return frame[[*ordered, "error"]]
