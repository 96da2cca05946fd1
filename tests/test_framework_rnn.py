"""helpers.framework.RNN: gradients by finite differences, truncation against brute force, memory,
optimizer and regularizer, the course's accessors, bad input.

Tolerances (DESIGN.md section 2): norm-relative error <= 1e-7 against central finite differences
(step 1e-5); <= 1e-12 against the batched NumPy code on the same float64 computation.
"""
from __future__ import annotations

import copy

import numpy as np
import pytest

from doubles import RecordingInitializer
from helpers import gradcheck
from helpers.framework import RNN, Adam, Constant, He, L2_Regularizer, Sgd, UniformRandom
from helpers.framework.sigmoid import sigmoid
from helpers.numpy_rnn import rnn_backward, rnn_forward

T, D, H, O = 7, 4, 5, 3
FD_TOLERANCE = 1e-7
EXACT_TOLERANCE = 1e-12


@pytest.fixture(autouse=True)
def seeded():
    np.random.seed(0)


def normal(*shape, seed=1):
    return np.random.default_rng(seed).standard_normal(shape)


def rnn(bptt_length=None) -> RNN:
    """A layer with non-symmetric weights of moderate size (tanh neither linear nor saturated)."""
    layer = RNN(D, H, O, bptt_length)
    layer.weights = 0.5 * normal(D + H + 1, H, seed=2)
    layer.output_layer.weights = 0.5 * normal(H + 1, O, seed=3)
    return layer


def forward_backward(layer, x, upstream):
    """Forward and backward on a copy of `layer`: returns (copy with its gradients set, input gradient)."""
    layer = copy.deepcopy(layer)
    layer.forward(x)
    return layer, layer.backward(upstream)


def output_weights_gradient(layer, x, upstream):
    """Finite differences of sum(forward(x) * upstream) with respect to the output layer's weights."""
    weights = layer.output_layer.weights.copy()

    def forward():
        fresh = copy.deepcopy(layer)
        fresh.output_layer.weights = weights
        return fresh.forward(x)

    return gradcheck.numerical_gradient_array(forward, weights, upstream)


@pytest.mark.parametrize("carried_state", [False, True], ids=["zero start", "memorized start"])
def test_every_gradient_matches_finite_differences(carried_state):
    layer = rnn()
    layer.memorize = True  # the start state is read from hidden_state, so it can be perturbed
    if carried_state:
        layer.forward(normal(3, D, seed=4))
    assert np.any(layer.hidden_state != 0) == carried_state
    x, upstream = normal(T, D, seed=5), normal(T, O, seed=6)
    result, dx = forward_backward(layer, x, upstream)
    gradcheck.check({
        "input": (dx, gradcheck.layer_input_gradient(layer, x, upstream)),
        "weights": (result.gradient_weights, gradcheck.layer_weights_gradient(layer, x, upstream)),
        "output weights": (result.output_layer.gradient_weights, output_weights_gradient(layer, x, upstream)),
        "initial state": (result.gradient_hidden_state,
                          gradcheck.layer_weights_gradient(layer, x, upstream, attribute="hidden_state")),
    }, FD_TOLERANCE)


def test_check_layer_passes_on_a_he_initialised_layer():
    layer = RNN(D, H, O)
    layer.initialize(He(), He())
    rows = gradcheck.check_layer(layer, normal(T, D, seed=7), tolerance=FD_TOLERANCE)
    assert [row.name for row in rows] == ["input", "weights"]


def test_layer_computes_the_batched_numpy_rnn_with_a_sigmoid_read_out():
    layer = rnn()
    x, upstream = normal(T, D, seed=8), normal(T, O, seed=9)
    result, dx = forward_backward(layer, x, upstream)
    W, V = layer.weights, layer.output_layer.weights
    h, cache = rnn_forward(x[None], np.zeros((1, H)), W[:D], W[D:D + H], W[-1])
    y = sigmoid(h[0] @ V[:-1] + V[-1])
    dh = ((upstream * y * (1 - y)) @ V[:-1].T)[None]
    ndx, ndh0, dWx, dWh, db = rnn_backward(dh, cache)
    gradcheck.check({"output": (layer.forward(x), y), "input": (dx, ndx[0]),
                     "weights": (result.gradient_weights, np.vstack([dWx, dWh, db])),
                     "initial state": (result.gradient_hidden_state, ndh0[0])}, EXACT_TOLERANCE)


def brute_force_truncated_gradient(layer, x, upstream, k):
    """Finite differences of sum_t <upstream_t, y_t>, where y_t is recomputed from the stored state h_{t-k}
    (a constant from the unperturbed forward pass) through the k steps t-k+1..t with perturbed weights."""
    W0, V = layer.weights.copy(), layer.output_layer.weights
    states = [np.zeros(H)]
    for x_t in x:
        states.append(np.tanh(np.concatenate([x_t, states[-1], [1.0]]) @ W0))
    W = W0.copy()

    def truncated_outputs():
        outputs = []
        for t in range(1, len(x) + 1):
            start = max(t - k, 0)
            h = states[start]
            for s in range(start + 1, t + 1):
                h = np.tanh(np.concatenate([x[s - 1], h, [1.0]]) @ W)
            outputs.append(sigmoid(np.append(h, 1.0) @ V))
        return np.array(outputs)

    return gradcheck.numerical_gradient_array(truncated_outputs, W, upstream)


