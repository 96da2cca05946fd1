"""The convolutional layer: "same" zero padding, strides, 1-D and 2-D input, vectorized with im2col
(one slice per kernel entry) and matrix products; no Python loop over pixels."""
from __future__ import annotations

import numpy as np

from helpers import validate
from helpers.framework.base import TrainableLayer, checked_initializer, own_copy


def same_padding(kernel_size: int) -> tuple[int, int]:
    """Zeros before and after an axis so that a stride-1 correlation keeps its length: ((m-1)//2, m//2)."""
    ### BEGIN SOLUTION implement same_padding: m - 1 zeros, floor((m-1)/2) before and floor(m/2) after (eq. 10)
    return (kernel_size - 1) // 2, kernel_size // 2
    ### END SOLUTION


def im2col(x_pad: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int],
           out_size: tuple[int, int]) -> np.ndarray:
    """x_pad (B, C, Y', X') -> columns (C m n, B U V): row (c, i, j), column (b, u, v) holds
    x_pad[b, c, sy u + i, sx v + j]. One slice per kernel entry (i, j), no loop over pixels."""
    (m, n), (sy, sx), (u, v) = kernel, stride, out_size
    b, c = x_pad.shape[:2]
    ### BEGIN SOLUTION implement im2col: cols[(c, i, j), (b, u, v)] = x_pad[b, c, sy u + i, sx v + j], one strided slice per kernel entry (eq. 9)
    cols = np.empty((c, m, n, b, u, v))
    for i in range(m):
        for j in range(n):
            cols[:, i, j] = x_pad[:, :, i:i + sy * u:sy, j:j + sx * v:sx].transpose(1, 0, 2, 3)
    return cols.reshape(c * m * n, b * u * v)
    ### END SOLUTION


def col2im(cols: np.ndarray, padded_shape: tuple[int, ...], kernel: tuple[int, int], stride: tuple[int, int],
           out_size: tuple[int, int]) -> np.ndarray:
    """The adjoint of `im2col`: every entry of cols (C m n, B U V) is added back onto the position of
    x_pad (B, C, Y', X') it was read from (windows that overlap add up)."""
    (m, n), (sy, sx), (u, v) = kernel, stride, out_size
    b, c, y_pad, x_pad = padded_shape
    ### BEGIN SOLUTION implement col2im: add every entry of cols back onto the x_pad position im2col read it from; overlaps add (eq. 12)
    cols = cols.reshape(c, m, n, b, u, v)
    summed = np.zeros((c, b, y_pad, x_pad))
    for i in range(m):
        for j in range(n):
            summed[:, :, i:i + sy * u:sy, j:j + sx * v:sx] += cols[:, i, j]
    return summed.transpose(1, 0, 2, 3)
    ### END SOLUTION


