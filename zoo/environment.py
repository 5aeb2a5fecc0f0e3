"""``zoo doctor``: check the installation and say how to fix what is wrong.

:func:`doctor` looks at the versions of zoo's dependencies, Keras's backend, the
devices that backend sees (TensorFlow's; JAX's on Keras's JAX backend, where TensorFlow
is not imported for it), whether the installed TensorFlow can reach an attached TPU at
all (:func:`tensorflow_tpu_support`: Colab's TPU runtimes have no TensorFlow with TPU
support, so the fix points to the JAX backend), what ``strategy="auto"`` and
``mixed_precision="auto"`` would pick there (:func:`zoo.distribute.auto_choice`), which
pretrained weights are on disk for offline use (:func:`zoo.transfer.weights.list_weights`
and the keras-hub and TF Hub listings), whether the hosts those weights download from answer
(:func:`check_network`: one short TCP connection per host, concurrently, skipped with
``ZOO_OFFLINE=1``), and whether zoo's folders can be written. Each check is ``ok``,
``warn`` or ``fail``; warnings and failures come with the fix. Nothing is downloaded
and nothing is left behind: the writability checks create and delete a temporary file.
The time it reports covers everything, TensorFlow's import and device listing included.

Example:
    >>> report = zoo.doctor()
    >>> report.ok
    True
    >>> print(report)  # the same text as `zoo doctor`
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import importlib.metadata
import os
import platform
import re
import shutil
import socket
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from zoo import _validation as v

SECTIONS = ("packages", "keras", "devices", "offline", "folders")
COLUMNS = ["section", "check", "value", "status", "fix"]
STATUSES = ("ok", "warn", "fail")
PYTHON_MINIMUM = (3, 10)
# Minimum versions, as in pyproject.toml's dependencies: (check name, pip name,
# distributions that provide it, minimum).
PACKAGES = (
    (
        "tensorflow",
        "tensorflow",
        (
            "tensorflow",
            "tensorflow-cpu",
            "tensorflow-macos",
            "tensorflow-intel",
            "tf-nightly",
            "tensorflow-tpu",
        ),
        "2.16",
    ),
    ("keras", "keras", ("keras", "keras-nightly"), "3.3"),
    ("keras-tuner", "keras-tuner", ("keras-tuner",), "1.4.7"),
    ("keras-hub", "keras-hub", ("keras-hub", "keras-hub-nightly"), "0.18"),
    ("tensorflow-hub", "tensorflow-hub", ("tensorflow-hub",), "0.16"),
    ("tensorflow-datasets", "tensorflow-datasets", ("tensorflow-datasets", "tfds-nightly"), "4.9"),
    ("pandas", "pandas", ("pandas",), "2.0"),
    ("numpy", "numpy", ("numpy",), "1.26"),
)
# The `export` extra: zoo.export(..., format="onnx").
OPTIONAL_PACKAGES = (
    ("tf2onnx", "tf2onnx", ("tf2onnx",), "1.16"),
    ("onnx", "onnx", ("onnx",), "1.16"),
    ("onnxruntime", "onnxruntime", ("onnxruntime", "onnxruntime-gpu"), "1.18"),
)
_SHOWN_NAMES = 6
# TensorFlow on a TPU: only the tensorflow-tpu wheel has TPU support, and it loads the
# TPU runtime of the libtpu distribution its metadata pins (libtpu ==2.18.0 for 2.18,
# libtpu~=0.0.14 for 2.20; older releases named libtpu-nightly).
# Colab's TPU runtimes ship JAX and no TensorFlow since March 2025
# (googlecolab/colabtools#5164), so `pip install zoo` there brings the plain wheel.
TENSORFLOW_TPU = "tensorflow-tpu"
PLAIN_TENSORFLOW = tuple(name for name in PACKAGES[0][2] if name != TENSORFLOW_TPU)
LIBTPU = ("libtpu", "libtpu-nightly")
TPU_FIX = (
    "set KERAS_BACKEND=jax before keras or zoo is imported (on Colab, "
    "os.environ['KERAS_BACKEND'] = 'jax' in the first cell; restart the runtime if keras "
    "was imported already): zoo then trains on the TPU through JAX, which TPU runtimes "
    "ship. To stay on TensorFlow: pip uninstall -y tensorflow, then pip install the "
    "tensorflow-tpu release whose libtpu requirement matches the installed libtpu"
)
# Where zoo's pretrained rows download from: (offline listing, host, port).
# keras.applications' ImageNet weights (and keras.datasets) come from Google Cloud
# Storage; keras-hub presets through kagglehub from Kaggle; TF Hub handles from tfhub.dev
# (which redirects to Kaggle).
DOWNLOAD_HOSTS = (
    ("ImageNet weights", "storage.googleapis.com", 443),
    ("keras-hub presets", "www.kaggle.com", 443),
    ("TF Hub modules", "tfhub.dev", 443),
)
# As zoo.transfer.backbones.OFFLINE_ENV and zoo.transfer.weights.MIRROR_ENV, which
# import Keras: the network check starts before TensorFlow is imported.
OFFLINE_ENV = "ZOO_OFFLINE"
MIRROR_ENV = "ZOO_WEIGHTS_MIRROR"
NETWORK_TIMEOUT = 1.5  # seconds per connection; the hosts are tried concurrently
# How to get each listing's files onto a machine without network.
PREFETCH = {
    "ImageNet weights": "zoo weights pull NAME (on a machine with internet; copy the files "
    "into $ZOO_WEIGHTS_DIR here), or fine-tune with weights=None",
    "keras-hub presets": "copy a preset folder into $ZOO_WEIGHTS_DIR/<name>/ (or "
    "kagglehub's cache)",
    "TF Hub modules": "copy the module into $TFHUB_CACHE_DIR",
}
LINE_WIDTH = 88  # str(DoctorReport) fits an 88-column terminal
_STATUS_WIDTH = 4  # "ok", "WARN", "FAIL"
_MIN_VALUE_WIDTH = 24


@dataclasses.dataclass(frozen=True)
class NetworkCheck:
    """Whether the hosts zoo downloads pretrained weights from answer (see :func:`check_network`).

    Attributes:
        hosts: ``"host:port"`` -> why it could not be reached (``""`` when it
            answered), for each host checked; empty when the check was skipped.
        sources: what downloads from where: offline listing (``"ImageNet weights"``,
            ``"keras-hub presets"``, ``"TF Hub modules"``) -> ``"host:port"``. A listing
            that needs no network (``$ZOO_WEIGHTS_MIRROR`` a local folder) is absent.
        skipped: why the check did not run (``"ZOO_OFFLINE=1"``), else ``""``.
        seconds: how long the check took.
    """

    hosts: dict[str, str] = dataclasses.field(default_factory=dict)
    sources: dict[str, str] = dataclasses.field(default_factory=dict)
    skipped: str = ""
    seconds: float = 0.0

    @property
    def failed(self) -> dict[str, str]:
        """The hosts that did not answer, with why."""
        return {host: error for host, error in self.hosts.items() if error}

    @property
    def status(self) -> str:
        """``"reachable"``, ``"partly reachable"``, ``"unreachable"`` or ``"not checked"``."""
        if self.skipped or not self.hosts:
            return "not checked"
        if not self.failed:
            return "reachable"
        return "unreachable" if len(self.failed) == len(self.hosts) else "partly reachable"

    def unreachable(self, listing: str) -> str | None:
        """The host `listing` downloads from when it did not answer, else None."""
        host = self.sources.get(listing)
        return host if host is not None and self.hosts.get(host) else None


@dataclasses.dataclass(frozen=True)
class DoctorReport:
    """What :func:`doctor` found.

    Attributes:
        table: one row per check: ``section``, ``check``, ``value``, ``status``
            (``"ok"``, ``"warn"`` or ``"fail"``) and ``fix`` (empty when ok).
        seconds: how long the checks took, TensorFlow's import and device listing
            included.
        network: whether the download hosts answered (a :class:`NetworkCheck`; its
            ``status`` is ``"not checked"`` with ``ZOO_OFFLINE=1``).
    """

    table: pd.DataFrame
    seconds: float = 0.0
    network: NetworkCheck = dataclasses.field(default_factory=NetworkCheck)

    @property
    def ok(self) -> bool:
        """True when no check failed (warnings do not count)."""
        return not (self.table["status"] == "fail").any()

    @property
    def problems(self) -> pd.DataFrame:
        """The checks that warned or failed, with their fixes."""
        return self.table[self.table["status"] != "ok"]

    def __str__(self) -> str:
        """The table as text at most :data:`LINE_WIDTH` columns wide.

        Every status sits in one column; a long value continues on the next lines under
        the value column, and a fix follows its row, indented the same way.
        """
        table = self.table
        check_width = max([len(c) for c in table["check"]] + [5])
        indent = 2 + check_width + 2  # where values start
        room = LINE_WIDTH - indent - 2 - _STATUS_WIDTH
        longest = max([len(x) for x in table["value"]] + [5])
        value_width = min(longest, max(room, _MIN_VALUE_WIDTH))
        fix_width = max(LINE_WIDTH - indent - len("fix: "), _MIN_VALUE_WIDTH)
        lines = []
        for section in dict.fromkeys(table["section"]):
            lines.append(f"{section}:")
            for row in table[table["section"] == section].itertuples():
                status = row.status.upper() if row.status != "ok" else "ok"
                first, *rest = _wrap(row.value, value_width)
                lines.append(f"  {row.check:<{check_width}}  {first:<{value_width}}  {status}")
                lines.extend(" " * indent + line for line in rest)
                if row.fix:
                    fix = _wrap(row.fix, fix_width)
                    lines.append(" " * indent + "fix: " + fix[0])
                    lines.extend(" " * (indent + len("fix: ")) + line for line in fix[1:])
        failed = int((table["status"] == "fail").sum())
        warned = int((table["status"] == "warn").sum())
        verdict = "all checks passed" if not failed and not warned else ""
        if failed or warned:
            verdict = f"{failed} failed, {warned} warning{'s' if warned != 1 else ''}"
        lines.append(f"zoo doctor: {verdict} ({self.seconds:.1f} s)")
        return "\n".join(lines)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # IPython, notebooks
        printer.text(str(self))

    def __repr__(self) -> str:
        counts = self.table["status"].value_counts()
        return (
            f"DoctorReport(ok={self.ok}, checks={len(self.table)}, "
            f"warnings={int(counts.get('warn', 0))}, failures={int(counts.get('fail', 0))})"
        )


def _wrap(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` characters, broken at spaces.

    A word longer than a line (a path) gets lines of its own, broken after its slashes
    where it can, else anywhere.
    """
    lines: list[str] = []
    line = ""
    for word in text.split():
        if len(word) > width:
            if line:
                lines.append(line)
            *whole, line = _chunks(word, width)
            lines.extend(whole)
        elif not line:
            line = word
        elif len(line) + 1 + len(word) <= width:
            line += " " + word
        else:
            lines.append(line)
            line = word
    return [*lines, line]


