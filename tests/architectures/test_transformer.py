import json

import keras
import numpy as np
import pytest
from architecture_checks import check_architecture, check_bad_arguments

import zoo
from zoo._validation import ArgumentValueError
from zoo.data.corpus import TokenEncoder


def test_transformer_tiny(tmp_path):
    check_architecture("transformer_tiny", tmp_path)


def test_vit_tiny(tmp_path):
    model = check_architecture("vit_tiny", tmp_path)
    assert model.get_layer("patch_embedding").output.shape == (None, 65, 32)  # 8x8 + class


def test_gpt_tiny(tmp_path):
    model = check_architecture("gpt_tiny", tmp_path)
    assert model.output_shape == (None, None, 64)


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("transformer_imdb", 653_566),  # the Keras example's model.summary()
        ("vit_b16", 86_567_656),  # Google's / timm's ViT-B/16 with 1000 classes
        ("gpt2_small", 124_439_808),  # Hugging Face's gpt2 (tied embeddings)
    ],
)
def test_reference_parameter_counts(name, params):
    assert zoo.count_params(name)["total"] == params


def test_padding_is_ignored_by_attention_and_pooling():
    keras.utils.set_random_seed(0)
    model = zoo.build("transformer_tiny", num_classes=None, dropout=0.0)
    ids = np.array([[5, 9, 3, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]], "int32")
    before = keras.ops.convert_to_numpy(model(ids))
    # Change what the padded positions look like; with masking the output cannot move.
    positions = model.get_layer("embedding").positions
    table = keras.ops.convert_to_numpy(positions.embeddings).copy()
    table[4:] = np.random.default_rng(1).normal(size=table[4:].shape)
    positions.embeddings.assign(table)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(ids)), before, atol=1e-5)
    ids[0, 5] = 11  # a real token where padding was: now it must move
    assert not np.allclose(keras.ops.convert_to_numpy(model(ids)), before, atol=1e-4)


def test_gpt_is_causal():
    model = zoo.build("gpt_tiny")
    ids = np.array([[1, 2, 3, 4, 5, 6]], "int32")
    changed = ids.copy()
    changed[0, -1] = 9
    a, b = (keras.ops.convert_to_numpy(model(x)) for x in (ids, changed))
    np.testing.assert_allclose(a[:, :-1], b[:, :-1], atol=1e-5)  # the past ignores the future
    assert not np.allclose(a[:, -1], b[:, -1])


TEXT = "the zoo opens at nine. "


def test_gpt_learns_a_repeated_text_and_greedy_generation_reproduces_it(tmp_path):
    keras.utils.set_random_seed(0)
    symbols = sorted(set(TEXT))
    encode = {c: i + 1 for i, c in enumerate(symbols)}
    stream = np.array([encode[c] for c in TEXT * 40], "int32")
    # Windows as long as the context (32), so every position is trained.
    windows = np.stack([stream[i : i + 32] for i in range(0, len(stream) - 32, 2)])
    model = zoo.build("gpt_tiny")
    model.compile(optimizer=keras.optimizers.AdamW(3e-3))  # the loss defaults
    history = model.fit(windows, batch_size=32, epochs=15, verbose=0).history
    assert history["loss"][-1] < 0.1 * history["loss"][0]
    prompt = np.array([encode[c] for c in "the zoo "], "int32")
    out = model.generate(prompt, max_new_tokens=24, temperature=0)
    decode = {i: c for c, i in encode.items()}
    text = "".join(decode[i] for i in out)
    assert text == (TEXT * 3)[: len(text)], text
    # Sampling is seeded; the model round-trips with the same samples.
    a = model.generate(prompt, 10, temperature=1.0, top_k=3, seed=7)
    np.testing.assert_array_equal(a, model.generate(prompt, 10, temperature=1.0, top_k=3, seed=7))
    model.save(tmp_path / "gpt.keras")
    loaded = keras.saving.load_model(tmp_path / "gpt.keras")
    np.testing.assert_array_equal(loaded.generate(prompt, 10, temperature=1.0, top_k=3, seed=7), a)
    assert np.isfinite(loaded.fit(windows[:8], epochs=1, verbose=0).history["loss"]).all()
    batch = model.generate(np.stack([prompt, prompt]), 4, temperature=0)
    assert batch.shape == (2, len(prompt) + 4)


