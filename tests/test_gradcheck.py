"""helpers.gradcheck: the error measures, finite differences, and checks that catch wrong gradients.

The toy layers below follow the framework protocol (DESIGN.md section 3) and are small enough to
read at a glance; each wrong variant carries one deliberate bug the checks must catch.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers import gradcheck
from helpers.gradcheck import CheckRow


class ToyLinear:
    """y = [x, 1] @ W with W of shape (D + 1, H), the bias in the last row (as FullyConnected)."""

    def __init__(self, weights):
        self.trainable = True
        self.testing_phase = False
        self._weights = np.array(weights, dtype=np.float64)
        self.gradient_weights = None
        self.optimizer = None

    @property
    def weights(self):
        return self._weights

    @weights.setter
    def weights(self, value):
        self._weights = np.array(value, dtype=np.float64)

    def forward(self, x):
        self.x = x
        return x @ self._weights[:-1] + self._weights[-1]

    def backward(self, dy):
        self.gradient_weights = np.vstack([self.x.T @ dy, dy.sum(axis=0, keepdims=True)])
        dx = dy @ self._weights[:-1].T
        if self.optimizer is not None:
            self._weights = self.optimizer(self._weights, self.gradient_weights)
        return dx


class ScaledInputGradient(ToyLinear):
    def backward(self, dy):
        return 1.5 * super().backward(dy)


class TransposedInputGradient(ToyLinear):
    def backward(self, dy):
        super().backward(dy)
        return dy @ self._weights[:-1]  # forgot the transpose (the layer is square, so shapes fit)


class MeanBiasGradient(ToyLinear):
    def backward(self, dy):
        dx = super().backward(dy)
        self.gradient_weights[-1] = dy.mean(axis=0)  # should be the sum over the batch
        return dx


class ToyDropout:
    """Inverted dropout whose mask comes from NumPy's global random state (as the framework's)."""

    def __init__(self, probability):
        self.trainable = False
        self.testing_phase = False
        self.probability = probability

    def forward(self, x):
        self.mask = (np.random.rand(*x.shape) < self.probability) / self.probability
        return x * self.mask

    def backward(self, dy):
        return dy * self.mask


class FreshMaskDropout(ToyDropout):
    def backward(self, dy):
        return dy * (np.random.rand(*dy.shape) < self.probability) / self.probability


class ToyScaleShift:
    """y = x * gamma + beta per column; gamma is `weights`, beta is `bias` (as BatchNormalization)."""

    def __init__(self, gamma, beta, halve_bias_gradient=False):
        self.trainable = True
        self.testing_phase = False
        self.weights = np.array(gamma, dtype=np.float64)
        self.bias = np.array(beta, dtype=np.float64)
        self.halve_bias_gradient = halve_bias_gradient
        self.gradient_weights = self.gradient_bias = None

    def forward(self, x):
        self.x = x
        return x * self.weights + self.bias

    def backward(self, dy):
        self.gradient_weights = (dy * self.x).sum(axis=0)
        self.gradient_bias = dy.sum(axis=0) * (0.5 if self.halve_bias_gradient else 1.0)
        return dy * self.weights


class ToyCarry:
    """y_t = x * w + carry, where carry is the previous call's output (like a memorizing RNN)."""

    def __init__(self, w):
        self.trainable = True
        self.testing_phase = False
        self.weights = np.array(w, dtype=np.float64)
        self.carry = 0.0
        self.gradient_weights = None

    def forward(self, x):
        self.x = x
        out = x * self.weights + self.carry
        self.carry = out
        return out

    def backward(self, dy):
        self.gradient_weights = (dy * self.x).sum(axis=0)
        return dy * self.weights


class Float32Output(ToyLinear):
    def forward(self, x):
        return super().forward(x).astype(np.float32)


@pytest.fixture
def rng():
    return np.random.default_rng(1)


def square_weights(rng, d=4):
    return rng.standard_normal((d + 1, d))


# --- error measures ------------------------------------------------------------------------------

def test_rel_error_is_norm_relative():
    assert gradcheck.rel_error([3.0, 4.0], [0.0, 0.0]) == 1.0
    assert gradcheck.rel_error([3.0, 4.0], [3.0, 4.0]) == 0.0
    assert gradcheck.rel_error(np.zeros(3), np.zeros(3)) == 0.0
    assert gradcheck.rel_error([1.0, 0.0], [1.0, 0.5]) == pytest.approx(0.5 / np.hypot(1.0, 0.5))


def test_max_rel_error_is_elementwise_and_ignores_double_zeros():
    a = np.array([1.0, 0.0, 2e-6])
    b = np.array([1.0, 0.0, 1e-6])
    assert gradcheck.max_rel_error(a, b) == pytest.approx(0.5)
    assert gradcheck.rel_error(a, b) < 1e-6  # the norm hides the tiny noisy entry
    assert gradcheck.max_rel_error(np.zeros((2, 2)), np.zeros((2, 2))) == 0.0


