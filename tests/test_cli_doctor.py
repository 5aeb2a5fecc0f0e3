from zoo import cli, environment


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
