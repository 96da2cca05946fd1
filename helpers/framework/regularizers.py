"""Weight penalties used by the optimizers: `calculate_gradient(w)` for the update, `norm(w)` for the loss."""
from __future__ import annotations

import numpy as np

from helpers import validate


class L2_Regularizer:  # noqa: N801 (the course's name)
    """Penalty alpha * sum(w**2); (sub)gradient alpha * w (the course's convention, no factor 2)."""

    def __init__(self, alpha):
        self.alpha = validate.real("alpha", alpha, low=0.0)

    def calculate_gradient(self, weights) -> np.ndarray:
        w = validate.array("weights", weights)
        ### BEGIN SOLUTION implement L2_Regularizer.calculate_gradient: g = alpha * w (eq. 2)
        return self.alpha * w
        ### END SOLUTION

    def norm(self, weights) -> float:
        w = validate.array("weights", weights)
        ### BEGIN SOLUTION implement L2_Regularizer.norm: alpha * sum(w**2) (eq. 1)
        return float(self.alpha * np.sum(w ** 2))
        ### END SOLUTION


class L1_Regularizer:  # noqa: N801 (the course's name)
    """Penalty alpha * sum(|w|); subgradient alpha * sign(w)."""

    def __init__(self, alpha):
        self.alpha = validate.real("alpha", alpha, low=0.0)

    def calculate_gradient(self, weights) -> np.ndarray:
        w = validate.array("weights", weights)
        ### BEGIN SOLUTION implement L1_Regularizer.calculate_gradient: g = alpha * sign(w) (eq. 2)
        return self.alpha * np.sign(w)
        ### END SOLUTION

    def norm(self, weights) -> float:
        w = validate.array("weights", weights)
        ### BEGIN SOLUTION implement L1_Regularizer.norm: alpha * sum(|w|) (eq. 1)
        return float(self.alpha * np.sum(np.abs(w)))
        ### END SOLUTION