def test_error_measures_accept_torch_tensors():
    a = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    assert gradcheck.rel_error(a * 1, np.array([1.0, 2.0])) == 0.0


# --- finite differences --------------------------------------------------------------------------

def test_numerical_gradient_of_a_scalar_function(rng):
    x = rng.standard_normal((3, 2))
    before = x.copy()
    numeric = gradcheck.numerical_gradient(lambda: np.sum(np.sin(x) * x), x)
    analytic = np.cos(x) * x + np.sin(x)
    assert gradcheck.rel_error(analytic, numeric) < 1e-9
    np.testing.assert_array_equal(x, before)


def test_numerical_gradient_restores_x_when_f_raises(rng):
    x = rng.standard_normal(4)
    before = x.copy()

    def f():
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        gradcheck.numerical_gradient(f, x)
    np.testing.assert_array_equal(x, before)


def test_numerical_gradient_array_of_a_matrix_product(rng):
    x = rng.standard_normal((5, 3))
    w = rng.standard_normal((3, 2))
    upstream = rng.standard_normal((5, 2))
    dw = gradcheck.numerical_gradient_array(lambda: x @ w, w, upstream)
    dx = gradcheck.numerical_gradient_array(lambda: x @ w, x, upstream)
    assert gradcheck.rel_error(x.T @ upstream, dw) < 1e-9
    assert gradcheck.rel_error(upstream @ w.T, dx) < 1e-9


def test_layer_gradients_match_the_analytic_ones(rng):
    layer = ToyLinear(square_weights(rng))
    x = rng.standard_normal((3, 4))
    upstream = rng.standard_normal((3, 4))
    layer.forward(x)
    dx = layer.backward(upstream)
    assert gradcheck.rel_error(dx, gradcheck.layer_input_gradient(layer, x, upstream)) < 1e-9
    assert gradcheck.rel_error(layer.gradient_weights,
                               gradcheck.layer_weights_gradient(layer, x, upstream)) < 1e-9


def test_layer_weights_gradient_leaves_the_layer_unchanged(rng):
    weights = square_weights(rng)
    layer = ToyLinear(weights)
    x = rng.standard_normal((2, 4))
    gradcheck.layer_weights_gradient(layer, x, rng.standard_normal((2, 4)))
    np.testing.assert_array_equal(layer.weights, weights)


# --- check ---------------------------------------------------------------------------------------

def test_check_passes_and_prints_a_table(capsys):
    a = np.array([1.0, 2.0, 3.0])
    rows = gradcheck.check({"W": (a, a + 1e-12), "b": (a, a)}, title="toy")
    assert rows == [CheckRow("W", gradcheck.rel_error(a, a + 1e-12), gradcheck.max_rel_error(a, a + 1e-12),
                             1e-7, True),
                    CheckRow("b", 0.0, 0.0, 1e-7, True)]
    out = capsys.readouterr().out
    assert "toy" in out and "rel error" in out and "elem. max" in out and "tolerance" in out
    assert out.count("yes") == 2


def test_check_names_the_worst_parameter_and_element(capsys):
    analytic = np.arange(1.0, 7.0).reshape(2, 3)
    slightly_off = analytic.copy()
    slightly_off[0, 0] += 1e-3
    far_off = analytic.copy()
    far_off[1, 2] = -4.0
    with pytest.raises(AssertionError) as info:
        gradcheck.check({"W": (analytic, slightly_off), "b": (analytic, far_off)})
    message = str(info.value)
    assert "'b'" in message and "b[1, 2]" in message
    assert "analytic 6" in message and "numeric -4" in message
    assert "also failed: W" in message
    assert "NO" in capsys.readouterr().out


def test_check_takes_a_tolerance_per_name():
    a = np.array([1.0, 2.0])
    b = a * (1 + 1e-5)
    rows = gradcheck.check({"loose": (a, b), "tight": (a, a)}, tolerance={"loose": 1e-4, "tight": 1e-12})
    assert [row.tolerance for row in rows] == [1e-4, 1e-12]
    with pytest.raises(AssertionError, match="loose"):
        gradcheck.check({"loose": (a, b)}, tolerance={"loose": 1e-7})


# --- check_layer ---------------------------------------------------------------------------------

def test_check_layer_passes_a_correct_layer(rng):
    rows = gradcheck.check_layer(ToyLinear(square_weights(rng)), rng.standard_normal((3, 4)))
    assert [row.name for row in rows] == ["input", "weights"]
    assert all(row.ok and row.rel_error < 1e-8 for row in rows)


def test_check_layer_catches_a_scaled_input_gradient(rng):
    with pytest.raises(AssertionError, match="'input'"):
        gradcheck.check_layer(ScaledInputGradient(square_weights(rng)), rng.standard_normal((3, 4)))


