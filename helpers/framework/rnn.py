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

from helpers.framework.recurrent import RecurrentLayer
from helpers.framework.tanh import TanH


class RNN(RecurrentLayer):
    """Elman RNN: forward (T, input_size) -> (T, output_size); backward (T, output_size) -> (T, input_size).

    `hidden_state` (hidden_size,) is the last state of the latest forward pass; the next forward starts
    from it when `memorize` is True and from zeros otherwise. After `backward`, `gradient_weights` is the
    gradient of `weights` summed over time (truncated by `bptt_length`), `output_layer.gradient_weights`
    that of the read-out and `gradient_hidden_state` that of the initial state of the forward pass.
    """

    def __init__(self, input_size, hidden_size, output_size, bptt_length=None):
        super().__init__(input_size, hidden_size, output_size, bptt_length, blocks=1)
        self.tanh = TanH()
        self.stacked_inputs = self.hidden_states = None  # set by forward

    def forward(self, input_tensor) -> np.ndarray:
        """(T, input_size) -> (T, output_size); the hidden state runs along the rows."""
        x = self.checked_sequence(input_tensor)
        ### BEGIN SOLUTION implement RNN.forward: start from zeros or the remembered state, h_t = tanh(FC([x_t, h_(t-1)])) per step, store stacked inputs and states, read out y_t (eq. 3)
        h = self.hidden_state if self.memorize else np.zeros(self.hidden_size)
        stacked, states = [], [h]
        for x_t in x:
            stacked.append(np.concatenate([x_t, h]))
            h = self.tanh.forward(self.hidden_layer.forward(stacked[-1][None]))[0]
            states.append(h)
        self.stacked_inputs, self.hidden_states = np.array(stacked), np.array(states)  # (T, D+H), (T+1, H)
        self.hidden_state = h
        return self.read_out(self.hidden_states[1:])
        ### END SOLUTION

    def backward(self, error_tensor) -> np.ndarray:
        """(T, output_size) -> (T, input_size); sets the gradients and, with an optimizer, updates."""
        dh = self.read_out_backward(error_tensor)  # (T, H): loss gradient of each h_t
        dx, full_gradient, self.gradient_hidden_state = backpropagate_through_time(self, dh)
        truncated = self.bptt_length is not None and self.bptt_length < len(dh)
        self.gradient_weights = truncated_weight_gradient(self, dh, self.bptt_length) if truncated else full_gradient
        self.update_weights()
        return dx


def hidden_step_backward(layer: RNN, steps: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """Back through tanh and the hidden FC layer at the time indices `steps` for the rows of delta (n, H).

    Restores what the forward pass stored at those steps (eq. (6): tanh' from the activation), leaves
    the weight gradient of those rows in `layer.hidden_layer.gradient_weights` and returns the gradient
    of the stacked input [x_t, h_{t-1}] (n, D + H).
    """
    ### BEGIN SOLUTION implement hidden_step_backward: restore the stored activations and stacked inputs of `steps`, back through TanH and the FC layer (eq. 6, 8-10)
    layer.tanh.activations = layer.hidden_states[steps + 1]
    layer.hidden_layer.input_tensor = layer.stacked_inputs[steps]
    return layer.hidden_layer.backward(layer.tanh.backward(delta))
    ### END SOLUTION


def backpropagate_through_time(layer: RNN, dh: np.ndarray):
    """Full BPTT, eq. (6)-(10): dh (T, H), the loss gradient of each h_t through its own output
    -> input gradient (T, D), untruncated weight gradient (D + H + 1, H), initial-state gradient (H,)."""
    T, D = len(dh), layer.input_size
    ### BEGIN SOLUTION implement backpropagate_through_time: from t = T down to 1, delta_t = dh[t] + the gradient carried from t + 1, weight gradients summed (eq. 7-10)
    dx = np.empty((T, D))
    gradient = np.zeros_like(layer.weights)
    carried = np.zeros(layer.hidden_size)  # the gradient reaching h_t from step t + 1
    for t in reversed(range(T)):
        d_stacked = hidden_step_backward(layer, np.array([t]), (dh[t] + carried)[None])[0]
        gradient += layer.hidden_layer.gradient_weights
        dx[t], carried = d_stacked[:D], d_stacked[D:]
    return dx, gradient, carried
    ### END SOLUTION


def truncated_weight_gradient(layer: RNN, dh: np.ndarray, k: int) -> np.ndarray:
    """Weight gradient of BPTT(k), eq. (15): each output t backpropagated k steps, all outputs at once.

    At lag j, row i of `delta` holds the gradient of output t = i + j's loss term at h_i; k < T.
    """
    T, D = len(dh), layer.input_size
    ### BEGIN SOLUTION implement truncated_weight_gradient: every output's gradient backpropagated k steps, the weight gradients summed (eq. 15)
    gradient = np.zeros_like(layer.weights)
    delta = dh
    for lag in range(k):
        d_stacked = hidden_step_backward(layer, np.arange(T - lag), delta)
        gradient += layer.hidden_layer.gradient_weights
        delta = d_stacked[1:, D:]  # output t moves one step back; rows already at step 0 leave
    return gradient
    ### END SOLUTION
