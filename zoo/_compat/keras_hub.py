"""keras-hub (seen in 0.32): its private APIs and the behaviour zoo works around."""

from __future__ import annotations


def preset_file(preset: str, filename: str) -> str:
    """The local path of one file of a built-in preset (downloaded by keras-hub if needed).

    Not a bug: keras-hub has no public call that fetches one file of a preset (to read
    its ``config.json`` before building anything); this is the private
    ``keras_hub.src.utils.preset_utils.get_file``.
    """
    from keras_hub.src.utils import preset_utils

    return preset_utils.get_file(preset, filename)


def classifier_preprocessor(preset: str, sequence_length: int):
    """A text classifier's preprocessor that pads to `sequence_length`, not 512.

    Works around (keras-hub 0.32, by design): ``TextClassifier.from_preset(folder)``
    builds its preprocessor with ``sequence_length=512`` whatever the backbone's
    ``max_sequence_length``, so a shorter backbone fails in ``fit`` with "Paddings must
    be non-negative". Upstream: https://github.com/keras-team/keras-hub/pull/1333
    removed the check on purpose (also
    https://github.com/keras-team/keras-hub/issues/1627).
    """
    import keras_hub

    return keras_hub.models.TextClassifierPreprocessor.from_preset(
        preset, sequence_length=sequence_length
    )
