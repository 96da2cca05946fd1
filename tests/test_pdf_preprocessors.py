"""The export's preprocessors, file names and log parsing (no TeX needed)."""
from __future__ import annotations

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from traitlets.config import Config

from helpers.export import pdf
from helpers.export.__main__ import main
from helpers.export.preprocessors import (DropInteractiveOutputs, HideLocalPaths, PreferPrintableImages,
                                          RejectControlCharacters, TitleAndAuthors, is_widget_repr,
                                          without_progress_bars)

TQDM_STDERR = ("\r  0%|          | 0/20 [00:00<?, ?it/s]"
               "\rsteps: 100%|██████████| 20/20 [00:00<00:00, 912.31it/s]\n")
WIDGET_VIEW = {"application/vnd.jupyter.widget-view+json": {"model_id": "abc", "version_major": 2,
                                                             "version_minor": 0},
               "text/plain": "VBox(children=(HTML(value='<h4>Sine wave</h4>'), IntSlider(value=2)))"}


def run(preprocessor, *cells):
    notebook, _ = preprocessor.preprocess(new_notebook(cells=list(cells)), {})
    return notebook


def test_cells_tagged_widget_lose_every_output():
    cell = new_code_cell("panel(...)", metadata={"tags": ["widget"]}, outputs=[
        new_output("stream", name="stdout", text="mean |y| = 0.64\n"),
        new_output("display_data", data={"image/png": "iVBOR"})])
    assert run(DropInteractiveOutputs(), cell).cells[0].outputs == []


def test_widget_views_and_widget_reprs_go_but_other_outputs_stay():
    cell = new_code_cell("x", outputs=[
        new_output("display_data", data=WIDGET_VIEW),
        new_output("execute_result", data={"text/plain": "IntSlider(value=3, description='steps')"},
                   execution_count=1),
        new_output("execute_result", data={"text/plain": "Output()"}, execution_count=1),
        new_output("execute_result", data={"text/plain": "array([1, 2, 3])"}, execution_count=1),
        new_output("stream", name="stdout", text="a VBox( in prose stays\n")])
    outputs = run(DropInteractiveOutputs(), cell).cells[0].outputs
    assert [o.get("data", {}).get("text/plain", o.get("text")) for o in outputs] == [
        "array([1, 2, 3])", "a VBox( in prose stays\n"]


def test_progress_bars_leave_the_stream_but_the_rest_of_it_stays():
    cell = new_code_cell("x", outputs=[
        new_output("stream", name="stderr", text=TQDM_STDERR),
        new_output("stream", name="stderr", text="warning: slow\n" + TQDM_STDERR + "done\n"),
        new_output("display_data", data={"text/plain": "  0%|          | 0/100 [00:00<?, ?it/s]"})])
    outputs = run(DropInteractiveOutputs(), cell).cells[0].outputs
    assert [o.text for o in outputs] == ["warning: slow\ndone\n"]


def test_without_progress_bars_keeps_what_a_terminal_would_show_last():
    assert without_progress_bars("loss 0.3\r 50%|█████     | 5/10 [00:01<00:01, 4.1it/s]\n") == "loss 0.3\n"
    assert without_progress_bars("10%|x| means nothing here\n") == "10%|x| means nothing here\n"


@pytest.mark.parametrize("text, expected", [
    ("VBox(children=(Button(description='Run'),))", True),
    ("FloatSlider(value=0.1, max=1.0)", True),
    ("HBox()", True),
    ("Output()", True),
    ("Text", False),
    ("array([1.0])", False),
    ("{'steps': 20}", False),
])
def test_widget_repr_recognition(text, expected):
    assert is_widget_repr(text) is expected


def test_svg_is_dropped_beside_pdf_and_replaced_by_a_note_when_alone():
    cell = new_code_cell("x", outputs=[
        new_output("display_data", data={"image/svg+xml": "<svg/>", "application/pdf": "JVBER"}),
        new_output("display_data", data={"image/svg+xml": "<svg/>"})])
    first, second = run(PreferPrintableImages(), cell).cells[0].outputs
    assert set(first.data) == {"application/pdf"}
    assert set(second.data) == {"text/plain"} and "SVG figure left out" in second.data["text/plain"]


