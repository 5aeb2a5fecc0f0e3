"""Tables larger than memory: CSV files streamed through ``tf.data`` in chunks.

A CSV (or TSV) file that would take more than the memory budget if read whole (about
:data:`READ_FACTOR` times its size; ``memory_budget=`` of :func:`zoo.data.load`,
``$ZOO_MEMORY_BUDGET``, default a quarter of the machine's RAM) is never read whole.
One pass over its chunks (:func:`scan`):

- gives each row its split by a seeded draw per row (not stratified),
- checks each chunk as a small table is checked (missing or infinite numbers, stray
  text in numeric columns, missing targets), naming the file's lines,
- counts the statistics of the training rows only: each numeric column's mean and
  variance (merged chunk by chunk, Chan et al.'s pairwise update), each categorical
  column's categories, and the classes of the target,
- and hashes the content (the fingerprint).

The pipelines read the file again each epoch, chunk by chunk, keep their split's rows,
shuffle the training rows within a bounded window, and encode them with the same
:class:`~zoo.data.tabular.TableEncoder` (Keras ``FeatureSpace``) a small table gets,
built from those statistics, so the saved model takes raw columns as for small tables.

Example:
    >>> parse_budget("64M")
    67108864
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from zoo import _validation as v
from zoo.data import tabular
from zoo.data.examples import encode_labels

BUDGET_ENV = "ZOO_MEMORY_BUDGET"
CHUNK_SHARE = 16
"""A chunk's text is at most this fraction of the budget (pandas needs several times
the text's size to hold it as a DataFrame)."""
WINDOW_SHARE = 8
"""The training shuffle window holds at most this fraction of the budget."""
MAX_WINDOW = 10_000
READ_FACTOR = 10
"""A table read whole takes about this many times its CSV's size: pandas's frame, the
encoded float32 copy and the encoder's passes (9.3x measured for a 103 MB CSV of 6
numeric and 2 categorical columns, benchmarks/table_streaming.py)."""
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
_SPLIT_CODES = {"train": 2, "validation": 1, "test": 0}


def parse_budget(value: Any) -> int:
    """A memory budget in bytes: an int, or a string such as ``"512M"`` or ``"2GiB"``."""
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*", value, re.IGNORECASE)
        if match is None:
            raise v.invalid(
                "memory_budget", "bytes as an integer or a string such as '512M' or '2G'", value
            )
        return int(float(match.group(1)) * _UNITS[match.group(2).upper()])
    return v.check_int("memory_budget", value, minimum=1)


def memory_budget(value: Any = None) -> int:
    """The budget: `value`, else ``$ZOO_MEMORY_BUDGET``, else a quarter of physical RAM."""
    if value is not None:
        return parse_budget(value)
    if os.environ.get(BUDGET_ENV):
        try:
            return parse_budget(os.environ[BUDGET_ENV])
        except ValueError as error:
            raise v.invalid(BUDGET_ENV, "a memory budget such as '512M'", error) from None
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 4


def too_big(path: str | os.PathLike, budget: int) -> bool:
    """Whether a table file read whole would take more than the budget (then it streams).

    Read whole, a table takes about :data:`READ_FACTOR` times its file's size.
    """
    return Path(path).stat().st_size * READ_FACTOR > budget


@dataclasses.dataclass
class Scan:
    """What one pass over a streamed table found."""

    path: Path
    sep: str
    chunk_rows: int
    target: str
    features: list[str]
    numeric: list[str]
    categorical: list[str]
    task: str
    class_names: tuple[str, ...] | None
    sizes: dict[str, int]
    fingerprint: str
    statistics: dict[str, tuple[float, float]]
    vocabularies: dict[str, list[str]]
    fractions: tuple[float, float]
    seed: int

    def encoder(self) -> tabular.TableEncoder:
        """The fitted table encoder, from the training rows' statistics."""
        return tabular.TableEncoder.from_statistics(
            {c: self.statistics[c] for c in self.numeric},
            {c: self.vocabularies[c] for c in self.categorical},
        )


def _chunk_rows(path: Path, budget: int) -> tuple[int, float]:
    """Rows per chunk for the budget, and the mean bytes of a line (from the first 64 KiB)."""
    with open(path, "rb") as file:
        head = file.read(1 << 16)
    line_bytes = max(len(head) / max(head.count(b"\n"), 1), 1.0)
    return int(np.clip(budget / CHUNK_SHARE / line_bytes, 64, 200_000)), line_bytes


