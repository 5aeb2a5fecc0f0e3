import importlib.metadata
import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import keras
import pandas as pd
import pytest

import zoo
from zoo import _quiet, distribute, environment

HOSTS = ["storage.googleapis.com:443", "www.kaggle.com:443", "tfhub.dev:443"]


@pytest.fixture(autouse=True)
def _no_internet(reachable_hosts):
    """Every host answers (a stub: no test opens a socket to the internet)."""
    return reachable_hosts


def _unreachable(monkeypatch, *hosts, error=None):
    """`hosts` (all when none are named) time out."""

    def probe(host, port, timeout):
        if not hosts or host in hosts:
            raise error or TimeoutError("timed out")

    monkeypatch.setattr(environment, "probe", probe)


@pytest.fixture
def nothing_on_disk(monkeypatch, tmp_path):
    for name, folder in (
        ("KERAS_HOME", "keras"),
        ("ZOO_WEIGHTS_DIR", "weights"),
        ("KAGGLEHUB_CACHE", "kagglehub"),
        ("TFHUB_CACHE_DIR", "tfhub"),
    ):
        monkeypatch.setenv(name, str(tmp_path / folder))


@pytest.fixture
def report():
    return zoo.doctor()


def _row(report, check):
    rows = report.table[report.table["check"] == check]
    assert len(rows) == 1, report.table
    return rows.iloc[0]


def test_report_has_every_section_and_passes_here(report):
    table = report.table
    assert list(table.columns) == ["section", "check", "value", "status", "fix"]
    assert list(dict.fromkeys(table["section"])) == list(environment.SECTIONS)
    assert set(table["status"]) <= {"ok", "warn", "fail"}
    assert report.ok, report.problems
    for check in (
        "python",
        "tensorflow",
        "keras",
        "keras-tuner",
        "keras-hub",
        "tensorflow-hub",
        "tensorflow-datasets",
        "pandas",
        "numpy",
        "onnxruntime",
        "backend",
        "GPU",
        "strategy 'auto'",
        "mixed precision 'auto'",
        "ZOO_OFFLINE",
        "network",
        "ImageNet weights",
        "saved_models",
        "tuning",
        "feature cache",
        "weights",
        "keras cache",
    ):
        _row(report, check)
    assert _row(report, "keras")["value"] == keras.__version__
    assert "(optional)" in _row(report, "onnx")["value"]
    assert _row(report, "strategy 'auto'")["value"].startswith("default")
    assert _row(report, "mixed precision 'auto'")["value"] == "float32"
    assert (table["fix"] != "").sum() == (table["status"] != "ok").sum()
    assert _row(report, "network")["value"] == f"reachable ({', '.join(HOSTS)})"
    assert report.network.status == "reachable" and list(report.network.hosts) == HOSTS


def test_text_and_repr(report):
    text = str(report)
    for section in environment.SECTIONS:
        assert f"\n{section}:" in f"\n{text}"
    assert text.splitlines()[-1].startswith("zoo doctor: ")
    assert repr(report).startswith("DoctorReport(ok=True")
    from IPython.lib.pretty import pretty  # what a notebook cell shows

    assert pretty(report) == text


def test_auto_choice_on_a_cpu():
    assert distribute.auto_choice() == {
        "strategy": "default",
        "device": "cpu",
        "replicas": 1,
        "mixed_precision": "float32",
    }


