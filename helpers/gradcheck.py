"""Gradient checks: central finite differences in float64 and check tables that assert.

Two error measures compare an analytic gradient `a` with a numeric one `n`:

- `rel_error`: the norm-relative error ||a - n|| / max(||a||, ||n||), the number every check asserts on;
- `max_rel_error`: the element-wise maximum of |a - n| / max(|a|, |n|), shown beside it (single
  entries whose gradient is tiny carry finite-difference noise even when the code is right).

Finite differences (CS231n style): `numerical_gradient` for a scalar function, `numerical_gradient_array`
for an array function with an upstream gradient, and `layer_input_gradient` / `layer_weights_gradient`
for layers of `helpers.framework`. The layer versions evaluate a fresh copy of the layer each time
(state carried between calls, such as a memorized hidden state, is the same for every evaluation) and
reset NumPy's global random state before every forward pass, so Dropout draws the same mask each time.
`check_layer` runs the whole comparison for a layer; `check` prints the table and raises.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from helpers import validate


def _as_array(name: str, value) -> np.ndarray:
    """A finite numeric ndarray (torch tensors are detached and moved to NumPy)."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        value = value.detach().cpu().numpy()
    return validate.array(name, value)


def _float64(name: str, value) -> np.ndarray:
    """A finite float64 ndarray; TypeError for any other dtype (checks run in float64)."""
    result = _as_array(name, value)
    if result.dtype != np.float64:
        validate.fail(name, "a float64 array (gradient checks run in double precision)", result, TypeError)
    return result


def _same_shape(name_a: str, a: np.ndarray, name_b: str, b: np.ndarray) -> None:
    if a.shape != b.shape:
        raise ValueError(f"{name_b}: expected the shape of {name_a} {a.shape}, got shape {b.shape}")


def rel_error(a, b) -> float:
    """Norm-relative error ||a - b|| / max(||a||, ||b||); 0.0 when both are zero. Any equal shapes."""
    a = _as_array("a", a).astype(np.float64)
    b = _as_array("b", b).astype(np.float64)
    _same_shape("a", a, "b", b)
    scale = max(np.linalg.norm(a), np.linalg.norm(b))
    return 0.0 if scale == 0 else float(np.linalg.norm(a - b) / scale)


