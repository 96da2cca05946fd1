"""The widget panel: Run passes the controls' values, output and errors land in the panel."""
from __future__ import annotations

import ipywidgets as widgets
import pytest

from helpers.widgets import panel


def test_run_passes_current_control_values():
    seen = []
    slider = widgets.IntSlider(value=3, min=1, max=10)
    box = panel("demo", {"steps": slider, "lr": widgets.FloatText(value=0.1)},
                lambda config, output: seen.append(config))
    slider.value = 7
    box.run()
    assert seen == [{"steps": 7, "lr": 0.1}]


def test_panel_carries_the_classes_the_browser_tests_look_for():
    box = panel("demo", {"a": widgets.IntSlider()}, lambda config, output: None)
    assert "workbook-panel" in box._dom_classes
    button = next(w for w in box.children[-2].children if isinstance(w, widgets.Button))
    assert "workbook-run" in button._dom_classes
    assert "workbook-output" in box.children[-1]._dom_classes


def test_an_error_is_reported_in_the_panel_and_the_button_comes_back():
    def broken(config, output):
        raise RuntimeError("boom")

    box = panel("demo", {"a": widgets.IntSlider()}, broken)
    box.run()
    button, status = box.children[-2].children
    assert not button.disabled
    assert "failed" in status.value


def test_a_panel_needs_controls():
    with pytest.raises(ValueError, match="controls"):
        panel("demo", {}, lambda config, output: None)
