"""The hyperbolic tangent layer; it keeps its activations, which is all its derivative needs."""
from __future__ import annotations

import numpy as np

from helpers.checked import float_array
from helpers.framework.base import BaseLayer, error_like


class TanH(BaseLayer):
    """y = tanh(x) elementwise, any shape; backward uses tanh'(x) = 1 - y**2 from the stored `activations`."""

    def __init__(self):
        super().__init__()
        self.activations = None

    def forward(self, input_tensor) -> np.ndarray:
        self.activations = np.tanh(float_array("input_tensor", input_tensor))
        return self.activations

    def backward(self, error_tensor) -> np.ndarray:
        error = error_like(error_tensor, self.activations)
        return error * (1.0 - self.activations ** 2)
