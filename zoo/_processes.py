"""Child processes: free loopback ports, prefixed output, guarded workers, stopping them.

Every worker zoo starts (``zoo launch``, distributed tuning) runs under a *guard*: this
file run as a script (standard library only, about 30 ms), which starts the worker's
command, passes its exit status on (a worker killed by a signal makes the guard die of
the same signal) and ends the worker within seconds once its supervisor is gone,
however the supervisor went (``kill -9`` included):

- the supervisor holds the write end of a pipe (the *lifeline*) whose read end only
  the guard holds; the kernel closes it when the supervisor dies, and the guard sees
  end-of-file at once;
- the guard also checks every half second that its parent is still the supervisor (a
  process forked from the supervisor may hold the lifeline open), which works on macOS
  as on Linux;
- then it sends SIGTERM to its process group (the worker and anything the worker
  started; the guard leads the group when it runs in its own session, as workers do,
  else it signals the worker alone) and SIGKILL after ``ORPHAN_GRACE`` seconds (a
  multi-worker TensorFlow process catches SIGTERM, TF 2.21's C++ ``SigtermNotifier``
  for preemption, so such workers end at the SIGKILL);
- on Linux the worker also gets ``PR_SET_PDEATHSIG=SIGKILL`` relative to the guard, so
  a guard killed on its own (``kill -9 <guard>``, the OOM killer) takes the worker
  with it. The guard sets it in the child, from its own single-threaded main thread,
  which lives as long as the guard: PDEATHSIG fires when the *thread* that forked
  exits, so it is never set from the supervisor's threads.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

ORPHAN_GRACE = 3.0  # seconds between SIGTERM and SIGKILL once the supervisor is gone
PARENT_POLL = 0.5  # seconds between the guard's checks of its parent's pid


def free_ports(count: int) -> list[int]:
    import socket

    sockets, ports = [], []
    for _ in range(count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sockets.append(sock)
        ports.append(sock.getsockname()[1])
    for sock in sockets:
        sock.close()
    return ports


def stream_output(
    process: Any, prefix: str, keep: Callable[[str], bool] | None = None
) -> threading.Thread:
    """Copy `process`'s output to ours, each line prefixed, in a daemon thread.

    `keep` (called with each line) drops the lines it returns False for. The pipe is
    drained to its end even when our stdout is gone (``zoo launch ... | head``), so a
    worker never blocks on a full pipe.
    """

    def pump():
        writable = True
        for line in process.stdout:
            if not writable or (keep is not None and not keep(line)):
                continue
            try:
                sys.stdout.write(f"{prefix}{line}")
                sys.stdout.flush()
            except (OSError, ValueError):  # a closed or broken stdout: keep draining
                writable = False

    thread = threading.Thread(target=pump, name=f"zoo-output {prefix.strip()}", daemon=True)
    thread.start()
    return thread


class GuardedProcess(subprocess.Popen):
    """A worker command started under a guard (see the module's docstring).

    ``pid`` is the guard's: signal it (or its group, with `new_session`) as the
    worker's. The exit status is the worker's, a negative one for a signal.

    Args:
        command: the worker's program and arguments.
        env: its environment (default: ours).
        new_session: run guard and worker in a new session and process group, led by
            the guard (what ``stop_processes`` signals), out of reach of the terminal's
            Ctrl-C; else they stay in ours.
        capture: pipe stdout and stderr together to ``self.stdout`` (text, undecodable
            bytes replaced); else they are ours.
    """

    def __init__(
        self,
        command: Sequence[str],
        *,
        env: dict[str, str] | None = None,
        new_session: bool = True,
        capture: bool = True,
    ) -> None:
        read, self._lifeline = os.pipe()
        guard = [sys.executable, "-I", "-S", os.path.abspath(__file__), str(read), str(os.getpid())]
        pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.STDOUT} if capture else {}
        try:
            super().__init__(
                [*guard, "--", *command],
                env=env,
                pass_fds=(read,),
                start_new_session=new_session,
                text=True,
                errors="replace",
                **pipes,
            )
        except BaseException:
            self._close_lifeline()
            raise
        finally:
            os.close(read)

    def _close_lifeline(self) -> None:
        fd, self._lifeline = self._lifeline, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)

    def poll(self) -> int | None:
        code = super().poll()
        if code is not None:
            self._close_lifeline()
        return code

    def wait(self, timeout: float | None = None) -> int:
        code = super().wait(timeout)
        self._close_lifeline()
        return code


def describe_exit(code: int) -> str:
    """How a process ended, from its exit status: ``"exited with code 3"``, ...

    Example:
        >>> describe_exit(-9)
        'was killed by SIGKILL (signal 9)'
    """
    if code >= 0:
        return f"exited with code {code}"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = "a signal"
    return f"was killed by {name} (signal {-code})"


def shell_status(code: int) -> int:
    """An exit status as a shell reports it: a signal N becomes 128 + N."""
    return code if code >= 0 else 128 - code


def stop_processes(processes: list[Any], grace: float) -> None:
    """SIGTERM each running process (its group when it leads one), SIGKILL after `grace` s."""

    def send(process, sig):
        with contextlib.suppress(OSError):  # gone already (ESRCH; EPERM on macOS zombies)
            if os.getpgid(process.pid) == process.pid:
                os.killpg(process.pid, sig)
            else:
                process.send_signal(sig)

    for process in processes:
        if process.poll() is None:
            send(process, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for process in processes:
        try:
            process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            send(process, signal.SIGKILL)
            process.wait()


# The guard: what runs in the child, ``python -I -S _processes.py LIFELINE PARENT -- CMD``.


def _die_with_guard() -> Callable[[], None] | None:
    """A preexec_fn setting ``PR_SET_PDEATHSIG=SIGKILL`` (Linux; None elsewhere)."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    guard = os.getpid()

    def preexec() -> None:
        prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
        if os.getppid() != guard:  # the guard died before the call took effect
            os.kill(os.getpid(), signal.SIGKILL)

    return preexec


def _watch(lifeline: int, parent: int, child: subprocess.Popen, orphaned: threading.Event):
    """End `child` (and its group) once the supervisor `parent` is gone."""
    import select

    while True:
        ready, _, _ = select.select([lifeline], [], [], PARENT_POLL)
        if ready and not os.read(lifeline, 64):  # end of file: the supervisor is gone
            break
        if os.getppid() != parent:  # reparented: the supervisor is gone
            break
    orphaned.set()
    leader = os.getpgrp() == os.getpid()

    def send(sig):
        with contextlib.suppress(OSError):
            if leader:
                os.killpg(0, sig)  # the worker, what it started, and this guard (SIGKILL)
            elif child.returncode is None:  # not reaped, so its pid is still its own
                os.kill(child.pid, sig)

    send(signal.SIGTERM)
    deadline = time.monotonic() + ORPHAN_GRACE
    while child.returncode is None and time.monotonic() < deadline:
        time.sleep(0.05)
    send(signal.SIGKILL)


def _exit_like(code: int) -> int:
    """Exit as the worker did: die of the same signal, or return its code."""
    if code >= 0:
        return code
    with contextlib.suppress(OSError, ValueError):
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core file of the guard
    with contextlib.suppress(OSError, ValueError):
        signal.signal(-code, signal.SIG_DFL)
    with contextlib.suppress(OSError, ValueError):
        os.kill(os.getpid(), -code)
    return 128 - code  # a signal whose default action is not to end a process


def _guard(argv: list[str]) -> int:
    lifeline, parent, command = int(argv[0]), int(argv[1]), argv[3:]
    orphaned = threading.Event()
    children: list[subprocess.Popen] = []

    def forward(signum, frame):  # SIGTERM/SIGHUP sent to the guard alone reach the worker
        if children and not orphaned.is_set():
            with contextlib.suppress(OSError):
                children[0].send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGHUP, forward)
    # A terminal's Ctrl-C reaches the worker itself; a handler (not SIG_IGN, which the
    # worker would inherit) keeps the guard alive to pass the worker's status on.
    signal.signal(signal.SIGINT, lambda signum, frame: None)
    try:
        children.append(subprocess.Popen(command, preexec_fn=_die_with_guard()))
    except OSError as error:
        print(f"zoo: cannot run {command[0]!r}: {error.strerror or error}", file=sys.stderr)
        return 127 if isinstance(error, FileNotFoundError) else 126
    watcher = threading.Thread(
        target=_watch, args=(lifeline, parent, children[0], orphaned), daemon=True
    )
    watcher.start()
    code = children[0].wait()
    if orphaned.is_set():
        watcher.join()  # it ends the group, this guard included
    return _exit_like(code)


if __name__ == "__main__":
    sys.exit(_guard(sys.argv[1:]))
