"""Notebook 01's check cells reject plausible bugs (mutation test, see tests/check_mutation.py)."""
from __future__ import annotations

from check_mutation import Bug, mutation_tests
from conftest import ROOT

NOTEBOOK = ROOT / "notebooks" / "01_activations.ipynb"
FC = "helpers.framework.fully_connected.FullyConnected."
TRAINABLE = "helpers.framework.base.TrainableLayer."

BUGS = [
    # check:protocol: the layer protocol and both accessor styles on FullyConnected
    Bug("bias taken from the first row", "x @ self._weights[:-1] + self._weights[-1]",
        "x @ self._weights[1:] + self._weights[0]", "protocol", "bias = last row", target=FC + "forward"),
    Bug("bias gradient as a mean over the batch", "error.sum(axis=0, keepdims=True)",
        "error.mean(axis=0, keepdims=True)", "protocol", "gradient_weights", target=FC + "backward"),
    Bug("input gradient through the bias row", "gradient_input = error @ self._weights[:-1].T",
        "gradient_input = error @ self._weights[1:].T", "protocol", "backward must return", target=FC + "backward"),
    Bug("set_weights keeps a private copy", "def set_weights(self, weights):\n    self.weights = weights",
        "def set_weights(self, weights):\n    self._pending = weights", "protocol", "set_weights",
        target=TRAINABLE + "set_weights"),
    Bug("get_weights returns the gradient", "def get_weights(self):\n    return self.weights",
        "def get_weights(self):\n    return self.gradient_weights", "protocol", "get_weights",
        target=TRAINABLE + "get_weights"),
    Bug("get_gradient_weights returns the weights",
        "def get_gradient_weights(self):\n    return self.gradient_weights",
        "def get_gradient_weights(self):\n    return self.weights", "protocol", "get_gradient_weights",
        target=TRAINABLE + "get_gradient_weights"),
    Bug("set_optimizer ignored", "def set_optimizer(self, optimizer):\n    self.optimizer = optimizer",
        "def set_optimizer(self, optimizer):\n    self._pending = optimizer", "protocol", "set_optimizer",
        target=TRAINABLE + "set_optimizer"),
    # check:tanh
    Bug("tanh' = 1 - y (square dropped)", "error * (1.0 - self.activations ** 2)", "error * (1.0 - self.activations)",
        "tanh", "input"),
    Bug("tanh' evaluated at the output as if it were the input", "error * (1.0 - self.activations ** 2)",
        "error * (1.0 - np.tanh(self.activations) ** 2)", "tanh", "input"),
    Bug("wrong sign of tanh'", "error * (1.0 - self.activations ** 2)", "error * (self.activations ** 2 - 1.0)",
        "tanh", "input"),
    Bug("upstream gradient dropped", "return error * (1.0 - self.activations ** 2)",
        "return np.ones_like(error) * (1.0 - self.activations ** 2)", "tanh", "input"),
    Bug("tanh as 2 sigma(x) - 1 (argument not doubled)", "self.activations = np.tanh(",
        "self.activations = (lambda v: 2 / (1 + np.exp(-v)) - 1)(", "tanh", "input"),
    Bug("backward uses a private copy of the forward output, not `activations`",
        ("self.activations = np.tanh(", "return error * (1.0 - self.activations ** 2)"),
        ("self.activations = self._y = np.tanh(", "return error * (1.0 - self._y ** 2)"),
        "tanh", "restored activations"),
    # check:sigmoid
    Bug("sigma' = y (1 + y)", "self.activations * (1.0 - self.activations)",
        "self.activations * (1.0 + self.activations)", "sigmoid", "input"),
    Bug("tanh' used for the sigmoid", "error * self.activations * (1.0 - self.activations)",
        "error * (1.0 - self.activations ** 2)", "sigmoid", "input"),
    Bug("stable branches swapped", "np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))",
        "np.where(x >= 0, z / (1.0 + z), 1.0 / (1.0 + z))", "sigmoid", "input"),
    Bug("negative branch as 1 / (1 + z)", "np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))",
        "np.where(x >= 0, 1.0 / (1.0 + z), 1.0 / (1.0 + 1.0 / z))", "sigmoid", "overflow"),
    Bug("naive formula exp(-x)", "z = np.exp(-np.abs(x))\n    return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))",
        "return 1.0 / (1.0 + np.exp(-x))", "sigmoid", "overflow"),
    Bug("upstream gradient dropped (sigmoid)", "return error * self.activations * (1.0 - self.activations)",
        "return np.ones_like(error) * self.activations * (1.0 - self.activations)", "sigmoid", "input"),
    # check:recursion: gradient_log_norms against torch.autograd
    Bug("W_hh not transposed", "g = recurrent_weights.T @ (", "g = recurrent_weights @ (", "recursion", "norms"),
    Bug("pre-activations in forward order (wrong step)", "for a_t in pre_activations[::-1]:", "for a_t in pre_activations:", "recursion", "norms"),
    Bug("activation derivative dropped", "g = recurrent_weights.T @ (activation_derivative(a_t, activation) * direction)",
        "g = recurrent_weights.T @ direction", "recursion", "norms"),
    Bug("log norms not accumulated", "log_norms.append(log_norms[-1] + np.log10(norm))",
        "log_norms.append(np.log10(norm))", "recursion", "norms"),
    Bug("not renormalised", "\n        direction = g / norm", "\n        direction = g", "recursion", "norms"),
    Bug("tanh' as 1 - a^2 of the pre-activation", "return 1.0 - np.tanh(a) ** 2", "return 1.0 - a ** 2",
        "recursion", "tanh"),
    # check:decay: the measured decay against rho of eq. (13), and the critical scale
    Bug("Gaussian weight 1/sqrt(2 pi) dropped in the quadrature", ") / np.sqrt(2 * np.pi)", ")", "decay",
        "rho", target="helpers.vanishing.rms_derivative"),
    Bug("W_hh entries with variance s^2 / H^2", "weight_scale / np.sqrt(hidden)", "weight_scale / hidden",
        "decay", "rho", target="helpers.vanishing.gradient_decay"),
    Bug("rho with s^2 instead of s", "validate.positive(\"weight_scale\", weight_scale) * rms",
        "validate.positive(\"weight_scale\", weight_scale) ** 2 * rms", "decay", "rho",
        target="helpers.vanishing.per_step_factor"),
    Bug("rho from the bound (12) instead of the rms derivative", "* rms_derivative(spread, activation)",
        "* (1.0 if activation == 'tanh' else 0.25)", "decay", "rho", target="helpers.vanishing.per_step_factor"),
    Bug("mean derivative instead of the rms", "return float(np.sqrt(mean_square))",
        "return float(np.sum(weights * activation_derivative(spread * nodes, activation)) / np.sqrt(2 * np.pi))",
        "decay", "rho", target="helpers.vanishing.rms_derivative"),
]


outcomes, test_check_catches_bug, test_every_check_is_tried_with_five_bugs = mutation_tests(NOTEBOOK, BUGS)
