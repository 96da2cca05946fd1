"""PDF export end to end: the fixture notebook and every workbook notebook, run in quick mode and
exported with XeLaTeX; the extracted text is checked for lost glyphs, widget reprs and progress bars."""
from __future__ import annotations

import os
import re
import shutil
import subprocess

import nbformat
import pytest

from conftest import ROOT, notebook_params
from helpers.export import pdf
from pdf_checks import leaked_lines, pdf_text
from system_tools import require

FIXTURE = ROOT / "tests" / "fixtures" / "export_fixture.ipynb"
AUTHORS = ["Ada Lovelace", "Jörg Müller"]
SYMBOLS = "σ⊙∂✓≤→‖δ∑"


@pytest.fixture(scope="module", autouse=True)
def tools():
    missing = pdf.missing_tools() + [t for t in ("pdftotext", "pdfimages") if not shutil.which(t)]
    require("PDF export tests", missing,
            f"sudo apt-get install {pdf.DEBIAN_PACKAGES} poppler-utils")


def markdown_text_symbols(notebook) -> set[str]:
    """The symbols of SYMBOLS that the markdown uses in running text (math excluded: the math font
    renders σ as the math italic 𝜎, which text extraction reports as a different character)."""
    text = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    text = re.sub(r"\$\$.*?\$\$|\$[^$]*\$", " ", text, flags=re.DOTALL)
    return {symbol for symbol in SYMBOLS if symbol in text}


def first_heading(notebook) -> str:
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^#\s+(.+?)\s*$", cell.source, re.MULTILINE)
            if match:
                return match[1]
    return ""


def assert_printable(result, text: str, notebook) -> None:
    assert result.missing_characters == [], f"XeLaTeX lost glyphs: {result.missing_characters}"
    assert "Missing character" not in result.latex_log
    leaks = leaked_lines(text, notebook)
    assert not leaks, f"widget reprs or progress bars in the PDF: {leaks}"


@pytest.fixture(scope="module")
def fixture_export(tmp_path_factory):
    return pdf.export_pdf(FIXTURE, tmp_path_factory.mktemp("pdf"), authors=AUTHORS, run=True, quick=True)


def test_fixture_pdf_is_named_after_the_authors(fixture_export):
    assert fixture_export.pdf.name == "Lovelace_Muller-export_fixture.pdf"
    assert fixture_export.pdf.read_bytes().startswith(b"%PDF")


def test_fixture_pdf_keeps_every_symbol_and_leaks_nothing(fixture_export):
    text = pdf_text(fixture_export.pdf)
    notebook = nbformat.read(FIXTURE, as_version=4)
    assert_printable(fixture_export, text, notebook)
    assert markdown_text_symbols(notebook) == set(SYMBOLS)  # the fixture uses them all in text
    assert set(SYMBOLS) <= set(text), f"missing: {set(SYMBOLS) - set(text)}"
    assert "∂L/∂h₀" in text and "✓" in text  # printed output and code keep their symbols too


def test_fixture_pdf_has_title_authors_and_the_static_figure_only(fixture_export):
    text = pdf_text(fixture_export.pdf)
    head = " ".join(text[:400].split())
    assert head.startswith("Export fixture: symbols σ ⊙ ∂, a figure and a widget panel")
    assert "Ada Lovelace" in head and "Jörg Müller" in head
    assert len(re.findall(r"mean \|y\| = \d", text)) == 1, "only the static cell prints a result"
    info = subprocess.run(["pdfinfo", str(fixture_export.pdf)], capture_output=True, text=True).stdout
    assert re.search(r"^Author:\s+Ada Lovelace, Jörg Müller$", info, re.MULTILINE)


