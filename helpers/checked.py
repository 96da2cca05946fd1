"""Argument checks at the public entry points, kept out of the teaching code.

A teaching function reads like its equation; the checks live in a separate *validator* that takes
the same arguments (by name) and returns them checked and converted, as a dict::

    def step_arguments(x, prev_h, Wx, Wh, b):
        ...                      # validate.* calls: "name: expected ..., got ..."
        return {"x": x, "prev_h": prev_h, "Wx": Wx, "Wh": Wh, "b": b}

    @checked(step_arguments)
    def rnn_step_forward(x, prev_h, Wx, Wh, b):
        next_h = np.tanh(x @ Wx + prev_h @ Wh + b)
        ...

`checked` binds the call's arguments to the function's signature (defaults filled in), passes them
to the validator and calls the function with what the validator returns. `float_array` is the check
for upstream gradients.
"""
from __future__ import annotations

import functools
import inspect

import numpy as np

from helpers import validate


def checked(validator):
    """Decorator: run `validator(**arguments)` before the function and call it with the returned dict."""
    if not callable(validator):
        raise TypeError(f"validator: expected a callable, got {validator!r}")

    def decorate(function):
        signature = inspect.signature(function)

        @functools.wraps(function)
        def entry_point(*args, **kwargs):
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            return function(**validator(**bound.arguments))

        return entry_point

    return decorate


def float_array(name: str, value, ndim: int | None = None) -> np.ndarray:
    """`validate.array`, converted to float64 unless it already holds floats (float32 stays float32):
    an integer or boolean upstream gradient must not truncate the gradients computed from it."""
    result = validate.array(name, value, ndim=ndim)
    return result if np.issubdtype(result.dtype, np.floating) else result.astype(np.float64)