def _chunks(word: str, width: int) -> list[str]:
    chunks, chunk = [], ""
    for part in re.split(r"(?<=/)", word):
        if chunk and len(chunk) + len(part) > width:
            chunks.append(chunk)
            chunk = ""
        chunk += part
        while len(chunk) > width:
            chunks.append(chunk[:width])
            chunk = chunk[width:]
    return [*chunks, chunk] if chunk else chunks


def probe(host: str, port: int, timeout: float) -> None:
    """Open and close one TCP connection to `host`:`port`; raise OSError if it cannot.

    The one place :func:`check_network` touches the network (tests replace it).
    """
    with socket.create_connection((host, port), timeout=timeout):
        pass


def _reason(error: BaseException) -> str:
    if isinstance(error, socket.gaierror):
        return "cannot resolve the name"
    if isinstance(error, (socket.timeout, TimeoutError)):
        return "timed out"
    if isinstance(error, OSError):
        return str(error.strerror or error)
    return f"{type(error).__name__}: {error}"


def _download_hosts() -> list[tuple[str, str, int]]:
    """(listing, host, port) for each listing that downloads; ``$ZOO_WEIGHTS_MIRROR`` counts."""
    mirror = os.environ.get(MIRROR_ENV, "").strip()
    hosts = []
    for listing, host, port in DOWNLOAD_HOSTS:
        if listing == "ImageNet weights" and mirror:
            parts = urllib.parse.urlsplit(mirror)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                continue  # a local folder: no network needed
            default = 443 if parts.scheme == "https" else 80
            try:
                host, port = parts.hostname, parts.port or default
            except ValueError:  # a bad port; pulling from the mirror says so
                host, port = parts.hostname, default
        hosts.append((listing, host, port))
    return hosts