def test_check_layer_catches_a_missing_transpose(rng):
    with pytest.raises(AssertionError, match="'input'"):
        gradcheck.check_layer(TransposedInputGradient(square_weights(rng)), rng.standard_normal((3, 4)))


def test_check_layer_catches_a_wrong_bias_gradient_and_points_at_the_bias_row(rng):
    with pytest.raises(AssertionError, match=r"'weights'.*worst element weights\[4, "):
        gradcheck.check_layer(MeanBiasGradient(square_weights(rng)), rng.standard_normal((3, 4)))


def test_check_layer_checks_a_separate_bias(rng):
    x = rng.standard_normal((5, 3))
    rows = gradcheck.check_layer(ToyScaleShift(rng.standard_normal(3), rng.standard_normal(3)), x)
    assert [row.name for row in rows] == ["input", "weights", "bias"]
    with pytest.raises(AssertionError, match="'bias'"):
        gradcheck.check_layer(ToyScaleShift(rng.standard_normal(3), rng.standard_normal(3),
                                            halve_bias_gradient=True), x)


def test_check_layer_handles_dropout_and_restores_the_random_state(rng):
    np.random.seed(7)
    state = np.random.get_state()
    rows = gradcheck.check_layer(ToyDropout(0.5), rng.standard_normal((4, 6)))
    assert rows[0].ok
    after = np.random.get_state()
    assert after[0] == state[0] and np.array_equal(after[1], state[1]) and after[2:] == state[2:]


def test_check_layer_catches_dropout_that_draws_a_new_mask_in_backward(rng):
    with pytest.raises(AssertionError, match="'input'"):
        gradcheck.check_layer(FreshMaskDropout(0.5), rng.standard_normal((4, 6)))


def test_check_layer_leaves_the_layer_alone_and_skips_its_optimizer(rng):
    weights = square_weights(rng)
    layer = ToyLinear(weights)
    layer.optimizer = lambda w, g: w - 0.1 * g
    gradcheck.check_layer(layer, rng.standard_normal((3, 4)))
    np.testing.assert_array_equal(layer.weights, weights)
    assert layer.gradient_weights is None


def test_check_layer_evaluates_every_perturbation_from_the_same_carried_state(rng):
    layer = ToyCarry(rng.standard_normal(3))
    layer.forward(rng.standard_normal((2, 3)))  # a non-zero carry, as a memorizing RNN would keep
    carry = layer.carry.copy()
    rows = gradcheck.check_layer(layer, rng.standard_normal((2, 3)))
    assert all(row.ok for row in rows)
    np.testing.assert_array_equal(layer.carry, carry)


def test_check_layer_uses_the_seed_for_the_upstream_gradient(rng):
    layer = ToyLinear(square_weights(rng))
    x = rng.standard_normal((3, 4))
    assert gradcheck.check_layer(layer, x, seed=3) == gradcheck.check_layer(layer, x, seed=3)
    assert gradcheck.check_layer(layer, x, seed=3) != gradcheck.check_layer(layer, x, seed=4)


# --- bad input -----------------------------------------------------------------------------------

def test_bad_x_dtype_is_a_type_error():
    with pytest.raises(TypeError, match="x: expected a float64"):
        gradcheck.numerical_gradient(lambda: 0.0, np.zeros(3, dtype=np.float32))


def test_x_that_is_not_an_array_is_a_type_error():
    with pytest.raises(TypeError, match="x: expected a float64 numpy array"):
        gradcheck.numerical_gradient(lambda: 0.0, [1.0, 2.0])


def test_f_that_is_not_callable_is_a_type_error():
    with pytest.raises(TypeError, match="f: expected a callable"):
        gradcheck.numerical_gradient(3.0, np.zeros(3))


def test_f_that_is_not_scalar_is_a_value_error():
    x = np.zeros(3)
    with pytest.raises(ValueError, match=r"f\(\): expected a scalar"):
        gradcheck.numerical_gradient(lambda: x * 2, x)


def test_non_positive_step_is_a_value_error():
    with pytest.raises(ValueError, match="h: expected a finite number"):
        gradcheck.numerical_gradient(lambda: 0.0, np.zeros(3), h=0.0)


def test_upstream_of_the_wrong_shape_is_a_value_error():
    x = np.ones(3)
    with pytest.raises(ValueError, match=r"^upstream: expected the shape of f\(\) \(3,\), got shape \(2,\)$"):
        gradcheck.numerical_gradient_array(lambda: x * 2, x, np.ones(2))


