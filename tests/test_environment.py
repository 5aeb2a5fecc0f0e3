import os
import sys
from pathlib import Path

import keras
import pytest

import zoo
from zoo import distribute, environment


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


def test_other_backend_warns(monkeypatch):
    monkeypatch.setattr(keras.config, "backend", lambda: "jax")
    row = _row(zoo.doctor(), "backend")
    assert row["status"] == "warn" and "KERAS_BACKEND=tensorflow" in row["fix"]


def test_offline_without_weights_warns(monkeypatch, tmp_path):
    monkeypatch.setenv("ZOO_OFFLINE", "1")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.delenv("ZOO_WEIGHTS_DIR", raising=False)
    report = zoo.doctor()
    assert _row(report, "ZOO_OFFLINE")["value"].startswith("1")
    row = _row(report, "ImageNet weights")
    assert row["value"].startswith("0 of ") and row["status"] == "warn"
    assert "zoo weights pull" in row["fix"]


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
