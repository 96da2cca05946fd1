"""The layer protocol of the framework: `BaseLayer` and the accessors every trainable layer shares."""
from __future__ import annotations

import copy

import numpy as np

from helpers import validate


class BaseLayer:
    """A layer: `forward(input_tensor)` stores what `backward(error_tensor)` needs.

    `trainable` says whether the layer has weights; `testing_phase` switches layers such as
    Dropout and BatchNormalization to their inference behaviour.
    """

    def __init__(self):
        self.trainable = False
        self.testing_phase = False

    def forward(self, input_tensor):
        raise NotImplementedError

    def backward(self, error_tensor):
        raise NotImplementedError


class TrainableLayer(BaseLayer):
    """A layer with `weights`, `gradient_weights` and an `optimizer`.

    Subclasses implement the `weights` property (getter and setter) and `initialize`. The older
    accessor names of the course (`get_weights`, `set_weights`, `get_gradient_weights`,
    `set_optimizer`) map onto the properties.
    """

    def __init__(self):
        super().__init__()
        self.trainable = True
        self.gradient_weights = None
        self._optimizer = None

    @property
    def optimizer(self):
        return self._optimizer

    @optimizer.setter
    def optimizer(self, optimizer):
        self._optimizer = checked_optimizer(optimizer)

    def initialize(self, weights_initializer, bias_initializer):
        raise NotImplementedError

    def calculate_regularization_loss(self) -> float:
        """The optimizer's regularizer norm of `weights` (0.0 without optimizer or regularizer)."""
        regularizer = getattr(self.optimizer, "regularizer", None)
        return 0.0 if regularizer is None else float(regularizer.norm(self.weights))

    def get_weights(self):
        return self.weights

    def set_weights(self, weights):
        self.weights = weights

    def get_gradient_weights(self):
        return self.gradient_weights

    def set_optimizer(self, optimizer):
        self.optimizer = optimizer


def own_copy(optimizer):
    """A deep copy of `optimizer` (None stays None), so that layers never share optimizer state."""
    return None if optimizer is None else copy.deepcopy(checked_optimizer(optimizer))


def checked_optimizer(optimizer, name: str = "optimizer"):
    """`optimizer` itself when it is None or has a `calculate_update` method; TypeError otherwise
    (also for an optimizer class where an instance belongs: ``pass an instance: Sgd(learning_rate)``)."""
    expected = "None or an optimizer with calculate_update(weights, gradient)"
    validate.instance(name, optimizer, expected)
    if optimizer is not None and not callable(getattr(optimizer, "calculate_update", None)):
        validate.fail(name, expected, optimizer, TypeError)
    return optimizer


def checked_initializer(initializer, name: str):
    """`initializer` itself when it has an `initialize(shape, fan_in, fan_out)` method; TypeError otherwise
    (also for an initializer class where an instance belongs: ``pass an instance: He()``)."""
    expected = "an initializer with initialize(weights_shape, fan_in, fan_out)"
    validate.instance(name, initializer, expected)
    if not callable(getattr(initializer, "initialize", None)):
        validate.fail(name, expected, initializer, TypeError)
    return initializer


def error_like(error_tensor, reference: np.ndarray | None, name: str = "error_tensor") -> np.ndarray:
    """`error_tensor` as a finite array shaped like `reference` (the array the forward pass produced).

    RuntimeError when `reference` is None, i.e. `backward` was called before `forward`.
    """
    if reference is None:
        raise RuntimeError("backward: call forward first (nothing stored from a forward pass)")
    error = validate.array(name, error_tensor)
    if error.shape != reference.shape:
        validate.fail(name, f"shape {reference.shape} (the shape of the forward pass)", error)
    return error
