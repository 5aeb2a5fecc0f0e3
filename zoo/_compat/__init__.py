"""Every workaround of an upstream bug, and every touch of a private upstream API.

One module per upstream project: :mod:`zoo._compat.keras`, ``tensorflow`` (with
TFLite and tensorflow-datasets), ``keras_tuner``, ``keras_hub``, ``tensorflow_hub`` and
``tf2onnx``. Each entry says what it works
around, the versions it was seen in, the upstream issue (or a minimal repro), and has
a canary test in ``tests/test_compat.py`` that fails once upstream behaves, so the
workaround can be deleted. Nothing outside this package imports ``keras.src``,
``keras_tuner.src``, ``keras_hub.src`` or ``tensorflow.python``, reads an underscore
attribute of an upstream object, or compares upstream class names as strings.
"""
