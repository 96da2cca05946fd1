"""Solution regions and their stubs, for notebook cells and for the source files of `helpers`.

A solution region is the lines between a comment line starting with ``### BEGIN SOLUTION`` and the
next comment line starting with ``### END SOLUTION``. The text after ``BEGIN SOLUTION`` on the first
line is the message the student sees: the student edition replaces the region, markers included, by
one line at the marker's indentation, ``raise NotImplementedError("<message>")``, for example
``raise NotImplementedError("implement TanH.forward: y = tanh(x) (eq. 1)")``.
"""
from __future__ import annotations

import re

from nbgrader.preprocessors import ClearSolutions

from helpers import validate

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
DEFAULT_MESSAGE = "implement this part (see the derivation above)"


def _message(begin_line: str) -> str:
    return begin_line.split("BEGIN SOLUTION", 1)[1].strip() or DEFAULT_MESSAGE


def _regions(text: str, where: str):
    """Yield (begin line, region lines, index of the begin line) for every region; ValueError on bad nesting."""
    lines = text.split("\n")
    begin = None
    for index, line in enumerate(lines):
        if line.strip().startswith(BEGIN):
            if begin is not None:
                raise ValueError(f"{where}: line {index + 1}: BEGIN SOLUTION inside the region opened "
                                 f"on line {begin + 1}")
            begin = index
        elif line.strip().startswith(END):
            if begin is None:
                raise ValueError(f"{where}: line {index + 1}: END SOLUTION without a BEGIN SOLUTION")
            yield lines[begin], lines[begin + 1:index], begin
            begin = None
    if begin is not None:
        raise ValueError(f"{where}: line {begin + 1}: BEGIN SOLUTION without an END SOLUTION")


def solution_regions(text: str, where: str = "text") -> list[str]:
    """The text of every solution region in `text` (the lines between the markers, dedented)."""
    validate.text("text", text)
    return ["\n".join(line.strip() for line in body if line.strip()) for _, body, _ in _regions(text, where)]


def messages(text: str, where: str = "text") -> list[str]:
    """The student-facing message of every region in `text`, in order."""
    validate.text("text", text)
    return [_message(begin) for begin, _, _ in _regions(text, where)]


def stub_code(text: str, where: str = "text") -> str:
    """`text` with every solution region replaced by ``raise NotImplementedError("<message>")``."""
    validate.text("text", text)
    lines = text.split("\n")
    regions = list(_regions(text, where))
    out, position = [], 0
    for begin_line, body, begin in regions:
        indent = re.match(r"\s*", begin_line).group(0)
        out.extend(lines[position:begin])
        message = _message(begin_line).replace("\\", "\\\\").replace('"', '\\"')
        out.append(f'{indent}raise NotImplementedError("{message}")')
        position = begin + len(body) + 2
    out.extend(lines[position:])
    return "\n".join(out)


class ClearSolutionsWithMessages(ClearSolutions):
    """nbgrader's ClearSolutions, with each code region's own message in its NotImplementedError."""

    def _replace_solution_region(self, cell, language: str) -> bool:
        if cell.cell_type != "code":
            return super()._replace_solution_region(cell, language)
        try:
            found = bool(list(_regions(cell.source, "cell")))
            cell.source = stub_code(cell.source, "cell")
        except ValueError as error:
            raise RuntimeError(str(error)) from error
        return found
