"""The feature cache of ``fine_tune``'s head stage: backbone features computed once.

With the backbone frozen and the data not augmented, the backbone's output for each
example never changes, so it is computed once per split and kept on disk (under
``saved_models/.cache/features``), keyed by the extractor's config and weights, the
data's fingerprint and options, and the split. The head then trains on the features,
many times faster per epoch than running the frozen backbone every epoch.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path

import keras
import numpy as np

from zoo import _fs, distribute, distribute_jax
from zoo._compat.keras import replicated_predict_returns_copies
from zoo.data.images import naming_bad_files

CACHE_DIR = ".cache/features"


def _weights_digest(model: keras.Model) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps(model.get_config(), sort_keys=True, default=str).encode())
    for weight in model.weights:
        digest.update(weight.path.encode() if hasattr(weight, "path") else b"")
        digest.update(np.ascontiguousarray(keras.ops.convert_to_numpy(weight)).tobytes())
    return digest.hexdigest()


def cache_key(extractor: keras.Model, data, split: str, pipeline: dict | None = None) -> str:
    """A key for one split's features: extractor, data, split, pipeline and options.

    Args:
        extractor: the model that computes the features.
        data: the data as the extractor takes it (after any adaptation).
        split: ``"train"``, ``"validation"`` or ``"test"``.
        pipeline: what was done to the data's pipelines on the way to the extractor
            (pixel scale, resizing, grey to RGB), JSON-serialisable.
    """
    options = data.options
    parts = {
        "extractor": _weights_digest(extractor),
        "data": data.fingerprint,
        "split": split,
        "sizes": data.sizes,
        "input_shape": list(data.input_shape),
        "pipeline": pipeline,
        "options": repr(options) if options is not None else None,
        "seed": getattr(options, "seed", None),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:24]


def features(extractor, dataset, cache_dir: Path | None, key: str, verbose: int):
    """(features, labels) of a whole split, from the disk cache when it holds them."""
    path = None if cache_dir is None else cache_dir / f"{key}.npz"
    if path is not None and path.is_file():
        with np.load(path) as stored:
            return stored["features"], stored["labels"]
    outputs, labels = [], []
    batches = dataset.as_numpy_iterator()  # numpy for every backend (JAX takes no tf tensors)
    if verbose:
        from tqdm.auto import tqdm

        total = int(dataset.cardinality())
        batches = tqdm(
            batches,
            total=total if total > 0 else None,
            desc="computing backbone features",
            leave=False,
        )
    strategy = distribute.strategy_of(extractor)
    copies = replicated_predict_returns_copies(strategy)
    replicas = strategy.num_replicas_in_sync if distribute_jax.is_jax_strategy(strategy) else 1
    with strategy.scope() if replicas > 1 else contextlib.nullcontext(), naming_bad_files():
        for x, y in batches:
            if copies:
                out = extractor(x, training=False)
            else:  # a batch JAX shards over its devices must divide evenly: padded, then cut
                grown, size = distribute_jax.padded(x, replicas)
                out = keras.ops.convert_to_numpy(extractor.predict_on_batch(grown))[:size]
            outputs.append(keras.ops.convert_to_numpy(out))
            labels.append(np.asarray(y))
    features_array, labels_array = np.concatenate(outputs), np.concatenate(labels)
    if path is not None:
        with _fs.atomic_file(path) as partial:  # a killed run never leaves half a cache
            np.savez(partial, features=features_array, labels=labels_array)
    return features_array, labels_array


def feature_dataset(features_array, labels, batch_size: int, shuffle: bool, seed: int):
    """A batched ``tf.data`` pipeline over cached features."""
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices((features_array, labels))
    if shuffle:
        dataset = dataset.shuffle(len(labels), seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)
