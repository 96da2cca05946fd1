"""The Elman RNN of seed 004 (eq. 1-2) in PyTorch from scratch: `nn.Parameter` and tensor ops only.

Row-vector convention, batch first: x (B, T, D), h (B, H), p (B, T, O) with
h_t = tanh(x_t @ W_hx + h_{t-1} @ W_hh + b_h) and p_t = h_t @ W_ph + b_p.
(B is the batch, written N in the NumPy code.)

- `ElmanRNN`: the teaching copy (notebook 02), autograd does the backward pass.
- `FastElmanRNN`: the same parameters (the state dicts are interchangeable) and the same function,
  computed with a hand-written backward pass through time (`ElmanRecurrence`). Use it for training.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from helpers import validate


def _as_tensor(name: str, value, like: torch.Tensor) -> torch.Tensor:
    validate.real_valued(name, value)  # casting would drop the imaginary part
    if isinstance(value, torch.Tensor):
        return value.to(dtype=like.dtype, device=like.device)
    try:
        return torch.tensor(value, dtype=like.dtype, device=like.device)
    except (TypeError, ValueError, RuntimeError):
        validate.fail(name, "a numeric tensor or array", value, TypeError)


def checked_sequence(name: str, x, size: int, like: torch.Tensor) -> torch.Tensor:
    """`x` as a finite (B, T, size) tensor with at least one step, on `like`'s device and dtype.

    Tensors are moved (autograd sees the conversion); anything else (NumPy arrays, lists) is copied.
    """
    x = _as_tensor(name, x, like)
    if x.dim() != 3 or x.shape[1] == 0 or x.shape[2] != size:
        validate.fail(name, f"a (B, T, {size}) tensor with T >= 1", x)
    if not torch.isfinite(x).all():
        validate.fail(name, "finite values", x)
    return x


def checked_state(name: str, h, batch: int, size: int, like: torch.Tensor) -> torch.Tensor:
    """`h` as a finite (batch, size) tensor on `like`'s device and dtype (converted as in `checked_sequence`)."""
    h = _as_tensor(name, h, like)
    if tuple(h.shape) != (batch, size):
        validate.fail(name, f"a ({batch}, {size}) tensor", h)
    if not torch.isfinite(h).all():
        validate.fail(name, "finite values", h)
    return h


