"""The LSTM layer of the course framework, composed of FullyConnected, Sigmoid and TanH layers.

The batch axis is the time axis: `forward` maps (T, input_size) to (T, output_size), one row per
time step. With z_t = [x_t, h_{t-1}] and `weights` W (input_size + hidden_size + 1, 4 * hidden_size),
whose column blocks are the gates i, f, g, o (the order of torch.nn.LSTM) and whose last row is the bias:
    [a_i, a_f, a_g, a_o] = [z_t, 1] @ W
    i, f, o = sigmoid(a_i), sigmoid(a_f), sigmoid(a_o);   g = tanh(a_g)
    c_t = f * c_{t-1} + i * g;   h_t = o * tanh(c_t)
    y_t = sigmoid([h_t, 1] @ output_layer.weights)

Truncation (`bptt_length` = k), as in the RNN layer: the error returned for the input is always full
BPTT. The weight gradient is truncated per output: the loss term of output t reaches back to steps
t, ..., t-k+1 only, as if h_{t-k} and c_{t-k} were constants (BPTT(k) of Williams & Peng, 1990).
None or k >= T gives the full gradient. The output layer's gradient is local and never truncated.
"""
from __future__ import annotations

import numpy as np

from helpers.framework.recurrent import RecurrentLayer
from helpers.framework.sigmoid import Sigmoid
from helpers.framework.tanh import TanH


