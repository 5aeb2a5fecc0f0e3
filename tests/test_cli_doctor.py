import pytest

from zoo import cli, environment


@pytest.fixture(autouse=True)
def _hosts(reachable_hosts):
    """Stub the connection check (no test reaches the internet); returns the hosts tried."""
    return reachable_hosts


def test_doctor_exits_0_when_nothing_failed(capsys):
    assert cli.main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "packages:" in out and "folders:" in out
    assert out.rstrip().splitlines()[-1].startswith("zoo doctor: ")


def test_doctor_exits_1_with_the_fix_when_a_check_fails(monkeypatch, capsys):
    real = environment.package_version
    monkeypatch.setattr(
        environment,
        "package_version",
        lambda names: None if "keras-tuner" in names else real(names),
    )
    assert cli.main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "fix: pip install 'keras-tuner>=1.4.7'" in out


def test_doctor_says_the_network_is_unreachable_in_aligned_rows(monkeypatch, tmp_path, capsys):
    def unreachable(host, port, timeout):
        raise TimeoutError("timed out")

    monkeypatch.setattr(environment, "probe", unreachable)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("ZOO_WEIGHTS_DIR", str(tmp_path / "weights"))
    assert cli.main(["doctor"]) == 0  # warnings do not fail
    lines = capsys.readouterr().out.splitlines()
    network = next(line for line in lines if line.startswith("  network "))
    assert "unreachable (storage.googleapis.com:443: timed out;" in network
    assert network.endswith("  WARN")
    weights = next(line for line in lines if line.startswith("  ImageNet weights "))
    assert "0 of " in weights and weights.endswith("  WARN")
    assert any("zoo weights pull" in line for line in lines)
    rows = [line for line in lines if line.startswith("  ") and not line.startswith("   ")]
    columns = {len(line) - len(line.split()[-1]) for line in rows}
    assert len(columns) == 1, rows  # every status starts in one column
    assert max(len(line) for line in lines) <= environment.LINE_WIDTH


def test_doctor_skips_the_network_with_zoo_offline(monkeypatch, capsys, _hosts):
    monkeypatch.setenv("ZOO_OFFLINE", "1")
    assert cli.main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "network" in out and "not checked (ZOO_OFFLINE=1" in out
    assert _hosts == []


def test_doctor_on_a_tpu_that_tensorflow_cannot_reach_says_use_jax(monkeypatch, capsys):
    from zoo import distribute

    monkeypatch.setattr(distribute, "tpu_present", lambda: True)
    real = environment.package_version
    monkeypatch.setattr(
        environment,
        "package_version",
        lambda names: None if names == ("tensorflow-tpu",) else real(names),
    )
    assert cli.main(["doctor"]) == 0  # a warning: nothing is broken
    lines = capsys.readouterr().out.splitlines()
    row = next(i for i, line in enumerate(lines) if line.startswith("  TPU via TensorFlow "))
    assert "no: tensorflow " in lines[row] and lines[row].endswith("  WARN")
    fix = " ".join(line.strip() for line in lines[row + 1 : row + 9])
    assert "fix: set KERAS_BACKEND=jax before keras or zoo is imported" in fix
    assert "os.environ['KERAS_BACKEND'] = 'jax'" in fix
    assert max(len(line) for line in lines) <= environment.LINE_WIDTH
