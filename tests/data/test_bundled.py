import numpy as np
import pytest

import zoo


def test_digits_splits_are_stratified_and_deterministic():
    a = zoo.data.load_digits(seed=1)
    b = zoo.data.load_digits(seed=1)
    assert a.input_shape == (8, 8, 1) and a.num_classes == 10
    total = len(a.x_train) + len(a.x_val) + len(a.x_test)
    assert total == 1797
    assert len(a.x_test) == pytest.approx(0.2 * total, abs=1)
    assert a.x_train.min() >= 0.0 and a.x_train.max() <= 1.0
    np.testing.assert_array_equal(a.y_test, b.y_test)
    counts = np.bincount(a.y_test, minlength=10) / len(a.y_test)
    assert counts.min() > 0.08 and counts.max() < 0.12


def test_digits_bad_arguments():
    with pytest.raises(ValueError, match="test_split"):
        zoo.data.load_digits(test_split=0.9)
    with pytest.raises(TypeError, match="seed"):
        zoo.data.load_digits(seed="0")
