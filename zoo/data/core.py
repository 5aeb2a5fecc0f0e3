"""``zoo.data.load``: any source -> train/validation/test tf.data pipelines + metadata."""

from __future__ import annotations

import dataclasses
import math
import operator
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from zoo import _validation as v
from zoo._compat import tensorflow as compat_tf
from zoo.data import corpus, folders, images, standard, streaming, tabular, text
from zoo.data import series as series_source
from zoo.data.bundled import BUNDLED, unknown_source
from zoo.data.examples import Examples

CACHE_BYTES_ENV = "ZOO_CACHE_BYTES"
DEFAULT_CACHE_BYTES = 2 << 30
DEFAULT_TEST_SPLIT = 0.2
SPLITS = ("train", "validation", "test")


@dataclasses.dataclass(frozen=True)
class Options:
    """The checked pipeline settings of one :func:`load` call."""

    batch_size: int
    validation_split: float
    test_split: float | None
    seed: int
    image_size: tuple[int, int] | None
    augment: dict[str, Any] | None
    scale: float
    cache: Any
    shuffle: bool


@dataclasses.dataclass
class Data:
    """Train, validation and test pipelines with what a model needs to know.

    Attributes:
        train: batched, shuffled (seeded) ``tf.data.Dataset`` of ``(x, y)``.
        validation: batched ``tf.data.Dataset`` in a fixed order, or None.
        test: batched ``tf.data.Dataset`` in a fixed order, or None.
        task: ``"classification"``, ``"regression"`` or ``"language_modeling"``
            (token windows ``x`` with next-token targets ``y``).
        num_classes: number of classes (None for regression).
        class_names: class names, index = class id (None for regression).
        input_shape: shape of one model input, without the batch axis.
        input_dtype: ``"float32"``, ``"int32"`` for token ids, ``"string"`` for raw texts.
        sizes: examples per split (None where a TFDS split size is unknown).
        source: where the data came from.
        fingerprint: a hash of the content, for model cards.
        batch_size: examples per batch.
        vocab_size: vocabulary size for text sources, else None.
        encoder: the fitted preprocessing of tables and texts (``transform``; for
            language modelling also ``decode`` of generated token ids).

    The pipelines yield what a network trains on: pixels scaled to [0, 1], token
    ids, encoded table rows. :attr:`preprocessor` is the same preprocessing as Keras
    layers, from what users have (0-255 pixels, strings, raw columns); models that
    zoo trains carry it, so saved models take raw input (see :mod:`zoo.data.inputs`).
    """

    train: Any
    validation: Any
    test: Any
    task: str
    num_classes: int | None
    class_names: tuple[str, ...] | None
    input_shape: tuple[int | None, ...]
    input_dtype: str
    sizes: dict[str, int | None]
    source: str
    fingerprint: str
    batch_size: int
    vocab_size: int | None = None
    encoder: Any = None
    _examples: Examples | None = dataclasses.field(default=None, repr=False)
    _options: Options | None = dataclasses.field(default=None, repr=False)
    _indices: dict[str, np.ndarray] | None = dataclasses.field(default=None, repr=False)
    _inputs: dict[str, Any] | None = dataclasses.field(default=None, repr=False)
    _split_sources: dict[str, str] | None = dataclasses.field(default=None, repr=False)
    _make_train: Any = dataclasses.field(default=None, repr=False)

    def __repr__(self) -> str:
        classes = f", num_classes={self.num_classes}" if self.num_classes else ""
        return (
            f"Data(source={self.source!r}, task={self.task!r}{classes}, "
            f"input_shape={self.input_shape}, sizes={self.sizes})"
        )

    @property
    def unchecked(self) -> int:
        """Image files the pipelines check as they first read them, not yet read.

        A first load of a folder with more than ``zoo.data.images.STREAM_FROM`` new
        files checks them while training (:class:`zoo.data.images.StreamedChecks`);
        until then `sizes` counts them, though a bad one will be skipped or named.
        """
        examples = self._examples
        streamed = examples.extra.get("streamed") if examples is not None else None
        return len(streamed.files) if streamed is not None else 0

    @property
    def preprocessor(self) -> Any:
        """Raw input -> what the pipelines yield, as a ``keras.Model`` (None if nothing).

        Example:
            >>> data = zoo.data.load("digits")
            >>> [layer.name for layer in data.preprocessor.layers]
            ['pixels', 'rescale']
        """
        return self.make_preprocessor()

    def make_preprocessor(self, *, rescale: bool = True) -> Any:
        """The raw-input preprocessing, optionally without the pixel scaling.

        Args:
            rescale: False leaves pixels 0-255, for models that normalise raw pixels
                themselves (zoo's transfer classifiers).
        """
        from zoo.data import inputs

        described = self._inputs or {}
        if described.get("kind") == "image":
            return inputs.image(
                self.input_shape,
                scale=described["scale"],
                resizable=described["resizes"],
                rescale=rescale,
            )
        if described.get("kind") in ("text", "table", "series") and self.encoder is not None:
            return self.encoder.preprocessor
        return None

    @property
    def split_sources(self) -> dict[str, str] | None:
        """Where each split came from, for sources with splits of their own, else None.

        ``"official train of fashion_mnist"``, ``"test/"`` (a split folder),
        ``"test= <source>"`` (given to :func:`load`) or ``"carved from train"``.
        """
        return dict(self._split_sources) if self._split_sources else None

    @property
    def options(self) -> Options | None:
        """The pipeline settings it was loaded with (scale, augmentation, seed, ...)."""
        return self._options

    @property
    def sharding(self) -> str:
        """How multi-worker training splits the training split: ``"file"`` or ``"data"``.

        Image folders shard by file: each worker decodes only its own share of the
        files. In-memory sources (arrays, tables, texts, named datasets) and TFDS shard
        by data: every worker runs the same seeded pipeline and keeps its rows of each
        global batch. Recorded on the card of a multi-worker run (see
        :meth:`worker_train`).

        Example:
            >>> zoo.data.load("digits").sharding
            'data'
        """
        kind = self._examples.kind if self._examples is not None else None
        return "file" if kind == "image_files" else "data"

    def worker_train(self, workers: int, index: int, replicas: int = 1) -> Any:
        """One worker's share of the training split, for multi-worker training.

        Batches of ``(x, y, weight)`` of ``batch_size // (workers * replicas)`` rows,
        one per local replica per step, split as :attr:`sharding` says. Every worker
        gets the same number of batches; across workers each training example has
        weight 1 once per epoch, and rows that only even out the batches weight 0.

        Args:
            workers: the number of workers (input pipelines).
            index: this worker's index, from 0.
            replicas: the replicas on each worker.

        Example:
            >>> data = zoo.data.load("digits", batch_size=64)
            >>> shares = [data.worker_train(2, i) for i in (0, 1)]
            >>> [sum(float(w.numpy().sum()) for _, _, w in share) for share in shares]
            [629.0, 629.0]
            >>> data.sizes["train"]
            1258
        """
        workers = v.check_int("workers", workers, minimum=1)
        index = v.check_int("index", index, minimum=0, maximum=workers - 1)
        replicas = v.check_int("replicas", replicas, minimum=1)
        parts = workers * replicas
        if self.batch_size % parts:
            raise v.invalid(
                "batch_size",
                f"a multiple of the {parts} replicas ({workers} workers x {replicas}) so "
                "each gets an equal share of a batch",
                self.batch_size,
            )
        train_size = self.sizes.get("train")
        if train_size is not None and train_size < parts:
            raise v.invalid(
                "data", f"at least {parts} training examples, one per replica", train_size
            )
        if self._make_train is None:  # TFDS, a streamed table: the one pipeline it has
            return _rows_of_worker(self.train, workers, index, replicas)
        if self.sharding == "file":
            return self._make_train(shard=(workers, index, replicas))
        # A pipeline of its own: the shuffle of every worker starts from the same seed.
        return _rows_of_worker(self._make_train(), workers, index, replicas)

    def map_inputs(self, fn: Callable[[Any], Any], input_shape: Any = None) -> Data:
        """This data with `fn` applied to the input batches of every split.

        Every worker's share (:meth:`worker_train`) is mapped alike, so multi-worker
        training reads what single-process training reads.

        Args:
            fn: a batch of inputs -> the batch a model takes (TensorFlow ops).
            input_shape: the shape of one mapped input (default: unchanged).

        Example:
            >>> data = zoo.data.load("digits", batch_size=64)
            >>> raw = data.map_inputs(lambda x: x * 255.0)
            >>> float(next(iter(raw.train))[0].numpy().max())
            255.0
            >>> float(next(iter(raw.worker_train(2, 0)))[0].numpy().max())
            255.0
        """
        import tensorflow as tf

        if not callable(fn):
            raise v.invalid("fn", "a function of a batch of inputs", fn, TypeError)

        def mapped(dataset):
            if dataset is None:
                return None
            return dataset.map(lambda x, *rest: (fn(x), *rest), num_parallel_calls=tf.data.AUTOTUNE)

        make = self._make_train
        return dataclasses.replace(
            self,
            train=mapped(self.train),
            validation=mapped(self.validation),
            test=mapped(self.test),
            input_shape=self.input_shape if input_shape is None else tuple(input_shape),
            _make_train=None if make is None else lambda shard=None: mapped(make(shard=shard)),
        )

    def describe(self) -> dict[str, Any]:
        """A JSON-friendly description, recorded on model cards.

        A language corpus adds its tokenizer and vocabulary, so the ids a saved
        model generates can be decoded (``TokenEncoder.from_vocabulary``).
        """
        corpus_encoder = {}
        if self.task == "language_modeling" and self.encoder is not None:
            corpus_encoder = {
                "tokenizer": self.encoder.tokenizer,
                "vocabulary": self.encoder.vocabulary,
            }
        return {
            "source": self.source,
            "fingerprint": self.fingerprint,
            "task": self.task,
            "num_classes": self.num_classes,
            "class_names": list(self.class_names) if self.class_names else None,
            "input_shape": list(self.input_shape),
            "sizes": self.sizes,
            "batch_size": self.batch_size,
            "inputs": self.inputs,
            **({"split_sources": self._split_sources} if self._split_sources else {}),
            **corpus_encoder,
        }

    @property
    def inputs(self) -> dict[str, Any]:
        """What a model trained on this data takes, as recorded on its card.

        ``kind`` is ``"image"`` (with ``height``, ``width``, ``channels``, ``resizes``:
        any size is resized, and ``scale`` applied to 0-255 pixels), ``"text"``
        (raw strings), ``"table"`` (``columns``: name -> ``"numeric"`` or
        ``"categorical"``), ``"series"`` (``length``, ``channels``, the per-channel
        ``mean`` and ``std`` of the training split that the model standardises raw
        series with, and the ``form`` it was read from: ``"array"``, ``"wide"`` or
        ``"long"``), ``"tokens"`` (token ids of a corpus) or ``"array"``.
        """
        described = dict(self._inputs or {"kind": "array"})
        if described["kind"] == "image":
            height, width, channels = self.input_shape
            described |= {"height": height, "width": width, "channels": channels}
        if described["kind"] == "array":
            described["shape"] = list(self.input_shape)
        if described["kind"] == "series":
            length, channels = self.input_shape
            described = {"kind": "series", "length": length, "channels": channels} | {
                k: value for k, value in described.items() if k != "kind"
            }
            if self.encoder is not None:
                described["mean"] = self.encoder.mean.tolist()
                described["std"] = self.encoder.scale.tolist()
        return described

    def builder_arguments(self, accepted: list[str]) -> dict[str, Any]:
        """Arguments that fit a registered builder to this data."""
        arguments: dict[str, Any] = {"input_shape": self.input_shape}
        if self.task == "classification":
            arguments["num_classes"] = self.num_classes
        elif self.task == "language_modeling":
            arguments["max_length"] = self.input_shape[0]
            if self.encoder is not None:  # so the model generates text
                arguments["vocabulary"] = list(self.encoder.vocabulary)
                arguments["tokenizer"] = self.encoder.tokenizer
        else:
            arguments["task"] = "regression"
            arguments["num_outputs"] = int(np.prod(self._target_shape() or (1,)))
        if self.vocab_size is not None:
            arguments["vocab_size"] = self.vocab_size
        return {k: value for k, value in arguments.items() if k in accepted}

    def _target_shape(self) -> tuple[int, ...] | None:
        if self._examples is None:
            return None
        return tuple(self._examples.y.shape[1:])

    def transform(self, raw: Any) -> np.ndarray:
        """Encode new raw inputs (table rows, texts, series) the way the training data was."""
        if self.encoder is None:
            return np.asarray(raw)
        if self._examples is not None and self._examples.kind == "table":
            import pandas as pd

            raw = raw if isinstance(raw, pd.DataFrame) else pd.DataFrame(raw)
        return self.encoder.transform(raw)

    def labels(self, split: str) -> np.ndarray:
        """The targets of a split, in pipeline order (not for the shuffled train split)."""
        v.check_choice("split", split, ("validation", "test"))
        dataset = getattr(self, split)
        if dataset is None:
            raise v.invalid("split", "a split that this data has", split)
        with images.naming_bad_files():
            return np.concatenate([np.asarray(y) for _, y in dataset.as_numpy_iterator()])

    def folds(self, k: int) -> Iterator[Data]:
        """Yield k Data objects for cross-validation over train + validation.

        Classification folds are stratified. Each fold's held-out part is its
        ``validation`` split; encoders are fitted on each fold's training part.
        """
        from sklearn.model_selection import KFold, StratifiedKFold

        k = v.check_int("folds", k, minimum=2)
        if self._examples is None or self._indices is None:
            raise v.invalid(
                "data",
                "in-memory data (TFDS sources and tables streamed from disk cannot be folded)",
                self.source,
            )
        pool = np.concatenate([self._indices["train"], self._indices["validation"]])
        y = self._examples.y[pool]
        if self.task == "classification":
            smallest = int(np.bincount(y).min()) if len(y) else 0
            if smallest < k:
                raise v.invalid(
                    "folds", f"at most {smallest} (the smallest class has {smallest} examples)", k
                )
            splitter = StratifiedKFold(k, shuffle=True, random_state=self._options.seed)
        else:
            splitter = KFold(k, shuffle=True, random_state=self._options.seed)
        for train, held_out in splitter.split(pool, y):
            indices = {"train": pool[train], "validation": pool[held_out], "test": pool[:0]}
            yield _assemble(self._examples, indices, self._options)


