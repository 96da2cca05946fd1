"""The Elman RNN of seed 004 (eq. 1-2) in PyTorch from scratch: `nn.Parameter` and tensor ops only.

Row-vector convention, batch first: x (B, T, D), h (B, H), p (B, T, O) with
h_t = tanh(x_t @ W_hx + h_{t-1} @ W_hh + b_h) and p_t = h_t @ W_ph + b_p.
(B is the batch, written N in the NumPy code.)
"""
from __future__ import annotations

import math

import torch
from torch import nn

from helpers import validate


def _as_tensor(name: str, value, like: torch.Tensor) -> torch.Tensor:
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
        self.W_hx = nn.Parameter(torch.empty(D, H))
        self.W_hh = nn.Parameter(torch.empty(H, H))
        self.b_h = nn.Parameter(torch.empty(H))
        self.W_ph = nn.Parameter(torch.empty(H, O))
        self.b_p = nn.Parameter(torch.empty(O))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw every parameter uniformly from [-1/sqrt(H), 1/sqrt(H)] (torch's global generator)."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        with torch.no_grad():
            for parameter in self.parameters():
                parameter.uniform_(-bound, bound)

    def forward(self, x, h0=None):
        """x (B, T, D), h0 (B, H) or None (zeros) -> p (B, T, O), h_T (B, H)."""
        x = checked_sequence("x", x, self.input_size, self.W_hx)
        B = x.shape[0]
        if h0 is None:
            h = x.new_zeros(B, self.hidden_size)
        else:
            h = checked_state("h0", h0, B, self.hidden_size, self.W_hx)
        # Input projections of all steps in one matmul, read step by step with unbind (eq. 1).
        input_part = torch.matmul(x, self.W_hx) + self.b_h
        hs = []
        for input_t in input_part.unbind(1):
            h = torch.tanh(torch.addmm(input_t, h, self.W_hh))
            hs.append(h)
        p = torch.matmul(torch.stack(hs, dim=1), self.W_ph) + self.b_p  # eq. (2) for all steps
        return p, h

