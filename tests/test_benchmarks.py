"""`make bench` runs: every benchmark row is computed on a tiny budget (works, not timed)."""
from __future__ import annotations

import math
import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_lenet  # noqa: E402
import bench_palindrome  # noqa: E402
from steps import all_steps  # noqa: E402


def test_palindrome_run_rows_cover_every_model_and_baseline():
    rows = bench_palindrome.palindrome_rows(length=5, steps=2, rounds=1)
    names = {row["implementation"] for row in rows}
    assert names == {name for builders in bench_palindrome.BUILDERS.values() for name in builders}
    assert all(math.isfinite(row["ratio_to_baseline"]) and row["ratio_to_baseline"] > 0 for row in rows)


def test_every_step_row_runs_and_names_a_measured_reference():
    steps = all_steps(B=4, T=3, D=2, H=5)
    for name, (reference, step) in steps.items():
        assert reference in steps, f"{name}: its reference {reference!r} is not a row"
        step()


def test_lenet_rows_are_positive():
    rows = bench_lenet.lenet_rows(rounds=1, seconds=0.01)
    assert rows and all(value > 0 for value in rows.values())