def _chunks(path: Path, sep: str, rows: int) -> Iterator[pd.DataFrame]:
    try:
        yield from pd.read_csv(path, sep=sep, chunksize=rows, low_memory=False)
    except pd.errors.EmptyDataError:
        raise v.invalid(
            "source", "a CSV file with a header and rows", f"empty file {path}"
        ) from None
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise v.invalid(
            "source",
            "a readable CSV file (UTF-8 text, the same number of cells in every row)",
            f"{path}: {str(error).strip()}",
            tabular.DamagedSourceError,
        ) from None


def _splits(seed: int, chunk: int, n: int, fractions: tuple[float, float]) -> np.ndarray:
    """Each row's split code (0 test, 1 validation, 2 train), drawn per chunk from the seed."""
    draws = np.random.default_rng([seed, chunk]).random(n)
    test, validation = fractions
    return np.where(draws < test, 0, np.where(draws < test + validation, 1, 2))


def _lines(path: Path, start: int) -> Callable[[np.ndarray], str]:
    """Rows of a chunk by their file line (the header is line 1; one line per row)."""

    def describe(positions: np.ndarray) -> str:
        shown = [int(start + p + 2) for p in positions[:5]]
        more = f" (and {len(positions) - 5} more)" if len(positions) > 5 else ""
        return f"line(s) {shown}{more} of {path.name} (the header is line 1)"

    return describe


def _merge(total: list[float], values: np.ndarray) -> None:
    """Add `values` to a running [count, mean, sum of squared deviations] (Chan et al.)."""
    n = len(values)
    if n == 0:
        return
    mean = float(values.mean())
    m2 = float(((values - mean) ** 2).sum())
    count, old_mean, old_m2 = total
    new = count + n
    delta = mean - old_mean
    total[:] = [new, old_mean + delta * n / new, old_m2 + m2 + delta * delta * count * n / new]


def _vocabulary(counts: Counter) -> list[str]:
    """Categories in Keras's adapt order: most frequent first, ties by the later string."""
    return [token for token, _ in sorted(counts.items(), key=lambda kv: (kv[1], kv[0]))][::-1]


def scan(
    path: str | os.PathLike,
    *,
    budget: int,
    target: str | None,
    features: list[str] | None,
    categorical: Any,
    task: str | None,
    fractions: tuple[float, float],
    seed: int,
    progress: bool = True,
) -> Scan:
    """One pass over a large table: checks, splits, training statistics (see above)."""
    from tqdm.auto import tqdm

    path = Path(path)
    sep = "\t" if path.suffix.lower() == ".tsv" else ","
    rows, line_bytes = _chunk_rows(path, budget)
    declared = set(categorical or ())
    digest = hashlib.sha256()
    sizes = dict.fromkeys(_SPLIT_CODES, 0)
    totals: dict[str, list[float]] = {}
    counts: dict[str, Counter] = {}
    labels: set[Any] = set()
    train_labels: set[Any] = set()
    layout: dict[str, Any] = {}
    bar = tqdm(
        total=int(path.stat().st_size / line_bytes),  # about: lines differ in length
        unit=" rows",
        unit_scale=True,
        desc=f"zoo: reading {path.name} (larger than the memory budget)",
        disable=not progress,
        leave=False,
        delay=2,  # shown only when the pass takes a while
    )
    start = 0
    for index, chunk in enumerate(_chunks(path, sep, rows)):
        chunk = chunk.rename(columns=str).reset_index(drop=True)
        if not layout:
            first = tabular.from_frame(  # the small-table checks and column kinds
                chunk,
                target=target,
                features=features,
                task=task,
                categorical=categorical,
                source=f"CSV {path}",
                rows=_lines(path, 0),
                min_classes=1,
            )
            layout = {k: first.extra[k] for k in ("target", "features", "numeric", "categorical")}
            layout["task"] = first.task
            layout["text"] = [c for c in layout["categorical"] if c not in declared]
            totals = {c: [0.0, 0.0, 0.0] for c in layout["numeric"]}
            counts = {c: Counter() for c in layout["categorical"]}
        else:
            _check_chunk(chunk, layout, path, start)
        codes = _splits(seed, index, len(chunk), fractions)
        for split, code in _SPLIT_CODES.items():
            sizes[split] += int((codes == code).sum())
        train = chunk[codes == 2]
        for column in layout["numeric"]:
            _merge(totals[column], train[column].to_numpy(dtype="float64"))
        for column in layout["categorical"]:
            counts[column].update(tabular.category_strings(train[column]).to_numpy())
        target_values = chunk[layout["target"]]
        if layout["task"] == "classification":
            labels.update(target_values.unique().tolist())
            train_labels.update(target_values[codes == 2].unique().tolist())
        digest.update(pd.util.hash_pandas_object(chunk, index=False).to_numpy().tobytes())
        start += len(chunk)
        bar.update(len(chunk))
    bar.close()
    if sizes["train"] == 0:
        raise v.invalid("data", "a table with training rows", f"CSV {path} with {start} rows")
    class_names = None
    if layout["task"] == "classification":
        if len(train_labels) < 2:
            raise v.invalid(
                f"target column {layout['target']!r}",
                "labels of at least 2 classes in the training split",
                f"classes {sorted(map(str, train_labels))}",
            )
        _, class_names = encode_labels(np.array(sorted(labels, key=str)), min_classes=2)
    return Scan(
        path=path,
        sep=sep,
        chunk_rows=rows,
        target=layout["target"],
        features=layout["features"],
        numeric=layout["numeric"],
        categorical=layout["categorical"],
        task=layout["task"],
        class_names=class_names,
        sizes=sizes,
        fingerprint=digest.hexdigest()[:16],
        statistics={c: (t[1], t[2] / t[0] if t[0] else 0.0) for c, t in totals.items()},
        vocabularies={c: _vocabulary(counter) for c, counter in counts.items()},
        fractions=fractions,
        seed=seed,
    )


