"""Autograding a class (`make grade SUBMISSIONS=dir`): nbgrader autograde, feedback and a grades CSV.

``dir/<student>/<assignment>/<assignment>.ipynb`` is checked (known assignment, the notebook's
expected name, valid JSON and nbformat), copied to ``<course>/submitted/`` and autograded by
``nbgrader autograde <assignment> --student <student>`` in quick mode (``WORKBOOK_QUICK=1``: the checks
run in full, the experiments shrink) with a fresh run cache, one (student, assignment) at a time, in
course order. A malformed submission or a failed run (say, a crashed kernel) gives one line in the
report; the others go on. Then ``nbgrader generate_feedback`` writes each student's HTML feedback
(``<course>/feedback/<student>/<assignment>/``) and ``nbgrader export`` the grades CSV.
"""
from __future__ import annotations

import csv
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from helpers.course import bundle

GRADES = "grades.csv"


@dataclass
class Report:
    """What `grade` did: the problems (one line each), the scores, and where the CSV is."""

    problems: dict[tuple[str, str], str] = field(default_factory=dict)   # (student, assignment) -> line
    scores: dict[tuple[str, str], tuple[float, float]] = field(default_factory=dict)
    csv: Path | None = None

    def table(self, assignments: list[str]) -> str:
        """Student × assignment: "score / max", or the problem's short form."""
        students = sorted({s for s, _ in self.scores} | {s for s, _ in self.problems})
        rows = [["student", *assignments]]
        for student in students:
            row = [student]
            for assignment in assignments:
                if (student, assignment) in self.problems:
                    row.append("error")
                elif (student, assignment) in self.scores:
                    score, maximum = self.scores[student, assignment]
                    row.append(f"{score:g} / {maximum:g}")
                else:
                    row.append("-")
            rows.append(row)
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows)

    def lines(self) -> list[str]:
        return [f"{student}/{assignment}: {line}" for (student, assignment), line in sorted(self.problems.items())]


def malformed(folder: Path, assignment: str, known: list[str]) -> str | None:
    """Why the submission in `folder` cannot be graded, in one line (None when it can)."""
    if assignment not in known:
        return f"not an assignment of this course (expected one of {', '.join(known)})"
    expected = folder / f"{assignment}.ipynb"
    if not expected.is_file():
        found = sorted(p.name for p in folder.iterdir() if p.is_file())
        return f"no {expected.name} (found: {', '.join(found) or 'nothing'})"
    try:
        nbformat.validate(nbformat.read(expected, as_version=4))
    except Exception as error:  # noqa: BLE001 (any reading error makes the submission malformed)
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return f"{expected.name} is not a valid notebook ({type(error).__name__}: {first[:160]})"
    return None


def failure_line(output: str) -> str:
    """The most telling line of a failed nbgrader run's log."""
    errors = [line.strip() for line in output.splitlines()
              if re.search(r"DeadKernel|Kernel died|CellTimeout|Error:|\[ERROR\]", line)]
    interesting = [line for line in errors if not line.startswith("[AutogradeApp | ERROR] There was an error")]
    chosen = (interesting or errors or [line for line in output.splitlines() if line.strip()] or ["no output"])[-1]
    return re.sub(r"^\[\w+ \| \w+\]\s*", "", chosen)[:200]


def read_scores(path: Path) -> dict[tuple[str, str], tuple[float, float]]:
    """(student, assignment) -> (score, max score) of every row of nbgrader's CSV."""
    with path.open() as handle:
        return {(row["student_id"], row["assignment"]): (float(row["score"]), float(row["max_score"]))
                for row in csv.DictReader(handle)}


def grade(submissions: Path, course: Path, log=print) -> Report:
    """Autograde every submission in `submissions` in the course directory `course` (see the docstring)."""
    submissions, course = Path(submissions), Path(course).resolve()
    if not submissions.is_dir():
        raise FileNotFoundError(f"no submissions folder {submissions}")
    known = sorted(p.name for p in (course / "release").iterdir() if p.is_dir()) if (course / "release").is_dir() else []
    if not known:
        raise FileNotFoundError(f"{course} has no released assignments: run `make student` first")
    report = Report()
    graded = []
    for student_folder in sorted(p for p in submissions.iterdir() if p.is_dir()):
        student = student_folder.name
        for folder in sorted(p for p in student_folder.iterdir() if p.is_dir()):
            problem = malformed(folder, folder.name, known)
            if problem:
                report.problems[student, folder.name] = problem
                continue
            target = course / "submitted" / student / folder.name
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir(parents=True)
            shutil.copy(folder / f"{folder.name}.ipynb", target)
            graded.append((student, folder.name))
    graded.sort(key=lambda pair: (pair[0], known.index(pair[1])))
    for student, assignment in graded:
        log(f"autograding {student}/{assignment}")
        with tempfile.TemporaryDirectory() as cache:
            env = {**os.environ, "WORKBOOK_QUICK": "1", "WORKBOOK_CACHE_DIR": cache, "TQDM_DISABLE": "1"}
            done = bundle.nbgrader(course, "autograde", assignment, "--student", student, "--create", "--force",
                                   env=env)
        if done.returncode != 0:
            report.problems[student, assignment] = f"autograde failed: {failure_line(done.stdout + done.stderr)}"
            continue
        feedback = bundle.nbgrader(course, "generate_feedback", assignment, "--student", student, "--force")
        if feedback.returncode != 0:
            report.problems[student, assignment] = f"feedback failed: {failure_line(feedback.stdout + feedback.stderr)}"
    report.csv = course / GRADES
    exported = bundle.nbgrader(course, "export", f"--to={report.csv}")
    if exported.returncode != 0:
        raise RuntimeError(f"nbgrader export failed:\n{exported.stdout}{exported.stderr}")
    report.scores = {key: value for key, value in read_scores(report.csv).items()
                     if key in graded and key not in report.problems}
    return report
