"""Optimizers: `calculate_update(weight_tensor, gradient_tensor)` returns the new weights.

Each optimizer keeps its state (velocity, moments) for one weight array: every layer gets its own
copy. A regularizer, when added, shrinks the pre-update weights outside that state:
``w_new = step(w, g) - learning_rate * regularizer.calculate_gradient(w)``.
"""
from __future__ import annotations

import numpy as np

from helpers import validate
from helpers.checked import checked


def optimizer_arguments(self, learning_rate) -> dict:
    """Checked arguments of `Optimizer(learning_rate)`: a positive learning rate."""
    return {"self": self, "learning_rate": validate.positive("learning_rate", learning_rate)}


def regularizer_arguments(self, regularizer) -> dict:
    """Checked arguments of `add_regularizer`: an object with calculate_gradient(w) and norm(w)."""
    expected = "a regularizer with calculate_gradient(w) and norm(w)"
    validate.instance("regularizer", regularizer, expected)
    for method in ("calculate_gradient", "norm"):
        if not callable(getattr(regularizer, method, None)):
            validate.fail("regularizer", expected, regularizer, TypeError)
    return {"self": self, "regularizer": regularizer}


def update_arguments(self, weight_tensor, gradient_tensor) -> dict:
    """Checked arguments of `calculate_update`: weights and a gradient of the same shape, as arrays."""
    weights = validate.array("weight_tensor", weight_tensor)
    gradient = validate.array("gradient_tensor", gradient_tensor)
    if gradient.shape != weights.shape:
        validate.fail("gradient_tensor", f"shape {weights.shape} (the weights' shape)", gradient)
    return {"self": self, "weight_tensor": weights, "gradient_tensor": gradient}


class Optimizer:
    """Base class: `learning_rate`, `regularizer` (None by default) and `add_regularizer`."""

    @checked(optimizer_arguments)
    def __init__(self, learning_rate):
        self.learning_rate = learning_rate
        self.regularizer = None

    @checked(regularizer_arguments)
    def add_regularizer(self, regularizer) -> None:
        self.regularizer = regularizer

    @checked(update_arguments)
    def calculate_update(self, weight_tensor, gradient_tensor) -> np.ndarray:
        """The optimizer's own step on the data gradient, then the regularizer's shrinkage of the
        weights as they were before the update."""
        updated = self._step(weight_tensor, gradient_tensor)
        ### BEGIN SOLUTION implement the regularizer hook: w+ = step(w, g) - eta * g_reg(w), g_reg at the pre-update weights (eq. 3)
        if self.regularizer is not None:
            updated = updated - self.learning_rate * self.regularizer.calculate_gradient(weight_tensor)
        ### END SOLUTION
        return updated

    def _step(self, weights: np.ndarray, gradient: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _state(self, name: str, like: np.ndarray) -> np.ndarray:
        """The state array `name` (zeros on first use); ValueError if it belongs to another shape."""
        state = getattr(self, name)
        if state is None:
            return np.zeros_like(like, dtype=float)
        if state.shape != like.shape:
            validate.fail("weight_tensor", f"shape {state.shape} (this optimizer already holds state "
                          "for that shape; give every weight array its own copy)", like)
        return state


class Sgd(Optimizer):
    """w - learning_rate * g."""

    def _step(self, weights, gradient):
        return weights - self.learning_rate * gradient


class SgdWithMomentum(Optimizer):
    """v = momentum_rate * v - learning_rate * g;  w + v."""

    def __init__(self, learning_rate, momentum_rate=0.9):
        super().__init__(learning_rate)
        self.momentum_rate = validate.real("momentum_rate", momentum_rate, low=0.0, high=1.0, high_open=True)
        self.velocity = None

    def _step(self, weights, gradient):
        self.velocity = self.momentum_rate * self._state("velocity", weights) - self.learning_rate * gradient
        return weights + self.velocity


class Adam(Optimizer):
    """Adam with bias correction; `mu` and `rho` are the decay rates of the first and second moment.

    v = mu v + (1 - mu) g,  r = rho r + (1 - rho) g**2,  v^ = v / (1 - mu**k),  r^ = r / (1 - rho**k),
    w - learning_rate * v^ / (sqrt(r^) + eps)   with step count k starting at 1 and eps = 1e-8.
    """

    def __init__(self, learning_rate, mu=0.9, rho=0.999, eps=1e-8):
        super().__init__(learning_rate)
        self.mu = validate.real("mu", mu, low=0.0, high=1.0, high_open=True)
        self.rho = validate.real("rho", rho, low=0.0, high=1.0, high_open=True)
        self.eps = validate.positive("eps", eps)
        self.v = None
        self.r = None
        self.k = 0

    def _step(self, weights, gradient):
        self.v = self.mu * self._state("v", weights) + (1.0 - self.mu) * gradient
        self.r = self.rho * self._state("r", weights) + (1.0 - self.rho) * gradient ** 2
        self.k += 1
        v_hat = self.v / (1.0 - self.mu ** self.k)
        r_hat = self.r / (1.0 - self.rho ** self.k)
        return weights - self.learning_rate * v_hat / (np.sqrt(r_hat) + self.eps)


class RMSProp(Optimizer):
    """r = rho r + (1 - rho) g**2;  w - learning_rate * g / (sqrt(r) + eps)."""

    def __init__(self, learning_rate, rho=0.9, eps=1e-8):
        super().__init__(learning_rate)
        self.rho = validate.real("rho", rho, low=0.0, high=1.0, high_open=True)
        self.eps = validate.positive("eps", eps)
        self.r = None

    def _step(self, weights, gradient):
        self.r = self.rho * self._state("r", weights) + (1.0 - self.rho) * gradient ** 2
        return weights - self.learning_rate * gradient / (np.sqrt(self.r) + self.eps)
