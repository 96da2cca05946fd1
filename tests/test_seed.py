"""helpers.set_seed reseeds Python's `random`, NumPy's global state and torch."""
from __future__ import annotations

import random

import numpy as np
import pytest
import torch

import helpers


def draws():
    return random.random(), np.random.rand(3), torch.rand(3)


def test_the_same_seed_reproduces_every_generator():
    helpers.set_seed(123)
    first = draws()
    draws()  # move every state on
    helpers.set_seed(123)
    again = draws()
    assert first[0] == again[0]
    np.testing.assert_array_equal(first[1], again[1])
    assert torch.equal(first[2], again[2])


def test_different_seeds_give_different_draws():
    helpers.set_seed(1)
    one = draws()
    helpers.set_seed(2)
    two = draws()
    assert one[0] != two[0]
    assert not np.array_equal(one[1], two[1])
    assert not torch.equal(one[2], two[2])


def test_set_seed_matches_the_libraries_own_seeding():
    helpers.set_seed(5)
    ours = draws()
    random.seed(5)
    np.random.seed(5)
    torch.manual_seed(5)
    theirs = draws()
    assert ours[0] == theirs[0]
    np.testing.assert_array_equal(ours[1], theirs[1])
    assert torch.equal(ours[2], theirs[2])


@pytest.mark.parametrize("seed", [1.0, "0", None, True])
def test_a_seed_that_is_not_an_integer_is_a_type_error(seed):
    with pytest.raises(TypeError, match="^seed: expected an integer, got "):
        helpers.set_seed(seed)


def test_a_negative_seed_is_a_value_error():
    with pytest.raises(ValueError, match="^seed: expected a non-negative integer, got -1$"):
        helpers.set_seed(-1)


@pytest.mark.parametrize("seed", [2 ** 32, 2 ** 64])
def test_a_seed_beyond_numpys_range_names_the_argument_and_the_range(seed):
    with pytest.raises(ValueError, match=rf"^seed: expected an integer seed in \[0, 2\*\*32\) "
                                         rf"= \[0, 4294967295\], got {seed}$"):
        helpers.set_seed(seed)


def test_the_largest_seed_is_accepted():
    helpers.set_seed(2 ** 32 - 1)
    assert np.random.get_state()[1][0] == np.random.RandomState(2 ** 32 - 1).get_state()[1][0]
