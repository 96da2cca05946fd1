"""Your implementations drive the rest of the notebook: exercise cells replace helpers' reference code.

A teaching-copy cell starts with ``# sync: helpers.module.name, ...``. After such a cell runs without
error, `on_cell_run` compares its text with the source of those names in `helpers`. Equal text (the
solution notebooks, unchanged cells) binds the notebook's names to helpers' own objects (one identity
for isinstance, pickling and `framework.load`). Different text (the student edition, whose
`helpers` carries stubs, or a student's own edit) installs the objects the cell defined in place of
helpers' ones, in every `helpers` module that refers to them, so every later cell and every helpers
function that calls them runs the notebook's code.

In the student edition, `course.json` beside the notebook says how earlier assignments' exercises
are provided (`earlier_exercises`): "reference" (the released reference code, unstubbed in
`helpers`) or "own" (the student's own notebooks of the earlier assignments, read from
``../<assignment>/<assignment>.ipynb``; their exercise cells are run and installed).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat

from helpers import sync, validate

SETTINGS_FILE = "course.json"
EARLIER_CHOICES = ("reference", "own")

installed: dict[str, object] = {}   # dotted name -> the object that replaced helpers' one
_loading_earlier = False             # True while `link_exercises` runs the student's earlier notebooks


def install(dotted: str, new) -> None:
    """Replace the helpers object `dotted` (``helpers.module.name``) by `new` in every helpers module."""
    old = sync.resolve(dotted)
    if new is old:
        return
    if isinstance(new, type) or callable(new):
        try:
            new.__module__ = old.__module__   # pickling and `framework.load` look it up by this name
        except (AttributeError, TypeError):
            pass
    from IPython import get_ipython
    shell = get_ipython()
    namespaces = [vars(m) for name, m in list(sys.modules.items()) if name == "helpers" or name.startswith("helpers.")]
    for namespace in namespaces + ([shell.user_ns] if shell is not None else []):   # and the notebook's names
        for attribute, value in list(namespace.items()):
            if value is old:
                namespace[attribute] = new
            elif isinstance(value, type) and isinstance(old, type) and old in value.__bases__:
                # a helpers subclass (FastLSTM of LSTM) inherits from the new class from now on
                value.__bases__ = tuple(new if base is old else base for base in value.__bases__)
    installed[dotted] = new


def install_cell(source: str, namespace: dict) -> list[str]:
    """Install the objects a `# sync:` cell defined, when its text differs from helpers; return their names."""
    names = sync.marked_names(source)
    if not names:
        return []
    if source.rstrip() == sync.expected_source(names):
        for dotted in names:   # the same code: keep helpers' objects (one identity for isinstance, pickle, load)
            namespace[dotted.rpartition(".")[2]] = sync.resolve(dotted)
        return []
    for dotted in names:
        short = dotted.rpartition(".")[2]
        if short not in namespace:
            raise NameError(f"the cell marked '# sync: {', '.join(names)}' did not define {short!r}")
        install(dotted, namespace[short])
    return names


def on_cell_run(result) -> None:
    """IPython `post_run_cell` hook: install what a successful teaching-copy cell defined."""
    if result.success and result.info.raw_cell.startswith(sync.MARKER):
        from IPython import get_ipython
        install_cell(result.info.raw_cell, get_ipython().user_ns)


def settings(folder: Path) -> dict:
    """The student edition's `course.json` in `folder` ({} in the solution workbook)."""
    path = Path(folder) / SETTINGS_FILE
    if not path.exists():
        return {}
    values = json.loads(path.read_text())
    validate.choice("earlier_exercises", values.get("earlier_exercises", "reference"), EARLIER_CHOICES)
    return values


def run_own_notebook(path: Path) -> list[str]:
    """Run the import cell and the exercise cells of a student's earlier notebook; install them."""
    from IPython import get_ipython
    shell = get_ipython()
    notebook = nbformat.read(path, as_version=4)
    code = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    namespace: dict = {}
    exec(shell.transform_cell(code[0]), namespace)   # the notebook's import cell
    names = []
    for source in code:
        if sync.marked_names(source):
            exec(shell.transform_cell(source), namespace)
            names += install_cell(source, namespace)
    return names


def link_exercises(folder: Path | None = None) -> None:
    """Called by each notebook's import cell: register the hook; in "own" mode load earlier notebooks."""
    from IPython import get_ipython
    shell = get_ipython()
    if shell is None:
        return
    if on_cell_run not in shell.events.callbacks["post_run_cell"]:
        shell.events.register("post_run_cell", on_cell_run)
    options = settings(Path.cwd() if folder is None else folder)
    if options.get("earlier_exercises") == "own" and not _loading_earlier:
        _load_earlier(options.get("earlier", []))


def _load_earlier(assignments: list[str]) -> None:
    """Run and install the student's earlier notebooks (their import cells call `link_exercises` again:
    that call must not load them once more)."""
    global _loading_earlier
    _loading_earlier = True
    try:
        for assignment in assignments:
            path = Path.cwd().parent / assignment / f"{assignment}.ipynb"
            if not path.exists():
                raise FileNotFoundError(f"course.json asks for your own earlier exercises: expected your "
                                        f"notebook of {assignment} at {path}")
            names = run_own_notebook(path)
            print(f"{assignment}: your implementations of {', '.join(n.rpartition('.')[2] for n in names)}")
    finally:
        _loading_earlier = False
