"""The student edition: an nbgrader course directory with one assignment per notebook (`make student`).

For each notebook `<a>.ipynb` (assignment `<a>`), ``source/<a>/`` holds the notebook, a copy of
`helpers` in which the solution regions of `<a>`'s objects and of every later assignment's objects are
stubbed (earlier assignments' regions too with ``earlier="own"``), ``course.json`` (read by
`helpers.course.link`), the committed ``results/<experiment>/`` the notebook loads in full mode, and
the student's Makefile, pyproject.toml and jupyter-config. ``nbgrader generate_assignment`` then writes
``release/<a>/`` with the notebook's own regions stubbed (`stubs.ClearSolutionsWithMessages`).

A region belongs to the assignment of the first notebook whose ``# sync:`` cell names the object
(function, class or method) that contains it.
"""
from __future__ import annotations

import inspect
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from helpers import sync, validate
from helpers.course import link, stubs
from helpers.workbook import REPO_ROOT

NOTEBOOKS = REPO_ROOT / "notebooks"
TEMPLATES = Path(__file__).resolve().parent / "templates"
COURSE_ID = "rnn-workbook"
CELL_TIMEOUT = 900  # seconds per cell when nbgrader executes a notebook (quick mode: well under)
# Teacher-only modules of helpers.course that the student copy leaves out.
TEACHER_ONLY = ("bundle.py", "grade.py", "leaks.py", "__main__.py", "templates")


@dataclass(frozen=True)
class Region:
    """One solution region of a helpers source file and the assignment whose object contains it."""

    path: Path        # the source file, relative to the repository
    begin: int        # 0-based index of the BEGIN SOLUTION line
    end: int          # 0-based index of the END SOLUTION line
    owner: str        # dotted name of the object containing it
    assignment: str

    @property
    def name(self) -> str:
        return f"{self.owner} ({self.path}:{self.begin + 1})"


def assignments(notebooks: Path = NOTEBOOKS) -> list[str]:
    """The assignment names, in course order: the stems of the numbered notebooks."""
    return [path.stem for path in sorted(Path(notebooks).glob("[0-9]*.ipynb"))]


def object_assignments(notebooks: Path = NOTEBOOKS) -> dict[str, str]:
    """Dotted name of every object a `# sync:` cell names -> the first assignment that names it."""
    owners: dict[str, str] = {}
    for assignment in assignments(notebooks):
        for _, names in sync.marked_cells(Path(notebooks) / f"{assignment}.ipynb"):
            for name in names:
                owners.setdefault(name, assignment)
    return owners


def helpers_regions(notebooks: Path = NOTEBOOKS) -> list[Region]:
    """Every solution region in helpers' source, with its owner; ValueError for a region no synced object holds."""
    spans: dict[Path, list[tuple[int, int, str, str]]] = {}
    for dotted, assignment in object_assignments(notebooks).items():
        target = inspect.unwrap(sync.resolve(dotted))
        lines, start = inspect.getsourcelines(target)
        path = Path(inspect.getsourcefile(target)).resolve().relative_to(REPO_ROOT)
        spans.setdefault(path, []).append((start - 1, start - 1 + len(lines), dotted, assignment))
    regions = []
    for path in sorted((REPO_ROOT / "helpers").rglob("*.py")):
        text = path.read_text()
        if stubs.BEGIN not in text:
            continue
        relative = path.relative_to(REPO_ROOT)
        for begin, end in region_lines(text, str(relative)):
            holders = [span for span in spans.get(relative, []) if span[0] <= begin < span[1]]
            if not holders:
                raise ValueError(f"{relative}: line {begin + 1}: solution region outside every object named "
                                 f"by a '# sync:' cell (no notebook shows it to the student)")
            innermost = min(holders, key=lambda span: span[1] - span[0])
            regions.append(Region(relative, begin, end, innermost[2], innermost[3]))
    return regions


def region_lines(text: str, where: str) -> list[tuple[int, int]]:
    """(BEGIN line index, END line index) of every region of `text` (ValueError on bad markers)."""
    return [(begin, begin + len(body) + 1) for _, body, begin in stubs._regions(text, where)]


def stub_regions(text: str, spans: list[tuple[int, int]], where: str) -> str:
    """`text` with the regions at `spans` (from `region_lines`) replaced by their stubs (`stubs.stub_code`)."""
    lines = text.split("\n")
    for begin, end in sorted(spans, reverse=True):
        lines[begin:end + 1] = [stubs.stub_code("\n".join(lines[begin:end + 1]), where)]
    return "\n".join(lines)


