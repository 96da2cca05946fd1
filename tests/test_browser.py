"""The workbook in a real JupyterLab, driven through Debian's Chromium with playwright.

One Lab server for the session (127.0.0.1, a free port, a token, quick mode, the project's
`jupyter-config/`), serving copies of the notebooks so that saving never touches the repository.
For every notebook: open it (no "Select Kernel" dialog, no news prompt), Run All, wait for the
kernel, no error output; in every widget panel change a control, press Run, see the output change.
The student edition of one assignment (nbgrader release, its stubbed `helpers` beside it) runs too:
no nbgrader interface, and the stubs' errors appear exactly where a headless run puts them.
Screenshots go to test-artifacts/browser/.
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import nbformat
import pytest

from conftest import NOTEBOOKS, ROOT
from helpers.course import bundle
from helpers.export.pdf import DEBIAN_PACKAGES, missing_tools
from helpers.run_notebooks import KERNEL, workbook_environment
from pdf_checks import leaked_lines, pdf_text
from system_tools import require

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-dev-shm-usage", "--disable-component-update", "--no-first-run"]
FIXTURE = ROOT / "tests" / "fixtures" / "export_fixture.ipynb"
ARTIFACTS = ROOT / "test-artifacts" / "browser"
NEWS_PLUGIN = "@jupyterlab/apputils-extension:announcements"
RUN_TIMEOUT_MS = 300_000  # one notebook, Run All, quick mode
SERVER_START_TIMEOUT = 90  # seconds
STUDENT_ASSIGNMENT = "01_activations"  # the student edition run in the browser (the quickest)
STUDENT_NOTEBOOK = f"student/{STUDENT_ASSIGNMENT}/{STUDENT_ASSIGNMENT}.ipynb"


def browser_params():
    """The fixture notebook and every workbook notebook, as paths relative to the Lab root."""
    return [pytest.param(f"fixtures/{FIXTURE.name}", id=FIXTURE.stem)] + [
        pytest.param(f"notebooks/{path.name}", id=path.stem) for path in NOTEBOOKS]


def release_student_edition(course: Path, assignment: str) -> Path:
    """`make student` for one assignment (default setting): its nbgrader release folder."""
    bundle.write_config(course)
    bundle.write_source(course, assignment, bundle.assignments(), bundle.helpers_regions(), "reference")
    done = bundle.nbgrader(course, "generate_assignment", assignment, "--force")
    assert done.returncode == 0, f"nbgrader generate_assignment {assignment}:\n{done.stdout}{done.stderr}"
    return course / "release" / assignment


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Lab:
    """A running `jupyter lab`: its URL, token and the folder it serves."""

    def __init__(self, url: str, token: str, root: Path):
        self.url, self.token, self.root = url, token, root

    def request(self, path: str, method: str = "GET", timeout: float = 120) -> tuple[int, str, bytes]:
        request = urllib.request.Request(f"{self.url}/{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()

    def shut_down_kernels(self) -> None:
        for kernel in json.loads(self.request("api/kernels")[2]):
            self.request(f"api/kernels/{kernel['id']}", method="DELETE")


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    missing = [str(CHROMIUM)] if not CHROMIUM.exists() else []
    if importlib.util.find_spec("playwright") is None:
        missing.append("the Python package playwright")
    require("Browser tests", missing,
            "sudo apt-get install chromium; pip install playwright (no browser download needed)")
    root = tmp_path_factory.mktemp("lab")
    (root / "fixtures").mkdir()
    shutil.copy(FIXTURE, root / "fixtures")
    (root / "notebooks").mkdir()
    for path in NOTEBOOKS:
        shutil.copy(path, root / "notebooks")
    (root / "figures").symlink_to(ROOT / "figures")  # markdown may show ../figures/*.png
    release = release_student_edition(tmp_path_factory.mktemp("course"), STUDENT_ASSIGNMENT)
    shutil.copytree(release, root / "student" / STUDENT_ASSIGNMENT)
    port, token = free_port(), secrets.token_hex(16)
    env = {**os.environ,
           "JUPYTER_CONFIG_PATH": str(ROOT / "jupyter-config"),  # what `make lab` sets
           "WORKBOOK_QUICK": "1",  # kernels inherit it
           "JUPYTER_CONFIG_DIR": str(root / ".config"),  # not the developer's ~/.jupyter
           "JUPYTER_RUNTIME_DIR": str(root / ".runtime"),
           "JUPYTERLAB_SETTINGS_DIR": str(root / ".settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(root / ".workspaces")}
    env.pop("TQDM_DISABLE", None)  # progress bars as a student sees them
    log = (root / ".lab.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ip=127.0.0.1",
         f"--port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={root}", "--LabApp.extension_manager=readonly",
         "--LabApp.expose_app_in_browser=True"],  # lets the tests ask the app for the kernel state
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    server_lab = Lab(f"http://127.0.0.1:{port}", token, root)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            try:
                if server_lab.request("api/status", timeout=5)[0] == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("jupyter lab did not start:\n" + (root / ".lab.log").read_text())
            time.sleep(0.5)
        yield server_lab
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(root / ".lab.log", ARTIFACTS / "lab-server.log")


@pytest.fixture(scope="session")
def browser(lab):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(60_000)  # clicks and look-ups on a busy 2-core machine
    page = context.new_page()
    yield page
    context.close()


@contextmanager
def screenshot_on_failure(page, name: str):
    """Save a screenshot named `name` when the block raises."""
    try:
        yield
    except BaseException:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}-failure.png"))
        raise


# True once the current notebook's kernel is connected and idle (the toolbar's indicator already
# says "idle" before the kernel has connected, so it cannot tell).
KERNEL_IDLE = """() => {
    const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    const context = panel && panel.sessionContext;
    const kernel = context && context.session && context.session.kernel;
    return Boolean(kernel) && context.isReady && kernel.connectionStatus === 'connected'
        && kernel.status === 'idle';
}"""


# The error outputs of the open notebook (Lab renders them like stderr, so ask its model).
SHOWN_ERRORS = """() => {
    const errors = [];
    for (const cell of window.jupyterapp.shell.currentWidget.content.model.cells) {
        if (cell.type !== 'code') continue;
        for (let i = 0; i < cell.outputs.length; i++) {
            const output = cell.outputs.get(i).toJSON();
            if (output.output_type === 'error') errors.push(`${output.ename}: ${output.evalue}`);
        }
    }
    return errors;
}"""


# Per code cell (index among all cells) with an error output: "ename: evalue".
ERRORS_BY_CELL = """() => {
    const errors = {};
    const cells = window.jupyterapp.shell.currentWidget.content.model.cells;
    for (let index = 0; index < cells.length; index++) {
        const cell = cells.get(index);
        if (cell.type !== 'code') continue;
        for (let i = 0; i < cell.outputs.length; i++) {
            const output = cell.outputs.get(i).toJSON();
            if (output.output_type === 'error') errors[index] = `${output.ename}: ${output.evalue}`;
        }
    }
    return errors;
}"""


# Select cell `index` and run it and every cell below (Run → Run Selected Cell and All Below);
# resolves when the run has stopped (at the end or at the first error, as Lab's runs do).
RUN_FROM_CELL = """async (index) => {
    const notebook = window.jupyterapp.shell.currentWidget.content;
    notebook.activeCellIndex = index;
    notebook.mode = 'command';
    await window.jupyterapp.commands.execute('notebook:run-all-below');
}"""


def open_notebook(page, lab: Lab, relative: str) -> None:
    """Open `relative` alone in a fresh workspace named after it; wait for its kernel."""
    workspace = re.sub(r"\W", "-", relative)
    page.goto(f"{lab.url}/lab/workspaces/{workspace}/tree/{relative}?reset&token={lab.token}")
    page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for(timeout=60_000)
    page.wait_for_function(KERNEL_IDLE, timeout=60_000, polling=250)


def click_menu(page, menu: str, item: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{menu}$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$")).click()


def run_all_and_wait(page) -> None:
    """Run → Run All Cells, then wait until no cell is pending and the kernel is idle."""
    click_menu(page, "Run", "Run All Cells")
    page.wait_for_function(
        """(() => {
            const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
                .map(element => element.textContent);
            return prompts.length > 0 && /\\[\\d+\\]/.test(prompts[0])
                && !prompts.some(prompt => prompt.includes('*')) && (%s)();
        })""" % KERNEL_IDLE, timeout=RUN_TIMEOUT_MS, polling=500)


def change_control(panel) -> str:
    """Change one control of a widget panel through the page; return what changed."""
    slider = panel.locator(".widget-slider").first
    if slider.count():
        readout = slider.locator(".widget-readout")
        before = readout.inner_text()
        handle = slider.locator(".noUi-handle").first
        for key in ("ArrowRight", "ArrowLeft", "ArrowLeft"):
            handle.focus()
            handle.press(key)
            if readout.inner_text() != before:
                return f"slider {before} → {readout.inner_text()}"
        raise AssertionError(f"the slider did not move from {before}")
    select = panel.locator("select").first
    if select.count():
        options = select.locator("option").all_inner_texts()
        current = select.input_value()
        other = next(o for o in select.locator("option").evaluate_all("os => os.map(o => o.value)")
                     if o != current)
        select.select_option(other)
        return f"dropdown {current} → {other} of {options}"
    checkbox = panel.locator("input[type=checkbox]").first
    if checkbox.count():
        checkbox.click()
        return "checkbox toggled"
    number = panel.locator("input[type=number], input[type=text]").first
    if number.count():
        value = number.input_value()
        number.fill(str(float(value) + 1) if re.fullmatch(r"-?[\d.]+", value) else value + "x")
        number.press("Enter")
        return f"text {value} → {number.input_value()}"
    raise AssertionError("the panel has no control this test knows how to change")


def press_run(panel, before: str) -> str:
    """Press the panel's Run button; wait until it finished with an output other than `before`."""
    panel.locator(".workbook-run").click()
    output = panel.locator(".workbook-output")
    panel.page.wait_for_function(
        """([box, before]) => {
            const button = box.querySelector('.workbook-run');
            const html = box.querySelector('.workbook-output').innerHTML;
            const status = button.closest('.widget-hbox').innerText;
            return !button.disabled && html !== before && /done|failed/.test(status);
        }""", arg=[panel.element_handle(), before], timeout=RUN_TIMEOUT_MS, polling=250)
    status = panel.locator(".workbook-run").locator("xpath=..").inner_text()
    assert "failed" not in status, f"the panel's run failed:\n{output.inner_text()}"
    return output.inner_html()