@pytest.mark.parametrize("k", [1, 2, T - 1])
def test_truncated_weight_gradient_matches_brute_force_and_input_gradient_stays_full(k):
    x, upstream = normal(T, D, seed=10), normal(T, O, seed=11)
    truncated, dx_truncated = forward_backward(rnn(bptt_length=k), x, upstream)
    full, dx_full = forward_backward(rnn(), x, upstream)
    gradcheck.check({"weights (truncated)": (truncated.gradient_weights,
                                             brute_force_truncated_gradient(rnn(), x, upstream, k))},
                    FD_TOLERANCE)
    gradcheck.check({"input (full BPTT)": (dx_truncated, dx_full),
                     "output weights": (truncated.output_layer.gradient_weights, full.output_layer.gradient_weights)},
                    EXACT_TOLERANCE)
    assert gradcheck.rel_error(truncated.gradient_weights, full.gradient_weights) > 1e-6


@pytest.mark.parametrize("k", [T, T + 5])
def test_bptt_length_of_at_least_the_sequence_length_is_full_bptt(k):
    x, upstream = normal(T, D, seed=12), normal(T, O, seed=13)
    truncated, _ = forward_backward(rnn(bptt_length=k), x, upstream)
    full, _ = forward_backward(rnn(), x, upstream)
    np.testing.assert_array_equal(truncated.gradient_weights, full.gradient_weights)


def test_memorize_carries_the_state_across_calls():
    layer = rnn()
    assert layer.memorize is False
    first, second = normal(3, D, seed=14), normal(4, D, seed=15)
    np.testing.assert_array_equal(layer.forward(second), layer.forward(second))  # no memory: same start
    layer.toggle_memory()
    assert layer.memorize is True
    whole = copy.deepcopy(layer)
    whole.hidden_state = np.zeros(H)
    expected = whole.forward(np.vstack([first, second]))
    layer.hidden_state = np.zeros(H)
    layer.forward(first)
    continued = layer.forward(second)
    gradcheck.check({"second call": (continued, expected[3:])}, EXACT_TOLERANCE)
    assert not np.allclose(continued, rnn().forward(second))
    layer.toggle_memory()
    assert layer.memorize is False


def test_equal_inputs_at_two_steps_give_different_outputs():
    """The course's stateful-forward test: the state changes between the two steps."""
    layer = RNN(13, 7, 5)
    output = layer.forward(np.tile(np.random.rand(1, 13), (2, 1)))
    assert np.sum((output[0] - output[1]) ** 2) > 0


def test_bias_alone_drives_the_output():
    """The course's bias test: zero input, uniformly initialised weights -> positive outputs."""
    layer = RNN(1000, 10, 1)
    layer.initialize(UniformRandom(), UniformRandom())
    assert np.sum(layer.forward(np.zeros((1, 1000)))) > 0


def test_sgd_updates_both_internal_layers_with_their_own_gradients():
    layer = rnn()
    layer.optimizer = Sgd(0.1)
    before, before_output = layer.weights.copy(), layer.output_layer.weights.copy()
    x, upstream = normal(T, D, seed=16), normal(T, O, seed=17)
    layer.forward(x)
    layer.backward(upstream)
    np.testing.assert_allclose(layer.weights, before - 0.1 * layer.gradient_weights, rtol=0, atol=1e-15)
    np.testing.assert_allclose(layer.output_layer.weights,
                               before_output - 0.1 * layer.output_layer.gradient_weights, rtol=0, atol=1e-15)


def test_each_internal_layer_gets_its_own_copy_of_the_optimizer():
    optimizer = Adam(1e-3)
    layer = rnn()
    layer.optimizer = optimizer
    assert layer.optimizer is optimizer
    for _ in range(2):  # Adam keeps per-shape moments: a shared copy would refuse the second shape
        layer.forward(normal(T, D, seed=18))
        layer.backward(normal(T, O, seed=19))
    assert optimizer.k == 0 and optimizer.v is None  # the optimizer handed in is not used itself


def test_without_optimizer_backward_changes_no_weight():
    layer = rnn()
    before, before_output = layer.weights.copy(), layer.output_layer.weights.copy()
    layer.forward(normal(T, D, seed=20))
    layer.backward(normal(T, O, seed=21))
    np.testing.assert_array_equal(layer.weights, before)
    np.testing.assert_array_equal(layer.output_layer.weights, before_output)


def test_course_update_test_output_grows_along_its_own_direction():
    """The course's update test: error = -output with Sgd(1) makes the outputs' squares grow."""
    layer = RNN(13, 7, 5)
    layer.optimizer = Sgd(1)
    x = np.random.rand(9, 13)
    for _ in range(10):
        output = layer.forward(x)
        layer.backward(-output)
        assert np.sum(layer.forward(x) ** 2) > np.sum(output ** 2)


