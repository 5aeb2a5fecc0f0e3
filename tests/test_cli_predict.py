"""`zoo predict MODEL INPUTS... [--top K] [--output FILE.csv]`."""

import numpy as np
import pandas as pd
import pytest
from test_predict import build_saved_models, houses_frame, write_png

import zoo
from zoo import cli


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    return build_saved_models(tmp_path_factory.mktemp("cli_predict"))


def test_help_lists_predict(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    assert "predict" in out and "zoo predict convnet_digits scans/ --top 3" in out
    with pytest.raises(SystemExit):
        cli.main(["predict", "--help"])
    out = capsys.readouterr().out
    assert "--top K" in out and "--output FILE.csv" in out


def test_predict_prints_a_row_per_image(saved, tmp_path, capsys):
    folder = tmp_path / "scans"
    write_png(folder / "a.png", (8, 8), "L", 1)
    write_png(folder / "b.png", (12, 9), "RGB", 2)
    assert cli.main(["predict", str(saved.paths["digits"]), str(folder)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["input", "predicted", "probability", "0"]
    assert [line.split()[0] for line in lines[1:]] == [str(folder / "a.png"), str(folder / "b.png")]
    expected = zoo.predict(saved.paths["digits"], folder)
    assert [line.split()[1] for line in lines[1:]] == list(expected["predicted"])


def test_predict_top_and_output_csv_by_saved_name(saved, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ZOO_SAVED_MODELS", str(saved.root / "saved"))
    image = write_png(tmp_path / "cat.png", (10, 14), "RGB", 3)
    assert cli.main(["predict", "photos", str(image), "--top", "2"]) == 0
    header = capsys.readouterr().out.splitlines()[0].split()
    tops = ["top1", "top1_probability", "top2", "top2_probability"]
    assert header == ["input", "predicted", "probability", *tops]

    target = tmp_path / "out" / "predictions.csv"
    assert cli.main(["predict", "photos", str(image), "--output", str(target)]) == 0
    assert capsys.readouterr().out.strip() == f"wrote 1 prediction(s) to {target}"
    written = pd.read_csv(target)
    expected = zoo.predict("photos", image)
    assert list(written.columns) == ["input", "predicted", "probability", "cat", "dog"]
    assert list(written["input"]) == [str(image)]
    np.testing.assert_allclose(written[["cat", "dog"]], expected[["cat", "dog"]], rtol=1e-6)
    assert [p.name for p in target.parent.iterdir()] == ["predictions.csv"]  # no leftovers


def test_predict_texts_text_files_and_csv_rows(saved, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ZOO_SAVED_MODELS", str(saved.root / "saved"))
    review = tmp_path / "review.txt"
    review.write_text("good great lovely")
    target = tmp_path / "texts.csv"
    arguments = ["predict", "reviews", "awful poor", str(review), "--output", str(target)]
    assert cli.main(arguments) == 0
    written = pd.read_csv(target)
    assert list(written["input"]) == ["awful poor", str(review)]  # existing paths: files
    expected = zoo.predict("reviews", ["awful poor", "good great lovely"])
    np.testing.assert_allclose(written[["neg", "pos"]], expected[["neg", "pos"]], rtol=1e-6)
    capsys.readouterr()

    long = "good " * 30  # shortened on screen, whole in the CSV
    assert cli.main(["predict", "reviews", long]) == 0
    row = capsys.readouterr().out.splitlines()[1]
    assert row.startswith(("good " * 12)[:57] + "...")

    csv = tmp_path / "houses.csv"
    houses_frame(3).to_csv(csv, index=False)
    assert cli.main(["predict", "houses", str(csv)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["input", "predicted", "probability", "cheap", "dear"]
    assert [line.split()[0] for line in lines[1:]] == ["0", "1", "2"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["no_such_model", "x.png"], "No saved model at"),
        (["digits", "{tmp}/fake.png"], "readable image files. Received: inputs='{tmp}/fake.png"),
        (["digits", "a cat"], "the model takes images, not text"),
        (["digits", "{tmp}/empty"], "folders that hold image files"),
        (["digits", "{tmp}/a.png", "--top", "11"], "at most the number of classes (10)"),
        (["houses", "{tmp}/a.png"], "a.png: not a CSV file"),
    ],
)
def test_predict_errors_are_one_line_with_exit_code_2(
    saved, tmp_path, capsys, monkeypatch, arguments, message
):
    monkeypatch.setenv("ZOO_SAVED_MODELS", str(saved.root / "saved"))
    (tmp_path / "fake.png").write_text("not a png")
    (tmp_path / "empty").mkdir()
    write_png(tmp_path / "a.png", (8, 8), "L", 1)
    arguments = [a.format(tmp=tmp_path) for a in arguments]
    assert cli.main(["predict", *arguments]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err.strip()
    assert err.startswith("zoo predict: error: ") and "\n" not in err
    assert message.format(tmp=tmp_path) in err
