"""helpers.data: formats and shapes, seeding, edge cases and bad input of every generator."""
from __future__ import annotations

import random

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from helpers import data


def global_states():
    return random.getstate(), np.random.get_state(), torch.get_rng_state()


def assert_same_global_states(before, after):
    assert before[0] == after[0]
    assert before[1][0] == after[1][0] and np.array_equal(before[1][1], after[1][1])
    assert before[1][2:] == after[1][2:]
    assert torch.equal(before[2], after[2])


GENERATORS = {
    "memory": lambda seed: data.memory_task(16, 3, 4, seed=seed).inputs,
    "palindromes": lambda seed: data.PalindromeDataset(7, 16, seed=seed).palindromes,
    "splits": lambda seed: np.concatenate([d.palindromes
                                           for d in data.palindrome_splits(7, 16, 8, seed=seed)]),
    "sine": lambda seed: data.sine_waves(16, seed=seed).inputs,
    "random": lambda seed: data.random_sequences(16, 5, 4, seed=seed).inputs,
}


# --- seeding (every generator) -------------------------------------------------------------------

@pytest.mark.parametrize("make", GENERATORS.values(), ids=GENERATORS.keys())
def test_same_seed_same_data_different_seed_different_data(make):
    np.testing.assert_array_equal(make(3), make(3))
    assert not np.array_equal(make(3), make(4))


@pytest.mark.parametrize("make", GENERATORS.values(), ids=GENERATORS.keys())
def test_a_generator_is_accepted_and_matches_its_seed(make):
    np.testing.assert_array_equal(make(np.random.default_rng(5)), make(5))


@pytest.mark.parametrize("make", GENERATORS.values(), ids=GENERATORS.keys())
def test_nothing_is_drawn_from_the_global_random_states(make):
    random.seed(1)
    np.random.seed(1)
    torch.manual_seed(1)
    before = global_states()
    first = make(3)
    assert_same_global_states(before, global_states())
    np.random.seed(2)
    np.testing.assert_array_equal(make(3), first)


@pytest.mark.parametrize("make", GENERATORS.values(), ids=GENERATORS.keys())
def test_a_bad_seed_is_rejected(make):
    with pytest.raises(TypeError, match="seed: expected an integer seed or a numpy.random.Generator"):
        make(1.5)
    with pytest.raises(ValueError, match="seed: expected a non-negative seed"):
        make(-1)


# --- one_hot -------------------------------------------------------------------------------------

def test_one_hot_shape_and_values():
    ids = np.array([[0, 2], [1, 1]])
    encoded = data.one_hot(ids, 3)
    assert encoded.shape == (2, 2, 3) and encoded.dtype == np.float64
    np.testing.assert_array_equal(encoded.argmax(axis=-1), ids)
    np.testing.assert_array_equal(encoded.sum(axis=-1), 1.0)


def test_one_hot_bad_input():
    with pytest.raises(ValueError, match=r"ids: expected labels in \[0, 3\)"):
        data.one_hot(np.array([0, 3]), 3)
    with pytest.raises(TypeError, match="ids: expected integer class labels"):
        data.one_hot(np.array([0.0, 1.0]), 3)
    with pytest.raises(ValueError, match="num_classes: expected a positive integer"):
        data.one_hot(np.array([0]), 0)


# --- memory task ---------------------------------------------------------------------------------

def test_memory_task_layout():
    task = data.memory_task(5, 3, 2, seed=0)
    k, gap, blank, delimiter = 3, 2, 9, 10
    assert (task.blank, task.delimiter, task.vocab_size) == (blank, delimiter, 11)
    assert task.inputs.shape == task.targets.shape == task.mask.shape == (5, 2 * k + gap + 1)
    assert task.inputs.dtype == task.targets.dtype == np.int64 and task.mask.dtype == bool
    symbols = task.inputs[:, :k]
    assert symbols.min() >= 0 and symbols.max() < 9
    np.testing.assert_array_equal(task.inputs[:, k:k + gap], blank)
    np.testing.assert_array_equal(task.inputs[:, k + gap], delimiter)
    np.testing.assert_array_equal(task.inputs[:, k + gap + 1:], blank)
    np.testing.assert_array_equal(task.targets[:, :-k], blank)
    np.testing.assert_array_equal(task.targets[:, -k:], symbols)
    np.testing.assert_array_equal(task.mask, np.arange(2 * k + gap + 1)[None, :].repeat(5, 0) >= k + gap + 1)


