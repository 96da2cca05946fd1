"""The logistic sigmoid layer, numerically stable, keeping its activations for the backward pass."""
from __future__ import annotations

import numpy as np

from helpers.checked import float_array
from helpers.framework.base import BaseLayer, error_like


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)) without overflow: exp only ever sees -|x|, so sigmoid(±1000) is exactly 1 and 0."""
    x = float_array("x", x)
    ### BEGIN SOLUTION implement sigmoid: 1 / (1 + z) for x >= 0, z / (1 + z) for x < 0, with z = exp(-|x|) (eq. 7)
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))
    ### END SOLUTION


class Sigmoid(BaseLayer):
    """y = sigmoid(x) elementwise, any shape; backward uses sigma' = y (1 - y) from the stored `activations`."""

    def __init__(self):
        super().__init__()
        self.activations = None

    def forward(self, input_tensor) -> np.ndarray:
        x = float_array("input_tensor", input_tensor)
        ### BEGIN SOLUTION implement Sigmoid.forward: y = sigmoid(x), kept in self.activations (eq. 4)
        self.activations = sigmoid(x)
        return self.activations
        ### END SOLUTION

    def backward(self, error_tensor) -> np.ndarray:
        error = error_like(error_tensor, self.activations)
        ### BEGIN SOLUTION implement Sigmoid.backward: e * y * (1 - y) from the stored activations (eq. 6)
        return error * self.activations * (1.0 - self.activations)
        ### END SOLUTION
