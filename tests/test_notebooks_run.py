"""Every notebook runs top to bottom in quick mode (WORKBOOK_QUICK=1, TQDM_DISABLE=1)."""
from __future__ import annotations

import pytest

from conftest import notebook_params
from helpers.run_notebooks import execute

CELL_TIMEOUT = 300  # seconds per cell; quick mode keeps a whole notebook well under a minute or two


@pytest.mark.parametrize("path", notebook_params())
def test_notebook_runs_in_quick_mode(path):
    notebook = execute(path, quick=True, cell_timeout=CELL_TIMEOUT)
    errors = [output for cell in notebook.cells if cell.cell_type == "code"
              for output in cell.outputs if output.output_type == "error"]
    assert not errors
