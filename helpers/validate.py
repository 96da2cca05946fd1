"""Argument checks shared by every public function: clear `TypeError`/`ValueError` messages.

Every message names the argument, what was expected and what came, e.g.
``hidden_size: expected a positive integer, got 0``.
"""
from __future__ import annotations

import inspect
import numbers

import numpy as np

SEED_LIMIT = 2 ** 32  # NumPy's legacy seeding takes seeds in [0, 2**32): the one range every seed obeys


def _describe(value) -> str:
    if isinstance(value, type):
        return f"the class {value.__name__}"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        grad = " that requires grad" if getattr(value, "requires_grad", False) is True else ""
        return f"a {type(value).__name__} of shape {tuple(value.shape)} and dtype {value.dtype}{grad}"
    text = repr(value)
    return text if len(text) <= 60 else f"a {type(value).__name__}"


def fail(name: str, expected: str, value, error=ValueError):
    """Raise `error` with the house message: ``name: expected ..., got ...``."""
    raise error(f"{name}: expected {expected}, got {_describe(value)}")


def integer(name: str, value, minimum: int | None = None) -> int:
    """Return `value` as int; TypeError unless it is an integer (bool excluded), ValueError below `minimum`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        fail(name, "an integer", value, TypeError)
    if minimum is not None and value < minimum:
        kind = {0: "a non-negative integer", 1: "a positive integer"}.get(minimum, f"an integer >= {minimum}")
        fail(name, kind, value)
    return int(value)


def positive_int(name: str, value) -> int:
    """An integer >= 1."""
    return integer(name, value, minimum=1)


def non_negative_int(name: str, value) -> int:
    """An integer >= 0."""
    return integer(name, value, minimum=0)


def real(name: str, value, low: float | None = None, high: float | None = None,
         low_open: bool = False, high_open: bool = False) -> float:
    """Return a finite float inside the given interval (bounds open or closed)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        fail(name, "a real number", value, TypeError)
    value = float(value)
    lo = "-inf" if low is None else f"{low:g}"
    hi = "inf" if high is None else f"{high:g}"
    interval = f"{'(' if low_open or low is None else '['}{lo}, {hi}{')' if high_open or high is None else ']'}"
    inside = np.isfinite(value)
    if low is not None:
        inside = inside and (value > low if low_open else value >= low)
    if high is not None:
        inside = inside and (value < high if high_open else value <= high)
    if not inside:
        fail(name, f"a finite number in {interval}", value)
    return value


def positive(name: str, value) -> float:
    """A finite number > 0 (learning rates, scales)."""
    return real(name, value, low=0.0, low_open=True)


def probability(name: str, value) -> float:
    """A probability in (0, 1]."""
    return real(name, value, low=0.0, high=1.0, low_open=True)


def array(name: str, value, ndim: int | tuple[int, ...] | None = None, finite: bool = True,
          dtype=None) -> np.ndarray:
    """Return `value` as a real numeric ndarray, checking its number of dimensions and finiteness.

    Lists, NumPy arrays and torch tensors that do not require grad convert; complex values, strings,
    objects and tensors that require grad (call `.detach()` first) are TypeErrors.
    """
    if isinstance(value, (str, bytes)) or value is None:
        fail(name, "a numeric array", value, TypeError)
    if getattr(value, "requires_grad", False) is True:
        fail(name, "an array or a tensor that does not require grad (call .detach() first)", value, TypeError)
    try:
        result = np.asarray(value)
    except (TypeError, ValueError):  # ragged nested lists
        fail(name, "a rectangular numeric array", value)
    if np.iscomplexobj(result):
        fail(name, "a real-valued array", result, TypeError)
    if result.dtype == object or not (np.issubdtype(result.dtype, np.number) or result.dtype == bool):
        fail(name, "a numeric array", value, TypeError)
    if dtype is not None:
        result = result.astype(dtype, copy=False)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if result.ndim not in allowed:
            wanted = " or ".join(str(d) for d in allowed)
            fail(name, f"an array with {wanted} dimensions", result)
    if finite and np.issubdtype(result.dtype, np.inexact) and not np.all(np.isfinite(result)):
        bad = int(np.size(result) - np.count_nonzero(np.isfinite(result)))
        raise ValueError(f"{name}: expected finite values, got {bad} NaN or inf entries "
                         f"in an array of shape {result.shape}")
    return result