def _elementwise_rel_error(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    scale = np.maximum(np.abs(a), np.abs(b))
    difference = np.abs(a - b)
    return np.divide(difference, scale, out=np.zeros_like(difference), where=scale > 0)


def max_rel_error(a, b) -> float:
    """Element-wise maximum of |a - b| / max(|a|, |b|), entries where both are zero counting 0."""
    a = _as_array("a", a).astype(np.float64)
    b = _as_array("b", b).astype(np.float64)
    _same_shape("a", a, "b", b)
    return float(_elementwise_rel_error(a, b).max()) if a.size else 0.0


def _scalar(value) -> float:
    result = _as_array("f()", value)
    if result.size != 1:
        validate.fail("f()", "a scalar", result)
    return float(result.reshape(()))


def numerical_gradient(f, x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Central-difference gradient of the scalar `f()` with respect to `x` (same shape as `x`).

    `f` takes no arguments and reads `x`; each entry of `x` is perturbed in place by ±h and restored.
    """
    if not callable(f):
        validate.fail("f", "a callable", f, TypeError)
    if not isinstance(x, np.ndarray):
        validate.fail("x", "a float64 numpy array (perturbed in place)", x, TypeError)
    _float64("x", x)
    h = validate.positive("h", h)
    grad = np.zeros_like(x)
    for ix in np.ndindex(x.shape):
        old = x[ix]
        try:
            x[ix] = old + h
            plus = _scalar(f())
            x[ix] = old - h
            minus = _scalar(f())
        finally:
            x[ix] = old
        grad[ix] = (plus - minus) / (2 * h)
    return grad


def numerical_gradient_array(f, x: np.ndarray, upstream, h: float = 1e-5) -> np.ndarray:
    """Central-difference gradient of sum(f() * upstream) with respect to `x` (same shape as `x`).

    `f` takes no arguments, reads `x` and returns an array of the shape of `upstream`.
    """
    if not callable(f):
        validate.fail("f", "a callable", f, TypeError)
    upstream = _float64("upstream", upstream)

    def weighted_sum():
        out = _as_array("f()", f())
        _same_shape("f()", out, "upstream", upstream)
        return float(np.sum(out * upstream))

    return numerical_gradient(weighted_sum, x, h)


def _checked_output(layer, x: np.ndarray, upstream: np.ndarray, state) -> None:
    """One forward pass of a copy of `layer` on `x`: the layer's own complaint is raised again naming
    `x`; an output whose shape differs from `upstream` is a ValueError naming `upstream`."""
    try:
        out = _forward_copy(layer, x, state)
    except (TypeError, ValueError) as error:
        raise type(error)(f"x: the layer rejects it: {error}") from error
    _same_shape("the layer's output for x", out, "upstream", upstream)


def _forward_copy(layer, x: np.ndarray, state, attribute: str | None = None, value=None) -> np.ndarray:
    """Forward `x` through a fresh copy of `layer` (optionally with `attribute` set to `value`)."""
    fresh = copy.deepcopy(layer)
    if attribute is not None:
        setattr(fresh, attribute, value)
    np.random.set_state(state)
    return _float64("layer output", fresh.forward(x.copy()))


def _check_layer(layer) -> None:
    validate.instance("layer", layer, "a layer with forward and backward methods")
    if not (callable(getattr(layer, "forward", None)) and callable(getattr(layer, "backward", None))):
        validate.fail("layer", "a layer with forward and backward methods", layer, TypeError)


def layer_input_gradient(layer, x, upstream, h: float = 1e-5) -> np.ndarray:
    """Numeric gradient of sum(layer.forward(x) * upstream) with respect to `x` (shape of `x`).

    Every evaluation uses a fresh copy of `layer` and the global random state of the call; `layer`
    and the random state are left as they were.
    """
    _check_layer(layer)
    x = _float64("x", x).copy()
    upstream = _float64("upstream", upstream)
    h = validate.positive("h", h)
    state = np.random.get_state()
    try:
        _checked_output(layer, x, upstream, state)
        return numerical_gradient_array(lambda: _forward_copy(layer, x, state), x, upstream, h)
    finally:
        np.random.set_state(state)


def layer_weights_gradient(layer, x, upstream, h: float = 1e-5, attribute: str = "weights") -> np.ndarray:
    """Numeric gradient of sum(layer.forward(x) * upstream) with respect to `layer.<attribute>`.

    The parameter is perturbed through its property setter on a fresh copy of `layer` (get a copy,
    change one entry, set it back), under the global random state of the call; `layer` and the
    random state are left as they were. Shape: that of the parameter.
    """
    _check_layer(layer)
    if not isinstance(attribute, str) or not hasattr(layer, attribute):
        validate.fail("attribute", "the name of a parameter of the layer", attribute,
                      TypeError if not isinstance(attribute, str) else ValueError)
    x = _float64("x", x)
    upstream = _float64("upstream", upstream)
    h = validate.positive("h", h)
    parameter = _float64(f"layer.{attribute}", getattr(layer, attribute)).copy()
    state = np.random.get_state()
    try:
        _checked_output(layer, x, upstream, state)
        return numerical_gradient_array(
            lambda: _forward_copy(layer, x, state, attribute, parameter.copy()), parameter, upstream, h)
    finally:
        np.random.set_state(state)


@dataclass(frozen=True)
class CheckRow:
    """One line of a check table: a parameter, its two errors, the tolerance and the verdict."""

    name: str
    rel_error: float
    max_rel_error: float
    tolerance: float
    ok: bool


def _tolerances(tolerance, names: list[str]) -> dict[str, float]:
    if isinstance(tolerance, dict):
        missing = [n for n in names if n not in tolerance]
        extra = [n for n in tolerance if n not in names]
        if missing or extra:
            raise ValueError(f"tolerance: expected one entry per checked name {names}, "
                             f"got missing {missing} and unknown {extra}")
        return {n: validate.positive(f"tolerance[{n!r}]", tolerance[n]) for n in names}
    value = validate.positive("tolerance", tolerance)
    return {n: value for n in names}


def _print_table(rows: list[CheckRow], title: str | None) -> None:
    width = max(len("name"), *(len(row.name) for row in rows))
    if title:
        print(title)
    print(f"{'name':<{width}}  {'rel error':>10}  {'elem. max':>10}  {'tolerance':>9}  ok")
    for row in rows:
        print(f"{row.name:<{width}}  {row.rel_error:>10.2e}  {row.max_rel_error:>10.2e}  "
              f"{row.tolerance:>9.0e}  {'yes' if row.ok else 'NO'}")


def check(pairs: dict, tolerance: float | dict = 1e-7, title: str | None = None) -> list[CheckRow]:
    """Compare analytic and numeric gradients, print a table, raise when a tolerance is exceeded.

    `pairs` maps a name to `(analytic, numeric)` (float64 arrays of equal shape). Each row asserts
    on the norm-relative error (`rel_error`) and shows the element-wise maximum beside it.
    `tolerance` is one number or a dict with one entry per name. Raises AssertionError naming the
    worst failing parameter, the index of its largest absolute difference and both values there.
    Returns the table rows.
    """
    if not isinstance(pairs, dict) or not pairs:
        validate.fail("pairs", "a non-empty dict name -> (analytic, numeric)", pairs, TypeError)
    if title is not None and not isinstance(title, str):
        validate.fail("title", "a string or None", title, TypeError)
    arrays = {}
    for name, pair in pairs.items():
        if not isinstance(name, str):
            validate.fail("pairs", "string names", name, TypeError)
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            validate.fail(f"pairs[{name!r}]", "a pair (analytic, numeric)", pair, TypeError)
        analytic = _float64(f"pairs[{name!r}] analytic", pair[0])
        numeric = _float64(f"pairs[{name!r}] numeric", pair[1])
        _same_shape(f"pairs[{name!r}] analytic", analytic, f"pairs[{name!r}] numeric", numeric)
        arrays[name] = (analytic, numeric)
    tolerances = _tolerances(tolerance, list(arrays))
    rows = []
    for name, (analytic, numeric) in arrays.items():
        error = rel_error(analytic, numeric)
        rows.append(CheckRow(name, error, max_rel_error(analytic, numeric), tolerances[name],
                             error <= tolerances[name]))
    _print_table(rows, title)
    failed = [row for row in rows if not row.ok]
    if failed:
        worst = max(failed, key=lambda row: row.rel_error / row.tolerance)
        analytic, numeric = arrays[worst.name]
        index = np.unravel_index(int(np.argmax(np.abs(analytic - numeric))), analytic.shape)
        index = tuple(int(i) for i in index)
        others = [row.name for row in failed if row is not worst]
        raise AssertionError(
            f"{(title + ': ') if title else ''}gradient check failed for {worst.name!r}: "
            f"norm-relative error {worst.rel_error:.3e} > tolerance {worst.tolerance:.0e}; "
            f"worst element {worst.name}[{', '.join(map(str, index))}]: analytic {analytic[index]:.10g}, "
            f"numeric {numeric[index]:.10g}"
            + (f"; also failed: {', '.join(others)}" if others else ""))
    return rows


def _parameter_names(layer) -> list[str]:
    """'weights', plus 'bias' for layers that keep a separate bias with its own gradient."""
    names = ["weights"]
    if getattr(layer, "gradient_bias", None) is not None and hasattr(layer, "bias"):
        names.append("bias")
    return names


def check_layer(layer, x, tolerance: float | dict = 1e-7, seed=0, h: float = 1e-5) -> list[CheckRow]:
    """Finite-difference check of a framework layer on input `x` (float64); returns the table rows.

    A random upstream gradient (drawn from `seed`, shape of the output) is passed back through a
    copy of `layer` without optimizer; the analytic gradients of the input and, for trainable
    layers, of `weights` (and `bias` where the layer has `gradient_bias`) are compared with
    `layer_input_gradient` / `layer_weights_gradient`, all under the same global random state.
    `layer` itself and NumPy's global random state are left unchanged.
    """
    _check_layer(layer)
    x = _float64("x", x)
    generator = validate.rng("seed", seed)
    h = validate.positive("h", h)
    state = np.random.get_state()
    try:
        analytic_layer = copy.deepcopy(layer)
        if getattr(analytic_layer, "optimizer", None) is not None:
            analytic_layer.optimizer = None
        out = _float64("layer output", analytic_layer.forward(x.copy()))
        upstream = generator.standard_normal(out.shape)
        pairs = {"input": (np.asarray(analytic_layer.backward(upstream.copy())), None)}
        if getattr(layer, "trainable", False):
            for name in _parameter_names(analytic_layer):
                pairs[name] = (np.asarray(getattr(analytic_layer, f"gradient_{name}")), name)
        for name, (analytic, attribute) in pairs.items():
            np.random.set_state(state)  # the numeric side sees the random state the analytic side saw
            numeric = (layer_input_gradient(layer, x, upstream, h) if attribute is None
                       else layer_weights_gradient(layer, x, upstream, h, attribute=attribute))
            pairs[name] = (analytic, numeric)
    finally:
        np.random.set_state(state)
    return check(pairs, tolerance, title=f"gradient check of {type(layer).__name__}")
