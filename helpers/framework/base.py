"""The layer protocol of the framework: `BaseLayer` and the accessors every trainable layer shares."""
from __future__ import annotations

import copy


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
        self._optimizer = optimizer

    def initialize(self, weights_initializer, bias_initializer):
        raise NotImplementedError

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
    return None if optimizer is None else copy.deepcopy(optimizer)
