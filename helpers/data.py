"""Seeded data for the experiments: memory task, palindromes, sine waves, random one-hot sequences.

Every generator takes `seed`, an int or a `numpy.random.Generator`, and draws nothing from a global
random state: the same seed gives the same data. Shapes use N (batch), T (time), V (vocabulary).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import Dataset

from helpers import validate
from helpers.checked import checked

MEMORY_NUM_SYMBOLS = 9  # sheet 001 (g): r_i uniform over {0, ..., 8}
DIGITS = 10
PALINDROME_ENCODINGS = ("one_hot", "digits")


def _read_only(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


def one_hot(ids, num_classes: int, dtype=np.float64) -> np.ndarray:
    """One-hot vectors of integer `ids` of any shape S: an array of shape S + (num_classes,)."""
    num_classes = validate.positive_int("num_classes", num_classes)
    ids = validate.labels("ids", ids, num_classes)
    return np.eye(num_classes, dtype=dtype)[ids]


# --- memory task (sheets 001 g-h, 002) ------------------------------------------------------------

def memory_chance_level(num_symbols: int = MEMORY_NUM_SYMBOLS) -> float:
    """Recall accuracy of guessing: 1 / num_symbols."""
    return 1.0 / validate.positive_int("num_symbols", num_symbols)


@dataclass(frozen=True, eq=False)
class MemoryTask:
    """A batch of the memory task, with k = to_remember_len, g = blank_separation_len, T = 2k + g + 1.

    Vocabulary (V = K + 2 ids, K = num_symbols): symbols 0..K-1, blank = K, delimiter = K + 1.
    inputs  (N, T) int64: r_1 .. r_k, g blanks, the delimiter, k blanks.
    targets (N, T) int64: k + g + 1 blanks (the output at the delimiter is a blank too), then
            r_1 .. r_k in the last k positions (the recall window): each r_i is recalled k + g + 1
            steps after it was read.
    mask    (N, T) bool: True at the recall window.
    The arrays are read-only.
    """

    inputs: np.ndarray
    targets: np.ndarray
    mask: np.ndarray
    num_symbols: int
    to_remember_len: int
    blank_separation_len: int

    @property
    def blank(self) -> int:
        return self.num_symbols

    @property
    def delimiter(self) -> int:
        return self.num_symbols + 1

    @property
    def vocab_size(self) -> int:
        return self.num_symbols + 2

    @property
    def chance_level(self) -> float:
        return memory_chance_level(self.num_symbols)

    @property
    def inputs_one_hot(self) -> np.ndarray:
        """(N, T, V) float64."""
        return one_hot(self.inputs, self.vocab_size)

    @property
    def targets_one_hot(self) -> np.ndarray:
        """(N, T, V) float64."""
        return one_hot(self.targets, self.vocab_size)


def memory_task(batch_size: int, to_remember_len: int, blank_separation_len: int, *,
                num_symbols: int = MEMORY_NUM_SYMBOLS, seed) -> MemoryTask:
    """Draw N sequences of the memory task; the symbols to remember are uniform over 0..K-1."""
    n = validate.positive_int("batch_size", batch_size)
    k = validate.positive_int("to_remember_len", to_remember_len)
    gap = validate.non_negative_int("blank_separation_len", blank_separation_len)
    num_symbols = validate.positive_int("num_symbols", num_symbols)
    generator = validate.rng("seed", seed)
    blank, delimiter = num_symbols, num_symbols + 1
    length = 2 * k + gap + 1
    symbols = generator.integers(0, num_symbols, size=(n, k), dtype=np.int64)
    inputs = np.full((n, length), blank, dtype=np.int64)
    inputs[:, :k] = symbols
    inputs[:, k + gap] = delimiter
    targets = np.full((n, length), blank, dtype=np.int64)
    targets[:, -k:] = symbols
    mask = np.zeros((n, length), dtype=bool)
    mask[:, -k:] = True
    return MemoryTask(_read_only(inputs), _read_only(targets), _read_only(mask), num_symbols, k, gap)


def _as_numpy(name: str, value) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    return validate.array(name, value)


def recall_arguments(predictions, targets, mask) -> dict:
    """Checked arguments of `recall_accuracy`, as NumPy arrays: predictions (N, T) integer ids or
    (N, T, V) float logits/probabilities, targets (N, T) integer ids, mask (N, T) bool with a True."""
    predictions = _as_numpy("predictions", predictions)
    targets = _as_numpy("targets", targets)
    mask = _as_numpy("mask", mask)
    if predictions.ndim == 3 and np.issubdtype(predictions.dtype, np.floating):
        shape = predictions.shape[:2]
    elif predictions.ndim == 2 and np.issubdtype(predictions.dtype, np.integer):
        shape = predictions.shape
        if predictions.size and predictions.min() < 0:
            validate.fail("predictions", "non-negative ids", predictions)
    else:
        validate.fail("predictions", "(N, T) integer ids or (N, T, V) float logits", predictions, TypeError)
    if targets.ndim != 2 or not np.issubdtype(targets.dtype, np.integer):
        validate.fail("targets", "(N, T) integer ids", targets, TypeError)
    if targets.size and targets.min() < 0:
        validate.fail("targets", "non-negative ids", targets)
    validate.shape("targets", targets, shape)
    if mask.dtype != bool:
        validate.fail("mask", "a boolean array", mask, TypeError)
    validate.shape("mask", mask, shape)
    if not mask.any():
        validate.fail("mask", "at least one True position", mask)
    return {"predictions": predictions, "targets": targets, "mask": mask}


@checked(recall_arguments)
def recall_accuracy(predictions, targets, mask) -> float:
    """Fraction of correct predictions at the positions where `mask` is True (eq. R of notebook 04).

    predictions: (N, T) integer ids or (N, T, V) logits/probabilities (arg-max taken); NumPy or torch.
    targets: (N, T) integer ids; mask: (N, T) bool, e.g. `MemoryTask.mask`.
    """
    ### BEGIN SOLUTION implement recall_accuracy: arg-max of the logits, then the share of correct ids at the recall (masked) positions only (eq. R)
    if predictions.ndim == 3:
        predictions = predictions.argmax(axis=-1)
    return float(np.mean(predictions[mask] == targets[mask]))
    ### END SOLUTION


# --- palindromes (sheet 004) ----------------------------------------------------------------------

def palindrome_count(length: int) -> int:
    """Number of distinct digit palindromes of `length` T (leading zeros allowed): 10^ceil(T/2)."""
    return DIGITS ** math.ceil(validate.positive_int("length", length) / 2)


def _rows(halves: np.ndarray) -> np.ndarray:
    """One hashable key per row (for set operations on palindromes)."""
    halves = np.ascontiguousarray(halves, dtype=np.int8)
    return halves.view(np.dtype((np.void, halves.shape[1]))).ravel()


def _draw_distinct_halves(generator: np.random.Generator, size: int, width: int, excluded: np.ndarray | None):
    """`size` different uniform digit rows of `width` (a uniform sample without replacement),
    none of them among the `excluded` row keys."""
    chunks, seen = [], np.empty(0, dtype=np.dtype((np.void, width))) if excluded is None else excluded
    have = 0
    while have < size:
        draw = generator.integers(0, DIGITS, size=(2 * (size - have) + 8, width), dtype=np.int64)
        keys = _rows(draw)
        _, first = np.unique(keys, return_index=True)
        fresh = np.sort(first)                                  # first occurrence, in draw order
        fresh = fresh[~np.isin(keys[fresh], seen)][: size - have]
        chunks.append(draw[fresh])
        seen = np.concatenate([seen, keys[fresh]])
        have += len(fresh)
    return np.concatenate(chunks)


def _draw_halves(generator: np.random.Generator, size: int, width: int, excluded: np.ndarray | None):
    """`size` uniform digit rows of `width`, none of them among the `excluded` row keys."""
    if excluded is None:
        return generator.integers(0, DIGITS, size=(size, width), dtype=np.int64)
    total = DIGITS ** width
    free = (total - len(excluded)) / total
    chunks, have = [], 0
    while have < size:  # draw a little more than the expected need, keep the free rows
        draw = generator.integers(0, DIGITS, size=(math.ceil((size - have) / free * 1.1) + 8, width),
                                  dtype=np.int64)
        keep = draw[~np.isin(_rows(draw), excluded)][: size - have]
        chunks.append(keep)
        have += len(keep)
    return np.concatenate(chunks)


class PalindromeDataset(Dataset):
    """N digit palindromes of length T, drawn uniformly at construction (leading zeros allowed).

    Sample i is `(inputs[i], targets[i])`: the first T - 1 digits, as one-hot vectors (T-1, 10)
    float32 (`encoding="one_hot"`) or raw digit values (T-1, 1) float32 (`encoding="digits"`, the
    sheet's encoding), and the last digit as an int64 class (it equals the first digit).
    `exclude` (a PalindromeDataset or an (M, T) digit array) lists palindromes never to draw: a
    held-out set stays disjoint from the training set. `distinct=True` draws without repeats (a
    uniform sample of `size` different palindromes, as for a validation or test set). `__getitem__` draws nothing random, so the
    dataset is safe with `DataLoader(num_workers > 0)`; `tensors()` gives the whole set at once.
    `palindromes` is the (N, T) int64 digit array (read-only).
    """

    def __init__(self, length: int, size: int, *, seed, encoding: str = "one_hot", exclude=None,
                 distinct: bool = False):
        self.length = validate.integer("length", length, minimum=2)
        size = validate.positive_int("size", size)
        self.encoding = validate.choice("encoding", encoding, PALINDROME_ENCODINGS)
        if not isinstance(distinct, bool):
            validate.fail("distinct", "a bool", distinct, TypeError)
        generator = validate.rng("seed", seed)
        width = math.ceil(self.length / 2)
        excluded = None if exclude is None else self._excluded_halves(exclude, width)
        free = palindrome_count(self.length) - (0 if excluded is None else len(excluded))
        if free <= 0:
            raise ValueError(f"exclude: expected to leave some of the {palindrome_count(self.length)} "
                             f"palindromes of length {self.length} free, got all of them excluded")
        if distinct and size > free:
            validate.fail("size", f"at most the {free} palindromes of length {self.length} that are free "
                          "(distinct=True draws without repeats)", size)
        draw = _draw_distinct_halves if distinct else _draw_halves
        halves = draw(generator, size, width, excluded)
        digits = np.concatenate([halves, halves[:, : self.length // 2][:, ::-1]], axis=1)
        self.palindromes = _read_only(digits)
        first = digits[:, :-1]
        if self.encoding == "one_hot":
            self._inputs = torch.from_numpy(one_hot(first, DIGITS, dtype=np.float32))
        else:
            self._inputs = torch.from_numpy(first.astype(np.float32)[:, :, None])
        self._targets = torch.from_numpy(digits[:, -1].copy())

    def _excluded_halves(self, exclude, width: int) -> np.ndarray:
        if isinstance(exclude, PalindromeDataset):
            exclude = exclude.palindromes
        exclude = validate.array("exclude", exclude, ndim=2)
        validate.shape("exclude", exclude, (None, self.length))
        if not np.issubdtype(exclude.dtype, np.integer):
            validate.fail("exclude", "an integer array of digits", exclude, TypeError)
        if exclude.size and (exclude.min() < 0 or exclude.max() >= DIGITS or
                             not np.array_equal(exclude, exclude[:, ::-1])):
            validate.fail("exclude", "palindromes of digits 0..9 in its rows", exclude)
        return np.unique(_rows(exclude[:, :width]))

    @property
    def input_size(self) -> int:
        """Features per time step: 10 (one-hot) or 1 (digits)."""
        return DIGITS if self.encoding == "one_hot" else 1

    @property
    def num_classes(self) -> int:
        return DIGITS

    def __len__(self) -> int:
        return len(self._targets)

    def __getitem__(self, index):
        index = validate.integer("index", index)
        if not -len(self) <= index < len(self):
            raise IndexError(f"index: expected an integer in [{-len(self)}, {len(self)}), got {index}")
        return self._inputs[index], self._targets[index]

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The whole set: inputs (N, T-1, 10 or 1) float32 and targets (N,) int64 (not copies)."""
        return self._inputs, self._targets


def shared_palindromes(a: PalindromeDataset, b: PalindromeDataset) -> int:
    """Number of distinct palindromes that occur in both datasets."""
    for name, value in (("a", a), ("b", b)):
        if not isinstance(value, PalindromeDataset):
            validate.fail(name, "a PalindromeDataset", value, TypeError)
    return len(np.intersect1d(_rows(a.palindromes), _rows(b.palindromes)))


def palindrome_splits(length: int, train_size: int, held_out_size: int, *, seed,
                      encoding: str = "one_hot", disjoint: bool = True):
    """A training and a held-out `PalindromeDataset` of palindromes of `length` T.

    The held-out set is drawn first (uniformly, repeats allowed); with `disjoint=True` the training
    set is then drawn uniformly from the palindromes the held-out set does not contain, so the two
    never share a palindrome. There are only 10^ceil(T/2) palindromes (10 for T = 2, 100 for T = 3
    or 4, 1000 for T = 5 or 6): when the held-out draws cover all of them, no training palindrome
    is left and a ValueError says so; `disjoint=False` then draws both sets independently (they may
    overlap, as in the sheet). Returns `(train, held_out)`.
    """
    train_size = validate.positive_int("train_size", train_size)
    held_out_size = validate.positive_int("held_out_size", held_out_size)
    if not isinstance(disjoint, bool):
        validate.fail("disjoint", "a bool", disjoint, TypeError)
    generator = validate.rng("seed", seed)
    held_out = PalindromeDataset(length, held_out_size, seed=generator, encoding=encoding)
    distinct = len(np.unique(_rows(held_out.palindromes)))
    if disjoint and distinct == palindrome_count(length):
        raise ValueError(f"held_out_size: expected fewer held-out draws, got {held_out_size} draws "
                         f"that cover all {distinct} palindromes of length {length}, leaving none "
                         f"for training; lower held_out_size or pass disjoint=False")
    train = PalindromeDataset(length, train_size, seed=generator, encoding=encoding,
                              exclude=held_out if disjoint else None)
    return train, held_out


@dataclass(frozen=True, eq=False)
class PalindromeSplits:
    """Three disjoint `PalindromeDataset`s of one length: `train`, `validation`, `test`."""

    train: PalindromeDataset
    validation: PalindromeDataset
    test: PalindromeDataset

    def distinct_training_palindromes(self) -> int:
        """How many different palindromes the training set holds (few at small T)."""
        return len(np.unique(_rows(self.train.palindromes)))


def held_out_size(length: int, requested: int) -> int:
    """Size of a validation or test set of length T: `requested`, capped at a quarter of the
    10^ceil(T/2) palindromes so that half of them stay free for training (250 at T = 5 or 6)."""
    requested = validate.positive_int("requested", requested)
    return min(requested, palindrome_count(length) // 4)


def train_validation_test_palindromes(length: int, train_size: int, validation_size: int, test_size: int,
                                      *, seed, encoding: str = "one_hot") -> PalindromeSplits:
    """The experiment protocol's data: three sets of palindromes of `length` T that share none.

    The validation and the test set are drawn first, each without repeats (`held_out_size`
    different palindromes: `validation_size` / `test_size`, capped at a quarter of all palindromes);
    the training set then draws `train_size` palindromes uniformly, with repeats, from the
    palindromes neither of them contains. Training uses `train` only; choices (learning rate, step)
    are made on `validation`; reported numbers come from `test`.
    """
    length = validate.integer("length", length, minimum=3)
    train_size = validate.positive_int("train_size", train_size)
    sizes = [held_out_size(length, validate.positive_int(name, value))
             for name, value in (("validation_size", validation_size), ("test_size", test_size))]
    generator = validate.rng("seed", seed)
    validation = PalindromeDataset(length, sizes[0], seed=generator, encoding=encoding, distinct=True)
    test = PalindromeDataset(length, sizes[1], seed=generator, encoding=encoding, distinct=True,
                             exclude=validation)
    held_out = np.concatenate([validation.palindromes, test.palindromes])
    train = PalindromeDataset(length, train_size, seed=generator, encoding=encoding, exclude=held_out)
    return PalindromeSplits(train, validation, test)


# --- sine waves (sheet 001) -----------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class SineWaves:
    """N sine curves sin(f * t) sampled at t = start + step * j, j = 0..L (L + 1 samples).

    inputs (N, L): samples 0..L-1; targets (N, L): samples 1..L (the next value at every step);
    frequencies (N,) in [1, 2); starts (N,) in [0, 4 pi). Read-only float64 arrays.
    """

    inputs: np.ndarray
    targets: np.ndarray
    frequencies: np.ndarray
    starts: np.ndarray
    step: float


def sine_waves(batch_size: int, *, length: int = 100, step: float = 0.15, seed) -> SineWaves:
    """Draw N sine curves: start uniform in [0, 4 pi), frequency uniform in [1, 2)."""
    n = validate.positive_int("batch_size", batch_size)
    length = validate.positive_int("length", length)
    step = validate.positive("step", step)
    if not math.isfinite(2.0 * (4 * math.pi + step * length)):  # the largest phase f * t, f < 2
        validate.fail("step", f"a step whose {length} steps keep the phase finite", step)
    generator = validate.rng("seed", seed)
    starts = generator.uniform(0.0, 4 * np.pi, size=n)
    frequencies = generator.uniform(1.0, 2.0, size=n)
    times = starts[:, None] + step * np.arange(length + 1)
    samples = np.sin(frequencies[:, None] * times)
    return SineWaves(_read_only(samples[:, :-1].copy()), _read_only(samples[:, 1:].copy()),
                     _read_only(frequencies), _read_only(starts), step)


# --- random one-hot sequences (sheet 002) ---------------------------------------------------------

@dataclass(frozen=True, eq=False)
class RandomSequences:
    """Uniform random symbols: input_ids (N, T) int64, inputs (N, T, V) float64 one-hot of them,
    targets (N, T) int64 drawn independently. Read-only."""

    input_ids: np.ndarray
    inputs: np.ndarray
    targets: np.ndarray


def random_sequences(batch_size: int, seq_len: int, vocab_size: int, *, seed) -> RandomSequences:
    """N random one-hot input sequences of length T over V symbols, with random integer targets."""
    n = validate.positive_int("batch_size", batch_size)
    seq_len = validate.positive_int("seq_len", seq_len)
    vocab_size = validate.positive_int("vocab_size", vocab_size)
    generator = validate.rng("seed", seed)
    ids = generator.integers(0, vocab_size, size=(n, seq_len), dtype=np.int64)
    targets = generator.integers(0, vocab_size, size=(n, seq_len), dtype=np.int64)
    return RandomSequences(_read_only(ids), _read_only(one_hot(ids, vocab_size)), _read_only(targets))
