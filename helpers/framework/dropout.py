"""Inverted dropout: keep each unit with `probability` in training, identity in the testing phase."""
from __future__ import annotations

import numpy as np

from helpers import validate
from helpers.framework.base import BaseLayer, error_like


class Dropout(BaseLayer):
    """Training: y = x * mask / p with mask ~ Bernoulli(p) from NumPy's global random state
    (reseeding `np.random` reproduces it); `probability` p is the keep probability in (0, 1].
    Testing phase: y = x. Any input shape.
    """

    def __init__(self, probability):
        super().__init__()
        self.probability = validate.probability("probability", probability)
        self.mask = None

    def forward(self, input_tensor) -> np.ndarray:
        x = validate.array("input_tensor", input_tensor)
        if self.testing_phase:
            self.mask = np.ones_like(x, dtype=float)
            return x
        self.mask = (np.random.random_sample(x.shape) < self.probability) / self.probability
        return x * self.mask

    def backward(self, error_tensor) -> np.ndarray:
        return error_like(error_tensor, self.mask) * self.mask
