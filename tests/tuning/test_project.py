"""A search belongs to its data and space: zoo_search.json, checked before any trial."""

import json

import numpy as np
import pytest

import zoo
from zoo._validation import ArgumentValueError
from zoo.tuning import project as projects
from zoo.tuning import search

SPACE = {
    "units": [[8], [16]],
    "dropout": 0.0,
    "batch_norm": None,
    "activation": None,
    "learning_rate": 1e-2,
}
ADVICE = "overwrite=True"


@pytest.fixture(scope="module")
def digits():
    return zoo.data.load("digits", batch_size=64)


@pytest.fixture(scope="module")
def blobs():
    rng = np.random.default_rng(0)
    return zoo.data.load(rng.normal(size=(60, 5)).astype("float32"), np.arange(60) % 3)


@pytest.fixture(scope="module")
def first(digits, tmp_path_factory):
    """One finished trial of mlp_tiny on digits, in a folder the tests copy."""
    directory = tmp_path_factory.mktemp("tuning")
    return zoo.tune("mlp_tiny", digits, space=SPACE, **_options(directory))


def _options(directory):
    return {"max_trials": 1, "epochs": 1, "directory": directory, "save": False, "verbose": 0}


def _copy(first, tmp_path):
    """The first search's folder, copied so that each test changes its own."""
    import shutil

    shutil.copytree(first.directory, tmp_path / first.directory.name)
    return tmp_path


@pytest.fixture
def no_tuner(monkeypatch):
    """Fail a test whose call goes on to build a hypermodel or a tuner."""

    def fail(*args, **kwargs):
        raise AssertionError("the tuner was built")

    monkeypatch.setattr(search, "_hypermodel", fail)
    monkeypatch.setattr(search, "_open_tuner", fail)


def test_default_name_holds_the_data_fingerprint_and_the_record(first, digits):
    assert first.directory.name == f"mlp_tiny-{digits.fingerprint[:8]}"
    record = json.loads((first.directory / projects.RECORD).read_text())
    assert record["architecture"] == "mlp_tiny" and record["algorithm"] == "random"
    assert record["objective"] == {"name": "val_accuracy", "direction": "max"}
    assert record["space"]["units"] == [[8], [16]] and record["space"]["dropout"] == 0.0
    assert record["data"]["fingerprint"] == digits.fingerprint
    assert record["data"]["input_shape"] == [8, 8, 1] and record["data"]["num_classes"] == 10
    assert record["task"] == record["data"]["task"] == "classification"


def test_other_data_gets_its_own_folder(first, blobs, tmp_path):
    directory = _copy(first, tmp_path)
    other = zoo.tune("mlp_tiny", blobs, space=SPACE, **_options(directory))
    assert other.directory.name == f"mlp_tiny-{blobs.fingerprint[:8]}"
    assert other.directory != directory / first.directory.name
    assert len(other.trials) == 1


def test_other_data_in_the_same_folder_is_refused_before_the_tuner(
    first, blobs, tmp_path, no_tuner
):
    directory = _copy(first, tmp_path)
    with pytest.raises(ArgumentValueError) as error:
        zoo.tune(
            "mlp_tiny",
            blobs,
            space=SPACE,
            project_name=first.directory.name,
            **_options(directory),
        )
    message = str(error.value)
    assert message.startswith("`data` must be") and "\n" not in message
    assert "input_shape (8, 8, 1) there, (5,) here" in message
    assert "num_classes 10 there, 3 here" in message
    assert ADVICE in message and "project_name" in message
    assert not (directory / first.directory.name / "trial_1").exists()


def test_the_same_data_split_otherwise_is_refused(first, tmp_path, no_tuner):
    directory = _copy(first, tmp_path)
    resplit = zoo.data.load("digits", batch_size=64, validation_split=0.2)
    with pytest.raises(ArgumentValueError) as error:
        zoo.tune("mlp_tiny", resplit, space=SPACE, **_options(directory))  # the default name
    message = str(error.value)
    assert "splits" in message and "'validation': 180" in message and ADVICE in message
    assert "'validation': 360" in message  # there, and here


@pytest.mark.parametrize(
    ("change", "argument", "text"),
    [
        ({"space": {**SPACE, "units": [[8], [32]]}}, "space", "space['units'] [[8], [16]] there"),
        ({"space": {**SPACE, "dropout": None}}, "space", "space['dropout'] 0.0 there, absent"),
        ({"name": "mlp"}, "name_or_builder", "architecture 'mlp_tiny' there, 'mlp' here"),
        ({"objective": "val_loss"}, "objective", "val_accuracy (max) there, val_loss (min)"),
        ({"direction": "min"}, "direction", "val_accuracy (min) here"),
        ({"algorithm": "grid"}, "algorithm", "algorithm 'random' there, 'grid' here"),
    ],
)
def test_another_space_architecture_or_objective_is_refused(
    change, argument, text, first, digits, tmp_path, no_tuner
):
    directory = _copy(first, tmp_path)
    name = change.pop("name", "mlp_tiny")
    arguments = {"space": SPACE, "project_name": first.directory.name, **change}
    with pytest.raises(ArgumentValueError) as error:
        zoo.tune(name, digits, **arguments, **_options(directory))
    message = str(error.value)
    assert message.startswith(f"`{argument}` must be what the search in")
    assert text in message and ADVICE in message and "\n" not in message