def _proxy_for(host: str) -> tuple[str, int] | None:
    """The HTTPS proxy that downloads from `host` would go through (urllib's rules)."""
    proxy = urllib.request.getproxies().get("https")
    if not proxy or urllib.request.proxy_bypass(host):
        return None
    parts = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    try:
        port = parts.port
    except ValueError:
        port = None
    if not parts.hostname:
        return None
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


def _start_network_check(timeout: float = NETWORK_TIMEOUT) -> Callable[[], NetworkCheck]:
    """Start :func:`check_network`'s connections; the result returns what they found.

    The connections run in daemon threads, so the caller can do other work (import
    TensorFlow) meanwhile. A thread still waiting (a name lookup that hangs) after
    `timeout` plus half a second counts as "no answer" and is left behind.
    """
    start = time.perf_counter()
    if os.environ.get(OFFLINE_ENV) == "1":
        return lambda: NetworkCheck(skipped=f"{OFFLINE_ENV}=1")
    sources: dict[str, str] = {}
    targets: dict[str, tuple[str, int, str]] = {}  # host:port -> (where to connect, via)
    try:
        for listing, host, port in _download_hosts():
            key = f"{host}:{port}"
            sources[listing] = key
            proxy = _proxy_for(host)
            via = f"proxy {proxy[0]}:{proxy[1]}: " if proxy else ""
            targets[key] = (*(proxy or (host, port)), via)
    except ValueError as error:  # urllib cannot parse $ZOO_WEIGHTS_MIRROR or a proxy
        failure = NetworkCheck(skipped=f"cannot check: {error}")
        return lambda: failure
    found: dict[str, str] = {}
    finished: dict[str, float] = {}

    def attempt(key: str, host: str, port: int, via: str) -> None:
        try:
            probe(host, port, timeout)
            found[key] = ""
        except Exception as error:
            found[key] = via + _reason(error)
        finished[key] = time.perf_counter()

    threads = [
        threading.Thread(target=attempt, args=(key, *target), daemon=True, name=f"zoo-{key}")
        for key, target in targets.items()
    ]
    for thread in threads:
        thread.start()
    deadline = start + timeout + 0.5

    @functools.cache  # one answer, however often asked
    def result() -> NetworkCheck:
        for thread in threads:
            thread.join(max(deadline - time.perf_counter(), 0.0))
        hosts = {
            key: found.get(key, f"no answer within {timeout + 0.5:g} s")
            for key in targets  # in DOWNLOAD_HOSTS' order
        }
        done = len(finished) == len(targets)
        end = max(finished.values(), default=start) if done else time.perf_counter()
        return NetworkCheck(hosts=hosts, sources=sources, seconds=end - start)

    return result


