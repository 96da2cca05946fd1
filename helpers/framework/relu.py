"""The rectified linear unit layer."""
from __future__ import annotations

import numpy as np

from helpers import validate
from helpers.framework.base import BaseLayer, error_like


class ReLU(BaseLayer):
    """y = max(0, x) elementwise, any shape; backward passes the error where the stored input was > 0."""

    def __init__(self):
        super().__init__()
        self.input_tensor = None

    def forward(self, input_tensor) -> np.ndarray:
        self.input_tensor = validate.array("input_tensor", input_tensor)
        return np.maximum(self.input_tensor, 0.0)

    def backward(self, error_tensor) -> np.ndarray:
        error = error_like(error_tensor, self.input_tensor)
        return error * (self.input_tensor > 0)