def _check_chunk(chunk: pd.DataFrame, layout: dict[str, Any], path: Path, start: int) -> None:
    """A later chunk: the first chunk's columns, with numbers where it had numbers."""
    missing = [c for c in [*layout["features"], layout["target"]] if c not in chunk.columns]
    if missing:
        raise v.invalid("data", f"the columns {missing}", list(chunk.columns))
    rows = _lines(path, start)
    for column in layout["numeric"]:
        values = chunk[column]
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            numbers = pd.to_numeric(values, errors="coerce")
            text = np.flatnonzero(numbers.isna().to_numpy() & values.notna().to_numpy())
            raise v.invalid(
                "data",
                f"numbers in every cell of column {column!r}, as in the file's first "
                f"{start} rows (declare it with categorical=[{column!r}] if it is "
                "categorical, or fix those cells)",
                f"text {[str(values.iloc[p]) for p in text[:5]]} at {rows(text)}",
            )
    tabular._check_columns(chunk, layout["numeric"], layout["text"], rows)
    tabular._check_target(chunk, layout["target"], layout["task"], rows)


def pipeline(
    found: Scan,
    split: str,
    encoder: tabular.TableEncoder,
    *,
    batch_size: int,
    budget: int,
    shuffle: bool,
) -> Any:
    """Batches of ``(encoded rows, targets)`` of one split, read from the file each epoch."""
    import tensorflow as tf

    code = _SPLIT_CODES[split]
    names = found.class_names
    class_ids = {name: index for index, name in enumerate(names)} if names is not None else {}

    def chunks():
        for index, chunk in enumerate(_chunks(found.path, found.sep, found.chunk_rows)):
            chunk = chunk.rename(columns=str)
            keep = _splits(found.seed, index, len(chunk), found.fractions) == code
            part = chunk[keep]
            if not len(part):
                continue
            columns = encoder.columns(part)
            if found.class_names is not None:
                y = part[found.target].astype(str).map(class_ids).to_numpy("int32")
            else:
                y = part[found.target].to_numpy("float32")
            yield columns, y

    spec = {c: tf.TensorSpec([None], tf.float32) for c in found.numeric}
    spec |= {c: tf.TensorSpec([None], tf.string) for c in found.categorical}
    target = tf.TensorSpec([None], tf.int32 if found.class_names is not None else tf.float32)
    dataset = tf.data.Dataset.from_generator(chunks, output_signature=(spec, target)).unbatch()
    if split == "train" and shuffle:
        row_bytes = 8 * (len(found.numeric) + 4 * len(found.categorical) + 1)
        window = int(np.clip(budget / WINDOW_SHARE / row_bytes, batch_size, MAX_WINDOW))
        dataset = dataset.shuffle(window, seed=found.seed, reshuffle_each_iteration=True)
    space = encoder.space
    dataset = dataset.batch(batch_size).map(
        lambda columns, y: (space(columns), y), num_parallel_calls=tf.data.AUTOTUNE
    )
    batches = -(-found.sizes[split] // batch_size)  # known: Keras sizes its epochs by it
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(batches))
    return dataset.prefetch(tf.data.AUTOTUNE)
