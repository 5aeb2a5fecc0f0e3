"""Distributed search on one machine: Keras Tuner's chief and workers, supervised.

``run(spec, workers)`` starts a chief process (the oracle, serving on 127.0.0.1) and
``workers`` worker processes, each running ``zoo.tune`` with the same arguments
(``python -m zoo.tuning.workers SPEC``) under Keras Tuner's environment variables
(``KERASTUNER_TUNER_ID``, ``KERASTUNER_ORACLE_IP``, ``KERASTUNER_ORACLE_PORT``). The
supervisor restarts a worker that dies under the same tuner id (the oracle hands it
its unfinished trial again), restarts a worker that exits after its share of trials
(``trials_per_process``, which bounds memory), and stops everything once the chief
has seen every worker finish. On a cluster, set those three variables on each node
and run the same ``zoo tune`` command there instead (no ``--workers``).

``serve(tuner)`` is the chief: Keras Tuner's own oracle service, polled every half
second rather than every 20 s, writing ``trials.csv`` as trials end.
"""

from __future__ import annotations

import ast
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from zoo import _validation as v
from zoo.distribute import _free_ports, _stop_processes, _stream

RECYCLE_CODE = 75  # a worker that ran its share of trials (EX_TEMPFAIL)
MAX_RESTARTS = 3


def _wait_for_port(port: int, chief: subprocess.Popen, seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if chief.poll() is not None:
            raise RuntimeError(f"zoo tune: the chief exited with code {chief.returncode}")
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"zoo tune: the chief did not serve on port {port} in {seconds:.0f} s")


def run(spec: dict[str, Any], workers: int) -> None:
    """Run a search as a chief and `workers` supervised worker processes.

    Raises:
        RuntimeError: when the chief fails or a worker keeps dying.
    """
    workers = v.check_int("workers", workers, minimum=1)
    folder = Path(spec["directory"]) / spec["project_name"]
    folder.mkdir(parents=True, exist_ok=True)
    spec_file = folder / "zoo_search.txt"
    spec_file.write_text(repr(spec))
    port = _free_ports(1)[0]
    threads = str(max(1, (os.cpu_count() or 1) // workers))  # share the cores, not fight
    base = {
        "TF_NUM_INTRAOP_THREADS": threads,
        "TF_NUM_INTEROP_THREADS": "1" if workers > 1 else threads,
        **os.environ,
        "KERASTUNER_ORACLE_IP": "127.0.0.1",
        "KERASTUNER_ORACLE_PORT": str(port),
        "PYTHONUNBUFFERED": "1",
    }

    def start(tuner_id: str) -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, "-m", "zoo.tuning.workers", str(spec_file)],
            env={**base, "KERASTUNER_TUNER_ID": tuner_id},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        _stream(process, f"[{tuner_id}] ")
        return process

    chief = start("chief")
    running: dict[str, subprocess.Popen] = {}
    try:
        _wait_for_port(port, chief)
        running = {f"tuner{i}": start(f"tuner{i}") for i in range(workers)}
        restarts = dict.fromkeys(running, 0)
        while chief.poll() is None:
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
            time.sleep(0.2)
        if chief.returncode != 0:
            raise RuntimeError(f"zoo tune: the chief exited with code {chief.returncode}")
    finally:
        _stop_processes([chief, *running.values()], grace=10.0)


def serve(tuner: Any, poll: float = 0.5) -> None:
    """Serve the tuner's oracle to the workers until the search is done."""
    from concurrent import futures

    import grpc
    from keras_tuner.src import protos
    from keras_tuner.src.distribute.oracle_chief import OracleServicer, exit_chief

    from zoo.tuning.search import write_trials

    tuner.save()
    tuner.oracle.verbose = 0  # the workers report their trials
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    servicer = OracleServicer(tuner.oracle)
    protos.get_service_grpc().add_OracleServicer_to_server(servicer, server)
    address = f"{os.environ['KERASTUNER_ORACLE_IP']}:{os.environ['KERASTUNER_ORACLE_PORT']}"
    server.add_insecure_port(address)
    server.start()
    ended = -1
    try:
        while True:
            time.sleep(poll)
            finished = sum(
                str(t.status) not in ("RUNNING", "IDLE") for t in tuner.oracle.trials.values()
            )
            if finished != ended:
                ended = finished
                write_trials(tuner)
            if servicer.stop_triggered and exit_chief(tuner.oracle):
                break
    finally:
        # Keras Tuner saves the oracle before it drops an ended trial from the
        # ongoing ones; save again so that a reload does not run the last trial twice.
        tuner.oracle.save()
        write_trials(tuner)
        server.stop(grace=1.0)


def main(argv: list[str] | None = None) -> int:
    """A chief or worker process: ``python -m zoo.tuning.workers SPEC_FILE``."""
    from zoo.tuning.search import RecycleWorker, tune

    argv = sys.argv[1:] if argv is None else argv
    spec = ast.literal_eval(Path(argv[0]).read_text())
    name, data = spec.pop("name_or_builder"), spec.pop("data")
    try:
        tune(name, data, save=False, **spec)
    except RecycleWorker:
        return RECYCLE_CODE
    return 0


if __name__ == "__main__":
    sys.exit(main())
