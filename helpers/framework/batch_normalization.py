"""Batch normalization over the batch axis (vectors) or the batch and spatial axes (images)."""
from __future__ import annotations

import numpy as np

from helpers import validate
from helpers.checked import checked
from helpers.framework.base import TrainableLayer, checked_initializer, own_copy


def batch_norm_arguments(self, channels) -> dict:
    """Checked arguments of `BatchNormalization(channels)`: a positive number of channels."""
    return {"self": self, "channels": validate.positive_int("channels", channels)}


def initialize_arguments(self, weights_initializer, bias_initializer) -> dict:
    """Checked arguments of `initialize`: initializers (or None); they are ignored, but must be initializers."""
    for name, initializer in (("weights_initializer", weights_initializer), ("bias_initializer", bias_initializer)):
        if initializer is not None:
            checked_initializer(initializer, name)
    return {"self": self, "weights_initializer": weights_initializer, "bias_initializer": bias_initializer}


def gamma_arguments(self, weights) -> dict:
    """Checked arguments of the `weights` (gamma) setter: a float array of shape (C,)."""
    return {"self": self, "weights": _channel_vector(self, "weights", weights)}


def beta_arguments(self, bias) -> dict:
    """Checked arguments of the `bias` (beta) setter: a float array of shape (C,)."""
    return {"self": self, "bias": _channel_vector(self, "bias", bias)}


def _channel_vector(layer, name: str, value) -> np.ndarray:
    value = validate.array(name, value, ndim=1)
    validate.shape(name, value, (layer.channels,))
    return np.array(value, dtype=float)


def reformat_arguments(self, tensor) -> dict:
    """Checked arguments of `reformat`: images (B, C, H, W), or rows (B*H*W, C) of the last images reformatted."""
    tensor = validate.array("tensor", tensor, ndim=(2, 4))
    if tensor.ndim == 4:
        validate.shape("tensor", tensor, (None, self.channels, None, None))
    elif self._image_shape is None:
        raise RuntimeError("reformat: a (B*H*W, C) tensor goes back to images only after an image "
                           "tensor was reformatted")
    else:
        b, c, h, w = self._image_shape
        validate.shape("tensor", tensor, (b * h * w, c))
    return {"self": self, "tensor": tensor}


def batch_norm_forward_arguments(self, input_tensor) -> dict:
    """Checked arguments of `forward`: (B, C) or (B, C, H, W) with at least one sample; the testing
    phase needs the moving averages of a training batch."""
    x = validate.array("input_tensor", input_tensor, ndim=(2, 4))
    validate.shape("input_tensor", x, (None, self.channels) + (None,) * (x.ndim - 2))
    if x.size == 0:
        validate.fail("input_tensor", "at least one sample to normalize", x)
    if self.testing_phase and self.moving_mean is None:
        raise RuntimeError("forward: the testing phase needs moving averages; train on a batch first")
    return {"self": self, "input_tensor": x}


def batch_norm_backward_arguments(self, error_tensor) -> dict:
    """Checked arguments of `backward`: an error shaped like the last forward's input."""
    if self._input_shape is None:
        raise RuntimeError("backward: call forward first (nothing stored from a forward pass)")
    error = validate.array("error_tensor", error_tensor)
    if error.shape != self._input_shape:
        validate.fail("error_tensor", f"shape {self._input_shape} (the shape of the forward pass)", error)
    return {"self": self, "error_tensor": error}


