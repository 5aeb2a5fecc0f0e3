"""Folders of text files in class subfolders, tokenised for zoo's sequence models.

The vocabulary is learned on the training split only with Keras's
``TextVectorization``; id 0 is padding (masked by zoo's RNNs) and id 1 is
out-of-vocabulary.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from zoo import _validation as v
from zoo.data.examples import Examples, encode_labels, fingerprint
from zoo.data.images import _class_dirs, check_every_class, report_bad_files

TEXT_EXTENSIONS = (".txt", ".text", ".md")


class TextEncoder:
    """Texts -> padded int32 token ids of a fixed length."""

    def __init__(self, vocab_size: int, sequence_length: int):
        self.vocab_size = vocab_size
        self.sequence_length = sequence_length
        self.layer = None

    def fit(self, texts: np.ndarray) -> TextEncoder:
        import keras

        self.layer = keras.layers.TextVectorization(
            max_tokens=self.vocab_size,
            output_mode="int",
            output_sequence_length=self.sequence_length,
        )
        self.layer.adapt(np.asarray(texts, dtype=object).astype(str), batch_size=256)
        return self

    @property
    def vocabulary(self) -> list[str]:
        """The learned vocabulary (index = token id)."""
        return self.layer.get_vocabulary()

    @property
    def preprocessor(self):
        """A ``keras.Model`` from raw strings to token ids (this fitted layer)."""
        from zoo.data import inputs

        return inputs.text(self.layer)

    def transform(self, texts) -> np.ndarray:
        import keras

        texts = np.asarray(texts, dtype=object).astype(str)
        return keras.ops.convert_to_numpy(self.layer(texts)).astype("int32")


def read_text_files(folder: Path) -> tuple[list[str], list[tuple[Path, str]]]:
    """Every text file's text under `folder` (in sorted path order) and the bad files.

    Returns:
        (texts, bad): the texts, and (path, reason) of each file that is not a
        UTF-8 text file.
    """
    texts, bad = [], []
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.name.startswith("."):
            continue
        if path.suffix.lower() not in TEXT_EXTENSIONS:
            bad.append((path, f"not a text file (allowed: {', '.join(TEXT_EXTENSIONS)})"))
            continue
        try:
            texts.append(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError as error:
            bad.append((path, f"not UTF-8 text ({error.reason})"))
    return texts, bad


def from_folder(
    root: str | os.PathLike,
    *,
    vocab_size: int,
    sequence_length: int,
    skip_bad_files: bool,
    tokenize: bool = True,
    min_classes: int = 2,
) -> Examples:
    """Examples from ``root/<class>/<file>.txt``: token ids, or raw strings if not `tokenize`."""
    root = Path(root)
    dirs = _class_dirs(root, "text files")
    texts, labels, bad = [], [], []
    for directory in dirs:
        found, unreadable = read_text_files(directory)
        texts += found
        labels += [directory.name] * len(found)
        bad += unreadable
    report_bad_files(root, bad, "text", skip_bad_files)
    if not texts:
        raise v.invalid(
            "source", "a folder with text files in its class subfolders", f"{root} has none"
        )
    check_every_class(root, dirs, labels, "text files")
    ids, names = encode_labels(np.array(labels), name="class subfolders", min_classes=min_classes)
    x = np.array(texts, dtype=object)
    return Examples(
        x=x if tokenize else np.array(texts, dtype=str),
        y=ids,
        task="classification",
        class_names=names,
        kind="text" if tokenize else "raw_text",
        source=f"text folder {root}",
        fingerprint=fingerprint(x, ids),
        make_encoder=(lambda: TextEncoder(vocab_size, sequence_length)) if tokenize else None,
    )
