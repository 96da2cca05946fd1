"""helpers.framework optimizers, regularizers and initializers.

The optimizers are compared with `torch.optim` over several steps in float64 (norm-relative error
<= 1e-12 on every iterate). Hyperparameter mapping (framework -> torch):

- `Sgd(lr)`                      -> `SGD(lr=lr)`
- `SgdWithMomentum(lr, m)`       -> `SGD(lr=lr, momentum=m)` (dampening 0, no Nesterov). torch keeps
  b = m b + g and steps w -= lr b; the framework keeps v = m v - lr g and steps w += v, so v = -lr b.
- `Adam(lr, mu, rho, eps=1e-8)`  -> `Adam(lr=lr, betas=(mu, rho), eps=eps)`; both add eps to the
  square root of the bias-corrected second moment.
- `RMSProp(lr, rho, eps)`        -> `RMSprop(lr=lr, alpha=rho, eps=eps)` (momentum 0, not centered);
  both add eps outside the square root.
- An L2 regularizer with weight alpha shrinks the pre-update weights by lr * alpha * w outside the
  optimizer's state: for Sgd that is `SGD(weight_decay=alpha)`, for Adam it is decoupled weight
  decay, `AdamW(weight_decay=alpha)`.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers.framework import (Adam, Constant, He, L1_Regularizer, L2_Regularizer, RMSProp, Sgd,
                               SgdWithMomentum, UniformRandom, Xavier)
from helpers.gradcheck import rel_error

STEPS = 6
TOLERANCE = 1e-12


def quadratic_gradient(w: np.ndarray) -> np.ndarray:
    """Gradient of a fixed, non-symmetric quadratic, so each step's gradient depends on the iterate."""
    a = np.random.default_rng(0).standard_normal((w.shape[0], w.shape[0]))
    return (a @ a.T + np.eye(w.shape[0])) @ w - 1.0


PAIRS = [
    ("Sgd", lambda: Sgd(0.05), lambda p: torch.optim.SGD(p, lr=0.05)),
    ("SgdWithMomentum", lambda: SgdWithMomentum(0.05, 0.9),
     lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9)),
    ("Adam", lambda: Adam(0.01, 0.8, 0.95), lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.8, 0.95), eps=1e-8)),
    ("RMSProp", lambda: RMSProp(0.01, 0.7, 1e-6), lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.7, eps=1e-6)),
]


def trajectories(make_ours, make_torch, regularizer=None):
    w = np.random.default_rng(1).standard_normal((4, 3))
    optimizer = make_ours()
    if regularizer is not None:
        optimizer.add_regularizer(regularizer)
    parameter = torch.nn.Parameter(torch.tensor(w))
    reference = make_torch([parameter])
    ours, theirs = [], []
    for _ in range(STEPS):
        w = optimizer.calculate_update(w, quadratic_gradient(w))
        parameter.grad = torch.tensor(quadratic_gradient(parameter.detach().numpy()))
        reference.step()
        ours.append(w)
        theirs.append(parameter.detach().numpy().copy())
    return ours, theirs


@pytest.mark.parametrize("name, make_ours, make_torch", PAIRS, ids=[p[0] for p in PAIRS])
def test_optimizer_matches_torch_optim_over_several_steps(name, make_ours, make_torch):
    ours, theirs = trajectories(make_ours, make_torch)
    errors = [rel_error(a, b) for a, b in zip(ours, theirs)]
    print(name, ["%.1e" % e for e in errors])
    assert max(errors) <= TOLERANCE
    assert rel_error(ours[0], ours[-1]) > 1e-3  # the weights really moved


@pytest.mark.parametrize("make_ours, make_torch", [
    (lambda: Sgd(0.05), lambda p: torch.optim.SGD(p, lr=0.05, weight_decay=0.3)),
    (lambda: Adam(0.01, 0.8, 0.95), lambda p: torch.optim.AdamW(p, lr=0.01, betas=(0.8, 0.95), eps=1e-8,
                                                                weight_decay=0.3)),
], ids=["Sgd", "Adam"])
def test_l2_regularizer_is_weight_decay_outside_the_optimizer_state(make_ours, make_torch):
    ours, theirs = trajectories(make_ours, make_torch, L2_Regularizer(0.3))
    assert max(rel_error(a, b) for a, b in zip(ours, theirs)) <= TOLERANCE


@pytest.mark.parametrize("make", [lambda: Sgd(0.1), lambda: SgdWithMomentum(0.1, 0.5),
                                  lambda: Adam(0.1, 0.9, 0.99), lambda: RMSProp(0.1, 0.9, 1e-8)])
