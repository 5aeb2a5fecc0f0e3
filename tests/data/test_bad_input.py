"""Bad input to ``zoo.data.load`` ends in a zoo error that names what is wrong (issue 17)."""

import re
import warnings

import numpy as np
import pandas as pd
import PIL.Image
import pytest
from sample_data import write_images

import zoo
from zoo._validation import ArgumentTypeError, ArgumentValueError, DamagedFileError, UserError
from zoo.data import bundled, images, standard, tabular

# --------------------------------------------------------------------- stray text cells


def _numbers(n=40):
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {"a": rng.normal(size=n), "b": rng.normal(size=n), "label": ["x", "y"] * (n // 2)}
    )


def test_a_stray_text_cell_in_a_numeric_column_is_named():
    frame = _numbers()
    frame["a"] = frame["a"].astype(object)
    frame.loc[5, "a"] = "abc"
    with pytest.raises(ArgumentValueError, match="Received") as info:
        zoo.data.load(frame)
    message = str(info.value)
    for part in ("column 'a'", "39 of 40", "'abc' at row(s) [5]", "fix or drop", "90%"):
        assert part in message
    assert "categorical=['a']" in message
    declared = zoo.data.load(frame, categorical=["a"])  # the user says it is categorical
    assert declared.inputs["columns"] == {"a": "categorical", "b": "numeric"}
    shifted = frame.set_axis(range(100, 140))
    with pytest.raises(ArgumentValueError, match=r"positions \[5\] \(index \[105\]\)"):
        zoo.data.load(shifted)


def test_csv_cells_are_named_by_their_line_in_the_file(tmp_path):
    rows = [f"{i}.5,{i},note {i},{i % 2}" for i in range(12)]
    rows[1] = '1.5,1,"a note on\ntwo lines",1'  # a quoted cell spanning two lines
    rows.insert(2, "")  # a blank line, which pandas skips
    rows[4] = "?,3,note 3,1"  # line 1 header, 2 row 0, 3-4 row 1, 5 blank, 6 row 2, 7 row 3
    path = tmp_path / "table.csv"
    path.write_text("a,b,note,label\n" + "\n".join(rows) + "\n")
    with pytest.raises(ArgumentValueError) as info:
        zoo.data.load(str(path))
    assert "'?' at line(s) [7] of table.csv (the header is line 1)" in str(info.value)


def test_the_share_of_numbers_that_makes_a_column_numeric():
    assert tabular.NUMERIC_SHARE == 0.9
    label = ["x", "y"] * 10
    eight_in_ten = [str(i) for i in range(16)] + ["?", "-", "n.a.", "none"]
    zip_codes = [f"0{7000 + i % 4}" for i in range(20)]  # numbers as strings, all of them
    for values in (eight_in_ten, zip_codes, ["red", "blue"] * 10):
        data = zoo.data.load(pd.DataFrame({"c": values, "label": label}))
        assert data.inputs["columns"] == {"c": "categorical"}  # as before
    nine_in_ten = [str(i) for i in range(18)] + ["?", "-"]
    with pytest.raises(ArgumentValueError, match=r"'\?', '-' at row\(s\) \[18, 19\]"):
        zoo.data.load(pd.DataFrame({"c": nine_in_ten, "label": label}))


def test_categorical_declares_columns_of_numbers(tmp_path):
    frame = pd.DataFrame(
        {"zip": [10001, 10002, 10003, 10004] * 10, "x": np.arange(40.0), "label": [0, 1] * 20}
    )
    frame.to_csv(tmp_path / "shops.csv", index=False)
    assert zoo.data.load(frame).input_shape == (2,)
    data = zoo.data.load(str(tmp_path / "shops.csv"), categorical=("zip",))
    assert data.inputs["columns"] == {"zip": "categorical", "x": "numeric"}
    assert data.input_shape == (1 + 1 + 4,)  # x, unseen zip, four zip codes
    for bad, error, text in [
        ("zip", ArgumentTypeError, "list or tuple of column names"),
        (["zpi"], ArgumentValueError, "did you mean 'zip'"),
        (["label"], ArgumentValueError, "not the target"),
        ([3], ArgumentTypeError, "column names"),
    ]:
        with pytest.raises(error, match="Received: categorical=") as info:
            zoo.data.load(frame, categorical=bad)
        assert text in str(info.value)
    with pytest.raises(ArgumentValueError, match="among the feature columns"):
        zoo.data.load(frame, features=["x"], categorical=["zip"])
    with pytest.raises(ArgumentValueError, match="unless the source is a table"):
        zoo.data.load("digits", categorical=["zip"])
    with pytest.raises(ArgumentValueError, match="None for task='language_modeling'"):
        zoo.data.load("zen", task="language_modeling", categorical=["zip"])


def test_stray_text_in_a_numeric_target(tmp_path):
    values = [f"{i}.25" for i in range(19)] + ["?"]
    path = tmp_path / "prices.csv"
    pd.DataFrame({"x": range(20), "price": values}).to_csv(path, index=False)
    with pytest.raises(ArgumentValueError, match=r"'\?' at line\(s\) \[21\]") as info:
        zoo.data.load(str(path), target="price")
    assert "task='classification'" in str(info.value)
    classes = pd.DataFrame({"x": range(20), "label": ["1", "2"] * 9 + ["1", "?"]})
    declared = zoo.data.load(classes, task="classification", validation_split=0, test_split=0)
    assert declared.class_names == ("1", "2", "?")  # as the user declared


# --------------------------------------------------------------------- images over the limit


def test_an_image_over_pillows_pixel_limit_is_a_bad_file(tmp_path, monkeypatch, capsys):
    root = write_images(tmp_path / "imgs", per_class=4, size=(8, 8))
    PIL.Image.new("RGB", (30, 30)).save(root / "cat" / "huge.png")  # over twice: an error
    PIL.Image.new("RGB", (20, 25)).save(root / "dog" / "big.png")  # over once: a warning
    monkeypatch.setattr(PIL.Image, "MAX_IMAGE_PIXELS", 400)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing leaks as a warning either
        with pytest.raises(ArgumentValueError, match="skip_bad_files") as info:
            zoo.data.load(root)
        data = zoo.data.load(root, skip_bad_files=True)
    message = str(info.value)
    assert "huge.png: 900 pixels, over Pillow's limit of 400" in message
    assert "big.png: 500 pixels" in message and "PIL.Image.MAX_IMAGE_PIXELS" in message
    assert sum(data.sizes.values()) == 8 and "skipped 2" in capsys.readouterr().out

    from zoo.predicting import _read_image
    from zoo.transfer.adapting import peek_folder

    with pytest.raises(DamagedFileError, match=r"huge.png: 900 pixels, over Pillow's limit"):
        _read_image(root / "cat" / "huge.png", 3)
    assert peek_folder(root) == ({(8, 8)}, {3})  # fine_tune's look skips it, load names it
    opening = images.open_image(root / "cat" / "huge.png", decode=False)
    with pytest.raises(images.UnusableImageError, match=r"huge\.png") as info, opening:
        pass
    assert isinstance(info.value, UserError) and info.value.path.name == "huge.png"

    monkeypatch.setattr(PIL.Image, "MAX_IMAGE_PIXELS", None)  # a user who trusts the files
    assert sum(zoo.data.load(root, image_size=8).sizes.values()) == 10


def test_images_tensorflow_would_misread_are_bad_files(tmp_path, capsys):
    root = write_images(tmp_path / "imgs", per_class=4, size=(8, 8))
    pixels = np.random.default_rng(0).integers(0, 255, (8, 8, 3), dtype=np.uint8)
    PIL.Image.fromarray(pixels).save(root / "cat" / "rgb.bmp")  # 24-bit: fine
    PIL.Image.fromarray(pixels).convert("L").save(root / "cat" / "grey.bmp")  # fine
    PIL.Image.fromarray(pixels).convert("1").save(root / "dog" / "bits.bmp")  # TF fails
    PIL.Image.fromarray(pixels).convert("P").save(root / "dog" / "palette.bmp")  # TF misreads
    PIL.Image.fromarray(pixels).save(root / "dog" / "tiff.png", format="TIFF")
    with pytest.raises(ArgumentValueError, match="3 file") as info:
        zoo.data.load(root)
    message = str(info.value)
    assert "bits.bmp: a BMP whose pixel layout" in message and "palette.bmp" in message
    assert "tiff.png: a TIFF image, which TensorFlow cannot decode" in message
    data = zoo.data.load(root, skip_bad_files=True, batch_size=64, validation_split=0, test_split=0)
    assert data.sizes["train"] == 10 and "skipped 3" in capsys.readouterr().out
    assert len(next(iter(data.train))[0]) == 10  # every kept file decodes in the pipeline


# --------------------------------------------------------------------- missing and unknown


def test_a_missing_path_is_not_found_and_names_every_named_source(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    named = sorted(bundled.BUNDLED | bundled.BUNDLED_TEXTS | standard.DATASETS)
    assert list(bundled.named_sources()) == named
    for source in ("nonexistent_folder/", "./data", "table.csv", "~/no_such_zoo_folder_17"):
        with pytest.raises(FileNotFoundError, match="No file or folder at") as info:
            zoo.data.load(source)
        message = str(info.value)
        assert isinstance(info.value, UserError) and "resolved to absolute path /" in message
        assert "'digits'" in message and "'zen'" in message and "'fashion_mnist'" in message
        assert message.endswith(f"Received: source={source!r}")
    (tmp_path / "table.csv").write_text("a,label\n1,0\n")
    with pytest.raises(FileNotFoundError, match=r"Did you mean '.*table\.csv'"):
        zoo.data.load(tmp_path / "tabel.csv")
    with pytest.raises(FileNotFoundError, match="'zen'"):
        zoo.data.load("missing.txt", task="language_modeling")
    with pytest.raises(ArgumentValueError, match="Did you mean 'digits'") as info:
        zoo.data.load("digitz")
    assert "'zen' (the Zen of Python" in str(info.value)
    with pytest.raises(ArgumentValueError, match="'tfds:svhn_cropped'"):
        zoo.data.load("svhn_cropped")
    with pytest.raises(ArgumentValueError, match="load it with task='language_modeling'"):
        zoo.data.load("zen")
    with pytest.raises(ArgumentValueError, match="not a text"):
        zoo.data.load("digits", task="language_modeling")


# --------------------------------------------------------------------- tables and arrays


def test_bad_tables_are_zoo_errors(tmp_path):
    frame = _numbers(20)
    cases = [
        (frame.set_axis(["a", "a", "label"], axis=1), r"repeated column\(s\) \['a'\]"),
        (frame[["label"]], "feature columns besides the target 'label'"),
        (frame.assign(a=np.r_[np.zeros(19), 1e39]), "infinity in column 'a' at row"),
        (frame.assign(b=np.r_[np.nan, np.zeros(19)]), r"column 'b': 1 at row\(s\) \[0\]"),
        (frame.assign(label=[None] + ["x"] * 19), r"1 missing at row\(s\) \[0\]"),
    ]
    for table, text in cases:
        with pytest.raises(ArgumentValueError, match="Received") as info:
            zoo.data.load(table)
        assert re.search(text, str(info.value)), str(info.value)
    (tmp_path / "header.csv").write_text("a,b,label\n")
    with pytest.raises(ArgumentValueError, match="non-empty table"):
        zoo.data.load(str(tmp_path / "header.csv"))
    (tmp_path / "nan.csv").write_text("a,label\n" + "1,\n" * 8)
    with pytest.raises(
        ArgumentValueError, match=r"8 missing at line\(s\) \[2, 3, 4, 5, 6\] \(and 3"
    ):
        zoo.data.load(str(tmp_path / "nan.csv"))
    (tmp_path / "image.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff" * 20)
    (tmp_path / "binary.csv").write_bytes(bytes(range(256)) * 4)
    for name in ("image.csv", "binary.csv"):
        with pytest.raises(DamagedFileError, match=f"readable CSV file.*{name}"):
            zoo.data.load(str(tmp_path / name))
    (tmp_path / "semicolons.csv").write_text("a;label\n" + "1;0\n2;1\n" * 5)
    with pytest.raises(ArgumentValueError, match="looks separated by ';'"):
        zoo.data.load(str(tmp_path / "semicolons.csv"))
    (tmp_path / "tabs.tsv").write_text("a\tlabel\n" + "1\t0\n2\t1\n" * 5)
    assert zoo.data.load(str(tmp_path / "tabs.tsv")).input_shape == (1,)
    (tmp_path / "data.json").write_text("{}")
    with pytest.raises(ArgumentValueError, match="read other files with pandas"):
        zoo.data.load(str(tmp_path / "data.json"))


@pytest.mark.parametrize(
    ("x", "y", "kwargs", "error", "text"),
    [
        (np.zeros((10, 2), complex), np.arange(10) % 2, {}, ArgumentTypeError, "real-valued"),
        (np.zeros((0, 2)), np.zeros(0), {}, ArgumentValueError, "at least one example"),
        (np.zeros((10, 2)), 1, {}, ArgumentValueError, "a single value"),
        (np.r_[np.zeros((9, 2)), [[1e39, 0]]], np.arange(10) % 2, {}, ArgumentValueError, "[9]"),
        (
            np.zeros((10, 2)),
            np.r_[np.arange(9) % 2, np.inf],
            {"task": "classification"},
            ArgumentValueError,
            "1 NaN or infinite labels at rows [9]",
        ),
        (np.zeros((10, 2)), np.r_[np.ones(9), 1e39], {}, ArgumentValueError, "first [9]"),
        (np.zeros((10, 2)), np.array(["a"] * 10), {}, ArgumentValueError, "only class 'a' in"),
    ],
)
def test_bad_arrays_are_zoo_errors(x, y, kwargs, error, text):
    with pytest.raises(error, match="Received") as info:
        zoo.data.load(x, y, **kwargs)
    assert text in str(info.value)


def test_non_finite_stratify_groups_are_refused():
    x, y = np.zeros((100, 2)), np.arange(100) % 2
    for bad in (np.nan, np.inf):
        with pytest.raises(ArgumentValueError, match=r"1 NaN or infinite at rows \[99\]"):
            zoo.data.load(x, y, stratify=np.r_[np.zeros(50), np.ones(49), bad])


def test_a_class_subfolder_without_usable_files_is_named(tmp_path, text_folder):
    root = write_images(tmp_path / "imgs", classes=("cat", "dog"), per_class=3)
    (root / "bird").mkdir()
    (root / "fish").mkdir()
    (root / "fish" / "notes.txt").write_text("not an image")
    with pytest.raises(ArgumentValueError, match=r"subfolder\(s\) \['bird', 'fish'\] holding"):
        zoo.data.load(root, skip_bad_files=True)
    (text_folder / "empty").mkdir()
    with pytest.raises(ArgumentValueError, match=r"\['empty'\] holding none"):
        zoo.data.load(text_folder)


def test_bad_text_files_are_named_and_line_ends_read_as_text_mode(text_folder, monkeypatch):
    from zoo.data import text

    (text_folder / "pos" / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    (text_folder / "pos" / "gone.txt").symlink_to(text_folder / "nowhere.txt")
    (text_folder / "neg" / "crlf.txt").write_bytes(b"bad\r\nawful\rpoor")
    with pytest.raises(ArgumentValueError) as raised:
        zoo.data.load(text_folder)
    message = str(raised.value)
    assert "2 file(s)" in message and "skip_bad_files=True" in message
    assert "latin1.txt: not UTF-8 text" in message and "gone.txt: cannot be read" in message
    monkeypatch.setattr(text, "_THREADS_FROM", 1)  # read by threads: the same, in order
    monkeypatch.setattr(text, "_CHUNK", 2)
    threaded = zoo.data.load(text_folder, skip_bad_files=True, tokenize=False, shuffle=False)
    monkeypatch.setattr(text, "_THREADS_FROM", 10**9)
    plain = zoo.data.load(text_folder, skip_bad_files=True, tokenize=False, shuffle=False)
    assert threaded.fingerprint == plain.fingerprint and sum(plain.sizes.values()) == 21
    texts, _ = text.read_text_files(text_folder / "neg")
    assert "bad\nawful\npoor" in texts
