"""The bad values of the bad-input walk (tests/test_bad_input.py), one factory per kind of argument.

Each factory returns an `Arg`: a good value and the cases to try in its place. A case expects
- ERROR: a ValueError/TypeError whose message names the argument;
- CONVERT: the call returns what it returns for `converted` (the documented conversion: a list or a
  tensor for an array, bool or int entries for floats, np.int64 for an int ...); a clear error is
  accepted too;
- EITHER: a clear error or a clean result (no complex, float16 or NaN inside), e.g. for an empty batch.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

ERROR, CONVERT, EITHER = "error", "convert", "either"


@dataclass(frozen=True)
class Case:
    label: str
    value: Any
    expect: str
    converted: Any = None


@dataclass(frozen=True)
class Arg:
    good: Any
    cases: list[Case] = field(default_factory=list)


def _common(good, optional: bool) -> list[Case]:
    cases = [Case("string", "abc", ERROR), Case("object", object(), ERROR), Case("class", type(good), ERROR)]
    if not optional:
        cases.append(Case("None", None, ERROR))
    return cases


def floats(*shape, free=(0,), finite=True, any_rank=False, optional=False, good=None, low=None,
           as_torch=False, detaches=False) -> Arg:
    """A float array of `shape` (axes in `free` may take any size; `any_rank`: any shape at all).
    `low` shifts the good values to |x| + low (e.g. 0 for non-negative values); `as_torch` makes the
    good value a float32 tensor and tensors that require grad a valid input (a torch model);
    `detaches`: the entry point documents that it detaches tensors (gradient checks, metrics)."""
    good = np.random.default_rng(sum(shape) + 1).uniform(-1.0, 1.0, shape) if good is None else np.asarray(good)
    if low is not None:
        good = np.abs(good) + low
    ref = torch.tensor(good, dtype=torch.float32) if as_torch else good
    cases = _common(good, optional)
    if not any_rank:
        cases.append(Case("rank+1", good[None], ERROR))
        if good.ndim:
            cases.append(Case("rank-1", good[0], ERROR))
    fixed = [] if any_rank else [axis for axis in range(good.ndim) if axis not in free]
    if fixed:
        cases.append(Case("wrong shape", np.concatenate([good, good.take([0], axis=fixed[-1])], axis=fixed[-1]),
                          ERROR))
    if good.ndim and 0 in free:
        cases.append(Case("empty", good[:0], EITHER))
    if finite:
        for label, bad in (("NaN", np.nan), ("inf", np.inf)):
            value = good.astype(float).copy()
            value.flat[0] = bad
            cases.append(Case(label, value, ERROR))
    cases += [Case("complex", good + 0.5j, ERROR),
              Case("object array", good.astype(object), ERROR),
              Case("bool", good > 0, CONVERT, _like(ref, (good > 0).astype(float))),
              Case("int", np.round(good).astype(np.int64), CONVERT, _like(ref, np.round(good))),
              Case("int8", np.round(good).astype(np.int8), CONVERT, _like(ref, np.round(good))),
              Case("nested list", good.tolist(), CONVERT, ref),
              Case("tensor", torch.tensor(good), CONVERT, ref)]
    grad = torch.tensor(good, requires_grad=True)
    cases.append(Case("tensor requires_grad", grad, CONVERT, ref) if as_torch or detaches
                 else Case("tensor requires_grad", grad, ERROR))
    return Arg(ref, cases)


def _like(ref, values: np.ndarray):
    return torch.tensor(values, dtype=ref.dtype) if isinstance(ref, torch.Tensor) else values


def labels(shape, classes: int, free=(0,), good=None, bounded=True, any_rank=False) -> Arg:
    """Integer class labels in [0, classes) of `shape` (`bounded=False`: the entry point cannot know
    `classes`, so only negative labels are out of range)."""
    good = np.arange(int(np.prod(shape))).reshape(shape) % classes if good is None else np.asarray(good)
    cases = _common(good, optional=False) + [
        Case("rank+1", good[None], CONVERT, good[None]) if any_rank else Case("rank+1", good[None], ERROR),
        Case("label -1", np.full_like(good, -1), ERROR), Case("complex", good + 0.5j, ERROR),
        Case("NaN", np.full(good.shape, np.nan), ERROR),
        Case("float labels", good.astype(float), CONVERT, good), Case("tensor", torch.tensor(good), CONVERT, good),
        Case("nested list", good.tolist(), CONVERT, good), Case("string labels", good.astype(str), ERROR)]
    if bounded:
        cases.append(Case("label = classes", np.full_like(good, classes), ERROR))
    if good.ndim:
        cases.append(Case("rank-1", good[0], CONVERT, good[0]) if any_rank else Case("rank-1", good[0], ERROR))
        if 0 in free:
            cases.append(Case("empty", good[:0], EITHER))
    return Arg(good, cases)


def size(good: int = 3, minimum: int = 1, optional=False) -> Arg:
    """An integer >= minimum (a size, a count, a number of steps)."""
    cases = _common(good, optional) + [
        Case("below minimum", minimum - 1, ERROR if minimum >= 1 else EITHER), Case("negative", -1, ERROR),
        Case("fraction", good + 0.5, ERROR), Case("float", float(good), ERROR), Case("bool", True, ERROR),
        Case("string number", str(good), ERROR), Case("complex", complex(good), ERROR),
        Case("array", np.array([good]), ERROR), Case("np.int64", np.int64(good), CONVERT, good)]
    if minimum == 0:
        cases = [c for c in cases if c.label != "below minimum"] + [Case("zero", 0, EITHER)]
    return Arg(good, cases)


def index(good: int, length: int) -> Arg:
    """An index into a sequence of `length`: negative indices count from the end, as in Python."""
    return Arg(good, _common(good, optional=False) + [
        Case("length", length, ERROR), Case("below -length", -length - 1, ERROR), Case("fraction", 0.5, ERROR),
        Case("bool", True, ERROR), Case("-1", -1, CONVERT, length - 1),
        Case("np.int64", np.int64(good), CONVERT, good)])


def shape_tuple(good: tuple) -> Arg:
    """A shape: a tuple of positive ints (a list converts)."""
    return Arg(good, _common(good, optional=False) + [
        Case("zero size", (0,) + good[1:], ERROR), Case("negative size", (-1,) + good[1:], ERROR),
        Case("fraction", (1.5,) + good[1:], ERROR), Case("empty tuple", (), ERROR), Case("string", "2, 3", ERROR),
        Case("list", list(good), CONVERT, good)])


def real(good: float = 0.1, low: float | None = 0.0, high: float | None = None, optional=False) -> Arg:
    """A finite real number; values at or outside `low`/`high` are errors (or EITHER at a bound)."""
    cases = _common(good, optional) + [
        Case("NaN", float("nan"), ERROR), Case("inf", float("inf"), ERROR), Case("-inf", -float("inf"), ERROR),
        Case("bool", True, ERROR), Case("string number", str(good), ERROR), Case("complex", complex(good), ERROR),
        Case("array", np.array([good, good]), ERROR), Case("np.float64", np.float64(good), CONVERT, good)]
    if low is not None:
        cases += [Case("at lower bound", low, EITHER), Case("below", low - 1.0, ERROR)]
    if high is not None:
        cases += [Case("at upper bound", high, EITHER), Case("above", high + 1.0, ERROR)]
    return Arg(good, cases)


def seed(good: int = 0, generator: bool = True) -> Arg:
    """A seed in [0, 2**32), or a numpy Generator where `generator`."""
    cases = _common(good, optional=False) + [
        Case("negative", -1, ERROR), Case("2**32", 2 ** 32, ERROR), Case("2**64", 2 ** 64, ERROR),
        Case("fraction", 1.5, ERROR), Case("bool", True, ERROR), Case("string", "0", ERROR),
        Case("np.int64", np.int64(good), CONVERT, good)]
    if generator:
        cases.append(Case("Generator", np.random.default_rng(good), CONVERT, good))
    return Arg(good, cases)


def option(good: str, optional=False) -> Arg:
    """One of a fixed set of names."""
    return Arg(good, _common(good, optional) + [
        Case("unknown name", "nonsense", ERROR), Case("number", 3, ERROR), Case("list", [good], ERROR),
        Case("bytes", good.encode(), ERROR)])


def flag(good: bool = True, optional=False) -> Arg:
    """A bool (or None where `optional`)."""
    cases = [Case("string", "yes", ERROR), Case("array", np.array([good]), ERROR),
             Case("np.bool_", np.bool_(good), CONVERT, good)]
    return Arg(good, cases if optional else cases + [Case("None", None, ERROR)])


def instance(good, optional=False) -> Arg:
    """An object with a protocol (a layer, an optimizer, an initializer, a model ...)."""
    return Arg(good, _common(good, optional) + [Case("number", 3, ERROR)])


def text(good: str, optional=False) -> Arg:
    """A string (a name, a title)."""
    return Arg(good, [Case("number", 3, ERROR), Case("bytes", good.encode(), ERROR), Case("list", [good], ERROR),
                      Case("class", str, ERROR)] + ([] if optional else [Case("None", None, ERROR)]))
