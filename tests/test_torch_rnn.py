"""helpers.torch_rnn.ElmanRNN: equal to the NumPy code (forward and gradients) and to torch.nn.RNN, bad input.

Tolerance: norm-relative error <= 1e-12 in float64 (DESIGN.md section 2).
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from helpers.gradcheck import check
from helpers.numpy_rnn import rnn_backward, rnn_forward
from helpers.torch_rnn import ElmanRNN

B, T, D, H, O = 3, 6, 4, 5, 2
TOLERANCE = 1e-12


def model_float64(seed=0) -> ElmanRNN:
    torch.manual_seed(seed)
    return ElmanRNN(D, H, O).double()


def inputs(seed=1):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((B, T, D)), rng.standard_normal((B, H))


def test_parameters_are_named_after_the_equations_and_nothing_else_is_inside():
    model = ElmanRNN(D, H, O)
    shapes = {name: tuple(p.shape) for name, p in model.named_parameters()}
    assert shapes == {"W_hx": (D, H), "W_hh": (H, H), "b_h": (H,), "W_ph": (H, O), "b_p": (O,)}
    assert list(model.children()) == []  # tensor ops only: no nn.RNN / nn.Linear inside


def test_initialisation_is_uniform_within_torch_bounds_and_seeded():
    torch.manual_seed(3)
    first = ElmanRNN(D, 64, O)
    torch.manual_seed(3)
    second = ElmanRNN(D, 64, O)
    bound = 1 / math.sqrt(64)
    for (name, a), b in zip(first.named_parameters(), second.parameters()):
        assert torch.equal(a, b), name
        assert a.abs().max() <= bound and a.abs().max() > 0.5 * bound, name


def test_forward_and_gradients_equal_the_numpy_code():
    model = model_float64()
    x_np, h0_np = inputs()
    dp = np.random.default_rng(2).standard_normal((B, T, O))
    x = torch.from_numpy(x_np).requires_grad_()
    h0 = torch.from_numpy(h0_np).requires_grad_()
    p, h_T = model(x, h0)
    p.backward(torch.from_numpy(dp))

    W = {name: param.detach().numpy() for name, param in model.named_parameters()}
    h, cache = rnn_forward(x_np, h0_np, W["W_hx"], W["W_hh"], W["b_h"])
    p_np = h @ W["W_ph"] + W["b_p"]
    dx, dh0, dWx, dWh, db = rnn_backward(dp @ W["W_ph"].T, cache)
    grads = {name: param.grad.numpy() for name, param in model.named_parameters()}
    check({"p": (p.detach().numpy(), p_np), "h_T": (h_T.detach().numpy(), h[:, -1]),
           "x": (x.grad.numpy(), dx), "h0": (h0.grad.numpy(), dh0),
           "W_hx": (grads["W_hx"], dWx), "W_hh": (grads["W_hh"], dWh), "b_h": (grads["b_h"], db),
           "W_ph": (grads["W_ph"], np.einsum("bth,bto->ho", h, dp)), "b_p": (grads["b_p"], dp.sum(axis=(0, 1)))},
          TOLERANCE)


def test_hidden_states_equal_torch_nn_rnn():
    model = model_float64(seed=4)
    oracle = torch.nn.RNN(D, H, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        oracle.weight_ih_l0.copy_(model.W_hx.T)
        oracle.weight_hh_l0.copy_(model.W_hh.T)
        oracle.bias_ih_l0.copy_(model.b_h)
        oracle.bias_hh_l0.zero_()
        x_np, h0_np = inputs(seed=5)
        x, h0 = torch.from_numpy(x_np), torch.from_numpy(h0_np)
        states, h_last = oracle(x, h0[None])
        p, h_T = model(x, h0)
        p_oracle = states @ model.W_ph + model.b_p
    check({"p": (p.numpy(), p_oracle.numpy()),
           "h_T": (h_T.numpy(), h_last[0].numpy())}, TOLERANCE)


def test_missing_initial_state_means_zeros_and_inputs_follow_the_parameters():
    model = model_float64(seed=6)
    x_np, _ = inputs(seed=7)
    p_default, h_default = model(x_np)  # NumPy input is accepted and converted
    p_zero, h_zero = model(torch.from_numpy(x_np), torch.zeros(B, H, dtype=torch.float64))
    assert p_default.dtype == torch.float64 and torch.equal(p_default, p_zero) and torch.equal(h_default, h_zero)
    model32 = model_float64(seed=6).float()
    p32, _ = model32(torch.from_numpy(x_np))  # float64 data meets a float32 model
    assert p32.dtype == torch.float32 and p32.shape == (B, T, O)
    assert torch.allclose(p32.double(), p_default, atol=1e-5)


def test_final_state_continues_the_sequence():
    model = model_float64(seed=8)
    x_np, h0_np = inputs(seed=9)
    x = torch.from_numpy(x_np)
    p_whole, h_whole = model(x, torch.from_numpy(h0_np))
    p_first, h_mid = model(x[:, :2], torch.from_numpy(h0_np))
    p_rest, h_end = model(x[:, 2:], h_mid)
    check({"p": (torch.cat([p_first, p_rest], 1).detach().numpy(), p_whole.detach().numpy()),
           "h_T": (h_end.detach().numpy(), h_whole.detach().numpy())}, TOLERANCE)


@pytest.mark.parametrize("arguments, name, error", [
    ((0, H, O), "input_size", ValueError), ((D, 2.0, O), "hidden_size", TypeError),
    ((D, H, -3), "output_size", ValueError)])
def test_constructor_rejects_bad_sizes(arguments, name, error):
    with pytest.raises(error, match=name):
        ElmanRNN(*arguments)


@pytest.mark.parametrize("x, h0, name", [
    (torch.zeros(T, D), None, "x"), (torch.zeros(B, T, D + 1), None, "x"), (torch.zeros(B, 0, D), None, "x"),
    (torch.full((B, T, D), float("nan")), None, "x"), (torch.zeros(B, T, D), torch.zeros(B, H + 1), "h0"),
    (torch.zeros(B, T, D), torch.zeros(H), "h0"), (torch.zeros(B, T, D), torch.full((B, H), float("inf")), "h0")],
    ids=["2d x", "wrong D", "no steps", "nan x", "wrong H", "unbatched h0", "inf h0"])
def test_forward_rejects_bad_input(x, h0, name):
    with pytest.raises(ValueError, match=name):
        ElmanRNN(D, H, O)(x, h0)
