"""helpers.framework.LSTM: gradients by finite differences, memorize/TBPTT, bptt_length, optimizer, regularizer."""
from __future__ import annotations

import copy

import numpy as np
import pytest

from doubles import RecordingInitializer
from helpers.framework import LSTM, Constant, L2_Regularizer, Sgd
from helpers.framework.sigmoid import sigmoid
from helpers.gradcheck import check, check_layer, layer_weights_gradient, numerical_gradient_array, rel_error
from helpers.numpy_lstm import lstm_forward

T, D, H, O = 6, 3, 4, 2


def make_layer(bptt_length=None, seed=0):
    """An LSTM layer with non-symmetric, zero-centred weights (gates neither saturated nor alike)."""
    np.random.seed(seed)
    layer = LSTM(D, H, O, bptt_length=bptt_length)
    rng = np.random.default_rng(seed)
    layer.weights = 0.5 * rng.standard_normal(layer.weights.shape)
    layer.output_layer.weights = 0.5 * rng.standard_normal(layer.output_layer.weights.shape)
    return layer


def sequence(seed=1, length=T):
    return np.random.default_rng(seed).standard_normal((length, D))


def upstream(seed=2, length=T):
    return np.random.default_rng(seed).standard_normal((length, O))


def test_weights_shape_and_forward_shape():
    layer = make_layer()
    assert layer.weights.shape == (D + H + 1, 4 * H)
    assert layer.forward(sequence()).shape == (T, O)
    assert layer.backward(upstream()).shape == (T, D)
    assert layer.gradient_weights.shape == layer.weights.shape


def test_input_and_weight_gradients_match_finite_differences():
    check_layer(make_layer(), sequence(), tolerance=1e-7)


def test_read_out_and_initial_state_gradients_match_finite_differences():
    layer = make_layer()
    layer.memorize = True
    layer.hidden_state = np.random.default_rng(3).standard_normal(H)
    layer.cell_state = np.random.default_rng(4).standard_normal(H)
    x, dy = sequence(), upstream()
    analytic = copy.deepcopy(layer)
    analytic.forward(x)
    analytic.backward(dy)

    def output():
        return copy.deepcopy(layer).forward(x)

    check({"output_layer.weights": (analytic.output_layer.gradient_weights,
                                    numerical_gradient_array(output, layer.output_layer.weights, dy)),
           "h0": (analytic.gradient_hidden_state, numerical_gradient_array(output, layer.hidden_state, dy)),
           "c0": (analytic.gradient_cell_state, numerical_gradient_array(output, layer.cell_state, dy))},
          tolerance=1e-7)


def test_forward_equals_the_batched_numpy_lstm():
    layer = make_layer()
    x = sequence()
    W, W_out = layer.weights, layer.output_layer.weights
    hs, _ = lstm_forward(x[None], np.zeros((1, H)), W[:D], W[D:D + H], W[-1])
    assert rel_error(layer.forward(x), sigmoid(hs[0] @ W_out[:-1] + W_out[-1])) <= 1e-14


def test_memorize_carries_hidden_and_cell_state_across_calls():
    x = sequence(length=2 * T)
    whole = make_layer().forward(x)
    layer = make_layer()
    assert layer.memorize is False
    layer.toggle_memory()
    assert layer.memorize is True
    parts = np.concatenate([layer.forward(x[:T]), layer.forward(x[T:])])
    assert rel_error(parts, whole) <= 1e-14
    layer.toggle_memory()
    assert rel_error(layer.forward(x[T:]), make_layer().forward(x[T:])) <= 1e-14


def test_memorized_state_is_a_constant_for_the_gradient():
    """TBPTT across calls: with memorize on, the gradient of the second call matches finite differences
    that keep the carried-over state fixed."""
    layer = make_layer()
    layer.memorize = True
    layer.forward(sequence(5))
    check_layer(layer, sequence(6), tolerance=1e-7)


def brute_force_truncated_gradient(layer, x, dy, k):
    """BPTT(k) by brute force: for every output t, finite differences of its loss term with respect to
    the weights of steps t-k+1 ... t only, starting from the true (h, c) at step t-k as constants."""
    reference = copy.deepcopy(layer)
    reference.memorize = True
    total = np.zeros_like(layer.weights)
    for t in range(len(x)):
        start = max(0, t - k + 1)
        window = copy.deepcopy(reference)
        window.hidden_state, window.cell_state = np.zeros(H), np.zeros(H)
        if start > 0:
            window.forward(x[:start])          # leaves h_{start-1}, c_{start-1} as the carried state
        weighting = np.zeros((t - start + 1, O))
        weighting[-1] = dy[t]
        total += layer_weights_gradient(window, x[start:t + 1], weighting)
    return total


@pytest.mark.parametrize("k", [1, 2, 4])
def test_bptt_length_matches_brute_force_truncation(k):
    layer = make_layer(bptt_length=k)
    x, dy = sequence(), upstream()
    layer.forward(x)
    dx = layer.backward(dy)
    check({f"weights (bptt_length={k})": (layer.gradient_weights, brute_force_truncated_gradient(layer, x, dy, k))},
          tolerance=1e-7)
    full = make_layer()
    full.forward(x)
    assert np.array_equal(dx, full.backward(dy))                          # the input error is never truncated
    assert rel_error(layer.gradient_weights, full.gradient_weights) > 1e-3  # truncation changes the weights' gradient