def test_the_same_call_resumes(first, digits, tmp_path):
    directory = _copy(first, tmp_path)
    options = {**_options(directory), "max_trials": 2}
    resumed = zoo.tune("mlp_tiny", digits, space=SPACE, **options)
    assert resumed.directory.name == first.directory.name
    assert list(resumed.trials["trial"]) == [0, 1]
    assert resumed.trials["score"][0] == pytest.approx(first.trials["score"][0])  # kept


def test_overwrite_replaces_the_search_and_its_record(first, blobs, tmp_path):
    directory = _copy(first, tmp_path)
    name = first.directory.name
    result = zoo.tune(
        "mlp_tiny", blobs, space=SPACE, project_name=name, overwrite=True, **_options(directory)
    )
    assert result.directory == directory / name and list(result.trials["trial"]) == [0]
    record = json.loads((result.directory / projects.RECORD).read_text())
    assert record["data"]["fingerprint"] == blobs.fingerprint


def test_an_explicit_project_name_is_used_as_given(digits, tmp_path):
    result = zoo.tune("mlp_tiny", digits, space=SPACE, project_name="mine", **_options(tmp_path))
    assert result.directory == tmp_path / "mine"
    assert (tmp_path / "mine" / projects.RECORD).is_file()
    for bad in ("a/b", "..", "."):
        with pytest.raises(ArgumentValueError, match="project_name"):
            zoo.tune("mlp_tiny", digits, project_name=bad, **_options(tmp_path))


def test_a_search_without_a_record_is_refused(first, digits, tmp_path, no_tuner):
    directory = _copy(first, tmp_path)  # as an older zoo left it: no record
    (directory / first.directory.name / projects.RECORD).unlink()
    with pytest.raises(ArgumentValueError) as error:
        zoo.tune("mlp_tiny", digits, space=SPACE, **_options(directory))
    message = str(error.value)
    assert message.startswith("`project_name` must be a search zoo can check")
    assert "older zoo" in message and ADVICE in message and "\n" not in message


def test_a_record_without_trials_is_replaced(digits, blobs, tmp_path):
    folder = tmp_path / "p"
    record = projects.record(
        architecture="mlp_tiny",
        algorithm="random",
        task="classification",
        objective="val_accuracy",
        direction="max",
        space=SPACE,
        data=blobs,
    )
    projects.claim(folder, record, overwrite=False)  # a call that stopped before its trial
    result = zoo.tune("mlp_tiny", digits, space=SPACE, project_name="p", **_options(tmp_path))
    assert list(result.trials["status"]) == ["COMPLETED"]
    written = json.loads((folder / projects.RECORD).read_text())
    assert written["data"]["fingerprint"] == digits.fingerprint


def test_command_line_refusal_is_one_line_with_exit_code_2(first, tmp_path, capsys):
    from zoo import cli

    directory = _copy(first, tmp_path)
    arguments = [
        "tune",
        "mlp_tiny",
        "--data",
        "digits",
        "--max-trials",
        "1",
        "--epochs",
        "1",
        "--space",
        "units=[(32,)]",  # another space than the search's
        "--directory",
        str(directory),
        "--project-name",
        first.directory.name,
        "--no-save",
    ]
    assert cli.main(arguments) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in captured.err + captured.out
    assert lines[0].startswith("zoo tune: error: `space` must be what the search in")
    assert "--overwrite" in lines[0] and "--project-name" in lines[0]
    assert not (directory / first.directory.name / "trial_1").exists()


def test_short_fingerprints_and_stable_spaces():
    assert projects.short_fingerprint("1a2b3c4d5e6f7081") == "1a2b3c4d"
    tfds = projects.short_fingerprint("tfds:mnist:3.0.1")
    assert len(tfds) == 8 and int(tfds, 16) >= 0
    space = {"units": [(8,), (16, 8)], "dropout": {"min": 0.0, "max": 0.5}, "n": np.int64(3)}
    assert projects.stable(space) == {
        "dropout": {"max": 0.5, "min": 0.0},
        "n": 3,
        "units": ["(8,)", "(16, 8)"],
    }
    assert json.dumps(projects.stable(space)) == json.dumps(projects.stable(dict(space)))
