"""The LSTM of seed 004 (eq. 4-11) in PyTorch from scratch: `nn.Parameter` and tensor ops only.

Row-vector convention, batch first: x (B, T, D), h and c (B, H), p (B, T, O). Each matrix of the
equations is stored transposed, e.g. eq. (4) ``g_t = tanh(W_gx x_t + W_gh h_{t-1} + b_g)`` reads
``g_t = tanh(x_t @ W_gx + h_{t-1} @ W_gh + b_g)`` with W_gx (D, H) and W_gh (H, H).

- `LSTM`: the teaching copy, one line per equation, eight matrix products per step.
- `FastLSTM`: the same parameters (the state dicts are interchangeable) and the same function,
  computed with fused gate matrices, all input projections in one product, and a hand-written
  backward pass through time (`LSTMRecurrence`). Use it for training.

`nn_lstm_weights` maps the parameters onto `torch.nn.LSTM` (gate order i, f, g, o).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from helpers import validate
from helpers.torch_rnn import checked_sequence, checked_state

GATES = ("i", "f", "g", "o")


class LSTM(nn.Module):
    """LSTM with a linear read-out: forward(x (B, T, D), state=None) -> p (B, T, O), (h_T, c_T).

    Parameters (row-vector forms of eq. 4-10), for each gate k in g, i, f, o: W_kx (D, H),
    W_kh (H, H), b_k (H,); read-out W_ph (H, O), b_p (O,). All are drawn uniformly from
    [-1/sqrt(H), 1/sqrt(H)] like `torch.nn.LSTM`, except the forget-gate bias b_f, which starts at
    `forget_bias` (1.0 keeps the cell state open at the start of training).
    `state` is None (zeros) or a pair (h0, c0) of (B, H) tensors.
    """

    def __init__(self, input_size: int, hidden_size: int, output_size: int, forget_bias: float = 1.0):
        super().__init__()
        self.input_size = validate.positive_int("input_size", input_size)
        self.hidden_size = validate.positive_int("hidden_size", hidden_size)
        self.output_size = validate.positive_int("output_size", output_size)
        self.forget_bias = validate.real("forget_bias", forget_bias)
        D, H, O = self.input_size, self.hidden_size, self.output_size
        ### BEGIN SOLUTION implement LSTM.__init__: nn.Parameter W_kx (D, H), W_kh (H, H), b_k (H,) for k in g, i, f, o and the read-out W_ph (H, O), b_p (O,) (eq. 4-10)
        for k in ("g", "i", "f", "o"):
            self.register_parameter(f"W_{k}x", nn.Parameter(torch.empty(D, H)))
            self.register_parameter(f"W_{k}h", nn.Parameter(torch.empty(H, H)))
            self.register_parameter(f"b_{k}", nn.Parameter(torch.empty(H)))
        self.W_ph = nn.Parameter(torch.empty(H, O))
        self.b_p = nn.Parameter(torch.empty(O))
        ### END SOLUTION
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Uniform in [-1/sqrt(H), 1/sqrt(H)] (torch's global generator); b_f = forget_bias."""
        ### BEGIN SOLUTION implement LSTM.reset_parameters: every parameter uniform in [-1/sqrt(H), 1/sqrt(H)], then b_f = forget_bias (eq. 6)
        bound = 1.0 / math.sqrt(self.hidden_size)
        with torch.no_grad():
            for parameter in self.parameters():
                parameter.uniform_(-bound, bound)
            self.b_f.fill_(self.forget_bias)
        ### END SOLUTION

    def initial_state(self, x: torch.Tensor, state):
        """(h0, c0) for a batch x (B, T, D): zeros when `state` is None, else the checked pair."""
        B, H = x.shape[0], self.hidden_size
        if state is None:
            return x.new_zeros(B, H), x.new_zeros(B, H)
        if not isinstance(state, (tuple, list)) or len(state) != 2:
            validate.fail("state", "None or a pair (h0, c0)", state, TypeError)
        return (checked_state("h0", state[0], B, H, self.W_ph),
                checked_state("c0", state[1], B, H, self.W_ph))

    def step(self, x_t, h, c):
        """One step of eq. (4)-(9): x_t (B, D), h, c (B, H) -> h, c and the gates (g, i, f, o)."""
        ### BEGIN SOLUTION implement LSTM.step: the gates g, i, f, o from x_t and h, then c and h (eq. 4-9)
        g = torch.tanh(x_t @ self.W_gx + h @ self.W_gh + self.b_g)      # (4) candidate
        i = torch.sigmoid(x_t @ self.W_ix + h @ self.W_ih + self.b_i)   # (5) input gate
        f = torch.sigmoid(x_t @ self.W_fx + h @ self.W_fh + self.b_f)   # (6) forget gate
        o = torch.sigmoid(x_t @ self.W_ox + h @ self.W_oh + self.b_o)   # (7) output gate
        c = g * i + c * f                                               # (8) cell state
        h = torch.tanh(c) * o                                           # (9) hidden state
        ### END SOLUTION
        return h, c, (g, i, f, o)

    def forward(self, x, state=None):
        """x (B, T, D), state None or (h0, c0) -> p (B, T, O) (eq. 10), (h_T, c_T) each (B, H)."""
        x = checked_sequence("x", x, self.input_size, self.W_ph)
        h, c = self.initial_state(x, state)
        ### BEGIN SOLUTION implement LSTM.forward: self.step through time from (h0, c0), then p_t = h_t W_ph + b_p for every step (eq. 10)
        hs = []
        for x_t in x.unbind(1):
            h, c, _ = self.step(x_t, h, c)
            hs.append(h)
        p = torch.stack(hs, dim=1) @ self.W_ph + self.b_p               # (10)
        ### END SOLUTION
        return p, (h, c)

    @torch.no_grad()
    def gate_activity(self, x, state=None) -> dict[str, torch.Tensor]:
        """The gates and states of every step: {"g", "i", "f", "o", "c", "h"} -> (B, T, H) each."""
        x = checked_sequence("x", x, self.input_size, self.W_ph)
        h, c = self.initial_state(x, state)
        trace = {name: [] for name in ("g", "i", "f", "o", "c", "h")}
        for x_t in x.unbind(1):
            h, c, gates = self.step(x_t, h, c)
            for name, value in zip(("g", "i", "f", "o", "c", "h"), (*gates, c, h)):
                trace[name].append(value)
        return {name: torch.stack(values, dim=1) for name, values in trace.items()}


