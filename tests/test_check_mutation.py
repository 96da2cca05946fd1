"""The mutation harness itself: a caught bug, a silent one, a wrong message and a failure outside the check."""
from __future__ import annotations

import nbformat
import pytest

from check_mutation import Bug, run_bugs, table


@pytest.fixture
def notebook(tmp_path):
    nb = nbformat.v4.new_notebook()
    cells = [("def double(x):\n    return 2 * x", []), ("assert double(0) == 0, 'double(0)'", ["check:zero"]),
             ("assert double(3) == 6, 'double(3) must be 6'", ["check:three"]),
             ("%matplotlib inline\nwidget = 1", ["widget"])]
    for source, tags in cells:
        nb.cells.append(nbformat.v4.new_code_cell(source))
        nb.cells[-1].metadata["tags"] = tags
    path = tmp_path / "tiny.ipynb"
    nbformat.write(nb, path)
    return path


def test_outcomes_of_caught_silent_misnamed_and_misplaced_bugs(notebook):
    bugs = [Bug("square instead of double", "2 * x", "x ** 2 + x", "three", "double\\(3\\)"),
            Bug("a bug the check cannot see", "2 * x", "x + x", "three", "double"),
            Bug("message names another part", "2 * x", "3 * x", "three", "triple"),
            Bug("caught by an earlier check", "2 * x", "2 * x + 1", "three", "double")]
    outcomes = run_bugs(notebook, bugs)
    assert [o.caught for o in outcomes] == [True, False, False, False]
    assert "passed silently" in outcomes[1].detail
    assert "does not name 'triple'" in outcomes[2].detail
    assert "not in check:three" in outcomes[3].detail
    text = table(outcomes)
    assert "three" in text and "MISSED" in text and "total" in text


def test_bad_bug_specifications_are_reported(notebook):
    with pytest.raises(ValueError, match="no cell is tagged check:nine"):
        run_bugs(notebook, [Bug("x", "2 * x", "3 * x", "nine", "")])
    with pytest.raises(ValueError, match="exactly one code cell"):
        run_bugs(notebook, [Bug("x", "not in the notebook", "", "three", "")])
