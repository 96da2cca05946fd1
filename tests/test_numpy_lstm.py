"""helpers.numpy_lstm: finite differences on every input and parameter, torch.nn.LSTM as an oracle, bad input."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers.gradcheck import check, numerical_gradient_array, rel_error
from helpers.numpy_lstm import (lstm_backward, lstm_forward, lstm_step_backward, lstm_step_forward,
                                sigmoid)

N, T, D, H = 3, 4, 5, 4
GATE_BLOCKS = {"i": slice(0, H), "f": slice(H, 2 * H), "g": slice(2 * H, 3 * H), "o": slice(3 * H, 4 * H)}


def parameters(seed=0):
    """Non-symmetric float64 weights and states with gates neither saturated nor all alike."""
    rng = np.random.default_rng(seed)
    return {"x": rng.standard_normal((N, T, D)), "h0": rng.standard_normal((N, H)),
            "Wx": 0.4 * rng.standard_normal((D, 4 * H)), "Wh": 0.4 * rng.standard_normal((H, 4 * H)),
            "b": 0.3 * rng.standard_normal(4 * H), "c0": rng.standard_normal((N, H))}


def per_gate(name, analytic, numeric, axis):
    """Split a fused (.., 4H) gradient into its gate blocks so a failing row names the gate."""
    index = [slice(None)] * analytic.ndim
    pairs = {}
    for gate, block in GATE_BLOCKS.items():
        index[axis] = block
        pairs[f"{name}[{gate}]"] = (analytic[tuple(index)], numeric[tuple(index)])
    return pairs


def test_sigmoid_is_exact_and_never_overflows():
    a = np.array([-1000.0, -3.0, 0.0, 2.0, 1000.0])
    assert np.allclose(sigmoid(a[1:4]), 1.0 / (1.0 + np.exp(-a[1:4])), rtol=1e-15, atol=0)
    assert sigmoid(a)[0] == 0.0 and sigmoid(a)[-1] == 1.0


def test_step_gradients_match_finite_differences():
    p = parameters()
    x, prev_h, prev_c = p["x"][:, 0], p["h0"], p["c0"]
    rng = np.random.default_rng(1)
    dnext_h, dnext_c = rng.standard_normal((N, H)), rng.standard_normal((N, H))
    _, _, cache = lstm_step_forward(x, prev_h, prev_c, p["Wx"], p["Wh"], p["b"])
    dx, dprev_h, dprev_c, dWx, dWh, db = lstm_step_backward(dnext_h, dnext_c, cache)

    upstream = np.concatenate([dnext_h, dnext_c], axis=1)

    def both_outputs():
        next_h, next_c, _ = lstm_step_forward(x, prev_h, prev_c, p["Wx"], p["Wh"], p["b"])
        return np.concatenate([next_h, next_c], axis=1)

    def numeric(array):
        return numerical_gradient_array(both_outputs, array, upstream)

    pairs = {"x": (dx, numeric(x)), "prev_h": (dprev_h, numeric(prev_h)), "prev_c": (dprev_c, numeric(prev_c))}
    pairs.update(per_gate("Wx", dWx, numeric(p["Wx"]), axis=1))
    pairs.update(per_gate("Wh", dWh, numeric(p["Wh"]), axis=1))
    pairs.update(per_gate("b", db, numeric(p["b"]), axis=0))
    check(pairs, tolerance=1e-7)


def test_sequence_gradients_match_finite_differences_including_h0_and_c0():
    p = parameters()
    dh = np.random.default_rng(2).standard_normal((N, T, H))
    h, cache = lstm_forward(p["x"], p["h0"], p["Wx"], p["Wh"], p["b"], p["c0"])
    grads = dict(zip(["x", "h0", "Wx", "Wh", "b", "c0"], lstm_backward(dh, cache)))

    def numeric(name):
        return numerical_gradient_array(
            lambda: lstm_forward(p["x"], p["h0"], p["Wx"], p["Wh"], p["b"], p["c0"])[0], p[name], dh)

    pairs = {name: (grads[name], numeric(name)) for name in ("x", "h0", "c0")}
    pairs.update(per_gate("Wx", grads["Wx"], numeric("Wx"), axis=1))
    pairs.update(per_gate("Wh", grads["Wh"], numeric("Wh"), axis=1))
    pairs.update(per_gate("b", grads["b"], numeric("b"), axis=0))
    check(pairs, tolerance=1e-7)


def test_the_check_names_a_wrong_gate():
    """A forget-gate term with a wrong sign must fail, on the forget-gate rows."""
    p = parameters()
    dh = np.random.default_rng(2).standard_normal((N, T, H))
    h, cache = lstm_forward(p["x"], p["h0"], p["Wx"], p["Wh"], p["b"], p["c0"])
    dWx = lstm_backward(dh, cache)[2].copy()
    dWx[:, GATE_BLOCKS["f"]] *= -1
    numeric = numerical_gradient_array(
        lambda: lstm_forward(p["x"], p["h0"], p["Wx"], p["Wh"], p["b"], p["c0"])[0], p["Wx"], dh)
    with pytest.raises(AssertionError, match=r"Wx\[f\]"):
        check(per_gate("Wx", dWx, numeric, axis=1), tolerance=1e-7)


def nn_lstm_with(p):
    """A float64 torch.nn.LSTM carrying the fused weights (gate order i, f, g, o; transposed)."""
    lstm = torch.nn.LSTM(D, H, batch_first=True).double()
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(torch.from_numpy(p["Wx"].T))
        lstm.weight_hh_l0.copy_(torch.from_numpy(p["Wh"].T))
        lstm.bias_ih_l0.copy_(torch.from_numpy(p["b"]))
        lstm.bias_hh_l0.zero_()
    return lstm


def test_forward_and_gradients_equal_torch_nn_lstm():
    p = parameters(3)
    dh = np.random.default_rng(4).standard_normal((N, T, H))
    h, cache = lstm_forward(p["x"], p["h0"], p["Wx"], p["Wh"], p["b"], p["c0"])
    grads = dict(zip(["x", "h0", "Wx", "Wh", "b", "c0"], lstm_backward(dh, cache)))

    lstm = nn_lstm_with(p)
    x, h0, c0 = (torch.tensor(p[k], requires_grad=True) for k in ("x", "h0", "c0"))
    out, (h_T, c_T) = lstm(x, (h0.unsqueeze(0), c0.unsqueeze(0)))
    (out * torch.from_numpy(dh)).sum().backward()

    assert rel_error(h, out.detach()) <= 1e-10
    assert rel_error(cache[-1], c_T[0].detach()) <= 1e-10
    oracle = {"x": x.grad, "h0": h0.grad, "c0": c0.grad, "Wx": lstm.weight_ih_l0.grad.T,
              "Wh": lstm.weight_hh_l0.grad.T, "b": lstm.bias_ih_l0.grad}
    check({name: (grads[name], oracle[name].numpy()) for name in oracle}, tolerance=1e-12)


def test_default_c0_is_zero_and_float32_stays_float32():
    p = parameters()
    h_default, _ = lstm_forward(p["x"], p["h0"], p["Wx"], p["Wh"], p["b"])
    h_zero, _ = lstm_forward(p["x"], p["h0"], p["Wx"], p["Wh"], p["b"], np.zeros((N, H)))
    assert np.array_equal(h_default, h_zero)
    single = {k: v.astype(np.float32) for k, v in p.items()}
    h, cache = lstm_forward(single["x"], single["h0"], single["Wx"], single["Wh"], single["b"], single["c0"])
    grads = lstm_backward(np.ones((N, T, H), np.float32), cache)
    assert h.dtype == np.float32 and all(g.dtype == np.float32 for g in grads)
    assert rel_error(h, lstm_forward(p["x"], p["h0"], p["Wx"], p["Wh"], p["b"], p["c0"])[0]) < 1e-5


@pytest.mark.parametrize("change, error, name", [
    ({"x": np.zeros((N, D))}, ValueError, "x"),                         # missing the time axis
    ({"x": np.zeros((N, T, D + 1))}, ValueError, "x"),                  # wrong input size
    ({"x": np.full((N, T, D), np.nan)}, ValueError, "x"),               # not finite
    ({"x": "sequence"}, TypeError, "x"),                                # not numeric
    ({"h0": np.zeros((N + 1, H))}, ValueError, "h0"),                   # batch mismatch
    ({"c0": np.zeros((N, H + 1))}, ValueError, "c0"),
    ({"Wx": np.zeros((D, 4 * H + 1))}, ValueError, "Wx"),              # not four gate blocks
    ({"Wh": np.zeros((H, H))}, ValueError, "Wh"),                       # not fused
    ({"b": np.zeros(H)}, ValueError, "b"),
])
def test_forward_rejects_bad_input(change, error, name):
    p = {**parameters(), **change}
    with pytest.raises(error, match=name):
        lstm_forward(p["x"], p["h0"], p["Wx"], p["Wh"], p["b"], p["c0"])


def test_step_and_backward_reject_bad_input():
    p = parameters()
    with pytest.raises(ValueError, match="prev_c"):
        lstm_step_forward(p["x"][:, 0], p["h0"], np.zeros((N, H + 1)), p["Wx"], p["Wh"], p["b"])
    _, _, cache = lstm_step_forward(p["x"][:, 0], p["h0"], p["c0"], p["Wx"], p["Wh"], p["b"])
    with pytest.raises(ValueError, match="dnext_c"):
        lstm_step_backward(np.zeros((N, H)), np.zeros((N, H + 1)), cache)
    _, cache = lstm_forward(p["x"], p["h0"], p["Wx"], p["Wh"], p["b"])
    with pytest.raises(ValueError, match="dh"):
        lstm_backward(np.zeros((N, T + 1, H)), cache)
    with pytest.raises(ValueError, match="dh"):
        lstm_backward(np.full((N, T, H), np.inf), cache)



def test_integer_upstream_gradients_are_not_truncated():
    p = parameters()
    _, cache = lstm_forward(p["x"], p["h0"], p["Wx"], p["Wh"], p["b"], p["c0"])
    upstream = np.random.default_rng(1).integers(-2, 3, (N, T, H))
    from_int, from_float = lstm_backward(upstream, cache), lstm_backward(upstream.astype(float), cache)
    for a, b in zip(from_int, from_float):
        assert a.dtype == np.float64 and np.array_equal(a, b)
    _, _, step_cache = lstm_step_forward(p["x"][:, 0], p["h0"], p["c0"], p["Wx"], p["Wh"], p["b"])
    ones = np.ones((N, H), dtype=bool)
    assert np.array_equal(lstm_step_backward(ones, ones, step_cache)[0],
                          lstm_step_backward(ones.astype(float), ones.astype(float), step_cache)[0])
