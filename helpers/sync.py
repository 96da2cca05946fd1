"""Keep the teaching copies in the notebooks identical to their canonical source in `helpers`.

A code cell whose first line is ``# sync: helpers.module.name[, helpers.module.other]`` must contain,
below that line, exactly the source of the named objects (joined by two blank lines).

    python -m helpers.sync --check notebooks/*.ipynb   # list cells that drifted (exit 1)
    python -m helpers.sync notebooks/*.ipynb           # rewrite them from helpers (`make sync`)
"""
from __future__ import annotations

import argparse
import importlib
import inspect
import sys
from pathlib import Path

import nbformat

from helpers import validate

MARKER = "# sync:"


def marked_names(cell_source: str) -> list[str]:
    """The dotted names on a cell's `# sync:` line, or [] when the cell carries no marker."""
    first = validate.text("cell_source", cell_source).split("\n", 1)[0].strip()
    if not first.startswith(MARKER):
        return []
    return [name.strip() for name in first[len(MARKER):].split(",") if name.strip()]


def resolve(dotted: str):
    """Import `helpers.module.obj` and return the object; ValueError when it does not exist."""
    module_name, _, attribute = validate.text("dotted", dotted).rpartition(".")
    if not module_name.startswith("helpers"):
        raise ValueError(f"sync marker: expected a name inside helpers, got {dotted!r}")
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as error:
        raise ValueError(f"sync marker: cannot find {dotted!r} ({error})") from error


def expected_source(names: list[str]) -> str:
    """The cell text a marker line with `names` must carry: marker plus the objects' sources."""
    bodies = [inspect.getsource(resolve(name)).rstrip() for name in names]
    return f"{MARKER} {', '.join(names)}\n" + "\n\n\n".join(bodies)


def drifted_cells(path: Path) -> list[tuple[int, list[str]]]:
    """(cell index, names) of every marked cell in the notebook at `path` that differs from helpers."""
    notebook = nbformat.read(path, as_version=4)
    drifted = []
    for index, cell in enumerate(notebook.cells):
        names = marked_names(cell.source) if cell.cell_type == "code" else []
        if names and cell.source.rstrip() != expected_source(names):
            drifted.append((index, names))
    return drifted


def marked_cells(path: Path) -> list[tuple[int, list[str]]]:
    """(cell index, names) of every marked cell in the notebook at `path`."""
    notebook = nbformat.read(path, as_version=4)
    return [(i, marked_names(c.source)) for i, c in enumerate(notebook.cells)
            if c.cell_type == "code" and marked_names(c.source)]


def sync_notebook(path: Path) -> int:
    """Rewrite every marked cell of the notebook at `path` from helpers; return how many changed."""
    notebook = nbformat.read(path, as_version=4)
    changed = 0
    for cell in notebook.cells:
        names = marked_names(cell.source) if cell.cell_type == "code" else []
        if names and cell.source.rstrip() != expected_source(names):
            cell.source = expected_source(names)
            changed += 1
    if changed:
        nbformat.write(notebook, path)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--check", action="store_true", help="report drift, change nothing")
    args = parser.parse_args(argv)
    status = 0
    for path in args.notebooks:
        if args.check:
            for index, names in drifted_cells(path):
                print(f"{path}: cell {index} ({', '.join(names)}) differs from helpers")
                status = 1
        else:
            changed = sync_notebook(path)
            print(f"{path}: {changed} cell(s) rewritten from helpers")
    return status


if __name__ == "__main__":
    sys.exit(main())
