"""2-D max pooling without padding ("valid"), overlapping or subsampling strides, vectorized."""
from __future__ import annotations

import numpy as np

from helpers import validate
from helpers.framework.base import BaseLayer


def max_pool(x: np.ndarray, pool: tuple[int, int], stride: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """x (B, C, Y, X) -> (out, where), both (B, C, U, V) with U = (Y - p) // sy + 1, V = (X - q) // sx + 1.

    out[b, c, u, v] = max_{i < p, j < q} x[b, c, sy u + i, sx v + j]; `where` is the flat index
    y X + x of that maximum in its input plane (the first one in row order when entries tie).
    """
    (p, q), (sy, sx) = pool, stride
    ### BEGIN SOLUTION implement max_pool: U = (Y - p) // sy + 1, the maximum of every window and the flat index of where it is (eq. 13)
    u, v = (x.shape[2] - p) // sy + 1, (x.shape[3] - q) // sx + 1
    candidates = np.stack([x[:, :, i:i + sy * u:sy, j:j + sx * v:sx] for i in range(p) for j in range(q)])
    best = candidates.argmax(axis=0)                                    # window entry i q + j
    out = np.take_along_axis(candidates, best[None], axis=0)[0]
    rows = sy * np.arange(u)[:, None] + best // q
    cols = sx * np.arange(v)[None, :] + best % q
    return out, rows * x.shape[3] + cols
    ### END SOLUTION


def max_pool_backward(error: np.ndarray, where: np.ndarray, input_shape: tuple[int, ...]) -> np.ndarray:
    """Route error (B, C, U, V) to the maxima `where` points at; overlapping windows add. -> (B, C, Y, X)."""
    b, c, y, x = input_shape
    ### BEGIN SOLUTION implement max_pool_backward: each error entry goes to its window's maximum; windows sharing a maximum add (eq. 14)
    plane_start = (np.arange(b * c) * (y * x)).reshape(b, c, 1, 1)
    summed = np.bincount((where + plane_start).ravel(), weights=error.ravel(), minlength=b * c * y * x)
    return summed.reshape(input_shape)
    ### END SOLUTION


def _pair(name: str, value) -> tuple[int, int]:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (value, value)
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        validate.fail(name, "a positive integer or a pair of positive integers", value,
                      ValueError if isinstance(value, (tuple, list)) else TypeError)
    return tuple(validate.positive_int(name, size) for size in value)


class Pooling(BaseLayer):
    """Max pooling over (y, x) of (b, c, y, x) input with `pooling_shape` (p, q) and `stride_shape`
    (sy, sx): no padding, so every window lies inside the input; backward sends each error entry to
    its window's maximum and adds where windows overlap."""

    def __init__(self, stride_shape, pooling_shape):
        super().__init__()
        self.stride_shape = _pair("stride_shape", stride_shape)
        self.pooling_shape = _pair("pooling_shape", pooling_shape)
        self.input_shape = None
        self._where = None

    def forward(self, input_tensor) -> np.ndarray:
        x = validate.array("input_tensor", input_tensor, ndim=4)
        if x.shape[2] < self.pooling_shape[0] or x.shape[3] < self.pooling_shape[1]:
            validate.fail("input_tensor", f"spatial size at least the pooling shape {self.pooling_shape} "
                          "(valid pooling, no padding)", x)
        self.input_shape = x.shape
        out, self._where = max_pool(x, self.pooling_shape, self.stride_shape)
        return out

    def backward(self, error_tensor) -> np.ndarray:
        if self._where is None:
            raise RuntimeError("backward: call forward first (nothing stored from a forward pass)")
        error = validate.array("error_tensor", error_tensor)
        validate.shape("error_tensor", error, self._where.shape)
        return max_pool_backward(error, self._where, self.input_shape)