def test_memory_task_without_blank_separation():
    task = data.memory_task(4, 2, 0, seed=1)
    assert task.inputs.shape == (4, 5)
    np.testing.assert_array_equal(task.inputs[:, 2], task.delimiter)
    np.testing.assert_array_equal(task.targets[:, 3:], task.inputs[:, :2])
    np.testing.assert_array_equal(task.mask[0], [False, False, False, True, True])


def test_memory_task_with_a_single_symbol():
    task = data.memory_task(3, 1, 0, seed=2)
    np.testing.assert_array_equal(task.inputs[:, 1:], [[10, 9]] * 3)
    np.testing.assert_array_equal(task.targets[:, -1], task.inputs[:, 0])


def test_memory_task_alphabet_size_moves_blank_and_delimiter():
    task = data.memory_task(200, 4, 1, num_symbols=3, seed=0)
    assert (task.blank, task.delimiter, task.vocab_size) == (3, 4, 5)
    assert set(np.unique(task.inputs[:, :4])) == {0, 1, 2}
    assert task.chance_level == data.memory_chance_level(3) == pytest.approx(1 / 3)


def test_memory_task_one_hot_forms():
    task = data.memory_task(4, 2, 3, seed=0)
    for encoded, ids in ((task.inputs_one_hot, task.inputs), (task.targets_one_hot, task.targets)):
        assert encoded.shape == (4, 8, 11) and encoded.dtype == np.float64
        np.testing.assert_array_equal(encoded.argmax(axis=-1), ids)
        np.testing.assert_array_equal(encoded.sum(axis=-1), 1.0)


def test_memory_task_arrays_are_read_only():
    task = data.memory_task(2, 2, 1, seed=0)
    with pytest.raises(ValueError, match="read-only"):
        task.inputs[0, 0] = 1


def test_memory_chance_level_default():
    assert data.memory_chance_level() == 1 / 9 == data.memory_task(1, 1, 0, seed=0).chance_level


def test_recall_accuracy_counts_only_the_recall_window():
    task = data.memory_task(6, 4, 2, seed=0)
    assert data.recall_accuracy(task.targets, task.targets, task.mask) == 1.0
    assert data.recall_accuracy(task.targets_one_hot, task.targets, task.mask) == 1.0
    wrong_outside = np.where(task.mask, task.targets, task.delimiter)
    assert data.recall_accuracy(wrong_outside, task.targets, task.mask) == 1.0
    half_wrong = task.targets.copy()
    half_wrong[:, -2:] = task.delimiter
    assert data.recall_accuracy(half_wrong, task.targets, task.mask) == 0.5


def test_recall_accuracy_accepts_torch_logits():
    task = data.memory_task(3, 2, 1, seed=0)
    logits = torch.tensor(task.targets_one_hot * 5.0 - 1.0, requires_grad=True)
    assert data.recall_accuracy(logits, torch.from_numpy(task.targets.copy()), task.mask) == 1.0


def test_random_guessing_recalls_at_chance_level():
    task = data.memory_task(4000, 5, 3, seed=0)
    guesses = np.random.default_rng(1).integers(0, 9, size=task.targets.shape)
    assert abs(data.recall_accuracy(guesses, task.targets, task.mask) - task.chance_level) < 0.01


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(batch_size=0), ValueError, "batch_size: expected a positive integer, got 0"),
    (dict(batch_size=2.0), TypeError, "batch_size: expected an integer, got 2.0"),
    (dict(to_remember_len=0), ValueError, "to_remember_len: expected a positive integer"),
    (dict(blank_separation_len=-1), ValueError, "blank_separation_len: expected a non-negative integer"),
    (dict(num_symbols=0), ValueError, "num_symbols: expected a positive integer"),
])
def test_memory_task_bad_input(kwargs, error, match):
    arguments = dict(batch_size=2, to_remember_len=2, blank_separation_len=1, seed=0) | kwargs
    with pytest.raises(error, match=match):
        data.memory_task(**arguments)


