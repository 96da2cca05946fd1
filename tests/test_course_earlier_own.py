"""`make student EARLIER=own`: later assignments run the student's own earlier exercises, also when graded."""
from __future__ import annotations

import json
import shutil

import nbformat
import pytest

from conftest import ROOT
from helpers.course import bundle, grade, leaks

FIRST, SECOND = bundle.assignments()[:2]
pytestmark = pytest.mark.timeout(1800)


@pytest.fixture(scope="module")
def own_course(tmp_path_factory):
    """A course built with EARLIER=own; one student hands in the solutions of the first two assignments."""
    root = tmp_path_factory.mktemp("own")
    course = root / "course"
    bundle.build(course, earlier="own")
    for assignment in (FIRST, SECOND):
        (root / "submissions" / "ada" / assignment).mkdir(parents=True)
        shutil.copy(ROOT / "notebooks" / f"{assignment}.ipynb", root / "submissions" / "ada" / assignment)
    return course, grade.grade(root / "submissions", course, log=lambda line: None)


def autograded_scores(course, student: str, assignment: str) -> dict[str, tuple[float, float]]:
    """grade_id -> (score, max score) of the autograded tests of one submission (nbgrader's gradebook)."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", bundle.COURSE_ID) as gradebook:
        notebook = gradebook.find_submission_notebook(assignment, assignment, student)
        return {g.name: (float(g.score), float(g.max_score)) for g in notebook.grades if g.cell_type == "code"}


def test_every_exercise_is_stubbed_in_every_release(own_course):
    course, _ = own_course
    release = course / "release" / SECOND
    assert json.loads((release / "course.json").read_text()) == {
        "assignment": SECOND, "earlier_exercises": "own", "earlier": [FIRST]}
    for path in (release / "helpers").rglob("*.py"):
        assert bundle.region_lines(path.read_text(), str(path)) == [], f"{path}: a solution region is left"
    assert leaks.scan(release) == []


def test_the_second_assignment_runs_on_the_students_first_notebook(own_course):
    course, report = own_course
    assert report.problems == {}
    for assignment in (FIRST, SECOND):
        got = autograded_scores(course, "ada", assignment)
        assert got and all(score == maximum for score, maximum in got.values()), (assignment, got)
    notebook = nbformat.read(course / "autograded" / "ada" / SECOND / f"{SECOND}.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert f"{FIRST}: your implementations of" in printed
