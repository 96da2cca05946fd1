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

    forward(x (T, B, D), h0 (B, H), c0 (B, H), Wx (D, 4H), Wh (H, 4H), b (4H,))
    -> hs (T, B, H), h_T (B, H), c_T (B, H). Time-major x; the gate blocks of Wx, Wh and b come in
    the order i, f, o, g (`fused_gate_weights(model, "ifog")`). hs[-1] equals h_T, which is returned
    on its own so that a loss on the last step leaves hs without a gradient. When no input needs a
    gradient (evaluation under `torch.no_grad()`), the gates of each step are computed in the same
    buffers and nothing is kept for backward: the same numbers at a fraction of the memory.

    Each step is one product z_t W of the row z_t = [h_{t-1}, x_t, 1] (B, H+D+1) with
    W = [Wh; Wx; b] (H+D+1, 4H); the rows of all steps share one buffer, into which each step writes
    its h_t. The candidate columns of W are scaled by 2: since tanh(a) = 2 sigmoid(2a) - 1, one
    sigmoid over all four blocks then gives i, f, o and g (on some CPUs torch's tanh is several
    times slower than its sigmoid); tanh(c_t) is computed the same way. The backward pass is
    eq. (12)-(18) of notebook 03: one (B, 4H) x (4H, H) product per step, and
    [dWh; dWx; db] = [z_0 ... z_{T-1}]^T [da_1 ... da_T] as one product after the loop.
    """

    @staticmethod
    def forward(ctx, x, h0, c0, Wx, Wh, b):
        (T, B, D), H = x.shape, Wh.shape[0]
        W = torch.cat((Wh, Wx, b.unsqueeze(0)))      # (H + D + 1, 4H)
        W[:, 3 * H:] *= 2.0                          # candidate block: a_g -> 2 a_g
        z = x.new_empty(T + 1, B, H + D + 1)         # z_t = [h_{t-1}, x_t, 1]; z_T[:, :H] = h_T
        z[0, :, :H] = h0
        z[:T, :, H:H + D] = x
        z[T, :, H:H + D] = 0.0
        z[:, :, H + D] = 1.0
        kept = T if any(ctx.needs_input_grad) else 1     # steps whose gates stay for backward (none in eval)
        sigmoids = x.new_empty(kept, B, 4 * H)       # i, f, o and sigmoid(2 a_g) of every step
        gs = x.new_empty(kept, B, H)                 # candidate g_t = tanh(a_g)
        cs = x.new_empty(kept + 1, B, H)             # c_0 ... c_T (in evaluation: two slots, in turn)
        tanh_cs = x.new_empty(kept, B, H)
        cs[0] = c0
        two, minus_one = x.new_tensor(2.0), x.new_tensor(-1.0)     # 0-dim: no scalar conversion per op
        step_sigmoids, step_gs, step_cs, step_tanh_cs = (buffer.unbind(0) for buffer in (sigmoids, gs, cs, tanh_cs))
        gates = [s.split(H, dim=1) for s in step_sigmoids]
        for t, (z_in, z_out) in enumerate(zip(z[:-1].unbind(0), z[1:].unbind(0))):
            k = t % kept                             # t, or 0 when nothing is kept
            s, g, tanh_c, (i, f, o, s_g) = step_sigmoids[k], step_gs[k], step_tanh_cs[k], gates[k]
            c_previous, c = step_cs[t % (kept + 1)], step_cs[(t + 1) % (kept + 1)]
            torch.mm(z_in, W, out=s).sigmoid_()
            torch.add(minus_one, s_g, alpha=2.0, out=g)               # eq. (4): 2 sigmoid(2 a_g) - 1
            torch.mul(f, c_previous, out=c).addcmul_(i, g)            # eq. (8)
            torch.mul(c, two, out=tanh_c).sigmoid_()
            torch.add(minus_one, tanh_c, alpha=2.0, out=tanh_c)
            torch.mul(o, tanh_c, out=z_out[:, :H])                    # eq. (9)
        ctx.set_materialize_grads(False)
        if kept == T:
            ctx.save_for_backward(W, z, sigmoids, gs, cs, tanh_cs)
        hs = z[1:, :, :H]
        return hs, hs[-1].clone(), cs[T % (kept + 1)].clone()

    @staticmethod
    def backward(ctx, dhs, dh_T, dc_T):
        W, z, sigmoids, gs, cs, tanh_cs = ctx.saved_tensors
        (T, B, K), H = z[1:].shape, gs.shape[2]
        D = K - H - 1
        da = torch.empty_like(sigmoids)              # gradients of the (scaled) pre-activations
        ds = z.new_empty(B, 4 * H)                   # gradients of one step's sigmoid outputs
        ds_i, ds_f, ds_o, ds_g = ds.split(H, dim=1)
        dh_c = z.new_empty(B, H)                     # the part of dL/dc_t that comes through h_t
        dh = z.new_zeros(B, H) if dh_T is None else dh_T.clone()
        dc = z.new_zeros(B, H) if dc_T is None else dc_T.clone()
        Wh_t = W[:H].t().contiguous()                # (4H, H); contiguous: faster products
        i, f, o, _ = (gate.unbind(0) for gate in sigmoids.split(H, dim=2))
        for t in reversed(range(T)):
            tanh_c = tanh_cs[t]
            if dhs is not None:
                dh.add_(dhs[t])                                       # dL/dh_t, eq. (12)
            torch.mul(dh, tanh_c, out=ds_o)                           # eq. (14)
            torch.mul(dh, o[t], out=dh_c)
            dc.add_(torch.ops.aten.tanh_backward.grad_input(dh_c, tanh_c, grad_input=dh_c))   # eq. (13)
            torch.mul(dc, gs[t], out=ds_i)
            torch.mul(dc, cs[t], out=ds_f)                            # cs[t] = c_{t-1}
            torch.mul(dc, i[t], out=ds_g).mul_(2.0)                   # dL/dsigmoid(2 a_g) = 2 dL/dg
            dc.mul_(f[t])
            torch.ops.aten.sigmoid_backward.grad_input(ds, sigmoids[t], grad_input=da[t])     # eq. (15)
            if t > 0 or ctx.needs_input_grad[1]:
                torch.mm(da[t], Wh_t, out=dh)
        da_rows = da.view(T * B, 4 * H)
        dW = torch.mm(z[:T].reshape(T * B, K).t(), da_rows)                                 # eq. (16)
        dW[:, 3 * H:] *= 2.0                                                                # back to the unscaled a_g
        dx = torch.mm(da_rows, W[H:H + D].t()).view(T, B, D) if ctx.needs_input_grad[0] else None   # eq. (17)
        dh0 = dh if ctx.needs_input_grad[1] else None
        dc0 = dc if ctx.needs_input_grad[2] else None
        return dx, dh0, dc0, dW[H:H + D], dW[:H], dW[H + D]                                 # dh, dc: eq. (18)


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
        hs, h, c = LSTMRecurrence.apply(x.transpose(0, 1), h0, c0, *fused_gate_weights(self, "ifog"))
        return hs, (h, c)

    def forward(self, x, state=None):
        """x (B, T, D), state None or (h0, c0) -> p (B, T, O), (h_T, c_T) each (B, H)."""
        hs, state = self.hidden_states(x, state)
        return torch.matmul(hs.transpose(0, 1), self.W_ph) + self.b_p, state   # eq. (10), (B, T, O)

    def last_step_output(self, x, state=None):
        """x (B, T, D), state None or (h0, c0) -> p_T (B, O) (eq. 10 at the last step only), (h_T, c_T)."""
        _, state = self.hidden_states(x, state)
        return torch.addmm(self.b_p, state[0], self.W_ph), state