def check_network(timeout: float = NETWORK_TIMEOUT) -> NetworkCheck:
    """Whether the hosts zoo's pretrained weights download from answer, within ~`timeout`.

    Opens one TCP connection to each host of :data:`DOWNLOAD_HOSTS` (port 443; the
    ``$ZOO_WEIGHTS_MIRROR`` host instead of Google's when a mirror URL is set; the
    HTTPS proxy instead when one is set), all at once, and closes it: nothing is sent.
    Skipped with ``ZOO_OFFLINE=1``.

    Args:
        timeout: seconds to wait for each connection.

    Returns:
        A :class:`NetworkCheck`.

    Example:
        >>> check_network().status  # doctest: +SKIP
        'reachable'
    """
    return _start_network_check(timeout)()


def package_version(distributions: tuple[str, ...]) -> str | None:
    """The installed version of the first of `distributions` present, else None.

    Example:
        >>> package_version(("tensorflow", "tensorflow-cpu"))
        '2.21.0'
    """
    for name in distributions:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def requirements(distribution: str) -> list[str]:
    """The installed `distribution`'s requirements (``Requires-Dist``), [] if it is absent.

    Example:
        >>> requirements("tensorflow-tpu")  # doctest: +SKIP
        ['libtpu~=0.0.14', ...]
    """
    try:
        return list(importlib.metadata.requires(distribution) or [])
    except importlib.metadata.PackageNotFoundError:
        return []


def _libtpu_requirement() -> Requirement | None:
    """The libtpu that the installed tensorflow-tpu asks for, from its metadata."""
    for line in requirements(TENSORFLOW_TPU):
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue
        if canonicalize_name(requirement.name) not in LIBTPU:
            continue
        if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
            return requirement
    return None


def tensorflow_tpu_support(listed: int | None = None) -> tuple[bool, str]:
    """Whether the installed TensorFlow can reach a TPU at all, and why (or why not).

    Decided without importing TensorFlow or its TPU runtime, from the installed
    distributions: only the ``tensorflow-tpu`` wheel has TPU support (the plain
    ``tensorflow`` wheel, which ``pip install zoo`` brings, has none), it must not
    share its files with another TensorFlow wheel, and it needs the ``libtpu``
    release its metadata pins. A TensorFlow that already lists TPU devices can reach
    them whatever its wheel.

    Args:
        listed: how many TPU devices TensorFlow lists
            (``tf.config.list_physical_devices("TPU")``), or None when it was not asked
            (Keras's JAX backend, which does not import TensorFlow for devices).

    Returns:
        ``(reachable, why)``: for example ``(False, "no: tensorflow 2.21.0 has no TPU
        support (tensorflow-tpu is not installed)")``.

    Example:
        >>> tensorflow_tpu_support(listed=8)  # TensorFlow lists them: it reaches them
        (True, 'yes: TensorFlow lists 8 TPU devices')
        >>> reachable, why = tensorflow_tpu_support()  # decided from the wheels
    """
    if listed:
        return True, f"yes: TensorFlow lists {listed} TPU device{'s' if listed != 1 else ''}"
    tpu = package_version((TENSORFLOW_TPU,))
    plain = package_version(PLAIN_TENSORFLOW)
    if tpu is None:
        if plain is None:
            return False, "no: TensorFlow is not installed"
        return False, f"no: tensorflow {plain} has no TPU support (tensorflow-tpu is not installed)"
    if plain is not None:
        return False, (
            f"no: tensorflow {plain} and tensorflow-tpu {tpu} are both installed and "
            "overwrite each other's files"
        )
    requirement = _libtpu_requirement()
    names = (canonicalize_name(requirement.name),) if requirement is not None else LIBTPU
    installed = [(name, package_version((name,))) for name in names]
    name, version = next(((n, found) for n, found in installed if found), (names[0], None))
    needs = str(requirement) if requirement is not None else "libtpu"
    if version is None:
        return False, f"no: tensorflow-tpu {tpu} needs {needs}, which is not installed"
    try:
        parsed = Version(version)
    except InvalidVersion:  # a version no specifier can judge: do not guess
        parsed = None
    if requirement is not None and parsed is not None:
        matches = requirement.specifier.contains(parsed, prereleases=True)
    else:
        matches = True
    if not matches:
        return False, f"no: tensorflow-tpu {tpu} needs {needs}, but {name} {version} is installed"
    return True, f"yes: tensorflow-tpu {tpu} with {name} {version}"