def test_regularizer_shrinks_the_pre_update_weights(make):
    w = np.array([[1.0, -2.0], [0.5, 0.0]])
    g = np.array([[0.3, -0.1], [0.2, 0.4]])
    plain, regularized = make(), make()
    regularized.add_regularizer(L1_Regularizer(0.2))
    expected = plain.calculate_update(w, g) - 0.1 * 0.2 * np.sign(w)
    np.testing.assert_allclose(regularized.calculate_update(w, g), expected, rtol=1e-15)
    assert plain.regularizer is None


def test_regularizer_gradients_and_norms():
    w = np.array([[1.0, -2.0], [0.5, 0.0]])
    np.testing.assert_array_equal(L2_Regularizer(0.1).calculate_gradient(w), 0.1 * w)
    np.testing.assert_array_equal(L1_Regularizer(0.1).calculate_gradient(w), [[0.1, -0.1], [0.1, 0.0]])
    assert L2_Regularizer(0.1).norm(w) == pytest.approx(0.1 * 5.25, rel=1e-15)
    assert L1_Regularizer(0.1).norm(w) == pytest.approx(0.1 * 3.5, rel=1e-15)


# --- initializers -------------------------------------------------------------------------------

def test_initializers_shapes_and_values():
    np.testing.assert_array_equal(Constant().initialize((2, 3), 2, 3), np.full((2, 3), 0.1))
    np.testing.assert_array_equal(Constant(0.7).initialize((1, 3), 2, 3), np.full((1, 3), 0.7))
    uniform = UniformRandom().initialize((200, 100), 200, 100)
    assert uniform.shape == (200, 100) and uniform.min() >= 0 and uniform.max() < 1
    assert abs(uniform.mean() - 0.5) < 5 * np.sqrt(1 / 12 / uniform.size)


@pytest.mark.parametrize("initializer, sigma", [(Xavier(), np.sqrt(2 / (300 + 100))), (He(), np.sqrt(2 / 300))])
def test_random_normal_initializers_have_the_stated_spread(initializer, sigma):
    np.random.seed(3)
    w = initializer.initialize((300, 100), 300, 100)
    n = w.size
    assert abs(w.mean()) < 5 * sigma / np.sqrt(n)
    assert abs(w.std() / sigma - 1) < 5 / np.sqrt(2 * n)


@pytest.mark.parametrize("initializer", [UniformRandom(), Xavier(), He()])
def test_random_initializers_are_reproducible_by_seeding_numpy(initializer):
    np.random.seed(5)
    first = initializer.initialize((3, 4), 3, 4)
    np.random.seed(5)
    np.testing.assert_array_equal(initializer.initialize((3, 4), 3, 4), first)


# --- bad input ----------------------------------------------------------------------------------

@pytest.mark.parametrize("make, name", [
    (lambda: Sgd(0.0), "learning_rate"),
    (lambda: Sgd(-1.0), "learning_rate"),
    (lambda: Sgd(np.inf), "learning_rate"),
    (lambda: SgdWithMomentum(0.1, 1.0), "momentum_rate"),
    (lambda: Adam(0.1, 1.2, 0.9), "mu"),
    (lambda: Adam(0.1, 0.9, -0.1), "rho"),
    (lambda: RMSProp(0.1, 0.9, 0.0), "eps"),
    (lambda: L2_Regularizer(-0.1), "alpha"),
    (lambda: L1_Regularizer(np.nan), "alpha"),
])
def test_bad_hyperparameters(make, name):
    with pytest.raises(ValueError, match=name):
        make()


def test_mismatched_gradient_and_state_shapes():
    with pytest.raises(ValueError, match="gradient_tensor: expected shape"):
        Sgd(0.1).calculate_update(np.ones((2, 3)), np.ones((3, 2)))
    adam = Adam(0.1, 0.9, 0.99)
    adam.calculate_update(np.ones((2, 3)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="weight_tensor: expected shape"):
        adam.calculate_update(np.ones(4), np.ones(4))


def test_non_finite_gradient():
    with pytest.raises(ValueError, match="gradient_tensor: expected finite values"):
        SgdWithMomentum(0.1, 0.9).calculate_update(np.ones(2), np.array([1.0, np.nan]))


def test_regularizer_without_the_protocol():
    with pytest.raises(TypeError, match="regularizer"):
        Sgd(0.1).add_regularizer(0.5)


@pytest.mark.parametrize("call, name, error", [
    (lambda: He().initialize((0, 3), 2, 3), "weights_shape", ValueError),
    (lambda: Xavier().initialize((2, 3), 0, 3), "fan_in", ValueError),
    (lambda: Xavier().initialize((2, 3), 2, -3), "fan_out", ValueError),
    (lambda: Constant(np.inf), "value", ValueError),
    (lambda: UniformRandom().initialize("23", 2, 3), "weights_shape", TypeError),
])
def test_bad_initializer_arguments(call, name, error):
    with pytest.raises(error, match=name):
        call()