def test_memory_task_needs_an_explicit_seed():
    with pytest.raises(TypeError, match="seed"):
        data.memory_task(2, 2, 1)


def test_recall_accuracy_bad_input():
    task = data.memory_task(2, 2, 1, seed=0)
    with pytest.raises(ValueError, match=r"targets: expected shape \(2, 6\), got an array of shape \(2, 5\)"):
        data.recall_accuracy(task.targets, task.targets[:, :5], task.mask)
    with pytest.raises(TypeError, match=r"predictions: expected \(N, T\) integer ids or \(N, T, V\) float"):
        data.recall_accuracy(task.targets.astype(float), task.targets, task.mask)
    with pytest.raises(TypeError, match="targets: expected \\(N, T\\) integer ids"):
        data.recall_accuracy(task.targets, task.targets.astype(float), task.mask)
    with pytest.raises(TypeError, match="mask: expected a boolean array"):
        data.recall_accuracy(task.targets, task.targets, task.mask.astype(int))
    with pytest.raises(ValueError, match="mask: expected shape"):
        data.recall_accuracy(task.targets, task.targets, task.mask[:1])
    with pytest.raises(ValueError, match="mask: expected at least one True position"):
        data.recall_accuracy(task.targets, task.targets, np.zeros_like(task.mask))
    with pytest.raises(ValueError, match="predictions: expected finite values"):
        data.recall_accuracy(np.full((2, 8, 10), np.nan), task.targets, task.mask)


# --- palindromes ---------------------------------------------------------------------------------

@pytest.mark.parametrize("length", [2, 3, 4, 5, 8, 9])
def test_palindromes_one_hot_format(length):
    dataset = data.PalindromeDataset(length, 50, seed=0)
    digits = dataset.palindromes
    assert digits.shape == (50, length) and digits.dtype == np.int64
    np.testing.assert_array_equal(digits, digits[:, ::-1])
    inputs, targets = dataset.tensors()
    assert inputs.shape == (50, length - 1, 10) and inputs.dtype == torch.float32
    assert targets.shape == (50,) and targets.dtype == torch.int64
    np.testing.assert_array_equal(inputs.argmax(dim=-1).numpy(), digits[:, :-1])
    np.testing.assert_array_equal(targets.numpy(), digits[:, 0])
    assert (dataset.input_size, dataset.num_classes, len(dataset)) == (10, 10, 50)


@pytest.mark.parametrize("length", [2, 5, 6])
def test_palindromes_digit_format(length):
    dataset = data.PalindromeDataset(length, 20, seed=0, encoding="digits")
    inputs, targets = dataset.tensors()
    assert inputs.shape == (20, length - 1, 1) and inputs.dtype == torch.float32
    np.testing.assert_array_equal(inputs[:, :, 0].numpy(), dataset.palindromes[:, :-1])
    np.testing.assert_array_equal(targets.numpy(), dataset.palindromes[:, -1])
    assert dataset.input_size == 1


def test_palindromes_of_length_two_repeat_one_digit():
    dataset = data.PalindromeDataset(2, 30, seed=0, encoding="digits")
    inputs, targets = dataset.tensors()
    np.testing.assert_array_equal(inputs[:, 0, 0].long().numpy(), targets.numpy())


def test_palindrome_digits_are_uniform():
    counts = np.bincount(data.PalindromeDataset(9, 2000, seed=0).palindromes[:, :5].ravel(), minlength=10)
    assert counts.min() > 850 and counts.max() < 1150  # 1000 expected per digit, sd about 30


def test_palindrome_items_match_the_tensors_and_draw_nothing():
    dataset = data.PalindromeDataset(6, 10, seed=0)
    inputs, targets = dataset.tensors()
    torch.manual_seed(0)
    np.random.seed(0)
    before = global_states()
    for index in (0, 9, -1):
        x, y = dataset[index]
        assert torch.equal(x, inputs[index]) and torch.equal(y, targets[index])
    assert torch.equal(dataset[3][0], dataset[3][0])
    assert_same_global_states(before, global_states())


