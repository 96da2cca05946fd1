"""Teaching copies in the notebooks equal their canonical source in helpers (`make sync` fixes drift)."""
from __future__ import annotations

import shutil

import nbformat
import pytest

from conftest import notebook_params
from helpers import sync


@pytest.mark.parametrize("path", notebook_params())
def test_marked_cells_match_helpers(path):
    drifted = sync.drifted_cells(path)
    assert not drifted, f"{path.name}: cells differ from helpers (run `make sync`): {drifted}"


def test_sync_detects_and_repairs_drift(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells.append(nbformat.v4.new_code_cell(
        "# sync: helpers.validate.positive_int\ndef positive_int(name, value):\n    return value"))
    path = tmp_path / "drift.ipynb"
    nbformat.write(notebook, path)
    assert sync.drifted_cells(path) == [(0, ["helpers.validate.positive_int"])]
    assert sync.sync_notebook(path) == 1
    assert sync.drifted_cells(path) == []
    assert "minimum=1" in nbformat.read(path, as_version=4).cells[0].source


def test_sync_rejects_unknown_names():
    with pytest.raises(ValueError, match="cannot find"):
        sync.expected_source(["helpers.validate.no_such_function"])
    with pytest.raises(ValueError, match="inside helpers"):
        sync.expected_source(["os.path.join"])
