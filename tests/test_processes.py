"""Processes never outlive their supervisor: guards, launcher deaths, peer failures."""

import json
import os
import queue
import signal
import subprocess
import sys
import textwrap
import threading
import time

import psutil
import pytest

from zoo import _processes, distribute
from zoo._validation import ArgumentTypeError, ArgumentValueError

LINUX = sys.platform.startswith("linux")
ZOO = [sys.executable, "-m", "zoo.cli"]

# A worker that starts a grandchild in its group, prints both pids, and sleeps.
SLEEPER = textwrap.dedent(
    """
    import os, subprocess, sys, time
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    print("PIDS", os.getpid(), child.pid, flush=True)
    time.sleep(120)
    """
)


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _wait_gone(pids, seconds=10.0):
    """Seconds until every pid is gone; fails after `seconds`."""
    start = time.monotonic()
    while any(_alive(pid) for pid in pids):
        assert time.monotonic() - start < seconds, [p for p in pids if _alive(p)]
        time.sleep(0.05)
    return time.monotonic() - start


def _lines(stream):
    """A queue filled with `stream`'s lines by a daemon thread (None at the end)."""
    lines = queue.Queue()

    def read():
        for line in stream:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    return lines


def _pids_from(lines, count, seconds=60.0):
    """The pids of the first `count` ``PIDS`` lines (as ``[worker i] PIDS a b``)."""
    pids, seen, deadline = [], [], time.monotonic() + seconds
    while len(pids) < 2 * count:
        line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        assert line is not None, "".join(seen)
        seen.append(line)
        if "PIDS" in line:
            pids += [int(x) for x in line.split("PIDS", 1)[1].split()]
    return pids