def test_palindrome_index_out_of_range():
    dataset = data.PalindromeDataset(4, 3, seed=0)
    with pytest.raises(IndexError, match=r"index: expected an integer in \[-3, 3\), got 3"):
        dataset[3]
    with pytest.raises(TypeError, match="index: expected an integer"):
        dataset[1.0]


def test_palindromes_through_a_dataloader_with_two_workers():
    dataset = data.PalindromeDataset(7, 64, seed=0)
    loader = DataLoader(dataset, batch_size=16, shuffle=False, num_workers=2)
    batches = list(loader)
    inputs, targets = dataset.tensors()
    assert torch.equal(torch.cat([x for x, _ in batches]), inputs)
    assert torch.equal(torch.cat([y for _, y in batches]), targets)


def test_palindrome_count():
    assert [data.palindrome_count(t) for t in (1, 2, 3, 4, 5, 6, 15)] == [10, 10, 100, 100, 1000, 1000, 10**8]


@pytest.mark.parametrize("length", [5, 20])
def test_palindrome_splits_are_disjoint(length):
    train, held_out = data.palindrome_splits(length, 2000, 500, seed=0)
    assert (len(train), len(held_out)) == (2000, 500)
    assert data.shared_palindromes(train, held_out) == 0
    assert train.encoding == held_out.encoding == "one_hot"


def test_small_space_training_set_covers_exactly_the_free_palindromes():
    train, held_out = data.palindrome_splits(3, 5000, 30, seed=0, encoding="digits")
    held = {tuple(row) for row in held_out.palindromes}
    seen = {tuple(row) for row in train.palindromes}
    assert not held & seen
    assert len(seen) == 100 - len(held)  # 5000 uniform draws reach every free palindrome
    assert train.encoding == "digits"


def test_palindrome_splits_refuse_when_the_held_out_set_covers_everything():
    expected = "held_out_size: .* cover all 10 palindromes of length 2.*disjoint=False"
    with pytest.raises(ValueError, match=expected):
        data.palindrome_splits(2, 100, 200, seed=0)


def test_palindrome_splits_may_overlap_when_asked():
    train, held_out = data.palindrome_splits(2, 100, 200, seed=0, disjoint=False)
    assert data.shared_palindromes(train, held_out) == 10


def test_palindrome_exclude_accepts_an_array():
    excluded = np.array([[1, 2, 1], [3, 0, 3]])
    dataset = data.PalindromeDataset(3, 2000, seed=0, exclude=excluded)
    rows = {tuple(row) for row in dataset.palindromes}
    assert (1, 2, 1) not in rows and (3, 0, 3) not in rows and len(rows) == 98


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(length=1), ValueError, "length: expected an integer >= 2, got 1"),
    (dict(length=4.0), TypeError, "length: expected an integer"),
    (dict(size=0), ValueError, "size: expected a positive integer, got 0"),
    (dict(encoding="binary"), ValueError, "encoding: expected one of 'one_hot', 'digits', got 'binary'"),
    (dict(exclude=np.array([[1, 2, 3]])), ValueError, "exclude: expected palindromes of digits 0..9"),
    (dict(exclude=np.array([[1, 2, 12]])), ValueError, "exclude: expected palindromes of digits 0..9"),
    (dict(exclude=np.array([[1.0, 2.0, 1.0]])), TypeError, "exclude: expected an integer array"),
    (dict(exclude=np.array([[1, 1]])), ValueError, r"exclude: expected shape \(any, 3\)"),
    (dict(exclude=np.array([1, 2, 1])), ValueError, "exclude: expected an array with 2 dimensions"),
    (dict(exclude=np.array([[a, b, a] for a in range(10) for b in range(10)])), ValueError,
     "exclude: expected to leave some of the 100 palindromes of length 3 free"),
])
def test_palindrome_dataset_bad_input(kwargs, error, match):
    arguments = dict(length=3, size=4, seed=0) | kwargs
    with pytest.raises(error, match=match):
        data.PalindromeDataset(**arguments)


