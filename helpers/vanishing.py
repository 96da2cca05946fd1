"""Vanishing gradients, first look: how a gradient shrinks or grows on its way back through T steps.

A recurrent layer computes h_t = phi(a_t) with a_t = W_hh h_{t-1} + (input terms) (column convention,
H hidden units). Going back one step multiplies the gradient by the transposed Jacobian:

    dL/dh_{t-1} = W_hh^T (phi'(a_t) * dL/dh_t).

`gradient_log_norms` runs that recursion for given weights and pre-activations; `gradient_decay`
averages it over random W_hh ~ N(0, scale**2 / H) and pre-activations a_t ~ N(0, spread**2);
`decay_curves` does that for several weight scales; `per_step_factor` is the matching estimate scale * sqrt(E[phi'(a)**2]) of the factor per step;
`plot_gradient_decay` draws log10 ||dL/dh_{T-k}|| against the number of steps k.
"""
from __future__ import annotations

import numpy as np
from numpy.polynomial.hermite_e import hermegauss

from helpers import validate
from helpers.checked import checked, float_array
from helpers.framework.sigmoid import sigmoid

ACTIVATIONS = ("tanh", "sigmoid")


def activation_derivative(pre_activation, activation: str = "tanh") -> np.ndarray:
    """phi'(a) for phi = tanh (1 - tanh(a)**2) or sigmoid (s(a) (1 - s(a))), elementwise, any shape."""
    a = float_array("pre_activation", pre_activation)
    if validate.choice("activation", activation, ACTIVATIONS) == "tanh":
        return 1.0 - np.tanh(a) ** 2
    s = sigmoid(a)
    return s * (1.0 - s)


def recursion_arguments(upstream, recurrent_weights, pre_activations, activation="tanh") -> dict:
    """Checked arguments of `gradient_log_norms` and `autograd_gradient_norms`, as floats: upstream (H,)
    non-zero, W_hh (H, H), a (T, H)."""
    g = float_array("upstream", upstream, ndim=1)
    if not np.any(g):
        validate.fail("upstream", "a non-zero gradient", g)
    hidden = g.shape[0]
    w = float_array("recurrent_weights", recurrent_weights, ndim=2)
    a = float_array("pre_activations", pre_activations, ndim=2)
    return {"upstream": g, "recurrent_weights": validate.shape("recurrent_weights", w, (hidden, hidden)),
            "pre_activations": validate.shape("pre_activations", a, (None, hidden)),
            "activation": validate.choice("activation", activation, ACTIVATIONS)}


@checked(recursion_arguments)
def gradient_log_norms(upstream, recurrent_weights, pre_activations, activation: str = "tanh") -> np.ndarray:
    """log10 ||dL/dh_{T-k}|| for k = 0..T, by the recursion g_{t-1} = W_hh^T (phi'(a_t) * g_t).

    upstream: dL/dh_T, shape (H,); recurrent_weights: W_hh, shape (H, H) (column convention);
    pre_activations: a_1..a_T, shape (T, H). Returns shape (T + 1,). The gradient is renormalised
    after every step and its scale kept as a logarithm, so long products never underflow.
    """
    norm = np.linalg.norm(upstream)
    log_norms = [np.log10(norm)]
    direction = upstream / norm
    for a_t in pre_activations[::-1]:
        g = recurrent_weights.T @ (activation_derivative(a_t, activation) * direction)
        norm = np.linalg.norm(g)
        log_norms.append(log_norms[-1] + np.log10(norm))
        direction = g / norm
    return np.array(log_norms)


def gradient_decay(steps, weight_scale, spread, activation: str = "tanh", hidden_size=64, trials=16,
                   seed=0) -> np.ndarray:
    """Mean over `trials` of log10 ||dL/dh_{T-k}|| / ||dL/dh_T|| for k = 0..steps, shape (steps + 1,).

    Each trial draws W_hh with entries N(0, weight_scale**2 / H), pre-activations a_t with entries
    N(0, spread**2) and a random unit upstream gradient, all from `seed`.
    """
    steps = validate.positive_int("steps", steps)
    weight_scale = validate.positive("weight_scale", weight_scale)
    spread = validate.real("spread", spread, low=0.0)
    validate.choice("activation", activation, ACTIVATIONS)
    hidden = validate.positive_int("hidden_size", hidden_size)
    trials = validate.positive_int("trials", trials)
    rng = validate.rng("seed", seed)
    runs = []
    for _ in range(trials):
        w = rng.standard_normal((hidden, hidden)) * weight_scale / np.sqrt(hidden)
        a = rng.standard_normal((steps, hidden)) * spread
        upstream = rng.standard_normal(hidden)
        runs.append(gradient_log_norms(upstream / np.linalg.norm(upstream), w, a, activation))
    return np.mean(runs, axis=0)


