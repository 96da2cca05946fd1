"""The flatten layer: (N, ...) -> (N, prod(...)) and back."""
from __future__ import annotations

import numpy as np

from helpers import validate
from helpers.framework.base import BaseLayer


class Flatten(BaseLayer):
    """Reshapes (N, d1, d2, ...) to (N, d1 * d2 * ...); backward restores the stored input shape."""

    def __init__(self):
        super().__init__()
        self.input_shape = None

    def forward(self, input_tensor) -> np.ndarray:
        x = validate.array("input_tensor", input_tensor)
        if x.ndim < 1:
            validate.fail("input_tensor", "an array with a batch axis (at least 1 dimension)", x)
        self.input_shape = x.shape
        return x.reshape(x.shape[0], int(np.prod(x.shape[1:])))

    def backward(self, error_tensor) -> np.ndarray:
        if self.input_shape is None:
            raise RuntimeError("backward: call forward first (nothing stored from a forward pass)")
        error = validate.array("error_tensor", error_tensor)
        if error.size != int(np.prod(self.input_shape)) or error.shape[:1] != self.input_shape[:1]:
            validate.fail("error_tensor", f"{self.input_shape[0]} rows and {int(np.prod(self.input_shape))} "
                          "entries in all (the flattened forward input)", error)
        return error.reshape(self.input_shape)