class LSTM(RecurrentLayer):
    """LSTM: forward (T, input_size) -> (T, output_size); backward (T, output_size) -> (T, input_size).

    `hidden_state` and `cell_state` (hidden_size,) are the last states of the latest forward pass; the
    next forward starts from them when `memorize` is True and from zeros otherwise. After `backward`,
    `gradient_weights` is the gradient of `weights` summed over time (truncated by `bptt_length`),
    `output_layer.gradient_weights` that of the read-out, and `gradient_hidden_state` /
    `gradient_cell_state` those of the initial states of the forward pass.
    """

    def __init__(self, input_size, hidden_size, output_size, bptt_length=None):
        super().__init__(input_size, hidden_size, output_size, bptt_length, blocks=4)  # gates i, f, g, o
        self.input_gate, self.forget_gate, self.output_gate = Sigmoid(), Sigmoid(), Sigmoid()
        self.candidate, self.cell_tanh = TanH(), TanH()
        self.cell_state = np.zeros(self.hidden_size)
        self.gradient_cell_state = None
        self._stored = None  # what forward keeps for backward, (T, ...) per name

    def forward(self, input_tensor) -> np.ndarray:
        """(T, input_size) -> (T, output_size); hidden and cell state run along the rows."""
        x = self.checked_sequence(input_tensor)
        H = self.hidden_size
        rows = {name: [] for name in ("stacked", "i", "f", "g", "o", "c_prev", "tanh_c", "h")}
        ### BEGIN SOLUTION implement LSTM.forward: from zeros (with memorize: the last h, c), per row the gates, c_t and h_t, appended to rows (eq. 4-9)
        h, c = (self.hidden_state, self.cell_state) if self.memorize else (np.zeros(H), np.zeros(H))
        for x_t in x:
            stacked = np.concatenate([x_t, h])[None]                  # (1, D + H)
            a = self.hidden_layer.forward(stacked)                    # (1, 4H)
            i = self.input_gate.forward(a[:, :H])[0]
            f = self.forget_gate.forward(a[:, H:2 * H])[0]
            g = self.candidate.forward(a[:, 2 * H:3 * H])[0]
            o = self.output_gate.forward(a[:, 3 * H:])[0]
            c_prev, c = c, f * c + i * g
            tanh_c = self.cell_tanh.forward(c)
            h = o * tanh_c
            for name, value in zip(rows, (stacked[0], i, f, g, o, c_prev, tanh_c, h)):
                rows[name].append(value)
        self.hidden_state, self.cell_state = h, c
        ### END SOLUTION
        self._stored = {name: np.array(values) for name, values in rows.items()}   # (T, ...) each
        return self.read_out(self._stored["h"])

    def backward(self, error_tensor) -> np.ndarray:
        """(T, output_size) -> (T, input_size); sets the gradients and, with an optimizer, updates."""
        dh = self.read_out_backward(error_tensor)  # (T, H): loss gradient of each h_t
        dx, full_gradient = self._backpropagate_through_time(dh)
        truncated = self.bptt_length is not None and self.bptt_length < len(dh)
        self.gradient_weights = self._truncated_weight_gradient(dh) if truncated else full_gradient
        self.update_weights()
        return dx

    def _cell_step_backward(self, steps, dh, dc):
        """Back through one LSTM step at times `steps` for the rows of dh, dc (n, H).

        dh is the gradient reaching h_t, dc the one reaching c_t from step t + 1. Restores what the
        forward pass stored at those steps, leaves their weight gradient in
        `hidden_layer.gradient_weights` and returns the gradients of [x_t, h_{t-1}] (n, D + H) and c_{t-1} (n, H).
        """
        s = {name: values[steps] for name, values in self._stored.items()}
        ### BEGIN SOLUTION implement LSTM._cell_step_backward: dc through tanh(c_t), the gate layers' backward, then hidden_layer.backward (eq. 13-15, 17)
        self.cell_tanh.activations = s["tanh_c"]
        dc = dc + self.cell_tanh.backward(dh * s["o"])               # every path into c_t
        for layer, name in ((self.input_gate, "i"), (self.forget_gate, "f"),
                            (self.candidate, "g"), (self.output_gate, "o")):
            layer.activations = s[name]
        da = np.concatenate([self.input_gate.backward(dc * s["g"]),
                             self.forget_gate.backward(dc * s["c_prev"]),
                             self.candidate.backward(dc * s["i"]),
                             self.output_gate.backward(dh * s["tanh_c"])], axis=1)   # (n, 4H)
        self.hidden_layer.input_tensor = s["stacked"]
        return self.hidden_layer.backward(da), dc * s["f"]
        ### END SOLUTION

    def _backpropagate_through_time(self, dh):
        """Full BPTT: dh (T, H) -> input gradient (T, D) and the untruncated weight gradient."""
        T, D = len(dh), self.input_size
        ### BEGIN SOLUTION implement LSTM._backpropagate_through_time: _cell_step_backward from t = T down to 1, carrying dh and dc, summing the weight gradient (eq. 12, 16, 18)
        dx = np.empty((T, D))
        gradient = np.zeros_like(self.weights)
        carried_h, carried_c = np.zeros(self.hidden_size), np.zeros(self.hidden_size)
        for t in reversed(range(T)):
            d_stacked, d_c = self._cell_step_backward(np.array([t]), (dh[t] + carried_h)[None], carried_c[None])
            gradient += self.hidden_layer.gradient_weights
            dx[t], carried_h, carried_c = d_stacked[0, :D], d_stacked[0, D:], d_c[0]
        self.gradient_hidden_state, self.gradient_cell_state = carried_h, carried_c
        return dx, gradient
        ### END SOLUTION

    def _truncated_weight_gradient(self, dh) -> np.ndarray:
        """Weight gradient of BPTT(k): every output t backpropagated k steps, all outputs at once.

        At lag j, row i of `delta_h` / `delta_c` holds the gradient of the loss term of output
        t = i + j at h_i / c_i.
        """
        T, D = len(dh), self.input_size
        ### BEGIN SOLUTION implement LSTM._truncated_weight_gradient: every output's gradient sent back bptt_length steps only, the weight gradients of all lags summed (eq. 12-16)
        gradient = np.zeros_like(self.weights)
        delta_h, delta_c = dh, np.zeros_like(dh)
        for lag in range(self.bptt_length):
            d_stacked, d_c = self._cell_step_backward(np.arange(T - lag), delta_h, delta_c)
            gradient += self.hidden_layer.gradient_weights
            delta_h, delta_c = d_stacked[1:, D:], d_c[1:]  # output t moves one step back
        return gradient
        ### END SOLUTION
