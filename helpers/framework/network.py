"""The network container of the course, and `save` / `load` with pickle.

Pickle files can carry code: unpickling a crafted file runs it. `load` therefore reads with an
unpickler that only builds classes of `helpers.framework` and NumPy arrays and refuses everything
else before it runs; still, load only files you or someone you trust wrote.
"""
from __future__ import annotations

import io
import os
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
        validate.instance("layer", layer, "a layer with forward and backward")
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
    """Pickle `net` (without its data layer) to `filename`. Share such files only with people who
    trust you: a pickle file can carry code (see `load`)."""
    if not isinstance(net, NeuralNetwork):
        validate.fail("net", "a NeuralNetwork", net, TypeError)
    with open(_checked_filename(filename), "wb") as file:
        pickle.dump(net, file)


def _checked_filename(filename):
    if not isinstance(filename, (str, os.PathLike)):
        validate.fail("filename", "a path (str or pathlib.Path)", filename, TypeError)
    return filename


# What a saved network is made of: the framework's classes and NumPy arrays (any other global
# that a pickle names, such as os.system, is refused before it is looked up).
NUMPY_GLOBALS = {("numpy", "ndarray"), ("numpy", "dtype"),
                 ("numpy._core.multiarray", "_reconstruct"), ("numpy.core.multiarray", "_reconstruct"),
                 ("numpy._core.multiarray", "scalar"), ("numpy.core.multiarray", "scalar")}


class FrameworkUnpickler(pickle.Unpickler):
    """An unpickler that builds only classes of `helpers.framework` and NumPy arrays and scalars."""

    def find_class(self, module, name):
        if (module, name) in NUMPY_GLOBALS:
            return super().find_class(module, name)
        if module.startswith("helpers.framework.") and "." not in name:
            found = super().find_class(module, name)
            if isinstance(found, type):
                return found
        raise pickle.UnpicklingError(f"refused {module}.{name} (load builds only classes of "
                                     "helpers.framework and NumPy arrays)")


def load(filename, data_layer) -> NeuralNetwork:
    """Unpickle a network saved with `save` and attach `data_layer`.

    Load only files you trust. A file that is not a saved network (not a pickle, truncated, or a
    pickle naming anything but `helpers.framework` classes and NumPy arrays, e.g. a crafted file
    that would call os.system) raises ValueError naming `filename`; nothing in it runs.
    A network built from your own layer classes is refused too: unpickle such a file you wrote
    yourself with `pickle.load`.
    """
    with open(_checked_filename(filename), "rb") as file:
        content = file.read()
    try:
        net = FrameworkUnpickler(io.BytesIO(content)).load()
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, IndexError, KeyError,
            TypeError, ValueError) as error:  # what a corrupt, truncated or foreign pickle raises
        raise ValueError(f"filename: expected a file written by save(filename, net), got {filename!s} "
                         f"that does not load as one ({type(error).__name__}: {error})") from None
    if not isinstance(net, NeuralNetwork):
        validate.fail("filename", "a file written by save(filename, net)", net, TypeError)
    net.data_layer = data_layer
    return net
