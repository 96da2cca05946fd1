"""The fully connected (affine) layer with the bias stored as the last row of its weights."""
from __future__ import annotations

import numpy as np

from helpers import validate
from helpers.framework.base import TrainableLayer, checked_initializer


class FullyConnected(TrainableLayer):
    """y = [x, 1] @ W:  x (N, D) -> y (N, H), with `weights` W of shape (D + 1, H), bias = last row.

    The constructor fills W uniformly in [0, 1) (NumPy's global random state), so the layer works
    without `initialize`. `backward` sets `gradient_weights` (D + 1, H) and updates W only when an
    optimizer is set. `input_tensor` holds the last forward input (N, D); a recurrent layer may set
    it before calling `backward` for an earlier time step.
    """

    def __init__(self, input_size, output_size):
        super().__init__()
        self.input_size = validate.positive_int("input_size", input_size)
        self.output_size = validate.positive_int("output_size", output_size)
        self._weights = np.random.uniform(0.0, 1.0, (self.input_size + 1, self.output_size))
        self.input_tensor = None

    @property
    def weights(self) -> np.ndarray:
        return self._weights

    @weights.setter
    def weights(self, weights):
        weights = validate.array("weights", weights, ndim=2)
        validate.shape("weights", weights, (self.input_size + 1, self.output_size))
        self._weights = np.array(weights, dtype=float)

    def initialize(self, weights_initializer, bias_initializer) -> None:
        """Weight block from `weights_initializer`, bias row from `bias_initializer` (fan-in D, fan-out H)."""
        shape = (self.input_size, self.output_size)
        block = checked_initializer(weights_initializer, "weights_initializer").initialize(
            shape, self.input_size, self.output_size)
        bias = checked_initializer(bias_initializer, "bias_initializer").initialize(
            (1, self.output_size), self.input_size, self.output_size)
        self.weights = np.vstack([np.reshape(block, shape), np.reshape(bias, (1, self.output_size))])

    def forward(self, input_tensor) -> np.ndarray:
        """(N, D) -> (N, H)."""
        x = validate.array("input_tensor", input_tensor, ndim=2)
        validate.shape("input_tensor", x, (None, self.input_size))
        self.input_tensor = x
        return x @ self._weights[:-1] + self._weights[-1]

    def backward(self, error_tensor) -> np.ndarray:
        """(N, H) -> (N, D); sets `gradient_weights` and updates the weights if an optimizer is set."""
        if self.input_tensor is None:
            raise RuntimeError("backward: call forward first (nothing stored from a forward pass)")
        error = validate.array("error_tensor", error_tensor, ndim=2)
        validate.shape("error_tensor", error, (self.input_tensor.shape[0], self.output_size))
        self.gradient_weights = np.vstack([self.input_tensor.T @ error, error.sum(axis=0, keepdims=True)])
        gradient_input = error @ self._weights[:-1].T
        if self.optimizer is not None:
            self.weights = self.optimizer.calculate_update(self._weights, self.gradient_weights)
        return gradient_input
