"""Committed notebooks carry no outputs, no execution counts, no widget state, and a kernel."""
from __future__ import annotations

import nbformat
import pytest

from conftest import NOTEBOOKS, notebook_params
from helpers.run_notebooks import KERNEL


def test_there_are_notebooks():
    assert NOTEBOOKS, "notebooks/ holds no workbook notebook"


@pytest.mark.parametrize("path", notebook_params())
def test_notebook_is_committed_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    dirty = [i for i, cell in enumerate(notebook.cells)
             if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs or execution counts"
    assert "widgets" not in notebook.metadata, f"{path.name}: saved widget state in metadata"


@pytest.mark.parametrize("path", notebook_params())
def test_notebook_is_valid_and_names_the_workbook_kernel(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata.get("kernelspec", {}).get("name") == KERNEL
    assert notebook.metadata.get("language_info", {}).get("name") == "python"
