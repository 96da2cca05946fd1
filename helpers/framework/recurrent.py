"""What the framework's recurrent layers (RNN, LSTM) share: sizes, memory across calls (TBPTT),
`weights` of the hidden fully connected layer, one optimizer copy per internal layer, the sigmoid
read-out, initialisation and the regularization loss. The subclasses add the cell itself:
`forward`, `backward` and the states they keep."""
from __future__ import annotations

import numpy as np

from helpers import validate
from helpers.framework.base import TrainableLayer, error_like, own_copy
from helpers.framework.fully_connected import FullyConnected
from helpers.framework.sigmoid import Sigmoid


class RecurrentLayer(TrainableLayer):
    """Base of RNN and LSTM: `hidden_layer` FC(input_size + hidden_size, blocks * hidden_size) maps
    [x_t, h_{t-1}, 1] to the pre-activations; the read-out is y_t = sigmoid(FC(h_t)) (`output_layer`)."""

    def __init__(self, input_size, hidden_size, output_size, bptt_length=None, blocks=1):
        super().__init__()
        self.input_size = validate.positive_int("input_size", input_size)
        self.hidden_size = validate.positive_int("hidden_size", hidden_size)
        self.output_size = validate.positive_int("output_size", output_size)
        self.bptt_length = None if bptt_length is None else validate.positive_int("bptt_length", bptt_length)
        self.hidden_layer = FullyConnected(self.input_size + self.hidden_size, blocks * self.hidden_size)
        self.output_layer = FullyConnected(self.hidden_size, self.output_size)
        self.sigmoid = Sigmoid()
        self.hidden_state = np.zeros(self.hidden_size)
        self.gradient_hidden_state = None
        self._memorize = False
        self._layer_optimizers = (None, None)  # own copies for hidden_layer and output_layer
        self._output = None

    @property
    def memorize(self) -> bool:
        """True: each forward starts from the last state(s) of the previous one (TBPTT)."""
        return self._memorize

    @memorize.setter
    def memorize(self, value):
        if not isinstance(value, (bool, np.bool_)):
            validate.fail("memorize", "a bool", value, TypeError)
        self._memorize = bool(value)

    def toggle_memory(self) -> None:
        self.memorize = not self.memorize

    @property
    def weights(self) -> np.ndarray:
        return self.hidden_layer.weights

    @weights.setter
    def weights(self, weights):
        self.hidden_layer.weights = weights

    @TrainableLayer.optimizer.setter
    def optimizer(self, optimizer):
        TrainableLayer.optimizer.fset(self, optimizer)
        self._layer_optimizers = (own_copy(optimizer), own_copy(optimizer))

    def initialize(self, weights_initializer, bias_initializer) -> None:
        """Initialise both fully connected layers (each with its own fan-in and fan-out)."""
        ### BEGIN SOLUTION implement RecurrentLayer.initialize: initialise both fully connected layers of eq. (3), each with its own sizes
        self.hidden_layer.initialize(weights_initializer, bias_initializer)
        self.output_layer.initialize(weights_initializer, bias_initializer)
        ### END SOLUTION

    def calculate_regularization_loss(self) -> float:
        """The regularizer's norm of every weight it shrinks: `weights` and the output layer's weights."""
        ### BEGIN SOLUTION implement RecurrentLayer.calculate_regularization_loss: the regularizer's norm of W plus that of V of eq. (3), 0 without a regularizer
        regularizer = getattr(self.optimizer, "regularizer", None)
        if regularizer is None:
            return 0.0
        return float(regularizer.norm(self.weights) + regularizer.norm(self.output_layer.weights))
        ### END SOLUTION

    def checked_sequence(self, input_tensor) -> np.ndarray:
        """The input (T, input_size) with T >= 1, validated."""
        x = validate.shape("input_tensor", validate.array("input_tensor", input_tensor, ndim=2),
                           (None, self.input_size))
        if x.shape[0] == 0:
            validate.fail("input_tensor", "at least one time step (row)", x)
        return x

    def read_out(self, hidden_states: np.ndarray) -> np.ndarray:
        """y = sigmoid(FC(h)) for all T states (T, H) at once -> (T, output_size); kept for backward."""
        self._output = self.sigmoid.forward(self.output_layer.forward(hidden_states))
        return self._output

    def read_out_backward(self, error_tensor) -> np.ndarray:
        """(T, output_size) -> (T, H): the loss gradient of each h_t through its own output."""
        return self.output_layer.backward(self.sigmoid.backward(error_like(error_tensor, self._output)))

    def update_weights(self) -> None:
        """With an optimizer: one step for `weights` (gradient summed over time) and for the read-out."""
        hidden_optimizer, output_optimizer = self._layer_optimizers
        if hidden_optimizer is not None:
            ### BEGIN SOLUTION implement RecurrentLayer.update_weights: one optimizer step for W with its gradient summed over time (eq. 8-9) and one for V
            self.hidden_layer.weights = hidden_optimizer.calculate_update(self.weights, self.gradient_weights)
            self.output_layer.weights = output_optimizer.calculate_update(
                self.output_layer.weights, self.output_layer.gradient_weights)
            ### END SOLUTION