def assert_no_dialogs(page) -> None:
    dialogs = page.locator(".jp-Dialog").all_inner_texts()
    assert not dialogs, f"dialogs on screen: {dialogs}"
    assert page.get_by_text(re.compile("Select Kernel", re.I)).count() == 0
    assert page.get_by_text(re.compile("Jupyter news", re.I)).count() == 0, "the news prompt appeared"


def saved_notebook(page, lab: Lab, relative: str) -> nbformat.NotebookNode:
    """Save through the File menu; return the notebook as written to disk."""
    path = lab.root / relative
    before = path.stat().st_mtime_ns
    click_menu(page, "File", "Save Notebook")
    deadline = time.monotonic() + 30
    while path.stat().st_mtime_ns == before:
        assert time.monotonic() < deadline, "the notebook was not saved"
        time.sleep(0.2)
    time.sleep(0.5)  # let the write finish
    return nbformat.read(path, as_version=4)


@contextmanager
def kernels_shut_down_afterwards(lab: Lab):
    try:
        yield
    finally:
        lab.shut_down_kernels()


RAN_IN_LAB: dict[str, nbformat.NotebookNode] = {}


def run_in_lab(page, lab: Lab, relative: str) -> nbformat.NotebookNode:
    """Open, check, Run All, drive every panel, save; return the saved notebook."""
    name = Path(relative).stem
    with screenshot_on_failure(page, name), kernels_shut_down_afterwards(lab):
        open_notebook(page, lab, relative)
        assert_no_dialogs(page)
        run_all_and_wait(page)
        shown = page.evaluate(SHOWN_ERRORS)
        assert not shown, f"cells show errors: {shown}"
        panels = page.locator(".workbook-panel")
        for index in range(panels.count()):
            panel = panels.nth(index)
            panel.scroll_into_view_if_needed()
            first = press_run(panel, panel.locator(".workbook-output").inner_html())
            changed = change_control(panel)
            second = press_run(panel, first)
            assert second != first, f"panel {index}: {changed}, but the output stayed the same"
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            panel.screenshot(path=str(ARTIFACTS / f"{name}-panel{index + 1}.png"))
        assert_no_dialogs(page)
        notebook = saved_notebook(page, lab, relative)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
    errors = [o for cell in notebook.cells for o in cell.get("outputs", []) if o.output_type == "error"]
    assert not errors, f"saved notebook has errors: {[e.ename + ': ' + e.evalue for e in errors]}"
    RAN_IN_LAB[relative] = notebook
    return notebook


