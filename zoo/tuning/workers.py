"""Distributed search on one machine: Keras Tuner's oracle served to supervised workers.

``run(tuner, spec, workers)`` serves the tuner's oracle (Keras Tuner's gRPC service,
on 127.0.0.1) from a thread of the calling process and starts ``workers`` worker
processes, each running ``zoo.tune`` with the same arguments (``python -m
zoo.tuning.worker SPEC``; the project name and directory the chief settled, so every
process checks and uses the chief's folder) under Keras Tuner's environment variables
(``KERASTUNER_TUNER_ID``, ``KERASTUNER_ORACLE_IP``, ``KERASTUNER_ORACLE_PORT``). The
supervisor restarts a worker that dies under the same tuner id (the oracle hands it
its unfinished trial again) and a worker that exits after its share of trials
(``trials_per_process``), and returns once the oracle has seen every worker finish.
Each worker runs under a guard (:class:`zoo._processes.GuardedProcess`) that ends it
within seconds once the supervising process is gone, even after ``kill -9``.
Serving from the caller saves a process start (TensorFlow's import) and the reload of
the finished search. On a cluster, set those three variables on each node (the chief
with ``KERASTUNER_TUNER_ID=chief``) and run the same ``zoo tune`` command there
instead (no ``--workers``; the same data gives every node the same default project
name, ``<architecture>-<data fingerprint>``): the chief then runs :func:`serve`.

``serve(tuner)`` is the chief: Keras Tuner's own oracle service, polled every half
second rather than every 20 s, writing ``trials.csv`` as trials end.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

from zoo import _fs
from zoo import _validation as v
from zoo._compat.keras_tuner import oracle_service, save_oracle_after_last_trial
from zoo._processes import GuardedProcess, free_ports, stop_processes, stream_output
from zoo.tuning.trials import write_trials

RECYCLE_CODE = 75  # a worker that ran its share of trials (EX_TEMPFAIL)
MAX_RESTARTS = 3


def run(tuner: Any, spec: dict[str, Any], workers: int) -> None:
    """Serve `tuner`'s oracle from this process to `workers` supervised worker processes.

    Returns when the search is done; `tuner`'s oracle then holds every trial.

    Raises:
        RuntimeError: when serving fails or a worker keeps dying.
    """
    workers = v.check_int("workers", workers, minimum=1)
    folder = Path(spec["directory"]) / spec["project_name"]
    folder.mkdir(parents=True, exist_ok=True)
    spec_file = _fs.write_text(folder / "zoo_workers.txt", repr(spec))
    tuner.tuner_id = "chief"  # as a cluster's chief: the workers are tuner0, tuner1, ...
    port = free_ports(1)[0]
    stop, ready, failure = threading.Event(), threading.Event(), []

    def chief() -> None:
        try:
            serve(tuner, address=f"127.0.0.1:{port}", stop=stop, ready=ready)
        except BaseException as error:  # handed to the supervising thread
            failure.append(error)
            ready.set()

    server = threading.Thread(target=chief, name="zoo-tune-chief", daemon=True)
    server.start()
    ready.wait()
    if failure:
        raise RuntimeError(f"zoo tune: could not serve the oracle: {failure[0]}") from failure[0]
    threads = str(max(1, (os.cpu_count() or 1) // workers))  # share the cores, not fight
    base = {
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "TF_NUM_INTRAOP_THREADS": threads,
        "TF_NUM_INTEROP_THREADS": "1" if workers > 1 else threads,
        **os.environ,
        "KERASTUNER_ORACLE_IP": "127.0.0.1",
        "KERASTUNER_ORACLE_PORT": str(port),
        "PYTHONUNBUFFERED": "1",
    }

    def start(tuner_id: str) -> GuardedProcess:
        # Under a guard: the worker ends within seconds of this process, however it ends.
        process = GuardedProcess(
            [sys.executable, "-m", "zoo.tuning.worker", str(spec_file)],
            env={**base, "KERASTUNER_TUNER_ID": tuner_id},
        )
        stream_output(process, f"[{tuner_id}] ")
        return process

    running: dict[str, GuardedProcess] = {}
    try:
        running = {f"tuner{i}": start(f"tuner{i}") for i in range(workers)}
        restarts = dict.fromkeys(running, 0)
        while server.is_alive():
            for tuner_id, process in list(running.items()):
                code = process.poll()
                if code is None or code == 0:
                    continue
                if code != RECYCLE_CODE:
                    restarts[tuner_id] += 1
                    if restarts[tuner_id] > MAX_RESTARTS:
                        raise RuntimeError(
                            f"zoo tune: worker {tuner_id} failed {restarts[tuner_id]} times "
                            f"(last exit code {code}); see its output above"
                        )
                    print(
                        f"zoo tune: worker {tuner_id} exited with code {code}; restarting it "
                        "under the same tuner id (its trial runs again)",
                        flush=True,
                    )
                running[tuner_id] = start(tuner_id)
            server.join(timeout=0.2)
        if failure:
            raise RuntimeError(f"zoo tune: serving the oracle failed: {failure[0]}") from failure[0]
    finally:
        stop.set()
        stop_processes(list(running.values()), grace=10.0)
        server.join(timeout=30.0)


def serve(
    tuner: Any,
    poll: float = 0.5,
    *,
    address: str | None = None,
    stop: threading.Event | None = None,
    ready: threading.Event | None = None,
) -> None:
    """Serve the tuner's oracle to the workers until the search is done (or `stop`).

    `address` defaults to ``$KERASTUNER_ORACLE_IP:$KERASTUNER_ORACLE_PORT`` (a
    cluster's chief); `ready` is set once the server listens.
    """
    from concurrent import futures

    import grpc

    protos, OracleServicer, exit_chief = oracle_service()
    tuner.save()
    verbose, tuner.oracle.verbose = tuner.oracle.verbose, 0  # the workers report trials
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    servicer = OracleServicer(tuner.oracle)
    protos.get_service_grpc().add_OracleServicer_to_server(servicer, server)
    if address is None:
        address = f"{os.environ['KERASTUNER_ORACLE_IP']}:{os.environ['KERASTUNER_ORACLE_PORT']}"
    if not server.add_insecure_port(address):
        raise RuntimeError(f"zoo tune: cannot listen on {address}")
    server.start()
    if ready is not None:
        ready.set()
    ended = -1
    try:
        while not (stop is not None and stop.is_set()):
            time.sleep(poll)
            finished = sum(
                str(t.status) not in ("RUNNING", "IDLE") for t in tuner.oracle.trials.values()
            )
            if finished != ended:
                ended = finished
                write_trials(tuner)
                if tuner.zoo_mirror is not None:
                    tuner.zoo_mirror.push()
            if servicer.stop_triggered and exit_chief(tuner.oracle):
                break
    finally:
        server.stop(grace=1.0)
        save_oracle_after_last_trial(tuner.oracle)
        tuner.oracle.verbose = verbose
        write_trials(tuner)
        if tuner.zoo_mirror is not None:
            tuner.zoo_mirror.push()
