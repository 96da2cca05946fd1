"""helpers.validate: what each check accepts, and one test per kind of bad input.

Every message reads ``name: expected ..., got ...``; the tests match the whole pattern so that a
message naming the wrong argument or hiding the received value fails.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers import validate


# --- integers ------------------------------------------------------------------------------------

def test_integers_are_returned_as_int():
    assert validate.positive_int("hidden_size", 3) == 3
    assert type(validate.positive_int("hidden_size", np.int32(3))) is int
    assert validate.non_negative_int("gap", 0) == 0
    assert validate.integer("length", 5, minimum=2) == 5


def test_zero_is_not_a_positive_int():
    with pytest.raises(ValueError, match="^hidden_size: expected a positive integer, got 0$"):
        validate.positive_int("hidden_size", 0)


def test_negative_is_not_a_non_negative_int():
    with pytest.raises(ValueError, match="^gap: expected a non-negative integer, got -1$"):
        validate.non_negative_int("gap", -1)


def test_integer_below_a_custom_minimum():
    with pytest.raises(ValueError, match="^length: expected an integer >= 2, got 1$"):
        validate.integer("length", 1, minimum=2)


@pytest.mark.parametrize("value", [2.0, "3", None, True, np.float64(2.0)])
def test_non_integers_are_type_errors(value):
    with pytest.raises(TypeError, match="^hidden_size: expected an integer, got "):
        validate.positive_int("hidden_size", value)


# --- real numbers --------------------------------------------------------------------------------

def test_reals_are_returned_as_float():
    assert validate.real("x", 1) == 1.0 and type(validate.real("x", np.float32(0.5))) is float
    assert validate.positive("learning_rate", 1e-3) == 1e-3
    assert validate.probability("keep", 1.0) == 1.0
    assert validate.real("x", 0.0, low=0.0) == 0.0


@pytest.mark.parametrize("value", ["0.1", None, True, [0.1]])
def test_non_reals_are_type_errors(value):
    with pytest.raises(TypeError, match="^learning_rate: expected a real number, got "):
        validate.positive("learning_rate", value)


@pytest.mark.parametrize("value", [0.0, -1e-3])
def test_non_positive_is_rejected(value):
    with pytest.raises(ValueError, match=r"^learning_rate: expected a finite number in \(0, inf\), got "):
        validate.positive("learning_rate", value)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_reals_are_rejected(value):
    with pytest.raises(ValueError, match=r"^x: expected a finite number in \(-inf, inf\), got "):
        validate.real("x", value)


@pytest.mark.parametrize("value", [0.0, 1.5, -0.1])
def test_probability_outside_zero_one(value):
    with pytest.raises(ValueError, match=r"^keep: expected a finite number in \(0, 1\], got "):
        validate.probability("keep", value)


def test_open_and_closed_bounds():
    assert validate.real("x", 1.0, low=0.0, high=1.0) == 1.0
    with pytest.raises(ValueError, match=r"^x: expected a finite number in \[0, 1\), got 1.0$"):
        validate.real("x", 1.0, low=0.0, high=1.0, high_open=True)
    with pytest.raises(ValueError, match=r"^x: expected a finite number in \[0, inf\), got -0.5$"):
        validate.real("x", -0.5, low=0.0)


# --- arrays --------------------------------------------------------------------------------------

def test_array_converts_lists_and_tensors():
    np.testing.assert_array_equal(validate.array("x", [[1, 2], [3, 4]], ndim=2), [[1, 2], [3, 4]])
    assert validate.array("x", [1, 2], dtype=np.float64).dtype == np.float64
    assert validate.array("x", torch.ones(3, dtype=torch.float64)).shape == (3,)
    assert validate.array("x", np.array([np.nan]), finite=False).shape == (1,)
    assert validate.array("mask", np.array([True, False])).dtype == bool


@pytest.mark.parametrize("value", [None, "abc", b"abc", ["a", "b"], np.array([object()])])
def test_non_numeric_arrays_are_type_errors(value):
    with pytest.raises(TypeError, match="^x: expected a numeric array, got "):
        validate.array("x", value)


def test_ragged_lists_are_value_errors():
    expected = r"^x: expected a rectangular numeric array, got \[\[1, 2\], \[3\]\]$"
    with pytest.raises(ValueError, match=expected):
        validate.array("x", [[1, 2], [3]])


def test_wrong_number_of_dimensions():
    expected = r"^x: expected an array with 3 dimensions, got an array of shape \(2, 2\) and dtype float64$"
    with pytest.raises(ValueError, match=expected):
        validate.array("x", np.zeros((2, 2)), ndim=3)
    with pytest.raises(ValueError, match="^x: expected an array with 2 or 4 dimensions, got "):
        validate.array("x", np.zeros(3), ndim=(2, 4))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_arrays_are_rejected(bad):
    expected = r"^x: expected finite values, got 1 NaN or inf entries in an array of shape \(2, 2\)$"
    with pytest.raises(ValueError, match=expected):
        validate.array("x", np.array([[0.0, 1.0], [bad, 2.0]]))


def test_shape_with_wildcards():
    value = np.zeros((4, 3))
    assert validate.shape("x", value, (None, 3)) is value
    with pytest.raises(ValueError, match=r"^x: expected shape \(any, 2\), got an array of shape \(4, 3\)"):
        validate.shape("x", value, (None, 2))
    with pytest.raises(ValueError, match=r"^x: expected shape \(4, 3, any\), got "):
        validate.shape("x", value, (4, 3, None))


# --- labels --------------------------------------------------------------------------------------

def test_labels_accepted():
    np.testing.assert_array_equal(validate.labels("y", [0, 2, 1], 3), [0, 2, 1])
    assert validate.labels("y", np.zeros(0, dtype=int), 3).size == 0


def test_labels_out_of_range():
    with pytest.raises(ValueError, match=r"^y: expected labels in \[0, 3\), got values from -1 to 3$"):
        validate.labels("y", [0, -1, 3], 3)


def test_float_labels_are_type_errors():
    with pytest.raises(TypeError, match="^y: expected integer class labels, got "):
        validate.labels("y", [0.0, 1.0], 3)


def test_one_hot_labels_accepted():
    y = np.eye(3)[[0, 2]]
    np.testing.assert_array_equal(validate.one_hot_labels("label_tensor", y, 3), y)


def test_one_hot_labels_with_the_wrong_width():
    expected = r"^label_tensor: expected one-hot labels with 4 columns, got an array of shape \(2, 3\)"
    with pytest.raises(ValueError, match=expected):
        validate.one_hot_labels("label_tensor", np.eye(3)[[0, 2]], 4)


@pytest.mark.parametrize("rows", [[[1, 1, 0]], [[0, 0, 0]], [[0.5, 0.5, 0]]])
def test_rows_that_are_not_one_hot(rows):
    with pytest.raises(ValueError, match="^label_tensor: expected one-hot rows"):
        validate.one_hot_labels("label_tensor", rows)


def test_one_hot_labels_need_two_dimensions():
    with pytest.raises(ValueError, match="^label_tensor: expected an array with 2 dimensions"):
        validate.one_hot_labels("label_tensor", [1, 0, 0])


# --- random generators and choices ---------------------------------------------------------------

def test_rng_from_seed_and_generator():
    generator = np.random.default_rng(0)
    assert validate.rng("seed", generator) is generator
    assert validate.rng("seed", 7).integers(1000) == np.random.default_rng(7).integers(1000)
    assert validate.rng("seed", np.int64(7)).integers(1000) == np.random.default_rng(7).integers(1000)


@pytest.mark.parametrize("value", [1.5, "0", None, True, np.random.RandomState(0)])
def test_rng_bad_types(value):
    with pytest.raises(TypeError, match="^seed: expected an integer seed or a numpy.random.Generator, got "):
        validate.rng("seed", value)


def test_rng_negative_seed():
    with pytest.raises(ValueError, match="^seed: expected a non-negative seed, got -3$"):
        validate.rng("seed", -3)


def test_choice():
    assert validate.choice("mode", "rnn", ("rnn", "lstm")) == "rnn"
    with pytest.raises(ValueError, match="^mode: expected one of 'rnn', 'lstm', got 'gru'$"):
        validate.choice("mode", "gru", ("rnn", "lstm"))
    with pytest.raises(ValueError, match="^mode: expected one of 'rnn', 'lstm', got an array of shape"):
        validate.choice("mode", np.array([1, 2]), ("rnn", "lstm"))


def test_fail_raises_the_requested_error():
    with pytest.raises(TypeError, match="^layer: expected a layer, got 3$"):
        validate.fail("layer", "a layer", 3, TypeError)
    with pytest.raises(ValueError, match="^x: expected something, got a list$"):
        validate.fail("x", "something", list(range(100)))


# --- complex values, tensors that require grad, seeds, classes (issue 14) -------------------------

@pytest.mark.parametrize("value", [np.ones((2, 2)) + 0.5j, [1 + 0j, 2], 1j, np.complex64(1),
                                   torch.ones(2, dtype=torch.complex64)])
def test_complex_values_are_type_errors(value):
    with pytest.raises(TypeError, match="^x: expected a real-valued array, got an array of shape "
                                        r"\(.*\) and dtype complex"):
        validate.array("x", value)


def test_complex_values_are_rejected_before_a_dtype_conversion_drops_them():
    with pytest.raises(TypeError, match="^x: expected a real-valued array"):
        validate.array("x", np.array([1 + 2j]), dtype=float)


def test_a_tensor_that_requires_grad_is_a_type_error_that_says_detach():
    tensor = torch.ones(2, 3, requires_grad=True)
    with pytest.raises(TypeError, match=r"^x: expected an array or a tensor that does not require grad "
                                        r"\(call \.detach\(\) first\), got a Tensor of shape \(2, 3\) "
                                        r"and dtype torch.float32 that requires grad$"):
        validate.array("x", tensor)
    np.testing.assert_array_equal(validate.array("x", tensor.detach()), np.ones((2, 3)))


def test_seed_range():
    assert validate.seed("seed", 0) == 0 and validate.seed("seed", np.uint32(2 ** 32 - 1)) == 2 ** 32 - 1
    with pytest.raises(ValueError, match=r"^seed: expected an integer seed in \[0, 2\*\*32\)"):
        validate.seed("seed", 2 ** 32)
    with pytest.raises(ValueError, match="^seed: expected a non-negative integer, got -1$"):
        validate.seed("seed", -1)
    with pytest.raises(TypeError, match="^seed: expected an integer, got 1.0$"):
        validate.seed("seed", 1.0)


def test_rng_seeds_obey_the_same_range():
    with pytest.raises(ValueError, match=r"^seed: expected an integer seed in \[0, 2\*\*32\)"):
        validate.rng("seed", 2 ** 64)


class Layer:
    def __init__(self, size, rate=0.1, *, name):
        pass


def test_a_class_where_an_instance_belongs_says_how_to_make_one():
    with pytest.raises(TypeError, match=r"^layer: expected a layer, got the class Layer; "
                                        r"pass an instance: Layer\(size, name\)$"):
        validate.instance("layer", Layer, "a layer")
    instance = Layer(1, name="x")
    assert validate.instance("layer", instance, "a layer") is instance