def _check_gate_parameters(model) -> None:
    """TypeError unless `model` has the twelve gate tensors W_kx, W_kh, b_k (k in i, f, g, o) of `LSTM`."""
    names = [f"{prefix}{k}{suffix}" for k in "ifgo" for prefix, suffix in (("W_", "x"), ("W_", "h"), ("b_", ""))]
    if not all(isinstance(getattr(model, name, None), torch.Tensor) for name in names):
        validate.fail("model", "an LSTM with the gate parameters W_kx, W_kh, b_k (helpers.torch_lstm.LSTM)", model,
                      TypeError)


def fused_gate_weights(model: LSTM, order: str = "ifgo"):
    """The gate parameters side by side: Wx (D, 4H), Wh (H, 4H), b (4H,), gate blocks in `order`.

    Built with `torch.cat`, so gradients flow back to the model's own parameters.
    """
    _check_gate_parameters(model)
    validate.choice("order", order, ("ifgo", "ifog"))
    Wx = torch.cat([getattr(model, f"W_{k}x") for k in order], dim=1)
    Wh = torch.cat([getattr(model, f"W_{k}h") for k in order], dim=1)
    b = torch.cat([getattr(model, f"b_{k}") for k in order])
    return Wx, Wh, b


def nn_lstm_weights(model: LSTM) -> dict[str, torch.Tensor]:
    """A state dict for a one-layer `torch.nn.LSTM` computing the same h_t (no read-out).

    nn.LSTM keeps column-convention matrices with the gates stacked in the order i, f, g, o:
    weight_ih_l0 = [W_ix W_fx W_gx W_ox]^T (4H, D), weight_hh_l0 (4H, H), and two biases whose sum
    acts as b; here bias_ih_l0 = [b_i b_f b_g b_o] and bias_hh_l0 = 0.
    """
    _check_gate_parameters(model)
    with torch.no_grad():
        Wx, Wh, b = fused_gate_weights(model, "ifgo")
        return {"weight_ih_l0": Wx.t().clone(), "weight_hh_l0": Wh.t().clone(),
                "bias_ih_l0": b.clone(), "bias_hh_l0": torch.zeros_like(b)}


