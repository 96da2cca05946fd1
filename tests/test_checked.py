"""helpers.checked: the validator sees every argument by name (defaults filled in) and its result is what the function gets."""
from __future__ import annotations

import inspect

import numpy as np
import pytest

from helpers import validate
from helpers.checked import checked, float_array


def doubled_arguments(x, scale=2.0):
    return {"x": validate.array("x", x, ndim=1), "scale": validate.positive("scale", scale)}


@checked(doubled_arguments)
def doubled(x, scale=2.0):
    """x (n,) times scale."""
    return x * scale


def test_the_function_receives_the_checked_arguments():
    assert np.array_equal(doubled([1, 2]), np.array([2.0, 4.0]))
    assert np.array_equal(doubled(x=[1], scale=3), np.array([3.0]))


def test_the_validator_rejects_with_the_argument_name():
    with pytest.raises(ValueError, match="x: expected an array with 1 dimensions"):
        doubled(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="scale"):
        doubled([1.0], scale=-1)
    with pytest.raises(TypeError):
        doubled([1.0], 2.0, 3.0)  # too many arguments: the signature's own TypeError


def test_the_entry_point_keeps_name_docstring_and_source():
    assert doubled.__name__ == "doubled" and doubled.__doc__ == "x (n,) times scale."
    assert inspect.getsource(doubled).startswith("@checked(doubled_arguments)\ndef doubled")


def test_checked_needs_a_callable():
    with pytest.raises(TypeError, match="validator"):
        checked("not a function")


def test_float_array_converts_integers_and_keeps_float32():
    assert float_array("g", np.array([1, 2])).dtype == np.float64
    assert float_array("g", np.array([True])).dtype == np.float64
    assert float_array("g", np.ones(2, np.float32)).dtype == np.float32
    with pytest.raises(ValueError, match="g: expected an array with 2 dimensions"):
        float_array("g", np.ones(2), ndim=2)
