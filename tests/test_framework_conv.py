"""Conv and Pooling: finite differences (float64, random upstream), torch.nn.functional oracles,
the course's conventions (shapes, padding, fans, separate optimizer copies) and bad input.

Tolerances (DESIGN.md section 2): norm-relative error <= 1e-7 against central finite differences
(step 1e-5), <= 1e-12 against torch on the same float64 computation.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from doubles import RecordingInitializer
from helpers import gradcheck
from helpers.framework import Conv, L2_Regularizer, Pooling, Sgd
from helpers.framework.conv import same_padding

FD_TOLERANCE = 1e-7
TORCH_TOLERANCE = 1e-12

# (stride, kernel (m, n), image (y, x)): unit and uneven strides, 1x1, even and odd kernels, uneven images
CONV_2D_CASES = [((1, 1), (3, 3), (7, 8)), ((2, 3), (4, 2), (9, 7)), ((2, 2), (1, 1), (5, 6)),
                 ((3, 1), (5, 4), (6, 5)), ((1, 2), (2, 5), (4, 9))]
CONV_1D_CASES = [(1, 3, 8), (2, 4, 9), (3, 1, 7), (2, 2, 5)]
POOL_CASES = [((2, 2), (2, 2), (8, 8)), ((1, 1), (2, 2), (5, 6)), ((1, 2), (2, 3), (7, 8)), ((3, 2), (2, 2), (7, 7))]


@pytest.fixture(autouse=True)
def seeded():
    np.random.seed(0)


def conv_with_random_weights(stride, convolution_shape, kernels=4, seed=1):
    layer = Conv(stride, convolution_shape, kernels)
    rng = np.random.default_rng(seed)
    layer.weights = rng.standard_normal(layer.weights.shape)
    layer.bias = rng.standard_normal(kernels)
    return layer


def torch_conv(x, layer):
    """The same "same"-padded, strided correlation with torch (float64)."""
    x, w, b = (torch.tensor(a) for a in (x, layer.weights, layer.bias))
    if x.ndim == 3:
        before, after = same_padding(layer.convolution_shape[1])
        return F.conv1d(F.pad(x, (before, after)), w, b, stride=layer.stride_shape[0])
    (top, bottom), (left, right) = same_padding(layer.convolution_shape[1]), same_padding(layer.convolution_shape[2])
    return F.conv2d(F.pad(x, (left, right, top, bottom)), w, b, stride=layer.stride_shape)


@pytest.mark.parametrize("stride, kernel, image", CONV_2D_CASES)
def test_conv_2d_matches_finite_differences(stride, kernel, image):
    layer = conv_with_random_weights(stride, (3, *kernel))
    x = np.random.default_rng(2).standard_normal((2, 3, *image))
    rows = gradcheck.check_layer(layer, x, tolerance=FD_TOLERANCE)
    assert [row.name for row in rows] == ["input", "weights", "bias"]


@pytest.mark.parametrize("stride, m, y", CONV_1D_CASES)
def test_conv_1d_matches_finite_differences(stride, m, y):
    layer = conv_with_random_weights(stride, (2, m), kernels=3)
    x = np.random.default_rng(3).standard_normal((2, 2, y))
    gradcheck.check_layer(layer, x, tolerance=FD_TOLERANCE)


@pytest.mark.parametrize("case", CONV_2D_CASES + [(s, (m,), (y,)) for s, m, y in CONV_1D_CASES])
def test_conv_forward_and_backward_match_torch(case):
    stride, kernel, image = case
    layer = conv_with_random_weights(stride, (3, *kernel))
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3, *image))
    out = layer.forward(x)
    xt = torch.tensor(x, requires_grad=True)
    wt, bt = torch.tensor(layer.weights, requires_grad=True), torch.tensor(layer.bias, requires_grad=True)
    conv = F.conv1d if len(image) == 1 else F.conv2d
    pads = sum((same_padding(k) for k in reversed(kernel)), ())
    reference = conv(F.pad(xt, pads), wt, bt, stride=tuple(layer.stride_shape))
    expected_size = tuple(-(-size // s) for size, s in zip(image, layer.stride_shape))
    assert out.shape == (2, 4, *expected_size) == tuple(reference.shape)
    upstream = rng.standard_normal(out.shape)
    reference.backward(torch.tensor(upstream))
    d_x = layer.backward(upstream)
    for name, ours, theirs in (("output", out, reference), ("input", d_x, xt.grad),
                               ("weights", layer.gradient_weights, wt.grad), ("bias", layer.gradient_bias, bt.grad)):
        assert gradcheck.rel_error(ours, theirs) <= TORCH_TOLERANCE, name


def test_same_padding_puts_the_extra_zero_after():
    assert [same_padding(m) for m in (1, 2, 3, 4, 5)] == [(0, 0), (0, 1), (1, 1), (1, 2), (2, 2)]


def test_conv_constructor_shapes_and_uniform_fill():
    layer = Conv((1, 1), (3, 5, 4), 7)
    assert layer.weights.shape == (7, 3, 5, 4) and layer.bias.shape == (7,)
    for values in (layer.weights, layer.bias):
        assert values.min() >= 0.0 and values.max() < 1.0
    assert Conv(2, (3, 5), 2).stride_shape == (2,) and Conv(2, (3, 5, 5), 2).stride_shape == (2, 2)
    assert Conv([3], (1, 3, 3), 1).stride_shape == (3, 3)


def test_conv_initialize_uses_the_course_fans():
    layer = Conv((1, 1), (3, 5, 4), 7)
    weights, bias = RecordingInitializer(0.25), RecordingInitializer(-0.5)
    layer.initialize(weights, bias)
    assert weights.calls == [((7, 3, 5, 4), 3 * 5 * 4, 7 * 5 * 4)]
    assert bias.calls == [((7,), 3 * 5 * 4, 7 * 5 * 4)]
    assert np.all(layer.weights == 0.25) and np.all(layer.bias == -0.5)


def test_conv_weights_setter_changes_forward_and_accessors_agree():
    layer = conv_with_random_weights((1, 1), (2, 3, 3))
    x = np.random.default_rng(5).standard_normal((1, 2, 4, 4))
    before = layer.forward(x)
    layer.set_weights(2 * layer.get_weights())
    layer.bias = 2 * layer.bias
    assert np.allclose(layer.forward(x), 2 * before)


def test_conv_updates_weights_and_bias_with_separate_optimizer_copies():
    layer = conv_with_random_weights((1, 1), (2, 3, 3))
    optimizer = Sgd(0.1)
    optimizer.add_regularizer(L2_Regularizer(0.01))
    layer.optimizer = optimizer
    assert layer.optimizer is not optimizer and layer._optimizer_bias is not layer.optimizer
    w, b = layer.weights.copy(), layer.bias.copy()
    x = np.random.default_rng(6).standard_normal((2, 2, 5, 5))
    upstream = np.random.default_rng(7).standard_normal(layer.forward(x).shape)
    layer.backward(upstream)
    assert np.allclose(layer.weights, w - 0.1 * layer.gradient_weights - 0.1 * 0.01 * w)
    assert np.allclose(layer.bias, b - 0.1 * layer.gradient_bias - 0.1 * 0.01 * b)
    expected = 0.01 * (np.sum(layer.weights ** 2) + np.sum(layer.bias ** 2))
    assert layer.calculate_regularization_loss() == pytest.approx(expected)


def test_conv_without_optimizer_changes_nothing_and_has_no_regularization_loss():
    layer = conv_with_random_weights((1, 1), (2, 3, 3))
    w = layer.weights.copy()
    x = np.random.default_rng(8).standard_normal((2, 2, 5, 5))
    layer.backward(np.ones_like(layer.forward(x)))
    assert np.array_equal(layer.weights, w) and layer.calculate_regularization_loss() == 0.0


@pytest.mark.parametrize("stride, pool, image", POOL_CASES)
def test_pooling_matches_finite_differences_and_torch(stride, pool, image):
    rng = np.random.default_rng(9)
    x = rng.standard_normal((2, 3, *image))   # continuous values: no ties, so the max is differentiable
    layer = Pooling(stride, pool)
    gradcheck.check_layer(layer, x, tolerance=FD_TOLERANCE)
    out = layer.forward(x)
    xt = torch.tensor(x, requires_grad=True)
    reference = F.max_pool2d(xt, pool, stride)
    upstream = rng.standard_normal(out.shape)
    reference.backward(torch.tensor(upstream))
    assert out.shape == tuple(reference.shape)
    assert gradcheck.rel_error(out, reference) == 0.0
    assert gradcheck.rel_error(layer.backward(upstream), xt.grad) <= TORCH_TOLERANCE


def test_pooling_adds_where_overlapping_windows_share_their_maximum():
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 1, 1] = 5.0          # the maximum of all four 2x2 windows at stride 1
    layer = Pooling((1, 1), (2, 2))
    assert np.all(layer.forward(x) == 5.0)
    gradient = layer.backward(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]))
    assert gradient[0, 0, 1, 1] == 10.0 and np.count_nonzero(gradient) == 1


@pytest.mark.parametrize("make, x, message", [
    (lambda: Conv((1, 1), (3, 3, 3), 2), np.zeros((2, 3, 4)), "input_tensor: expected an array with 4"),
    (lambda: Conv((1, 1), (3, 3, 3), 2), np.zeros((2, 2, 4, 4)), r"input_tensor: expected shape \(any, 3"),
    (lambda: Conv(1, (3, 3), 2), np.zeros((2, 3, 4, 4)), "input_tensor: expected an array with 3"),
    (lambda: Pooling((2, 2), (3, 3)), np.zeros((1, 1, 2, 5)), "input_tensor: expected spatial size"),
    (lambda: Pooling((2, 2), (2, 2)), np.zeros((1, 4, 4)), "input_tensor: expected an array with 4"),
])
def test_bad_input_is_a_clear_value_error(make, x, message):
    with pytest.raises(ValueError, match=message):
        make().forward(x)


@pytest.mark.parametrize("make, error, message", [
    (lambda: Conv((0, 1), (1, 3, 3), 2), ValueError, "stride_shape: expected a positive integer"),
    (lambda: Conv(-1, (1, 3), 2), ValueError, "stride_shape: expected a positive integer"),
    (lambda: Conv((1, 1, 1), (1, 3, 3), 2), ValueError, "stride_shape: expected a positive integer or a sequence"),
    (lambda: Conv((1, 1), (1, 3, 3, 3), 2), ValueError, "convolution_shape: expected"),
    (lambda: Conv((1, 1), (1, 0, 3), 2), ValueError, "convolution_shape: expected a positive integer"),
    (lambda: Conv((1, 1), (1, 3, 3), 0), ValueError, "num_kernels: expected a positive integer"),
    (lambda: Conv((1, 1), 3, 2), TypeError, "convolution_shape: expected"),
    (lambda: Pooling((0, 2), (2, 2)), ValueError, "stride_shape: expected a positive integer"),
    (lambda: Pooling((2, 2), (2, -1)), ValueError, "pooling_shape: expected a positive integer"),
])
def test_bad_arguments_name_themselves(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_backward_checks_the_error_shape_and_order():
    layer = Conv((2, 2), (1, 3, 3), 2)
    with pytest.raises(RuntimeError, match="call forward first"):
        layer.backward(np.zeros((1, 2, 2, 2)))
    layer.forward(np.zeros((1, 1, 4, 4)))
    with pytest.raises(ValueError, match="error_tensor: expected shape"):
        layer.backward(np.zeros((1, 2, 4, 4)))
    pool = Pooling((2, 2), (2, 2))
    pool.forward(np.zeros((1, 1, 4, 4)))
    with pytest.raises(ValueError, match="error_tensor: expected shape"):
        pool.backward(np.zeros((1, 1, 3, 2)))