def test_first_heading_becomes_the_title_and_leaves_the_body():
    notebook = run(TitleAndAuthors(), new_markdown_cell("# 02 · Elman RNN: σ and ∂\n\nGoals: ..."),
                   new_markdown_cell("# Another heading"))
    assert notebook.metadata.title == "02 · Elman RNN: σ and ∂"
    assert notebook.cells[0].source == "Goals: ..."
    assert notebook.cells[1].source == "# Another heading"
    assert "authors" not in notebook.metadata


def test_metadata_title_wins_and_configured_authors_replace_metadata_authors():
    notebook = new_notebook(cells=[new_markdown_cell("# Heading")],
                            metadata={"title": "Given", "authors": [{"name": "Old Name"}]})
    notebook, _ = TitleAndAuthors(authors=["Ada Lovelace", "Alan Turing"]).preprocess(notebook, {})
    assert notebook.metadata.title == "Given"
    assert notebook.cells[0].source == "# Heading"
    assert notebook.metadata.authors == [{"name": "Ada Lovelace"}, {"name": "Alan Turing"}]


@pytest.mark.parametrize("authors, name", [
    ([], "02_elman_rnn.pdf"),
    (["Ada Lovelace"], "Lovelace-02_elman_rnn.pdf"),
    (["Ada Lovelace", "Jörg Müller"], "Lovelace_Muller-02_elman_rnn.pdf"),
    (["  "], "02_elman_rnn.pdf"),
])
def test_output_name_carries_the_surnames(authors, name, tmp_path):
    assert pdf.output_name(tmp_path / "02_elman_rnn.ipynb", authors) == name


def test_missing_characters_are_read_from_the_xelatex_log():
    log = ("Overfull \\hbox\nMissing character: There is no ✓ (U+2713) in font DejaVu Serif/OT:script=\nlatn;!\n"
           "Missing character: There is no σ in font [lmroman10-regular]:mapping=tex-text;!\n")
    assert pdf.missing_characters(log) == ["✓ (U+2713) in DejaVu Serif/OT:script=latn;",
                                           "σ in [lmroman10-regular]:mapping=tex-text;"]
    assert pdf.missing_characters("Output written on notebook.pdf (3 pages).") == []


def test_configure_points_latex_and_pdf_exports_at_the_workbook_template():
    config = pdf.configure(Config())
    assert config.LatexExporter.template_name == "workbook"
    assert (pdf.TEMPLATES / "workbook" / "index.tex.j2").is_file()
    assert config.LatexExporter.preprocessors == pdf.PREPROCESSORS
    assert config.PDFExporter.latex_command[0] == "xelatex"


def test_lab_server_config_uses_the_same_configure():
    from conftest import ROOT
    config = Config()
    for name in ("jupyter_server_config.py", "jupyter_nbconvert_config.py"):
        exec(compile((ROOT / "jupyter-config" / name).read_text(), name, "exec"), {"c": config})
    assert config == pdf.configure(Config())


