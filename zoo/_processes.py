"""Child processes: free loopback ports, prefixed output, stopping process groups."""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Any


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


def stream_output(process, prefix: str) -> threading.Thread:
    def pump():
        for line in process.stdout:
            sys.stdout.write(f"{prefix}{line}")
            sys.stdout.flush()

    thread = threading.Thread(target=pump, daemon=True)
    thread.start()
    return thread


def stop_processes(processes: list[Any], grace: float) -> None:
    """SIGTERM each running process group, then SIGKILL those alive after `grace` s."""
    import signal
    import subprocess

    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for process in processes:
        try:
            process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
