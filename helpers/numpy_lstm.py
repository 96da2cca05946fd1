"""Batched NumPy LSTM in the CS231n style: `*_forward -> (out, cache)`, `*_backward(dout, cache)`.

Row-vector convention: a batch of inputs is a matrix whose rows are examples, so the gate
pre-activations are ``a = x @ Wx + h_prev @ Wh + b`` with the four gates fused side by side::

    Wx: (D, 4H)   Wh: (H, 4H)   b: (4H,)   columns [0:H] = i, [H:2H] = f, [2H:3H] = g, [3H:4H] = o

The gate order i, f, g, o is the one of ``torch.nn.LSTM``, which stores the column-convention
matrices ``weight_ih_l0`` (4H, D) and ``weight_hh_l0`` (4H, H) and two biases. The mapping is::

    Wx = weight_ih_l0.T    Wh = weight_hh_l0.T    b = bias_ih_l0 + bias_hh_l0

Letters: N batch, T time, D input dimension, H hidden dimension. The argument checks live in the
`*_arguments` validators (`helpers.checked`); upstream gradients are converted to float.
"""
from __future__ import annotations

import numpy as np

from helpers import validate
from helpers.checked import checked, float_array


def sigmoid(a):
    """Logistic function 1 / (1 + exp(-a)). Where exp(-a) overflows to inf the result is exactly 0."""
    a = float_array("a", a)
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-a))


def check_lstm_weights(Wx, Wh, b):
    """Validate fused gate weights; return them as arrays and the hidden size H."""
    Wx = validate.array("Wx", Wx, ndim=2)
    Wh = validate.array("Wh", Wh, ndim=2)
    b = validate.array("b", b, ndim=1)
    if Wx.shape[1] % 4:
        validate.fail("Wx", "shape (D, 4H) with a column count divisible by 4", Wx)
    H = Wx.shape[1] // 4
    validate.shape("Wh", Wh, (H, 4 * H))
    validate.shape("b", b, (4 * H,))
    return Wx, Wh, b, H


def step_arguments(x, prev_h, prev_c, Wx, Wh, b) -> dict:
    """Checked arguments of `lstm_step_forward`: x (N, D), prev_h, prev_c (N, H), fused weights."""
    Wx, Wh, b, H = check_lstm_weights(Wx, Wh, b)
    x = validate.shape("x", validate.array("x", x, ndim=2), (None, Wx.shape[0]))
    prev_h = validate.shape("prev_h", validate.array("prev_h", prev_h, ndim=2), (x.shape[0], H))
    prev_c = validate.shape("prev_c", validate.array("prev_c", prev_c, ndim=2), (x.shape[0], H))
    return {"x": x, "prev_h": prev_h, "prev_c": prev_c, "Wx": Wx, "Wh": Wh, "b": b}


def step_backward_arguments(dnext_h, dnext_c, cache) -> dict:
    """Checked arguments of `lstm_step_backward`: dnext_h, dnext_c (N, H) as floats (float32 stays float32)."""
    shape = cache[5].shape  # the input gate i, (N, H)
    return {"dnext_h": validate.shape("dnext_h", float_array("dnext_h", dnext_h, ndim=2), shape),
            "dnext_c": validate.shape("dnext_c", float_array("dnext_c", dnext_c, ndim=2), shape),
            "cache": cache}


def sequence_arguments(x, h0, Wx, Wh, b, c0=None) -> dict:
    """Checked arguments of `lstm_forward`: x (N, T, D), h0 (N, H), fused weights, c0 (N, H) or None."""
    Wx, Wh, b, H = check_lstm_weights(Wx, Wh, b)
    x = validate.shape("x", validate.array("x", x, ndim=3), (None, None, Wx.shape[0]))
    h0 = validate.shape("h0", validate.array("h0", h0, ndim=2), (x.shape[0], H))
    c0 = np.zeros_like(h0) if c0 is None else validate.shape("c0", validate.array("c0", c0, ndim=2), h0.shape)
    return {"x": x, "h0": h0, "Wx": Wx, "Wh": Wh, "b": b, "c0": c0}


def sequence_backward_arguments(dh, cache) -> dict:
    """Checked arguments of `lstm_backward`: dh (N, T, H) for the T steps of `cache`, as floats (float32 stays float32)."""
    steps, _ = cache
    N, H = steps[0][1].shape
    dh = float_array("dh", dh, ndim=3)
    return {"dh": validate.shape("dh", dh, (N, len(steps), H)), "cache": cache}


