"""Every notebook runs top to bottom in quick mode (WORKBOOK_QUICK=1, TQDM_DISABLE=1).

The kernels get an empty run cache of their own, so no result cached by an earlier run (or by a
user's full run) can hide a failure.
"""
from __future__ import annotations

import pytest

from conftest import notebook_params
from helpers.run_notebooks import execute

CELL_TIMEOUT = 300  # seconds per cell; quick mode keeps a whole notebook around a minute


@pytest.mark.parametrize("path", notebook_params())
def test_notebook_runs_in_quick_mode(path, tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBOOK_CACHE_DIR", str(tmp_path / "runs"))
    notebook = execute(path, quick=True, cell_timeout=CELL_TIMEOUT)
    errors = [output for cell in notebook.cells if cell.cell_type == "code"
              for output in cell.outputs if output.output_type == "error"]
    assert not errors
