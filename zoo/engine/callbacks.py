"""The standard callbacks of a zoo training run, and resumption after a kill.

:class:`Resume` replaces ``keras.callbacks.BackupAndRestore`` so that one mechanism
serves every strategy: the chief writes the weights and optimizer state after each
epoch (atomically, through :mod:`zoo._fs`), and every worker restores from them
before training, which then starts at the next epoch (``initial_epoch``). Keras's
callback writes on every worker and is not multi-worker aware.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import keras

from zoo import _fs, distribute
from zoo._compat.keras import without_distribution

STATE_FILE = "state.json"


class EpochTimer(keras.callbacks.Callback):
    """Records the wall time of each epoch (``seconds``)."""

    def __init__(self):
        super().__init__()
        self.seconds: list[float] = []
        self._start = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(round(time.perf_counter() - self._start, 3))


class Resume(keras.callbacks.Callback):
    """Save the training state after every epoch; restore it before training.

    Args:
        folder: where the state lives (one ``epoch-N.weights.h5`` and ``state.json``).
        write: whether this process writes it (the chief); other workers only read.

    Example:
        >>> model = zoo.build("mlp_tiny")
        >>> model.compile("adam", "sparse_categorical_crossentropy")
        >>> resume = Resume("run/backup")
        >>> start = resume.restore(model)  # 0 for a fresh run, else the next epoch
        >>> history = model.fit(np.zeros((8, 8)), np.zeros(8), epochs=2, verbose=0,
        ...                     initial_epoch=start, callbacks=[resume])
        >>> resume.state()["epoch"]
        2
    """

    def __init__(self, folder: str | Path, *, write: bool = True):
        super().__init__()
        self.folder = Path(folder)
        self.write = write

    def state(self) -> dict[str, Any] | None:
        """The last saved ``{"epoch", "weights"}``, or None."""
        try:
            state = json.loads((self.folder / STATE_FILE).read_text())
        except (OSError, ValueError):
            return None
        return state if (self.folder / state.get("weights", "")).is_file() else None

    def restore(self, model: keras.Model) -> int:
        """Load the saved weights and optimizer state into `model`; the epoch to start at."""
        state = self.state()
        if state is None:
            return 0
        optimizer = getattr(model, "optimizer", None)
        if optimizer is not None and not optimizer.built:
            with distribute.strategy_of(model).scope():
                optimizer.build(model.trainable_variables)  # so its saved state loads
        model.load_weights(self.folder / state["weights"])
        return int(state["epoch"])

    def on_epoch_end(self, epoch, logs=None):
        if not self.write:
            return
        name = f"epoch-{epoch + 1}.weights.h5"
        with _fs.atomic_file(self.folder / name) as partial, without_distribution():
            self.model.save_weights(partial)
        _fs.write_text(self.folder / STATE_FILE, json.dumps({"epoch": epoch + 1, "weights": name}))
        for old in self.folder.glob("epoch-*.weights.h5"):
            if old.name != name:
                old.unlink(missing_ok=True)

    def clear(self) -> None:
        """Forget the saved state (a finished or restarted run)."""
        if self.write:
            shutil.rmtree(self.folder, ignore_errors=True)


class _ChiefCheckpoint(keras.callbacks.ModelCheckpoint):
    """``ModelCheckpoint`` whose saves run outside a multi-process JAX distribution."""

    def on_epoch_end(self, epoch, logs=None):  # saves once an epoch (save_freq="epoch")
        with without_distribution():
            super().on_epoch_end(epoch, logs)


def standard_callbacks(
    run_dir: str | Path | None,
    *,
    monitor: str,
    has_loss: bool,
    early_stopping: int | None,
    chief: bool = True,
    checkpoint: bool = True,
    tensorboard: bool = True,
) -> list[keras.callbacks.Callback]:
    """The callbacks of one fit: TerminateOnNaN, TensorBoard, best checkpoint, early stop.

    Args:
        run_dir: the run's folder (logs, ``best.weights.h5``); None writes nothing.
        monitor: the metric to select on (``val_loss``, or ``loss`` without validation).
        has_loss: whether the model reports one ``loss`` (a GAN reports two: its last
            epoch is kept and it never stops early).
        early_stopping: patience in epochs (best weights restored); None or 0: off.
        chief: only the chief writes logs and checkpoints.
        checkpoint: keep the best epoch's weights in ``run_dir/best.weights.h5``.
        tensorboard: write TensorBoard logs in ``run_dir/logs``.
    """
    used: list[keras.callbacks.Callback] = [keras.callbacks.TerminateOnNaN()]
    if run_dir is not None and chief:
        run_dir = Path(run_dir)
        if tensorboard:
            used.append(keras.callbacks.TensorBoard(log_dir=str(run_dir / "logs")))
        if checkpoint:
            used.append(
                _ChiefCheckpoint(
                    str(run_dir / "best.weights.h5"),
                    monitor=monitor,
                    save_best_only=has_loss,
                    save_weights_only=True,
                )
            )
    if early_stopping and has_loss:
        used.append(
            keras.callbacks.EarlyStopping(
                monitor=monitor, patience=early_stopping, restore_best_weights=True
            )
        )
    return used
