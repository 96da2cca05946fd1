"""Test doubles shared by the framework tests."""
from __future__ import annotations

import numpy as np


class RecordingInitializer:
    """An initializer that returns a constant block and records every call (shape, fan_in, fan_out)."""

    def __init__(self, value):
        self.value, self.calls = value, []

    def initialize(self, weights_shape, fan_in, fan_out):
        self.calls.append((tuple(weights_shape), fan_in, fan_out))
        return np.full(weights_shape, self.value)
