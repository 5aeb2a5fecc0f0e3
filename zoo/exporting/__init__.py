"""Export a model for serving as a TF SavedModel, a TFLite file or an ONNX file, checked.

:func:`export` writes the artifact with Keras's own exporters (``model.export`` with
``format="tf_saved_model"``, ``"litert"`` or ``"onnx"``), then runs it on sample inputs
in the same process (``tf.saved_model.load``, the TFLite interpreter, ONNX Runtime)
next to the Keras model, both on the CPU, and compares every output. The artifact is
written under a temporary name beside the target and renamed into place only when
the largest absolute difference is within the tolerance, so a failed export never
leaves a half-written artifact and never replaces a previous one.

Where the artifact goes by default:
    * a saved zoo model (a name under ``saved_models/`` or a folder):
      ``<folder>/export/saved_model/``, ``<folder>/export/model.tflite`` or
      ``<folder>/export/model.onnx``;
    * a ``.keras`` file: ``<parent>/<stem>_export/`` with the same names;
    * a model in memory: ``saved_models/<model.name>/export/`` (``saved_models`` is
      ``$ZOO_SAVED_MODELS`` or `saved_models_dir`). ``zoo.save`` to the same name
      later replaces the whole folder, stale exports included.

What each format does with zoo's families (measured on the ``*_tiny`` presets):
    * ``saved_model`` exports every functional model (MLP, CNN, ResNet, RNN,
      transformer, ViT, GPT, autoencoder, VAE) with differences of 0 to 2e-7.
    * ``tflite`` uses TFLite's builtin ops only, so the file runs in the standard
      LiteRT runtime without the Flex delegate. Models whose variable batch or
      sequence length would need TensorFlow "Select" ops (the RNN loop's
      ``TensorList`` ops, GPT's causal-mask slicing) are exported with a fixed input
      shape instead: batch 1 and the sample's other dimensions, as
      :attr:`ExportResult.notes` says.
    * ``onnx`` needs ``pip install tf2onnx onnx onnxruntime`` (or ``zoo[export]``).
      tf2onnx 1.17 leaves TensorFlow's ``Erfc`` op (exact GELU, used by the
      transformers, ViT and GPT) unconverted, which ONNX Runtime rejects; zoo adds
      the missing conversion (``erfc(x) = 1 - erf(x)``) before exporting. An op that
      tf2onnx cannot convert fails the export at once, naming the op.
    * A mixed-precision model (float16 or bfloat16 compute) goes to TFLite and ONNX
      as a float32 copy with the same weights, checked against the original with a
      tolerance of 1e-2; a SavedModel keeps its policy.
    * A GAN is exported as its generator (noise, and labels when conditional, to
      images), which is exactly what the GAN's ``call`` and ``generate`` run.
    * A diffusion model cannot be exported whole: its ``call`` is a training step
      with random timesteps and noise, and sampling is a Python loop. Export
      ``model.network`` (the denoising U-Net) and run the sampling loop yourself.

Models that take raw input (what ``zoo.train`` returns and saves: the data's
preprocessing in front of the network, ``zoo.layers.preprocessing.attach``) are
checked on raw inputs, and each format holds as much of the preprocessing as it can:
    * ``saved_model`` holds all of it. Images: 0-255 pixels, of any size when the
      data was resized (checked at the training size and at another one). Texts: a
      string input. Tables: one named 1-D input per column (``serve({"age": ...,
      "city": ...})`` or ``signatures["serving_default"](age=..., city=...)``).
    * Images in ``tflite`` and ``onnx``: the rescaling is inside. The antialiased
      ``Resizing`` (TensorFlow's ``ScaleAndTranslate``) is neither a TFLite builtin
      nor converted by tf2onnx, so a resizing model is written at its training size
      (resize images to it, with antialiasing, before feeding them), and a note
      says so.
    * Tables in ``tflite``: raw columns in. FeatureSpace's one-hot encoding
      (``CategoryEncoding``, TensorFlow's ``DenseBincount``) is no TFLite builtin,
      but the string lookup and a one-hot op are, so the encoding is rebuilt with
      those and checked against the original on rows with an unseen category.
    * Tables in ``onnx`` and texts in both: tf2onnx converts no Keras string lookup
      (https://github.com/onnx/tensorflow-onnx/issues/1867) and neither format has
      ``TextVectorization``'s string ops (lowercasing, regex replace, split). The
      file holds the network; ``<file>.preprocessing.json`` beside it says how to
      compute its input from raw input (texts: the standardize and split settings,
      sequence length and ``<file>.vocabulary.txt``, one token per line, line number
      = token id; tables: each numeric column's mean and variance, each categorical
      column's vocabulary with the unseen-category column first, in column order),
      as :attr:`ExportResult.preprocessing` and the notes say. The check runs the
      network on what the Keras preprocessing makes of the raw samples, and the
      description must reproduce that exactly.
    * Every format runs the model in inference mode: Keras 3.15 lets ``Resizing``'s
      ``training=True`` default reach the layers after it when a model is called
      without ``training``, which would put the network's Dropout in training mode
      in a SavedModel (https://github.com/keras-team/keras/pull/23166).

The package, one concern per module (:func:`export` here composes them):
    * :mod:`~zoo.exporting.results`: :class:`ExportResult`, the errors and their words.
    * :mod:`~zoo.exporting.targets`: default and checked paths, installing the files.
    * :mod:`~zoo.exporting.models`: the model exported (a GAN's generator, a float32
      copy) and its tolerance.
    * :mod:`~zoo.exporting.signatures` and :mod:`~zoo.exporting.samples`: the input
      specs, and the inputs the artifact is checked on (raw ones included).
    * :mod:`~zoo.exporting.converting` and :mod:`~zoo.exporting.running`: writing each
      format with Keras's exporters, and running it in its runtime next to Keras.
    * :mod:`~zoo.exporting.encodings`: the description of string preprocessing for
      clients (text settings and vocabulary, table encoding) and encoding from it.
    * :mod:`~zoo.exporting.variants`: which model goes into the file, with the
      fallbacks for preprocessing a format cannot hold.

Example:
    >>> result = zoo.export(zoo.build("convnet_tiny"), "convnet.onnx", format="onnx")
    >>> result.max_abs_diff < 1e-4
    True

    A model that takes raw pixels of any size, as ``zoo.train`` makes it:

    >>> data = zoo.data.load("digits", image_size=12)
    >>> network = zoo.build("convnet_tiny", input_shape=(12, 12, 1), num_classes=10)
    >>> model = zoo.layers.preprocessing.attach(network, data.preprocessor)
    >>> served = zoo.export(model, "digits_served")
    >>> served.input_shapes, served.max_abs_diff < 1e-4
    (((None, None, None, 1),), True)
    >>> small = zoo.export(model, "digits.tflite", format="tflite")
    >>> small.input_shapes, small.notes[0][:42]
    (((None, 12, 12, 1),), 'tflite: the file takes 12x12 images only (')
"""

