"""Inverted dropout: keep each unit with `probability` in training, identity in the testing phase."""
from __future__ import annotations

import numpy as np

from helpers import validate
from helpers.checked import checked
from helpers.framework.base import BaseLayer, error_like


def dropout_arguments(self, probability) -> dict:
    """Checked arguments of `Dropout(probability)`: the keep probability in (0, 1]."""
    return {"self": self, "probability": validate.probability("probability", probability)}


def dropout_forward_arguments(self, input_tensor) -> dict:
    """Checked arguments of `Dropout.forward`: a finite array of any shape."""
    return {"self": self, "input_tensor": validate.array("input_tensor", input_tensor)}


def dropout_backward_arguments(self, error_tensor) -> dict:
    """Checked arguments of `Dropout.backward`: an error shaped like the last forward's output."""
    return {"self": self, "error_tensor": error_like(error_tensor, self.mask)}


class Dropout(BaseLayer):
    """Training: y = x * mask / p with mask ~ Bernoulli(p) from NumPy's global random state
    (reseeding `np.random` reproduces it); `probability` p is the keep probability in (0, 1].
    Testing phase: y = x. Any input shape.
    """

    @checked(dropout_arguments)
    def __init__(self, probability):
        super().__init__()
        self.probability = probability
        self.mask = None

    @checked(dropout_forward_arguments)
    def forward(self, input_tensor) -> np.ndarray:
        ### BEGIN SOLUTION implement Dropout.forward: y = x * m / p with m ~ Bernoulli(p), kept in self.mask; identity in the testing phase (eq. 5)
        if self.testing_phase:
            self.mask = np.ones_like(input_tensor, dtype=float)
            return input_tensor
        self.mask = (np.random.random_sample(input_tensor.shape) < self.probability) / self.probability
        return input_tensor * self.mask
        ### END SOLUTION

    @checked(dropout_backward_arguments)
    def backward(self, error_tensor) -> np.ndarray:
        ### BEGIN SOLUTION implement Dropout.backward: delta * m / p with the mask of the forward pass (eq. 6)
        return error_tensor * self.mask
        ### END SOLUTION
