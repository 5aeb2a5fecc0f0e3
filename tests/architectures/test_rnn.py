import numpy as np
import pytest
from architecture_checks import check_architecture, check_bad_arguments

import zoo


def test_rnn_tiny(tmp_path):
    check_architecture("rnn_tiny", tmp_path)


def test_rnn_text_tiny(tmp_path):
    check_architecture("rnn_text_tiny", tmp_path)


def test_rnn_tagger_tiny_outputs_per_step(tmp_path):
    model = check_architecture("rnn_tagger_tiny", tmp_path)
    assert model.output_shape == (None, 10, 4)


@pytest.mark.parametrize("cell", ["lstm", "gru", "simple_rnn"])
def test_cells_for_time_series_regression(tmp_path, cell):
    model = check_architecture(
        "rnn_tiny",
        tmp_path,
        task="regression",
        cell=cell,
        units=(6, 4),
        bidirectional=True,
        dropout=0.1,
        input_shape=(None, 3),
        mask_value=0.0,
    )
    assert model.output_shape == (None, 1)


def test_padding_is_masked_for_tokens():
    # Bidirectional: the backward pass must skip the padding too.
    model = zoo.build("rnn_text_tiny", input_shape=(None,))
    short = np.array([[5, 6, 7]], dtype="int32")
    padded = np.array([[5, 6, 7, 0, 0, 0, 0]], dtype="int32")
    np.testing.assert_allclose(model(short), model(padded), atol=1e-6)


def test_masked_numeric_steps_are_skipped():
    model = zoo.build("rnn_tiny", input_shape=(None, 3), mask_value=0.0)
    rng = np.random.default_rng(0)
    steps = rng.normal(size=(1, 4, 3)).astype("float32")
    padded = np.concatenate([steps, np.zeros((1, 3, 3), "float32")], axis=1)
    np.testing.assert_allclose(model(steps), model(padded), atol=1e-6)


def test_bilstm_imdb_matches_keras_example():
    # keras.io "Bidirectional LSTM on IMDB": 2,757,761 parameters.
    assert zoo.count_params("bilstm_imdb")["trainable"] == 2_757_761


def test_lstm_parameter_formula():
    units, features = 16, 5
    expected = 4 * (units * (features + units) + units) + units * 3 + 3
    count = zoo.count_params("rnn", input_shape=(None, features), units=(units,), num_classes=3)
    assert count["trainable"] == expected


def test_rnn_bad_arguments():
    check_bad_arguments(
        "rnn",
        [
            ({"cell": "transformer"}, "value", "'lstm', 'gru', 'simple_rnn'"),
            ({"units": ()}, "value", "units"),
            ({"vocab_size": 1}, "value", "vocab_size"),
            ({"vocab_size": 100}, "value", "(steps,)"),
            (
                {"vocab_size": 100, "input_shape": (10,), "mask_value": 0.0},
                "value",
                "mask_value",
            ),
            ({"input_shape": (10,)}, "value", "input_shape"),
            ({"recurrent_dropout": 2.0}, "value", "recurrent_dropout"),
            ({"num_outputs": 0, "task": "regression"}, "value", "num_outputs"),
            ({"bidirectional": 1}, "type", "bidirectional"),
        ],
    )
