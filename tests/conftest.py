"""Shared fixtures: the repository root, the workbook notebooks, and their quick-mode runs."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest

from helpers.run_notebooks import execute

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
CELL_TIMEOUT = 300  # seconds per cell; quick mode keeps a whole notebook around a minute


@pytest.fixture(autouse=True)
def no_retrain_start(monkeypatch):
    """Every test starts without WORKBOOK_RETRAIN_SINCE, and one that sets it (through
    `run_cache.retrain_since`) does not leak it into the next."""
    monkeypatch.delenv("WORKBOOK_RETRAIN_SINCE", raising=False)


def notebook_params():
    """The notebooks as pytest parameters, with their file names as ids."""
    return [pytest.param(path, id=path.stem) for path in NOTEBOOKS]


@pytest.fixture(scope="session")
def quick_run(tmp_path_factory):
    """`quick_run(path)`: the notebook executed in quick mode, once per test session.

    The execution and PDF tests share it, so each notebook runs once. Every kernel gets an empty
    run cache of its own, so no result cached by an earlier run (or a user's full run) can hide a
    failure. A failed execution is raised again for every test that asks for that notebook.
    """
    results = {}

    def run(path: Path):
        if path not in results:
            try:
                results[path] = execute(path, quick=True, cell_timeout=CELL_TIMEOUT,
                                        cache_dir=tmp_path_factory.mktemp(f"runs-{path.stem}"))
            except Exception as error:  # noqa: BLE001 (kept and re-raised for every test of `path`)
                results[path] = error
        if isinstance(results[path], Exception):
            raise results[path]
        return copy.deepcopy(results[path])

    return run
