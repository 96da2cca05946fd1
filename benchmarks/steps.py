"""One training step (forward + backward) of each recurrent implementation, as a zero-argument callable.

Every step computes the same thing: a recurrent layer over x (B, T, D), a linear read-out to one
output per step, the mean squared error against a fixed target, and the gradients of all parameters
(the NumPy steps: of all weights, through the batched `*_backward` functions). No optimizer update.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from helpers import numpy_lstm, numpy_rnn
from helpers.torch_lstm import FastLSTM
from helpers.torch_rnn import ElmanRNN, FastElmanRNN

OUTPUT_SIZE = 1


def torch_data(B: int, T: int, D: int, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(B, T, D, generator=generator), torch.randn(B, T, OUTPUT_SIZE, generator=generator)


def from_scratch_step(model: nn.Module, x: torch.Tensor, y: torch.Tensor):
    """Step of a from-scratch model whose forward returns (p (B, T, 1), state)."""
    def step():
        model.zero_grad(set_to_none=True)
        p, _ = model(x)
        ((p - y) ** 2).mean().backward()
    return step


def torch_nn_step(layer: nn.Module, x: torch.Tensor, y: torch.Tensor):
    """Step of torch.nn.LSTM / torch.nn.RNN with the same kind of read-out as the from-scratch models."""
    hidden = layer.hidden_size
    W_ph = nn.Parameter(torch.randn(hidden, OUTPUT_SIZE) / hidden ** 0.5)
    b_p = nn.Parameter(torch.zeros(OUTPUT_SIZE))

    def step():
        layer.zero_grad(set_to_none=True)
        W_ph.grad = b_p.grad = None
        out, _ = layer(x)
        ((out @ W_ph + b_p - y) ** 2).mean().backward()
    return step


def numpy_step(kind: str, B: int, T: int, D: int, H: int, dtype, seed: int = 0):
    """Step of the batched NumPy code (`lstm_*` or `rnn_*`) in `dtype`, with the read-out done by hand."""
    rng = np.random.default_rng(seed)
    gates = 4 if kind == "lstm" else 1
    x = rng.standard_normal((B, T, D)).astype(dtype)
    y = rng.standard_normal((B, T, OUTPUT_SIZE)).astype(dtype)
    h0 = np.zeros((B, H), dtype)
    scale = 1.0 / np.sqrt(H)
    Wx = rng.uniform(-scale, scale, (D, gates * H)).astype(dtype)
    Wh = rng.uniform(-scale, scale, (H, gates * H)).astype(dtype)
    b = np.zeros(gates * H, dtype)
    W_ph = rng.uniform(-scale, scale, (H, OUTPUT_SIZE)).astype(dtype)
    forward, backward = ((numpy_lstm.lstm_forward, numpy_lstm.lstm_backward) if kind == "lstm"
                         else (numpy_rnn.rnn_forward, numpy_rnn.rnn_backward))

    def step():
        h, cache = forward(x, h0, Wx, Wh, b)
        dp = (2.0 / y.size) * (h @ W_ph - y)            # gradient of the mean squared error
        dW_ph = h.reshape(-1, H).T @ dp.reshape(-1, OUTPUT_SIZE)
        backward(dp @ W_ph.T, cache)
        return dW_ph
    return step


def all_steps(B: int, T: int, D: int, H: int) -> dict[str, tuple[str, callable]]:
    """name -> (reference name, step): the rows of the benchmark table for one sequence length."""
    torch.manual_seed(0)
    x, y = torch_data(B, T, D)
    return {
        "torch.nn.LSTM": ("torch.nn.LSTM", torch_nn_step(nn.LSTM(D, H, batch_first=True), x, y)),
        "FastLSTM (from scratch)": ("torch.nn.LSTM", from_scratch_step(FastLSTM(D, H, OUTPUT_SIZE), x, y)),
        "NumPy LSTM float64": ("torch.nn.LSTM", numpy_step("lstm", B, T, D, H, np.float64)),
        "NumPy LSTM float32": ("torch.nn.LSTM", numpy_step("lstm", B, T, D, H, np.float32)),
        "torch.nn.RNN": ("torch.nn.RNN", torch_nn_step(nn.RNN(D, H, batch_first=True), x, y)),
        "FastElmanRNN (from scratch)": ("torch.nn.RNN", from_scratch_step(FastElmanRNN(D, H, OUTPUT_SIZE), x, y)),
        "ElmanRNN (teaching copy)": ("torch.nn.RNN", from_scratch_step(ElmanRNN(D, H, OUTPUT_SIZE), x, y)),
        "NumPy RNN float64": ("torch.nn.RNN", numpy_step("rnn", B, T, D, H, np.float64)),
        "NumPy RNN float32": ("torch.nn.RNN", numpy_step("rnn", B, T, D, H, np.float32)),
    }
