"""helpers.numpy_rnn: finite differences on every input and parameter, torch.nn.RNN as an oracle, bad input.

Tolerances (DESIGN.md section 2): norm-relative error <= 1e-7 against central finite differences
(step 1e-5), <= 1e-12 against torch.nn.RNN / autograd in float64.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers.gradcheck import check, numerical_gradient_array, rel_error
from helpers.numpy_rnn import rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward

N, T, D, H = 3, 5, 4, 6
FD_TOLERANCE = 1e-7
ORACLE_TOLERANCE = 1e-12


def parameters(seed=0):
    """Non-symmetric float64 inputs, initial state and weights (tanh neither linear nor saturated)."""
    rng = np.random.default_rng(seed)
    return {"x": rng.standard_normal((N, T, D)), "h0": rng.standard_normal((N, H)),
            "Wx": 0.5 * rng.standard_normal((D, H)), "Wh": 0.5 * rng.standard_normal((H, H)),
            "b": 0.3 * rng.standard_normal(H)}


def test_step_gradients_match_finite_differences():
    p = parameters()
    x, prev_h = p["x"][:, 0].copy(), p["h0"]
    dnext_h = np.random.default_rng(1).standard_normal((N, H))
    _, cache = rnn_step_forward(x, prev_h, p["Wx"], p["Wh"], p["b"])
    analytic = dict(zip(["x", "prev_h", "Wx", "Wh", "b"], rnn_step_backward(dnext_h, cache)))
    arrays = {"x": x, "prev_h": prev_h, "Wx": p["Wx"], "Wh": p["Wh"], "b": p["b"]}

    def forward():
        return rnn_step_forward(x, prev_h, p["Wx"], p["Wh"], p["b"])[0]

    pairs = {name: (analytic[name], numerical_gradient_array(forward, array, dnext_h))
             for name, array in arrays.items()}
    rows = check(pairs, FD_TOLERANCE)
    assert [row.name for row in rows] == ["x", "prev_h", "Wx", "Wh", "b"]


def test_sequence_gradients_match_finite_differences():
    p = parameters()
    dh = np.random.default_rng(2).standard_normal((N, T, H))
    _, cache = rnn_forward(p["x"], p["h0"], p["Wx"], p["Wh"], p["b"])
    analytic = dict(zip(["x", "h0", "Wx", "Wh", "b"], rnn_backward(dh, cache)))

    def forward():
        return rnn_forward(p["x"], p["h0"], p["Wx"], p["Wh"], p["b"])[0]

    pairs = {name: (analytic[name], numerical_gradient_array(forward, p[name], dh)) for name in analytic}
    check(pairs, FD_TOLERANCE)


def torch_oracle(p):
    """torch.nn.RNN (float64, batch first) carrying the same weights: W_ih = Wx^T, W_hh = Wh^T, b_ih = b, b_hh = 0."""
    rnn = torch.nn.RNN(D, H, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.from_numpy(p["Wx"].T))
        rnn.weight_hh_l0.copy_(torch.from_numpy(p["Wh"].T))
        rnn.bias_ih_l0.copy_(torch.from_numpy(p["b"]))
        rnn.bias_hh_l0.zero_()
    return rnn


def test_forward_and_backward_equal_torch_nn_rnn():
    p = parameters(seed=3)
    h, cache = rnn_forward(p["x"], p["h0"], p["Wx"], p["Wh"], p["b"])
    dh = np.random.default_rng(4).standard_normal((N, T, H))
    dx, dh0, dWx, dWh, db = rnn_backward(dh, cache)

    rnn = torch_oracle(p)
    x = torch.from_numpy(p["x"]).requires_grad_()
    h0 = torch.from_numpy(p["h0"])[None].requires_grad_()
    out, h_last = rnn(x, h0)
    out.backward(torch.from_numpy(dh))
    pairs = {"h": (h, out.detach().numpy()), "h_T": (h[:, -1], h_last[0].detach().numpy()),
             "dx": (dx, x.grad.numpy()), "dh0": (dh0, h0.grad[0].numpy()),
             "dWx": (dWx, rnn.weight_ih_l0.grad.numpy().T), "dWh": (dWh, rnn.weight_hh_l0.grad.numpy().T),
             "db": (db, rnn.bias_ih_l0.grad.numpy())}
    check(pairs, ORACLE_TOLERANCE)
    assert rel_error(db, rnn.bias_hh_l0.grad.numpy()) <= ORACLE_TOLERANCE  # both biases see the same gradient


def test_forward_is_the_loop_of_steps_and_keeps_float32():
    p = {k: v.astype(np.float32) for k, v in parameters(seed=5).items()}
    h, _ = rnn_forward(p["x"], p["h0"], p["Wx"], p["Wh"], p["b"])
    assert h.shape == (N, T, H) and h.dtype == np.float32
    prev_h = p["h0"]
    for t in range(T):
        prev_h, _ = rnn_step_forward(p["x"][:, t], prev_h, p["Wx"], p["Wh"], p["b"])
        np.testing.assert_array_equal(h[:, t], prev_h)


BAD_STEP_ARGUMENTS = [
    ("x", np.zeros((N, D + 1)), ValueError),
    ("x", np.zeros((N, 1, D)), ValueError),
    ("x", "not an array", TypeError),
    ("prev_h", np.zeros((N + 1, H)), ValueError),
    ("Wx", np.zeros(D), ValueError),
    ("Wh", np.zeros((H, H + 1)), ValueError),
    ("b", np.zeros(H + 1), ValueError),
    ("b", np.full(H, np.nan), ValueError),
]


@pytest.mark.parametrize("name, value, error", BAD_STEP_ARGUMENTS,
                         ids=[f"{name}-{i}" for i, (name, _, _) in enumerate(BAD_STEP_ARGUMENTS)])
def test_step_forward_rejects_bad_arguments(name, value, error):
    p = parameters()
    arguments = {"x": p["x"][:, 0], "prev_h": p["h0"], "Wx": p["Wx"], "Wh": p["Wh"], "b": p["b"]}
    arguments[name] = value
    with pytest.raises(error, match=name):
        rnn_step_forward(**arguments)


BAD_SEQUENCE_ARGUMENTS = [
    ("x", np.zeros((N, D)), ValueError),
    ("x", np.zeros((N, 0, D)), ValueError),
    ("x", np.zeros((N, T, D + 1)), ValueError),
    ("x", np.full((N, T, D), np.inf), ValueError),
    ("h0", np.zeros((N, H + 1)), ValueError),
    ("h0", None, TypeError),
    ("Wh", np.zeros((H + 1, H)), ValueError),
]


@pytest.mark.parametrize("name, value, error", BAD_SEQUENCE_ARGUMENTS,
                         ids=[f"{name}-{i}" for i, (name, _, _) in enumerate(BAD_SEQUENCE_ARGUMENTS)])
def test_forward_rejects_bad_arguments(name, value, error):
    arguments = parameters()
    arguments[name] = value
    with pytest.raises(error, match=name):
        rnn_forward(**arguments)


def test_backwards_reject_upstream_gradients_of_the_wrong_shape():
    p = parameters()
    _, step_cache = rnn_step_forward(p["x"][:, 0], p["h0"], p["Wx"], p["Wh"], p["b"])
    with pytest.raises(ValueError, match="dnext_h"):
        rnn_step_backward(np.zeros((N, H + 1)), step_cache)
    _, cache = rnn_forward(p["x"], p["h0"], p["Wx"], p["Wh"], p["b"])
    with pytest.raises(ValueError, match="dh"):
        rnn_backward(np.zeros((N, T + 1, H)), cache)
    with pytest.raises(ValueError, match="dh"):
        rnn_backward(np.full((N, T, H), np.nan), cache)


def test_integer_upstream_gradients_are_not_truncated():
    p = parameters()
    _, cache = rnn_forward(p["x"], p["h0"], p["Wx"], p["Wh"], p["b"])
    upstream = np.random.default_rng(1).integers(-2, 3, (N, T, H))
    for a, b in zip(rnn_backward(upstream, cache), rnn_backward(upstream.astype(float), cache)):
        assert a.dtype == np.float64 and np.array_equal(a, b)