class BatchNormalization(TrainableLayer):
    """y = gamma * (x - mean) / sqrt(var + eps) + beta per channel, for (B, C) or (B, C, H, W) input.

    gamma is `weights`, beta is `bias`, both (C,). Training uses the batch mean and variance and
    updates moving averages (initialised from the first training batch, then
    ``m = momentum * m + (1 - momentum) * batch``); the testing phase uses the moving averages.
    `backward` sets `gradient_weights` and `gradient_bias`; with an optimizer, gamma and beta are
    updated by separate copies of it.
    """

    eps = 1e-11
    momentum = 0.8

    @checked(batch_norm_arguments)
    def __init__(self, channels):
        super().__init__()
        self.channels = channels
        self.gradient_bias = None
        self.moving_mean = None
        self.moving_var = None
        self._input_shape = None
        self._image_shape = None
        self._normalized = None
        self._std = None
        self._used_batch_statistics = False
        self._optimizer_bias = None
        self.initialize(None, None)

    @checked(initialize_arguments)
    def initialize(self, weights_initializer, bias_initializer) -> None:
        """Reset gamma to ones and beta to zeros; the initializers are ignored (as in the course)."""
        self._weights = np.ones(self.channels)
        self._bias = np.zeros(self.channels)

    @property
    def weights(self) -> np.ndarray:
        return self._weights

    @weights.setter
    @checked(gamma_arguments)
    def weights(self, weights):
        self._weights = weights

    @property
    def bias(self) -> np.ndarray:
        return self._bias

    @bias.setter
    @checked(beta_arguments)
    def bias(self, bias):
        self._bias = bias

    @TrainableLayer.optimizer.setter
    def optimizer(self, optimizer):
        self._optimizer = own_copy(optimizer)
        self._optimizer_bias = own_copy(optimizer)

    def calculate_regularization_loss(self) -> float:
        """The regularizer's norm of gamma plus that of beta (both are updated with it)."""
        regularizer = getattr(self.optimizer, "regularizer", None)
        if regularizer is None:
            return 0.0
        return float(regularizer.norm(self._weights) + regularizer.norm(self._bias))

    @checked(reformat_arguments)
    def reformat(self, tensor) -> np.ndarray:
        """(B, C, H, W) -> (B*H*W, C), remembering (B, C, H, W); (B*H*W, C) -> (B, C, H, W) inverts it."""
        ### BEGIN SOLUTION implement BatchNormalization.reformat: images (B, C, H, W) <-> rows (B*H*W, C), one row per position, for the per-channel statistics (eq. 7)
        if tensor.ndim == 4:
            self._image_shape = tensor.shape
            return tensor.transpose(0, 2, 3, 1).reshape(-1, self.channels)
        b, c, h, w = self._image_shape
        return tensor.reshape(b, h, w, c).transpose(0, 3, 1, 2)
        ### END SOLUTION

    @checked(batch_norm_forward_arguments)
    def forward(self, input_tensor) -> np.ndarray:
        self._input_shape = input_tensor.shape
        image = input_tensor.ndim == 4
        rows = self.reformat(input_tensor) if image else input_tensor
        ### BEGIN SOLUTION implement BatchNormalization.forward: batch (training) or moving (testing) mean and variance per channel, x_hat, y = gamma x_hat + beta (eq. 7, 8a)
        if self.testing_phase:
            mean, var = self.moving_mean, self.moving_var
        else:
            mean, var = rows.mean(axis=0), rows.var(axis=0)
            self._update_moving_averages(mean, var)
        self._used_batch_statistics = not self.testing_phase
        self._std = np.sqrt(var + self.eps)
        self._normalized = (rows - mean) / self._std
        output = self._weights * self._normalized + self._bias
        ### END SOLUTION
        return self.reformat(output) if image else output

    @checked(batch_norm_backward_arguments)
    def backward(self, error_tensor) -> np.ndarray:
        image = error_tensor.ndim == 4
        rows = self.reformat(error_tensor) if image else error_tensor
        ### BEGIN SOLUTION implement BatchNormalization.backward: gradients of gamma and beta, and dx = gamma / s (delta - <delta> - x_hat <delta x_hat>) in training (eq. 8)
        self.gradient_weights = np.sum(rows * self._normalized, axis=0)
        self.gradient_bias = np.sum(rows, axis=0)
        gradient = rows
        if self._used_batch_statistics:
            gradient = rows - rows.mean(axis=0) - self._normalized * np.mean(rows * self._normalized, axis=0)
        gradient = gradient * self._weights / self._std
        ### END SOLUTION
        if self.optimizer is not None:
            self._weights = self.optimizer.calculate_update(self._weights, self.gradient_weights)
            self._bias = self._optimizer_bias.calculate_update(self._bias, self.gradient_bias)
        return self.reformat(gradient) if image else gradient

    def _update_moving_averages(self, mean: np.ndarray, var: np.ndarray) -> None:
        ### BEGIN SOLUTION implement the moving averages: the first batch's mean and variance, then m = momentum m + (1 - momentum) batch (eq. 8a)
        if self.moving_mean is None:
            self.moving_mean, self.moving_var = mean.copy(), var.copy()
        else:
            self.moving_mean = self.momentum * self.moving_mean + (1.0 - self.momentum) * mean
            self.moving_var = self.momentum * self.moving_var + (1.0 - self.momentum) * var
        ### END SOLUTION
