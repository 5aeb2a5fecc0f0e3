"""Data sources -> tf.data pipelines: ``zoo.data.load(source, ...)``.

One call turns a bundled dataset, numpy arrays, a DataFrame, a CSV file, a folder of
images or texts, or a prepared TFDS dataset into batched train/validation/test
pipelines with the metadata a model needs (task, classes, input shape, sizes).
"""

from zoo.data.core import Data, load

__all__ = ["Data", "load"]