def test_fixture_figure_is_vector_and_long_lines_wrap(fixture_export, tmp_path):
    images = subprocess.run(["pdfimages", "-list", str(fixture_export.pdf)], check=True,
                            capture_output=True, text=True).stdout.splitlines()[2:]
    assert images == [], f"raster images in the PDF (the figure should be vector PDF): {images}"
    fonts = subprocess.run(["pdffonts", str(fixture_export.pdf)], check=True,
                           capture_output=True, text=True).stdout
    assert "DejaVuSans" in fonts and "DejaVuSansMono" in fonts
    text = pdf_text(fixture_export.pdf)
    assert "↪" in text, "the long code line should wrap with a continuation mark"
    assert "margin\"}" in text


@pytest.mark.parametrize("path", notebook_params())
def test_notebook_exports_to_a_clean_pdf(path, tmp_path, quick_run):
    executed = tmp_path / path.name  # the quick-mode run the execution test made, exported as saved
    nbformat.write(quick_run(path), executed)
    result = pdf.export_pdf(executed, tmp_path / "pdf")
    text = pdf_text(result.pdf)
    notebook = nbformat.read(path, as_version=4)
    assert_printable(result, text, notebook)
    expected = markdown_text_symbols(notebook)
    assert expected <= set(text), f"{path.name}: symbols lost: {expected - set(text)}"
    title = re.sub(r"[`*_$\\]", "", first_heading(notebook))
    assert title and " ".join(title.split()[:3]) in " ".join(text[:600].split())


def test_make_pdf_stops_with_one_message_without_xelatex(tmp_path):
    """`make pdf` on a machine without XeLaTeX: one line naming the packages, nothing built."""
    require("`make pdf` message test", [] if shutil.which("make") else ["make"],
            "sudo apt-get install make")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "sh", "grep", "tr"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    done = subprocess.run([shutil.which("make"), "--no-print-directory", "pdf", "NOTEBOOK=x.ipynb"],
                          capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PATH": str(bin_dir)})
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert done.returncode != 0
    assert len(lines) == 1 and "xelatex" in lines[0], lines
    assert "apt-get install texlive-xetex" in lines[0]


def test_saved_widget_and_progress_outputs_never_reach_the_pdf(tmp_path):
    """`make pdf NOTEBOOK=...` exports a notebook as saved from Lab: widget views, widget reprs and
    a stale text progress bar are in its outputs, and none of them may reach the PDF."""
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    notebook = new_notebook(cells=[
        new_markdown_cell("# Saved from Lab\n\nText after the title."),
        new_code_cell("train()", outputs=[
            new_output("stream", name="stderr",
                       text="\r  0%|          | 0/50 [00:00<?, ?it/s]\r 40%|████      | 20/50 [00:01<00:01, 19.2it/s]"),
            new_output("stream", name="stdout", text="final loss 0.125\n")]),
        new_code_cell("panel", metadata={"tags": ["widget"]}, outputs=[new_output(
            "display_data", data={"application/vnd.jupyter.widget-view+json": {"model_id": "m"},
                                  "text/plain": "VBox(children=(IntSlider(value=3),))"})]),
        new_code_cell("slider", outputs=[new_output(
            "execute_result", execution_count=3,
            data={"text/plain": "IntSlider(value=3, description='steps')"})]),
    ])
    path = tmp_path / "saved.ipynb"
    nbformat.write(notebook, path)
    result = pdf.export_pdf(path, tmp_path / "out")
    text = pdf_text(result.pdf)
    assert "final loss 0.125" in text and "Saved from Lab" in text
    assert leaked_lines(text, notebook) == []
    assert "0%|" not in text and "VBox" not in text and "IntSlider" not in text.replace("slider", "")


def test_a_glyph_the_fonts_lack_is_reported(tmp_path):
    """The log check is real: a character DejaVu does not have (a CJK ideograph) is reported."""
    from nbformat.v4 import new_markdown_cell, new_notebook

    path = tmp_path / "cjk.ipynb"
    nbformat.write(new_notebook(cells=[new_markdown_cell("# Glyphs\n\nσ is here, 漢 is not.")]), path)
    result = pdf.export_pdf(path, tmp_path)
    assert result.missing_characters and "漢" in result.missing_characters[0]
