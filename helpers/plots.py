"""Plot functions shared by the notebooks, the widget panels and their static twins.

Each `plot_*` function draws onto the `ax` it is given, labels the axes, adds a legend entry when
given a `label`, and returns what it drew; nothing here calls `plt.show` or saves files
(`helpers.workbook.save_figure` does that). Runs are `helpers.history.History` objects (or
anything with `steps`, `loss`, `grad_norm` and `metrics` in the same layout).
"""
from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from helpers import validate

STEP_LABEL = "training step"


def new_figure(ncols: int = 1, nrows: int = 1, *, xlabel: str | None = None, ylabel: str | None = None,
               titles: Sequence[str] | None = None, width: float = 5.0, height: float = 3.6):
    """(fig, axes) in the workbook's standard size: `width` x `height` inches per axes.

    axes is a single Axes for 1 x 1, else a flat array (row by row); every axes gets `xlabel` /
    `ylabel`, and `titles` (one per axes) when given.
    """
    ncols, nrows = validate.positive_int("ncols", ncols), validate.positive_int("nrows", nrows)
    width, height = validate.positive("width", width), validate.positive("height", height)
    if titles is not None and (isinstance(titles, str) or len(titles) != ncols * nrows):
        validate.fail("titles", f"{ncols * nrows} titles (one per axes)", titles)
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows),
                             layout="constrained", squeeze=False)
    flat = axes.ravel()
    for index, ax in enumerate(flat):
        ax.set_xlabel(xlabel or "")
        ax.set_ylabel(ylabel or "")
        if titles is not None:
            ax.set_title(titles[index])
    return fig, (flat[0] if flat.size == 1 else flat)


def _axes(ax) -> Axes:
    """`ax` itself; TypeError unless it is a matplotlib Axes (a class, None or a figure are not)."""
    validate.instance("ax", ax, "a matplotlib Axes")
    if not isinstance(ax, Axes):
        validate.fail("ax", "a matplotlib Axes", ax, TypeError)
    return ax


def _finite_curve(steps, values) -> tuple[np.ndarray, np.ndarray]:
    steps, values = np.asarray(steps, dtype=float), np.asarray(values, dtype=float)
    keep = np.isfinite(values)
    return steps[keep], values[keep]


def _moving_average(steps: np.ndarray, values: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean over the last `window` values, placed at the window's last step."""
    if window <= 1 or values.size < window:
        return steps, values
    kernel = np.ones(window) / window
    return steps[window - 1:], np.convolve(values, kernel, mode="valid")


def plot_loss(ax, history, *, label: str | None = None, smooth: int = 1, color=None):
    """Training loss vs. step on a log axis; with `smooth` > 1 the raw curve is faint behind its
    moving average over `smooth` steps. Non-finite losses (a diverged run) are left out."""
    ax, smooth = _axes(ax), validate.positive_int("smooth", smooth)
    steps, loss = _finite_curve(history.steps, history.loss)
    if smooth > 1:
        raw = ax.plot(steps, loss, color=color, alpha=0.25, linewidth=0.8)[0]
        color = raw.get_color()
    line = ax.plot(*_moving_average(steps, loss, smooth), color=color, label=label)[0]
    ax.set_yscale("log")
    ax.set_xlabel(STEP_LABEL)
    ax.set_ylabel("training loss" + (f" (mean of {smooth} steps)" if smooth > 1 else ""))
    if label is not None:
        ax.legend()
    return line


def plot_grad_norm(ax, history, *, label: str | None = None, clip_norm: float | None = None, color=None):
    """Gradient norm before clipping vs. step on a log axis, with the clipping threshold dashed."""
    ax = _axes(ax)
    steps, norms = _finite_curve(history.steps, history.grad_norm)
    line = ax.plot(steps, norms, color=color, label=label, linewidth=0.8)[0]
    if clip_norm is not None:
        clip_norm = validate.positive("clip_norm", clip_norm)
        ax.axhline(clip_norm, color="gray", linestyle="--", linewidth=1, label=f"clip norm {clip_norm:g}")
    ax.set_yscale("log")
    ax.set_xlabel(STEP_LABEL)
    ax.set_ylabel("gradient norm before clipping")
    if label is not None or clip_norm is not None:
        ax.legend()
    return line


def plot_metric(ax, history, name: str, *, label: str | None = None, color=None, ylabel: str | None = None):
    """The evaluated metric `name` vs. step (markers at the evaluations)."""
    ax = _axes(ax)
    steps, values = history.metric(name)
    line = ax.plot(steps, values, marker=".", color=color, label=label)[0]
    ax.set_xlabel(STEP_LABEL)
    ax.set_ylabel(ylabel or name)
    if label is not None:
        ax.legend()
    return line


def plot_runs(ax, histories: dict, name: str = "loss", *, smooth: int = 1) -> list:
    """Several runs on one axes, labelled by the keys of `histories`: their training loss
    (`name` "loss") or an evaluated metric `name`."""
    if not isinstance(histories, dict) or not histories:
        validate.fail("histories", "a non-empty dict of label -> History", histories, TypeError)
    if name == "loss":
        return [plot_loss(ax, history, label=str(label), smooth=smooth)
                for label, history in histories.items()]
    return [plot_metric(ax, history, name, label=str(label)) for label, history in histories.items()]


def plot_mean_spread(ax, x, values, *, label: str | None = None, spread: str = "std", color=None,
                     show_points: bool = True):
    """Mean over seeds vs. `x` with a shaded spread: for sweeps with several seeds per point.

    x       the swept values, shape (P,)
    values  one sequence of results (one per seed) for each x; the counts may differ per point
    spread  "std" (mean ± standard deviation) or "minmax" (lowest to highest seed)
    show_points  also draw every single seed's result as a faint dot
    """
    ax, x = _axes(ax), validate.array("x", x, ndim=1).astype(float)
    validate.choice("spread", spread, ("std", "minmax"))
    if isinstance(values, np.ndarray) and values.ndim >= 1:
        values = list(values)
    if not isinstance(values, (list, tuple)):
        validate.fail("values", "a list with one sequence of seed results per x value", values, TypeError)
    if len(values) != x.size:
        validate.fail("values", f"one sequence of seed results per x value ({x.size})", values)
    groups = [validate.array(f"values[{i}]", v, ndim=1).astype(float) for i, v in enumerate(values)]
    if any(group.size == 0 for group in groups):
        validate.fail("values", "at least one result per x value", values)
    mean = np.array([group.mean() for group in groups])
    if spread == "std":
        low = mean - np.array([group.std() for group in groups])
        high = 2 * mean - low
    else:
        low, high = np.array([g.min() for g in groups]), np.array([g.max() for g in groups])
    line = ax.plot(x, mean, marker="o", color=color, label=label)[0]
    ax.fill_between(x, low, high, color=line.get_color(), alpha=0.2, linewidth=0)
    if show_points:
        xs = np.concatenate([np.full(group.size, value) for value, group in zip(x, groups)])
        ax.scatter(xs, np.concatenate(groups), s=10, color=line.get_color(), alpha=0.4)
    if label is not None:
        ax.legend()
    return line


def mark_level(ax, y: float, label: str, *, color="gray"):
    """A dashed horizontal reference line (chance level, target accuracy) with a legend entry."""
    ax, y, label = _axes(ax), validate.real("y", y), validate.text("label", label)
    line = ax.axhline(y, color=color, linestyle="--", linewidth=1, label=label)
    ax.legend()
    return line