def test_a_layer_that_rejects_x_or_an_upstream_that_does_not_fit_its_output_is_named():
    from helpers.framework import FullyConnected

    layer = FullyConnected(3, 2)
    with pytest.raises(ValueError, match=r"^x: the layer rejects it: input_tensor: expected shape \(any, 3\)"):
        gradcheck.layer_input_gradient(layer, np.ones((4, 2)), np.ones((4, 2)))
    with pytest.raises(ValueError, match=r"^upstream: expected the shape of the layer's output for x \(4, 2\), "
                                         r"got shape \(4, 3\)$"):
        gradcheck.layer_weights_gradient(layer, np.ones((4, 3)), np.ones((4, 3)))


def test_a_layer_class_where_a_layer_belongs_says_pass_an_instance():
    from helpers.framework import TanH

    with pytest.raises(TypeError, match=r"^layer: .*got the class TanH; pass an instance: TanH\(\)$"):
        gradcheck.check_layer(TanH, np.ones((2, 3)))


def test_tensors_that_require_grad_are_detached_as_documented():
    a = torch.ones(2, 3, dtype=torch.float64, requires_grad=True)
    assert gradcheck.rel_error(a * 2, a.detach() * 2) == 0.0


def test_mismatched_shapes_in_check_are_a_value_error():
    with pytest.raises(ValueError, match=r"pairs\['W'\] numeric: expected the shape"):
        gradcheck.check({"W": (np.zeros((2, 3)), np.zeros((3, 2)))})


def test_non_finite_values_in_check_are_a_value_error():
    with pytest.raises(ValueError, match=r"pairs\['W'\] analytic: expected finite values"):
        gradcheck.check({"W": (np.array([np.nan, 1.0]), np.zeros(2))})


def test_float32_in_check_is_a_type_error():
    with pytest.raises(TypeError, match=r"pairs\['W'\] numeric: expected a float64"):
        gradcheck.check({"W": (np.zeros(2), np.zeros(2, dtype=np.float32))})


def test_empty_pairs_are_a_type_error():
    with pytest.raises(TypeError, match="pairs: expected a non-empty dict"):
        gradcheck.check({})


def test_pair_that_is_not_a_pair_is_a_type_error():
    with pytest.raises(TypeError, match=r"pairs\['W'\]: expected a pair"):
        gradcheck.check({"W": np.zeros(2)})


def test_bad_tolerance_is_a_value_error():
    a = np.zeros(2)
    with pytest.raises(ValueError, match="tolerance: expected a finite number"):
        gradcheck.check({"W": (a, a)}, tolerance=-1.0)
    with pytest.raises(ValueError, match=r"tolerance: expected one entry per checked name.*missing \['b'\]"):
        gradcheck.check({"W": (a, a), "b": (a, a)}, tolerance={"W": 1e-7})


def test_object_without_forward_is_a_type_error():
    with pytest.raises(TypeError, match="layer: expected a layer"):
        gradcheck.check_layer(object(), np.zeros((2, 2)))


def test_unknown_parameter_name_is_a_value_error(rng):
    layer = ToyLinear(square_weights(rng))
    with pytest.raises(ValueError, match="attribute: expected the name of a parameter"):
        gradcheck.layer_weights_gradient(layer, np.zeros((2, 4)), np.zeros((2, 4)), attribute="gamma")


def test_integer_input_to_check_layer_is_a_type_error(rng):
    with pytest.raises(TypeError, match="x: expected a float64"):
        gradcheck.check_layer(ToyLinear(square_weights(rng)), np.zeros((2, 4), dtype=np.int64))


def test_float32_layer_output_is_a_type_error(rng):
    with pytest.raises(TypeError, match="layer output: expected a float64"):
        gradcheck.check_layer(Float32Output(square_weights(rng)), rng.standard_normal((2, 4)))


def test_bad_seed_is_rejected(rng):
    with pytest.raises(TypeError, match="seed: expected an integer seed"):
        gradcheck.check_layer(ToyLinear(square_weights(rng)), rng.standard_normal((2, 4)), seed=1.5)


# --- the framework's own layers ------------------------------------------------------------------

def test_check_layer_on_framework_layers(rng):
    from helpers.framework import Dropout, FullyConnected

    class SwappedBiasGradient(FullyConnected):
        def backward(self, error_tensor):
            dx = super().backward(error_tensor)
            self.gradient_weights[-1] = self.gradient_weights[-1][::-1].copy()
            return dx

    np.random.seed(0)
    layer = FullyConnected(3, 2)
    layer.weights = rng.standard_normal((4, 2))
    assert all(row.ok for row in gradcheck.check_layer(layer, rng.standard_normal((5, 3))))
    assert gradcheck.check_layer(Dropout(0.6), rng.standard_normal((5, 3)))[0].ok
    wrong = SwappedBiasGradient(3, 2)
    wrong.weights = rng.standard_normal((4, 2))
    with pytest.raises(AssertionError, match=r"'weights'.*weights\[3, "):
        gradcheck.check_layer(wrong, rng.standard_normal((5, 3)))
