"""The course edition end to end (nbgrader): the student edition of every notebook, the leak scan, and
autograding three submissions per notebook plus malformed and crashing ones (one `make grade` run).

Submissions: "untouched" hands in the released student notebook, "solution" the solution notebook,
"bugged" the solution notebook with one named bug of its mutation test (tests/test_checks_catch_bugs_0X.py,
Bug.old -> Bug.new in the cell text) placed inside an exercise region whose check is graded. The
untouched edition scores 0 on every autograded test and runs to the end with stub errors only; the
solution scores full marks without any error; the bug loses exactly the points of its check's grade
cells. Quick mode throughout (grading runs the checks, not the full experiments).
"""
from __future__ import annotations

import csv
import importlib
import shutil
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from check_mutation import Bug
from conftest import ROOT
from helpers.course import bundle, grade, leaks

ASSIGNMENTS = bundle.assignments()
# The first test builds the course and grades every submission (about 19 notebook runs in quick mode).
pytestmark = pytest.mark.timeout(3600)
STUDENTS = ("untouched", "solution", "bugged")
# The bug injected into each notebook: one of its mutation test's BUGS, inside an
# exercise region, at the end of a chain of graded checks (no later graded check uses that code).
INJECTED = {
    "01_activations": "tanh' = 1 - y (square dropped)",
    "02_elman_rnn": "tanh' = 1 - h in the step backward",
    "03_lstm": "torch: forget gate dropped from the cell update",
    "04_memory_task": "global clipping by the squared norm",
    "05_palindromes": "loss on the first step's logits",
    "06_regularization_lenet": "no SoftMax",
}


def params():
    return [pytest.param(assignment, id=assignment) for assignment in ASSIGNMENTS]


def source_notebook(assignment: str):
    return nbformat.read(ROOT / "notebooks" / f"{assignment}.ipynb", as_version=4)


def autograded_tests(notebook) -> dict[str, tuple[float, set[str]]]:
    """grade_id -> (points, check tags) of every autograded test cell (grade, not solution)."""
    tests = {}
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            tags = {tag.split(":", 1)[1] for tag in cell.metadata.get("tags", []) if tag.startswith("check:")}
            tests[meta["grade_id"]] = (float(meta["points"]), tags)
    return tests


def _inside_region(source: str, snippet: str) -> bool:
    start = source.index(snippet)
    first, last = source[:start].count("\n"), source[:start + len(snippet)].count("\n")
    return any(begin < first and last < end for begin, end in bundle.region_lines(source, "cell"))


def bugs_for(assignment: str) -> list[Bug]:
    """The BUGS of the notebook's mutation test (tests/test_checks_catch_bugs_0X.py); [] when it has none."""
    try:
        return list(importlib.import_module(f"test_checks_catch_bugs_{assignment[:2]}").BUGS)
    except ModuleNotFoundError:
        return []


def injected_bug(assignment: str):
    """(bug, bugged notebook) for the bug named in INJECTED, or why it cannot be injected (a str)."""
    named = [bug for bug in bugs_for(assignment) if bug.name == INJECTED.get(assignment)]
    if len(named) != 1:
        return f"{assignment}: INJECTED names no bug of its mutation test: {INJECTED.get(assignment)!r}"
    bug = named[0]
    notebook = source_notebook(assignment)
    if not any(bug.check in tags for _, tags in autograded_tests(notebook).values()):
        return f"{assignment}: check:{bug.check} of bug {bug.name!r} has no graded cell"
    olds, news = ((s,) if isinstance(s, str) else s for s in (bug.old, bug.new))
    holders = [c for c in notebook.cells if c.cell_type == "code" and olds[0] in c.source]
    if len(holders) != 1 or not holders[0].metadata.get("nbgrader", {}).get("solution"):
        return f"{assignment}: bug {bug.name!r} is not in exactly one exercise cell ({len(holders)} cells hold it)"
    cell = holders[0]
    if not all(cell.source.count(old) == 1 and _inside_region(cell.source, old) for old in olds):
        return f"{assignment}: bug {bug.name!r} is not inside a solution region"
    for old, new in zip(olds, news):
        cell.source = cell.source.replace(old, new)
    return bug, notebook


@dataclass
class Graded:
    course: Path
    report: grade.Report
    bugs: dict


