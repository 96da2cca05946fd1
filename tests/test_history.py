"""helpers.history: the History of a run, its accessors, named final results and the JSON round trip."""
from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from helpers.history import History


def sample_history():
    return History(config={"seed": 1}, steps=[1, 2, 3], loss=[2.0, math.nan, math.inf],
                   grad_norm=[1.0, 0.5, math.nan], metrics={"accuracy": [(2, 0.5), (3, 0.75)]},
                   stopped="diverged", message="training diverged at step 3: loss is inf",
                   elapsed=1.25, final={"accuracy": 0.75, "per_position": [1.0, 0.5]},
                   chosen_step=2, chosen_by="best validation accuracy (max)", source="trained")


def test_history_json_round_trip_keeps_nan_and_pairs():
    history = sample_history()
    again = History.from_json(history.to_json())
    assert again.metrics == {"accuracy": [(2, 0.5), (3, 0.75)]}
    assert math.isnan(again.loss[1]) and again.loss[2] == math.inf and math.isnan(again.grad_norm[2])
    assert (again.config, again.steps, again.stopped, again.message, again.elapsed, again.final) == \
           (history.config, history.steps, history.stopped, history.message, 1.25, history.final)
    assert (again.chosen_step, again.chosen_by, again.source) == (2, "best validation accuracy (max)", "trained")
    assert again.diverged


def test_round_numbers_keeps_float32_precision_and_non_finite_values():
    history = History(steps=[1, 2, 3], loss=[2.302585092994046, math.nan, math.inf], grad_norm=[0.1234567891234, 1e-30, -5.0],
                      metrics={"accuracy": [(2, 0.09399999678134918)]}, elapsed=1.23456789123,
                      final={"accuracy": 0.09399999678134918, "curves": {"mse": [0.1234567891234, 3]}, "name": "x",
                             "steps": 7, "reached": True})
    assert history.round_numbers() is history
    assert history.loss[0] == 2.3025851 and math.isnan(history.loss[1]) and history.loss[2] == math.inf
    assert history.grad_norm == [0.12345679, 1e-30, -5.0]
    assert history.metrics == {"accuracy": [(2, 0.093999997)]}
    assert history.final == {"accuracy": 0.093999997, "curves": {"mse": [0.12345679, 3]}, "name": "x", "steps": 7,
                             "reached": True}
    assert history.elapsed == 1.23456789123     # a wall time, not a result
    assert history.round_numbers(3).loss[0] == 2.3 and history.metrics["accuracy"] == [(2, 0.094)]
    again = History.from_json(history.to_json())
    assert again.round_numbers(3).to_json() == history.to_json()      # rounding twice changes nothing


@pytest.mark.parametrize("significant, error", [(0, ValueError), (-1, ValueError), (2.5, TypeError), (True, TypeError)])
def test_round_numbers_rejects_bad_digit_counts(significant, error):
    with pytest.raises(error, match="significant"):
        sample_history().round_numbers(significant)


def test_history_accessors():
    history = sample_history()
    assert history.metric("accuracy") == ([2, 3], [0.5, 0.75])
    assert history.last("accuracy") == 0.75
    assert history.best("accuracy") == 0.75 and history.best("accuracy", mode="min") == 0.5
    with pytest.raises(ValueError, match="name"):
        history.metric("recall")
    with pytest.raises(ValueError, match="mode"):
        history.best("accuracy", mode="top")


def test_history_from_dict_rejects_broken_data():
    data = sample_history().to_dict()
    del data["loss"]
    with pytest.raises(ValueError, match="loss"):
        History.from_dict(data)
    data = sample_history().to_dict()
    data["steps"] = [1, 2]
    with pytest.raises(ValueError, match="equal length"):
        History.from_dict(data)
    with pytest.raises(TypeError, match="data"):
        History.from_dict([1, 2])


@pytest.mark.parametrize("field, value, error", [
    ("steps", "1,2,3", TypeError), ("steps", [1, 2.5, 3], TypeError), ("loss", [1.0, "2", 3.0], TypeError),
    ("grad_norm", None, TypeError), ("metrics", [["accuracy", []]], TypeError),
    ("metrics", {"accuracy": [[2, 0.5, 9]]}, ValueError), ("metrics", {"accuracy": [2, 0.5]}, TypeError),
    ("stopped", 3, TypeError), ("elapsed", "1.25", TypeError), ("from_cache", 1, TypeError),
    ("final", [1], TypeError), ("config", [["seed", 1]], TypeError), ("chosen_step", 2.0, TypeError),
    ("chosen_step", True, TypeError), ("chosen_by", None, TypeError), ("source", 1, TypeError)])
def test_history_from_dict_rejects_wrong_types(field, value, error):
    data = sample_history().to_dict()
    data[field] = value
    with pytest.raises(error, match=field):
        History.from_dict(data)


def test_record_final_adds_json_values_and_converts_numpy_scalars():
    history = sample_history()
    assert history.record_final(test_accuracy=np.float64(0.93), seeds=[0, 1]) is history
    assert history.final["test_accuracy"] == 0.93 and type(history.final["test_accuracy"]) is float
    assert History.from_json(history.to_json()).final["seeds"] == [0, 1]
    with pytest.raises(TypeError, match="final\\['weights'\\]"):
        history.record_final(weights=object())


def test_history_imports_without_torch():
    code = "import sys, helpers.history, helpers.run_cache; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
