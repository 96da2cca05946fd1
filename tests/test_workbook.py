"""Quick mode switch and figure folders: quick mode never writes into figures/."""
from __future__ import annotations

from pathlib import Path

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


@pytest.mark.parametrize("value, long", [("1", True), ("yes", True), ("0", False), ("", False), (None, False)])
def test_long_sweep_reads_the_environment(monkeypatch, value, long):
    if value is None:
        monkeypatch.delenv("WORKBOOK_LONG_SWEEP", raising=False)
    else:
        monkeypatch.setenv("WORKBOOK_LONG_SWEEP", value)
    assert workbook.long_sweep() is long


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


def test_quick_figures_go_to_a_folder_private_to_this_run(tmp_path):
    import subprocess
    import sys
    import tempfile

    folder = workbook.figure_dir(quick=True)
    assert folder == workbook.figure_dir(quick=True)  # one folder for the whole run
    assert folder.name.startswith("rnn-workbook-quick-figures-") and folder.parent == Path(tempfile.gettempdir())
    assert folder.stat().st_mode & 0o077 == 0  # not readable or writable by other users
    script = "from helpers import workbook; print(workbook.figure_dir(quick=True))"
    other = Path(subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                                cwd=workbook.REPO_ROOT).stdout.strip())
    assert other != folder and other.name.startswith("rnn-workbook-quick-figures-")
    assert not other.exists()  # removed when that run ended


@pytest.mark.parametrize("name, error", [("../escape.png", ValueError), ("/tmp/x.png", ValueError),
                                         ("", ValueError), ("..", ValueError), (3, TypeError)])
def test_save_figure_takes_a_plain_file_name(name, error):
    fig, _ = plt.subplots()
    with pytest.raises(error, match="^name: expected "):
        workbook.save_figure(fig, name, quick=True)
    plt.close(fig)


def test_save_figure_needs_a_figure():
    with pytest.raises(TypeError, match="^fig: expected a matplotlib figure, got "):
        workbook.save_figure("fig", "x.png", quick=True)
