"""helpers.framework layers and loss: finite differences, torch.autograd (float64), behaviour, bad input.

Tolerances (DESIGN.md section 2): norm-relative error <= 1e-7 against central finite differences
(step 1e-5), <= 1e-12 against torch.autograd on the same float64 computation.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from helpers import gradcheck
from helpers.framework import (BatchNormalization, Constant, CrossEntropyLoss, Dropout, Flatten,
                               FullyConnected, ReLU, Sgd, Sigmoid, SoftMax, TanH)

FD_TOLERANCE = 1e-7
TORCH_TOLERANCE = 1e-12


@pytest.fixture(autouse=True)
def seeded():
    np.random.seed(0)


def normal(*shape, seed=1):
    return np.random.default_rng(seed).standard_normal(shape)


def fully_connected():
    layer = FullyConnected(4, 3)
    layer.weights = normal(5, 3, seed=2)  # non-symmetric, bias row included
    return layer


def batch_norm():
    layer = BatchNormalization(3)
    layer.weights = 1.0 + 0.5 * normal(3, seed=3)
    layer.bias = normal(3, seed=4)
    return layer


# (name, layer factory, input shape, torch version of the same forward: f(x, *parameters))
LAYERS = [
    ("FullyConnected", fully_connected, (6, 4), lambda x, w: x @ w[:-1] + w[-1]),
    ("TanH", TanH, (6, 4), torch.tanh),
    ("Sigmoid", Sigmoid, (6, 4), torch.sigmoid),
    ("ReLU", ReLU, (6, 4), torch.relu),
    ("SoftMax", SoftMax, (6, 4), lambda x: torch.softmax(x, dim=1)),
    ("Flatten", Flatten, (6, 2, 3, 2), lambda x: x.reshape(x.shape[0], -1)),
    ("BatchNormalization vector", batch_norm, (8, 3),
     lambda x, g, b: F.batch_norm(x, None, None, g, b, training=True, eps=BatchNormalization.eps)),
    ("BatchNormalization image", batch_norm, (4, 3, 2, 3),
     lambda x, g, b: F.batch_norm(x, None, None, g, b, training=True, eps=BatchNormalization.eps)),
]


def parameters_of(layer) -> list[str]:
    if isinstance(layer, BatchNormalization):
        return ["weights", "bias"]
    return ["weights"] if layer.trainable else []


@pytest.mark.parametrize("name, make, shape, torch_forward", LAYERS, ids=[row[0] for row in LAYERS])
def test_backward_matches_finite_differences(name, make, shape, torch_forward):
    rows = gradcheck.check_layer(make(), normal(*shape), tolerance=FD_TOLERANCE)
    assert [row.name for row in rows] == ["input"] + parameters_of(make())


@pytest.mark.parametrize("name, make, shape, torch_forward", LAYERS, ids=[row[0] for row in LAYERS])
def test_forward_and_backward_match_torch_autograd(name, make, shape, torch_forward):
    layer = make()
    x = normal(*shape)
    out = layer.forward(x)
    upstream = normal(*out.shape, seed=5)
    grad_x = layer.backward(upstream)

    names = parameters_of(layer)
    x_t = torch.tensor(x, requires_grad=True)
    params_t = [torch.tensor(getattr(layer, n), requires_grad=True) for n in names]
    out_t = torch_forward(x_t, *params_t)
    out_t.backward(torch.tensor(upstream))
    pairs = {"output": (out, out_t.detach().numpy()), "input": (grad_x, x_t.grad.numpy())}
    for n, p in zip(names, params_t):
        pairs[n] = (getattr(layer, f"gradient_{n}"), p.grad.numpy())
    gradcheck.check(pairs, tolerance=TORCH_TOLERANCE, title=f"{name} vs torch.autograd")


def test_dropout_backward_matches_finite_differences_and_torch():
    layer = Dropout(0.6)
    x = normal(7, 5)
    gradcheck.check_layer(layer, x, tolerance=FD_TOLERANCE)
    out = layer.forward(x)
    upstream = normal(7, 5, seed=5)
    mask = torch.tensor((out != 0).astype(float))
    x_t = torch.tensor(x, requires_grad=True)
    out_t = x_t * mask / 0.6
    out_t.backward(torch.tensor(upstream))
    gradcheck.check({"output": (out, out_t.detach().numpy()),
                     "input": (layer.backward(upstream), x_t.grad.numpy())}, tolerance=TORCH_TOLERANCE)


def test_batch_norm_testing_phase_matches_finite_differences_and_torch():
    layer = batch_norm()
    layer.forward(normal(8, 3, seed=6))  # moving averages from a training batch
    layer.forward(3.0 + normal(8, 3, seed=7))
    layer.testing_phase = True
    x = normal(5, 3)
    gradcheck.check_layer(layer, x, tolerance=FD_TOLERANCE)
    out = layer.forward(x)
    upstream = normal(5, 3, seed=8)
    grad_x = layer.backward(upstream)
    x_t, g_t, b_t = (torch.tensor(a, requires_grad=True) for a in (x, layer.weights, layer.bias))
    out_t = F.batch_norm(x_t, torch.tensor(layer.moving_mean), torch.tensor(layer.moving_var), g_t, b_t,
                         training=False, eps=layer.eps)
    out_t.backward(torch.tensor(upstream))
    gradcheck.check({"output": (out, out_t.detach().numpy()), "input": (grad_x, x_t.grad.numpy()),
                     "weights": (layer.gradient_weights, g_t.grad.numpy()),
                     "bias": (layer.gradient_bias, b_t.grad.numpy())}, tolerance=TORCH_TOLERANCE)


def test_cross_entropy_matches_finite_differences_and_torch():
    loss = CrossEntropyLoss()
    prediction = SoftMax().forward(normal(6, 4))
    labels = np.eye(4)[[0, 3, 1, 1, 2, 3]]
    value = loss.forward(prediction, labels)
    gradient = loss.backward(labels)
    numeric = gradcheck.numerical_gradient(lambda: CrossEntropyLoss().forward(prediction, labels), prediction)
    p_t = torch.tensor(prediction, requires_grad=True)
    eps = np.finfo(float).eps
    value_t = -(torch.tensor(labels) * torch.log(p_t + eps)).sum()
    value_t.backward()
    gradcheck.check({"gradient vs finite differences": (gradient, numeric)}, tolerance=FD_TOLERANCE)
    gradcheck.check({"loss": (np.array(value), value_t.detach().numpy()),
                     "gradient vs autograd": (gradient, p_t.grad.numpy())}, tolerance=TORCH_TOLERANCE)


def test_cross_entropy_sums_over_the_batch_and_accepts_integer_labels():
    prediction = np.array([[0.5, 0.25, 0.25], [0.1, 0.1, 0.8]])
    loss = CrossEntropyLoss()
    expected = -np.log(0.5 + np.finfo(float).eps) - np.log(0.8 + np.finfo(float).eps)
    assert loss.forward(prediction, np.array([0, 2])) == pytest.approx(expected, rel=1e-15)
    assert loss.forward(prediction, np.eye(3)[[0, 2]]) == pytest.approx(expected, rel=1e-15)
    np.testing.assert_array_equal(loss.backward(np.array([0, 2])), loss.backward(np.eye(3)[[0, 2]]))


# --- activations --------------------------------------------------------------------------------

@pytest.mark.parametrize("layer_class, derivative", [(TanH, lambda a: 1 - a ** 2),
                                                     (Sigmoid, lambda a: a * (1 - a))])
def test_activation_layers_store_activations_and_use_only_them(layer_class, derivative):
    layer = layer_class()
    x = normal(3, 4)
    out = layer.forward(x)
    np.testing.assert_array_equal(layer.activations, out)
    # A recurrent layer restores the activations of an earlier time step before calling backward.
    earlier = layer_class().forward(normal(3, 4, seed=9))
    layer.activations = earlier
    upstream = normal(3, 4, seed=10)
    np.testing.assert_allclose(layer.backward(upstream), upstream * derivative(earlier), rtol=1e-15)


def test_sigmoid_is_stable_with_exact_limits():
    x = np.array([-1000.0, -800.0, -40.0, 0.0, 40.0, 800.0, 1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = Sigmoid().forward(x)
    assert y[0] == 0.0 and y[-1] == 1.0 and y[3] == 0.5
    np.testing.assert_allclose(y[2:5], 1 / (1 + np.exp(-x[2:5])), rtol=1e-15)
    assert np.all(np.diff(y) >= 0)


def test_softmax_rows_sum_to_one_even_for_large_inputs():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = SoftMax().forward(np.array([[1000.0, 0.0, -1000.0], [1.0, 2.0, 3.0]]))
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-15)
    assert y[0, 0] == 1.0


# --- FullyConnected -----------------------------------------------------------------------------

def test_fully_connected_weights_layout_and_constructor_fill():
    layer = FullyConnected(4, 3)
    assert layer.weights.shape == (5, 3)
    assert np.all((layer.weights >= 0) & (layer.weights < 1)) and np.unique(layer.weights).size == 15
    x = normal(2, 4)
    np.testing.assert_allclose(layer.forward(x), x @ layer.weights[:4] + layer.weights[4], rtol=1e-15)


def test_fully_connected_weights_setter_changes_forward():
    layer = FullyConnected(2, 2)
    x = normal(3, 2)
    before = layer.forward(x)
    layer.weights = np.zeros((3, 2))
    np.testing.assert_array_equal(layer.forward(x), np.zeros((3, 2)))
    layer.set_weights(np.vstack([np.eye(2), [[1.0, -1.0]]]))
    np.testing.assert_array_equal(layer.get_weights()[2], [1.0, -1.0])
    np.testing.assert_allclose(layer.forward(x), x + [1.0, -1.0], rtol=1e-15)
    assert not np.allclose(before, layer.forward(x))


class RecordingInitializer:
    """Returns `value` everywhere and records every call."""

    def __init__(self, value):
        self.value = value
        self.calls = []

    def initialize(self, weights_shape, fan_in, fan_out):
        self.calls.append((tuple(weights_shape), fan_in, fan_out))
        return np.full(weights_shape, self.value)


def test_fully_connected_initialize_passes_block_and_bias_row_with_the_layer_fans():
    layer = FullyConnected(4, 3)
    weights_init, bias_init = RecordingInitializer(0.5), RecordingInitializer(-2.0)
    layer.initialize(weights_init, bias_init)
    assert weights_init.calls == [((4, 3), 4, 3)]
    assert bias_init.calls == [((1, 3), 4, 3)]
    np.testing.assert_array_equal(layer.weights[:4], 0.5)
    np.testing.assert_array_equal(layer.weights[4], -2.0)


def test_fully_connected_updates_only_with_an_optimizer():
    layer = fully_connected()
    x, upstream = normal(6, 4), normal(6, 3, seed=5)
    start = layer.weights.copy()
    layer.forward(x)
    layer.backward(upstream)
    np.testing.assert_array_equal(layer.weights, start)
    np.testing.assert_allclose(layer.get_gradient_weights(), layer.gradient_weights)
    layer.set_optimizer(Sgd(0.1))
    layer.forward(x)
    gradient_input = layer.backward(upstream)
    np.testing.assert_allclose(layer.weights, start - 0.1 * layer.gradient_weights, rtol=1e-15)
    np.testing.assert_allclose(gradient_input, upstream @ start[:4].T, rtol=1e-15)  # pre-update weights


# --- Dropout ------------------------------------------------------------------------------------

def test_dropout_keeps_the_given_fraction_and_preserves_the_mean():
    x = np.ones((400, 500))
    out = Dropout(0.3).forward(x)
    kept = np.mean(out != 0)
    std = np.sqrt(0.3 * 0.7 / x.size)
    assert abs(kept - 0.3) < 5 * std
    assert abs(out.mean() - 1.0) < 5 * std / 0.3
    assert set(np.unique(out)) == {0.0, 1 / 0.3}


def test_dropout_is_identity_in_testing_phase_and_reproducible_by_reseeding():
    layer = Dropout(0.5)
    x = normal(20, 10)
    layer.testing_phase = True
    np.testing.assert_array_equal(layer.forward(x), x)
    upstream = normal(20, 10, seed=3)
    np.testing.assert_array_equal(layer.backward(upstream), upstream)
    layer.testing_phase = False
    np.random.seed(7)
    first = layer.forward(x)
    np.random.seed(7)
    np.testing.assert_array_equal(Dropout(0.5).forward(x), first)
    np.testing.assert_array_equal(layer.backward(upstream), upstream * (first != 0) / 0.5)
    np.testing.assert_array_equal(Dropout(1.0).forward(x), x)


# --- BatchNormalization -------------------------------------------------------------------------

def test_batch_norm_normalizes_batches_and_starts_at_identity_parameters():
    layer = BatchNormalization(3)
    np.testing.assert_array_equal(layer.weights, np.ones(3))
    np.testing.assert_array_equal(layer.bias, np.zeros(3))
    assert layer.trainable and layer.eps < 1e-10
    x = 5.0 + 3.0 * normal(50, 3)
    out = layer.forward(x)
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=0), 1.0, rtol=1e-10)
    layer.weights, layer.bias = np.full(3, 2.0), np.full(3, 0.5)
    layer.initialize(Constant(7.0), Constant(7.0))
    np.testing.assert_array_equal(layer.weights, np.ones(3))
    np.testing.assert_array_equal(layer.bias, np.zeros(3))


def test_batch_norm_moving_averages_start_at_the_first_batch_and_drive_the_testing_phase():
    layer = batch_norm()
    batches = [2.0 + normal(10, 3, seed=s) * (1 + s) for s in range(4)]
    layer.forward(batches[0])
    np.testing.assert_array_equal(layer.moving_mean, batches[0].mean(axis=0))
    np.testing.assert_array_equal(layer.moving_var, batches[0].var(axis=0))
    mean, var = batches[0].mean(axis=0), batches[0].var(axis=0)
    for batch in batches[1:]:
        layer.forward(batch)
        mean = layer.momentum * mean + (1 - layer.momentum) * batch.mean(axis=0)
        var = layer.momentum * var + (1 - layer.momentum) * batch.var(axis=0)
    np.testing.assert_allclose(layer.moving_mean, mean, rtol=1e-14)
    np.testing.assert_allclose(layer.moving_var, var, rtol=1e-14)
    layer.testing_phase = True
    x = normal(4, 3, seed=11)
    expected = layer.weights * (x - mean) / np.sqrt(var + layer.eps) + layer.bias
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-13)
    np.testing.assert_allclose(layer.moving_mean, mean, rtol=1e-14)  # testing leaves them alone


def test_batch_norm_reformat_round_trip_and_image_equals_vector_case():
    layer = batch_norm()
    images = normal(2, 3, 4, 5)
    rows = layer.reformat(images)
    np.testing.assert_array_equal(rows, images.transpose(0, 2, 3, 1).reshape(-1, 3))
    np.testing.assert_array_equal(layer.reformat(rows), images)
    vector_layer = batch_norm()
    np.testing.assert_allclose(layer.reformat(layer.forward(images)), vector_layer.forward(rows), rtol=1e-14)
    upstream = normal(2, 3, 4, 5, seed=12)
    np.testing.assert_allclose(layer.reformat(layer.backward(upstream)),
                               vector_layer.backward(layer.reformat(upstream)), rtol=1e-13)


def test_batch_norm_updates_gamma_and_beta_with_separate_optimizer_copies():
    layer = batch_norm()
    optimizer = Sgd(0.1)
    layer.optimizer = optimizer
    assert layer.optimizer is not optimizer and layer._optimizer_bias is not layer.optimizer
    gamma, beta = layer.weights.copy(), layer.bias.copy()
    layer.forward(normal(6, 3))
    layer.backward(normal(6, 3, seed=13))
    np.testing.assert_allclose(layer.weights, gamma - 0.1 * layer.gradient_weights, rtol=1e-15)
    np.testing.assert_allclose(layer.bias, beta - 0.1 * layer.gradient_bias, rtol=1e-15)


# --- bad input ----------------------------------------------------------------------------------

@pytest.mark.parametrize("make, name", [
    (lambda: FullyConnected(0, 3), "input_size"),
    (lambda: FullyConnected(3, -1), "output_size"),
    (lambda: BatchNormalization(0), "channels"),
])
def test_sizes_must_be_positive(make, name):
    with pytest.raises(ValueError, match=name):
        make()


def test_sizes_must_be_integers():
    with pytest.raises(TypeError, match="input_size"):
        FullyConnected(2.5, 3)


@pytest.mark.parametrize("layer, x", [
    (FullyConnected(3, 2), np.ones(3)),
    (SoftMax(), np.ones((2, 3, 1))),
    (BatchNormalization(3), np.ones((2, 3, 1))),
])
def test_wrong_number_of_dimensions(layer, x):
    with pytest.raises(ValueError, match="input_tensor: expected an array with"):
        layer.forward(x)


@pytest.mark.parametrize("make, x, upstream", [
    (lambda: FullyConnected(3, 2), np.ones((4, 3)), np.ones((4, 3))),
    (TanH, np.ones((4, 3)), np.ones((3, 4))),
    (Sigmoid, np.ones((4, 3)), np.ones((4, 2))),
    (ReLU, np.ones((4, 3)), np.ones(12)),
    (lambda: Dropout(0.5), np.ones((4, 3)), np.ones((4, 4))),
    (lambda: BatchNormalization(3), np.ones((4, 3)), np.ones((5, 3))),
    (Flatten, np.ones((4, 3, 2)), np.ones((4, 5))),
])
def test_mismatched_error_tensor_shape(make, x, upstream):
    layer = make()
    layer.forward(x)
    with pytest.raises(ValueError, match="error_tensor"):
        layer.backward(upstream)


def test_mismatched_input_and_weight_shapes():
    with pytest.raises(ValueError, match="input_tensor: expected shape"):
        FullyConnected(3, 2).forward(np.ones((4, 5)))
    with pytest.raises(ValueError, match="weights: expected shape"):
        FullyConnected(3, 2).weights = np.ones((3, 2))
    with pytest.raises(ValueError, match="input_tensor: expected shape"):
        BatchNormalization(3).forward(np.ones((4, 2, 5, 5)))
    with pytest.raises(ValueError, match="bias: expected shape"):
        BatchNormalization(3).bias = np.ones(4)


@pytest.mark.parametrize("make", [lambda: FullyConnected(3, 3), TanH, Sigmoid, ReLU, SoftMax, Flatten,
                                  lambda: Dropout(0.5), lambda: BatchNormalization(3)])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_input(make, bad):
    x = np.ones((4, 3))
    x[1, 2] = bad
    with pytest.raises(ValueError, match="input_tensor: expected finite values"):
        make().forward(x)


@pytest.mark.parametrize("probability", [0.0, -0.1, 1.5, np.nan])
def test_dropout_probability_outside_zero_one(probability):
    with pytest.raises(ValueError, match="probability"):
        Dropout(probability)


def test_backward_before_forward():
    with pytest.raises(RuntimeError, match="forward first"):
        TanH().backward(np.ones((2, 2)))
    with pytest.raises(RuntimeError, match="forward first"):
        FullyConnected(2, 2).backward(np.ones((2, 2)))


@pytest.mark.parametrize("labels, message", [
    (np.array([0, 4]), r"labels in \[0, 3\)"),
    (np.array([-1, 0]), r"labels in \[0, 3\)"),
    (np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]), "one-hot rows"),
    (np.eye(4)[[0, 1]], "one-hot labels with 3 columns"),
])
def test_cross_entropy_labels_out_of_range(labels, message):
    with pytest.raises(ValueError, match=f"label_tensor: expected {message}"):
        CrossEntropyLoss().forward(np.full((2, 3), 1 / 3), labels)


def test_cross_entropy_rejects_non_probabilities():
    with pytest.raises(ValueError, match="prediction_tensor"):
        CrossEntropyLoss().forward(np.array([[2.0, -1.0]]), np.array([0]))
