import keras
import pytest

from zoo import _validation as v


def test_messages_say_what_must_hold_and_what_was_received():
    with pytest.raises(ValueError) as info:
        v.check_int("units", -2, minimum=1)
    assert str(info.value) == "`units` must be a positive integer. Received: units=-2"


def test_bools_are_not_integers():
    with pytest.raises(TypeError):
        v.check_int("units", True)
    with pytest.raises(ValueError):
        v.check_choice("block", True, (1, "basic"))


def test_float_bounds_and_nan():
    assert v.check_rate("dropout", 0.5) == 0.5
    with pytest.raises(ValueError, match="NaN"):
        v.check_float("lr", float("nan"))
    with pytest.raises(ValueError, match=r"dropout < 1\.0"):
        v.check_rate("dropout", 1.0)


def test_shape_checks():
    assert v.check_shape("input_shape", [8, 8, 1], ndim=3) == (8, 8, 1)
    assert v.check_shape("input_shape", (None, 3), ndim=2, allow_none=(0,)) == (None, 3)
    with pytest.raises(ValueError):
        v.check_shape("input_shape", (None, 3), ndim=2)
    with pytest.raises(TypeError):
        v.check_shape("input_shape", (8.0, 8), ndim=2)


def test_regularizer_forms():
    assert v.check_regularizer("r", None) is None
    assert isinstance(v.check_regularizer("r", 1e-4), keras.regularizers.L2)
    assert v.check_regularizer("r", "l1") is not None
    with pytest.raises(TypeError):
        v.check_regularizer("r", [1])


def test_activation_suggestion():
    with pytest.raises(ValueError, match="Did you mean 'gelu'"):
        v.check_activation("activation", "gelu2")
    assert v.check_activation("activation", keras.activations.relu)


def test_same_length_and_kwargs():
    with pytest.raises(ValueError, match=r"Received: a=.*b="):
        v.check_same_length(("a", "b"), ((1, 2), (1,)))
    with pytest.raises(TypeError, match="Did you mean 'filters'"):
        v.check_kwargs("x", {"filter": 3}, ["filters", "units"])


def test_callbacks_and_verbose():
    stop = keras.callbacks.EarlyStopping()
    assert v.check_callbacks(None) == [] and v.check_callbacks((stop,)) == [stop]
    for bad in ([print], stop, "early_stopping"):
        with pytest.raises(TypeError, match=r"keras\.callbacks\.Callback"):
            v.check_callbacks(bad)
    assert v.check_verbose(0) == 0 and v.check_verbose("auto") in (1, 2)
    with pytest.raises(ValueError, match="verbose"):
        v.check_verbose(3)
