"""nbconvert preprocessors that make a notebook printable.

- `DropInteractiveOutputs`: removes what only lives in a browser — every output of a cell tagged
  `widget`, widget views (`application/vnd.jupyter.widget-*`), text reprs of widgets such as
  ``VBox(children=…`` or ``IntSlider(value=…)``, and progress bars (``0%|…| 0/100``).
- `PreferPrintableImages`: drops SVG where the output also has PDF/PNG (LaTeX cannot include SVG)
  and replaces an SVG-only figure by a one-line note instead of crashing the export.
- `TitleAndAuthors`: the first markdown heading becomes the document title (and leaves the body);
  authors come from the `authors` option or from the notebook metadata.
- `RejectControlCharacters`: a control character (C0 but tab, newline and carriage return; DEL;
  C1 such as U+0085) in markdown or code (typically `\f` or `\b` from "\frac" or "\beta" written
  into a non-raw Python string) or in the title or author names stops the export with one line
  naming the cell or field, instead of pages of XeLaTeX errors. In outputs, which the notebook's
  code printed, each one is shown as its escape (`\x07`) instead; ANSI colour codes stay.
- `HideLocalPaths`: outputs show paths inside the repository relative to it and the home folder
  as `~`, so a PDF never carries the absolute path of the run cache or a home folder.
"""
from __future__ import annotations

import re
from pathlib import Path

import ipywidgets
import nbformat
from nbconvert.preprocessors import Preprocessor
from traitlets import List, Unicode

from helpers import validate

WIDGET_TAG = "widget"
WIDGET_MIME_PREFIX = "application/vnd.jupyter.widget-"

WIDGET_CLASS_NAMES = sorted(
    name for name, obj in vars(ipywidgets).items()
    if isinstance(obj, type) and issubclass(obj, ipywidgets.Widget))
# `IntSlider(value=3, …)`, `VBox(children=(…))`, `Output()`: the text/plain repr of a widget.
WIDGET_REPR = re.compile(r"^\s*(?:%s)\((?:\)|[a-z_]+=)" % "|".join(WIDGET_CLASS_NAMES))
# tqdm's text bar: ` 40%|████      | 4/10 [00:01<00:01, 3.2it/s]` (also with a description in front).
PROGRESS_BAR = re.compile(r"\d+%\|.*\|\s*[\d.]+[kMG]?/[?\d.]+[kMG]?\s*\[")


def is_widget_repr(text: str) -> bool:
    """True for the text repr of an ipywidgets widget (what a PDF would show instead of the widget)."""
    return bool(WIDGET_REPR.match(validate.text("text", text)))


def without_progress_bars(text: str) -> str:
    """`text` without progress bars: a line whose carriage-return frames are all bars goes away,
    otherwise the line keeps its last frame that is not a bar (what a terminal would show)."""
    kept = []
    for line in validate.text("text", text).split("\n"):
        frames = [frame for frame in line.split("\r") if frame]
        printable = [frame for frame in frames if not PROGRESS_BAR.search(frame)]
        if frames and not printable:
            continue
        kept.append(printable[-1] if printable else line)
    return "\n".join(kept)


def printable_output(output: nbformat.NotebookNode) -> nbformat.NotebookNode | None:
    """`output` cleaned of widget and progress-bar content; None when nothing printable is left."""
    if output.output_type == "stream":
        text = without_progress_bars(output.text)
        if not text.strip():
            return None
        output.text = text
        return output
    if output.output_type not in ("display_data", "execute_result"):
        return output
    data = output.get("data", {})
    if any(mime.startswith(WIDGET_MIME_PREFIX) for mime in data):
        return None
    plain = data.get("text/plain", "")
    if set(data) <= {"text/plain"} and (is_widget_repr(plain) or PROGRESS_BAR.search(plain)):
        return None
    return output


class DropInteractiveOutputs(Preprocessor):
    """Remove widget panels' outputs, widget views and reprs, and progress bars."""

    tag = Unicode(WIDGET_TAG, help="Cells with this tag lose all their outputs.").tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        if self.tag in cell.metadata.get("tags", []):
            cell.outputs = []
            return cell, resources
        cell.outputs = [kept for kept in map(printable_output, cell.outputs) if kept is not None]
        return cell, resources


