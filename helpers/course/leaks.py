"""Leak scan of the student edition: no released file may contain the text of a stubbed solution.

For every ``release/<a>/`` it looks for the solutions the bundle of `a` must not hold: the regions of
the assignments `course.json` says are stubbed (`a` and later ones; every assignment when earlier
exercises are the student's own): code regions of helpers' source and of the notebooks' cells, and
the whole text of the markdown answer cells (nbgrader ``solution: true`` cells that are not code).
Text is compared with whitespace normalized. Besides whole regions it looks for their *distinctive
lines*: lines of those regions (at least `MIN_LINE` characters) that occur nowhere in what may be
released, i.e. the solution sources with those regions removed.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from helpers.course import bundle, link, stubs
from helpers.workbook import REPO_ROOT

MIN_LINE = 25


@dataclass(frozen=True)
class Solution:
    """The text of one solution: a code region or a markdown answer."""

    name: str
    assignment: str
    text: str          # as written (lines)


@dataclass(frozen=True)
class Leak:
    file: Path
    solution: str
    what: str          # "region" or "line: <the line>"

    def __str__(self) -> str:
        return f"{self.file}: {self.what} of {self.solution}"


def normalized(text: str) -> str:
    return " ".join(text.split())


def contains(flat: str, needle: str) -> bool:
    """True when normalized `needle` occurs in normalized `flat` as whole tokens
    (``alpha * w`` is not found in ``alpha * weights``)."""
    if not needle or needle not in flat:
        return False
    pattern = re.compile((r"(?<!\w)" if needle[0].isalnum() or needle[0] == "_" else "") + re.escape(needle)
                         + (r"(?!\w)" if needle[-1].isalnum() or needle[-1] == "_" else ""))
    return pattern.search(flat) is not None


def notebook_solutions(notebooks: Path = bundle.NOTEBOOKS) -> list[Solution]:
    """Code regions of every notebook cell and the text of every markdown answer cell."""
    found = []
    for assignment in bundle.assignments(notebooks):
        notebook = nbformat.read(Path(notebooks) / f"{assignment}.ipynb", as_version=4)
        for index, cell in enumerate(notebook.cells):
            where = f"{assignment}.ipynb cell {index}"
            if cell.cell_type == "code":
                for begin, end in bundle.region_lines(cell.source, where):
                    body = "\n".join(cell.source.split("\n")[begin + 1:end])
                    found.append(Solution(f"{where} line {begin + 1}", assignment, body))
            elif cell.metadata.get("nbgrader", {}).get("solution"):
                found.append(Solution(f"{where} (answer {cell.metadata['nbgrader'].get('grade_id')})",
                                      assignment, cell.source))
    return found


def helpers_solutions(regions: list[bundle.Region]) -> list[Solution]:
    """The code regions of helpers' source (`bundle.helpers_regions`), named by their object."""
    found = []
    for region in regions:
        lines = (REPO_ROOT / region.path).read_text().split("\n")
        found.append(Solution(region.name, region.assignment, "\n".join(lines[region.begin + 1:region.end])))
    return found


def released_text(notebooks: Path, regions: list[bundle.Region], hidden: set[str]) -> set[str]:
    """Stripped lines of the solution sources (helpers and notebooks) outside the regions of `hidden` assignments."""
    spans = {}
    for region in regions:
        if region.assignment in hidden:
            spans.setdefault(region.path, []).append((region.begin, region.end))
    lines = set()
    for path in (REPO_ROOT / "helpers").rglob("*.py"):
        relative = path.relative_to(REPO_ROOT)
        text = bundle.stub_regions(path.read_text(), spans.get(relative, []), str(relative))
        lines.update(line.strip() for line in text.split("\n"))
    for assignment in bundle.assignments(notebooks):
        for cell in nbformat.read(Path(notebooks) / f"{assignment}.ipynb", as_version=4).cells:
            if cell.metadata.get("nbgrader", {}).get("solution") and assignment in hidden:
                if cell.cell_type != "code":
                    continue
                text = stubs.stub_code(cell.source, assignment)
            else:
                text = cell.source
            lines.update(line.strip() for line in text.split("\n"))
    return lines


def file_text(path: Path) -> str | None:
    """What a student sees in `path`: a notebook's cell sources and outputs, else the file's text (None: binary)."""
    if path.suffix == ".ipynb":
        notebook = nbformat.read(path, as_version=4)
        parts = []
        for cell in notebook.cells:
            parts.append(cell.source)
            for output in cell.get("outputs", []):
                parts.append(json.dumps(output.get("data", {}), ensure_ascii=False))
                parts.append(output.get("text", "") + output.get("evalue", ""))
        return "\n".join(parts)
    try:
        return path.read_text()
    except UnicodeDecodeError:
        return None


def scan(release: Path, notebooks: Path = bundle.NOTEBOOKS, regions: list[bundle.Region] | None = None) -> list[Leak]:
    """Every leak in the released assignment folder `release` (``release/<a>``); `regions`: helpers'
    solution regions (`bundle.helpers_regions(notebooks)` when None)."""
    release = Path(release)
    regions = bundle.helpers_regions(notebooks) if regions is None else regions
    settings = link.settings(release)
    order = bundle.assignments(notebooks)
    hidden = set(bundle.stubbed_assignments(release.name, order, settings.get("earlier_exercises", "reference")))
    solutions = [s for s in helpers_solutions(regions) + notebook_solutions(notebooks) if s.assignment in hidden]
    allowed = released_text(notebooks, regions, hidden)
    lines = {(solution.name, line.strip()) for solution in solutions for line in solution.text.split("\n")
             if len(line.strip()) >= MIN_LINE and line.strip() not in allowed}
    leaks = []
    for path in sorted(p for p in release.rglob("*") if p.is_file()):
        text = file_text(path)
        if text is None:
            continue
        flat = normalized(text)
        relative = path.relative_to(release.parent)
        for solution in solutions:
            if contains(flat, normalized(solution.text)):
                leaks.append(Leak(relative, solution.name, "region"))
        for name, line in sorted(lines):
            if contains(flat, normalized(line)):
                leaks.append(Leak(relative, name, f"line {line!r}"))
    return leaks


def scan_course(course: Path, notebooks: Path = bundle.NOTEBOOKS) -> list[Leak]:
    """Leaks in every ``course/release/<a>/``."""
    regions = bundle.helpers_regions(notebooks)
    return [leak for folder in sorted((Path(course) / "release").iterdir()) if folder.is_dir()
            for leak in scan(folder, notebooks, regions)]