def _release(version: str) -> tuple[int, ...]:
    """``"2.21.0rc1"`` -> ``(2, 21, 0)`` (pre-releases count as their release)."""
    try:
        return Version(version).release
    except InvalidVersion:
        return ()


def _at_least(version: str, minimum: str) -> bool:
    return _release(version) >= _release(minimum)


class _Checks:
    """Collects rows; each ``add`` is one check."""

    def __init__(self) -> None:
        self.rows: list[dict[str, str]] = []

    def add(self, section: str, check: str, value: Any, status: str = "ok", fix: str = ""):
        self.rows.append(
            {
                "section": section,
                "check": check,
                "value": str(value),
                "status": status,
                "fix": fix if status != "ok" else "",
            }
        )


def _python(checks: _Checks) -> None:
    version = platform.python_version()
    if sys.version_info[:2] >= PYTHON_MINIMUM:
        checks.add("packages", "python", version)
    else:
        minimum = ".".join(map(str, PYTHON_MINIMUM))
        checks.add(
            "packages",
            "python",
            version,
            "fail",
            f"use Python {minimum} or newer (a new virtual environment or conda env)",
        )


def _packages(checks: _Checks) -> None:
    from zoo._quiet import keras_backend

    on_jax = keras_backend() == "jax"
    for check, pip_name, distributions, minimum in PACKAGES:
        version = package_version(distributions)
        install = f"pip install '{pip_name}>={minimum}'"
        if version is None:
            checks.add("packages", check, "not installed", "fail", install)
        elif check == "keras" and _release(version)[:1] < (3,):
            checks.add(
                "packages",
                check,
                f"{version} (Keras 2)",
                "fail",
                f"{install}: zoo needs Keras 3. Code that needs Keras 2 can use the "
                "tf_keras package (pip install tf_keras) next to it",
            )
        elif not _at_least(version, minimum):
            checks.add("packages", check, f"{version} (needs >= {minimum})", "fail", install)
        elif check == "tensorflow" and on_jax:
            checks.add("packages", check, f"{version} (tf.data pipelines; Keras runs on JAX)")
        else:
            checks.add("packages", check, version)
    found = {
        check: package_version(distributions) for check, _, distributions, _ in OPTIONAL_PACKAGES
    }
    extra = "pip install 'zoo[export]' (or pip install tf2onnx onnx onnxruntime)"
    for check, pip_name, _, minimum in OPTIONAL_PACKAGES:
        version = found[check]
        if version is None and not any(found.values()):
            checks.add("packages", check, "not installed (optional: ONNX export)")
        elif version is None:
            checks.add(
                "packages", check, "not installed (optional: ONNX export needs it)", "warn", extra
            )
        elif not _at_least(version, minimum):
            checks.add(
                "packages",
                check,
                f"{version} (optional; needs >= {minimum})",
                "warn",
                f"pip install '{pip_name}>={minimum}'",
            )
        else:
            checks.add("packages", check, f"{version} (optional)")


def _keras(checks: _Checks) -> bool:
    legacy = os.environ.get("TF_USE_LEGACY_KERAS", "")
    if legacy.lower() in ("1", "true", "yes"):
        checks.add(
            "keras",
            "TF_USE_LEGACY_KERAS",
            legacy,
            "fail",
            "unset TF_USE_LEGACY_KERAS: it makes tf.keras the Keras 2 of tf_keras, which "
            "cannot mix with zoo's Keras 3 models",
        )
    try:
        import keras
    except Exception as error:
        checks.add(
            "keras",
            "import keras",
            f"failed: {type(error).__name__}: {error}",
            "fail",
            "pip install --force-reinstall 'keras>=3.3'",
        )
        return False
    backend = keras.config.backend()
    if backend in ("tensorflow", "jax"):
        checks.add("keras", "backend", backend)
    if backend == "jax":  # a missing or broken jax fails under devices, with the fix
        found = {name: package_version((name,)) for name in ("jax", "jaxlib", *LIBTPU)}
        others = ", ".join(
            f"{name} {found[name]}" for name in found if name != "jax" and found[name]
        )
        version = found["jax"] or "not installed"
        checks.add("keras", "jax", f"{version} ({others})" if others else version)
    elif backend != "tensorflow":
        checks.add(
            "keras",
            "backend",
            backend,
            "warn",
            "export KERAS_BACKEND=tensorflow or jax (or set it in ~/.keras/keras.json): "
            "zoo.build works on any backend, but zoo's training, tuning and distribution "
            "run on TensorFlow and JAX",
        )
    checks.add("keras", "dtype policy", keras.config.dtype_policy().name)
    return True


def _nvidia_driver() -> bool:
    return Path("/proc/driver/nvidia/version").exists() or shutil.which("nvidia-smi") is not None


def _gpu_name(tf: Any, device: Any) -> str:
    try:
        details = tf.config.experimental.get_device_details(device)
    except Exception:  # pragma: no cover - details are best effort
        details = {}
    name = details.get("device_name") or device.name.split("/")[-1]
    capability = details.get("compute_capability")
    return f"{name} (compute {capability[0]}.{capability[1]})" if capability else name


