"""helpers.palindromes: one run learns T = 5, evaluation on the held-out set, validation, caching."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from helpers import palindromes  # noqa: E402
from helpers.data import palindrome_splits, shared_palindromes  # noqa: E402
from helpers.training import STOP_TARGET, single_threaded  # noqa: E402

# Small sizes so that a run takes a second or two; lr 1e-2 instead of the sheet's 1e-3 for speed.
SMALL = {"hidden_size": 32, "batch_size": 64, "train_size": 500, "held_out_size": 200,
         "lr": 1e-2, "eval_every": 25, "max_steps": 400}
TINY = {**SMALL, "max_steps": 5, "eval_every": 5}


@pytest.fixture(autouse=True)
def one_thread():
    with single_threaded():
        yield


@pytest.mark.parametrize("model", ["rnn", "lstm"])
def test_a_run_at_length_5_reaches_the_target_on_held_out_data(model):
    history = palindromes.train({**SMALL, "length": 5, "model": model, "seed": 0})
    assert history.stopped == STOP_TARGET, history.message
    assert history.final["accuracy"] >= 0.995
    assert history.last("accuracy") == history.final["accuracy"]
    assert history.steps[-1] < SMALL["max_steps"]


def test_the_accuracy_is_measured_on_the_held_out_set(monkeypatch):
    seen = []
    measure = palindromes.accuracy

    def recording_accuracy(model, inputs, targets):
        seen.append((inputs, targets))
        return measure(model, inputs, targets)

    monkeypatch.setattr(palindromes, "accuracy", recording_accuracy)
    config = palindromes.make_config(**TINY, length=7, seed=3)
    history = palindromes.train(config)
    train_set, held_out = palindrome_splits(7, config["train_size"], config["held_out_size"], seed=3)
    assert shared_palindromes(train_set, held_out) == 0
    assert len(seen) == len(history.metric("accuracy")[0]) == 1
    inputs, targets = seen[0]
    assert torch.equal(inputs, held_out.tensors()[0]) and torch.equal(targets, held_out.tensors()[1])
    assert inputs.shape == (config["held_out_size"], 6, 10)


def test_the_same_config_gives_the_same_run_and_keeps_the_global_generator():
    config = {**TINY, "length": 6, "model": "lstm", "seed": 1}
    state = torch.get_rng_state()
    first = palindromes.train(config)
    assert torch.equal(torch.get_rng_state(), state)
    second = palindromes.train(config)
    other = palindromes.train({**config, "seed": 2})
    assert first.loss == second.loss and first.final == second.final
    assert first.loss != other.loss


def test_digit_encoding_feeds_one_feature_per_step():
    model = palindromes.build_model({"length": 9, "model": "rnn", "encoding": "digits"})
    assert model.input_size == 1
    history = palindromes.train({**TINY, "length": 9, "model": "rnn", "encoding": "digits"})
    assert 0.0 <= history.final["accuracy"] <= 1.0
    assert history.config["forget_bias"] is None


def test_forget_bias_reaches_the_lstm():
    model = palindromes.build_model({"model": "lstm", "forget_bias": 0.0, "hidden_size": 8})
    assert torch.equal(model.b_f.detach(), torch.zeros(8))
    model = palindromes.build_model({"model": "lstm", "forget_bias": 1.0, "hidden_size": 8})
    assert torch.equal(model.b_f.detach(), torch.ones(8))


@pytest.mark.parametrize("settings, error, match", [
    ({"hidden": 128}, ValueError, "config"),
    ({"model": "gru"}, ValueError, "model"),
    ({"encoding": "raw"}, ValueError, "encoding"),
    ({"optimizer": "adagrad"}, ValueError, "optimizer"),
    ({"lr": 0.0}, ValueError, "lr"),
    ({"lr": "fast"}, TypeError, "lr"),
    ({"length": 2}, ValueError, "length"),
    ({"length": 5.0}, TypeError, "length"),
    ({"hidden_size": 0}, ValueError, "hidden_size"),
    ({"max_norm": -1.0}, ValueError, "max_norm"),
    ({"target_accuracy": 1.5}, ValueError, "target_accuracy"),
    ({"seed": -1}, ValueError, "seed"),
    ({"forget_bias": float("nan")}, ValueError, "forget_bias"),
    ({"version": 0}, ValueError, "version"),
])
def test_bad_settings_are_refused_with_their_name(settings, error, match):
    with pytest.raises(error, match=match):
        palindromes.make_config(**settings)
    with pytest.raises(error, match=match):
        palindromes.train(settings)


@pytest.mark.parametrize("kwargs, match", [
    ({"lengths": []}, "lengths"),
    ({"lengths": [5], "models": ["gru"]}, "models"),
    ({"lengths": [5], "seeds": []}, "seeds"),
    ({"lengths": [5], "settings": {"length": 7}}, "settings"),
    ({"lengths": [5], "workers": 0}, "workers"),
])
def test_bad_sweep_arguments_are_refused(kwargs, match, tmp_path):
    with pytest.raises(ValueError, match=match):
        palindromes.sweep(**kwargs, cache_dir=tmp_path, progress=False)


def test_the_sweep_caches_every_run_and_the_second_call_loads(tmp_path, monkeypatch):
    first = palindromes.sweep([5, 6], seeds=[0, 1], settings=TINY, stop_at_chance=False,
                              cache_dir=tmp_path, progress=False)
    assert len(first.histories) == 8 and first.reused == 0
    assert len(list(tmp_path.glob("*.json"))) == 8
    assert all(palindromes.is_cached(h.config, tmp_path) for h in first.histories.values())

    def no_training(config, on_step=None, progress=False):
        raise AssertionError("the second sweep trained instead of loading")

    monkeypatch.setattr(palindromes, "train", no_training)
    second = palindromes.sweep([5, 6], seeds=[0, 1], settings=TINY, stop_at_chance=False,
                               cache_dir=tmp_path, progress=False)
    assert second.reused == 8 and "8 reused from the cache" in second.summary()
    for key, history in first.histories.items():
        assert second.histories[key].loss == history.loss
        assert second.histories[key].final == history.final


def test_the_sweep_stops_a_model_once_it_is_at_chance(tmp_path):
    # One training step leaves the models at chance: no longer length is run.
    result = palindromes.sweep([5, 7, 9], seeds=[0, 1], settings={**TINY, "max_steps": 1, "eval_every": 1},
                               cache_dir=tmp_path, progress=False)
    for model in palindromes.MODELS:
        assert result.mean_accuracy(model, 5) < palindromes.CHANCE + palindromes.CHANCE_MARGIN
        assert result.lengths(model) == [5]
    assert len(result.histories) == 4


def test_the_plots_draw_one_curve_per_model_and_per_run(tmp_path):
    result = palindromes.sweep([5, 6], seeds=[0, 1], settings=TINY, stop_at_chance=False,
                               cache_dir=tmp_path, progress=False)
    fig, ax = plt.subplots()
    lines = palindromes.plot_accuracy_vs_length(ax, result)
    assert len(lines) == 2
    np.testing.assert_allclose(lines[0].get_ydata(), [a.mean() for a in result.accuracies("rnn")])
    runs = {f"seed {s}": result.histories[("lstm", 5, s)] for s in (0, 1)}
    assert len(palindromes.plot_accuracy_vs_step(ax, runs)) == 2
    plt.close(fig)
    fig = palindromes.run_figure(result.histories[("lstm", 6, 0)])
    assert len(fig.axes) == 2
    plt.close(fig)
    with pytest.raises(TypeError, match="result"):
        palindromes.plot_accuracy_vs_length(ax, {"rnn": [0.5]})


def test_worker_processes_give_the_same_runs_as_this_process(tmp_path):
    configs = [{**TINY, "length": 5, "model": m, "seed": 0} for m in palindromes.MODELS]
    here = palindromes.run_many(configs, cache_dir=tmp_path / "here")
    there = palindromes.run_many(configs, workers=2, cache_dir=tmp_path / "there")
    assert [h.loss for h in here] == [h.loss for h in there]
    assert not any(h.from_cache for h in here + there)
    again = palindromes.run_many(configs, workers=2, cache_dir=tmp_path / "there")
    assert all(h.from_cache for h in again)