def test_lab_page_config_switches_the_news_prompt_off(page, lab):
    page.goto(f"{lab.url}/lab?token={lab.token}")
    config = json.loads(page.locator("#jupyter-config-data").text_content())
    assert NEWS_PLUGIN in config["disabledExtensions"]


@pytest.mark.parametrize("relative", browser_params())
def test_notebook_runs_in_lab_and_its_panels_respond(page, lab, relative):
    notebook = run_in_lab(page, lab, relative)
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.execution_count for cell in code_cells), "some cells did not run"


def test_lab_exports_the_run_notebook_as_pdf(page, lab):
    missing = missing_tools() + ([] if shutil.which("pdftotext") else ["pdftotext"])
    require("PDF export from Lab", missing, f"sudo apt-get install {DEBIAN_PACKAGES} poppler-utils")
    relative = f"fixtures/{FIXTURE.name}"
    notebook = RAN_IN_LAB.get(relative) or run_in_lab(page, lab, relative)
    saved_mimes = {mime for cell in notebook.cells for output in cell.get("outputs", [])
                   for mime in output.get("data", {})}
    assert "application/vnd.jupyter.widget-view+json" in saved_mimes  # so the check below means something
    status, content_type, body = lab.request(f"nbconvert/pdf/{relative}?download=true", timeout=300)
    assert status == 200 and content_type.startswith("application/pdf") and body.startswith(b"%PDF")
    pdf_path = ARTIFACTS / "export_fixture-from-lab.pdf"
    pdf_path.write_bytes(body)
    text = pdf_text(pdf_path)
    assert " ".join(text[:300].split()).startswith("Export fixture: symbols σ ⊙ ∂")  # workbook template
    assert leaked_lines(text, notebook) == []
    assert len(re.findall(r"mean \|y\| = \d", text)) == 1, "only the static cell's result belongs"