@checked(step_arguments)
def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    """One LSTM step for a batch.

    x: (N, D), prev_h: (N, H), prev_c: (N, H), Wx: (D, 4H), Wh: (H, 4H), b: (4H,).
    Returns next_h (N, H), next_c (N, H) and the cache for `lstm_step_backward`.
    """
    H = prev_h.shape[1]
    ### BEGIN SOLUTION implement lstm_step_forward: a = x Wx + prev_h Wh + b, the gates i, f, g, o, next_c, tanh_c = tanh(next_c) and next_h (eq. 4-9)
    a = x @ Wx + prev_h @ Wh + b                   # (N, 4H) pre-activations of all gates
    i = sigmoid(a[:, :H])                          # input gate
    f = sigmoid(a[:, H:2 * H])                     # forget gate
    g = np.tanh(a[:, 2 * H:3 * H])                 # candidate (input modulation)
    o = sigmoid(a[:, 3 * H:])                      # output gate
    next_c = f * prev_c + i * g
    tanh_c = np.tanh(next_c)
    next_h = o * tanh_c
    ### END SOLUTION
    cache = (x, prev_h, prev_c, Wx, Wh, i, f, g, o, tanh_c)
    return next_h, next_c, cache


@checked(step_backward_arguments)
def lstm_step_backward(dnext_h, dnext_c, cache):
    """Backward pass of one LSTM step.

    dnext_h, dnext_c: (N, H) upstream gradients of the step's outputs.
    Returns dx (N, D), dprev_h (N, H), dprev_c (N, H), dWx (D, 4H), dWh (H, 4H), db (4H,).
    """
    x, prev_h, prev_c, Wx, Wh, i, f, g, o, tanh_c = cache
    ### BEGIN SOLUTION implement lstm_step_backward: dc, the gate gradients da = [da_i, da_f, da_g, da_o], then dx, dprev_h, dprev_c, dWx, dWh, db (eq. 13-17)
    dc = dnext_c + dnext_h * o * (1.0 - tanh_c ** 2)   # all paths into c_t
    da = np.concatenate([
        dc * g * i * (1.0 - i),                          # input gate
        dc * prev_c * f * (1.0 - f),                     # forget gate
        dc * i * (1.0 - g ** 2),                         # candidate
        dnext_h * tanh_c * o * (1.0 - o),                # output gate
    ], axis=1)                                           # (N, 4H)
    dx = da @ Wx.T
    dprev_h = da @ Wh.T
    dprev_c = dc * f
    dWx = x.T @ da
    dWh = prev_h.T @ da
    db = da.sum(axis=0)
    ### END SOLUTION
    return dx, dprev_h, dprev_c, dWx, dWh, db


@checked(sequence_arguments)
def lstm_forward(x, h0, Wx, Wh, b, c0=None):
    """Run an LSTM over a batch of sequences.

    x: (N, T, D), h0: (N, H), Wx: (D, 4H), Wh: (H, 4H), b: (4H,), c0: (N, H) or None (zeros).
    Returns h (N, T, H), the hidden states of every step, and the cache for `lstm_backward`,
    (the list of the steps' caches, c_T): the last cell state is ``cache[-1]`` (N, H).
    """
    N, T, _ = x.shape
    h = np.empty((N, T, h0.shape[1]), dtype=np.result_type(x, h0, Wx, np.float32))
    ### BEGIN SOLUTION implement lstm_forward: lstm_step_forward for t = 1..T from (h0, c0), h[:, t] = h_t, one cache per step (eq. 4-9)
    prev_h, prev_c, steps = h0, c0, []
    for t in range(T):
        prev_h, prev_c, step_cache = lstm_step_forward(x[:, t], prev_h, prev_c, Wx, Wh, b)
        h[:, t] = prev_h
        steps.append(step_cache)
    ### END SOLUTION
    return h, (steps, prev_c)


@checked(sequence_backward_arguments)
def lstm_backward(dh, cache):
    """Backward pass over a whole sequence (full BPTT).

    dh: (N, T, H) upstream gradients of all hidden states.
    Returns dx (N, T, D), dh0 (N, H), dWx (D, 4H), dWh (H, 4H), db (4H,), dc0 (N, H):
    the gradients in the order of `lstm_forward`'s arguments.
    """
    steps, _ = cache
    N, T, H = dh.shape
    ### BEGIN SOLUTION implement lstm_backward: lstm_step_backward from t = T down to 1 on dh_t plus the carried dh and dc, weight gradients summed over time (eq. 12, 16, 18)
    dx = np.empty((N, T, steps[0][0].shape[1]), dtype=dh.dtype)
    dWx, dWh, db = 0.0, 0.0, 0.0
    dprev_h, dprev_c = np.zeros((N, H), dh.dtype), np.zeros((N, H), dh.dtype)
    for t in reversed(range(T)):
        dx[:, t], dprev_h, dprev_c, dWx_t, dWh_t, db_t = lstm_step_backward(
            dh[:, t] + dprev_h, dprev_c, steps[t])
        dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
    ### END SOLUTION
    return dx, dprev_h, dWx, dWh, db, dprev_c