class LSTMRecurrence(torch.autograd.Function):
    """Eq. (4)-(9) over a whole sequence with a hand-written backward pass (BPTT).

    forward(x (T, B, D), h0 (B, H), c0 (B, H), Wx (D, 4H), Wh (H, 4H), b (4H,)) -> hs (T, B, H), c_T (B, H).
    Time-major x. The gate blocks come in the order i, f, o, g, and the candidate block (of Wx, Wh
    and b) is scaled by 2: since tanh(a) = 2 sigmoid(2a) - 1, one sigmoid over all four blocks then
    gives i, f, o and g (torch's tanh is several times slower than its sigmoid on the CPU); tanh(c_t)
    is computed the same way. The input projections of all steps are one matrix product, written
    into the buffer that then receives the gates step by step. The backward pass is eq. (12)-(18) of
    notebook 03: one (B, 4H) x (4H, H) product per step; dWx, dWh, db as one product each afterwards.
    """

    @staticmethod
    def forward(ctx, x, h0, c0, Wx, Wh, b):
        (T, B, D), H = x.shape, Wh.shape[0]
        sigmoids = torch.addmm(b, x.reshape(T * B, D), Wx).view(T, B, 4 * H)  # x_t Wx + b, then gates
        gs = x.new_empty(T, B, H)                    # candidate g_t = tanh(a_g)
        cs = x.new_empty(T + 1, B, H)                # c_0 ... c_T
        tanh_cs = x.new_empty(T, B, H)
        hs = x.new_empty(T, B, H)
        cs[0] = c0
        h = h0
        for s, g, c_prev, c, tanh_c, h_out in zip(sigmoids.unbind(0), gs.unbind(0), cs[:-1].unbind(0),
                                                  cs[1:].unbind(0), tanh_cs.unbind(0), hs.unbind(0)):
            s.addmm_(h, Wh).sigmoid_()
            i, f, o, s_g = s.split(H, dim=1)
            torch.mul(s_g, 2.0, out=g).sub_(1.0)
            torch.mul(f, c_prev, out=c).addcmul_(i, g)
            torch.mul(c, 2.0, out=tanh_c).sigmoid_().mul_(2.0).sub_(1.0)
            h = torch.mul(o, tanh_c, out=h_out)
        ctx.save_for_backward(x, h0, Wx, Wh, sigmoids, gs, cs, tanh_cs, hs)
        return hs, cs[T].clone()

    @staticmethod
    def backward(ctx, dhs, dc_T):
        x, h0, Wx, Wh, sigmoids, gs, cs, tanh_cs, hs = ctx.saved_tensors
        (T, B, D), H = x.shape, Wh.shape[0]
        da = torch.empty_like(sigmoids)              # gradients of the (scaled) pre-activations
        ds = x.new_empty(B, 4 * H)                   # gradients of one step's sigmoid outputs
        ds_i, ds_f, ds_o, ds_g = ds.split(H, dim=1)
        Wh_t = Wh.t()
        dh = torch.zeros_like(h0)
        dc = dc_T
        for t in reversed(range(T)):
            s, tanh_c = sigmoids[t], tanh_cs[t]
            i, f, o, _ = s.split(H, dim=1)
            dh = dhs[t] + dh                                          # dL/dh_t, eq. (12)
            torch.mul(dh, tanh_c, out=ds_o)                           # eq. (14)
            dc = dc + torch.ops.aten.tanh_backward(dh * o, tanh_c)    # eq. (13)
            torch.mul(dc, gs[t], out=ds_i)
            torch.mul(dc, cs[t], out=ds_f)                            # cs[t] = c_{t-1}
            torch.mul(dc, i, out=ds_g).mul_(2.0)                      # dL/dsigmoid(2 a_g) = 2 dL/dg
            dc = dc * f
            torch.ops.aten.sigmoid_backward.grad_input(ds, s, grad_input=da[t])     # eq. (15)
            if t > 0 or ctx.needs_input_grad[1]:
                dh = torch.mm(da[t], Wh_t)
        da_rows = da.view(T * B, 4 * H)
        dx = torch.mm(da_rows, Wx.t()).view(T, B, D) if ctx.needs_input_grad[0] else None   # eq. (17)
        dWx = torch.mm(x.reshape(T * B, D).t(), da_rows)                                    # eq. (16)
        dWh = torch.mm(h0.t(), da[0]).addmm_(hs[:-1].reshape(-1, H).t(), da[1:].reshape(-1, 4 * H))
        dh0 = dh if ctx.needs_input_grad[1] else None
        return dx, dh0, dc, dWx, dWh, da_rows.sum(0)                                        # dh, dc: eq. (18)


class FastLSTM(LSTM):
    """`LSTM` with the same parameters and the same function, computed faster (use it for training).

    The gate matrices are concatenated once per call and `LSTMRecurrence` runs the whole sequence
    with a hand-written backward pass. `last_step_output` reads out the last step only (for a loss
    on the last step, such as the palindrome task's).
    """

    def hidden_states(self, x, state=None):
        """x (B, T, D), state None or (h0, c0) -> hs (T, B, H) time-major, (h_T, c_T) each (B, H)."""
        x = checked_sequence("x", x, self.input_size, self.W_ph)
        h0, c0 = self.initial_state(x, state)
        H = self.hidden_size
        Wx, Wh, b = fused_gate_weights(self, "ifog")
        scale = torch.ones(4 * H, dtype=x.dtype, device=x.device)
        scale[3 * H:] = 2.0                                            # candidate block, see LSTMRecurrence
        hs, c = LSTMRecurrence.apply(x.transpose(0, 1), h0, c0, Wx * scale, Wh * scale, b * scale)
        return hs, (hs[-1], c)

    def forward(self, x, state=None):
        """x (B, T, D), state None or (h0, c0) -> p (B, T, O), (h_T, c_T) each (B, H)."""
        hs, state = self.hidden_states(x, state)
        return torch.matmul(hs.transpose(0, 1), self.W_ph) + self.b_p, state   # eq. (10), (B, T, O)

    def last_step_output(self, x, state=None):
        """x (B, T, D), state None or (h0, c0) -> p_T (B, O) (eq. 10 at the last step only), (h_T, c_T)."""
        hs, state = self.hidden_states(x, state)
        return torch.addmm(self.b_p, hs[-1], self.W_ph), state
