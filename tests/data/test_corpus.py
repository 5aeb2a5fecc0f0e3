"""zoo.data.load(..., task="language_modeling"): token windows with next-token targets."""

import numpy as np
import pytest

import zoo
from zoo._validation import ArgumentTypeError, ArgumentValueError
from zoo.data.corpus import TokenEncoder, zen_of_python


def _all(dataset):
    x, y = zip(*dataset.as_numpy_iterator(), strict=True)
    return np.concatenate(x), np.concatenate(y)


def test_windows_predict_the_next_character_and_splits_are_contiguous():
    data = zoo.data.load("zen", task="language_modeling", sequence_length=32, batch_size=4)
    text = zen_of_python()
    assert data.task == "language_modeling" and data.input_dtype == "int32"
    assert data.input_shape == (32,) and data.sizes == {"train": 18, "validation": 3, "test": 5}
    assert data.vocab_size == len(set(text)) + 2  # padding and out-of-vocabulary
    assert data.builder_arguments(["vocab_size", "max_length", "num_classes"]) == {
        "vocab_size": data.vocab_size,
        "max_length": 32,
    }
    parts = [_all(getattr(data, split)) for split in ("validation", "test")]
    for x, y in parts:
        np.testing.assert_array_equal(x[:, 1:], y[:, :-1])  # y is x one token later
    # Validation and test are the end of the text, in order, so no window leaks.
    held_out = np.concatenate([x.reshape(-1) for x, _ in parts])
    assert data.encoder.decode(held_out) == text[18 * 32 : 26 * 32]
    assert data._indices["train"].max() < data._indices["validation"].min()
    assert data._indices["validation"].max() < data._indices["test"].min()
    x, y = _all(data.train)  # shuffled windows, every one of them
    assert len(x) == 18 and np.array_equal(x[:, 1:], y[:, :-1])


def test_word_tokens_from_a_file_a_folder_and_a_list(tmp_path):
    line = "the zoo opens at nine and the zoo closes at five\n"
    words, first, rest = line * 6, line * 3, line * 3
    (tmp_path / "corpus.txt").write_text(words)
    (tmp_path / "folder" / "sub").mkdir(parents=True)
    (tmp_path / "folder" / "a.txt").write_text(first)
    (tmp_path / "folder" / "sub" / "b.md").write_text(rest)
    for source in (tmp_path / "corpus.txt", tmp_path / "folder", [first, rest]):
        data = zoo.data.load(source, task="language_modeling", tokenizer="word", sequence_length=5)
        assert data.vocab_size == 10  # 8 words + padding + out-of-vocabulary
        x, y = _all(data.test)
        assert data.encoder.decode(x[0]).split()[1:] == data.encoder.decode(y[0]).split()[:-1]
    encoder = data.encoder
    ids = encoder.transform("the zoo opens at midnight")
    assert encoder.vocabulary[ids[-1]] == "[UNK]"
    assert encoder.decode(ids[:4]) == "the zoo opens at"
    assert encoder.decode(np.stack([ids[:2], ids[1:3]])) == ["the zoo", "zoo opens"]


def test_token_encoder_round_trips_characters():
    encoder = TokenEncoder(100, "character").fit("Hello, zoo!\nBye.")
    assert encoder.decode(encoder.transform("Bye, zoo!\n")) == "Bye, zoo!\n"
    assert [len(a) for a in encoder.transform(["ab", "Hel"])] == [2, 3]
    with pytest.raises(ArgumentValueError, match="token ids in"):
        encoder.decode([0, 999])
    with pytest.raises(ArgumentTypeError, match="a string or a list of strings"):
        encoder.transform(3)
    rebuilt = TokenEncoder.from_vocabulary(encoder.vocabulary, "character")
    np.testing.assert_array_equal(rebuilt.transform("Bye"), encoder.transform("Bye"))
    with pytest.raises(ArgumentValueError, match="starting with ''"):
        TokenEncoder.from_vocabulary(["a", "b"], "character")
    with pytest.raises(ArgumentValueError, match="'character', 'word'"):
        TokenEncoder.from_vocabulary(encoder.vocabulary, "bytes")


def test_bad_corpora_are_clear_errors(tmp_path):
    lm = {"task": "language_modeling"}
    with pytest.raises(ArgumentValueError, match="shorter than the text"):
        zoo.data.load("zen", sequence_length=5000, **lm)
    with pytest.raises(ArgumentValueError, match="leave training windows"):
        zoo.data.load("zen", sequence_length=300, validation_split=0.4, **lm)
    with pytest.raises(ArgumentValueError, match="'character', 'word'"):
        zoo.data.load("zen", tokenizer="bytes", **lm)
    with pytest.raises(ArgumentValueError, match="None for task='language_modeling'"):
        zoo.data.load(np.zeros((4, 2)), np.zeros(4), **lm)
    with pytest.raises(ArgumentValueError, match="zen"):
        zoo.data.load("no_such_text", **lm)
    with pytest.raises(ArgumentTypeError, match="list of strings"):
        zoo.data.load([1, 2], **lm)
    folder = tmp_path / "texts"
    folder.mkdir()
    (folder / "good.txt").write_text("some text to learn from, " * 20)
    (folder / "bad.txt").write_bytes(b"\xff\xfe\x00 not utf-8")
    (folder / "image.png").write_bytes(b"\x89PNG")
    with pytest.raises(ArgumentValueError, match="not UTF-8"):
        zoo.data.load(folder, sequence_length=16, **lm)
    data = zoo.data.load(folder, sequence_length=16, skip_bad_files=True, **lm)
    assert "1 files" in data.source