from __future__ import annotations

import functools
import os
import time
from pathlib import Path
from typing import Any

import keras

from zoo import _fs, saving
from zoo import _validation as v
from zoo.exporting.converting import INSTALL_HINT, check_dependencies
from zoo.exporting.encodings import PREPROCESSING_FORMAT, TEXT_STRIP_CHARACTERS
from zoo.exporting.models import (
    DEFAULT_TOLERANCE,
    LOW_PRECISION_TOLERANCE,
    describe_model,
    exportable,
    float32_model,
    low_precision,
)
from zoo.exporting.results import (
    ExportError,
    ExportParityError,
    ExportResult,
    MissingDependencyError,
    failure,
    format_size,
    worked_formats,
)
from zoo.exporting.running import flat_outputs
from zoo.exporting.samples import MAX_SAMPLE_ROWS, SAMPLE_BATCH, Check, raw_samples, sample_args
from zoo.exporting.signatures import export_signature, input_shapes, raw_signature
from zoo.exporting.targets import (
    ARTIFACT_NAMES,
    EXPORT_DIR,
    PREPROCESSING_SUFFIX,
    VOCABULARY_SUFFIX,
    artifact_size,
    check_target,
    default_target,
    install_artifact,
    resolve_saved,
)
from zoo.exporting.variants import preprocessing_files, write_first
from zoo.layers.preprocessing import split as split_preprocessing

