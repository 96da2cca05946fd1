"""Notebook → PDF through nbconvert and XeLaTeX, with the workbook's template and preprocessors.

`configure(c)` is the one place that sets the nbconvert options; `make pdf` (through `export_pdf`)
and the JupyterLab server that `make lab` starts (through `jupyter-config/`) both use it.
"""
from __future__ import annotations

import os
import re
import shutil
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbconvert.exporters import PDFExporter
from nbconvert.exporters.pdf import LatexFailed
from traitlets.config import Config

from helpers import validate
from helpers.export.preprocessors import control_character_message
from helpers.run_notebooks import execute

TEMPLATES = Path(__file__).resolve().parent / "templates"
TEMPLATE = "workbook"
PREPROCESSORS = [  # TitleAndAuthors first: RejectControlCharacters checks the title and authors it sets
    "helpers.export.preprocessors.TitleAndAuthors",
    "helpers.export.preprocessors.RejectControlCharacters",
    "helpers.export.preprocessors.DropInteractiveOutputs",
    "helpers.export.preprocessors.PreferPrintableImages",
    "helpers.export.preprocessors.HideLocalPaths",
]
REQUIRED_TOOLS = ("xelatex", "pandoc")
DEBIAN_PACKAGES = ("texlive-xetex texlive-fonts-recommended texlive-plain-generic pandoc "
                   "fonts-dejavu-core fonts-dejavu-extra")
# XeLaTeX wraps its log at 79 columns, so the font name may continue on the next line.
MISSING_CHARACTER = re.compile(r"^Missing character: There is no (.+?) in font ([^!]+)!", re.MULTILINE)


def configure(c: Config) -> Config:
    """Set the workbook's LaTeX template, preprocessors and XeLaTeX runs on the config `c`."""
    c.TemplateExporter.extra_template_basedirs = [str(TEMPLATES)]
    c.LatexExporter.template_name = TEMPLATE
    c.LatexExporter.preprocessors = list(PREPROCESSORS)
    # SVG never reaches LaTeX (PreferPrintableImages), so Inkscape is never needed.
    c.SVG2PDFPreprocessor.enabled = False
    c.PDFExporter.latex_command = ["xelatex", "-interaction=nonstopmode", "{filename}"]
    c.PDFExporter.latex_count = 2  # the second run settles references and the PDF outline
    return c


def missing_tools() -> list[str]:
    """The programs the PDF export needs that are not on PATH."""
    return [tool for tool in REQUIRED_TOOLS if shutil.which(tool) is None]


def missing_tools_message(tools: list[str]) -> str:
    """One line that names what is missing and the Debian packages that bring it."""
    return (f"PDF export needs {' and '.join(tools)}, not found on PATH. "
            f"Install them, e.g. on Debian/Ubuntu: sudo apt-get install {DEBIAN_PACKAGES}")


def missing_characters(latex_log: str) -> list[str]:
    """The 'Missing character' lines of a XeLaTeX log, as `glyph in font`."""
    return [f"{glyph} in {font.replace(chr(10), '')}"
            for glyph, font in MISSING_CHARACTER.findall(validate.text("latex_log", latex_log))]


class WorkbookPDFExporter(PDFExporter):
    """`PDFExporter` that keeps the XeLaTeX log in `resources["latex_log"]`."""

    latex_log = ""

    def run_latex(self, filename, raise_on_failure=LatexFailed):
        try:
            return super().run_latex(filename, raise_on_failure)
        finally:
            log = Path(filename).with_suffix(".log")
            self.latex_log = log.read_text(errors="replace") if log.exists() else ""

    def from_notebook_node(self, nb, resources=None, **kw):
        pdf, resources = super().from_notebook_node(nb, resources=resources, **kw)
        resources["latex_log"] = self.latex_log
        return pdf, resources


def slug(text: str) -> str:
    """ASCII letters, digits and dashes only: 'Müller-Lüdenscheidt' → 'Muller-Ludenscheidt'."""
    ascii_text = unicodedata.normalize("NFKD", validate.text("text", text)).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9]+", "-", ascii_text).strip("-")


def output_name(notebook: Path, authors: list[str]) -> str:
    """`Surname-02_elman_rnn.pdf` (surnames joined by '_') with authors, else `02_elman_rnn.pdf`."""
    if not isinstance(notebook, os.PathLike):
        validate.fail("notebook", "a pathlib.Path", notebook, TypeError)
    authors = checked_authors(authors)
    surnames = "_".join(filter(None, (slug(name.split()[-1]) for name in authors if name.split())))
    return f"{surnames}-{notebook.stem}.pdf" if surnames else f"{notebook.stem}.pdf"


@dataclass
class Export:
    """What `export_pdf` wrote and what XeLaTeX said about it."""

    pdf: Path
    latex_log: str

    @property
    def missing_characters(self) -> list[str]:
        return missing_characters(self.latex_log)


def checked_authors(authors, name: str = "authors") -> list[str]:
    """`authors` as a list of names; TypeError unless each is a str, ValueError for a control character."""
    if isinstance(authors, str) or not isinstance(authors, (list, tuple)):
        validate.fail(name, "a list of author names", authors, TypeError)
    for i, author in enumerate(authors):
        if not isinstance(author, str):
            validate.fail(f"{name}[{i}]", "a name (str)", author, TypeError)
        message = control_character_message(f"{name}[{i}]", author)
        if message:
            raise ValueError(message)
    return list(authors)


def notebook_authors(notebook: nbformat.NotebookNode) -> list[str]:
    """Author names from the notebook metadata `authors` ([{"name": ...}, ...])."""
    if not isinstance(notebook, nbformat.NotebookNode):
        validate.fail("notebook", "a notebook (nbformat.NotebookNode)", notebook, TypeError)
    return [author["name"] for author in notebook.metadata.get("authors", []) if author.get("name")]


def export_pdf(path: Path, out_dir: Path, authors: list[str] | None = None,
               run: bool = False, quick: bool = True) -> Export:
    """Write the notebook at `path` as PDF into `out_dir`; re-execute it first when `run`.

    `authors` overrides the notebook metadata for the title block and the file name.
    Raises RuntimeError naming the Debian packages when XeLaTeX or pandoc is missing.
    """
    if not isinstance(path, (str, os.PathLike)):
        validate.fail("path", "a notebook path (str or pathlib.Path)", path, TypeError)
    path = Path(path)
    if not path.is_file():
        validate.fail("path", "an existing notebook file", path, FileNotFoundError)
    authors = checked_authors(authors or [])
    tools = missing_tools()
    if tools:
        raise RuntimeError(missing_tools_message(tools))
    notebook = execute(path, quick=quick) if run else nbformat.read(path, as_version=4)
    config = configure(Config())
    if authors:
        config.TitleAndAuthors.authors = authors
    exporter = WorkbookPDFExporter(config=config)
    pdf, resources = exporter.from_notebook_node(
        notebook, resources={"metadata": {"name": path.stem, "path": str(path.parent.resolve())}})
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / output_name(path, authors or notebook_authors(notebook))
    target.write_bytes(pdf)
    return Export(target, resources["latex_log"])
