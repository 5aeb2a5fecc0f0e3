import keras
import numpy as np
import pytest

from zoo import optimizers
from zoo._validation import ArgumentTypeError, ArgumentValueError


def test_factory_makes_a_fresh_optimizer_from_a_name():
    make = optimizers.factory("sgd", 0.5, momentum=0.9)
    first, second = make(), make()
    assert isinstance(first, keras.optimizers.SGD) and first is not second
    assert np.isclose(float(first.learning_rate), 0.5) and first.momentum == 0.9
    assert np.isclose(float(optimizers.factory("adam")().learning_rate), 1e-3)


def test_factory_gives_an_instance_first_then_copies():
    given = keras.optimizers.Adam(0.01)
    make = optimizers.factory(given)
    first, second = make(), make()
    assert first is given and second is not given
    assert isinstance(second, keras.optimizers.Adam)
    assert np.isclose(float(second.learning_rate), 0.01)
    maker = lambda: keras.optimizers.RMSprop()  # noqa: E731
    assert optimizers.factory(maker) is maker


def test_factory_cosine_schedule_decays():
    optimizer = optimizers.factory("adam", 1.0, schedule="cosine", decay_steps=10)()
    assert optimizers.current_learning_rate(optimizer) == pytest.approx(1.0)
    optimizer.iterations.assign(5)
    assert optimizers.current_learning_rate(optimizer) == pytest.approx(0.5)
    optimizer.iterations.assign(10)
    assert optimizers.current_learning_rate(optimizer) == pytest.approx(0.0, abs=1e-6)


def test_factory_and_checks_reject_bad_input():
    with pytest.raises(ArgumentValueError, match="optimizer name"):
        optimizers.factory("adamm")
    with pytest.raises(ArgumentTypeError, match="optimizer name"):
        optimizers.factory(3)
    with pytest.raises(ArgumentValueError, match="schedule"):
        optimizers.factory("adam", schedule="linear")
    assert optimizers.check("auto") == "auto"
    with pytest.raises(ArgumentValueError, match="'auto' or a Keras optimizer name"):
        optimizers.check("nope")
    with pytest.raises(ArgumentValueError, match="learning rate > 0"):
        optimizers.check_learning_rate("learning_rate", 0.0)
    assert optimizers.check_learning_rate("learning_rate", 1e-3) == 1e-3
    assert optimizers.current_learning_rate(object()) is None