def headless_errors(path: Path) -> dict[str, str]:
    """Cell index -> "ename: evalue" of every error when the notebook at `path` runs headless in its
    folder (quick mode, errors allowed), as nbgrader's autograder runs it."""
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    with workbook_environment(quick=True):
        NotebookClient(notebook, timeout=600, kernel_name=KERNEL, allow_errors=True,
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    return {str(index): f"{output.ename}: {output.evalue}" for index, cell in enumerate(notebook.cells)
            for output in cell.get("outputs", []) if output.output_type == "error"}


def test_student_edition_runs_in_lab_with_the_stub_errors_where_expected(page, lab):
    expected = headless_errors(lab.root / STUDENT_NOTEBOOK)
    notebook = nbformat.read(lab.root / STUDENT_NOTEBOOK, as_version=4)
    exercise_checks = {str(index) for index, cell in enumerate(notebook.cells)
                       if cell.metadata.get("nbgrader", {}).get("grade")
                       and not cell.metadata["nbgrader"].get("solution") and cell.cell_type == "code"}
    assert exercise_checks, "the student edition has no autograded check"
    with screenshot_on_failure(page, "student-edition"), kernels_shut_down_afterwards(lab):
        open_notebook(page, lab, STUDENT_NOTEBOOK)
        assert_no_dialogs(page)
        chrome = page.locator("#jp-top-panel, #jp-menu-panel, .jp-NotebookPanel-toolbar, .jp-SideBar")
        assert chrome.get_by_text(re.compile("nbgrader|Validate|Assignment|Formgrader|Courses", re.I)).count() == 0, \
            "nbgrader's interface shows in the student's Lab"
        run_all_and_wait(page)   # Lab stops a run at the first error: go on below it, as a student would
        shown: dict[str, str] = {}
        while True:
            new = {index: error for index, error in page.evaluate(ERRORS_BY_CELL).items() if index not in shown}
            if not new:
                break
            shown.update(new)
            after = max(int(index) for index in new) + 1
            if after >= len(notebook.cells):
                break
            page.evaluate(RUN_FROM_CELL, after)
            page.wait_for_function(KERNEL_IDLE, timeout=RUN_TIMEOUT_MS, polling=250)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "student-edition.png"))
    assert shown == expected, f"errors in Lab {shown} differ from the headless run {expected}"
    assert exercise_checks <= set(shown), f"checks that did not fail on the stubs: {exercise_checks - set(shown)}"
    wrong = {index: error for index, error in shown.items()
             if not error.startswith("NotImplementedError: implement")}
    assert not wrong, f"errors other than the stubs' NotImplementedError: {wrong}"