def _tpu_tensorflow_row(checks: _Checks, listed: int | None, backend: str) -> bool:
    """Add the "TPU via TensorFlow" row; return whether TensorFlow can reach the TPU."""
    reachable, why = tensorflow_tpu_support(listed)
    if backend == "jax":  # zoo computes through JAX; TensorFlow only reads data
        checks.add("devices", "TPU via TensorFlow", f"{why}; not needed on the JAX backend")
    elif reachable:
        checks.add("devices", "TPU via TensorFlow", why)
    else:
        checks.add("devices", "TPU via TensorFlow", why, "warn", TPU_FIX)
    return reachable


def _jax_devices(checks: _Checks) -> None:
    try:
        import jax
    except Exception as error:
        checks.add(
            "devices",
            "import jax",
            f"failed: {type(error).__name__}: {error}",
            "fail",
            "pip install 'jax[cpu]' (or jax[cuda12], jax[tpu]), or KERAS_BACKEND=tensorflow",
        )
        return
    from zoo import distribute

    devices = jax.local_devices()
    kinds = sorted({d.platform for d in devices})
    names = sorted({str(getattr(d, "device_kind", "")) for d in devices} - {"", *kinds})
    listed = ", ".join(f"{d.platform}:{d.id}" for d in devices[:8])
    listed += " ..." if len(devices) > 8 else ""
    named = f" ({', '.join(names)})" if names else ""  # "TPU v5 lite", "NVIDIA H200"
    checks.add("devices", "JAX devices", f"{len(devices)} {'/'.join(kinds)}{named}: {listed}")
    tpus = [d for d in devices if str(d.platform).lower() == "tpu"]
    attached = bool(tpus) or distribute.tpu_present()
    if tpus:
        checks.add("devices", "TPU", f"{len(tpus)} JAX device{'s' if len(tpus) != 1 else ''}")
    elif attached:
        checks.add(
            "devices",
            "TPU",
            f"attached, but JAX lists only {'/'.join(kinds)} devices",
            "warn",
            "pip install 'jax[tpu]' (Colab's TPU runtime ships it); leave JAX_PLATFORMS "
            "unset; one process at a time holds a TPU, so stop the others (Colab: Runtime > "
            "Restart session); a TPU Node (TPU_NAME of a remote TPU) needs a TPU VM for JAX",
        )
    else:
        checks.add("devices", "TPU", "none")
    if attached:
        _tpu_tensorflow_row(checks, None, "jax")
    choice = distribute.auto_choice()
    replicas = choice["replicas"]
    checks.add(
        "devices",
        "strategy 'auto'",
        f"{choice['strategy']} ({replicas} {choice['device'].upper()} "
        f"replica{'s' if replicas != 1 else ''}, keras.distribution)",
    )
    checks.add("devices", "mixed precision 'auto'", choice["mixed_precision"])


def _devices(checks: _Checks) -> None:
    from zoo._quiet import keras_backend

    if keras_backend() == "jax":
        _jax_devices(checks)
        return
    try:
        import tensorflow as tf
    except Exception as error:
        checks.add(
            "devices",
            "import tensorflow",
            f"failed: {type(error).__name__}: {error}",
            "fail",
            "pip install --force-reinstall 'tensorflow>=2.16' (on Linux with an NVIDIA GPU: "
            "'tensorflow[and-cuda]>=2.16'), or KERAS_BACKEND=jax",
        )
        return
    from zoo import distribute

    cpus = tf.config.list_physical_devices("CPU")
    checks.add("devices", "CPU", f"{len(cpus)} device(s), {os.cpu_count()} cores")
    gpus = tf.config.list_physical_devices("GPU")
    hidden = os.environ.get("CUDA_VISIBLE_DEVICES")
    if gpus:
        names = ", ".join(_gpu_name(tf, gpu) for gpu in gpus)
        checks.add("devices", "GPU", f"{len(gpus)}: {names}")
    elif hidden is not None and hidden.strip() in ("", "-1"):
        checks.add("devices", "GPU", f"none (hidden: CUDA_VISIBLE_DEVICES={hidden!r})")
    elif _nvidia_driver():
        cuda = "built with CUDA" if tf.test.is_built_with_cuda() else "a CPU-only build"
        checks.add(
            "devices",
            "GPU",
            f"none, although an NVIDIA driver is installed (TensorFlow is {cuda})",
            "warn",
            "pip install 'tensorflow[and-cuda]>=2.16' (Linux), then check nvidia-smi and "
            "CUDA_VISIBLE_DEVICES; TensorFlow's log says why with ZOO_TF_LOGS=1",
        )
    else:
        checks.add("devices", "GPU", "none")
    attached = distribute.tpu_present()
    checks.add("devices", "TPU", "attached" if attached else "none")
    reachable = True
    if attached:  # what TensorFlow lists, without connecting to the TPU system
        listed = len(tf.config.list_physical_devices("TPU"))
        reachable = _tpu_tensorflow_row(checks, listed, "tensorflow")
    choice = distribute.auto_choice()
    replicas = choice["replicas"]
    on = f"{replicas} {choice['device'].upper()} replica{'s' if replicas != 1 else ''}"
    if replicas is None:
        on = "TPU" if reachable else "TPU, which this TensorFlow cannot reach"
    checks.add("devices", "strategy 'auto'", f"{choice['strategy']} ({on})")
    checks.add("devices", "mixed precision 'auto'", choice["mixed_precision"])


