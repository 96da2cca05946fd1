"""Notebook 03's check cells reject plausible bugs (mutation test, see tests/check_mutation.py)."""
from __future__ import annotations

from check_mutation import Bug, mutation_tests
from conftest import ROOT

NOTEBOOK = ROOT / "notebooks" / "03_lstm.ipynb"
ANY_ROW = r"gradient check failed for '"
TORCH_MESSAGE = r"gradient check failed for '|forward"
RECURRENT = "helpers.framework.recurrent.RecurrentLayer."
FAST = "helpers.torch_lstm.LSTMRecurrence.backward"

BUGS = [
    # check:parameters: lstm_cell_parameters (question 1.5b) against the layer's weights and nn.LSTM
    Bug("one bias too many per gate in the formula", "return 4 * (d * n + n * n + n)", "return 4 * (d * n + n * n + 2 * n)",
        "parameters", "parameter count"),
    Bug("recurrent matrices left out", "return 4 * (d * n + n * n + n)", "return 4 * (d * n + n)", "parameters",
        "parameter count"),
    Bug("three gates instead of four", "return 4 * (d * n + n * n + n)", "return 3 * (d * n + n * n + n)", "parameters",
        "parameter count"),
    Bug("input matrices counted as n x n", "return 4 * (d * n + n * n + n)", "return 4 * (n * n + n * n + n)", "parameters",
        "parameter count"),
    Bug("one recurrent matrix for all gates", "return 4 * (d * n + n * n + n)", "return 4 * (d * n + n) + n * n", "parameters",
        "parameter count"),
    # check:step: lstm_step_backward by finite differences, one row per gate
    Bug("forget gate from c_t instead of c_{t-1}", "dc * prev_c * f * (1.0 - f)", "dc * (f * prev_c + i * g) * f * (1.0 - f)",
        "step", r"\[f\]"),
    Bug("input gate without the candidate", "dc * g * i * (1.0 - i)", "dc * i * (1.0 - i)", "step", r"\[i\]"),
    Bug("output gate from dc (wrong gate path, backward only)", "dnext_h * tanh_c * o * (1.0 - o)", "dc * tanh_c * o * (1.0 - o)",
        "step", r"\[o\]"),
    Bug("carried cell gradient dropped (c_{t+1} term)", "dc = dnext_c + dnext_h * o * (1.0 - tanh_c ** 2)",
        "dc = dnext_h * o * (1.0 - tanh_c ** 2)", "step", ANY_ROW),
    Bug("candidate derivative as a sigmoid's", "dc * i * (1.0 - g ** 2)", "dc * i * g * (1.0 - g)", "step", r"\[g\]"),
    Bug("dprev_c without the forget gate", "dprev_c = dc * f", "dprev_c = dc", "step", "prev_c"),
    Bug("input and forget gate blocks swapped in the forward only",
        ("i = sigmoid(a[:, :H])", "f = sigmoid(a[:, H:2 * H])"), ("i = sigmoid(a[:, H:2 * H])", "f = sigmoid(a[:, :H])"),
        "step", r"\[[if]\]"),
    # check:sequence: lstm_backward by finite differences and against torch.nn.LSTM
    Bug("cell gradient not carried between steps", "dh[:, t] + dprev_h, dprev_c, steps[t])",
        "dh[:, t] + dprev_h, np.zeros_like(dprev_c), steps[t])", "sequence", ANY_ROW),
    Bug("hidden gradient not carried between steps", "dh[:, t] + dprev_h, dprev_c, steps[t])", "dh[:, t], dprev_c, steps[t])",
        "sequence", ANY_ROW),
    Bug("c0 ignored in the forward", "prev_h, prev_c, steps = h0, c0, []", "prev_h, prev_c, steps = h0, np.zeros_like(c0), []",
        "sequence", "c0"),
    Bug("weight gradients of the last visited step only", "dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t",
        "dWx, dWh, db = dWx_t, dWh_t, db_t", "sequence", ANY_ROW),
    Bug("dh0 and dc0 swapped", "return dx, dprev_h, dWx, dWh, db, dprev_c", "return dx, dprev_c, dWx, dWh, db, dprev_h",
        "sequence", "h0|c0"),
    Bug("forward returns the cell states as h", "        h[:, t] = prev_h\n", "        h[:, t] = prev_c\n", "sequence", ANY_ROW),
    # check:layer: the framework LSTM by finite differences (check 4), against lstm_forward and memorize (checks 5, 6)
    Bug("layer: forget-gate gradient without c_{t-1}", "self.forget_gate.backward(dc * s[\"c_prev\"])",
        "self.forget_gate.backward(dc)", "layer", ANY_ROW),
    Bug("layer: output gate from the cell gradient (backward only)", "self.output_gate.backward(dh * s[\"tanh_c\"])",
        "self.output_gate.backward(dc * s[\"tanh_c\"])", "layer", ANY_ROW),
    Bug("layer: carried cell gradient dropped", "dc = dc + self.cell_tanh.backward(dh * s[\"o\"])",
        "dc = self.cell_tanh.backward(dh * s[\"o\"])", "layer", ANY_ROW),
    Bug("layer: dc_{t-1} without the forget gate", "return self.hidden_layer.backward(da), dc * s[\"f\"]",
        "return self.hidden_layer.backward(da), dc", "layer", ANY_ROW),
    Bug("layer: stores c_t as c_{t-1}", "(stacked[0], i, f, g, o, c_prev, tanh_c, h)", "(stacked[0], i, f, g, o, c, tanh_c, h)",
        "layer", ANY_ROW),
    Bug("layer: sigmoid candidate (forward and backward consistent)", "self.candidate, self.cell_tanh = TanH(), TanH()",
        "self.candidate, self.cell_tanh = Sigmoid(), TanH()", "layer", "check 5"),
    Bug("layer: memorize carries h but not c", "        self.hidden_state, self.cell_state = h, c\n",
        "        self.hidden_state = h\n", "layer", "check 6|initial|c0"),
    Bug("layer: memory off keeps the last h", "if self.memorize else (np.zeros(H), np.zeros(H))",
        "if self.memorize else (self.hidden_state, np.zeros(H))", "layer", "check 6"),
    # check:truncation: bptt_length against brute force
    Bug("truncation one step too long", "for lag in range(self.bptt_length):", "for lag in range(self.bptt_length + 1):",
        "truncation", "bptt_length="),
    Bug("cell path dropped in the truncated gradient", "delta_h, delta_c = d_stacked[1:, D:], d_c[1:]",
        "delta_h, delta_c = d_stacked[1:, D:], np.zeros_like(d_c[1:])", "truncation", "bptt_length="),
    Bug("cell gradient started from the hidden gradient", "delta_h, delta_c = dh, np.zeros_like(dh)",
        "delta_h, delta_c = dh, dh.copy()", "truncation", "bptt_length="),
    Bug("lag applied to the wrong steps", "self._cell_step_backward(np.arange(T - lag), delta_h, delta_c)",
        "self._cell_step_backward(np.arange(lag, T), delta_h, delta_c)", "truncation", "bptt_length="),
    Bug("bptt_length ignored", "truncated = self.bptt_length is not None and self.bptt_length < len(dh)", "truncated = False",
        "truncation", "bptt_length="),
    # check:optimizer: SGD step, exact regularization loss and L2 step
    Bug("regularization loss leaves out the read-out",
        "return float(regularizer.norm(self.weights) + regularizer.norm(self.output_layer.weights))",
        "return float(regularizer.norm(self.weights))", "optimizer", "calculate_regularization_loss",
        target=RECURRENT + "calculate_regularization_loss"),
    Bug("read-out never updated", "self.output_layer.weights = output_optimizer.calculate_update(",
        "self.output_layer.weights + 0 * output_optimizer.calculate_update(", "optimizer", "SGD step",
        target=RECURRENT + "update_weights"),
    Bug("regularizer ignored in the loss", 'regularizer = getattr(self.optimizer, "regularizer", None)', "regularizer = None",
        "optimizer", "calculate_regularization_loss", target=RECURRENT + "calculate_regularization_loss"),
    Bug("regularization loss counts the read-out twice",
        "regularizer.norm(self.weights) + regularizer.norm(self.output_layer.weights)",
        "2 * regularizer.norm(self.output_layer.weights)", "optimizer", "calculate_regularization_loss",
        target=RECURRENT + "calculate_regularization_loss"),
    Bug("hidden weights never updated",
        "self.hidden_layer.weights = hidden_optimizer.calculate_update(self.weights, self.gradient_weights)",
        "self.hidden_layer.weights = self.weights + 0 * hidden_optimizer.calculate_update(self.weights, self.gradient_weights)",
        "optimizer", "SGD step", target=RECURRENT + "update_weights"),
    Bug("layer: one update applied twice", "        self.update_weights()\n        return dx",
        "        self.update_weights()\n        self.update_weights()\n        return dx", "optimizer", "SGD step"),
    # check:init: the from-scratch LSTM's parameters (names, shapes) and their initialisation (sheet 001 c)
    Bug("from-scratch LSTM without the forget-gate bias", "            self.register_parameter(f\"b_{k}\", nn.Parameter(torch.empty(H)))",
        "            if k != \"f\":\n                self.register_parameter(f\"b_{k}\", nn.Parameter(torch.empty(H)))\n"
        "            else:\n                self.b_f = torch.zeros(H)", "init", "b_f has shape"),
    Bug("recurrent matrices shaped like the input matrices", "nn.Parameter(torch.empty(H, H))", "nn.Parameter(torch.empty(D, H))",
        "init", r"W_[gifo]h has shape"),
    Bug("read-out bias not a parameter", "self.b_p = nn.Parameter(torch.empty(O))", "self.b_p = torch.zeros(O)", "init",
        "b_p has shape"),
    Bug("forget-gate bias not set from forget_bias", "self.b_f.fill_(self.forget_bias)", "self.b_f.fill_(1.0)", "init",
        "forget_bias"),
    Bug("parameters drawn from [0, bound)", "parameter.uniform_(-bound, bound)", "parameter.uniform_(0.0, bound)", "init",
        "uniform in"),
    Bug("bound 1/H instead of 1/sqrt(H)", "bound = 1.0 / math.sqrt(self.hidden_size)", "bound = 1.0 / self.hidden_size", "init",
        "uniform in"),
    # check:torch: the PyTorch LSTM vs NumPy, vs torch.nn.LSTM, FastLSTM vs LSTM
    Bug("torch: forget gate dropped from the cell update", "c = g * i + c * f ", "c = g * i + c ", "torch", TORCH_MESSAGE),
    Bug("torch: h without the tanh of the cell", "h = torch.tanh(c) * o ", "h = c * o ", "torch", TORCH_MESSAGE),
    Bug("torch: forget gate reads the input gate's recurrent matrix", "h @ self.W_fh + self.b_f", "h @ self.W_ih + self.b_f",
        "torch", TORCH_MESSAGE),
    Bug("torch: c0 ignored", "        hs = []\n", "        c = torch.zeros_like(c)\n        hs = []\n", "torch", TORCH_MESSAGE),
    Bug("torch: read-out of the cell state", "p = torch.stack(hs, dim=1) @ self.W_ph + self.b_p",
        "p = torch.stack(hs, dim=1).tanh() @ self.W_ph + self.b_p", "torch", TORCH_MESSAGE),
    Bug("fast: candidate gradient not doubled", "torch.mul(dc, i[t], out=ds_g).mul_(2.0)", "torch.mul(dc, i[t], out=ds_g)",
        "torch", "FastLSTM vs LSTM", target=FAST),
    Bug("fast: forget-gate gradient from c_t", "torch.mul(dc, cs[t], out=ds_f)", "torch.mul(dc, cs[t + 1] if t + 1 < T else cs[t], out=ds_f)",
        "torch", "FastLSTM vs LSTM", target=FAST),
    Bug("fast: dc not multiplied by f", "dc.mul_(f[t])\n", "dc.mul_(1.0)\n", "torch", "FastLSTM vs LSTM",
        target=FAST),
]


outcomes, test_check_catches_bug, test_every_check_is_tried_with_five_bugs = mutation_tests(NOTEBOOK, BUGS)