def test_cli_stops_with_one_message_when_xelatex_is_missing(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(pdf.shutil, "which", lambda tool: None if tool == "xelatex" else "/usr/bin/" + tool)
    notebook = tmp_path / "n.ipynb"
    nbformat.write(new_notebook(), notebook)
    assert main([str(notebook), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "xelatex" in err[0] and "apt-get install texlive-xetex" in err[0]
    assert not list(tmp_path.glob("*.pdf"))


def test_export_rejects_a_missing_notebook(tmp_path):
    with pytest.raises(FileNotFoundError, match="path"):
        pdf.export_pdf(tmp_path / "missing.ipynb", tmp_path)


def test_the_leak_check_finds_widget_reprs_and_bars_but_not_code():
    from pdf_checks import leaked_lines

    notebook = new_notebook(cells=[new_code_cell('s = widgets.IntSlider(value=2, min=1)')])
    text = ("[1]: s = widgets.IntSlider(value=2, min=1)\n"
            "     VBox(children=(IntSlider(value=2),))\n"
            "steps: 40%|████      | 4/10 [00:01<00:01, 3.2it/s]\n"
            "‖δ‖ ≤ 1 ✓\n")
    assert leaked_lines(text, notebook) == ["     VBox(children=(IntSlider(value=2),))",
                                            "steps: 40%|████      | 4/10 [00:01<00:01, 3.2it/s]"]


def test_a_control_character_in_markdown_is_named_with_its_cell():
    cells = [new_markdown_cell("fine: $\\frac{a}{b}$"), new_markdown_cell("broken: $\frac{a}{b}$")]
    with pytest.raises(ValueError, match=r"markdown cell 1: control character U\+000C"):
        run(RejectControlCharacters(), *cells)
    assert run(RejectControlCharacters(), cells[0]).cells[0].source == "fine: $\\frac{a}{b}$"


# --- control characters and local paths (issue 14) -------------------------------------------------

@pytest.mark.parametrize("character", ["\x07", "\x08", "\x1b", "\x7f", "\x85", "\x9f"])
def test_control_characters_in_markdown_or_code_are_named_with_their_cell(character):
    with pytest.raises(ValueError, match=rf"^code cell 1: control character U\+{ord(character):04X} near "):
        run(RejectControlCharacters(), new_markdown_cell("fine"), new_code_cell(f"x = 1  # {character}"))
    with pytest.raises(ValueError, match=rf"^markdown cell 0: control character U\+{ord(character):04X}"):
        run(RejectControlCharacters(), new_markdown_cell(f"text {character}"))


def test_control_characters_in_outputs_are_shown_as_escapes_and_ansi_colours_stay():
    cell = new_code_cell("print(...)", outputs=[
        new_output("stream", name="stdout", text="bell\x07 back\x08 nel\x85 tab\t cr\r end\n"),
        new_output("execute_result", data={"text/plain": "'a'\x07", "image/png": "iVBOR"}, execution_count=1),
        new_output("error", ename="Value\x07Error", evalue="bad\x00", traceback=["\x1b[0;31mE\x1b[0m: bad\x0b"])])
    outputs = run(RejectControlCharacters(), cell).cells[0].outputs
    assert outputs[0].text == "bell\\x07 back\\x08 nel\\x85 tab\t cr\r end\n"
    assert outputs[1].data == {"text/plain": "'a'\\x07", "image/png": "iVBOR"}
    assert (outputs[2].ename, outputs[2].evalue) == ("Value\\x07Error", "bad\\x00")
    assert outputs[2].traceback == ["\x1b[0;31mE\x1b[0m: bad\\x0b"]


@pytest.mark.parametrize("metadata, where", [
    ({"title": "Elman\x07 RNN"}, "notebook metadata title"),
    ({"authors": [{"name": "Ada"}, {"name": "Alan\x85 Turing"}]}, r"notebook metadata authors\[1\]"),
])
def test_control_characters_in_the_title_or_authors_are_named(metadata, where):
    notebook = new_notebook(cells=[new_markdown_cell("text")], metadata=metadata)
    with pytest.raises(ValueError, match=rf"^{where}: control character U\+00(07|85)"):
        RejectControlCharacters().preprocess(notebook, {})


def test_export_and_cli_reject_an_author_with_a_control_character_in_one_line(tmp_path, capsys):
    notebook = tmp_path / "n.ipynb"
    nbformat.write(new_notebook(cells=[new_markdown_cell("# T")]), notebook)
    with pytest.raises(ValueError, match=r"^authors\[0\]: control character U\+0007 near 'Ada\\x07 L'$"):
        pdf.export_pdf(notebook, tmp_path, authors=["Ada\x07 L"])
    assert main([str(notebook), "--out", str(tmp_path), "--author", "Ada\x07 L"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: --author[0]: control character U+0007 near 'Ada\\x07 L'"]
    assert not list(tmp_path.glob("*.pdf"))


def test_the_export_checks_title_and_authors_after_they_are_set():
    order = pdf.PREPROCESSORS
    assert order.index("helpers.export.preprocessors.TitleAndAuthors") < \
        order.index("helpers.export.preprocessors.RejectControlCharacters")
    assert "helpers.export.preprocessors.HideLocalPaths" in order


def test_outputs_show_repository_paths_relative_and_the_home_folder_as_tilde():
    cell = new_code_cell("print(cache)", outputs=[
        new_output("stream", name="stdout",
                   text="reused 3 runs from the run cache (/home/ada/rnn/.cache/runs)\nrepo /home/ada/rnn\n"),
        new_output("display_data", data={"text/plain": "/home/ada/notes.txt and /home/adam/x"})])
    hide = HideLocalPaths(repository="/home/ada/rnn", home="/home/ada")
    outputs = run(hide, cell).cells[0].outputs
    assert outputs[0].text == "reused 3 runs from the run cache (.cache/runs)\nrepo .\n"
    assert outputs[1].data["text/plain"] == "~/notes.txt and /home/adam/x"
    assert HideLocalPaths(repository="/", home="/").hidden("/etc/x") == "/etc/x"
