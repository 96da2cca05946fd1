"""TanH and Sigmoid compute in floating point whatever numeric input they get (float32 stays float32)."""
from __future__ import annotations

import numpy as np
import pytest

from helpers.framework import Sigmoid, TanH


@pytest.mark.parametrize("layer_class, function", [(TanH, np.tanh), (Sigmoid, lambda x: 1 / (1 + np.exp(-x)))])
@pytest.mark.parametrize("dtype", [np.int8, np.int64, bool])
def test_integer_and_boolean_input_gives_float64(layer_class, function, dtype):
    x = np.array([[0, 1], [1, 0]], dtype=dtype)
    y = layer_class().forward(x)
    assert y.dtype == np.float64
    assert np.allclose(y, function(x.astype(np.float64)), rtol=1e-15, atol=0)


@pytest.mark.parametrize("layer_class", [TanH, Sigmoid])
def test_float32_input_stays_float32(layer_class):
    assert layer_class().forward(np.ones((2, 2), np.float32)).dtype == np.float32
