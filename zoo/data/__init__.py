"""Data sources -> tf.data pipelines: ``zoo.data.load(source, ...)``.

One call turns a standard dataset by name (``"fashion_mnist"``, ``"cifar10"``,
``"imdb"``, ... with its official test split), a bundled dataset, numpy arrays, a
DataFrame, a CSV file, a folder of images or texts, or a prepared TFDS dataset into
batched train/validation/test pipelines with the metadata a model needs (task,
classes, input shape, sizes). :func:`list_datasets` shows the names and which are on
disk.
"""

from zoo.data.bundled import list_datasets
from zoo.data.core import Data, load

__all__ = ["Data", "list_datasets", "load"]
