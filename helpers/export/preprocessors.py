"""nbconvert preprocessors that make a notebook printable.

- `DropInteractiveOutputs`: removes what only lives in a browser — every output of a cell tagged
  `widget`, widget views (`application/vnd.jupyter.widget-*`), text reprs of widgets such as
  ``VBox(children=…`` or ``IntSlider(value=…)``, and progress bars (``0%|…| 0/100``).
- `PreferPrintableImages`: drops SVG where the output also has PDF/PNG (LaTeX cannot include SVG)
  and replaces an SVG-only figure by a one-line note instead of crashing the export.
- `TitleAndAuthors`: the first markdown heading becomes the document title (and leaves the body);
  authors come from the `authors` option or from the notebook metadata.
- `RejectControlCharacters`: a control character in markdown (typically `\f` or `\b` from "\frac"
  or "\beta" written into a non-raw Python string) stops the export with a message naming the
  cell, instead of pages of XeLaTeX errors.
"""
from __future__ import annotations

import re

import ipywidgets
import nbformat
from nbconvert.preprocessors import Preprocessor
from traitlets import List, Unicode

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
    return bool(WIDGET_REPR.match(text))


def without_progress_bars(text: str) -> str:
    """`text` without progress bars: a line whose carriage-return frames are all bars goes away,
    otherwise the line keeps its last frame that is not a bar (what a terminal would show)."""
    kept = []
    for line in text.split("\n"):
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


CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class RejectControlCharacters(Preprocessor):
    """Raise ValueError naming the markdown cell and character that LaTeX cannot typeset."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "markdown":
            match = CONTROL_CHARACTER.search(cell.source)
            if match:
                context = cell.source[max(0, match.start() - 30):match.end() + 30]
                raise ValueError(
                    f"markdown cell {index}: control character U+{ord(match[0]):04X} near {context!r}; "
                    "was a LaTeX command like \\frac or \\beta written in a non-raw Python string?")
        return cell, resources