class ElmanRNN(nn.Module):
    """Elman RNN with a linear read-out: forward(x (B, T, D), h0 (B, H) or None) -> p (B, T, O), h_T (B, H).

    Parameters (row-vector forms of eq. 1-2): W_hx (D, H), W_hh (H, H), b_h (H,), W_ph (H, O),
    b_p (O,), initialised uniformly in [-1/sqrt(H), 1/sqrt(H)] like `torch.nn.RNN`. Inputs are moved
    to the parameters' device and dtype.
    """

    def __init__(self, input_size: int, hidden_size: int, output_size: int):
        super().__init__()
        self.input_size = validate.positive_int("input_size", input_size)
        self.hidden_size = validate.positive_int("hidden_size", hidden_size)
        self.output_size = validate.positive_int("output_size", output_size)
        D, H, O = self.input_size, self.hidden_size, self.output_size
        ### BEGIN SOLUTION implement ElmanRNN.__init__: nn.Parameter W_hx (D, H), W_hh (H, H), b_h (H,), W_ph (H, O), b_p (O,) (eq. 1-2)
        self.W_hx = nn.Parameter(torch.empty(D, H))
        self.W_hh = nn.Parameter(torch.empty(H, H))
        self.b_h = nn.Parameter(torch.empty(H))
        self.W_ph = nn.Parameter(torch.empty(H, O))
        self.b_p = nn.Parameter(torch.empty(O))
        ### END SOLUTION
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw every parameter uniformly from [-1/sqrt(H), 1/sqrt(H)] (torch's global generator)."""
        ### BEGIN SOLUTION implement ElmanRNN.reset_parameters: every parameter uniform in [-1/sqrt(H), 1/sqrt(H)] (eq. 1-2)
        bound = 1.0 / math.sqrt(self.hidden_size)
        with torch.no_grad():
            for parameter in self.parameters():
                parameter.uniform_(-bound, bound)
        ### END SOLUTION

    def forward(self, x, h0=None):
        """x (B, T, D), h0 (B, H) or None (zeros) -> p (B, T, O), h_T (B, H)."""
        x = checked_sequence("x", x, self.input_size, self.W_hx)
        B = x.shape[0]
        if h0 is None:
            h = x.new_zeros(B, self.hidden_size)
        else:
            h = checked_state("h0", h0, B, self.hidden_size, self.W_hx)
        ### BEGIN SOLUTION implement ElmanRNN.forward: h_t = tanh(x_t W_hx + h_(t-1) W_hh + b_h) step by step, p_t = h_t W_ph + b_p, without nn.RNN / nn.Linear (eq. 1-2)
        # Input projections of all steps in one matmul, read step by step with unbind (eq. 1).
        input_part = torch.matmul(x, self.W_hx) + self.b_h
        hs = []
        for input_t in input_part.unbind(1):
            h = torch.tanh(torch.addmm(input_t, h, self.W_hh))
            hs.append(h)
        p = torch.matmul(torch.stack(hs, dim=1), self.W_ph) + self.b_p  # eq. (2) for all steps
        return p, h
        ### END SOLUTION


class ElmanRecurrence(torch.autograd.Function):
    """Eq. (1) over a whole sequence with a hand-written backward pass (BPTT, eq. 6-10 of notebook 02).

    forward(x (T, B, D), h0 (B, H), W_hx (D, H), W_hh (H, H), b_h (H,)) -> hs (T, B, H), time-major.
    torch's tanh is several times slower than its sigmoid on the CPU, and tanh(a) = 2 sigmoid(2a) - 1,
    so the loop carries u_t = h_t / 2 = sigmoid(2 a_t) - 1/2 with 2 a_t = 2 (x_t W_hx + b_h) + u_{t-1} (4 W_hh):
    the input parts of all steps are one matrix product into a buffer, and each step updates its slice
    of that buffer in place (addmm_, sigmoid_, sub_); at the end the buffer is doubled into hs.
    Backward: eps_t = (1 - h_t^2) * (dhs_t + eps_{t+1} W_hh^T) with dhs_t the gradient arriving at the output
    h_t: one product and one fused `tanh_backward` per step; the gradients of W_hx, W_hh, b_h and x are one
    product (or sum) each afterwards.
    """

    @staticmethod
    def forward(ctx, x, h0, W_hx, W_hh, b_h):
        (T, B, D), H = x.shape, W_hh.shape[0]
        x_rows = x.reshape(T * B, D)
        buffer = torch.addmm(b_h, x_rows, W_hx, beta=2.0, alpha=2.0).view(T, B, H)   # 2 (x_t W_hx + b_h)
        W_4 = W_hh * 4.0
        u = h0 * 0.5
        for step in buffer.unbind(0):
            u = step.addmm_(u, W_4).sigmoid_().sub_(0.5)                             # h_t / 2
        hs = buffer.mul_(2.0)
        ctx.save_for_backward(x_rows, h0, W_hx, W_hh, hs)
        return hs

    @staticmethod
    def backward(ctx, dhs):
        x_rows, h0, W_hx, W_hh, hs = ctx.saved_tensors
        (T, B, H), D = hs.shape, W_hx.shape[0]
        eps = dhs.clone(memory_format=torch.contiguous_format)    # dL/dh_t from the outputs, then eps_t
        W_hh_t = W_hh.t()
        eps_next = None
        for eps_t, h_t in zip(reversed(eps.unbind(0)), reversed(hs.unbind(0))):
            if eps_next is not None:
                eps_t.addmm_(eps_next, W_hh_t)                                       # eq. (7)
            torch.ops.aten.tanh_backward.grad_input(eps_t, h_t, grad_input=eps_t)   # eq. (6)
            eps_next = eps_t
        eps_rows = eps.view(T * B, H)
        dx = torch.mm(W_hx, eps_rows.t()).t().view(T, B, D) if ctx.needs_input_grad[0] else None   # eq. (10)
        dh0 = torch.mm(eps[0], W_hh_t) if ctx.needs_input_grad[1] else None                        # eq. (10)
        dW_hh = torch.mm(h0.t(), eps[0]).addmm_(hs[:-1].reshape(-1, H).t(), eps[1:].reshape(-1, H))  # eq. (8)
        dW_hx = torch.mm(x_rows.t(), eps_rows)                                                     # eq. (9)
        return dx, dh0, dW_hx, dW_hh, eps_rows.sum(0)


class FastElmanRNN(ElmanRNN):
    """`ElmanRNN` with the same parameters and the same function, computed faster (use it for training).

    forward(x (B, T, D), h0 (B, H) or None) -> p (B, T, O), h_T (B, H): `ElmanRecurrence` runs the
    whole sequence, then one product gives the read-out of every step. `last_step_output` reads out
    the last step only (for a loss on the last step, such as the palindrome task's).
    """

    def hidden_states(self, x, h0=None) -> torch.Tensor:
        """x (B, T, D), h0 (B, H) or None (zeros) -> hs (T, B, H), time-major."""
        x = checked_sequence("x", x, self.input_size, self.W_hx)
        (B, T, _), H = x.shape, self.hidden_size
        h0 = x.new_zeros(B, H) if h0 is None else checked_state("h0", h0, B, H, self.W_hx)
        return ElmanRecurrence.apply(x.transpose(0, 1), h0, self.W_hx, self.W_hh, self.b_h)

    def forward(self, x, h0=None):
        """x (B, T, D), h0 (B, H) or None (zeros) -> p (B, T, O), h_T (B, H)."""
        hs = self.hidden_states(x, h0)
        T, B, H = hs.shape
        p = torch.addmm(self.b_p, hs.view(T * B, H), self.W_ph).view(T, B, self.output_size)  # eq. (2)
        return p.transpose(0, 1).contiguous(), hs[-1]

    def last_step_output(self, x, h0=None):
        """x (B, T, D), h0 (B, H) or None (zeros) -> p_T (B, O) (eq. 2 at the last step only), h_T (B, H)."""
        hs = self.hidden_states(x, h0)
        return torch.addmm(self.b_p, hs[-1], self.W_ph), hs[-1]
