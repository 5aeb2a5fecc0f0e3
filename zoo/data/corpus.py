"""Text corpora for language models: token windows paired with next-token targets.

``zoo.data.load(source, task="language_modeling")`` reads one text (a file, a folder
of text files read in sorted path order, a list of strings, or the bundled ``"zen"``),
tokenises it by character or by word with Keras's ``TextVectorization``, cuts the
token stream into windows of ``sequence_length`` tokens and pairs each window with
the same window one token later: position t is trained to predict token t + 1.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from zoo import _validation as v
from zoo.data.bundled import BUNDLED_TEXTS, unknown_source, zen_of_python
from zoo.data.examples import Examples, fingerprint
from zoo.data.images import report_bad_files
from zoo.data.text import read_text_files

TOKENIZERS = ("character", "word")
__all__ = ["BUNDLED_TEXTS", "TOKENIZERS", "TokenEncoder", "from_text", "zen_of_python"]


class TokenEncoder:
    """Text <-> int32 token ids, by character or by whitespace-separated word.

    Id 0 is padding and id 1 stands for symbols outside the vocabulary (the
    ``TextVectorization`` convention); text is kept as it is (case, punctuation,
    newlines), so decoding gives back the text.

    Example:
        >>> encoder = TokenEncoder(100, "character").fit("hello")
        >>> encoder.decode(encoder.transform("hole"))
        'hole'
    """

    def __init__(self, vocab_size: int, tokenizer: str = "character"):
        self.vocab_size = vocab_size
        self.tokenizer = tokenizer
        self.layer = None

    def _layer(self, vocabulary: list[str] | None = None):
        import keras

        return keras.layers.TextVectorization(
            max_tokens=self.vocab_size,
            standardize=None,
            split="character" if self.tokenizer == "character" else "whitespace",
            output_mode="int",
            vocabulary=vocabulary,
        )

    def fit(self, text: str) -> TokenEncoder:
        self.layer = self._layer()
        self.layer.adapt([text], batch_size=1)
        return self

    @classmethod
    def from_vocabulary(cls, vocabulary: list[str], tokenizer: str) -> TokenEncoder:
        """The encoder of a saved model: its card's ``data.vocabulary`` and ``tokenizer``.

        Example:
            >>> card = json.loads(Path("saved_models/gpt_tiny/zoo.json").read_text())
            >>> encoder = TokenEncoder.from_vocabulary(
            ...     card["data"]["vocabulary"], card["data"]["tokenizer"])
        """
        v.check_choice("tokenizer", tokenizer, TOKENIZERS)
        if list(vocabulary[:2]) != ["", "[UNK]"]:
            raise v.invalid(
                "vocabulary", "a list starting with '' (padding) and '[UNK]'", vocabulary[:2]
            )
        encoder = cls(len(vocabulary), tokenizer)
        encoder.layer = encoder._layer(list(vocabulary[2:]))
        return encoder

    @property
    def vocabulary(self) -> list[str]:
        """The learned vocabulary (index = token id)."""
        return self.layer.get_vocabulary()

    def transform(self, text: Any) -> np.ndarray:
        """A string -> 1-D token ids; a list of strings -> a list of 1-D arrays."""
        import keras

        if isinstance(text, str):
            return keras.ops.convert_to_numpy(self.layer([text]))[0].astype("int32")
        if isinstance(text, (list, tuple)) and all(isinstance(t, str) for t in text):
            return [self.transform(t) for t in text]
        raise v.invalid("text", "a string or a list of strings", type(text).__name__, TypeError)

    def decode(self, ids: Any) -> str | list[str]:
        """Token ids (1-D, or 2-D for a batch) -> text; padding is dropped."""
        ids = np.asarray(ids)
        if ids.ndim == 2:
            return [self.decode(row) for row in ids]
        if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
            raise v.invalid("ids", "1-D or 2-D integer token ids", f"{ids.dtype} {ids.shape}")
        vocabulary = self.vocabulary
        if len(ids) and (ids.min() < 0 or ids.max() >= len(vocabulary)):
            raise v.invalid("ids", f"token ids in [0, {len(vocabulary)})", ids)
        words = [vocabulary[i] for i in ids.tolist() if i != 0]
        return ("" if self.tokenizer == "character" else " ").join(words)


def _read(source: Any, skip_bad_files: bool) -> tuple[str, str]:
    """(text, description) of a language-modelling source."""
    if isinstance(source, str) and source in BUNDLED_TEXTS:
        return BUNDLED_TEXTS[source](), f"{source} (bundled text)"
    if isinstance(source, (list, tuple)) and source and all(isinstance(s, str) for s in source):
        return "\n".join(source), f"{len(source)} texts"
    if isinstance(source, (str, os.PathLike)):
        path = Path(source).expanduser()
        if path.is_file():
            return _read_file(path), f"text file {path}"
        if path.is_dir():
            texts, bad = read_text_files(path)
            report_bad_files(path, bad, "text", skip_bad_files)
            if not texts:
                raise v.invalid("source", "a folder with text files", f"{path} has none")
            return "\n".join(texts), f"text folder {path} ({len(texts)} files)"
        raise unknown_source(source, language_modeling=True)
    raise v.invalid(
        "source",
        "a bundled text name, a text file or folder, or a non-empty list of strings "
        "for task='language_modeling'",
        type(source).__name__,
        TypeError,
    )


def _read_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise v.invalid("source", "a UTF-8 text file", f"{path} ({error.reason})") from None


def from_text(
    source: Any,
    *,
    sequence_length: int,
    vocab_size: int,
    tokenizer: str,
    skip_bad_files: bool,
) -> Examples:
    """Examples of next-token prediction: x = tokens[i:i+L], y = tokens[i+1:i+L+1].

    Windows do not overlap; the vocabulary is learned on the whole text (the
    symbols of a corpus are not labels; held-out windows come from the same text).
    """
    text, description = _read(source, skip_bad_files)
    encoder = TokenEncoder(vocab_size, tokenizer).fit(text)
    tokens = encoder.transform(text)
    windows = (len(tokens) - 1) // sequence_length
    if windows < 1:
        raise v.invalid(
            "sequence_length",
            f"shorter than the text ({len(tokens)} {tokenizer} tokens; each window needs "
            "sequence_length + 1)",
            sequence_length,
        )
    used = tokens[: windows * sequence_length + 1]
    x = used[:-1].reshape(windows, sequence_length)
    y = used[1:].reshape(windows, sequence_length)
    return Examples(
        x=x,
        y=y,
        task="language_modeling",
        class_names=None,
        kind="tokens",
        source=f"{description}, {len(tokens)} {tokenizer} tokens",
        fingerprint=fingerprint(text, tokenizer, vocab_size),
        extra={"encoder": encoder},
    )
