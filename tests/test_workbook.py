"""Quick mode switch and figure folders: quick mode never writes into figures/."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from helpers import workbook  # noqa: E402


@pytest.mark.parametrize("value, quick", [("1", True), ("true", True), ("YES", True),
                                          ("0", False), ("", False), ("no", False)])
def test_quick_mode_reads_the_environment(monkeypatch, value, quick):
    monkeypatch.setenv("WORKBOOK_QUICK", value)
    assert workbook.quick_mode() is quick


def test_quick_mode_is_off_without_the_variable(monkeypatch):
    monkeypatch.delenv("WORKBOOK_QUICK", raising=False)
    assert workbook.quick_mode() is False


def test_quick_figures_go_to_a_temporary_folder_not_figures(monkeypatch):
    monkeypatch.setenv("WORKBOOK_QUICK", "1")
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    path = workbook.save_figure(fig, "test_quick_only.png")
    plt.close(fig)
    assert path.exists() and path.stat().st_size > 0
    assert workbook.FIGURES not in path.parents
    assert not (workbook.FIGURES / "test_quick_only.png").exists()


def test_full_mode_writes_into_figures(monkeypatch):
    monkeypatch.setenv("WORKBOOK_QUICK", "0")
    assert workbook.figure_dir() == workbook.FIGURES
