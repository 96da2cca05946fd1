"""Shared fixtures: the repository root and the list of workbook notebooks."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))


def notebook_params():
    """The notebooks as pytest parameters, with their file names as ids."""
    return [pytest.param(path, id=path.stem) for path in NOTEBOOKS]