def test_an_l2_regularized_training_step_lowers_the_regularized_loss():
    layer = RNN(D, H, O)
    layer.initialize(He(), He())
    optimizer = Sgd(0.05)
    optimizer.add_regularizer(L2_Regularizer(0.01))
    layer.optimizer = optimizer
    x, target = normal(T, D, seed=22), np.random.default_rng(23).uniform(0.1, 0.9, (T, O))

    def regularized_loss():
        return 0.5 * np.sum((layer.forward(x) - target) ** 2) + layer.calculate_regularization_loss()

    losses = [regularized_loss()]
    for _ in range(5):
        layer.forward(x)
        layer.backward(layer.forward(x) - target)
        losses.append(regularized_loss())
    assert np.all(np.diff(losses) < 0), losses


def test_regularization_loss_counts_both_weight_matrices():
    layer = rnn()
    assert layer.calculate_regularization_loss() == 0.0
    optimizer = Sgd(0.1)
    layer.optimizer = optimizer
    assert layer.calculate_regularization_loss() == 0.0
    optimizer.add_regularizer(L2_Regularizer(0.3))
    layer.optimizer = optimizer
    expected = 0.3 * (np.sum(layer.weights ** 2) + np.sum(layer.output_layer.weights ** 2))
    assert layer.calculate_regularization_loss() == pytest.approx(expected, rel=1e-14)


def test_initialize_hands_each_internal_layer_its_weight_block_and_bias_row():
    layer = RNN(D, H, O)
    weights, bias = RecordingInitializer(0.25), RecordingInitializer(-0.5)
    layer.initialize(weights, bias)
    assert weights.calls == [((D + H, H), D + H, H), ((H, O), H, O)]
    assert bias.calls == [((1, H), D + H, H), ((1, O), H, O)]
    assert layer.weights.shape == (D + H + 1, H)
    assert np.all(layer.weights[:-1] == 0.25) and np.all(layer.weights[-1] == -0.5)
    assert np.all(layer.output_layer.weights[-1] == -0.5)


def test_weights_setter_changes_forward_and_old_accessor_names_work():
    layer = rnn()
    x = normal(T, D, seed=24)
    before = layer.forward(x)
    layer.set_weights(layer.get_weights() * 0.5)
    assert not np.allclose(layer.forward(x), before)
    layer.weights = layer.weights * 2.0
    np.testing.assert_allclose(layer.forward(x), before, rtol=0, atol=1e-15)
    layer.backward(normal(T, O, seed=25))
    assert layer.get_gradient_weights() is layer.gradient_weights
    layer.set_optimizer(Sgd(0.1))
    assert isinstance(layer.optimizer, Sgd)
    assert layer.trainable and layer.testing_phase is False


def test_constructor_fills_the_weights_without_initialize():
    layer = RNN(D, H, O)
    assert layer.weights.shape == (D + H + 1, H) and np.all((0 <= layer.weights) & (layer.weights < 1))
    layer.initialize(Constant(0.1), Constant(0.0))
    assert np.all(layer.weights[:-1] == 0.1) and np.all(layer.weights[-1] == 0.0)


@pytest.mark.parametrize("arguments, name, error", [
    ((0, H, O, None), "input_size", ValueError),
    ((D, -1, O, None), "hidden_size", ValueError),
    ((D, H, "3", None), "output_size", TypeError),
    ((D, H, O, 0), "bptt_length", ValueError),
    ((D, H, O, 2.5), "bptt_length", TypeError),
])
def test_constructor_rejects_bad_arguments(arguments, name, error):
    with pytest.raises(error, match=name):
        RNN(*arguments)


@pytest.mark.parametrize("value, error", [
    (np.zeros((T, D + 1)), ValueError), (np.zeros((0, D)), ValueError), (np.zeros(D), ValueError),
    (np.full((T, D), np.nan), ValueError), ("abc", TypeError)])
def test_forward_rejects_bad_input(value, error):
    with pytest.raises(error, match="input_tensor"):
        rnn().forward(value)


def test_backward_rejects_bad_error_tensors():
    layer = rnn()
    with pytest.raises(RuntimeError, match="forward first"):
        layer.backward(np.zeros((T, O)))
    layer.forward(normal(T, D))
    with pytest.raises(ValueError, match="error_tensor"):
        layer.backward(np.zeros((T + 1, O)))
    with pytest.raises(ValueError, match="error_tensor"):
        layer.backward(np.full((T, O), np.inf))


def test_setters_reject_bad_values():
    layer = rnn()
    with pytest.raises(ValueError, match="weights"):
        layer.weights = np.zeros((D + H, H))
    with pytest.raises(TypeError, match="memorize"):
        layer.memorize = 1
    with pytest.raises(TypeError, match="optimizer"):
        layer.optimizer = "sgd"