def test_palindrome_splits_bad_input():
    with pytest.raises(ValueError, match="train_size: expected a positive integer"):
        data.palindrome_splits(5, 0, 10, seed=0)
    with pytest.raises(ValueError, match="held_out_size: expected a positive integer"):
        data.palindrome_splits(5, 10, -1, seed=0)
    with pytest.raises(TypeError, match="disjoint: expected a bool"):
        data.palindrome_splits(5, 10, 10, seed=0, disjoint=1)
    with pytest.raises(TypeError, match="b: expected a PalindromeDataset"):
        data.shared_palindromes(data.PalindromeDataset(3, 2, seed=0), np.zeros((2, 3), dtype=int))


# --- sine waves ----------------------------------------------------------------------------------

def test_sine_waves_format_and_values():
    waves = data.sine_waves(32, seed=0)
    assert waves.inputs.shape == waves.targets.shape == (32, 100)
    assert waves.frequencies.shape == waves.starts.shape == (32,)
    np.testing.assert_array_equal(waves.targets[:, :-1], waves.inputs[:, 1:])
    assert waves.frequencies.min() >= 1 and waves.frequencies.max() < 2
    assert waves.starts.min() >= 0 and waves.starts.max() < 4 * np.pi
    times = waves.starts[:, None] + 0.15 * np.arange(101)
    expected = np.sin(waves.frequencies[:, None] * times)
    np.testing.assert_allclose(waves.inputs, expected[:, :100], rtol=0, atol=1e-15)
    np.testing.assert_allclose(waves.targets, expected[:, 1:], rtol=0, atol=1e-15)
    assert waves.step == 0.15


def test_sine_waves_custom_length_and_step():
    waves = data.sine_waves(2, length=1, step=0.5, seed=0)
    assert waves.inputs.shape == (2, 1)
    np.testing.assert_allclose(waves.targets[:, 0],
                               np.sin(waves.frequencies * (waves.starts + 0.5)), rtol=0, atol=1e-15)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(batch_size=0), ValueError, "batch_size: expected a positive integer"),
    (dict(length=0), ValueError, "length: expected a positive integer"),
    (dict(step=0.0), ValueError, "step: expected a finite number in \\(0, inf\\)"),
    (dict(step=float("nan")), ValueError, "step: expected a finite number"),
    (dict(step="0.1"), TypeError, "step: expected a real number"),
])
def test_sine_waves_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        data.sine_waves(**(dict(batch_size=2, seed=0) | kwargs))


# --- random one-hot sequences --------------------------------------------------------------------

def test_random_sequences_format():
    sequences = data.random_sequences(8, 6, 5, seed=0)
    assert sequences.inputs.shape == (8, 6, 5) and sequences.inputs.dtype == np.float64
    assert sequences.input_ids.shape == sequences.targets.shape == (8, 6)
    assert sequences.targets.dtype == np.int64
    np.testing.assert_array_equal(sequences.inputs.argmax(axis=-1), sequences.input_ids)
    np.testing.assert_array_equal(sequences.inputs.sum(axis=-1), 1.0)
    assert sequences.targets.min() >= 0 and sequences.targets.max() < 5
    assert not np.array_equal(sequences.targets, sequences.input_ids)


@pytest.mark.parametrize("kwargs, match", [
    (dict(batch_size=0), "batch_size"), (dict(seq_len=0), "seq_len"), (dict(vocab_size=0), "vocab_size"),
])
def test_random_sequences_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=f"{match}: expected a positive integer, got 0"):
        data.random_sequences(**(dict(batch_size=2, seq_len=3, vocab_size=4, seed=0) | kwargs))


@pytest.mark.parametrize("kwargs", [dict(step=1e308), dict(step=1e306, length=1000)])
def test_sine_waves_reject_a_step_whose_phase_overflows(kwargs):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning before the error
        with pytest.raises(ValueError, match=r"^step: expected a step whose \d+ steps keep the phase "
                                             r"finite, got 1e\+30[68]$"):
            data.sine_waves(2, seed=0, **kwargs)


def test_seeds_beyond_the_seed_range_are_rejected_by_every_generator():
    with pytest.raises(ValueError, match=r"^seed: expected an integer seed in \[0, 2\*\*32\)"):
        data.sine_waves(2, seed=2 ** 32)
    assert data.sine_waves(2, seed=2 ** 32 - 1).inputs.shape == (2, 100)
