"""The Elman RNN layer of the course framework, composed of FullyConnected, TanH and Sigmoid layers.

The batch axis is the time axis: `forward` maps (T, input_size) to (T, output_size), one row per
time step, with
    h_t = tanh([x_t, h_{t-1}, 1] @ weights)        weights: (input_size + hidden_size + 1, hidden_size)
    y_t = sigmoid([h_t, 1] @ output_layer.weights)  output_layer.weights: (hidden_size + 1, output_size)

Truncation (`bptt_length` = k): the error returned for the input is always full BPTT. The weight
gradient is truncated per output: the loss term of output t reaches back to steps t, t-1, ..., t-k+1
only, as if h_{t-k} were a constant (BPTT(k) of Williams & Peng, 1990). k = 1 keeps only the direct
term of each step; None or k >= T gives the full gradient. The output layer's gradient is local and
never truncated.
"""
from __future__ import annotations

import numpy as np

from helpers import validate
from helpers.framework.base import TrainableLayer, error_like, own_copy
from helpers.framework.fully_connected import FullyConnected
from helpers.framework.sigmoid import Sigmoid
from helpers.framework.tanh import TanH


class RNN(TrainableLayer):
    """Elman RNN: forward (T, input_size) -> (T, output_size); backward (T, output_size) -> (T, input_size).

    `hidden_state` (hidden_size,) is the last state of the latest forward pass; the next forward starts
    from it when `memorize` is True and from zeros otherwise. After `backward`, `gradient_weights` is the
    gradient of `weights` summed over time (truncated by `bptt_length`), `output_layer.gradient_weights`
    that of the read-out and `gradient_hidden_state` that of the initial state of the forward pass.
    """

    def __init__(self, input_size, hidden_size, output_size, bptt_length=None):
        super().__init__()
        self.input_size = validate.positive_int("input_size", input_size)
        self.hidden_size = validate.positive_int("hidden_size", hidden_size)
        self.output_size = validate.positive_int("output_size", output_size)
        self.bptt_length = None if bptt_length is None else validate.positive_int("bptt_length", bptt_length)
        self.hidden_layer = FullyConnected(self.input_size + self.hidden_size, self.hidden_size)
        self.tanh = TanH()
        self.output_layer = FullyConnected(self.hidden_size, self.output_size)
        self.sigmoid = Sigmoid()
        self.hidden_state = np.zeros(self.hidden_size)
        self.gradient_hidden_state = None
        self._memorize = False
        self._layer_optimizers = (None, None)  # own copies for hidden_layer and output_layer
        self.stacked_inputs = self.hidden_states = self._output = None  # set by forward

    @property
    def memorize(self) -> bool:
        """True: each forward starts from the last hidden state of the previous one (TBPTT)."""
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
        self.hidden_layer.initialize(weights_initializer, bias_initializer)
        self.output_layer.initialize(weights_initializer, bias_initializer)

    def calculate_regularization_loss(self) -> float:
        """The regularizer's norm of every weight it shrinks: `weights` and the output layer's weights."""
        regularizer = getattr(self.optimizer, "regularizer", None)
        if regularizer is None:
            return 0.0
        return float(regularizer.norm(self.weights) + regularizer.norm(self.output_layer.weights))

    def forward(self, input_tensor) -> np.ndarray:
        """(T, input_size) -> (T, output_size); the hidden state runs along the rows."""
        x = validate.shape("input_tensor", validate.array("input_tensor", input_tensor, ndim=2),
                           (None, self.input_size))
        if x.shape[0] == 0:
            validate.fail("input_tensor", "at least one time step (row)", x)
        h = self.hidden_state if self.memorize else np.zeros(self.hidden_size)
        stacked, states = [], [h]
        for x_t in x:
            stacked.append(np.concatenate([x_t, h]))
            h = self.tanh.forward(self.hidden_layer.forward(stacked[-1][None]))[0]
            states.append(h)
        self.stacked_inputs, self.hidden_states = np.array(stacked), np.array(states)  # (T, D+H), (T+1, H)
        self.hidden_state = h
        self._output = self.sigmoid.forward(self.output_layer.forward(self.hidden_states[1:]))
        return self._output

    def backward(self, error_tensor) -> np.ndarray:
        """(T, output_size) -> (T, input_size); sets the gradients and, with an optimizer, updates."""
        error = error_like(error_tensor, self._output)
        dh = self.output_layer.backward(self.sigmoid.backward(error))  # (T, H): loss gradient of each h_t
        dx, full_gradient, self.gradient_hidden_state = backpropagate_through_time(self, dh)
        truncated = self.bptt_length is not None and self.bptt_length < len(dh)
        self.gradient_weights = truncated_weight_gradient(self, dh, self.bptt_length) if truncated else full_gradient
        hidden_optimizer, output_optimizer = self._layer_optimizers
        if hidden_optimizer is not None:
            self.hidden_layer.weights = hidden_optimizer.calculate_update(self.weights, self.gradient_weights)
            self.output_layer.weights = output_optimizer.calculate_update(
                self.output_layer.weights, self.output_layer.gradient_weights)
        return dx


def hidden_step_backward(layer: RNN, steps: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """Back through tanh and the hidden FC layer at the time indices `steps` for the rows of delta (n, H).

    Restores what the forward pass stored at those steps (eq. (6): tanh' from the activation), leaves
    the weight gradient of those rows in `layer.hidden_layer.gradient_weights` and returns the gradient
    of the stacked input [x_t, h_{t-1}] (n, D + H).
    """
    layer.tanh.activations = layer.hidden_states[steps + 1]
    layer.hidden_layer.input_tensor = layer.stacked_inputs[steps]
    return layer.hidden_layer.backward(layer.tanh.backward(delta))


def backpropagate_through_time(layer: RNN, dh: np.ndarray):
    """Full BPTT, eq. (6)-(10): dh (T, H), the loss gradient of each h_t through its own output
    -> input gradient (T, D), untruncated weight gradient (D + H + 1, H), initial-state gradient (H,)."""
    T, D = len(dh), layer.input_size
    dx = np.empty((T, D))
    gradient = np.zeros_like(layer.weights)
    carried = np.zeros(layer.hidden_size)  # the gradient reaching h_t from step t + 1
    for t in reversed(range(T)):
        d_stacked = hidden_step_backward(layer, np.array([t]), (dh[t] + carried)[None])[0]
        gradient += layer.hidden_layer.gradient_weights
        dx[t], carried = d_stacked[:D], d_stacked[D:]
    return dx, gradient, carried


def truncated_weight_gradient(layer: RNN, dh: np.ndarray, k: int) -> np.ndarray:
    """Weight gradient of BPTT(k), eq. (15): each output t backpropagated k steps, all outputs at once.

    At lag j, row i of `delta` holds the gradient of output t = i + j's loss term at h_i; k < T.
    """
    T, D = len(dh), layer.input_size
    gradient = np.zeros_like(layer.weights)
    delta = dh
    for lag in range(k):
        d_stacked = hidden_step_backward(layer, np.arange(T - lag), delta)
        gradient += layer.hidden_layer.gradient_weights
        delta = d_stacked[1:, D:]  # output t moves one step back; rows already at step 0 leave
    return gradient
