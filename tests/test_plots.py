"""helpers.plots: the plot functions draw labelled curves onto the axes they are given."""
from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from helpers import plots  # noqa: E402
from helpers.history import History  # noqa: E402


@pytest.fixture
def ax():
    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


def history(scale=1.0):
    steps = list(range(1, 11))
    return History(steps=steps, loss=[scale / s for s in steps], grad_norm=[10.0 / s for s in steps],
                   metrics={"accuracy": [(5, 0.5 * scale), (10, 0.9 * scale)]})


def test_new_figure_single_and_grid():
    fig, ax = plots.new_figure(xlabel="T", ylabel="accuracy", titles=["RNN"])
    assert ax.get_xlabel() == "T" and ax.get_ylabel() == "accuracy" and ax.get_title() == "RNN"
    assert tuple(fig.get_size_inches()) == (5.0, 3.6)
    plt.close(fig)
    fig, axes = plots.new_figure(3, 2, width=2.0, height=1.5)
    assert axes.shape == (6,) and tuple(fig.get_size_inches()) == (6.0, 3.0)
    plt.close(fig)


@pytest.mark.parametrize("kwargs, match", [
    ({"ncols": 0}, "ncols"), ({"width": -1.0}, "width"), ({"ncols": 2, "titles": ["one"]}, "titles"),
    ({"titles": "one"}, "titles")])
def test_new_figure_rejects_bad_input(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        plots.new_figure(**kwargs)


def test_plot_loss_log_axis_labels_and_data(ax):
    line = plots.plot_loss(ax, history(), label="rnn")
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "training step"
    assert ax.get_ylabel() == "training loss"
    np.testing.assert_array_equal(line.get_xdata(), np.arange(1, 11))
    np.testing.assert_allclose(line.get_ydata(), 1.0 / np.arange(1, 11))
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["rnn"]


def test_plot_loss_smoothing_and_non_finite_values(ax):
    run = history()
    run.loss[9] = math.nan  # a diverged last step is left out
    line = plots.plot_loss(ax, run, smooth=3)
    assert len(ax.lines) == 2  # faint raw curve + moving average
    np.testing.assert_array_equal(line.get_xdata(), np.arange(3, 10))
    expected = np.convolve(1.0 / np.arange(1, 10), np.ones(3) / 3, mode="valid")
    np.testing.assert_allclose(line.get_ydata(), expected)
    assert "mean of 3 steps" in ax.get_ylabel()
    with pytest.raises(ValueError, match="smooth"):
        plots.plot_loss(ax, run, smooth=0)


def test_plot_grad_norm_with_threshold(ax):
    line = plots.plot_grad_norm(ax, history(), clip_norm=5.0)
    assert ax.get_yscale() == "log" and "before clipping" in ax.get_ylabel()
    np.testing.assert_allclose(line.get_ydata(), 10.0 / np.arange(1, 11))
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["clip norm 5"]


def test_plot_metric_and_unknown_metric(ax):
    line = plots.plot_metric(ax, history(), "accuracy", ylabel="held-out accuracy")
    assert list(line.get_xdata()) == [5, 10] and list(line.get_ydata()) == [0.5, 0.9]
    assert ax.get_ylabel() == "held-out accuracy" and ax.get_xlabel() == "training step"
    with pytest.raises(ValueError, match="name"):
        plots.plot_metric(ax, history(), "recall")


def test_plot_runs_labels_every_run(ax):
    lines = plots.plot_runs(ax, {"RNN": history(), "LSTM": history(0.5)}, "accuracy")
    assert len(lines) == 2 and list(lines[1].get_ydata()) == [0.25, 0.45]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["RNN", "LSTM"]
    fig, other = plt.subplots()
    plots.plot_runs(other, {"sgd": history(), "adam": history(0.1)})
    assert other.get_yscale() == "log" and len(other.get_legend().get_texts()) == 2
    plt.close(fig)
    with pytest.raises(TypeError, match="histories"):
        plots.plot_runs(ax, [history()])


def test_plot_mean_spread_std_and_ragged_seeds(ax):
    x = [5, 10, 20]
    values = [[1.0, 1.0, 1.0], [0.8, 0.6], [0.1, 0.3, 0.2]]
    line = plots.plot_mean_spread(ax, x, values, label="RNN")
    np.testing.assert_allclose(line.get_ydata(), [1.0, 0.7, 0.2])
    band = ax.collections[0].get_paths()[0].vertices
    assert band[:, 1].max() == pytest.approx(1.0)
    assert band[:, 1].min() == pytest.approx(0.2 - np.std([0.1, 0.3, 0.2]))
    points = ax.collections[1].get_offsets()
    assert len(points) == 8
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["RNN"]


def test_plot_mean_spread_minmax_from_an_array(ax):
    values = np.array([[0.2, 0.4, 0.9], [0.5, 0.5, 0.5]])
    plots.plot_mean_spread(ax, [1, 2], values, spread="minmax", show_points=False)
    band = ax.collections[0].get_paths()[0].vertices
    assert band[:, 1].min() == pytest.approx(0.2) and band[:, 1].max() == pytest.approx(0.9)
    assert len(ax.collections) == 1


@pytest.mark.parametrize("x, values, kwargs, match", [
    ([1, 2], [[0.5]], {}, "values"),
    ([1], [[]], {}, "values"),
    ([1], [[0.5]], {"spread": "iqr"}, "spread"),
    ([[1, 2]], [[0.5], [0.5]], {}, "x"),
    ([1], [[math.nan]], {}, "values"),
])
def test_plot_mean_spread_rejects_bad_input(ax, x, values, kwargs, match):
    with pytest.raises(ValueError, match=match):
        plots.plot_mean_spread(ax, x, values, **kwargs)


def test_mark_level(ax):
    line = plots.mark_level(ax, 0.1, "chance")
    assert list(line.get_ydata()) == [0.1, 0.1] and line.get_linestyle() == "--"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["chance"]
    with pytest.raises(ValueError, match="y"):
        plots.mark_level(ax, math.inf, "chance")