def test_guard_passes_the_exit_status_and_output_on():
    code = "import os, sys; print('out'); print('err', file=sys.stderr); sys.exit(3)"
    process = _processes.GuardedProcess([sys.executable, "-c", code])
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 3
    assert sorted(output.split()) == ["err", "out"]
    killed = _processes.GuardedProcess(
        [sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"]
    )
    killed.communicate(timeout=30)
    assert killed.returncode == -signal.SIGKILL  # the guard dies of the worker's signal
    assert _processes.describe_exit(killed.returncode) == "was killed by SIGKILL (signal 9)"
    assert _processes.shell_status(killed.returncode) == 137


def test_guard_says_in_one_line_when_the_program_is_missing(tmp_path):
    process = _processes.GuardedProcess([str(tmp_path / "no-such-program")])
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 127
    assert output.strip().splitlines() == [
        f"zoo: cannot run {str(tmp_path / 'no-such-program')!r}: No such file or directory"
    ]


def test_stop_processes_ends_the_worker_and_what_it_started():
    process = _processes.GuardedProcess([sys.executable, "-c", SLEEPER])
    pids = _pids_from(_lines(process.stdout), 1)
    _processes.stop_processes([process], grace=5.0)
    assert process.returncode == -signal.SIGTERM
    _wait_gone(pids)


@pytest.mark.skipif(not LINUX, reason="PR_SET_PDEATHSIG is Linux's")
def test_a_guard_killed_alone_takes_its_worker_with_it():
    process = _processes.GuardedProcess([sys.executable, "-c", SLEEPER])
    worker, grandchild = _pids_from(_lines(process.stdout), 1)
    os.kill(process.pid, signal.SIGKILL)  # the guard only, not its group
    process.wait(timeout=30)
    _wait_gone([worker])
    os.kill(grandchild, signal.SIGKILL)  # out of PDEATHSIG's reach; the group kill's
    _wait_gone([grandchild])


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_workers_die_within_seconds_of_a_killed_launcher(how):
    launcher = subprocess.Popen(
        [*ZOO, "launch", "--workers", "2", "--", sys.executable, "-c", SLEEPER],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        pids = _pids_from(_lines(launcher.stdout), 2)  # 2 workers, 2 grandchildren
        assert all(_alive(pid) for pid in pids)
        launcher.send_signal(how)
        launcher.wait(timeout=30)
        _wait_gone(pids)  # SIGTERM at once, SIGKILL after ORPHAN_GRACE
    finally:
        launcher.kill()
        launcher.wait()


def test_launch_says_which_worker_failed_first_and_how(capfd):
    first = (
        "import os, signal, time\n"
        "if os.environ['ZOO_WORKER_INDEX'] == '1':\n"
        "    time.sleep(0.5); os.kill(os.getpid(), signal.SIGKILL)\n"
        "time.sleep(60)\n"
    )
    start = time.monotonic()
    code = distribute.launch([sys.executable, "-c", first], workers=2, timeout=60, grace=5)
    err = capfd.readouterr().err
    assert code == 137
    assert "zoo launch: worker 1 failed first: it was killed by SIGKILL (signal 9)" in err
    assert time.monotonic() - start < 30  # worker 0 was stopped, not waited for


def test_launch_returns_0_after_every_worker_succeeded(capfd):
    command = [sys.executable, "-c", "import os; print('hi', os.environ['ZOO_WORKER_INDEX'])"]
    assert distribute.launch(command, workers=3) == 0
    out = capfd.readouterr().out
    assert sorted(out.splitlines()) == [f"[worker {i}] hi {i}" for i in range(3)]


@pytest.mark.parametrize(
    "arguments, error, text",
    [
        ({"workers": 0}, ArgumentValueError, "`workers` must be a positive integer"),
        ({"workers": -2}, ArgumentValueError, "Received: workers=-2"),
        ({"workers": 1.5}, ArgumentTypeError, "`workers` must be an integer"),
        ({"workers": "2"}, ArgumentTypeError, "`workers` must be an integer"),
        ({"workers": True}, ArgumentTypeError, "`workers` must be an integer"),
        ({"timeout": 0}, ArgumentValueError, "`timeout` must be a positive number"),
        ({"timeout": -1.0}, ArgumentValueError, "Received: timeout=-1.0"),
        ({"timeout": "10"}, ArgumentTypeError, "`timeout` must be a number"),
        ({"grace": -1}, ArgumentValueError, "`grace` must be"),
        ({"command": []}, ArgumentValueError, "`command` must be a command to run"),
        ({"command": "zoo train"}, ArgumentTypeError, "`command` must be a list of strings"),
        ({"command": ["python", 3]}, ArgumentTypeError, "`command` must be a list of strings"),
        ({"command": ["no-such-program-x"]}, ArgumentValueError, "'no-such-program-x' is neither"),
    ],
)
def test_launch_checks_its_arguments_before_anything_starts(monkeypatch, arguments, error, text):
    def started(*args, **kwargs):
        raise AssertionError("a worker started")

    monkeypatch.setattr(distribute, "GuardedProcess", started)
    monkeypatch.delenv("TF_CONFIG", raising=False)
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    arguments = {"command": [sys.executable, "-c", "pass"], **arguments}
    with pytest.raises(error, match=text):
        distribute.launch(arguments.pop("command"), **arguments)


def test_a_node_worker_under_tf_config_runs_guarded_in_our_group(monkeypatch, capfd):
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {}, "task": {}}))
    code = "import os, sys; print('pgid', os.getpgrp() == int(sys.argv[1])); sys.exit(4)"
    result = distribute.launch([sys.executable, "-c", code, str(os.getpgrp())], workers=1)
    assert result == 4
    assert "pgid True" in capfd.readouterr().out


def test_peer_failure_becomes_one_line(monkeypatch):
    tf = pytest.importorskip("tensorflow")
    monkeypatch.setenv("ZOO_WORKER_INDEX", "0")
    message = (
        "Graph execution error:\n\nDetected at node adam/CollectiveReduceV2 defined at (most "
        'recent call last):\n  File "train.py", line 4, in <module>\n\nCollective ops is '
        "aborted by: recvmsg:Connection reset by peer\nAdditional GRPC error information "
        "from remote target /job:worker/replica:0/task:1\nThe error could be from a previous "
        "operation. Restart your program to reset.\n\t [[{{node adam/CollectiveReduceV2}}]]"
    )
    error = tf.errors.UnavailableError(None, None, message)
    wrapped = RuntimeError("while training")
    wrapped.__cause__ = error
    assert distribute._peer_failure(wrapped) is error
    assert distribute._peer_failure_line(error) == (
        "zoo launch: worker 0: a peer worker stopped (UnavailableError: recvmsg:Connection "
        "reset by peer); stopping"
    )
    # An unavailable file system is not a peer: its traceback stays.
    assert distribute._peer_failure(tf.errors.UnavailableError(None, None, "GCS down")) is None


