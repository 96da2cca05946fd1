"""Notebook plumbing: quick mode and where figures go.

Quick mode (`WORKBOOK_QUICK=1`, used by CI and the tests) shrinks experiments; it never writes
into the committed `figures/` folder, only into a temporary one.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
FIGURES = REPO_ROOT / "figures"


def quick_mode() -> bool:
    """True when the environment variable WORKBOOK_QUICK is set to 1/true/yes."""
    return os.environ.get("WORKBOOK_QUICK", "").strip().lower() in {"1", "true", "yes"}


def figure_dir(quick: bool | None = None) -> Path:
    """`figures/` in full mode; a temporary folder in quick mode."""
    quick = quick_mode() if quick is None else quick
    if not quick:
        FIGURES.mkdir(exist_ok=True)
        return FIGURES
    folder = Path(tempfile.gettempdir()) / "rnn-workbook-quick-figures"
    folder.mkdir(exist_ok=True)
    return folder


def save_figure(fig, name: str, quick: bool | None = None) -> Path:
    """Save `fig` as PNG under `figure_dir()` and return the path written."""
    path = figure_dir(quick) / name
    fig.savefig(path, dpi=120, bbox_inches="tight")
    return path
