"""Batched Elman RNN building blocks in NumPy, in the CS231n style.

Every `*_forward` returns `(out, cache)` and the matching `*_backward(dout, cache)` returns the
gradients of its inputs. Shapes use N (batch), T (time), D (input dim), H (hidden dim). Row-vector
convention: h_t = tanh(x_t @ Wx + h_{t-1} @ Wh + b), i.e. eq. (1) of notebook 02 with
Wx = W_hx^T, Wh = W_hh^T and b = b_h. The argument checks live in the `*_arguments` validators
(`helpers.checked`), so the functions themselves read like the equations.
"""
from __future__ import annotations

import numpy as np

from helpers import validate
from helpers.checked import checked, float_array


def _parameters(Wx, Wh, b):
    """Validate Wx (D, H), Wh (H, H), b (H,) and return them as arrays."""
    Wx = validate.array("Wx", Wx, ndim=2)
    H = Wx.shape[1]
    Wh = validate.shape("Wh", validate.array("Wh", Wh, ndim=2), (H, H))
    b = validate.shape("b", validate.array("b", b, ndim=1), (H,))
    return Wx, Wh, b


def step_arguments(x, prev_h, Wx, Wh, b) -> dict:
    """Checked arguments of `rnn_step_forward`: x (N, D), prev_h (N, H), Wx (D, H), Wh (H, H), b (H,)."""
    Wx, Wh, b = _parameters(Wx, Wh, b)
    D, H = Wx.shape
    x = validate.shape("x", validate.array("x", x, ndim=2), (None, D))
    prev_h = validate.shape("prev_h", validate.array("prev_h", prev_h, ndim=2), (x.shape[0], H))
    return {"x": x, "prev_h": prev_h, "Wx": Wx, "Wh": Wh, "b": b}


def step_backward_arguments(dnext_h, cache) -> dict:
    """Checked arguments of `rnn_step_backward`: dnext_h of the shape of next_h (N, H), as floats (float32 stays float32)."""
    dnext_h = float_array("dnext_h", dnext_h, ndim=2)
    return {"dnext_h": validate.shape("dnext_h", dnext_h, cache[-1].shape), "cache": cache}


def sequence_arguments(x, h0, Wx, Wh, b) -> dict:
    """Checked arguments of `rnn_forward`: x (N, T, D) with T >= 1, h0 (N, H), Wx (D, H), Wh (H, H), b (H,)."""
    Wx, Wh, b = _parameters(Wx, Wh, b)
    D, H = Wx.shape
    x = validate.shape("x", validate.array("x", x, ndim=3), (None, None, D))
    if x.shape[1] == 0:
        validate.fail("x", "at least one time step", x)
    h0 = validate.shape("h0", validate.array("h0", h0, ndim=2), (x.shape[0], H))
    return {"x": x, "h0": h0, "Wx": Wx, "Wh": Wh, "b": b}


def sequence_backward_arguments(dh, cache) -> dict:
    """Checked arguments of `rnn_backward`: dh (N, T, H) for the T steps of `cache`, as floats (float32 stays float32)."""
    N, H = cache[0][1].shape
    dh = float_array("dh", dh, ndim=3)
    return {"dh": validate.shape("dh", dh, (N, len(cache), H)), "cache": cache}


@checked(step_arguments)
def rnn_step_forward(x, prev_h, Wx, Wh, b):
    """One step of eq. (1): next_h = tanh(x @ Wx + prev_h @ Wh + b).

    x (N, D), prev_h (N, H), Wx (D, H), Wh (H, H), b (H,) -> next_h (N, H), cache.
    """
    ### BEGIN SOLUTION implement rnn_step_forward: next_h = tanh(x Wx + prev_h Wh + b), and the cache its backward needs (eq. 1)
    next_h = np.tanh(x @ Wx + prev_h @ Wh + b)
    return next_h, (x, prev_h, Wx, Wh, next_h)
    ### END SOLUTION


@checked(step_backward_arguments)
def rnn_step_backward(dnext_h, cache):
    """Backward of one step: dnext_h (N, H) -> dx (N, D), dprev_h (N, H), dWx, dWh, db.

    tanh' = 1 - tanh^2 needs only the stored activation next_h (eq. (6) of notebook 02).
    """
    ### BEGIN SOLUTION implement rnn_step_backward: da = dnext_h * (1 - next_h**2), then the five gradients of one step (eq. 6, 8-10)
    x, prev_h, Wx, Wh, next_h = cache
    da = dnext_h * (1.0 - next_h ** 2)  # gradient of the pre-activation a = x Wx + prev_h Wh + b
    return da @ Wx.T, da @ Wh.T, x.T @ da, prev_h.T @ da, da.sum(axis=0)
    ### END SOLUTION


@checked(sequence_arguments)
def rnn_forward(x, h0, Wx, Wh, b):
    """Eq. (1) over a whole sequence: x (N, T, D), h0 (N, H) -> h (N, T, H), cache.

    h[:, t] is the hidden state after reading x[:, t]; Wx (D, H), Wh (H, H), b (H,).
    """
    ### BEGIN SOLUTION implement rnn_forward: rnn_step_forward at t = 1..T from h0, states stacked to (N, T, H) (eq. 1)
    hs, caches = [], []
    prev_h = h0
    for t in range(x.shape[1]):
        prev_h, cache = rnn_step_forward(x[:, t], prev_h, Wx, Wh, b)
        hs.append(prev_h)
        caches.append(cache)
    return np.stack(hs, axis=1), caches
    ### END SOLUTION


@checked(sequence_backward_arguments)
def rnn_backward(dh, cache):
    """BPTT: dh (N, T, H), the loss gradient of every h[:, t] -> dx (N, T, D), dh0 (N, H), dWx, dWh, db.

    Walks backwards through time; the gradient entering step t is its own upstream part dh[:, t]
    plus dprev_h, what flows back from step t + 1 (eq. (7) of notebook 02).
    """
    ### BEGIN SOLUTION implement rnn_backward: from t = T down to 1, rnn_step_backward of dh[:, t] + dprev_h, weight gradients summed (eq. 7-10)
    _, h0, Wx, Wh, _ = cache[0]
    dWx, dWh, db = np.zeros_like(Wx, dh.dtype), np.zeros_like(Wh, dh.dtype), np.zeros(Wh.shape[0], dh.dtype)
    dxs = [None] * len(cache)
    dprev_h = np.zeros_like(dh[:, 0])
    for t in reversed(range(len(cache))):
        dxs[t], dprev_h, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t] + dprev_h, cache[t])
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    return np.stack(dxs, axis=1), dprev_h, dWx, dWh, db
    ### END SOLUTION