def _listing(names: list[str], present: list[bool]) -> str:
    have = [name for name, flag in zip(names, present, strict=True) if flag]
    text = f"{len(have)} of {len(names)} on disk"
    if have:
        shown = ", ".join(have[:_SHOWN_NAMES]) + (", ..." if len(have) > _SHOWN_NAMES else "")
        text += f": {shown}"
    return text


def _network_row(checks: _Checks, network: NetworkCheck, offline: bool) -> None:
    if offline:
        checks.add("offline", "network", f"not checked ({OFFLINE_ENV}=1: zoo downloads nothing)")
        return
    if network.skipped:
        checks.add(
            "offline",
            "network",
            f"not checked ({network.skipped})",
            "warn",
            f"correct ${MIRROR_ENV} or $HTTPS_PROXY (a URL such as http://host:3128)",
        )
        return
    failed = network.failed
    if not failed:
        checks.add("offline", "network", f"reachable ({', '.join(network.hosts)})")
        return
    first, error = next(iter(failed.items()))
    more = len(failed) - 1
    detail = f"{first}: {error}" + (f"; {more} more host{'s' if more > 1 else ''}" if more else "")
    if len(failed) == len(network.hosts):
        checks.add(
            "offline",
            "network",
            f"unreachable ({detail})",
            "warn",
            "pretrained weights not on disk cannot be downloaded here: prefetch them on a "
            "machine with internet (zoo weights pull NAME) and copy them into "
            "$ZOO_WEIGHTS_DIR, or use weights=None; datasets must be on disk too (tfds:NAME "
            f"prepared in $TFDS_DATA_DIR). Behind a proxy, set HTTPS_PROXY; {OFFLINE_ENV}=1 "
            "skips downloads and this check",
        )
        return
    cut_off = [listing for listing in PREFETCH if network.unreachable(listing)]
    checks.add(
        "offline",
        "network",
        f"partly reachable ({detail})",
        "warn",
        "; ".join(
            f"{listing} not on disk cannot be downloaded: {PREFETCH[listing]}"
            for listing in cut_off
        )
        or "check the host named here (a firewall or proxy rule)",
    )


def _offline(checks: _Checks, network: NetworkCheck) -> None:
    offline = os.environ.get(OFFLINE_ENV) == "1"
    if offline:
        value = "1 (no downloads)"
    elif network.status == "unreachable":
        value = "unset (downloads allowed, network unreachable)"
    else:
        value = "unset (downloads allowed)"
    checks.add("offline", OFFLINE_ENV, value)
    _network_row(checks, network, offline)
    listings = []
    try:
        from zoo.transfer import weights

        listings.append(("ImageNet weights", weights.list_weights()))
    except Exception as error:
        checks.add(
            "offline",
            "ImageNet weights",
            f"cannot list: {type(error).__name__}: {error}",
            "warn",
            "pip install --force-reinstall the package the error names",
        )
    for label, module, function in (
        ("keras-hub presets", "text", "text_rows"),
        ("TF Hub modules", "hub", "hub_rows"),
    ):
        try:
            rows = getattr(__import__(f"zoo.transfer.{module}", fromlist=[function]), function)()
            listings.append((label, pd.DataFrame(rows, columns=["name", "offline"])))
        except Exception as error:
            checks.add(
                "offline",
                label,
                f"cannot list: {type(error).__name__}: {error}",
                "warn",
                "pip install --force-reinstall the package the error names",
            )
    for label, table in listings:
        value = _listing(list(table["name"]), [bool(x) for x in table["offline"]])
        none_here = len(table) > 0 and not table["offline"].any()
        host = network.unreachable(label)
        if none_here and offline:
            checks.add("offline", label, value, "warn", f"{OFFLINE_ENV}=1: {PREFETCH[label]}")
        elif none_here and host:
            fix = f"no network ({host}), so none can be built pretrained: {PREFETCH[label]}"
            checks.add("offline", label, value, "warn", fix)
        else:
            checks.add("offline", label, value)


def _nearest_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path(".")  # pragma: no cover - a relative path's parents end at "."


