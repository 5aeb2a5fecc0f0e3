"""``zoo doctor``: check the installation and say how to fix what is wrong.

:func:`doctor` looks at the versions of zoo's dependencies, Keras's backend, the
devices TensorFlow sees and what ``strategy="auto"`` and ``mixed_precision="auto"``
would pick there (:func:`zoo.distribute.auto_choice`), which pretrained weights are on
disk for offline use (:func:`zoo.transfer.weights.list_weights` and the keras-hub and
TF Hub listings), and whether zoo's folders can be written. Each check is ``ok``,
``warn`` or ``fail``; warnings and failures come with the fix. Nothing is downloaded
and nothing is left behind: the writability checks create and delete a temporary file.

Example:
    >>> report = zoo.doctor()
    >>> report.ok
    True
    >>> print(report)  # the same text as `zoo doctor`
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd
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
        ("tensorflow", "tensorflow-cpu", "tensorflow-macos", "tensorflow-intel", "tf-nightly"),
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


@dataclasses.dataclass(frozen=True)
class DoctorReport:
    """What :func:`doctor` found.

    Attributes:
        table: one row per check: ``section``, ``check``, ``value``, ``status``
            (``"ok"``, ``"warn"`` or ``"fail"``) and ``fix`` (empty when ok).
        seconds: how long the checks took.
    """

    table: pd.DataFrame
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when no check failed (warnings do not count)."""
        return not (self.table["status"] == "fail").any()

    @property
    def problems(self) -> pd.DataFrame:
        """The checks that warned or failed, with their fixes."""
        return self.table[self.table["status"] != "ok"]

    def __str__(self) -> str:
        table = self.table
        check_width = max([len(c) for c in table["check"]] + [5])
        value_width = min(max([len(x) for x in table["value"]] + [5]), 60)
        lines = []
        for section in dict.fromkeys(table["section"]):
            lines.append(f"{section}:")
            for row in table[table["section"] == section].itertuples():
                status = row.status.upper() if row.status != "ok" else "ok"
                line = f"  {row.check:<{check_width}}  {row.value:<{value_width}}  {status}"
                if row.fix:
                    line += f"\n  {'':<{check_width}}  fix: {row.fix}"
                lines.append(line.rstrip())
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
    if backend == "tensorflow":
        checks.add("keras", "backend", backend)
    else:
        checks.add(
            "keras",
            "backend",
            backend,
            "warn",
            "export KERAS_BACKEND=tensorflow (or set it in ~/.keras/keras.json): zoo.build "
            "works on any backend, but zoo.data, zoo.train, zoo.tune, zoo.distribute and "
            "TF Hub backbones need TensorFlow",
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


def _devices(checks: _Checks) -> None:
    try:
        import tensorflow as tf
    except Exception as error:
        checks.add(
            "devices",
            "import tensorflow",
            f"failed: {type(error).__name__}: {error}",
            "fail",
            "pip install --force-reinstall 'tensorflow>=2.16' (on Linux with an NVIDIA GPU: "
            "'tensorflow[and-cuda]>=2.16')",
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
    checks.add("devices", "TPU", "attached" if distribute.tpu_present() else "none")
    choice = distribute.auto_choice()
    replicas = choice["replicas"]
    on = f"{replicas} {choice['device'].upper()} replica{'s' if replicas != 1 else ''}"
    checks.add(
        "devices",
        "strategy 'auto'",
        f"{choice['strategy']} ({on if replicas is not None else 'TPU'})",
    )
    checks.add("devices", "mixed precision 'auto'", choice["mixed_precision"])


def _listing(names: list[str], present: list[bool]) -> str:
    have = [name for name, flag in zip(names, present, strict=True) if flag]
    text = f"{len(have)} of {len(names)} on disk"
    if have:
        shown = ", ".join(have[:_SHOWN_NAMES]) + (", ..." if len(have) > _SHOWN_NAMES else "")
        text += f": {shown}"
    return text


def _offline(checks: _Checks) -> None:
    from zoo.transfer import backbones

    offline = os.environ.get(backbones.OFFLINE_ENV) == "1"
    checks.add(
        "offline",
        backbones.OFFLINE_ENV,
        "1 (no downloads)" if offline else "unset (downloads allowed)",
    )
    listings = []
    try:
        from zoo.transfer import weights

        table = weights.list_weights()
        listings.append(
            (
                "ImageNet weights",
                table,
                "zoo weights pull NAME (on a machine with internet; copy the files into "
                "$ZOO_WEIGHTS_DIR here), or fine-tune with weights=None",
            )
        )
    except Exception as error:
        checks.add("offline", "ImageNet weights", f"cannot list: {error}", "warn", "")
    for label, module, function, fix in (
        (
            "keras-hub presets",
            "text",
            "text_rows",
            "copy a preset folder into $ZOO_WEIGHTS_DIR/<name>/ (or kagglehub's cache)",
        ),
        ("TF Hub modules", "hub", "hub_rows", "copy the module into $TFHUB_CACHE_DIR"),
    ):
        try:
            rows = getattr(__import__(f"zoo.transfer.{module}", fromlist=[function]), function)()
            listings.append((label, pd.DataFrame(rows, columns=["name", "offline"]), fix))
        except Exception as error:
            checks.add("offline", label, f"cannot list: {type(error).__name__}: {error}", "warn")
    for label, table, fix in listings:
        value = _listing(list(table["name"]), [bool(x) for x in table["offline"]])
        if offline and len(table) and not table["offline"].any():
            checks.add("offline", label, value, "warn", f"{backbones.OFFLINE_ENV}=1: {fix}")
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
    """Check zoo's installation: versions, backend, devices, offline files, folders.

    Args:
        tuning_dir: the Keras Tuner folder to check for writing (default
            ``saved_models/.tuning``, as :func:`zoo.tune` uses).

    Returns:
        A :class:`DoctorReport`: ``.table`` (one row per check, with a fix for each
        warning and failure), ``.ok`` (no check failed) and a readable ``str()``.

    Raises:
        TypeError: if `tuning_dir` is not a path.

    Example:
        >>> report = zoo.doctor()
        >>> report.table.query("status != 'ok'")[["check", "fix"]]
    """
    if tuning_dir is not None and not isinstance(tuning_dir, (str, os.PathLike)):
        raise v.invalid("tuning_dir", "None or a folder path", tuning_dir, TypeError)
    start = time.perf_counter()
    checks = _Checks()
    from zoo._version import __version__

    checks.add("packages", "zoo", __version__)
    _python(checks)
    _packages(checks)
    if _keras(checks):  # the rest imports Keras
        _devices(checks)
        try:
            _offline(checks)
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
    return DoctorReport(table=table, seconds=time.perf_counter() - start)
