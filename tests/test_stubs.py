"""helpers.course.stubs: solution regions, their messages and stubs, and nbgrader's preprocessor with them."""
from __future__ import annotations

import nbformat
import pytest

from helpers.course.stubs import DEFAULT_MESSAGE, ClearSolutionsWithMessages, messages, solution_regions, stub_code

CODE = '''def f(x):
    """Doubles x."""
    y = x
    ### BEGIN SOLUTION implement f: y = 2 x (eq. 1)
    y = 2 * x
    return y
    ### END SOLUTION


def g(x):
    if x:
        ### BEGIN SOLUTION
        return "a \\\\ b"
        ### END SOLUTION
    return None
'''

STUBBED = '''def f(x):
    """Doubles x."""
    y = x
    raise NotImplementedError("implement f: y = 2 x (eq. 1)")


def g(x):
    if x:
        raise NotImplementedError("%s")
    return None
''' % DEFAULT_MESSAGE


def test_regions_are_the_dedented_lines_between_the_markers():
    assert solution_regions(CODE) == ["y = 2 * x\nreturn y", 'return "a \\\\ b"']


def test_messages_in_order_with_the_default_for_a_bare_marker():
    assert messages(CODE) == ["implement f: y = 2 x (eq. 1)", DEFAULT_MESSAGE]


def test_stub_replaces_each_region_at_its_indentation_and_keeps_the_rest():
    assert stub_code(CODE) == STUBBED
    compile(stub_code(CODE), "stub", "exec")


def test_text_without_regions_is_unchanged():
    assert stub_code("x = 1\n# BEGIN SOLUTION is not a marker here\n") == "x = 1\n# BEGIN SOLUTION is not a marker here\n"


def test_quotes_and_backslashes_of_a_message_stay_valid_python():
    text = '### BEGIN SOLUTION implement "h": a \\ b\nx = 1\n### END SOLUTION'
    namespace = {}
    with pytest.raises(NotImplementedError, match=r'implement "h": a \\ b'):
        exec(stub_code(text), namespace)  # noqa: S102


BAD = [
    # (case, text, the line the message must name, what it must say)
    ("nested", "### BEGIN SOLUTION a\nx = 1\n    ### BEGIN SOLUTION b\n### END SOLUTION", 3,
     "BEGIN SOLUTION inside the region opened on line 1"),
    ("unterminated", "x = 0\n### BEGIN SOLUTION a\nx = 1\n", 2, "BEGIN SOLUTION without an END SOLUTION"),
    ("orphan end", "x = 0\n\n### END SOLUTION\n", 3, "END SOLUTION without a BEGIN SOLUTION"),
    ("second end", "### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n### END SOLUTION", 4,
     "END SOLUTION without a BEGIN SOLUTION"),
]


@pytest.mark.parametrize("function", [solution_regions, messages, stub_code])
@pytest.mark.parametrize("case, text, line, says", BAD, ids=[case for case, *_ in BAD])
def test_bad_markers_raise_a_value_error_naming_the_place_and_line(function, case, text, line, says):
    with pytest.raises(ValueError, match=rf"^tanh\.py: line {line}: {says}"):
        function(text, "tanh.py")


@pytest.mark.parametrize("function", [solution_regions, messages, stub_code])
def test_text_must_be_a_string(function):
    with pytest.raises(TypeError, match="text"):
        function(b"### BEGIN SOLUTION")


def _cell(kind: str, source: str, solution: bool = True):
    make = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
    cell = make(source)
    cell.metadata["nbgrader"] = {"grade": kind != "code", "solution": solution, "locked": False,
                                 "grade_id": f"{kind}_cell", "schema_version": 3, "points": 1}
    return cell


def test_preprocessor_stubs_code_cells_with_their_messages_and_clears_answers():
    notebook = nbformat.v4.new_notebook(cells=[_cell("code", CODE), _cell("markdown", "The model answer.")])
    notebook.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    notebook, _ = ClearSolutionsWithMessages().preprocess(notebook, {})
    assert notebook.cells[0].source == STUBBED
    assert notebook.cells[1].source == "YOUR ANSWER HERE"


def test_preprocessor_reports_bad_markers_with_the_line():
    notebook = nbformat.v4.new_notebook(cells=[_cell("code", BAD[1][1])])
    notebook.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    with pytest.raises(RuntimeError, match="cell: line 2: BEGIN SOLUTION without an END SOLUTION"):
        ClearSolutionsWithMessages().preprocess(notebook, {})