def stubbed_assignments(assignment: str, order: list[str], earlier: str) -> list[str]:
    """The assignments whose regions the bundle of `assignment` stubs."""
    validate.choice("earlier", earlier, link.EARLIER_CHOICES)
    position = order.index(assignment)
    return order if earlier == "own" else order[position:]


def copy_helpers(destination: Path, regions: list[Region], stubbed: list[str]) -> None:
    """A copy of helpers at `destination/helpers` with the regions of the `stubbed` assignments stubbed."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(REPO_ROOT / "helpers", destination / "helpers", ignore=ignore)
    course = destination / "helpers" / "course"
    for name in TEACHER_ONLY:
        target = course / name
        shutil.rmtree(target) if target.is_dir() else target.unlink(missing_ok=True)
    by_file: dict[Path, list[tuple[int, int]]] = {}
    for region in regions:
        if region.assignment in stubbed:
            by_file.setdefault(region.path, []).append((region.begin, region.end))
    for path, spans in by_file.items():
        target = destination / path
        target.write_text(stub_regions(target.read_text(), spans, str(path)))


def experiments_used(notebook: Path) -> list[str]:
    """The folders of `results/` whose helpers module (same name) the notebook's code uses."""
    import nbformat

    code = "\n".join(c.source for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code")
    return [folder.name for folder in sorted((REPO_ROOT / "results").iterdir())
            if folder.is_dir() and re.search(rf"\b{re.escape(folder.name)}\.|helpers\.{re.escape(folder.name)}\b", code)]


def student_pyproject(assignment: str) -> str:
    """The assignment folder's pyproject.toml: the workbook's pinned dependencies, no package (helpers stays local)."""
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    dependencies = "".join(f'    "{pin}",\n' for pin in project["dependencies"])
    return (TEMPLATES / "pyproject.toml").read_text().format(
        name=f"rnn-workbook-{assignment.replace('_', '-')}", python=project["requires-python"],
        dependencies=dependencies)


def write_source(course: Path, assignment: str, order: list[str], regions: list[Region], earlier: str,
                 notebooks: Path = NOTEBOOKS) -> Path:
    """Fill ``course/source/<assignment>/`` (see the module docstring); return it."""
    folder = course / "source" / assignment
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    notebook = Path(notebooks) / f"{assignment}.ipynb"
    shutil.copy(notebook, folder / notebook.name)
    copy_helpers(folder, regions, stubbed_assignments(assignment, order, earlier))
    previous = order[:order.index(assignment)]
    (folder / link.SETTINGS_FILE).write_text(json.dumps(
        {"assignment": assignment, "earlier_exercises": earlier, "earlier": previous}, indent=2) + "\n")
    for experiment in experiments_used(notebook):
        shutil.copytree(REPO_ROOT / "results" / experiment, folder / "results" / experiment)
    shutil.copy(TEMPLATES / "Makefile", folder / "Makefile")
    shutil.copytree(TEMPLATES / "jupyter-config", folder / "jupyter-config")
    (folder / "pyproject.toml").write_text(student_pyproject(assignment))
    return folder


def write_config(course: Path) -> Path:
    """The course's nbgrader_config.py (see templates/nbgrader_config.py)."""
    text = (TEMPLATES / "nbgrader_config.py").read_text()
    text = text.replace("{COURSE_ID}", COURSE_ID).replace("{CELL_TIMEOUT}", str(CELL_TIMEOUT))
    path = course / "nbgrader_config.py"
    path.write_text(text)
    return path


def nbgrader(course: Path, *arguments: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run ``nbgrader <arguments>`` in the course directory (this Python's nbgrader); output captured.

    This Python's bin folder goes first on PATH: nbgrader runs `alembic` from there for its gradebook."""
    env = dict(os.environ if env is None else env)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return subprocess.run([sys.executable, "-m", "nbgrader", *arguments], cwd=course, env=env,
                          capture_output=True, text=True)


def build(course: Path, earlier: str = "reference", notebooks: Path = NOTEBOOKS) -> list[str]:
    """Write the course directory and release every assignment; return the assignment names."""
    validate.choice("earlier", earlier, link.EARLIER_CHOICES)
    course = Path(course).resolve()
    course.mkdir(parents=True, exist_ok=True)
    write_config(course)
    order = assignments(notebooks)
    regions = helpers_regions(notebooks)
    for assignment in order:
        write_source(course, assignment, order, regions, earlier, notebooks)
        done = nbgrader(course, "generate_assignment", assignment, "--force")
        if done.returncode != 0:
            raise RuntimeError(f"nbgrader generate_assignment {assignment} failed:\n{done.stdout}{done.stderr}")
    return order