def real_valued(name: str, value):
    """`value` itself unless it holds complex numbers (a complex tensor, array, list or scalar): TypeError.

    For entry points that convert their input themselves (torch models); `array` checks this too.
    """
    is_complex = getattr(value, "is_complex", None)
    if callable(is_complex) and not isinstance(value, type):
        complex_values = bool(is_complex())  # a torch tensor
    else:
        try:
            complex_values = np.iscomplexobj(np.asarray(value))
        except (TypeError, ValueError, RuntimeError):  # not array-like: for the caller's own checks
            complex_values = False
    if complex_values:
        fail(name, "real values (not complex)", value, TypeError)
    return value


def shape(name: str, value: np.ndarray, expected: tuple) -> np.ndarray:
    """Check `value.shape` against `expected`, where None in `expected` matches any size."""
    if isinstance(value, type) or not isinstance(getattr(value, "shape", None), tuple):
        fail(name, "an array", value, TypeError)
    ok = len(value.shape) == len(expected) and all(e is None or e == s for e, s in zip(expected, value.shape))
    if not ok:
        wanted = "(" + ", ".join("any" if e is None else str(e) for e in expected) + ")"
        fail(name, f"shape {wanted}", value)
    return value


def labels(name: str, value, num_classes: int) -> np.ndarray:
    """Integer class labels in [0, num_classes)."""
    result = array(name, value)
    if not np.issubdtype(result.dtype, np.integer):
        fail(name, "integer class labels", result, TypeError)
    if result.size and (result.min() < 0 or result.max() >= num_classes):
        raise ValueError(f"{name}: expected labels in [0, {num_classes}), "
                         f"got values from {result.min()} to {result.max()}")
    return result


def one_hot_labels(name: str, value, num_classes: int | None = None) -> np.ndarray:
    """A (N, K) one-hot label matrix: entries 0/1, exactly one 1 per row."""
    result = array(name, value, ndim=2)
    if num_classes is not None and result.shape[1] != num_classes:
        fail(name, f"one-hot labels with {num_classes} columns", result)
    if not (np.all((result == 0) | (result == 1)) and np.all(result.sum(axis=1) == 1)):
        fail(name, "one-hot rows (zeros and a single one)", result)
    return result


def rng(name: str, value) -> np.random.Generator:
    """A `numpy.random.Generator`, built from an int seed when an int is given."""
    if isinstance(value, np.random.Generator):
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        fail(name, "an integer seed or a numpy.random.Generator", value, TypeError)
    if value < 0:
        fail(name, "a non-negative seed", value)
    return np.random.default_rng(seed(name, value))


def seed(name: str, value) -> int:
    """An integer seed in [0, 2**32), the range NumPy's and torch's global seeding both take."""
    value = non_negative_int(name, value)
    if value >= SEED_LIMIT:
        fail(name, f"an integer seed in [0, 2**32) = [0, {SEED_LIMIT - 1}]", value)
    return value


def instance(name: str, value, expected: str):
    """`value` itself unless it is a class: TypeError ``pass an instance: ReLU()`` for the classic slip."""
    if isinstance(value, type):
        raise TypeError(f"{name}: expected {expected}, got the class {value.__name__}; "
                        f"pass an instance: {_call_signature(value)}")
    return value


def _call_signature(cls: type) -> str:
    """`ReLU()`, `Sgd(learning_rate)`: the class called with its required arguments."""
    try:
        parameters = inspect.signature(cls).parameters.values()
    except (TypeError, ValueError):  # builtins without a signature
        return f"{cls.__name__}()"
    required = [p.name for p in parameters if p.default is p.empty
                and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    return f"{cls.__name__}({', '.join(required)})"


def text(name: str, value) -> str:
    """A str (names, titles, logs)."""
    if not isinstance(value, str):
        fail(name, "a str", value, TypeError)
    return value


def choice(name: str, value, options) -> object:
    """One of a fixed set of options."""
    try:
        known = value in options
    except (TypeError, ValueError):  # e.g. an array, whose comparison has no single truth value
        known = False
    if not known:
        fail(name, "one of " + ", ".join(repr(o) for o in options), value)
    return value
