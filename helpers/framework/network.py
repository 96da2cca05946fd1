"""The network container of the course, and `save` / `load` with pickle."""
from __future__ import annotations

import pickle

import numpy as np

from helpers import validate
from helpers.framework.base import checked_initializer, checked_optimizer, own_copy


class NeuralNetwork:
    """A stack of `layers`, a `data_layer` (its `next()` returns input and labels) and a `loss_layer`.

    `append_layer` gives every trainable layer its own deep copy of `optimizer` and initialises it.
    `train(iterations)` appends each iteration's loss (data loss plus regularization) to `loss`.
    """

    def __init__(self, optimizer, weights_initializer, bias_initializer):
        self.optimizer = checked_optimizer(optimizer)
        self.weights_initializer = checked_initializer(weights_initializer, "weights_initializer")
        self.bias_initializer = checked_initializer(bias_initializer, "bias_initializer")
        self.layers = []
        self.loss = []
        self.data_layer = None
        self.loss_layer = None
        self._label_tensor = None
        self._testing_phase = False

    @property
    def phase(self) -> bool:
        """True in the testing phase; setting it sets `testing_phase` on every layer."""
        return self._testing_phase

    @phase.setter
    def phase(self, testing_phase):
        if not isinstance(testing_phase, (bool, np.bool_)):
            validate.fail("phase", "a bool (True for the testing phase)", testing_phase, TypeError)
        self._testing_phase = bool(testing_phase)
        for layer in self.layers:
            layer.testing_phase = self._testing_phase

    def append_layer(self, layer) -> None:
        for method in ("forward", "backward"):
            if not callable(getattr(layer, method, None)):
                validate.fail("layer", "a layer with forward and backward", layer, TypeError)
        if getattr(layer, "trainable", False):
            layer.optimizer = own_copy(self.optimizer)
            layer.initialize(self.weights_initializer, self.bias_initializer)
        layer.testing_phase = self._testing_phase
        self.layers.append(layer)

    def calculate_regularization_loss(self) -> float:
        """Sum of `calculate_regularization_loss()` over the layers that have one."""
        return float(sum(layer.calculate_regularization_loss() for layer in self.layers
                         if callable(getattr(layer, "calculate_regularization_loss", None))))

    def forward(self) -> float:
        """Draw a batch from the data layer; return data loss plus regularization loss."""
        if self.data_layer is None or self.loss_layer is None:
            raise RuntimeError("forward: set data_layer and loss_layer first")
        input_tensor, self._label_tensor = self.data_layer.next()
        output = self._through_layers(input_tensor)
        return self.loss_layer.forward(output, self._label_tensor) + self.calculate_regularization_loss()

    def backward(self) -> None:
        error = self.loss_layer.backward(self._label_tensor)
        for layer in reversed(self.layers):
            error = layer.backward(error)

    def train(self, iterations) -> None:
        iterations = validate.positive_int("iterations", iterations)
        self.phase = False
        for _ in range(iterations):
            self.loss.append(self.forward())
            self.backward()

    def test(self, input_tensor) -> np.ndarray:
        """The output of the last layer for `input_tensor`, in the testing phase."""
        self.phase = True
        return self._through_layers(input_tensor)

    def _through_layers(self, input_tensor):
        for layer in self.layers:
            input_tensor = layer.forward(input_tensor)
        return input_tensor

    def __getstate__(self):
        state = self.__dict__.copy()
        state["data_layer"] = None
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.data_layer = None


def save(filename, net: NeuralNetwork) -> None:
    """Pickle `net` (without its data layer) to `filename`."""
    if not isinstance(net, NeuralNetwork):
        validate.fail("net", "a NeuralNetwork", net, TypeError)
    with open(filename, "wb") as file:
        pickle.dump(net, file)


def load(filename, data_layer) -> NeuralNetwork:
    """Unpickle a network saved with `save` and attach `data_layer`."""
    with open(filename, "rb") as file:
        net = pickle.load(file)
    if not isinstance(net, NeuralNetwork):
        validate.fail("filename", "a file written by save(filename, net)", net, TypeError)
    net.data_layer = data_layer
    return net