def correlate(x: np.ndarray, weights: np.ndarray, bias: np.ndarray,
              stride: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Cross-correlation with "same" zero padding, kept at every `stride`-th position.

    x (B, C, Y, X), weights (K, C, m, n), bias (K,) -> z (B, K, U, V) with U = ceil(Y / sy),
    V = ceil(X / sx) and z[b, k, u, v] = sum_{c, i, j} x_pad[b, c, sy u + i, sx v + j] w[k, c, i, j] + bias[k],
    computed as one matrix product W (K, C m n) @ im2col(x_pad); returns z and the columns.
    """
    k, _, m, n = weights.shape
    ### BEGIN SOLUTION implement correlate: "same" padding, U = ceil(Y / sy), V = ceil(X / sx), z = W im2col(x_pad) + bias (eq. 9, 10)
    x_pad = np.pad(x, ((0, 0), (0, 0), same_padding(m), same_padding(n)))
    out_size = (-(-x.shape[2] // stride[0]), -(-x.shape[3] // stride[1]))
    cols = im2col(x_pad, (m, n), stride, out_size)
    z = (weights.reshape(k, -1) @ cols + bias[:, None]).reshape(k, x.shape[0], *out_size)
    return z.transpose(1, 0, 2, 3), cols
    ### END SOLUTION


def correlate_backward(error: np.ndarray, cols: np.ndarray, input_shape: tuple[int, ...], weights: np.ndarray,
                       stride: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of `correlate` for the upstream error e (B, K, U, V) and its columns: dx, dw, dbias.

    dw[k, c, i, j] = sum_{b, u, v} e[b, k, u, v] x_pad[b, c, sy u + i, sx v + j]  (E @ cols^T),
    dbias[k] = sum_{b, u, v} e[b, k, u, v],
    dx_pad = col2im(W^T E): each output position sends e w back onto the inputs it read; per input
    pixel this is the full correlation of the (stride-dilated) error with the flipped kernel.
    """
    k, c, m, n = weights.shape
    ### BEGIN SOLUTION implement correlate_backward: dw = E cols^T, dbias = sum of E, dx = col2im(W^T E) without the padding (eq. 11, 12)
    e = error.transpose(1, 0, 2, 3).reshape(k, -1)                       # (K, B U V)
    d_weights = (e @ cols.T).reshape(weights.shape)
    d_bias = e.sum(axis=1)
    (top, bottom), (left, right) = same_padding(m), same_padding(n)
    b, _, y, x = input_shape
    padded_shape = (b, c, y + top + bottom, x + left + right)
    d_x_pad = col2im(weights.reshape(k, -1).T @ e, padded_shape, (m, n), stride, error.shape[2:])
    return d_x_pad[:, :, top:top + y, left:left + x], d_weights, d_bias
    ### END SOLUTION


def _convolution_shape(value) -> tuple[int, ...]:
    if not isinstance(value, (tuple, list)) or len(value) not in (2, 3):
        validate.fail("convolution_shape", "[c, m] (1-D) or [c, m, n] (2-D) of positive integers", value,
                      ValueError if isinstance(value, (tuple, list)) else TypeError)
    return tuple(validate.positive_int("convolution_shape", size) for size in value)


def _stride_shape(value, spatial_axes: int) -> tuple[int, ...]:
    """An int, or a sequence of 1 or `spatial_axes` positive ints -> one stride per spatial axis."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (value,)
    if not isinstance(value, (tuple, list)) or len(value) not in (1, spatial_axes):
        validate.fail("stride_shape", f"a positive integer or a sequence of 1 or {spatial_axes}", value,
                      ValueError if isinstance(value, (tuple, list)) else TypeError)
    strides = tuple(validate.positive_int("stride_shape", s) for s in value)
    return strides * spatial_axes if len(strides) == 1 else strides


class Conv(TrainableLayer):
    """Convolution (cross-correlation) with "same" zero padding and strides, as in the course.

    1-D: input (b, c, y), `convolution_shape` [c, m], output (b, K, ceil(y / s)).
    2-D: input (b, c, y, x), `convolution_shape` [c, m, n], output (b, K, ceil(y / sy), ceil(x / sx)).
    `weights` (K, c, m[, n]) and `bias` (K,) start uniform in [0, 1); `backward` sets
    `gradient_weights` and `gradient_bias` and, with an optimizer, updates both with separate copies.
    """

    def __init__(self, stride_shape, convolution_shape, num_kernels):
        super().__init__()
        self.convolution_shape = _convolution_shape(convolution_shape)
        self.stride_shape = _stride_shape(stride_shape, len(self.convolution_shape) - 1)
        self.num_kernels = validate.positive_int("num_kernels", num_kernels)
        self._weights = np.random.uniform(0.0, 1.0, (self.num_kernels, *self.convolution_shape))
        self._bias = np.random.uniform(0.0, 1.0, self.num_kernels)
        self.gradient_bias = None
        self.input_tensor = None
        self._output_shape = None
        self._columns = None
        self._optimizer_bias = None

    @property
    def weights(self) -> np.ndarray:
        return self._weights

    @weights.setter
    def weights(self, weights):
        weights = validate.array("weights", weights)
        validate.shape("weights", weights, (self.num_kernels, *self.convolution_shape))
        self._weights = np.array(weights, dtype=float)

    @property
    def bias(self) -> np.ndarray:
        return self._bias

    @bias.setter
    def bias(self, bias):
        bias = validate.array("bias", bias)
        validate.shape("bias", bias, (self.num_kernels,))
        self._bias = np.array(bias, dtype=float)

    @TrainableLayer.optimizer.setter
    def optimizer(self, optimizer):
        self._optimizer = own_copy(optimizer)
        self._optimizer_bias = own_copy(optimizer)

    def initialize(self, weights_initializer, bias_initializer) -> None:
        """Weights and bias from the initializers with fan_in = c m n and fan_out = K m n."""
        receptive = int(np.prod(self.convolution_shape[1:]))
        fan_in, fan_out = self.convolution_shape[0] * receptive, self.num_kernels * receptive
        shape = self._weights.shape
        self.weights = np.reshape(checked_initializer(weights_initializer, "weights_initializer")
                                  .initialize(shape, fan_in, fan_out), shape)
        self.bias = np.reshape(checked_initializer(bias_initializer, "bias_initializer")
                               .initialize((self.num_kernels,), fan_in, fan_out), (self.num_kernels,))

    def calculate_regularization_loss(self) -> float:
        """The regularizer's norm of the weights plus that of the bias (both are updated with it)."""
        regularizer = getattr(self.optimizer, "regularizer", None)
        if regularizer is None:
            return 0.0
        return float(regularizer.norm(self._weights) + regularizer.norm(self._bias))

    def forward(self, input_tensor) -> np.ndarray:
        rank = len(self.convolution_shape) + 1
        x = validate.array("input_tensor", input_tensor, ndim=rank)
        validate.shape("input_tensor", x, (None, self.convolution_shape[0]) + (None,) * (rank - 2))
        self.input_tensor = x
        z, self._columns = correlate(self._as_2d(x), self._as_2d(self._weights), self._bias, self._stride_2d())
        z = z[..., 0] if rank == 3 else z
        self._output_shape = z.shape
        return z

    def backward(self, error_tensor) -> np.ndarray:
        if self.input_tensor is None:
            raise RuntimeError("backward: call forward first (nothing stored from a forward pass)")
        error = validate.array("error_tensor", error_tensor)
        validate.shape("error_tensor", error, self._output_shape)
        d_x, d_w, d_b = correlate_backward(self._as_2d(error), self._columns, self._as_2d(self.input_tensor).shape,
                                           self._as_2d(self._weights), self._stride_2d())
        self.gradient_weights, self.gradient_bias = d_w.reshape(self._weights.shape), d_b
        if self.optimizer is not None:
            self._weights = self.optimizer.calculate_update(self._weights, self.gradient_weights)
            self._bias = self._optimizer_bias.calculate_update(self._bias, self.gradient_bias)
        return d_x.reshape(self.input_tensor.shape)

    def _as_2d(self, tensor: np.ndarray) -> np.ndarray:
        """A 1-D layer's tensors get a trailing spatial axis of size 1; 2-D tensors stay as they are."""
        return tensor[..., None] if len(self.convolution_shape) == 2 else tensor

    def _stride_2d(self) -> tuple[int, int]:
        return self.stride_shape if len(self.stride_shape) == 2 else (self.stride_shape[0], 1)
