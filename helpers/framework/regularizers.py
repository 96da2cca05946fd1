"""Weight penalties used by the optimizers: `calculate_gradient(w)` for the update, `norm(w)` for the loss."""
from __future__ import annotations

import numpy as np

from helpers import validate


class L2_Regularizer:  # noqa: N801 (the course's name)
    """Penalty alpha * sum(w**2); (sub)gradient alpha * w (the course's convention, no factor 2)."""

    def __init__(self, alpha):
        self.alpha = validate.real("alpha", alpha, low=0.0)

    def calculate_gradient(self, weights) -> np.ndarray:
        return self.alpha * validate.array("weights", weights)

    def norm(self, weights) -> float:
        return float(self.alpha * np.sum(validate.array("weights", weights) ** 2))


class L1_Regularizer:  # noqa: N801 (the course's name)
    """Penalty alpha * sum(|w|); subgradient alpha * sign(w)."""

    def __init__(self, alpha):
        self.alpha = validate.real("alpha", alpha, low=0.0)

    def calculate_gradient(self, weights) -> np.ndarray:
        return self.alpha * np.sign(validate.array("weights", weights))

    def norm(self, weights) -> float:
        return float(self.alpha * np.sum(np.abs(validate.array("weights", weights))))
