"""What a workbook PDF must not show, checked on the text that pdftotext extracts."""
from __future__ import annotations

import re
import subprocess

# What a PDF shows when a widget or a progress bar slips through.
LEAKS = re.compile(r"(?:\b(?:VBox|HBox|IntSlider|FloatSlider|Dropdown|Button|Output|Layout)\("
                   r"|children=|\d+%\|.*\||\bit/s\])")


def pdf_text(path) -> str:
    """The PDF's text, laid out as on the page (poppler's pdftotext)."""
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout


def squeeze(text: str) -> str:
    """Text without whitespace and the PDF's line-wrap marks, to compare code with extracted text."""
    return re.sub(r"[\s␣↪]+", "", text)


def leaked_lines(text: str, notebook) -> list[str]:
    """Lines of `text` that look like widget reprs or progress bars and are not the notebook's code
    (a code cell may well say `IntSlider(value=2, ...)`; its `[1]:` prompt does not count)."""
    code = squeeze("\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code"))
    return [line for line in text.splitlines()
            if LEAKS.search(line) and squeeze(re.sub(r"^\s*\[\d*\]:", "", line)) not in code]