@pytest.fixture(scope="session")
def graded(tmp_path_factory) -> Graded:
    """`make student` then `make grade` of the test submissions, once per session."""
    root = tmp_path_factory.mktemp("course")
    course = root / "course"
    bundle.build(course)
    submissions = root / "submissions"
    bugs = {}
    for assignment in ASSIGNMENTS:
        name = f"{assignment}.ipynb"
        bugs[assignment] = injected_bug(assignment)
        for student in STUDENTS if not isinstance(bugs[assignment], str) else STUDENTS[:2]:
            (submissions / student / assignment).mkdir(parents=True)
        shutil.copy(course / "release" / assignment / name, submissions / "untouched" / assignment / name)
        shutil.copy(ROOT / "notebooks" / name, submissions / "solution" / assignment / name)
        if not isinstance(bugs[assignment], str):
            nbformat.write(bugs[assignment][1], submissions / "bugged" / assignment / name)
    first, second = ASSIGNMENTS[0], ASSIGNMENTS[1]
    (submissions / "malformed" / first).mkdir(parents=True)
    (submissions / "malformed" / first / f"{first}.ipynb").write_text('{"cells": [')
    (submissions / "malformed" / second).mkdir(parents=True)
    shutil.copy(ROOT / "notebooks" / f"{second}.ipynb", submissions / "malformed" / second / "my_answers.ipynb")
    crashing = source_notebook(first)
    exercise = next(c for c in crashing.cells if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code")
    exercise.source += "\nimport os\nos._exit(1)  # the kernel dies"
    (submissions / "crashed" / first).mkdir(parents=True)
    nbformat.write(crashing, submissions / "crashed" / first / f"{first}.ipynb")
    report = grade.grade(submissions, course, log=lambda line: None)
    return Graded(course, report, bugs)


def scores(graded: Graded, student: str, assignment: str) -> dict[str, tuple[float, float]]:
    """grade_id -> (score, max score) of one autograded submission, from nbgrader's gradebook."""
    from nbgrader.api import Gradebook

    assert (student, assignment) not in graded.report.problems, graded.report.problems[student, assignment]
    with Gradebook(f"sqlite:///{graded.course / 'gradebook.db'}", bundle.COURSE_ID) as gradebook:
        notebook = gradebook.find_submission_notebook(assignment, assignment, student)
        return {g.name: (float(g.score), float(g.max_score)) for g in notebook.grades}


def autograded_notebook(graded: Graded, student: str, assignment: str):
    return nbformat.read(graded.course / "autograded" / student / assignment / f"{assignment}.ipynb", as_version=4)


def errors(notebook) -> list[tuple[int, str, str]]:
    return [(i, o.ename, o.evalue) for i, c in enumerate(notebook.cells) if c.cell_type == "code"
            for o in c.get("outputs", []) if o.output_type == "error"]


def marked_up(assignment: str) -> dict[str, tuple[float, set[str]]]:
    tests = autograded_tests(source_notebook(assignment))
    assert tests, f"{assignment}: no autograded test cell yet (nbgrader markup missing in the notebook)"
    return tests


@pytest.mark.parametrize("assignment", params())
def test_released_student_edition_has_no_solution_leaks(graded, assignment):
    release = graded.course / "release" / assignment
    for name in (f"{assignment}.ipynb", "course.json", "Makefile", "pyproject.toml", "helpers/__init__.py"):
        assert (release / name).is_file(), f"release/{assignment}/{name} missing"
    assert nbformat.read(release / f"{assignment}.ipynb", as_version=4).metadata.kernelspec.name == "rnn-workbook"
    found = leaks.scan(release)
    assert not found, "\n".join(map(str, found))


@pytest.mark.parametrize("assignment", params())
def test_untouched_student_edition_scores_zero_and_runs_to_the_end_with_stub_errors_only(graded, assignment):
    tests = marked_up(assignment)
    got = scores(graded, "untouched", assignment)
    assert {name: got[name][0] for name in tests} == {name: 0.0 for name in tests}
    notebook = autograded_notebook(graded, "untouched", assignment)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code), f"{assignment}: the run stopped before the end"
    wrong = [e for e in errors(notebook) if e[1] != "NotImplementedError" or not e[2].startswith("implement")]
    assert not wrong, f"{assignment}: errors other than the stubs' NotImplementedError: {wrong}"


@pytest.mark.parametrize("assignment", params())
def test_solution_notebook_gets_full_marks_without_any_error(graded, assignment):
    tests = marked_up(assignment)
    got = scores(graded, "solution", assignment)
    assert {name: got[name][0] for name in tests} == {name: points for name, (points, _) in tests.items()}
    assert not errors(autograded_notebook(graded, "solution", assignment))


@pytest.mark.parametrize("assignment", params())
def test_injected_bug_loses_exactly_the_points_of_its_check(graded, assignment):
    tests = marked_up(assignment)
    assert not isinstance(graded.bugs[assignment], str), graded.bugs[assignment]
    bug, _ = graded.bugs[assignment]
    got = scores(graded, "bugged", assignment)
    expected = {name: 0.0 if bug.check in tags else points for name, (points, tags) in tests.items()}
    assert {name: got[name][0] for name in tests} == expected, f"bug {bug.name!r} (check:{bug.check})"


def test_malformed_and_crashed_submissions_get_one_line_each_and_the_others_are_graded(graded):
    first, second = ASSIGNMENTS[0], ASSIGNMENTS[1]
    problems = graded.report.problems
    assert set(problems) == {("malformed", first), ("malformed", second), ("crashed", first)}
    assert problems["malformed", first].startswith(f"{first}.ipynb is not a valid notebook (NotJSONError")
    assert problems["malformed", second] == f"no {second}.ipynb (found: my_answers.ipynb)"
    assert "DeadKernelError" in problems["crashed", first]
    assert {(s, a) for s, a in graded.report.scores} >= {("untouched", a) for a in ASSIGNMENTS}
    table = graded.report.table(ASSIGNMENTS)
    assert table.splitlines()[0].split() == ["student", *ASSIGNMENTS]
    assert "error" in next(line for line in table.splitlines() if line.startswith("malformed"))


def test_grades_csv_and_feedback_for_every_graded_submission(graded):
    with graded.report.csv.open() as handle:
        rows = {(row["student_id"], row["assignment"]): row for row in csv.DictReader(handle)}
    for (student, assignment), (score, maximum) in graded.report.scores.items():
        assert float(rows[student, assignment]["score"]) == score
        assert float(rows[student, assignment]["max_score"]) == maximum
        html = graded.course / "feedback" / student / assignment / f"{assignment}.html"
        assert html.is_file(), f"no feedback {html}"
