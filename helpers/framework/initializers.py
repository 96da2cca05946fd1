"""Weight initializers: `initialize(weights_shape, fan_in, fan_out)` returns a new array.

The random ones draw from NumPy's global random state (as in the course), so `helpers.set_seed`
or `np.random.seed` reproduces them.
"""
from __future__ import annotations

import numpy as np

from helpers import validate


def _checked(weights_shape, fan_in, fan_out) -> tuple[tuple[int, ...], int, int]:
    if isinstance(weights_shape, (int, np.integer)):
        weights_shape = (weights_shape,)
    if not isinstance(weights_shape, (tuple, list)) or not weights_shape:
        validate.fail("weights_shape", "a non-empty tuple of positive integers", weights_shape, TypeError)
    shape = tuple(validate.positive_int("weights_shape", size) for size in weights_shape)
    return shape, validate.positive_int("fan_in", fan_in), validate.positive_int("fan_out", fan_out)


class Constant:
    """Every entry equals `value` (default 0.1)."""

    def __init__(self, value=0.1):
        self.value = validate.real("value", value)

    def initialize(self, weights_shape, fan_in, fan_out) -> np.ndarray:
        shape, _, _ = _checked(weights_shape, fan_in, fan_out)
        return np.full(shape, self.value)


class UniformRandom:
    """Uniform in [0, 1)."""

    def initialize(self, weights_shape, fan_in, fan_out) -> np.ndarray:
        shape, _, _ = _checked(weights_shape, fan_in, fan_out)
        return np.random.uniform(0.0, 1.0, shape)


class Xavier:
    """Glorot: normal with mean 0 and sigma = sqrt(2 / (fan_in + fan_out))."""

    def initialize(self, weights_shape, fan_in, fan_out) -> np.ndarray:
        shape, fan_in, fan_out = _checked(weights_shape, fan_in, fan_out)
        return np.random.normal(0.0, np.sqrt(2.0 / (fan_in + fan_out)), shape)


class He:
    """He: normal with mean 0 and sigma = sqrt(2 / fan_in)."""

    def initialize(self, weights_shape, fan_in, fan_out) -> np.ndarray:
        shape, fan_in, _ = _checked(weights_shape, fan_in, fan_out)
        return np.random.normal(0.0, np.sqrt(2.0 / fan_in), shape)
