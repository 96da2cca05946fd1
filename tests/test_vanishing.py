"""helpers.vanishing: the backward recursion against autograd and explicit Jacobians, the estimate, bad input."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from helpers.framework import Sigmoid, TanH  # noqa: E402
from helpers.gradcheck import max_rel_error, rel_error  # noqa: E402
from helpers.vanishing import (ACTIVATIONS, activation_derivative, autograd_gradient_norms,  # noqa: E402
                               decay_curves, gradient_decay, gradient_log_norms, per_step_factor, plot_gradient_decay,
                               rms_derivative)


def problem(hidden=6, steps=15, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(hidden), 0.8 * rng.standard_normal((hidden, hidden)),
            1.5 * rng.standard_normal((steps, hidden)))


@pytest.mark.parametrize("activation, layer", [("tanh", TanH), ("sigmoid", Sigmoid)])
def test_activation_derivative_matches_the_layers_and_autograd(activation, layer):
    a = 3 * np.random.default_rng(1).standard_normal((4, 5))
    module = layer()
    module.forward(a)
    np.testing.assert_allclose(activation_derivative(a, activation), module.backward(np.ones_like(a)), rtol=1e-15)
    a_t = torch.tensor(a, requires_grad=True)
    {"tanh": torch.tanh, "sigmoid": torch.sigmoid}[activation](a_t).sum().backward()
    assert rel_error(activation_derivative(a, activation), a_t.grad.numpy()) <= 1e-12


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_recursion_matches_autograd_through_a_real_recurrence(activation):
    upstream, w, a = problem()
    ours = 10 ** gradient_log_norms(upstream, w, a, activation)
    assert ours.shape == (16,)
    assert max_rel_error(ours, autograd_gradient_norms(upstream, w, a, activation)) <= 1e-12


def test_recursion_matches_the_explicit_product_of_jacobians():
    upstream, w, a = problem(hidden=4, steps=6)
    jacobian_product = np.eye(4)
    for k in range(1, 7):
        # d h_t / d h_{t-1} = diag(phi'(a_t)) W_hh, t = 7 - k; chain from h_T back to h_{T-k}
        jacobian_product = jacobian_product @ (np.diag(activation_derivative(a[6 - k])) @ w)
        expected = np.linalg.norm(jacobian_product.T @ upstream)
        assert abs(gradient_log_norms(upstream, w, a)[k] - np.log10(expected)) <= 1e-13


def test_long_products_do_not_underflow():
    rng = np.random.default_rng(2)
    w = 0.1 * rng.standard_normal((8, 8)) / np.sqrt(8)
    log_norms = gradient_log_norms(rng.standard_normal(8), w, 4 * rng.standard_normal((2000, 8)), "sigmoid")
    assert np.all(np.isfinite(log_norms)) and log_norms[-1] < -2000


def test_rms_derivative_values_and_monte_carlo():
    assert rms_derivative(0.0, "tanh") == pytest.approx(1.0, rel=1e-15)
    assert rms_derivative(0.0, "sigmoid") == pytest.approx(0.25, rel=1e-15)
    samples = 2.0 * np.random.default_rng(3).standard_normal(400_000)
    for activation in ACTIVATIONS:
        monte_carlo = np.sqrt(np.mean(activation_derivative(samples, activation) ** 2))
        assert rms_derivative(2.0, activation) == pytest.approx(monte_carlo, rel=5e-3)
    assert rms_derivative(1.0) > rms_derivative(2.0) > rms_derivative(4.0)  # saturation
    assert per_step_factor(3.0, 1.0, "sigmoid") == pytest.approx(3.0 * rms_derivative(1.0, "sigmoid"), rel=1e-15)


@pytest.mark.parametrize("activation, scale", [("tanh", 0.5), ("tanh", 2.0), ("sigmoid", 2.0), ("sigmoid", 8.0)])
def test_mean_decay_follows_the_per_step_estimate(activation, scale):
    log_norms = gradient_decay(40, scale, 1.0, activation, hidden_size=128, trials=8, seed=0)
    slope = np.polyfit(np.arange(41), log_norms, 1)[0]
    assert log_norms[0] == pytest.approx(0.0, abs=1e-15)
    assert slope == pytest.approx(np.log10(per_step_factor(scale, 1.0, activation)), abs=0.01)


def test_gradient_decay_is_seeded():
    first = gradient_decay(10, 1.0, 1.0, hidden_size=8, trials=3, seed=4)
    np.testing.assert_array_equal(gradient_decay(10, 1.0, 1.0, hidden_size=8, trials=3, seed=4), first)
    assert not np.array_equal(gradient_decay(10, 1.0, 1.0, hidden_size=8, trials=3, seed=5), first)
    generator = np.random.default_rng(4)
    np.testing.assert_array_equal(gradient_decay(10, 1.0, 1.0, hidden_size=8, trials=3, seed=generator), first)


def test_decay_curves_sorts_and_deduplicates_the_scales():
    curves = decay_curves(12, [2.0, 0.5, 2.0], 1.0, "sigmoid", hidden_size=8, trials=2, seed=1)
    assert list(curves) == [0.5, 2.0]
    np.testing.assert_array_equal(curves[2.0], gradient_decay(12, 2.0, 1.0, "sigmoid", 8, 2, seed=1))
    with pytest.raises(ValueError, match="weight_scales"):
        decay_curves(12, [], 1.0)
    with pytest.raises(ValueError, match="weight_scales"):
        decay_curves(12, [1.0, -1.0], 1.0)


def test_plot_draws_a_curve_and_an_estimate_per_scale():
    curves = decay_curves(12, (0.5, 2.0), 1.0, hidden_size=8, trials=2)
    fig, ax = plt.subplots()
    assert plot_gradient_decay(curves, 1.0, "tanh", ax, highlight=2.0) is ax
    assert len(ax.get_lines()) == 5  # two curves, two estimates, the zero line
    assert [t.get_text() for t in ax.get_legend().get_texts()][1].startswith("s = 2")
    assert ax.get_lines()[2].get_linewidth() == 3
    plt.close(fig)


# --- bad input ----------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, name, error", [
    ({"steps": 0}, "steps", ValueError),
    ({"weight_scale": 0.0}, "weight_scale", ValueError),
    ({"spread": -1.0}, "spread", ValueError),
    ({"spread": np.nan}, "spread", ValueError),
    ({"activation": "relu"}, "activation", ValueError),
    ({"hidden_size": 0}, "hidden_size", ValueError),
    ({"trials": 1.5}, "trials", TypeError),
    ({"seed": "a"}, "seed", TypeError),
])
def test_gradient_decay_bad_arguments(kwargs, name, error):
    arguments = {"steps": 5, "weight_scale": 1.0, "spread": 1.0} | kwargs
    with pytest.raises(error, match=name):
        gradient_decay(**arguments)


def test_recursion_bad_arguments():
    upstream, w, a = problem()
    with pytest.raises(ValueError, match="recurrent_weights: expected shape"):
        gradient_log_norms(upstream, w[:, :5], a)
    with pytest.raises(ValueError, match="pre_activations: expected shape"):
        gradient_log_norms(upstream, w, a[:, :5])
    with pytest.raises(ValueError, match="upstream: expected an array with 1"):
        gradient_log_norms(upstream[None], w, a)
    with pytest.raises(ValueError, match="upstream: expected a non-zero"):
        gradient_log_norms(np.zeros(6), w, a)
    a[2, 3] = np.nan
    with pytest.raises(ValueError, match="pre_activations: expected finite"):
        gradient_log_norms(upstream, w, a)
    with pytest.raises(ValueError, match="activation"):
        autograd_gradient_norms(upstream, w, a[:2], "relu")


def test_plot_bad_arguments():
    with pytest.raises(TypeError, match="curves"):
        plot_gradient_decay({}, 1.0, "tanh", None)
