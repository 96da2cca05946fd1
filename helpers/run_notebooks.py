"""Execute notebooks top to bottom, unattended (used by the tests, `make figures` and `make pdf`).

    python -m helpers.run_notebooks [--quick] [--out DIR] notebooks/01_activations.ipynb ...
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from helpers import run_cache

KERNEL = "rnn-workbook"


@contextmanager
def workbook_environment(quick: bool, cache_dir: Path | None = None):
    """Set WORKBOOK_QUICK, TQDM_DISABLE (and WORKBOOK_CACHE_DIR when given) for kernels started
    inside the block, then restore the environment."""
    wanted = {"WORKBOOK_QUICK": "1" if quick else "0", "TQDM_DISABLE": "1"}
    if cache_dir is not None:
        wanted["WORKBOOK_CACHE_DIR"] = str(cache_dir)
    saved = {key: os.environ.get(key) for key in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def execute(path: Path, quick: bool, cell_timeout: int | None = None,
            cache_dir: Path | None = None) -> nbformat.NotebookNode:
    """Run the notebook at `path` in its own folder and return it with outputs.

    `cell_timeout` limits each cell in seconds (None: no limit, for full-mode sweeps on a cold
    cache). `cache_dir` gives the kernel its own run cache (WORKBOOK_CACHE_DIR). Raises
    `nbclient.exceptions.CellExecutionError` naming the failing cell.
    """
    path = Path(path)
    notebook = nbformat.read(path, as_version=4)
    kernel = notebook.metadata.get("kernelspec", {}).get("name", KERNEL)
    with workbook_environment(quick, cache_dir):
        NotebookClient(notebook, timeout=cell_timeout, kernel_name=kernel,
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    return notebook


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--quick", action="store_true", help="quick mode (WORKBOOK_QUICK=1)")
    parser.add_argument("--out", type=Path, help="folder for the executed copies")
    parser.add_argument("--timeout", type=int, default=None, help="seconds per cell (default: no limit)")
    args = parser.parse_args(argv)
    run_cache.retrain_since()   # with WORKBOOK_RETRAIN: one start for every kernel (a run trains once)
    for path in args.notebooks:
        start = time.perf_counter()
        notebook = execute(path, quick=args.quick, cell_timeout=args.timeout)
        print(f"{path}: ran in {time.perf_counter() - start:.0f} s ({'quick' if args.quick else 'full'} mode)")
        if args.out:
            args.out.mkdir(parents=True, exist_ok=True)
            nbformat.write(notebook, args.out / path.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
