"""Keras Tuner (seen in 1.4.8): workarounds of its behaviour and its private APIs."""

from __future__ import annotations

import time
from typing import Any

IDLE_WAIT = 0.25  # seconds a worker waits before asking an IDLE oracle again


def wait_when_idle(oracle_client: Any, seconds: float = IDLE_WAIT) -> None:
    """Make a worker's oracle client pause when the oracle has no trial for it yet.

    Works around (Keras Tuner 1.4.8): a worker's search loop asks the chief for a new
    trial again at once when the oracle answers ``IDLE`` (every trial handed out,
    some still running), a busy loop that steals the running trials' CPU.
    Upstream: none found; minimal repro: a tuner whose ``oracle.create_trial``
    answers ``IDLE`` for 0.3 s is asked about 77,000 times in that time by
    ``Tuner.search`` (``keras_tuner/src/engine/base_tuner.py``, ``continue`` with no sleep).
    """
    create = oracle_client.create_trial

    def create_trial(tuner_id: str) -> Any:
        trial = create(tuner_id)
        if str(trial.status) == "IDLE":
            time.sleep(seconds)
        return trial

    oracle_client.create_trial = create_trial


def oracle_service():
    """Keras Tuner's gRPC oracle service: ``(protos, OracleServicer, exit_chief)``.

    Not a bug: Keras Tuner serves its oracle only from inside ``Tuner.search`` of a
    ``chief`` process, which polls every 20 s; zoo serves it from the calling process
    (a thread) and polls every half second, through these private modules
    (``keras_tuner.src.protos``, ``keras_tuner.src.distribute.oracle_chief``).
    """
    from keras_tuner.src import protos
    from keras_tuner.src.distribute.oracle_chief import OracleServicer, exit_chief

    return protos, OracleServicer, exit_chief


def save_oracle_after_last_trial(oracle: Any) -> None:
    """Save the oracle once more after its last trial ended.

    Works around (Keras Tuner 1.4.8): ``Oracle.end_trial`` saves ``oracle.json`` before
    it drops the ended trial from ``ongoing_trials``, so a reloaded search puts that
    finished trial in its retry queue and runs it again. Upstream: none found; minimal
    repro: end one trial of a ``RandomSearchOracle`` and read ``oracle.json``: its
    ``ongoing_trials`` still names it.
    """
    oracle.save()


def best_model(tuner: Any) -> Any:
    """The best trial's model, without Keras's warning about its optimizer slots.

    Cosmetic (Keras Tuner 1.4.8 with Keras 3.15): a trial checkpoint holds optimizer
    variables; Keras Tuner loads it into a freshly built model that the hypermodel has
    compiled but whose optimizer is not built yet, and Keras warns "Skipping variable
    loading for optimizer" on every call.
    """
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
        return tuner.get_best_models(1)[0]