def writable(folder: str | os.PathLike) -> tuple[bool, str]:
    """Whether a file can be created in `folder` (or where it would be created).

    Creates and deletes a temporary file in the folder, or in its nearest existing
    parent when it does not exist yet, so nothing is left behind.

    Returns:
        ``(True, "writable")``, ``(True, "missing; will be created, writable")`` or
        ``(False, reason)``.

    Example:
        >>> writable("/etc/hostname/tuning")
        (False, '/etc/hostname is a file, not a folder')
    """
    path = Path(folder)
    existing = _nearest_existing(path)
    if not existing.is_dir():
        return False, f"{existing} is a file, not a folder"
    try:
        fd, name = tempfile.mkstemp(prefix=".zoo-doctor-", dir=existing)
        os.close(fd)
        os.unlink(name)
    except OSError as error:
        return False, f"cannot write in {existing} ({error.strerror or error})"
    return True, "writable" if existing == path else "missing; will be created, writable"


def _folders(checks: _Checks, tuning_dir: Path | None) -> None:
    from zoo import saving
    from zoo.transfer import backbones, weights
    from zoo.transfer.fine_tuning import CACHE_DIR
    from zoo.tuning.search import TUNING_DIR

    root = saving.saved_models_dir()
    folders = (
        # (check, folder, status when not writable, fix)
        (
            "saved_models",
            root,
            "fail",
            f"set ${saving.DEFAULT_DIR_ENV} to a writable folder",
        ),
        (
            "tuning",
            tuning_dir if tuning_dir is not None else root / TUNING_DIR,
            "fail",
            f"pass a writable directory= to zoo.tune (--directory), or set "
            f"${saving.DEFAULT_DIR_ENV} to a writable folder",
        ),
        (
            "feature cache",
            root / CACHE_DIR,
            "fail",
            f"set ${saving.DEFAULT_DIR_ENV} to a writable folder",
        ),
        (
            "weights",
            weights.default_folder(),
            "warn",
            f"set ${backbones.WEIGHTS_DIR_ENV} to a writable folder for zoo weights pull",
        ),
        (
            "keras cache",
            backbones.keras_cache_dir(),
            "warn",
            "set $KERAS_HOME to a writable folder (Keras downloads weights there)",
        ),
    )
    for check, folder, bad, fix in folders:
        folder = Path(os.path.abspath(folder))
        ok, how = writable(folder)
        if ok:
            checks.add("folders", check, f"{folder} ({how})")
        else:
            checks.add("folders", check, f"{folder}: not writable: {how}", bad, fix)


def doctor(tuning_dir: str | os.PathLike | None = None) -> DoctorReport:
    """Check zoo's installation: versions, backend, devices, offline files, network, folders.

    On Keras's TensorFlow backend it imports TensorFlow (its start-up lines hidden) and
    lists its devices first, so a broken TensorFlow is reported as a failed check rather
    than raised; on the JAX backend it lists JAX's devices instead (TensorFlow's version
    comes from the installed metadata). When a TPU is attached, the ``TPU via
    TensorFlow`` row says whether the installed TensorFlow can reach it at all
    (:func:`tensorflow_tpu_support`, decided from the installed wheels without loading
    the TPU runtime); on the TensorFlow backend it warns when it cannot, with the fix
    (``KERAS_BACKEND=jax``, or ``tensorflow-tpu`` matched to libtpu). Meanwhile it
    checks whether the hosts pretrained weights download from answer
    (:func:`check_network`, about 2 s at most; skipped with ``ZOO_OFFLINE=1``): when they
    do not, a listing with nothing on disk warns, with how to prefetch its files.

    Args:
        tuning_dir: the Keras Tuner folder to check for writing (default
            ``saved_models/.tuning``, as :func:`zoo.tune` uses).

    Returns:
        A :class:`DoctorReport`: ``.table`` (one row per check, with a fix for each
        warning and failure), ``.ok`` (no check failed), ``.network`` (the
        :class:`NetworkCheck`), ``.seconds`` (all of it, TensorFlow's import included)
        and a readable ``str()``.

    Raises:
        TypeError: if `tuning_dir` is not a path.

    Example:
        >>> report = zoo.doctor()
        >>> report.table.query("status != 'ok'")[["check", "fix"]]
    """
    if tuning_dir is not None and not isinstance(tuning_dir, (str, os.PathLike)):
        raise v.invalid("tuning_dir", "None or a folder path", tuning_dir, TypeError)
    start = time.perf_counter()
    network = _start_network_check()  # runs while TensorFlow is imported
    with contextlib.suppress(Exception):  # a broken TensorFlow is reported under devices
        from zoo import _quiet

        _quiet.prepare_backend()
    checks = _Checks()
    from zoo._version import __version__

    checks.add("packages", "zoo", __version__)
    _python(checks)
    _packages(checks)
    if _keras(checks):  # the rest imports Keras
        _devices(checks)
        try:
            _offline(checks, network())
            _folders(checks, None if tuning_dir is None else Path(tuning_dir))
        except ImportError as error:  # a broken dependency
            checks.add(
                "folders",
                "zoo modules",
                f"cannot import: {error}",
                "fail",
                "pip install --force-reinstall the package named here",
            )
    table = pd.DataFrame(checks.rows, columns=COLUMNS)
    return DoctorReport(table=table, seconds=time.perf_counter() - start, network=network())
