"""The softmax layer over the class axis, stored as activations for the backward pass."""
from __future__ import annotations

import numpy as np

from helpers import validate
from helpers.framework.base import BaseLayer, error_like


class SoftMax(BaseLayer):
    """y_nk = exp(x_nk) / sum_j exp(x_nj):  (N, K) -> (N, K), shifted by the row maximum for stability.

    backward: dx = y * (e - sum_k e_k y_k), row by row, from the stored `activations`.
    """

    def __init__(self):
        super().__init__()
        self.activations = None

    def forward(self, input_tensor) -> np.ndarray:
        x = validate.array("input_tensor", input_tensor, ndim=2, dtype=float)
        exponentials = np.exp(x - x.max(axis=1, keepdims=True))
        self.activations = exponentials / exponentials.sum(axis=1, keepdims=True)
        return self.activations

    def backward(self, error_tensor) -> np.ndarray:
        error = error_like(error_tensor, self.activations)
        y = self.activations
        return y * (error - np.sum(error * y, axis=1, keepdims=True))
