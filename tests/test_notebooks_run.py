"""Every notebook runs top to bottom in quick mode (WORKBOOK_QUICK=1, TQDM_DISABLE=1), error-free."""
from __future__ import annotations

import pytest

from conftest import notebook_params


@pytest.mark.parametrize("path", notebook_params())
def test_notebook_runs_in_quick_mode(path, quick_run):
    notebook = quick_run(path)
    errors = [output for cell in notebook.cells if cell.cell_type == "code"
              for output in cell.outputs if output.output_type == "error"]
    assert not errors
