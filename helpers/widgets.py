"""Interactive panels: controls, a Run button and an output area over a pure function.

Sliders never retrain on every tick: pressing Run calls ``on_run(config, output)`` with the
controls' current values, inside the panel's `Output` widget (errors are shown there too).
Every panel carries the CSS classes ``workbook-panel`` / ``workbook-run`` / ``workbook-output``
so the browser tests can find and drive it.
"""
from __future__ import annotations

import traceback
from typing import Callable

import ipywidgets as widgets
from IPython.display import display
from matplotlib.figure import Figure

from helpers import validate


def panel(title: str, controls: dict[str, widgets.ValueWidget],
          on_run: Callable[[dict, widgets.Output], None], run_label: str = "Run") -> widgets.VBox:
    """A titled box of `controls`, a Run button and an `Output`; Run calls `on_run(config, output)`.

    `config` maps each control's key to its current value. Whatever `on_run` displays or prints
    goes into `output`; an exception is printed there as a traceback instead of escaping.
    """
    title, run_label = validate.text("title", title), validate.text("run_label", run_label)
    if not isinstance(controls, dict):
        validate.fail("controls", "a dict of key -> control widget", controls, TypeError)
    if not controls:
        raise ValueError("controls: expected at least one control, got none")
    validate.instance("on_run", on_run, "a function on_run(config, output)")
    if not callable(on_run):
        validate.fail("on_run", "a function on_run(config, output)", on_run, TypeError)
    button = widgets.Button(description=run_label, button_style="primary", icon="play")
    button.add_class("workbook-run")
    output = widgets.Output()
    output.add_class("workbook-output")
    status = widgets.HTML()

    def run(_button=None):
        config = {key: control.value for key, control in controls.items()}
        button.disabled = True
        status.value = "<i>running…</i>"
        output.clear_output(wait=True)
        with output:
            try:
                on_run(config, output)
                status.value = "done"
            except Exception:  # shown to the reader in the panel, not swallowed
                traceback.print_exc()
                status.value = "<b>failed</b> (traceback below)"
        button.disabled = False

    button.on_click(run)
    box = widgets.VBox([widgets.HTML(f"<h4>{title}</h4>"), *controls.values(),
                        widgets.HBox([button, status]), output])
    box.add_class("workbook-panel")
    box.run = run  # lets code and tests press Run without a browser
    return box


def show_figure(fig, output: widgets.Output | None = None) -> None:
    """Display a matplotlib figure (inside `output` when given) and close it so it is shown once."""
    import matplotlib.pyplot as plt

    validate.instance("fig", fig, "a matplotlib Figure")
    if not isinstance(fig, Figure):
        validate.fail("fig", "a matplotlib Figure", fig, TypeError)
    if output is not None and not isinstance(output, widgets.Output):
        validate.fail("output", "an ipywidgets Output or None", output, TypeError)
    if output is None:
        display(fig)
    else:
        with output:
            output.clear_output(wait=True)
            display(fig)
    plt.close(fig)