__all__ = [
    "ARTIFACT_NAMES",
    "DEFAULT_TOLERANCE",
    "EXPORT_DIR",
    "FORMATS",
    "INSTALL_HINT",
    "LOW_PRECISION_TOLERANCE",
    "MAX_SAMPLE_ROWS",
    "PREPROCESSING_FORMAT",
    "PREPROCESSING_SUFFIX",
    "SAMPLE_BATCH",
    "TEXT_STRIP_CHARACTERS",
    "VOCABULARY_SUFFIX",
    "ExportError",
    "ExportParityError",
    "ExportResult",
    "MissingDependencyError",
    "export",
    "format_size",
]

FORMATS = ("saved_model", "tflite", "onnx")


def export(
    model: keras.Model | str | os.PathLike,
    path: str | os.PathLike | None = None,
    format: str = "saved_model",
    *,
    sample: Any = None,
    tolerance: float | None = None,
    saved_models_dir: str | os.PathLike | None = None,
) -> ExportResult:
    """Export `model` for serving and check the artifact against the Keras model.

    The artifact is run on `sample` next to the Keras model; the largest absolute
    difference per output is printed, and the artifact is moved into place only if it
    is within `tolerance`. Without a sample, a model that takes raw input (one that
    ``zoo.train`` made, see ``zoo.layers.preprocessing.attach``) is checked on raw
    inputs: 0-255 pixels at the training size (and at another size when it resizes
    any size), texts of its vocabulary with capitals, punctuation and an unseen word,
    or table rows with every category and an unseen one. Other models get random
    inputs: floats uniform in [0, 1), token ids below the vocabulary size, batch 2.

    A SavedModel holds the whole model, preprocessing included (named string or column
    inputs). TFLite and ONNX get the whole model where their converters take it; a
    raw-image model whose resizing they cannot hold is written at its training size,
    and a text or table model whose preprocessing uses string ops is written as its
    network, with ``<file>.preprocessing.json`` (and for texts
    ``<file>.vocabulary.txt``) beside it saying how to compute the network's input
    from raw input (:attr:`ExportResult.preprocessing`); the check then runs the
    network on what the Keras preprocessing makes of the raw samples.

    Args:
        model: a ``keras.Model``, or a saved zoo model: a name under
            ``saved_models/`` (or `saved_models_dir`), a folder or a ``.keras`` file.
            A GAN exports its generator.
        path: the artifact: a folder for ``"saved_model"``, a file for ``"tflite"``
            and ``"onnx"`` (an existing folder gets ``model.tflite``/``model.onnx``
            inside). Default: ``<saved model folder>/export/saved_model/``,
            ``.../export/model.tflite`` or ``.../export/model.onnx``; for a model in
            memory ``saved_models/<model.name>/export/...``. An existing artifact is
            replaced only after the new one passed the check.
        format: ``"saved_model"`` (TensorFlow Serving, TF.js, ``tf.saved_model.load``),
            ``"tflite"`` (LiteRT on phones and microcontrollers) or ``"onnx"``
            (ONNX Runtime; needs ``pip install "zoo[export]"``).
        sample: inputs to check with, what the model takes: an array, a list of arrays
            (one per input) or a dict keyed by input name (for a table model, one 1-D
            array per column, or a pandas DataFrame); the first axis is the batch.
        tolerance: the largest absolute difference allowed (default 1e-4, or 1e-2
            for float16/bfloat16 models).
        saved_models_dir: the folder that bare model names and the default path are
            resolved in (default ``$ZOO_SAVED_MODELS`` or ``saved_models``).

    Returns:
        An :class:`ExportResult` with the path, the differences and the size.

    Raises:
        ValueError: for an unknown format, a sample that does not fit the model or a
            model that cannot be exported whole (a diffusion model);
            :class:`ExportParityError` when the artifact's outputs differ by more
            than `tolerance`.
        ExportError: when the converter fails on the model or its artifact does not
            run; the message names the model, the format and the reason.
        MissingDependencyError: an ``ImportError`` naming the ``pip install`` for
            a format's missing packages.
        FileNotFoundError: for a model name or folder with no saved model.

    Example:
        >>> result = zoo.export(zoo.build("mlp_tiny"), "mlp.tflite", format="tflite")
        >>> result.path, result.max_abs_diff
        (PosixPath('mlp.tflite'), 0.0)
    """
    start = time.perf_counter()
    fmt = v.check_choice("format", format, FORMATS)
    if fmt == "tflite":  # Keras's LiteRT export converts a TensorFlow graph
        v.require_tensorflow_backend("TFLite export", "format", fmt)
    if tolerance is not None:
        tolerance = v.check_float("tolerance", tolerance, minimum=0.0)
    root = None
    if saved_models_dir is not None:
        if not isinstance(saved_models_dir, (str, os.PathLike)):
            raise v.invalid(
                "saved_models_dir", "None or a folder path", saved_models_dir, TypeError
            )
        root = Path(saved_models_dir)
    check_dependencies(fmt)

    source = None
    if isinstance(model, (str, os.PathLike)):
        source = resolve_saved(model, root)
        model = saving.load(model if root is None else source, compile=False)
    elif not isinstance(model, keras.Model):
        raise v.invalid(
            "model",
            "a keras.Model or a saved model's name or path",
            describe_model(model),
            TypeError,
        )
    name = model.name
    worked = worked_formats(model, source)
    exported, notes = exportable(model)
    target = default_target(source, model, fmt, root) if path is None else check_target(path, fmt)
    if tolerance is None:
        tolerance = LOW_PRECISION_TOLERANCE if low_precision(exported) else DEFAULT_TOLERANCE

    preprocessor, _ = split_preprocessing(exported)
    if preprocessor is not None:
        signature = raw_signature(exported)
    else:
        signature = export_signature(exported, sample)
    samples = None
    if sample is None and preprocessor is not None:
        samples = raw_samples(preprocessor, signature)
    if samples is None:
        samples = [sample_args(exported, signature, sample)]
    import tensorflow as tf

    # On the CPU, like ONNX Runtime and TFLite here: a GPU's TF32 matmuls (on by default
    # on Ampere and newer) would add differences of about 1e-3 that are not the export's.
    with tf.device("/cpu:0"):
        checks = [Check(args, flat_outputs(exported(*args, training=False))) for args in samples]
    fail = functools.partial(failure, worked, name, fmt)
    if fmt != "saved_model" and low_precision(exported):
        exported = float32_model(exported, fmt, notes, fail)

    with _fs.staging(target) as tmp:
        variant, artifact, tf_signature, diffs, written_notes = write_first(
            exported, fmt, signature, checks, target, tmp, fail
        )
        notes += written_notes
        largest = max(diffs.values(), default=0.0)
        shown = ", ".join(f"{k}: {d:.2e}" for k, d in diffs.items())
        for note in notes:
            print(f"zoo export: note: {note}")
        print(f"zoo export: {name} as {fmt}: largest absolute difference from Keras {shown}")
        if not largest <= tolerance:
            raise ExportParityError(
                f"The {fmt} export of model {name!r} differs from the Keras model by up to "
                f"{largest:.3g} ({shown}); it must stay within the tolerance. The artifact "
                f"was not written{'; the previous one is unchanged' if target.exists() else ''}"
                f". Pass a larger `tolerance` if this difference is acceptable. "
                f"Received: tolerance={tolerance!r}",
                largest,
                diffs,
                tolerance,
            )
        files = preprocessing_files(variant, tmp)
        preprocessing = install_artifact(artifact, target, files)
    worked.add(fmt)
    return ExportResult(
        path=target,
        format=fmt,
        max_abs_diff=largest,
        output_diffs=diffs,
        tolerance=tolerance,
        seconds=time.perf_counter() - start,
        size_bytes=artifact_size(target),
        model_name=name,
        input_shapes=input_shapes(tf_signature),
        notes=tuple(notes),
        preprocessing=preprocessing,
    )