def decay_curves(steps, weight_scales, spread, activation: str = "tanh", hidden_size=64, trials=16,
                 seed=0) -> dict:
    """{weight_scale: gradient_decay(...)} for each scale in `weight_scales`, each drawn from the same `seed`."""
    values = validate.array("weight_scales", weight_scales, ndim=1)
    scales = sorted({validate.positive("weight_scales", float(scale)) for scale in values})
    if not scales:
        validate.fail("weight_scales", "at least one weight scale", weight_scales)
    return {scale: gradient_decay(steps, scale, spread, activation, hidden_size, trials, seed) for scale in scales}


@checked(recursion_arguments)
def autograd_gradient_norms(upstream, recurrent_weights, pre_activations, activation: str = "tanh") -> np.ndarray:
    """||dL/dh_{T-k}|| for k = 0..T by torch.autograd (float64) through a real recurrence, shape (T + 1,).

    The oracle for `gradient_log_norms`: h_t = phi(W_hh h_{t-1} + c_t) from h_0 = 0, with inputs c_t
    chosen so that the pre-activations equal the given a_t, and L = upstream . h_T.
    """
    import torch

    g, w, a = upstream, recurrent_weights, pre_activations
    phi = {"tanh": torch.tanh, "sigmoid": torch.sigmoid}[activation]
    w_t = torch.tensor(w, dtype=torch.float64)
    states = [torch.zeros(g.shape[0], dtype=torch.float64, requires_grad=True)]
    for a_t in a:
        drive = torch.tensor(a_t) - w_t @ states[-1].detach()  # c_t, a constant input
        states.append(phi(w_t @ states[-1] + drive))
        states[-1].retain_grad()
    (states[-1] * torch.tensor(g)).sum().backward()
    return np.array([float(states[-1 - k].grad.norm()) for k in range(len(states))])


def rms_derivative(spread, activation: str = "tanh") -> float:
    """sqrt(E[phi'(a)**2]) for a ~ N(0, spread**2), by Gauss-Hermite quadrature (80 nodes)."""
    spread = validate.real("spread", spread, low=0.0)
    nodes, weights = hermegauss(80)
    mean_square = np.sum(weights * activation_derivative(spread * nodes, activation) ** 2) / np.sqrt(2 * np.pi)
    return float(np.sqrt(mean_square))


def per_step_factor(weight_scale, spread, activation: str = "tanh") -> float:
    """Estimated factor by which one step back scales the gradient norm: weight_scale * rms phi'(a)."""
    return validate.positive("weight_scale", weight_scale) * rms_derivative(spread, activation)


def plot_gradient_decay(curves: dict, spread, activation: str, ax, highlight=None):
    """Plot log10 gradient norm against steps back, one line per weight scale, with the estimate dashed.

    curves: {weight_scale: gradient_decay(...) array of shape (T + 1,)}; the line for `highlight`
    (a key of `curves`, or None) is drawn thicker. Returns `ax`.
    """
    if not isinstance(curves, dict) or not curves:
        validate.fail("curves", "a non-empty dict weight_scale -> log10 norms", curves, TypeError)
    for index, (scale, log_norms) in enumerate(sorted(curves.items())):
        log_norms = validate.array(f"curves[{scale}]", log_norms, ndim=1)
        k = np.arange(log_norms.size)
        factor = per_step_factor(scale, spread, activation)
        color = f"C{index}"
        ax.plot(k, log_norms, color=color, lw=3 if scale == highlight else 1.5,
                label=f"s = {scale:g}, ρ ≈ {factor:.2f}")
        ax.plot(k, k * np.log10(factor), color=color, ls="--", lw=1)
    ax.axhline(0.0, color="0.6", lw=0.8)
    ax.set_xlabel("steps back k")
    ax.set_ylabel(r"$\log_{10}\,\|\partial L/\partial h_{T-k}\|\,/\,\|\partial L/\partial h_T\|$")
    ax.set_title(f"{activation}, pre-activation spread {spread:g} (dashed: estimate)")
    ax.legend(fontsize="small")
    return ax