def test_bptt_length_at_least_T_is_full_bptt():
    x, dy = sequence(), upstream()
    gradients = []
    for k in (None, T, T + 3):
        layer = make_layer(bptt_length=k)
        layer.forward(x)
        layer.backward(dy)
        gradients.append(layer.gradient_weights)
    assert np.array_equal(gradients[0], gradients[1]) and np.array_equal(gradients[0], gradients[2])


def test_optimizer_updates_both_layers_with_their_own_copies():
    layer = make_layer()
    optimizer = Sgd(0.1)
    layer.optimizer = optimizer
    weights, read_out = layer.weights.copy(), layer.output_layer.weights.copy()
    layer.forward(sequence())
    layer.backward(upstream())
    assert np.allclose(layer.weights, weights - 0.1 * layer.gradient_weights, rtol=0, atol=1e-15)
    assert np.allclose(layer.output_layer.weights, read_out - 0.1 * layer.output_layer.gradient_weights,
                       rtol=0, atol=1e-15)
    first, second = layer._layer_optimizers
    assert first is not second and optimizer not in (first, second)


def test_without_optimizer_backward_changes_no_weight():
    layer = make_layer()
    weights, read_out = layer.weights.copy(), layer.output_layer.weights.copy()
    layer.forward(sequence())
    layer.backward(upstream())
    assert np.array_equal(layer.weights, weights) and np.array_equal(layer.output_layer.weights, read_out)
    assert np.any(layer.gradient_weights != 0)


def test_regularization_loss_and_a_regularized_step_lowering_it():
    layer = make_layer()
    assert layer.calculate_regularization_loss() == 0.0
    optimizer = Sgd(0.05)
    optimizer.add_regularizer(L2_Regularizer(0.01))
    layer.optimizer = optimizer
    expected = 0.01 * (np.sum(layer.weights ** 2) + np.sum(layer.output_layer.weights ** 2))
    assert layer.calculate_regularization_loss() == pytest.approx(expected, rel=1e-14)

    x = sequence()
    target = np.random.default_rng(5).uniform(0.2, 0.8, (T, O))

    def regularized_loss():
        return 0.5 * np.sum((copy.deepcopy(layer).forward(x) - target) ** 2) + layer.calculate_regularization_loss()

    before = regularized_loss()
    y = layer.forward(x)
    layer.backward(y - target)
    assert regularized_loss() < before


def test_weights_setter_changes_forward_and_old_accessors_work():
    layer = make_layer()
    x = sequence()
    before = layer.forward(x)
    layer.set_weights(layer.get_weights() * 0.5)
    assert not np.allclose(layer.forward(x), before)
    layer.backward(upstream())
    assert layer.get_gradient_weights() is layer.gradient_weights
    layer.set_optimizer(Sgd(0.1))
    assert isinstance(layer.optimizer, Sgd)


def test_initialize_fills_the_weight_block_and_the_bias_row():
    layer = LSTM(D, H, O)
    weights_initializer, bias_initializer = RecordingInitializer(0.3), Constant(-0.2)
    layer.initialize(weights_initializer, bias_initializer)
    assert np.all(layer.weights[:-1] == 0.3) and np.all(layer.weights[-1] == -0.2)
    assert weights_initializer.calls[0] == ((D + H, 4 * H), D + H, 4 * H)   # the block without the bias row
    assert weights_initializer.calls[1] == ((H, O), H, O)                   # the output layer


@pytest.mark.parametrize("kwargs, error, name", [
    ({"input_size": 0}, ValueError, "input_size"),
    ({"hidden_size": 2.0}, TypeError, "hidden_size"),
    ({"output_size": -3}, ValueError, "output_size"),
    ({"bptt_length": 0}, ValueError, "bptt_length"),
    ({"bptt_length": "all"}, TypeError, "bptt_length"),
])
def test_constructor_rejects_bad_arguments(kwargs, error, name):
    with pytest.raises(error, match=name):
        LSTM(**{"input_size": D, "hidden_size": H, "output_size": O, **kwargs})


def test_bad_input_is_rejected():
    layer = make_layer()
    with pytest.raises(RuntimeError, match="forward"):
        layer.backward(upstream())
    with pytest.raises(ValueError, match="input_tensor"):
        layer.forward(np.zeros((T, D + 1)))
    with pytest.raises(ValueError, match="input_tensor"):
        layer.forward(np.zeros((0, D)))
    with pytest.raises(ValueError, match="input_tensor"):
        layer.forward(np.full((T, D), np.nan))
    with pytest.raises(TypeError, match="memorize"):
        layer.memorize = 1
    with pytest.raises(ValueError, match="weights"):
        layer.weights = np.zeros((D + H, 4 * H))
    with pytest.raises(TypeError, match="optimizer"):
        layer.optimizer = "sgd"
    layer.forward(sequence())
    with pytest.raises(ValueError, match="error_tensor"):
        layer.backward(np.zeros((T + 1, O)))
