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
    Upstream: LINK_IDLE_WAIT.
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