def _check_image_size(image_size: Any) -> tuple[int, int] | None:
    if image_size is None:
        return None
    if isinstance(image_size, int) and not isinstance(image_size, bool):
        image_size = (image_size, image_size)
    return v.check_int_sequence("image_size", image_size, length=2)


# Batches of decoded images a folder's training pipeline reshuffles within each epoch
# (Keras's folder datasets use the same window); the files are put in a random order once.
FILE_WINDOW_BATCHES = 8


def _cache_limit() -> int:
    return int(os.environ.get(CACHE_BYTES_ENV, DEFAULT_CACHE_BYTES))


def _split_indices(
    examples: Examples, options: Options, groups: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    from sklearn.model_selection import train_test_split

    n = len(examples)
    everything = np.arange(n)
    if examples.task == "language_modeling":
        return _tail_splits(n, options)
    stratify = examples.y if examples.task == "classification" else None
    if groups is not None:
        stratify = groups

    def split(indices, fraction, what, requested):
        if fraction == 0:
            return indices, indices[:0]
        classes = len(np.unique(stratify[indices])) if stratify is not None else 1
        # Every class gets at least one held-out example when the data allows it.
        count = max(round(fraction * len(indices)), classes)
        if len(indices) - count < classes:
            raise v.invalid(
                f"{what}_split",
                f"small enough to leave every class in both parts ({classes} classes, "
                f"{len(indices)} examples); use more data, or {what}_split=0",
                requested,
            )
        labels = stratify[indices] if stratify is not None else None
        try:
            return train_test_split(
                indices, test_size=count, stratify=labels, random_state=options.seed
            )
        except ValueError as error:
            raise v.invalid(
                f"{what}_split", f"a split every class can take part in ({error})", requested
            ) from None

    rest, test = split(everything, options.test_split, "test", options.test_split)
    remaining = (
        options.validation_split / (1 - options.test_split) if options.validation_split else 0
    )
    train, validation = split(rest, remaining, "validation", options.validation_split)
    return {"train": np.sort(train), "validation": np.sort(validation), "test": np.sort(test)}


def _tail_splits(n: int, options: Options) -> dict[str, np.ndarray]:
    """Contiguous splits of a text's windows: train, then validation, then test at the end."""
    counts = {}
    for split, fraction in (("test", options.test_split), ("validation", options.validation_split)):
        counts[split] = max(round(fraction * n), 1) if fraction else 0
    train = n - counts["test"] - counts["validation"]
    if train < 1:
        raise v.invalid(
            "validation_split",
            f"small enough with test_split to leave training windows ({n} windows of "
            "sequence_length tokens in the text); use a longer text, a shorter "
            "sequence_length or smaller splits",
            options.validation_split,
        )
    bounds = np.cumsum([0, train, counts["validation"], counts["test"]])
    return {split: np.arange(bounds[i], bounds[i + 1]) for i, split in enumerate(SPLITS)}


def _pipeline(
    x,
    y,
    *,
    training: bool,
    examples: Examples,
    options: Options,
    element_shape,
    transform=None,
    shard: tuple[int, int, int] | None = None,
):
    """Batches of `x` and `y`; `transform` (a TF function) is applied to each batch of x.

    `shard` (``(workers, index, replicas)``, image files only) makes it one worker's
    share: batches of ``(x, y, weight)``, one per local replica (see :func:`_file_share`).
    """
    import tensorflow as tf

    autotune = tf.data.AUTOTUNE
    window = min(len(y), 10_000)
    later: list[str] = []  # image files checked as the pipeline decodes them
    batch_size = options.batch_size
    if examples.kind == "image_files" and training and options.shuffle:
        # The files in a seeded random order, reshuffled each epoch within a window of
        # decoded images when they are cached (else of paths, below): the first batch
        # waits for that window, not for 10,000 decoded images, and classes are mixed
        # from the start.
        order = np.random.default_rng(options.seed).permutation(len(y))
        x, y = np.asarray(x)[order], np.asarray(y)[order]
        window = min(len(y), FILE_WINDOW_BATCHES * options.batch_size)
    columns = (x, y)
    if shard is not None:
        workers, index, replicas = shard
        batch_size = options.batch_size // (workers * replicas)
        columns = _file_share(x, y, workers, index, batch_size * replicas)
    dataset = tf.data.Dataset.from_tensor_slices(columns)
    shuffle = training and options.shuffle
    if examples.kind == "image_files":
        fits = len(columns[1]) * int(np.prod(element_shape)) * 4 <= _cache_limit()
        caching = options.cache is True or (options.cache == "auto" and fits)
        if shuffle and not caching:  # paths reshuffled each epoch within the window, as
            # Keras does: the first batch waits for one batch of decoded images, not a
            # window of them (nor for a larger window of paths)
            dataset = dataset.shuffle(window, seed=options.seed, reshuffle_each_iteration=True)
            shuffle = False
        size = options.image_size or element_shape[:2]
        streamed = examples.extra.get("streamed")
        later = streamed.among(columns[0]) if streamed is not None else []
        if later:  # files checked as they are decoded: a failing one is skipped
            checked = streamed.decode_fn(size, element_shape[-1], options.scale)
            dataset = dataset.map(
                tf.autograph.experimental.do_not_convert(
                    lambda path, *rest: (*checked(path), path, *rest)
                ),
                num_parallel_calls=autotune,
            ).ignore_errors()
            if shard is not None:  # every worker runs as many batches: pad with weight 0
                dataset = _padded_to(dataset, len(columns[1]))
        else:
            same = examples.extra.get("all_of_size") and tuple(size) == element_shape[:2]
            decode = images.decode_fn(size, element_shape[-1], options.scale, all_of_size=same)
            dataset = dataset.map(
                lambda path, *rest: (decode(path), *rest), num_parallel_calls=autotune
            )
        if caching:
            dataset = dataset.cache()
    if shuffle:
        dataset = dataset.shuffle(window, seed=options.seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size)
    if examples.kind == "image_files" and later:
        dataset = _reporting_checks(dataset, streamed, later)
    if transform is not None:
        dataset = dataset.map(lambda a, *rest: (transform(a), *rest), num_parallel_calls=autotune)
    if getattr(x, "dtype", None) == np.uint8:
        scale = np.float32(options.scale)
        dataset = dataset.map(
            lambda a, *rest: (tf.cast(a, tf.float32) * scale, *rest), num_parallel_calls=autotune
        )
    is_image = len(element_shape) == 3
    if is_image and examples.kind != "image_files" and options.image_size is not None:
        size = options.image_size
        dataset = dataset.map(
            lambda a, *rest: (tf.image.resize(a, size, antialias=True), *rest),
            num_parallel_calls=autotune,
        )
    if training and is_image and options.augment:
        dataset = images.augment_batches(dataset, options.augment, options.seed)
    dataset = dataset.prefetch(autotune)
    if later:  # read to its end (its length is unknown): no autotuner to wait for
        dataset = dataset.with_options(compat_tf.read_to_end_options())
    return dataset


def _padded_to(dataset, rows: int):
    """`dataset` cut or padded to `rows` elements with all-zero ones (weight 0)."""
    import tensorflow as tf

    zero = tuple(tf.zeros(s.shape, s.dtype) for s in dataset.element_spec)
    return dataset.concatenate(tf.data.Dataset.from_tensors(zero).repeat(rows)).take(rows)


def _reporting_checks(dataset, streamed: images.StreamedChecks, later: list[str]):
    """Batches of ``(image, shape, path, *rest)`` as ``(image, *rest)``, noting each file.

    :meth:`~zoo.data.images.StreamedChecks.finish` runs at the end of every pass (it
    raises naming the files that failed, unless they are skipped).
    """
    import tensorflow as tf

    def record(image, shape, path, *rest):
        with tf.control_dependencies([streamed.record(path, shape)]):
            return tf.identity(image), *(tf.identity(part) for part in rest)

    plain = tf.autograph.experimental.do_not_convert  # (converting them takes a second)
    dataset = dataset.map(plain(record))
    spec = dataset.element_spec

    def finish(_):
        done = tf.py_function(lambda: streamed.finish(later) or 0, [], tf.int64)
        with tf.control_dependencies([done]):
            return tuple(tf.zeros([d or 0 for d in s.shape], s.dtype) for s in spec)

    end = tf.data.Dataset.range(1).map(plain(finish)).filter(plain(lambda *_: False))
    return dataset.concatenate(end)


def _file_share(x, y, workers: int, index: int, multiple: int):
    """One worker's files (every `workers`-th, from `index`) with weights.

    Every worker gets the same number of rows, a multiple of `multiple` (its batch size
    times its replicas), so all run the same number of full batches: the rows past its
    own files repeat them with weight 0. Across workers each file has weight 1 once.
    """
    own = np.arange(index, len(y), workers)
    most = math.ceil(len(y) / workers)  # the files of the workers with the most
    count = math.ceil(most / multiple) * multiple
    rows = np.concatenate([own, np.resize(own, count - len(own))])
    weights = (np.arange(count) < len(own)).astype(np.float32)
    return np.asarray(x)[rows], np.asarray(y)[rows], weights


def _rows_of_worker(dataset, workers: int, index: int, replicas: int):
    """A worker's rows of every global batch of `dataset`, as one batch per local replica.

    Every worker runs the same (seeded) pipeline, so the global batches agree; a batch
    that the replicas do not divide is padded with weight-0 copies of its first row.
    Yields ``(x, y, weight)``; across workers each row has weight 1 once.
    """
    import tensorflow as tf

    parts = workers * replicas

    def share(*batch):
        size = tf.shape(tf.nest.flatten(batch)[0])[0]
        padded = (size + parts - 1) // parts * parts
        rows = tf.concat([tf.range(size), tf.zeros([padded - size], tf.int32)], 0)
        weights = tf.cast(tf.range(padded) < size, tf.float32)
        own = padded // workers
        rows, weights = (
            rows[index * own : (index + 1) * own],
            weights[index * own : (index + 1) * own],
        )

        def per_replica(column):
            column = tf.gather(column, rows)
            split = tf.reshape(column, tf.concat([[replicas, -1], tf.shape(column)[1:]], 0))
            split.set_shape([replicas, None, *column.shape[1:]])
            return split

        columns = tf.nest.map_structure(per_replica, batch)
        return tf.data.Dataset.from_tensor_slices((*columns, tf.reshape(weights, [replicas, -1])))

    return dataset.flat_map(share)


def _is_pixels(examples: Examples) -> bool:
    """In-memory images of raw 0-255 pixels (the digits, uint8 arrays)."""
    return bool(examples.extra.get("pixels")) and examples.kind == "array"


def _described_inputs(examples: Examples, options: Options, element_shape) -> dict[str, Any]:
    if examples.kind == "image_files" or (_is_pixels(examples) and len(element_shape) == 3):
        return {"kind": "image", "resizes": options.image_size is not None, "scale": options.scale}
    if examples.kind == "array" and len(element_shape) == 3 and options.image_size is not None:
        return {"kind": "image", "resizes": True, "scale": 1.0}
    kinds = {"text": "text", "raw_text": "text", "tokens": "tokens"}
    if examples.kind == "series":
        names = ("form", "channel_names", "id_column", "time_column", "target")
        return {"kind": "series"} | {k: examples.extra[k] for k in names if k in examples.extra}
    if examples.kind == "table":
        encoder_columns = {c: "numeric" for c in examples.extra.get("numeric", [])}
        encoder_columns |= {c: "categorical" for c in examples.extra.get("categorical", [])}
        return {"kind": "table", "columns": encoder_columns, "target": examples.extra.get("target")}
    return {"kind": kinds.get(examples.kind, "array")}


def _assemble(examples: Examples, indices: dict[str, np.ndarray], options: Options) -> Data:
    encoder = None
    if examples.make_encoder is not None:
        train_x = (
            examples.x.iloc[indices["train"]]
            if examples.kind == "table"
            else examples.x[indices["train"]]
        )
        encoder = examples.make_encoder().fit(train_x)

    def features(idx):
        if examples.kind == "table":
            return encoder.transform(examples.x.iloc[idx])
        if examples.kind == "series":  # standardised per batch: no second copy in memory
            return examples.x[idx]
        if encoder is not None:
            return encoder.transform(examples.x[idx])
        if _is_pixels(examples):
            if examples.x.dtype == np.uint8:  # scaled per batch: a quarter of the memory
                return examples.x[idx]
            return examples.x[idx].astype("float32") * np.float32(options.scale)
        return examples.x[idx]

    if examples.kind == "image_files":
        element_shape = examples.element_shape
        if options.image_size is not None:
            element_shape = (*options.image_size, element_shape[-1])
    else:
        sample = features(indices["train"][:1])
        element_shape = tuple(sample.shape[1:])
        if len(element_shape) == 3 and options.image_size is not None:
            element_shape = (*options.image_size, element_shape[-1])

    def make(split, shard=None):
        idx = indices[split]
        if len(idx) == 0:
            return None
        return _pipeline(
            features(idx),
            examples.y[idx],
            training=split == "train",
            examples=examples,
            options=options,
            element_shape=element_shape,
            transform=encoder.tf_transform() if examples.kind == "series" else None,
            shard=shard,
        )

    pipelines = {split: make(split) for split in SPLITS}
    vocab_size = None
    if examples.kind == "tokens":  # the vocabulary was learned before windowing
        encoder = examples.extra["encoder"]
    if examples.kind in ("text", "tokens"):
        vocab_size = len(encoder.vocabulary)
    return Data(
        train=pipelines["train"],
        validation=pipelines["validation"],
        test=pipelines["test"],
        task=examples.task,
        num_classes=len(examples.class_names) if examples.class_names else None,
        class_names=examples.class_names,
        input_shape=element_shape,
        input_dtype={"text": "int32", "tokens": "int32", "raw_text": "string"}.get(
            examples.kind, "float32"
        ),
        sizes={split: len(indices[split]) for split in SPLITS},
        source=examples.source,
        fingerprint=examples.fingerprint,
        batch_size=options.batch_size,
        vocab_size=vocab_size,
        encoder=encoder,
        _examples=examples,
        _options=options,
        _indices=indices,
        _inputs=_described_inputs(examples, options, element_shape),
        _make_train=lambda shard=None: make("train", shard),
    )


def _folder_kind(root: Path, walked: dict[str, list[str]]) -> str:
    # Names only (no stat per file): this runs before the folder's check.
    names = [name.lower() for found in walked.values() for name in found]
    n_images = sum(map(operator.methodcaller("endswith", images.IMAGE_EXTENSIONS), names))
    n_texts = sum(map(operator.methodcaller("endswith", text.TEXT_EXTENSIONS), names))
    if n_images == 0 and n_texts == 0:
        raise v.invalid(
            "source",
            "a folder of images ("
            + ", ".join(images.IMAGE_EXTENSIONS)
            + ") or texts ("
            + ", ".join(text.TEXT_EXTENSIONS)
            + ") in class subfolders",
            f"{root} ({len(names)} files, none of them images or texts)",
        )
    return "images" if n_images >= n_texts else "text"


def _load_tfds(name: str, options: Options, data_dir: Any) -> Data:
    import tensorflow as tf

    from zoo.data import tfds as tfds_source

    datasets, info, _ = tfds_source.load_splits(
        name, validation_split=options.validation_split, folder=data_dir
    )
    supervised = info.supervised_keys
    image_key = supervised[0] if supervised else None
    feature = info.features[image_key] if image_key else None
    label_feature = info.features[supervised[1]] if supervised else None
    shape = tuple(feature.shape) if feature is not None else ()
    is_image = len(shape) == 3
    if is_image and options.image_size is not None:
        shape = (*options.image_size, shape[-1])
    if is_image and None in shape:
        raise v.invalid("image_size", f"set for TFDS {name!r}, whose images vary in size", None)
    scale = options.scale if is_image else 1.0

    def prepare(x, y):
        x = tf.cast(x, tf.float32) * scale
        if is_image and options.image_size is not None:
            x = tf.image.resize(x, options.image_size, antialias=True)
        return x, tf.cast(y, tf.int32)

    pipelines = {}
    sizes = {}
    for split, dataset in zip(SPLITS, datasets, strict=True):
        if dataset is None:
            pipelines[split], sizes[split] = None, 0
            continue
        known = dataset.cardinality().numpy()
        sizes[split] = int(known) if known >= 0 else None
        dataset = dataset.map(prepare, num_parallel_calls=tf.data.AUTOTUNE)
        if split == "train" and options.shuffle:
            dataset = dataset.shuffle(10_000, seed=options.seed, reshuffle_each_iteration=True)
        dataset = dataset.batch(options.batch_size)
        if split == "train" and is_image and options.augment:
            dataset = images.augment_batches(dataset, options.augment, options.seed)
        pipelines[split] = dataset.prefetch(tf.data.AUTOTUNE)
    names = tuple(label_feature.names) if hasattr(label_feature, "names") else None
    return Data(
        train=pipelines["train"],
        validation=pipelines["validation"],
        test=pipelines["test"],
        task="classification",
        num_classes=label_feature.num_classes if hasattr(label_feature, "num_classes") else None,
        class_names=names,
        input_shape=shape,
        input_dtype="float32",
        sizes=sizes,
        source=f"tfds:{name}",
        fingerprint=f"tfds:{name}:{info.version}",
        batch_size=options.batch_size,
        _inputs=(
            {"kind": "image", "resizes": options.image_size is not None, "scale": scale}
            if is_image
            else None
        ),
    )


def load(
    source: Any,
    y: Any = None,
    *,
    target: str | None = None,
    features: list[str] | None = None,
    categorical: list[str] | tuple[str, ...] | None = None,
    task: str | None = None,
    batch_size: int = 32,
    validation_split: float = 0.1,
    test_split: float | None = None,
    seed: int = 0,
    image_size: int | tuple[int, int] | None = None,
    color_mode: str = "auto",
    rescale: bool = True,
    augment: bool | dict[str, Any] | None = None,
    vocab_size: int = 20_000,
    sequence_length: int = 200,
    skip_bad_files: bool = False,
    cache: bool | str = "auto",
    shuffle: bool = True,
    stratify: Any = None,
    tokenize: bool = True,
    tokenizer: str = "character",
    data_dir: str | os.PathLike | None = None,
    test: Any = None,
    validation: Any = None,
    series: str | None = None,
    id_column: str | None = None,
    time_column: str | None = None,
    memory_budget: int | str | None = None,
) -> Data:
    """Load data from any source into train/validation/test ``tf.data`` pipelines.

    Sources:
        - a standard dataset by name, with its official test split kept (validation
          is carved from the official training split): ``"mnist"``,
          ``"fashion_mnist"``, ``"cifar10"``, ``"cifar100"``, ``"imdb"``, ``"reuters"``
          (files found or downloaded as :mod:`zoo.data.standard` says; see
          :func:`zoo.data.list_datasets`);
        - a bundled dataset name: ``"digits"``;
        - numpy arrays: ``load(x, y)`` or ``load((x, y))``; a 3-D float array
          ``(n, length, channels)`` is a time series source: each channel is
          standardised with the mean and variance of the training split, in the
          pipelines and in the saved model (which takes raw series);
        - time series in a DataFrame or CSV file, with `series`: ``"wide"`` (one row
          per series: the target column and one column per time step, in column
          order) or ``"long"`` (one row per time step: `id_column` names the series,
          `time_column` orders its steps (default: the rows' order), the other
          numeric columns, or `features`, are its channels, and the target is the
          same in every row of a series); every series must have the same length
          (zoo does not pad: resample or truncate with pandas first);
        - a pandas DataFrame with a ``target`` column (numeric columns are
          standardised, categorical ones one-hot encoded, fitted on train only);
          a text column is categorical, but one whose non-missing cells are at
          least 90% (and not all) numbers is taken for a numeric column with stray
          cells (typos, placeholders such as ``"?"``) and refused with those cells
          named: fix or drop those rows, or declare the column with `categorical`;
        - a CSV file path (as a DataFrame; ``.tsv`` files are tab-separated; rows
          in errors are the file's lines, the header being line 1);
        - a folder ``root/<class>/<file>`` of images (JPEG, PNG, BMP, GIF) or of
          text files (tokenised; the vocabulary is learned on train only; raw strings
          with ``tokenize=False``); a folder whose subfolders are ``train/`` and
          optionally ``validation/`` (or ``val/``) and ``test/``, each with class
          subfolders, keeps those splits (the missing ones are carved from train);
        - ``"tfds:NAME"``: a prepared TensorFlow Datasets dataset (never downloaded);
        - with ``task="language_modeling"``: one text, from a text file, a folder of
          text files (read in sorted order), a list of strings or the bundled
          ``"zen"`` (the Zen of Python), cut into windows of `sequence_length`
          tokens whose targets are the next tokens (splits are contiguous: the
          test windows are the end of the text, validation comes before them).

    Splits are deterministic for a seed and stratified for classification. The
    training order is shuffled every epoch from `seed` together with TensorFlow's
    global seed (as every tf.data shuffle is); ``zoo.train`` sets that from its own
    ``seed``, so load data after ``keras.utils.set_random_seed`` to repeat a run
    exactly in one process. Image folders put the training files in a random order
    once and reshuffle them each epoch within a window of 8 batches (as Keras's
    folder datasets do), so training starts without decoding 10,000 images first. Every
    image file is checked once: up to 1,000 new files before :func:`load` returns,
    beyond that a sample of 100 (for the image size and ``color_mode="auto"``) and the
    rest as the pipelines first decode them (:class:`zoo.data.images.StreamedChecks`:
    a bad file is skipped, and named at the end of that pass, where iterating the
    split raises unless `skip_bad_files`; ``Data.unchecked`` counts those not yet
    read). The results are remembered in zoo's cache (:mod:`zoo.data.manifest`), so a
    second load of an unchanged folder opens no file before training.

    Args:
        source: the data (see above).
        y: labels or targets when `source` is a feature array.
        target: the target column of a table (default: a column named target,
            label, labels, class or y).
        features: the feature columns of a table (default: all but the target).
        categorical: feature columns of a table to one-hot encode even though they
            hold numbers (codes such as zip codes or product ids), or that hold
            mostly numbers but are categories (see Sources); values become strings.
        task: ``"classification"``, ``"regression"`` (default: regression for
            float targets, classification otherwise) or ``"language_modeling"``.
        batch_size: examples per batch.
        validation_split: fraction of all examples held out for validation.
        test_split: fraction of all examples held out for the test set (up to 0.99,
            for few-label experiments that keep most data for testing); default 0.2.
            Must be None when the test split is given (`test`, a ``test/`` folder, a
            standard dataset's official test split).
        seed: seed of splits, shuffling and augmentation.
        image_size: (height, width) to resize images to (an int for squares);
            required when a folder's checked images differ in size (images checked
            while training that differ are resized to the others' size, and counted).
        color_mode: ``"auto"`` (grayscale only if every image Pillow checked is:
            every image, or the sample of a folder checked while streaming), ``"rgb"``
            or ``"grayscale"``, for image folders.
        rescale: scale 0-255 pixels (folders, TFDS images, the digits, uint8 image
            arrays) to [0, 1] in the pipelines; the model's preprocessor does the same,
            so saved models take 0-255 pixels.
        augment: True for random flip, rotation, zoom and contrast on the training
            split, or a dict such as ``{"flip": "horizontal", "rotation": 0.05}``.
        vocab_size: maximum vocabulary of text folders (ids 0 and 1 are padding
            and out-of-vocabulary).
        sequence_length: tokens per text (padded or truncated); for language
            modelling, tokens per window.
        skip_bad_files: skip (and count) unusable files instead of raising: files
            that are not images or UTF-8 texts, damaged ones, images over Pillow's
            decompression-bomb limit (``PIL.Image.MAX_IMAGE_PIXELS``; raise it for
            files you trust) and images TensorFlow's decoder would misread (TIFF
            behind an image suffix, 1-bit or palette BMPs; a JPEG or PNG file checked
            while training is refused only where TensorFlow's decoder fails).
        cache: ``"auto"`` caches decoded images in memory when they fit
            (``$ZOO_CACHE_BYTES``, default 2 GiB); True or False to force.
        shuffle: shuffle the training split every epoch.
        stratify: one group label per example that the splits keep in proportion
            instead of the classes, for example the digit behind an odd/even label
            (so every digit reaches the training split) or a measuring site.
        tokenize: False keeps a text folder's texts as raw strings, for models that
            bring their own tokenizer (keras-hub classifiers).
        tokenizer: ``"character"`` or ``"word"`` (split on whitespace) tokens for
            language modelling; ``data.encoder.decode(ids)`` turns ids back into text.
        data_dir: TFDS data folder (default ``$TFDS_DATA_DIR`` or
            ``~/tensorflow_datasets``).
        test: a fixed test set, kept untouched as the test split: (x, y) arrays, a
            DataFrame, a CSV file or a folder, of the same kind as `source` and with
            classes that `source` has (labels match its class names; integer labels
            are class ids where the class names are not integers, as for
            ``"fashion_mnist"``). ``data.split_sources`` records it.
        validation: a fixed validation set, given like `test`.
        series: ``"wide"`` or ``"long"``: read a DataFrame or CSV as time series (see
            Sources); None reads it as a table.
        id_column: the column naming the series of each row (``series="long"``;
            with ``series="wide"``, an id column left out of the values).
        time_column: the column that orders the steps of each series
            (``series="long"``; default: the rows' order).
        memory_budget: bytes (or ``"512M"``, ``"2G"``) a table may take; a CSV file
            that would take more read whole (about 10 times its size) is streamed
            from disk instead (see
            :mod:`zoo.data.streaming`: statistics in one pass over the training rows,
            splits drawn per row, not stratified). Default ``$ZOO_MEMORY_BUDGET``,
            else a quarter of the machine's RAM.

    Returns:
        A :class:`Data`.

    Raises:
        FileNotFoundError: (``zoo.data.bundled.SourceNotFoundError``) for a `source`
            string that looks like a path (a path separator, a leading ``.`` or ``~``,
            or a data suffix such as ``.csv``) where no file or folder exists.
        ValueError: for unusable data (an empty folder, one class, a class subfolder
            without usable files, unreadable or damaged files (``DamagedFileError``),
            images over Pillow's pixel limit, NaN or infinite features, targets or
            `stratify` groups, a mostly numeric column with text cells, repeated
            column names, a table without feature columns, mismatched lengths, an
            unknown target or named source, series of several lengths or with
            several labels, repeated times in a series) or settings.
        TypeError: for arguments of the wrong type.

    Example:
        >>> data = zoo.data.load("digits", batch_size=64)
        >>> data.input_shape, data.num_classes, data.sizes["test"]
        ((8, 8, 1), 10, 359)
    """
    options = Options(
        batch_size=v.check_int("batch_size", batch_size, minimum=1),
        validation_split=v.check_float(
            "validation_split", validation_split, minimum=0.0, maximum=0.5
        ),
        test_split=None
        if test_split is None
        else v.check_float("test_split", test_split, minimum=0.0, maximum=0.99),
        seed=v.check_int("seed", seed, minimum=0),
        image_size=_check_image_size(image_size),
        augment=images.check_augment(augment),
        scale=1 / 255 if v.check_bool("rescale", rescale) else 1.0,
        cache=v.check_choice("cache", cache, ("auto", True, False)),
        shuffle=v.check_bool("shuffle", shuffle),
    )
    v.check_choice("color_mode", color_mode, images.COLOR_MODES)
    vocab_size = v.check_int("vocab_size", vocab_size, minimum=3)
    sequence_length = v.check_int("sequence_length", sequence_length, minimum=1)
    v.check_bool("skip_bad_files", skip_bad_files)
    v.check_bool("tokenize", tokenize)
    v.check_choice("tokenizer", tokenizer, corpus.TOKENIZERS)
    series_options = series_source.check_options(series, id_column, time_column, categorical)
    if task is not None:
        v.check_choice("task", task, ("classification", "regression", "language_modeling"))
    if task == "language_modeling":
        for name, value in (
            ("y", y),
            ("target", target),
            ("stratify", stratify),
            ("categorical", categorical),
            ("test", test),
            ("validation", validation),
            ("series", series),
        ):
            if value is not None:
                raise v.invalid(name, "None for task='language_modeling'", type(value).__name__)
        examples = corpus.from_text(
            source,
            sequence_length=sequence_length,
            vocab_size=vocab_size,
            tokenizer=tokenizer,
            skip_bad_files=skip_bad_files,
        )
        options = _default_test_split(options)
        return _assemble(examples, _split_indices(examples, options), options)
    if y is not None and not isinstance(source, np.ndarray):
        raise v.invalid(
            "y", "given only with a feature array as `source`", type(y).__name__, TypeError
        )
    if isinstance(source, str) and source.startswith("tfds:"):
        name = source[len("tfds:") :]
        v.check_str("source", name)
        given = (("stratify", stratify), ("test", test), ("validation", validation))
        if series is not None:
            raise v.invalid("series", "None for TFDS sources", series)
        for argument, value in given:
            if value is not None:
                fixed = "None for TFDS sources (their splits are fixed)"
                raise v.invalid(argument, fixed, type(value).__name__)
        return _load_tfds(name, options, data_dir)

    budget = streaming.memory_budget(memory_budget)
    if _is_large_table(source, series, budget):
        given = {"stratify": stratify, "test": test, "validation": validation}
        for argument, value in given.items():
            if value is not None:
                streamed = f"None for a table streamed from disk (over {budget:,} bytes read whole)"
                raise v.invalid(argument, streamed, type(value).__name__)
        table = {"target": target, "features": features, "categorical": categorical}
        return _load_streamed(Path(source), _default_test_split(options), budget, table, task)

    if test is not None and options.test_split is not None:
        raise v.invalid("test_split", "None when `test` gives the test split", test_split)
    if isinstance(source, str) and source in standard.DATASETS and test is not None:
        official = f"None: the source has its own test split (official test of {source})"
        raise v.invalid("test", official, type(test).__name__)  # before reading the dataset

    reading = _Reading(
        table={"target": target, "features": features, "categorical": categorical, "task": task},
        series=series_options,
        image_size=options.image_size,
        color_mode=color_mode,
        vocab_size=vocab_size,
        sequence_length=sequence_length,
        skip_bad_files=skip_bad_files,
        tokenize=tokenize,
    )
    examples, fixed, described = _read_source(source, y, reading)
    given = {split: other for split, other in (("validation", validation), ("test", test))}
    given = {split: other for split, other in given.items() if other is not None}
    if fixed is not None and given:
        taken = [split for split in given if split in fixed]
        if taken:
            raise v.invalid(
                taken[0],
                f"None: the source has its own {taken[0]} split ({described[taken[0]]})",
                type(given[taken[0]]).__name__,
            )
    if given:
        examples, fixed, described = _with_given_splits(examples, fixed, described, given, reading)
    if fixed is None:
        options = _default_test_split(options)
        indices = _split_indices(examples, options, _check_groups(stratify, len(examples)))
        return _assemble(examples, indices, options)
    if options.test_split is not None and "test" in fixed:
        raise v.invalid(
            "test_split", f"None: the test split is given ({described['test']})", test_split
        )
    groups = None
    if stratify is not None:
        if described.get("train") != "source":
            fixed_splits = (
                "None for sources with their own splits (split folders, standard datasets)"
            )
            raise v.invalid("stratify", fixed_splits, type(stratify).__name__)
        groups = _check_groups(stratify, len(fixed["train"]))
    options = _default_test_split(options)
    indices = _carve_missing_splits(examples, fixed, options, groups)
    data = _assemble(examples, indices, options)
    data._split_sources = {
        split: described.get(split, "carved from train") for split in SPLITS if indices[split].size
    }
    return data


def _is_large_table(source: Any, series: Any, budget: int) -> bool:
    if series is not None or not isinstance(source, (str, os.PathLike)):
        return False
    path = Path(source)
    return (
        path.suffix.lower() in tabular.TABLE_SUFFIXES
        and path.is_file()
        and streaming.too_big(path, budget)
    )


def _load_streamed(
    path: Path, options: Options, budget: int, table: dict[str, Any], task: str | None
) -> Data:
    """A CSV file larger than the memory budget, streamed (see :mod:`zoo.data.streaming`)."""
    fractions = (options.test_split, options.validation_split)
    found = streaming.scan(
        path, budget=budget, task=task, fractions=fractions, seed=options.seed, **table
    )
    encoder = found.encoder()
    settings = {"batch_size": options.batch_size, "budget": budget, "shuffle": options.shuffle}
    pipelines = {
        split: streaming.pipeline(found, split, encoder, **settings) if found.sizes[split] else None
        for split in SPLITS
    }
    columns = {c: "numeric" for c in found.numeric} | {c: "categorical" for c in found.categorical}
    return Data(
        train=pipelines["train"],
        validation=pipelines["validation"],
        test=pipelines["test"],
        task=found.task,
        num_classes=len(found.class_names) if found.class_names else None,
        class_names=found.class_names,
        input_shape=(len(encoder.feature_names),),
        input_dtype="float32",
        sizes=found.sizes,
        source=f"CSV {path} (streamed in chunks of {found.chunk_rows:,} rows)",
        fingerprint=found.fingerprint,
        batch_size=options.batch_size,
        encoder=encoder,
        _options=options,
        _inputs={"kind": "table", "columns": columns, "target": found.target},
    )


def _default_test_split(options: Options) -> Options:
    """`options` with ``test_split=None`` (no split given) made the default fraction."""
    if options.test_split is not None:
        return options
    return dataclasses.replace(options, test_split=DEFAULT_TEST_SPLIT)


@dataclasses.dataclass(frozen=True)
class _Reading:
    """How :func:`load` reads any source (the arguments that are not about splits)."""

    table: dict[str, Any]
    image_size: tuple[int, int] | None
    color_mode: str
    vocab_size: int
    sequence_length: int
    skip_bad_files: bool
    tokenize: bool
    series: dict[str, Any] | None = None  # form, id_column, time_column of a series table
    min_classes: int = 2  # 1 for a given test or validation split


def _read_source(
    source: Any, y: Any, reading: _Reading, *, channels: int | None = None
) -> tuple[Examples, dict[str, np.ndarray] | None, dict[str, str]]:
    """A source's examples, the positions of the splits it fixes (or None), their origins."""
    import pandas as pd

    given = source
    if isinstance(source, str) and source.startswith("~"):
        source = os.path.expanduser(source)
    is_table = isinstance(source, pd.DataFrame) or (
        isinstance(source, (str, os.PathLike))
        and Path(source).suffix.lower() in tabular.TABLE_SUFFIXES
        and not Path(source).is_dir()
    )
    if reading.table["categorical"] is not None and not is_table:
        raise v.invalid(
            "categorical",
            "None unless the source is a table (a DataFrame or a CSV file)",
            reading.table["categorical"],
        )
    if reading.series is not None and not is_table:
        raise v.invalid(
            "series",
            "None unless the source is a table (a DataFrame or a CSV file); a 3-D float "
            "array (n, length, channels) is read as series without it",
            reading.series["form"],
        )
    plain = {"train": "source"}
    min_classes = reading.min_classes
    table = {**reading.table, "min_classes": min_classes}
    if isinstance(source, str) and source in BUNDLED:
        return BUNDLED[source](), None, plain
    if isinstance(source, str) and source in standard.DATASETS:
        examples, fixed = standard.examples(
            source,
            vocab_size=reading.vocab_size,
            sequence_length=reading.sequence_length,
            tokenize=reading.tokenize,
        )
        official = {"train": f"official train of {source}", "test": f"official test of {source}"}
        return examples, fixed, official
    if isinstance(source, pd.DataFrame):
        if reading.series is not None:
            return _series_frame(source, table, reading.series), None, plain
        return tabular.from_frame(source, **table), None, plain
    if isinstance(source, tuple) and len(source) == 2:
        x, labels = source
        return _arrays(x, labels, table["task"], min_classes), None, plain
    if isinstance(source, np.ndarray):
        if y is None:
            raise v.invalid("y", "the labels or targets of the feature array", None)
        return _arrays(source, y, table["task"], min_classes), None, plain
    if not isinstance(source, (str, os.PathLike)):
        raise v.invalid(
            "source",
            "a dataset name, 'tfds:NAME', a path, (x, y) arrays or a pandas DataFrame",
            type(source).__name__,
            TypeError,
        )
    path = Path(source)
    if path.is_file():
        if path.suffix.lower() not in tabular.TABLE_SUFFIXES:
            raise v.invalid(
                "source",
                f"a table file ({', '.join(tabular.TABLE_SUFFIXES)}), a folder, "
                "'tfds:NAME' or a dataset name (read other files with pandas and pass "
                "the DataFrame)",
                str(path),
            )
        if reading.series is not None:
            frame, rows = tabular.read_csv(path)
            found = _series_frame(frame, table, reading.series, source=f"CSV {path}", rows=rows)
            return found, None, plain
        return tabular.from_csv(path, **table), None, plain
    if not path.is_dir():
        raise unknown_source(given)
    walked = images.listing(path)  # listed once, for its kind and its files
    is_images = _folder_kind(path, walked) == "images"

    def load_one(folder, channels=channels, min_classes=min_classes):
        if not is_images:
            return text.from_folder(
                folder,
                vocab_size=reading.vocab_size,
                sequence_length=reading.sequence_length,
                skip_bad_files=reading.skip_bad_files,
                tokenize=reading.tokenize,
                min_classes=min_classes,
                walked=walked,
            )
        mode = reading.color_mode if channels is None else ("grayscale", "rgb")[channels != 1]
        return images.from_folder(
            folder,
            image_size=reading.image_size,
            color_mode=mode,
            skip_bad_files=reading.skip_bad_files,
            min_classes=min_classes,
            walked=walked,
        )

    parts = folders.split_folders(path)
    if parts is None:
        return load_one(path), None, plain
    examples, fixed = folders.from_split_folders(parts, load_one, path)
    return examples, fixed, {split: f"{parts[split].name}/" for split in fixed}


def _arrays(x: Any, y: Any, task: str | None, min_classes: int) -> Examples:
    """Examples of feature arrays; 3-D float arrays are series."""
    examples = tabular.from_arrays(x, y, task, min_classes=min_classes)
    if series_source.is_series_array(examples.x):
        return series_source.from_arrays(examples)
    return examples


def _series_frame(frame, table: dict[str, Any], options: dict[str, Any], **where) -> Examples:
    return series_source.from_frame(
        frame,
        form=options["form"],
        target=table["target"],
        features=table["features"],
        task=table["task"],
        id_column=options["id_column"],
        time_column=options["time_column"],
        min_classes=table["min_classes"],
        **where,
    )


def _with_given_splits(
    examples: Examples,
    fixed: dict[str, np.ndarray] | None,
    described: dict[str, str],
    given: dict[str, Any],
    reading: _Reading,
) -> tuple[Examples, dict[str, np.ndarray], dict[str, str]]:
    """The source's examples with `given` splits (``test=``, ``validation=``) appended.

    Each given split is read as the source is (same table columns, text settings,
    the training images' colour channels) and for the source's task; errors in
    reading it say which split they are about.
    """
    import pandas as pd

    loaded = {}
    channels = examples.element_shape[-1] if examples.element_shape else None
    reading = dataclasses.replace(reading, min_classes=1)  # a test set of one class is fine
    if examples.task in ("classification", "regression"):  # int targets stay regression
        reading = dataclasses.replace(reading, table={**reading.table, "task": examples.task})
    kinds = "(x, y) arrays, a DataFrame, a CSV file or a folder"
    for split, other in given.items():
        if isinstance(other, np.ndarray):
            raise v.invalid(split, kinds, f"a lone array of shape {other.shape} (pass (x, y))")
        if not isinstance(other, (tuple, pd.DataFrame, str, os.PathLike)):
            raise v.invalid(split, kinds, type(other).__name__, TypeError)
        try:
            part, its_fixed, _ = _read_source(other, None, reading, channels=channels)
        except v.UserError as error:
            raise _about_split(error, split) from None
        if its_fixed is not None:
            raise v.invalid(
                split,
                "a source of one split (not a dataset or folder with splits of its own)",
                f"{part.source} with splits {', '.join(its_fixed)}",
            )
        loaded[split] = part
        described = {**described, split: f"{split}= {part.source}"}
    if fixed is None:
        fixed = {"train": np.arange(len(examples))}
    combined, positions = folders.combine(examples, fixed, loaded)
    return combined, positions, described


def _about_split(error: v.UserError, split: str) -> v.UserError:
    """`error`, of reading a given split, saying which split it is about."""
    try:
        return type(error)(f"In `{split}` (the given {split} split): {error}")
    except TypeError:  # an error class with other arguments: left as it is
        return error


def _carve_missing_splits(
    examples: Examples,
    fixed: dict[str, np.ndarray],
    options: Options,
    groups: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """The given splits as they are; validation/test carved from train if absent."""
    train = fixed["train"]
    subset = dataclasses.replace(examples, x=None, y=examples.y[train])
    carve = dataclasses.replace(
        options,
        validation_split=0.0 if "validation" in fixed else options.validation_split,
        test_split=0.0 if "test" in fixed else options.test_split,
    )
    carved = _split_indices(subset, carve, groups)
    indices = {split: train[carved[split]] for split in SPLITS}
    indices.update({split: fixed[split] for split in ("validation", "test") if split in fixed})
    return indices


def _check_groups(stratify: Any, n: int) -> np.ndarray | None:
    """``stratify`` as one hashable group label per example, or None."""
    if stratify is None:
        return None
    groups = np.asarray(stratify)
    if groups.ndim != 1 or len(groups) != n or groups.dtype == object:
        raise v.invalid(
            "stratify",
            f"a 1-D array of {n} numbers or strings, one group label per example",
            f"shape {groups.shape} of {groups.dtype}",
        )
    if groups.dtype.kind in "fc" and not np.isfinite(groups).all():
        rows = np.flatnonzero(~np.isfinite(groups))
        raise v.invalid(
            "stratify",
            "group labels without NaN or infinity, one per example",
            f"{len(rows)} NaN or infinite at rows {rows[:5].tolist()}",
        )
    return groups
