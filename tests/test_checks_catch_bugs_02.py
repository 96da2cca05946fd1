"""Notebook 02's check cells reject plausible bugs (mutation test, see tests/check_mutation.py)."""
from __future__ import annotations

import pytest

from check_mutation import Bug, run_bugs, table
from conftest import ROOT

NOTEBOOK = ROOT / "notebooks" / "02_elman_rnn.ipynb"
STEP = "np.tanh(x @ Wx + prev_h @ Wh + b)"
FAST = "helpers.torch_rnn.ElmanRecurrence."
ANY_ROW = r"gradient check failed for '"

BUGS = [
    # check:jacobian: ||dh_T/dh_s|| against torch.autograd
    Bug("W_hh not transposed in the Jacobian", "np.diag(1.0 - h_t ** 2) @ Wh.T)", "np.diag(1.0 - h_t ** 2) @ Wh)",
        "jacobian", r"dh_T/dh_s"),
    Bug("tanh' as 1 - |h|", "product = product @ (np.diag(1.0 - h_t ** 2)", "product = product @ (np.diag(1.0 - np.abs(h_t))",
        "jacobian", r"dh_T/dh_s"),
    Bug("states in forward order", "for h_t in states[::-1]:", "for h_t in states:", "jacobian", r"dh_T/dh_s"),
    Bug("Jacobians multiplied on the wrong side", "product = product @ (np.diag(1.0 - h_t ** 2) @ Wh.T)",
        "product = (np.diag(1.0 - h_t ** 2) @ Wh.T) @ product", "jacobian", r"dh_T/dh_s"),
    Bug("derivative of the previous state (off by one)", "for h_t in states[::-1]:",
        "for h_t in np.vstack([np.zeros((1, states.shape[1])), states[:-1]])[::-1]:", "jacobian", r"dh_T/dh_s"),
    Bug("Frobenius instead of spectral norm", "norms.append(np.linalg.norm(product, 2))",
        "norms.append(np.linalg.norm(product))", "jacobian", r"dh_T/dh_s"),
    # check:rate: fitted per-step factor against rho of (14a)
    Bug("rho from the largest derivative (the bound's gamma)", "rho = scale * np.sqrt(np.mean((1.0 - states ** 2) ** 2))",
        "rho = scale * np.max(1.0 - states ** 2)", "rate", "rho"),
    Bug("rho from the mean derivative instead of the rms", "rho = scale * np.sqrt(np.mean((1.0 - states ** 2) ** 2))",
        "rho = scale * np.mean(1.0 - states ** 2)", "rate", "rho"),
    Bug("rho from 1 - |h| instead of 1 - h^2", "rho = scale * np.sqrt(np.mean((1.0 - states ** 2) ** 2))",
        "rho = scale * np.sqrt(np.mean((1.0 - np.abs(states)) ** 2))", "rate", "rho"),
    Bug("W_hh Gaussian instead of orthogonal (sigma_max is not the scale)",
        "Wh = scale * np.linalg.qr(rng.standard_normal((H, H)))[0]", "Wh = scale * rng.standard_normal((H, H)) / np.sqrt(H)",
        "rate", "rho"),
    Bug("slope of a natural log read as log10", "fitted = np.exp(np.polyfit(", "fitted = 10 ** (np.polyfit(", "rate", "rho"),
    # check:numpy_forward: rnn_step_forward vs nn.RNNCell, rnn_forward vs nn.RNN
    Bug("W_hh transposed in the step", STEP, "np.tanh(x @ Wx + prev_h @ Wh.T + b)", "numpy_forward", "next_h"),
    Bug("bias dropped", STEP, "np.tanh(x @ Wx + prev_h @ Wh)", "numpy_forward", "next_h"),
    Bug("sigmoid instead of tanh", STEP, "1 / (1 + np.exp(-(x @ Wx + prev_h @ Wh + b)))", "numpy_forward", "next_h"),
    Bug("previous state ignored", STEP, "np.tanh(x @ Wx + b)", "numpy_forward", "next_h"),
    Bug("wrong initial state", "    prev_h = h0\n", "    prev_h = np.zeros_like(h0)\n", "numpy_forward", "nn.RNN"),
    Bug("state stored before the step", "        prev_h, cache = rnn_step_forward(x[:, t], prev_h, Wx, Wh, b)\n        hs.append(prev_h)",
        "        hs.append(prev_h)\n        prev_h, cache = rnn_step_forward(x[:, t], prev_h, Wx, Wh, b)",
        "numpy_forward", "nn.RNN"),
    Bug("time axis reversed", "rnn_step_forward(x[:, t], prev_h, Wx, Wh, b)", "rnn_step_forward(x[:, -1 - t], prev_h, Wx, Wh, b)",
        "numpy_forward", "nn.RNN"),
    # check:numpy_backward: rnn_step_backward and rnn_backward vs finite differences and nn.RNN
    Bug("tanh' = 1 - h in the step backward", "da = dnext_h * (1.0 - next_h ** 2)", "da = dnext_h * (1.0 - next_h)",
        "numpy_backward", ANY_ROW),
    Bug("dprev_h through W_hh instead of its transpose", "da @ Wh.T, x.T @ da", "da @ Wh, x.T @ da", "numpy_backward", "prev_h"),
    Bug("dWx without the tanh derivative", "x.T @ da, prev_h.T", "x.T @ dnext_h, prev_h.T", "numpy_backward", "Wx"),
    Bug("db as a mean over the batch", "da.sum(axis=0)", "da.mean(axis=0)", "numpy_backward", "'b'"),
    Bug("dWh from the new state instead of the previous one", "prev_h.T @ da, da.sum", "next_h.T @ da, da.sum",
        "numpy_backward", "Wh"),
    Bug("gradient from the next step not carried", "rnn_step_backward(dh[:, t] + dprev_h, cache[t])",
        "rnn_step_backward(dh[:, t], cache[t])", "numpy_backward", ANY_ROW),
    Bug("BPTT walks forward in time", "for t in reversed(range(len(cache))):", "for t in range(len(cache)):",
        "numpy_backward", ANY_ROW),
    Bug("weight gradient of the last visited step only", "        dWh += dWh_t\n", "        dWh = dWh_t\n", "numpy_backward", "Wh"),
    Bug("initial-state gradient dropped", "return np.stack(dxs, axis=1), dprev_h, dWx, dWh, db",
        "return np.stack(dxs, axis=1), np.zeros_like(dprev_h), dWx, dWh, db", "numpy_backward", "h0"),
    # check:layer: the framework RNN by finite differences (check 1) and against the NumPy blocks (check 2)
    Bug("layer BPTT drops the gradient from step t + 1", "(dh[t] + carried)[None]", "dh[t][None]", "layer", ANY_ROW),
    Bug("tanh' from the previous state", "layer.tanh.activations = layer.hidden_states[steps + 1]",
        "layer.tanh.activations = layer.hidden_states[steps]", "layer", ANY_ROW),
    Bug("stacked input of the wrong step", "layer.hidden_layer.input_tensor = layer.stacked_inputs[steps]",
        "layer.hidden_layer.input_tensor = layer.stacked_inputs[steps - 1]", "layer", ANY_ROW),
    Bug("weight gradient overwritten instead of summed", "        gradient += layer.hidden_layer.gradient_weights\n        dx[t]",
        "        gradient = layer.hidden_layer.gradient_weights\n        dx[t]", "layer", "weights"),
    Bug("read-out backward without the sigmoid derivative",
        "self.output_layer.backward(self.sigmoid.backward(error_like(error_tensor, self._output)))",
        "self.output_layer.backward(error_like(error_tensor, self._output))", "layer", ANY_ROW),
    Bug("memorize ignored (always zeros)", "h = self.hidden_state if self.memorize else np.zeros(self.hidden_size)",
        "h = np.zeros(self.hidden_size)", "layer", "initial state"),
    Bug("sigmoid as the hidden activation (forward and backward consistent)", "self.tanh = TanH()", "self.tanh = Sigmoid()",
        "layer", "output"),
    Bug("tanh read-out instead of the sigmoid (consistent)", "self.sigmoid = Sigmoid()", "self.sigmoid = TanH()",
        "layer", "output"),
    # check:truncation: bptt_length against brute force
    Bug("truncation one step too long", "for lag in range(k):", "for lag in range(k + 1):", "truncation", r"weights, k="),
    Bug("truncation one step too short", "for lag in range(k):", "for lag in range(max(k - 1, 1)):", "truncation", r"weights, k="),
    Bug("window rows not shifted", "delta = d_stacked[1:, D:]", "delta = d_stacked[:-1, D:]", "truncation", r"weights, k="),
    Bug("lag applied to the wrong steps", "hidden_step_backward(layer, np.arange(T - lag), delta)",
        "hidden_step_backward(layer, np.arange(lag, T), delta)", "truncation", r"weights, k="),
    Bug("truncated input gradient (the returned error truncated too)",
        "        self.gradient_weights = truncated_weight_gradient(self, dh, self.bptt_length) if truncated else full_gradient",
        "        self.gradient_weights = truncated_weight_gradient(self, dh, self.bptt_length) if truncated else full_gradient\n"
        "        dx = dx * (0.5 if truncated else 1.0)", "truncation", "full BPTT"),
    Bug("bptt_length ignored", "truncated = self.bptt_length is not None and self.bptt_length < len(dh)",
        "truncated = False", "truncation", r"weights, k="),
    # check:memorize
    Bug("memorize never stores the last state", "        self.hidden_state = h\n        return self.read_out",
        "        return self.read_out", "memorize", "two calls vs one"),
    Bug("memorize stores the state before the last step", "        self.hidden_state = h\n        return self.read_out",
        "        self.hidden_state = states[-2]\n        return self.read_out", "memorize", "two calls vs one"),
    Bug("toggle_memory switches on only", "self.memorize = not self.memorize", "self.memorize = True", "memorize",
        "memorize off"),
    Bug("toggle_memory never switches", "self.memorize = not self.memorize", "self.memorize = self.memorize", "memorize",
        "toggle_memory"),
    Bug("memorize setter stores the negation (caught by the layer check first)", "self._memorize = bool(value)",
        "self._memorize = not bool(value)", "layer", "initial state"),
    Bug("memorize stores tanh of the last state", "        self.hidden_state = h\n        return self.read_out",
        "        self.hidden_state = np.tanh(h)\n        return self.read_out", "memorize", "two calls vs one"),
    Bug("memory off still carries the state (caught by the truncation check first)",
        "h = self.hidden_state if self.memorize else np.zeros(self.hidden_size)", "h = self.hidden_state",
        "truncation", r"weights, k="),
    Bug("memory on starts from zeros (caught by the layer check first)",
        "h = self.hidden_state if self.memorize else np.zeros(self.hidden_size)",
        "h = np.zeros(self.hidden_size) if self.memorize else self.hidden_state", "layer", "initial state"),
    # check:optimizer: exact regularization loss and update
    Bug("regularization loss leaves out the read-out",
        "return float(regularizer.norm(self.weights) + regularizer.norm(self.output_layer.weights))",
        "return float(regularizer.norm(self.weights))", "optimizer", "calculate_regularization_loss"),
    Bug("regularization loss always 0", "regularizer = getattr(self.optimizer, \"regularizer\", None)\n        if regularizer is None:",
        "regularizer = None\n        if regularizer is None:", "optimizer", "calculate_regularization_loss"),
    Bug("read-out never updated", "            self.output_layer.weights = output_optimizer.calculate_update(",
        "            self.output_layer.weights + 0 * output_optimizer.calculate_update(", "optimizer", "output weights update"),
    Bug("optimizer copies drop the regularizer", "self._layer_optimizers = (own_copy(optimizer), own_copy(optimizer))",
        "self._layer_optimizers = tuple(type(optimizer)(optimizer.learning_rate) for _ in range(2))", "optimizer",
        "update"),
    Bug("hidden layer stepped twice", "self.hidden_layer.weights = hidden_optimizer.calculate_update(self.weights, self.gradient_weights)",
        "self.hidden_layer.weights = hidden_optimizer.calculate_update(\n"
        "                hidden_optimizer.calculate_update(self.weights, self.gradient_weights), self.gradient_weights)",
        "optimizer", "weights update"),
    Bug("L2 gradient with the wrong sign", "return self.alpha * validate.array", "return -self.alpha * validate.array", "optimizer", "update",
        target="helpers.framework.regularizers.L2_Regularizer.calculate_gradient"),
    # check:initialize: fan-in / fan-out and the accessor names
    Bug("hidden layer initialised with the read-out's sizes", "self.hidden_layer.initialize(weights_initializer, bias_initializer)",
        "self.output_layer.initialize(weights_initializer, bias_initializer)", "initialize", "initialize"),
    Bug("read-out not initialised", "        self.output_layer.initialize(weights_initializer, bias_initializer)\n\n    def calculate",
        "\n    def calculate", "initialize", "initialize"),
    Bug("initializers swapped", "self.hidden_layer.initialize(weights_initializer, bias_initializer)",
        "self.hidden_layer.initialize(bias_initializer, weights_initializer)", "initialize", "initialize"),
    Bug("fan-in without the recurrent inputs", "shape, self.input_size, self.output_size)",
        "shape, self.input_size - 5 if self.input_size > 5 else self.input_size, self.output_size)", "initialize",
        "initialize", target="helpers.framework.fully_connected.FullyConnected.initialize"),
    Bug("get_weights returns the read-out's matrix", "def get_weights(self):\n    return self.weights",
        "def get_weights(self):\n    return getattr(self, \"output_layer\", self).weights", "initialize", "get_weights",
        target="helpers.framework.base.TrainableLayer.get_weights"),
    # check:torch_model: ElmanRNN (torch, from scratch) vs the NumPy blocks
    Bug("torch: W_hh transposed", "h = torch.tanh(torch.addmm(input_t, h, self.W_hh))",
        "h = torch.tanh(torch.addmm(input_t, h, self.W_hh.t()))", "torch_model", ANY_ROW),
    Bug("torch: bias inside the loop twice", "input_part = torch.matmul(x, self.W_hx) + self.b_h",
        "input_part = torch.matmul(x, self.W_hx) + 2 * self.b_h", "torch_model", ANY_ROW),
    Bug("torch: h0 ignored", "            h = checked_state(\"h0\", h0, B, self.hidden_size, self.W_hx)",
        "            h = 0 * checked_state(\"h0\", h0, B, self.hidden_size, self.W_hx)", "torch_model", ANY_ROW),
    Bug("torch: read-out of the pre-activation", "p = torch.matmul(torch.stack(hs, dim=1), self.W_ph) + self.b_p",
        "p = torch.matmul(torch.atanh(torch.stack(hs, dim=1).clamp(-0.999, 0.999)), self.W_ph) + self.b_p",
        "torch_model", ANY_ROW),
    Bug("torch: returns the first state", "# eq. (2) for all steps\n        return p, h", "# eq. (2) for all steps\n        return p, hs[0]",
        "torch_model", "h_T"),
    # check:sequence_loss: truncated chunks vs finite differences of the windowed loss
    Bug("chunks not detached", "p, state = model(chunk, None if state is None else _detached(state))\n        predictions.append(p[..., 0])\n    return torch.mean((torch.cat(predictions, dim=1) - targets",
        "p, state = model(chunk, state)\n        predictions.append(p[..., 0])\n    return torch.mean((torch.cat(predictions, dim=1) - targets",
        "sequence_loss", "grad"),
    Bug("sum instead of mean", "predictions.append(p[..., 0])\n    return torch.mean((torch.cat(predictions, dim=1) - targets.to(p.dtype)) ** 2)",
        "predictions.append(p[..., 0])\n    return torch.sum((torch.cat(predictions, dim=1) - targets.to(p.dtype)) ** 2)",
        "sequence_loss", "grad"),
    Bug("every chunk starts from zeros", "p, state = model(chunk, None if state is None else _detached(state))\n        predictions.append(p[..., 0])\n    return torch.mean((torch.cat(predictions, dim=1) - targets",
        "p, state = model(chunk, None)\n        predictions.append(p[..., 0])\n    return torch.mean((torch.cat(predictions, dim=1) - targets",
        "sequence_loss", "loss value"),
    Bug("targets shifted by one step", "predictions.append(p[..., 0])\n    return torch.mean((torch.cat(predictions, dim=1) - targets.to(p.dtype)) ** 2)",
        "predictions.append(p[..., 0])\n    return torch.mean((torch.cat(predictions, dim=1) - torch.roll(targets.to(p.dtype), 1, 1)) ** 2)",
        "sequence_loss", "grad"),
    Bug("chunks of k + 1 steps", "    k = bptt_length or x.shape[1]\n", "    k = (bptt_length or x.shape[1]) + 1\n", "sequence_loss",
        "grad"),
    # check:continue_sine: the generated samples are the model's own one-step predictions
    Bug("generation restarts from the warm-up state", "p, state = model(generated[-1][:, None], state)",
        "p, _ = model(generated[-1][:, None], state)", "continue_sine", "generated"),
    Bug("first generated sample skipped", "generated = [p[:, -1]]", "generated = []\n    p, state = model(p[:, -1:], state)\n    generated.append(p[:, -1])",
        "continue_sine", "generated"),
    Bug("fed back without the state", "p, state = model(generated[-1][:, None], state)",
        "p, state = model(generated[-1][:, None])", "continue_sine", "generated"),
    Bug("warm-up prediction of the first sample instead of the last", "generated = [p[:, -1]]", "generated = [p[:, 0]]",
        "continue_sine", "generated"),
    Bug("true sample fed back instead of the prediction", "p, state = model(generated[-1][:, None], state)",
        "p, state = model(torch.as_tensor(warmup[:, -1:])[..., None].to(p.dtype), state)", "continue_sine", "generated"),
    # check:fast: FastElmanRNN vs ElmanRNN at 1e-12
    Bug("fast: tanh(a) as sigma(2a) - 1/2 not doubled", "hs = buffer.mul_(2.0)", "hs = buffer.mul_(1.999)", "fast", ANY_ROW,
        target=FAST + "forward"),
    Bug("fast: W_hh scaled by 2 instead of 4", "W_4 = W_hh * 4.0", "W_4 = W_hh * 2.0", "fast", ANY_ROW, target=FAST + "forward"),
    Bug("fast: eq. (7) term dropped", "eps_t.addmm_(eps_next, W_hh_t)", "eps_t.add_(0.0)", "fast", ANY_ROW,
        target=FAST + "backward"),
    Bug("fast: dW_hh without h_0", "dW_hh = torch.mm(h0.t(), eps[0]).addmm_(", "dW_hh = torch.zeros_like(W_hh).addmm_(",
        "fast", "W_hh", target=FAST + "backward"),
    Bug("fast: dh0 through W_hh instead of its transpose", "dh0 = torch.mm(eps[0], W_hh_t)", "dh0 = torch.mm(eps[0], W_hh)",
        "fast", "h0", target=FAST + "backward"),
    # check:clipping: global-norm clipping
    Bug("clipping never fires", "return float(torch.nn.utils.clip_grad_norm_(parameters, max_norm))",
        "return global_grad_norm(parameters)", "clipping", "clipped grad"),
    Bug("per-parameter clipping where global is asked", "    if kind == \"global\":\n", "    if kind == \"none\":\n",
        "clipping", "clipped grad"),
    Bug("returns the norm after clipping", "return float(torch.nn.utils.clip_grad_norm_(parameters, max_norm))",
        "torch.nn.utils.clip_grad_norm_(parameters, max_norm)\n        return global_grad_norm(parameters)", "clipping",
        "returned norm"),
    Bug("clips to half the threshold", "return float(torch.nn.utils.clip_grad_norm_(parameters, max_norm))",
        "return float(torch.nn.utils.clip_grad_norm_(parameters, max_norm / 2))", "clipping", "clipped grad"),
    Bug("always rescales to the threshold", "return float(torch.nn.utils.clip_grad_norm_(parameters, max_norm))",
        "norm = global_grad_norm(parameters)\n        for p in parameters:\n            p.grad.mul_(max_norm / norm)\n"
        "        return norm", "clipping", "below the threshold"),
    # check:closed_loop: closed-loop loss vs continue_sine and finite differences
    Bug("closed loop feeds the true sample", "        p, state = model(fed[..., None], state)",
        "        p, state = model(x[:, t:t + 1], state)", "closed_loop", "closed-loop loss"),
    Bug("fed-back prediction detached at every step", "        p, state = model(fed[..., None], state)",
        "        p, state = model(fed.detach()[..., None], state)", "closed_loop", "grad"),
    Bug("closed loop starts one step late", "    tau = min(teacher_steps, T)\n", "    tau = min(teacher_steps + 1, T)\n",
        "closed_loop", "closed-loop loss"),
    Bug("state detached at the switch to the closed loop", "    fed = predictions[-1][:, -1:]  # the prediction of sample tau, (B, 1)\n",
        "    fed = predictions[-1][:, -1:]  # the prediction of sample tau, (B, 1)\n    state = _detached(state)\n",
        "closed_loop", "grad"),
    Bug("closed-loop loss as a sum", "    return torch.mean((torch.cat(predictions, dim=1) - targets.to(p.dtype)) ** 2)\n\n\n@checked(ramp",
        "    return torch.sum((torch.cat(predictions, dim=1) - targets.to(p.dtype)) ** 2)\n\n\n@checked(ramp",
        "closed_loop", "closed-loop loss"),
]


@pytest.fixture(scope="module")
def outcomes():
    results = run_bugs(NOTEBOOK, BUGS)
    print(table(results, title=f"mutation test of {NOTEBOOK.name}"))
    return {outcome.bug.name: outcome for outcome in results}


@pytest.mark.parametrize("bug", BUGS, ids=[bug.name for bug in BUGS])
def test_check_catches_bug(outcomes, bug):
    outcome = outcomes[bug.name]
    assert outcome.caught, f"check:{bug.check} missed {bug.name!r}: {outcome.detail}"


def test_every_check_is_tried_with_five_bugs():
    counts = {}
    for bug in BUGS:
        counts[bug.check] = counts.get(bug.check, 0) + 1
    assert all(count >= 5 for count in counts.values()), counts