def test_unwritable_tuning_dir_fails_with_the_fix(tmp_path):
    # A folder under a regular file can never be created (chmod does not stop root).
    (tmp_path / "afile").write_text("not a folder")
    report = zoo.doctor(tuning_dir=tmp_path / "afile" / "tuning")
    assert not report.ok
    row = _row(report, "tuning")
    assert row["status"] == "fail" and "not writable" in row["value"]
    assert "ZOO_SAVED_MODELS" in row["fix"] and "directory" in row["fix"]
    assert "FAIL" in str(report) and "1 failed" in str(report)
    assert not list((tmp_path / "saved_models").glob(".zoo-doctor-*"))


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes anywhere")
def test_read_only_tuning_dir_fails(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        assert _row(zoo.doctor(tuning_dir=folder), "tuning")["status"] == "fail"
    finally:
        folder.chmod(0o700)


def test_writable_leaves_nothing_behind(tmp_path):
    assert environment.writable(tmp_path) == (True, "writable")
    assert environment.writable(tmp_path / "new" / "deeper")[0]
    assert not (tmp_path / "new").exists()
    assert list(tmp_path.iterdir()) == []


def _fake_versions(monkeypatch, **versions):
    real = environment.package_version

    def fake(distributions):
        for name, version in versions.items():
            if name.replace("_", "-") in distributions:
                return version
        return real(distributions)

    monkeypatch.setattr(environment, "package_version", fake)


def test_missing_and_old_packages_fail_with_pip_fixes(monkeypatch):
    _fake_versions(monkeypatch, keras_tuner=None, tensorflow="2.15.1", pandas="2.2.3")
    report = zoo.doctor()
    assert not report.ok
    tuner = _row(report, "keras-tuner")
    assert tuner["value"] == "not installed" and tuner["status"] == "fail"
    assert tuner["fix"] == "pip install 'keras-tuner>=1.4.7'"
    tensorflow = _row(report, "tensorflow")
    assert tensorflow["status"] == "fail" and "needs >= 2.16" in tensorflow["value"]
    assert tensorflow["fix"] == "pip install 'tensorflow>=2.16'"
    assert _row(report, "pandas")["status"] == "ok"


def test_pre_releases_count_as_their_release(monkeypatch):
    _fake_versions(monkeypatch, tensorflow="2.16.0rc1", pandas="1.5.3.post1")
    report = zoo.doctor()
    assert _row(report, "tensorflow")["status"] == "ok"
    assert _row(report, "pandas")["status"] == "fail"  # needs >= 2.0


def test_keras_2_and_legacy_keras_fail(monkeypatch):
    _fake_versions(monkeypatch, keras="2.15.0")
    monkeypatch.setenv("TF_USE_LEGACY_KERAS", "1")
    report = zoo.doctor()
    keras_row = _row(report, "keras")
    assert keras_row["status"] == "fail" and "Keras 3" in keras_row["fix"]
    assert "tf_keras" in keras_row["fix"]
    assert _row(report, "TF_USE_LEGACY_KERAS")["status"] == "fail"


def test_partly_installed_onnx_warns(monkeypatch):
    _fake_versions(monkeypatch, onnxruntime=None)
    report = zoo.doctor()
    row = _row(report, "onnxruntime")
    assert row["status"] == "warn" and "zoo[export]" in row["fix"]
    assert report.ok  # warnings do not fail


def test_jax_is_a_backend_and_others_warn(monkeypatch):
    monkeypatch.setattr(keras.config, "backend", lambda: "jax")
    assert _row(zoo.doctor(), "backend")["status"] == "ok"
    monkeypatch.setattr(keras.config, "backend", lambda: "torch")
    row = _row(zoo.doctor(), "backend")
    assert row["status"] == "warn" and "KERAS_BACKEND=tensorflow or jax" in row["fix"]


def test_offline_without_weights_warns_and_skips_the_network(
    monkeypatch, nothing_on_disk, _no_internet
):
    monkeypatch.setenv("ZOO_OFFLINE", "1")
    report = zoo.doctor()
    assert _no_internet == []  # no connection tried
    assert _row(report, "ZOO_OFFLINE")["value"].startswith("1")
    network = _row(report, "network")
    assert network["status"] == "ok" and network["value"].startswith("not checked (ZOO_OFFLINE=1")
    assert report.network.status == "not checked" and report.network.skipped == "ZOO_OFFLINE=1"
    row = _row(report, "ImageNet weights")
    assert row["value"].startswith("0 of ") and row["status"] == "warn"
    assert "zoo weights pull" in row["fix"] and row["fix"].startswith("ZOO_OFFLINE=1: ")


def test_unreachable_network_warns_with_how_to_prefetch(monkeypatch, nothing_on_disk):
    _unreachable(monkeypatch)
    report = zoo.doctor()
    assert report.ok  # warnings only
    assert report.network.status == "unreachable"
    assert report.network.failed == dict.fromkeys(HOSTS, "timed out")
    assert _row(report, "ZOO_OFFLINE")["value"] == "unset (downloads allowed, network unreachable)"
    network = _row(report, "network")
    assert network["status"] == "warn"
    assert network["value"] == "unreachable (storage.googleapis.com:443: timed out; 2 more hosts)"
    for part in ("zoo weights pull", "$ZOO_WEIGHTS_DIR", "$TFDS_DATA_DIR", "ZOO_OFFLINE=1"):
        assert part in network["fix"]
    for check, host, fix in (
        ("ImageNet weights", "storage.googleapis.com:443", "zoo weights pull NAME"),
        ("keras-hub presets", "www.kaggle.com:443", "$ZOO_WEIGHTS_DIR/<name>/"),
        ("TF Hub modules", "tfhub.dev:443", "$TFHUB_CACHE_DIR"),
    ):
        row = _row(report, check)
        assert row["value"].startswith("0 of ") and row["status"] == "warn", row
        assert row["fix"].startswith(f"no network ({host})") and fix in row["fix"]
    assert "4 warnings" in str(report).splitlines()[-1]


def test_weights_on_disk_are_ok_without_network(monkeypatch):
    from zoo.transfer import weights

    on_disk = pd.DataFrame({"name": ["resnet_50.keras_in1k", "mobilenet_v2"], "offline": [1, 0]})
    monkeypatch.setattr(weights, "list_weights", lambda: on_disk)
    _unreachable(monkeypatch, error=ConnectionRefusedError(111, "Connection refused"))
    report = zoo.doctor()
    row = _row(report, "ImageNet weights")
    assert row["status"] == "ok" and row["value"] == "1 of 2 on disk: resnet_50.keras_in1k"
    assert report.network.failed["tfhub.dev:443"] == "Connection refused"


def test_partly_reachable_network_names_what_is_cut_off(monkeypatch, nothing_on_disk):
    _unreachable(monkeypatch, "www.kaggle.com", error=socket.gaierror(-2, "Name not known"))
    report = zoo.doctor()
    assert report.network.status == "partly reachable"
    row = _row(report, "network")
    assert row["status"] == "warn"
    assert row["value"] == "partly reachable (www.kaggle.com:443: cannot resolve the name)"
    assert row["fix"].startswith("keras-hub presets not on disk cannot be downloaded")
    assert _row(report, "keras-hub presets")["status"] == "warn"
    assert _row(report, "ImageNet weights")["status"] == "ok"
    assert _row(report, "ZOO_OFFLINE")["value"] == "unset (downloads allowed)"


def test_the_hosts_are_tried_at_once_and_a_hang_is_cut_short(monkeypatch):
    # Tried one after another, the barrier would break: each waits for all three.
    barrier = threading.Barrier(3, timeout=5)
    monkeypatch.setattr(environment, "probe", lambda host, port, timeout: barrier.wait())
    assert environment.check_network().status == "reachable"

    release = threading.Event()
    monkeypatch.setattr(environment, "probe", lambda host, port, timeout: release.wait(10))
    try:
        network = environment.check_network(timeout=0.05)
    finally:
        release.set()
    assert network.failed == dict.fromkeys(HOSTS, "no answer within 0.55 s")
    assert network.seconds < 5


def test_a_mirror_and_a_proxy_change_the_hosts_tried(monkeypatch, _no_internet):
    monkeypatch.setenv("ZOO_WEIGHTS_MIRROR", "https://mirror.example.org:8443/weights")
    assert environment.check_network().sources == {
        "ImageNet weights": "mirror.example.org:8443",
        "keras-hub presets": "www.kaggle.com:443",
        "TF Hub modules": "tfhub.dev:443",
    }
    monkeypatch.setenv("ZOO_WEIGHTS_MIRROR", "/srv/weights")  # a folder: no network needed
    assert "ImageNet weights" not in environment.check_network().sources

    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("https_proxy", "http://proxy.example.org:3128")
    _no_internet.clear()
    assert environment.check_network().status == "reachable"
    assert _no_internet == ["proxy.example.org"] * 2  # Kaggle's and TF Hub's, via the proxy
    _unreachable(monkeypatch)
    network = environment.check_network()
    assert network.hosts["tfhub.dev:443"] == "proxy proxy.example.org:3128: timed out"


def test_seconds_cover_the_tensorflow_import(monkeypatch):
    def slow_import():  # zoo._quiet also lists the devices, their log lines hidden
        time.sleep(0.5)

    monkeypatch.setattr(_quiet, "import_tensorflow", slow_import)
    report = zoo.doctor()
    assert report.seconds >= 0.5
    assert str(report).splitlines()[-1].endswith(f"({report.seconds:.1f} s)")


def test_a_failing_tensorflow_import_is_not_raised(monkeypatch):
    def broken():
        raise RuntimeError("libcudart.so.12: cannot open shared object file")

    monkeypatch.setattr(_quiet, "import_tensorflow", broken)
    report = zoo.doctor()  # TensorFlow is imported in this process: the checks still run
    assert report.ok and "devices" in set(report.table["section"])


def _status_lines(report):
    """Each row's first line and where its status starts, found by its check name."""
    text = str(report)
    lines = text.splitlines()
    width = max(len(check) for check in report.table["check"])
    found = []
    for row in report.table.itertuples():
        matches = [line for line in lines if line.startswith(f"  {row.check:<{width}}  ")]
        assert len(matches) == 1, (row.check, text)
        status = row.status.upper() if row.status != "ok" else "ok"
        assert matches[0].endswith(f"  {status}"), matches[0]
        found.append((matches[0], len(matches[0]) - len(status)))
    return lines, found, 2 + width + 2


def test_text_is_aligned_and_fits_88_columns(monkeypatch, tmp_path, nothing_on_disk):
    _unreachable(monkeypatch)  # long values and fixes
    deep = tmp_path.joinpath(*["a_rather_long_folder_name"] * 4, "tuning")
    report = zoo.doctor(tuning_dir=deep)
    lines, firsts, indent = _status_lines(report)
    assert len({column for _, column in firsts}) == 1  # every status starts in one column
    assert max(len(line) for line in lines) <= environment.LINE_WIDTH
    continued = [line for line in lines if line.startswith(" " * indent)]
    fixes = [line for line in continued if line[indent:].startswith("fix: ")]
    assert len(fixes) == (report.table["fix"] != "").sum()
    for line in continued:  # a value's next lines start under it, a fix's under its text
        start = len(line) - len(line.lstrip())
        assert start in (indent, indent + len("fix: ")), line
    # The long path is broken after slashes, and nothing is lost.
    first = next(i for i, line in enumerate(lines) if line.startswith("  tuning "))
    parts = [lines[first][indent:].rsplit(None, 1)[0].rstrip()]
    for line in lines[first + 1 :]:
        if not line.startswith(" " * indent) or line[indent:].startswith("fix: "):
            break
        parts.append(("" if parts[-1].endswith("/") else " ") + line[indent:])
    assert len(parts) > 2 and parts[0].endswith("/")
    assert "".join(parts) == _row(report, "tuning")["value"]


def test_wrap_breaks_at_spaces_then_slashes():
    assert environment._wrap("a bb ccc dddd", 6) == ["a bb", "ccc", "dddd"]
    assert environment._wrap("see /aaaa/bbbb/cccc here", 10) == [
        "see",
        "/aaaa/",
        "bbbb/cccc",
        "here",
    ]
    assert environment._wrap("x" * 12, 5) == ["xxxxx", "xxxxx", "xx"]
    assert environment._wrap("", 5) == [""]


def test_a_hand_made_report_prints_aligned():
    table = pd.DataFrame(
        [
            ["folders", "tuning", "/x/" + "y" * 100 + " (writable)", "ok", ""],
            ["folders", "weights", "/w (writable)", "warn", "set $ZOO_WEIGHTS_DIR " * 10],
        ],
        columns=environment.COLUMNS,
    )
    report = environment.DoctorReport(table=table, seconds=1.25)
    lines, firsts, _ = _status_lines(report)
    assert len({column for _, column in firsts}) == 1
    assert max(len(line) for line in lines) <= environment.LINE_WIDTH
    assert report.network.status == "not checked"
    assert lines[-1] == "zoo doctor: 0 failed, 1 warning (1.2 s)"


def test_bad_tuning_dir_type():
    with pytest.raises(TypeError, match="Received: tuning_dir=3"):
        zoo.doctor(tuning_dir=3)


@pytest.mark.skipif(sys.version_info < (3, 11), reason="tomllib")
def test_minimum_versions_match_pyproject():
    import tomllib

    pyproject = Path(__file__).parents[1] / "pyproject.toml"
    project = tomllib.loads(pyproject.read_text())["project"]
    required = {
        line.split(">=")[0].strip(): line.split(">=")[1].strip()
        for line in project["dependencies"] + project["optional-dependencies"]["export"]
        if ">=" in line
    }
    for _, pip_name, _, minimum in environment.PACKAGES + environment.OPTIONAL_PACKAGES:
        assert required[pip_name] == minimum, pip_name


def test_a_bad_proxy_is_reported_not_raised(monkeypatch):
    monkeypatch.setenv("https_proxy", "http://[proxy")  # urllib cannot parse it
    report = zoo.doctor()
    assert report.network.status == "not checked"
    row = _row(report, "network")
    assert row["status"] == "warn" and "HTTPS_PROXY" in row["fix"]


def test_environment_variable_names_match_the_modules_that_read_them():
    from zoo.transfer import backbones, weights

    assert environment.OFFLINE_ENV == backbones.OFFLINE_ENV
    assert environment.MIRROR_ENV == weights.MIRROR_ENV


# A TPU and the wheels that reach it (no TPU here: its presence and the installed
# distributions' metadata are stand-ins).


def _installed(monkeypatch, requires=(), **distributions):
    """Distributions installed (version) or not (None) as named; the rest as they are.

    Names are written with ``_`` for ``-``; `requires` is tensorflow-tpu's metadata.
    """
    given = {name.replace("_", "-"): version for name, version in distributions.items()}
    real = environment.package_version

    def fake(names):
        for name in names:
            version = given[name] if name in given else real((name,))
            if version is not None:
                return version
        return None

    monkeypatch.setattr(environment, "package_version", fake)
    monkeypatch.setattr(
        environment,
        "requirements",
        lambda name: list(requires) if name == "tensorflow-tpu" else [],
    )


@pytest.fixture
def tpu_attached(monkeypatch):
    monkeypatch.setattr(distribute, "tpu_present", lambda: True)


@pytest.mark.parametrize(
    ("distributions", "requires", "reachable", "why"),
    [
        ({}, (), False, "tensorflow 2.21.0 has no TPU support (tensorflow-tpu is not"),
        ({"tensorflow": None}, (), False, "no: TensorFlow is not installed"),
        (
            {"tensorflow": None, "tensorflow_tpu": "2.18.0", "libtpu": "2.18.0"},
            ["libtpu ==2.18.0"],
            True,
            "yes: tensorflow-tpu 2.18.0 with libtpu 2.18.0",
        ),
        (
            {"tensorflow": None, "tensorflow_tpu": "2.20.0", "libtpu": "0.0.17"},
            ["libtpu~=0.0.14", "numpy>=1.26", "tensorboard ; extra == 'tb'"],
            True,
            "yes: tensorflow-tpu 2.20.0 with libtpu 0.0.17",
        ),
        (
            {"tensorflow": None, "tensorflow_tpu": "2.16.1", "libtpu": "2.16.0rc0"},
            ["libtpu ==2.16.0rc0"],
            True,
            "with libtpu 2.16.0rc0",
        ),
        (  # jax[tpu] brought its own libtpu, which this tensorflow-tpu cannot load
            {"tensorflow": None, "tensorflow_tpu": "2.18.0", "libtpu": "0.0.17"},
            ["libtpu ==2.18.0"],
            False,
            "no: tensorflow-tpu 2.18.0 needs libtpu==2.18.0, but libtpu 0.0.17 is installed",
        ),
        (
            {"tensorflow": None, "tensorflow_tpu": "2.18.0", "libtpu": None},
            ["libtpu ==2.18.0"],
            False,
            "needs libtpu==2.18.0, which is not installed",
        ),
        (
            {"tensorflow": "2.21.0", "tensorflow_tpu": "2.20.0", "libtpu": "0.0.17"},
            ["libtpu~=0.0.14"],
            False,
            "tensorflow 2.21.0 and tensorflow-tpu 2.20.0 are both installed",
        ),
    ],
    ids=[
        "plain",
        "none",
        "matched",
        "compatible",
        "pre-release",
        "mismatched",
        "no-libtpu",
        "both",
    ],
)
def test_tensorflow_tpu_support_is_read_from_the_wheels(
    monkeypatch, distributions, requires, reachable, why
):
    _installed(monkeypatch, requires=requires, **{"tensorflow": "2.21.0", **distributions})
    found = environment.tensorflow_tpu_support()
    assert found[0] is reachable and why in found[1], found
    # TensorFlow listing TPU devices settles it, whatever the wheels say.
    assert environment.tensorflow_tpu_support(listed=1) == (
        True,
        "yes: TensorFlow lists 1 TPU device",
    )


def test_a_tpu_that_tensorflow_cannot_reach_warns_with_the_jax_fix(monkeypatch, tpu_attached):
    _installed(monkeypatch, tensorflow="2.21.0", tensorflow_tpu=None)
    report = zoo.doctor()
    assert report.ok  # a warning: training on the CPU still works
    assert _row(report, "TPU")["value"] == "attached"
    row = _row(report, "TPU via TensorFlow")
    assert row["status"] == "warn" and row["value"].startswith("no: tensorflow 2.21.0 has no TPU")
    for part in ("KERAS_BACKEND=jax", "os.environ['KERAS_BACKEND'] = 'jax'", "tensorflow-tpu"):
        assert part in row["fix"]
    strategy = _row(report, "strategy 'auto'")["value"]
    assert strategy == "TPUStrategy (TPU, which this TensorFlow cannot reach)"
    assert _row(report, "mixed precision 'auto'")["value"] == "mixed_bfloat16"
    assert max(len(line) for line in str(report).splitlines()) <= environment.LINE_WIDTH


def test_a_tpu_that_tensorflow_reaches_is_ok(monkeypatch, tpu_attached):
    _installed(
        monkeypatch,
        requires=["libtpu ==2.18.0"],
        tensorflow=None,
        tensorflow_tpu="2.18.0",
        libtpu="2.18.0",
    )
    report = zoo.doctor()
    assert _row(report, "tensorflow")["value"] == "2.18.0"  # tensorflow-tpu is a TensorFlow
    row = _row(report, "TPU via TensorFlow")
    assert row["status"] == "ok" and row["value"] == "yes: tensorflow-tpu 2.18.0 with libtpu 2.18.0"
    assert _row(report, "strategy 'auto'")["value"] == "TPUStrategy (TPU)"


def test_tpu_devices_tensorflow_lists_count_whatever_the_wheels(monkeypatch, tpu_attached):
    import tensorflow as tf

    _installed(monkeypatch, tensorflow="2.21.0", tensorflow_tpu=None)
    real = tf.config.list_physical_devices
    monkeypatch.setattr(
        tf.config,
        "list_physical_devices",
        lambda kind=None: ["TPU"] * 4 if kind == "TPU" else real(kind),
    )
    row = _row(zoo.doctor(), "TPU via TensorFlow")
    assert row["status"] == "ok" and row["value"] == "yes: TensorFlow lists 4 TPU devices"


def test_no_tpu_no_tpu_row(report):
    assert _row(report, "TPU")["value"] == "none"
    assert "TPU via TensorFlow" not in set(report.table["check"])


def test_on_jax_the_tpu_rows_need_no_tensorflow(tmp_path):
    """On the JAX backend (a child process): JAX's TPU devices, and TensorFlow's verdict as
    information; TensorFlow is blocked, so nothing in these sections imports it."""
    pytest.importorskip("jax")
    script = textwrap.dedent(
        """
        import json, sys, types
        sys.modules["tensorflow"] = None  # any import of TensorFlow now fails
        import jax
        import zoo
        from zoo import distribute, environment

        def rows(report):
            table = report.table[report.table["section"].isin(["packages", "keras", "devices"])]
            return {row.check: [row.value, row.status, row.fix] for row in table.itertuples()}

        found = {"cpu": rows(zoo.doctor())}  # TPU_NAME is set, but JAX lists CPUs only
        tpus = [types.SimpleNamespace(platform="tpu", id=i, device_kind="TPU v5 lite")
                for i in range(8)]
        jax.local_devices = lambda *args, **kwargs: tpus
        distribute.auto_choice = lambda: {"strategy": "DataParallel", "device": "tpu",
                                          "replicas": 8, "mixed_precision": "mixed_bfloat16"}
        given = {"tensorflow": None, "tensorflow-tpu": "2.18.0", "libtpu": "2.18.0"}
        real = environment.package_version
        environment.package_version = lambda names: next(
            (found for found in (given[n] if n in given else real((n,)) for n in names)
             if found), None)
        environment.requirements = lambda name: ["libtpu ==2.18.0"]
        found["tpu"] = rows(zoo.doctor())
        found["tensorflow imported"] = sys.modules.get("tensorflow") is not None
        print(json.dumps(found))
        """
    )
    env = {
        **os.environ,
        "KERAS_BACKEND": "jax",
        "JAX_PLATFORMS": "cpu",
        "TPU_NAME": "local",
        "ZOO_OFFLINE": "1",
        "ZOO_SAVED_MODELS": str(tmp_path / "saved_models"),
    }
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert not found["tensorflow imported"]
    cpu, tpu = found["cpu"], found["tpu"]
    for rows in (cpu, tpu):
        assert rows["backend"][:2] == ["jax", "ok"]
        assert all(status != "fail" for _, status, _ in rows.values()), rows
    assert cpu["jax"][0].split()[0] == importlib.metadata.version("jax")
    assert cpu["tensorflow"][0].endswith("(tf.data pipelines; Keras runs on JAX)")
    # A TPU JAX cannot use warns; TensorFlow's verdict is information on this backend.
    assert cpu["TPU"][1] == "warn" and "jax[tpu]" in cpu["TPU"][2]
    value, status, _ = cpu["TPU via TensorFlow"]
    assert status == "ok" and value.startswith("no: tensorflow ") and "has no TPU support" in value
    assert value.endswith("; not needed on the JAX backend")
    assert tpu["JAX devices"][0].startswith("8 tpu (TPU v5 lite): tpu:0, tpu:1")
    assert tpu["TPU"][:2] == ["8 JAX devices", "ok"]
    assert tpu["TPU via TensorFlow"][:2] == [
        "yes: tensorflow-tpu 2.18.0 with libtpu 2.18.0; not needed on the JAX backend",
        "ok",
    ]
    assert tpu["strategy 'auto'"][0] == "DataParallel (8 TPU replicas, keras.distribution)"
    assert tpu["mixed precision 'auto'"][0] == "mixed_bfloat16"