class PreferPrintableImages(Preprocessor):
    """Never hand SVG to LaTeX: keep PDF/PNG/JPEG, or note that an SVG-only figure was left out."""

    def preprocess_cell(self, cell, resources, index):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "image/svg+xml" not in data:
                continue
            del data["image/svg+xml"]
            if not {"application/pdf", "image/png", "image/jpeg"} & set(data):
                data.clear()
                data["text/plain"] = ("[SVG figure left out of the PDF: use "
                                      "%config InlineBackend.figure_formats = ['png', 'pdf']]")
        return cell, resources


HEADING = re.compile(r"^#\s+(?P<title>.+?)\s*#*\s*$", re.MULTILINE)


class TitleAndAuthors(Preprocessor):
    """Title from the first `# heading` (removed from the body); authors from config or metadata."""

    authors = List(Unicode(), help="Author names; overrides the notebook metadata when given.").tag(
        config=True)

    def preprocess(self, nb, resources):
        if not nb.metadata.get("title"):
            for cell in nb.cells:
                if cell.cell_type != "markdown":
                    continue
                match = HEADING.search(cell.source)
                if match:
                    nb.metadata["title"] = match["title"]
                    cell.source = (cell.source[:match.start()] + cell.source[match.end():]).strip()
                break
        if self.authors:
            nb.metadata["authors"] = [{"name": name} for name in self.authors]
        return nb, resources


CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# An ANSI escape sequence (colours in tracebacks and logs: nbconvert turns them into LaTeX colours),
# or a control character outside one.
ANSI_OR_CONTROL = re.compile(r"(\x1b\[[0-?]*[ -/]*[@-~])|" + CONTROL_CHARACTER.pattern)


def control_character_message(where: str, text: str) -> str | None:
    """One line naming `where` and the first control character in `text`; None if there is none."""
    match = CONTROL_CHARACTER.search(text)
    if match is None:
        return None
    context = text[max(0, match.start() - 30):match.end() + 30]
    return f"{where}: control character U+{ord(match[0]):04X} near {context!r}"


def escaped_control_characters(text: str) -> str:
    """`text` with every control character written as its escape (BEL -> `\\x07`), ANSI codes kept."""
    return ANSI_OR_CONTROL.sub(lambda m: m[1] or f"\\x{ord(m[0]):02x}", text)


def map_output_text(output: nbformat.NotebookNode, change) -> None:
    """Apply `change` to every text of `output`: stream text, text/* data, error name, value, traceback."""
    if output.output_type == "stream":
        output.text = change(output.text)
    elif output.output_type == "error":
        output.ename, output.evalue = change(output.ename), change(output.evalue)
        output.traceback = [change(line) for line in output.traceback]
    for mime, value in output.get("data", {}).items():
        if mime.startswith("text/") and isinstance(value, str):
            output.data[mime] = change(value)


class RejectControlCharacters(Preprocessor):
    """ValueError naming the cell (or metadata field) and the character that LaTeX cannot typeset;
    control characters in outputs are escaped instead."""

    def preprocess(self, nb, resources):
        fields = [("notebook metadata title", nb.metadata.get("title") or "")]
        fields += [(f"notebook metadata authors[{i}]", str(author.get("name", "")))
                   for i, author in enumerate(nb.metadata.get("authors", []))]
        for where, text in fields:
            message = control_character_message(where, text)
            if message:
                raise ValueError(message)
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        message = control_character_message(f"{cell.cell_type} cell {index}", cell.source)
        if message:
            raise ValueError(message + "; was a LaTeX command like \\frac or \\beta written in a "
                                       "non-raw Python string?")
        for output in cell.get("outputs", []):
            map_output_text(output, escaped_control_characters)
        return cell, resources


class HideLocalPaths(Preprocessor):
    """Outputs: `<repository>/x` becomes `x`, the repository itself `.`, the home folder `~`."""

    repository = Unicode(str(Path(__file__).resolve().parents[2]),
                         help="Folder whose absolute path outputs show relative.").tag(config=True)
    home = Unicode(str(Path.home()), help="Folder that outputs show as ~.").tag(config=True)

    def hidden(self, text: str) -> str:
        for folder, shown in ((self.repository, "."), (self.home, "~")):
            if len(folder) > 1:  # never rewrite "/" itself
                # the folder itself or followed by "/", not a longer name (/home/ada is not /home/adam)
                pattern = re.escape(folder.rstrip("/")) + r"(/|(?![\w.\-]))"
                text = re.sub(pattern, lambda m: ("" if shown == "." else "~/") if m[1] else shown, text)
        return text

    def preprocess_cell(self, cell, resources, index):
        for output in cell.get("outputs", []):
            map_output_text(output, self.hidden)
        return cell, resources
