"""Notebook plumbing: quick mode and where figures go.

Quick mode (`WORKBOOK_QUICK=1`, used by CI and the tests) shrinks experiments; it never writes
into the committed `figures/` folder, only into a temporary folder of its own for each run (each
Python process), removed when the process ends, so two runs on one machine never share it.
"""
from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile
from pathlib import Path

from helpers import validate

REPO_ROOT = Path(__file__).resolve().parent.parent
FIGURES = REPO_ROOT / "figures"


def _switch(variable: str) -> bool:
    return os.environ.get(variable, "").strip().lower() in {"1", "true", "yes"}


def quick_mode() -> bool:
    """True when the environment variable WORKBOOK_QUICK is set to 1/true/yes."""
    return _switch("WORKBOOK_QUICK")


def long_sweep() -> bool:
    """True when WORKBOOK_LONG_SWEEP is set to 1/true/yes (`make figures` sets it): notebook 05 then
    trains its long palindrome lengths instead of only loading the stored runs."""
    return _switch("WORKBOOK_LONG_SWEEP")


@functools.cache
def _quick_figures() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="rnn-workbook-quick-figures-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def figure_dir(quick: bool | None = None) -> Path:
    """`figures/` in full mode; in quick mode a temporary folder private to this run."""
    if quick is not None and not isinstance(quick, bool):
        validate.fail("quick", "True, False or None (read WORKBOOK_QUICK)", quick, TypeError)
    quick = quick_mode() if quick is None else quick
    if not quick:
        FIGURES.mkdir(exist_ok=True)
        return FIGURES
    return _quick_figures()


def save_figure(fig, name: str, quick: bool | None = None) -> Path:
    """Save `fig` as PNG under `figure_dir()` and return the path written; `name` is a file name."""
    validate.instance("fig", fig, "a matplotlib figure")
    if not callable(getattr(fig, "savefig", None)):
        validate.fail("fig", "a matplotlib figure", fig, TypeError)
    if not isinstance(name, str):
        validate.fail("name", "a file name (str)", name, TypeError)
    if name in ("", ".", "..") or Path(name).name != name or "\\" in name:
        validate.fail("name", "a plain file name such as '02_sine.png' (no folders)", name)
    path = figure_dir(quick) / name
    fig.savefig(path, dpi=120, bbox_inches="tight")
    return path


def link_exercises() -> None:
    """Let the notebook's exercise cells drive the rest of the notebook (see `helpers.course.link`)."""
    from helpers.course.link import link_exercises as link
    link()