def test_collective_abort_records_are_dropped_from_worker_output():
    keep = distribute._QuietCollectiveAborts()
    lines = [
        "zoo: waiting for the other workers to join\n",
        "E0000 00:00:1.5 29347 ring_alg.cc:291] Aborting RingReduce with UNAVAILABLE: x\n",
        "Additional GRPC error information from remote target /job:worker/replica:0/task:1\n",
        ":UNKNOWN:Error received from peer  {grpc_message:...}\n",
        "W0000 00:00:1.6 15403 local_rendezvous.cc:412] Local rendezvous is aborting with "
        "status: UNAVAILABLE: Collective ops is aborted by: y\n",
        "/job:worker/replica:0/task:1\n",
        "The tasks have crashed. Check the task logs\n",
        "zoo launch: worker 0: a peer worker stopped (UnavailableError: y); stopping\n",
        "E0000 00:00:1.7 1 coordination_service.cc:1] Barrier timed out\n",
        "/job:worker/replica:0/task:1\n",
    ]
    assert [line for line in lines if keep(line)] == [lines[0], lines[7], lines[8], lines[9]]


PEER = """
import os, signal
import keras, zoo
strategy = zoo.distribute.strategy("multiworker")

class Die(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        if os.environ["ZOO_WORKER_INDEX"] == "1" and epoch == 1:
            os.kill(os.getpid(), signal.SIGKILL)

zoo.train("mlp_tiny", "digits", epochs=1000, strategy=strategy, early_stopping=None,
          save=False, verbose=0, callbacks=[Die()])
"""


def test_a_worker_whose_peer_is_killed_says_so_in_one_line(tmp_path):
    # Two real workers on loopback, without the launcher (which would stop the
    # survivor first): worker 1 kills itself at its second epoch.
    script = tmp_path / "worker.py"
    script.write_text(PEER)
    cluster = {"worker": [f"127.0.0.1:{port}" for port in _processes.free_ports(2)]}
    processes = []
    for index in (0, 1):
        env = {
            **os.environ,
            "TF_CONFIG": json.dumps(
                {"cluster": cluster, "task": {"type": "worker", "index": index}}
            ),
            "ZOO_WORKER_INDEX": str(index),
            "ZOO_SAVED_MODELS": str(tmp_path / "models"),
        }
        processes.append(
            subprocess.Popen(
                [sys.executable, str(script)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        )
    outputs = [process.communicate(timeout=240)[0] for process in processes]
    assert processes[1].returncode == -signal.SIGKILL, outputs[1][-3000:]
    assert processes[0].returncode == 1, outputs[0][-3000:]
    assert "Traceback" not in outputs[0], outputs[0][-3000:]
    reports = [x for x in outputs[0].splitlines() if "a peer worker stopped" in x]
    assert len(reports) == 1, outputs[0][-3000:]
    assert reports[0].startswith("zoo launch: worker 0: a peer worker stopped (UnavailableError")
    assert reports[0].endswith("); stopping")


TUNE = """
import sys, zoo
zoo.tune("mlp", "digits", space={"units": [(8,), (16, 8)], "dropout": None, "batch_norm": None,
         "activation": None}, max_trials=2, epochs=50, workers=2, directory=sys.argv[1],
         save=False)
"""


def test_tuning_workers_die_within_seconds_of_a_killed_search(tmp_path):
    script = tmp_path / "tune.py"
    script.write_text(TUNE)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "ZOO_SAVED_MODELS": str(tmp_path / "models")}
    search = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path / "search")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    lines = _lines(search.stdout)
    try:
        deadline, found = time.monotonic() + 120, []
        while len(found) < 4 and time.monotonic() < deadline:  # 2 guards, 2 workers
            assert search.poll() is None, _drain(lines)
            time.sleep(0.2)
            found = []
            for child in psutil.Process(search.pid).children(recursive=True):
                try:
                    if "KERASTUNER_TUNER_ID" in child.environ():
                        found.append(child.pid)
                except psutil.Error:
                    continue
        assert len(found) == 4, _drain(lines)
        search.kill()
        search.wait(timeout=30)
        _wait_gone(found)
    finally:
        search.kill()
        search.wait()


def _drain(lines):
    out = []
    while not lines.empty():
        out.append(lines.get() or "")
    return "".join(out)[-3000:]
