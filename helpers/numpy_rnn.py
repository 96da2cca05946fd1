"""Batched Elman RNN building blocks in NumPy, in the CS231n style.

Every `*_forward` returns `(out, cache)` and the matching `*_backward(dout, cache)` returns the
gradients of its inputs. Shapes use N (batch), T (time), D (input dim), H (hidden dim). Row-vector
convention: h_t = tanh(x_t @ Wx + h_{t-1} @ Wh + b), i.e. eq. (1) of notebook 02 with
Wx = W_hx^T, Wh = W_hh^T and b = b_h.
"""
from __future__ import annotations

import numpy as np

from helpers import validate


def _checked_parameters(Wx, Wh, b):
    """Validate Wx (D, H), Wh (H, H), b (H,) and return them as arrays."""
    Wx = validate.array("Wx", Wx, ndim=2)
    H = Wx.shape[1]
    Wh = validate.shape("Wh", validate.array("Wh", Wh, ndim=2), (H, H))
    b = validate.shape("b", validate.array("b", b, ndim=1), (H,))
    return Wx, Wh, b


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    """One step of eq. (1): next_h = tanh(x @ Wx + prev_h @ Wh + b).

    x (N, D), prev_h (N, H), Wx (D, H), Wh (H, H), b (H,) -> next_h (N, H), cache.
    """
    Wx, Wh, b = _checked_parameters(Wx, Wh, b)
    D, H = Wx.shape
    x = validate.shape("x", validate.array("x", x, ndim=2), (None, D))
    prev_h = validate.shape("prev_h", validate.array("prev_h", prev_h, ndim=2), (x.shape[0], H))
    next_h = np.tanh(x @ Wx + prev_h @ Wh + b)
    return next_h, (x, prev_h, Wx, Wh, next_h)


def rnn_step_backward(dnext_h, cache):
    """Backward of one step: dnext_h (N, H) -> dx (N, D), dprev_h (N, H), dWx, dWh, db.

    tanh' = 1 - tanh^2 needs only the stored activation next_h (eq. (6) of notebook 02).
    """
    x, prev_h, Wx, Wh, next_h = cache
    dnext_h = validate.shape("dnext_h", validate.array("dnext_h", dnext_h, ndim=2), next_h.shape)
    da = dnext_h * (1.0 - next_h ** 2)  # gradient of the pre-activation a = x Wx + prev_h Wh + b
    return da @ Wx.T, da @ Wh.T, x.T @ da, prev_h.T @ da, da.sum(axis=0)


def rnn_forward(x, h0, Wx, Wh, b):
    """Eq. (1) over a whole sequence: x (N, T, D), h0 (N, H) -> h (N, T, H), cache.

    h[:, t] is the hidden state after reading x[:, t]; Wx (D, H), Wh (H, H), b (H,).
    """
    Wx, Wh, b = _checked_parameters(Wx, Wh, b)
    D, H = Wx.shape
    x = validate.shape("x", validate.array("x", x, ndim=3), (None, None, D))
    if x.shape[1] == 0:
        validate.fail("x", "at least one time step", x)
    h0 = validate.shape("h0", validate.array("h0", h0, ndim=2), (x.shape[0], H))
    hs, caches = [], []
    prev_h = h0
    for t in range(x.shape[1]):
        prev_h, cache = rnn_step_forward(x[:, t], prev_h, Wx, Wh, b)
        hs.append(prev_h)
        caches.append(cache)
    return np.stack(hs, axis=1), caches


def rnn_backward(dh, cache):
    """BPTT: dh (N, T, H), the loss gradient of every h[:, t] -> dx (N, T, D), dh0 (N, H), dWx, dWh, db.

    Walks backwards through time; delta is the total gradient of h_t (eq. (7) of notebook 02):
    its own upstream part dh[:, t] plus what flows back from step t + 1.
    """
    _, h0, Wx, Wh, _ = cache[0]
    dh = validate.shape("dh", validate.array("dh", dh, ndim=3), (h0.shape[0], len(cache), h0.shape[1]))
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(Wh.shape[0], dtype=Wh.dtype)
    dxs = [None] * len(cache)
    dprev_h = np.zeros_like(dh[:, 0])
    for t in reversed(range(len(cache))):
        dxs[t], dprev_h, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t] + dprev_h, cache[t])
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    return np.stack(dxs, axis=1), dprev_h, dWx, dWh, db