def test_zoo_train_fits_a_gpt_on_a_text_file_and_scores_perplexity(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(TEXT * 40)
    # A registered language model loads its data source as a corpus.
    result = zoo.train("gpt_tiny", corpus, epochs=2, output=tmp_path / "gpt")
    assert result.model.max_length == 200  # the windows' length (the default)
    assert set(result.metrics) == {"loss", "accuracy", "perplexity"}
    assert np.isclose(result.metrics["perplexity"], np.exp(result.metrics["loss"]))
    data = zoo.data.load(corpus, task="language_modeling")
    again = zoo.evaluate(zoo.load(result.path), data).metrics
    assert np.isclose(again["loss"], result.metrics["loss"], rtol=1e-5)
    # The card keeps the vocabulary, so a loaded model's ids can be decoded.
    card = json.loads((result.path / "zoo.json").read_text())["data"]
    encoder = TokenEncoder.from_vocabulary(card["vocabulary"], card["tokenizer"])
    ids = encoder.transform("the zoo")
    np.testing.assert_array_equal(ids, data.encoder.transform("the zoo"))
    assert encoder.decode(result.model.generate(ids, 3, seed=0)).startswith("the zoo")


def test_gpt_generate_checks_its_arguments():
    model = zoo.build("gpt_tiny")
    for bad in ([], [[1, 2], [3]], [1, 64], [-1], [0.5]):
        with pytest.raises(ArgumentValueError, match="prompt"):
            model.generate(bad)
    with pytest.raises(ArgumentValueError, match=r"without a vocabulary.*zoo\.train.*text corpus"):
        model.generate("Beautiful")
    with pytest.raises(ArgumentValueError, match="temperature"):
        model.generate([1], temperature=-1.0)
    with pytest.raises(ArgumentValueError, match="top_k"):
        model.generate([1], top_k=65)
    assert model.generate([1, 2], max_new_tokens=0).tolist() == [1, 2]


def test_transformer_bad_arguments():
    check_bad_arguments(
        "transformer_tiny",
        [
            ({"num_heads": 3}, "value", "num_heads must divide width"),
            ({"vocab_size": 1}, "value", "vocab_size"),
            ({"pooling": "cls"}, "value", "'avg', 'max'"),
            ({"input_shape": (16, 4)}, "value", "input_shape"),
            ({"head_units": (0,)}, "value", "head_units"),
        ],
    )
    check_bad_arguments(
        "vit_tiny",
        [
            ({"patch_size": 5}, "value", "that `patch_size` divides"),
            (
                {"input_shape": (8, 8, 3), "patch_size": 16},
                "value",
                "Received: input_shape=(8, 8, 3), patch_size=16",
            ),
            ({"input_shape": (2, 2, 3)}, "value", "`input_shape` must have a height and width"),
            ({"num_heads": 5}, "value", "num_heads must divide width"),
            ({"mlp_dim": 0}, "value", "mlp_dim"),
        ],
    )
    check_bad_arguments(
        "gpt_tiny",
        [
            ({"num_heads": 3}, "value", "num_heads must divide width"),
            ({"max_length": 0}, "value", "max_length"),
            ({"dropout": 1.5}, "value", "dropout"),
            ({"vocabulary": ["", "[UNK]", "a"], "tokenizer": "word"}, "value", "vocab_size=64"),
            ({"vocabulary": ["a", "b"], "vocab_size": 2, "tokenizer": "word"}, "value", "[UNK]"),
            ({"vocabulary": ["", "[UNK]", "a", "a"], "vocab_size": 4}, "value", "distinct"),
            ({"vocabulary": ["", "[UNK]", "a"], "vocab_size": 3}, "value", "tokenizer"),
            (
                {"vocabulary": ["", "[UNK]", "a"], "vocab_size": 3, "tokenizer": "bpe"},
                "value",
                "'character', 'word'",
            ),
            ({"tokenizer": "word"}, "value", "None without a vocabulary"),
            ({"vocabulary": "abc", "tokenizer": "character"}, "type", "list of token strings"),
        ],
    )


ZEN_SCRIPT = """
import sys, zoo
print(repr(zoo.load(sys.argv[1]).generate("Beautiful", max_new_tokens=5, seed=0)))
"""


def test_a_gpt_trained_on_a_corpus_keeps_its_tokenizer_and_generates_text(tmp_path):
    import os
    import subprocess
    import sys

    result = zoo.train("gpt_tiny", "zen", epochs=1, save=False, verbose=0)
    model = result.model
    assert model.tokenizer == "character" and len(model.vocabulary) == model.vocab_size
    text = model.generate("Beautiful", max_new_tokens=5, seed=0)
    assert isinstance(text, str) and text.startswith("Beautiful")
    assert len(text) - len("Beautiful") <= 5 * len("[UNK]")
    assert model.generate("Beautiful", max_new_tokens=5, seed=0) == text  # seeded
    ids = model.token_encoder().transform("Beautiful")
    out = model.generate(ids, max_new_tokens=5, seed=0)  # ids in, ids out, as before
    assert out.dtype == np.int32 and model.token_encoder().decode(out) == text
    # Symbols outside the vocabulary are [UNK] to the model; the prompt comes back as given.
    assert model.generate("Beautiful \u00e9", max_new_tokens=2, seed=0).startswith(
        "Beautiful \u00e9"
    )
    # A .keras round trip (safe mode) keeps the vocabulary and the tokenizer.
    model.save(tmp_path / "gpt.keras")
    loaded = keras.saving.load_model(tmp_path / "gpt.keras", safe_mode=True)
    assert loaded.get_config() == model.get_config()
    assert loaded.generate("Beautiful", max_new_tokens=5, seed=0) == text
    # So does zoo.save / zoo.load, in a fresh process.
    path = zoo.save(model, tmp_path / "zen_gpt")
    process = subprocess.run(
        [sys.executable, "-c", ZEN_SCRIPT, str(path)],
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        timeout=300,
    )
    assert process.returncode == 0, process.stderr[-2000:]
    assert process.stdout.strip().splitlines()[-1] == repr(text)


def test_a_word_level_gpt_joins_the_new_words_with_spaces():
    words = ["", "[UNK]", "the", "zoo", "opens", "at", "nine."]
    model = zoo.build(
        "gpt_tiny", vocab_size=len(words), vocabulary=words, tokenizer="word", max_length=8
    )
    text = model.generate("the zoo", max_new_tokens=3, temperature=0)
    assert text.startswith("the zoo ") and len(text.split()) <= 5
    new = text[len("the zoo ") :].split()
    assert all(word in words for word in new)
    assert model.generate("the zoo ", max_new_tokens=3, temperature=0) == "the zoo " + " ".join(new)
    with pytest.raises(ArgumentValueError, match="at least one word token"):
        model.generate("   ")
