"""helpers.palindromes: the protocol (train / validation / test, stop on target, best step, test
accuracy), the config, learning-rate choice on validation, the sweep, run_many's thread rule, plots."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from helpers import palindromes  # noqa: E402
from helpers.data import shared_palindromes  # noqa: E402
from helpers.history import STOP_STEPS, STOP_TARGET, History  # noqa: E402

# Small sizes so that a run takes a second or two; lr 1e-2 instead of the sheet's 1e-3 for speed.
SMALL = {"hidden_size": 32, "batch_size": 64, "train_size": 500, "validation_size": 200,
         "test_size": 200, "lr": 1e-2, "eval_every": 25, "max_steps": 400, "encoding": "one_hot"}
TINY = {**SMALL, "max_steps": 5, "eval_every": 5}


@pytest.mark.parametrize("model", ["rnn", "lstm"])
def test_a_run_at_length_5_reaches_the_target_and_reports_test_accuracy(model):
    history = palindromes.train({**SMALL, "length": 5, "model": model, "seed": 0})
    assert history.stopped == STOP_TARGET, history.message
    assert palindromes.reached_target(history)
    assert history.final["accuracy"] >= 0.995
    assert history.steps[-1] < SMALL["max_steps"]
    assert history.final["test_accuracy"] >= 0.9


def test_validation_decides_and_test_is_only_reported(monkeypatch):
    seen = []
    measure = palindromes.accuracy

    def recording_accuracy(model, inputs, targets):
        seen.append((inputs, targets))
        return measure(model, inputs, targets)

    monkeypatch.setattr(palindromes, "accuracy", recording_accuracy)
    cfg = palindromes.config(**TINY, length=7, seed=3)
    history = palindromes.train(cfg)
    data = palindromes.splits(cfg)
    assert shared_palindromes(data.train, data.validation) == 0
    assert shared_palindromes(data.train, data.test) == 0
    assert shared_palindromes(data.validation, data.test) == 0
    evaluations = len(history.metric("accuracy")[0])
    assert len(seen) == evaluations + 1                    # every evaluation, then one test measurement
    for inputs, targets in seen[:-1]:
        assert torch.equal(inputs, data.validation.tensors()[0])
    assert torch.equal(seen[-1][0], data.test.tensors()[0]) and torch.equal(seen[-1][1], data.test.tensors()[1])


def test_no_plateau_stop_a_failing_run_uses_its_whole_budget():
    history = palindromes.train({**TINY, "length": 12, "model": "rnn", "max_steps": 60, "eval_every": 10,
                                 "lr": 1e-5, "seed": 0})
    assert history.stopped == STOP_STEPS and history.steps[-1] == 60


def test_the_best_validation_step_is_restored_and_its_test_accuracy_reported(monkeypatch):
    # A scripted validation accuracy that peaks in the middle: the model must hold that step's weights.
    script = iter([0.1, 0.2, 0.9, 0.3, 0.25, 0.2, 0.2, 0.2])
    snapshots = {}
    real = palindromes.accuracy

    def scripted(model, inputs, targets):
        if len(inputs) == palindromes.config(**TINY).validation_size and "test" not in snapshots:
            value = next(script)
            snapshots[value] = [p.detach().clone() for p in model.parameters()]
            return value
        snapshots["test"] = [p.detach().clone() for p in model.parameters()]
        return real(model, inputs, targets)

    monkeypatch.setattr(palindromes, "accuracy", scripted)
    history = palindromes.train({**TINY, "length": 6, "max_steps": 30, "eval_every": 5, "test_size": 150})
    assert history.final["accuracy"] == 0.9
    for best, tested in zip(snapshots[0.9], snapshots["test"]):
        assert torch.equal(best, tested)


def test_the_same_config_gives_the_same_run_and_keeps_the_global_generator():
    cfg = palindromes.config(**TINY, length=6, model="lstm", seed=1)
    state = torch.get_rng_state()
    first = palindromes.train(cfg)
    assert torch.equal(torch.get_rng_state(), state)
    second = palindromes.train(cfg)
    other = palindromes.train(cfg.replace(seed=2))
    assert first.loss == second.loss and first.final == second.final
    assert first.loss != other.loss


def test_sheet_setting_is_the_default():
    cfg = palindromes.config()
    assert (cfg.encoding, cfg.optimizer, cfg.lr, cfg.hidden_size, cfg.batch_size, cfg.max_norm) == \
        ("digits", "rmsprop", 1e-3, 128, 128, 10.0)
    model = palindromes.build_model(cfg.replace(model="rnn", length=9))
    assert model.input_size == 1
    assert palindromes.build_model(cfg.replace(encoding="one_hot")).input_size == 10


def test_forget_bias_is_part_of_the_lstm_and_absent_from_the_rnn():
    assert palindromes.config(model="rnn", forget_bias=3.0).forget_bias is None
    assert palindromes.config(model="lstm").forget_bias == palindromes.FORGET_BIAS
    model = palindromes.build_model({"model": "lstm", "forget_bias": 0.0, "hidden_size": 8})
    assert torch.equal(model.b_f.detach(), torch.zeros(8))
    model = palindromes.build_model({"model": "lstm", "hidden_size": 8})
    assert torch.equal(model.b_f.detach(), torch.full((8,), palindromes.FORGET_BIAS))


def test_config_is_frozen_and_replace_validates():
    cfg = palindromes.config(length=7)
    with pytest.raises(AttributeError):
        cfg.length = 8
    assert cfg.replace(length=8).length == 8 and cfg.length == 7
    with pytest.raises(ValueError, match="length"):
        cfg.replace(length=2)


@pytest.mark.parametrize("settings, error, match", [
    ({"hidden": 128}, ValueError, "config"),
    ({"held_out_size": 100}, ValueError, "config"),
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
    ({"seed": 2 ** 64}, ValueError, "seed"),
    ({"forget_bias": float("nan")}, ValueError, "forget_bias"),
    ({"version": palindromes.VERSION - 1}, ValueError, "version"),
    ({"experiment": "memory"}, ValueError, "experiment"),
])
def test_bad_settings_are_refused_with_their_name(settings, error, match):
    with pytest.raises(error, match=match):
        palindromes.config(**settings)
    with pytest.raises(error, match=match):
        palindromes.train(settings)


def test_a_stored_config_is_accepted_but_a_user_set_version_is_not():
    stored = palindromes.config(**TINY, length=5).to_dict()
    assert palindromes.as_config(stored) == palindromes.config(**TINY, length=5)
    with pytest.raises(ValueError, match="version"):
        palindromes.config(version=palindromes.VERSION)


def test_a_config_of_the_wrong_type_is_refused():
    with pytest.raises(TypeError, match="config"):
        palindromes.train([("length", 5)])


def test_choose_lr_uses_validation_only_and_picks_the_best_mean(monkeypatch, tmp_path):
    # Scripted runs: lr 0.1 reaches the highest mean best validation accuracy for both models.
    def fake_run(cfg, cache_dir=None, verbose=True):
        history = History(config=cfg.to_dict(), steps=[1, 2], loss=[1.0, 1.0], grad_norm=[1.0, 1.0])
        value = {0.01: 0.5, 0.1: 0.8 + 0.01 * cfg.seed, 1.0: 0.7}[cfg.lr]
        history.metrics = {"accuracy": [(1, value / 2), (2, value)]}
        history.final = {"accuracy": value, "test_accuracy": 1.0 - value}
        history.stopped = STOP_STEPS
        return history

    monkeypatch.setattr(palindromes, "run", fake_run)
    choice = palindromes.choose_lr({"length": 5}, grid=(0.01, 0.1, 1.0), seeds=(0, 1), cache_dir=tmp_path)
    assert choice["rnn"].lr == choice["lstm"].lr == 0.1
    table = {row[0]: row for row in choice["rnn"].table()}
    assert table[0.1][1] == pytest.approx(0.805)


def test_choose_lr_breaks_ties_by_steps_to_the_target(monkeypatch, tmp_path):
    def fake_run(cfg, cache_dir=None, verbose=True):
        steps = {0.01: 400, 0.1: 100}[cfg.lr]
        history = History(config=cfg.to_dict(), steps=list(range(1, steps + 1)), loss=[1.0] * steps,
                          grad_norm=[1.0] * steps, metrics={"accuracy": [(steps, 0.999)]},
                          stopped=STOP_TARGET, final={"accuracy": 0.999, "test_accuracy": 0.99})
        return history

    monkeypatch.setattr(palindromes, "run", fake_run)
    choice = palindromes.choose_lr({"length": 5}, models=("rnn",), grid=(0.01, 0.1), seeds=(0,), cache_dir=tmp_path)
    assert choice["rnn"].lr == 0.1


@pytest.mark.parametrize("kwargs, match", [
    ({"lengths": []}, "lengths"),
    ({"lengths": [5], "models": ["gru"]}, "models"),
    ({"lengths": [5], "seeds": []}, "seeds"),
    ({"lengths": [5], "base": {"hidden": 3}}, "config"),
    ({"lengths": [5], "lrs": {"gru": 0.1}}, "lrs"),
    ({"lengths": [5], "workers": 0}, "workers"),
    ({"lengths": [5], "trained_up_to": 0}, "trained_up_to"),
])
def test_bad_sweep_arguments_are_refused(kwargs, match, tmp_path):
    with pytest.raises(ValueError, match=match):
        palindromes.sweep(**kwargs, cache_dir=tmp_path, progress=False)


def test_the_sweep_stores_every_run_and_the_second_call_loads(tmp_path, monkeypatch):
    lrs = {"rnn": 2e-2, "lstm": 1e-2}
    first = palindromes.sweep([5, 6], seeds=[0, 1], base=TINY, lrs=lrs, stop_at_chance=False,
                              cache_dir=tmp_path, progress=False)
    assert len(first.histories) == 8 and first.reused == 0
    assert len(list(tmp_path.glob("*.json"))) == 8
    assert {h.config["lr"] for (m, _, _), h in first.histories.items() if m == "rnn"} == {2e-2}

    def no_training(cfg, on_step=None, progress=False):
        raise AssertionError("the second sweep trained instead of loading")

    monkeypatch.setattr(palindromes, "train", no_training)
    second = palindromes.sweep([5, 6], seeds=[0, 1], base=TINY, lrs=lrs, stop_at_chance=False,
                               cache_dir=tmp_path, progress=False)
    assert second.reused == 8 and "8 loaded" in second.summary()
    for key, history in first.histories.items():
        assert second.histories[key].loss == history.loss
        assert second.histories[key].final == history.final


def test_lengths_past_trained_up_to_are_loaded_when_stored_and_never_trained(tmp_path, monkeypatch):
    lrs = {"rnn": 2e-2, "lstm": 1e-2}
    trained = []
    train = palindromes.train
    monkeypatch.setattr(palindromes, "train", lambda cfg, **kw: trained.append(cfg.length) or train(cfg, **kw))

    def sweep(**kwargs):
        return palindromes.sweep([5, 6], seeds=[0, 1], base=TINY, lrs=lrs, stop_at_chance=False,
                                 cache_dir=tmp_path, progress=False, **kwargs)

    short = sweep(trained_up_to=5)          # nothing stored at T = 6: both models stop before it
    assert trained == [5] * 4 and short.not_stored == {"rnn": 6, "lstm": 6}
    assert all(short.lengths(m) == [5] for m in palindromes.MODELS)
    full = sweep()                          # trains T = 6
    assert trained == [5] * 4 + [6] * 4 and full.not_stored == {}
    loaded = sweep(trained_up_to=5)         # now T = 6 is stored: loaded, not trained
    assert trained == [5] * 4 + [6] * 4 and loaded.not_stored == {} and loaded.reused == 8
    assert all(loaded.lengths(m) == [5, 6] for m in palindromes.MODELS)


def test_the_sweep_stops_a_model_once_it_is_at_chance(tmp_path):
    # One training step leaves the models at chance: no longer length is run.
    untrained = {**TINY, "max_steps": 1, "eval_every": 1, "lr": 1e-9, "validation_size": 1000, "test_size": 1000}
    result = palindromes.sweep([7, 9, 11], seeds=[0, 1], base=untrained, cache_dir=tmp_path, progress=False)
    for model in palindromes.MODELS:
        assert result.at_chance(model, 7)
        assert result.lengths(model) == [7]
        assert result.success_fractions(model).tolist() == [0.0]
    assert len(result.histories) == 4


def test_the_plots_show_every_seed_the_success_fraction_and_the_mean(tmp_path):
    result = palindromes.sweep([5, 6], seeds=[0, 1], base=TINY, stop_at_chance=False,
                               cache_dir=tmp_path, progress=False)
    fig, (left, right) = plt.subplots(1, 2)
    palindromes.plot_test_accuracy(left, result)
    dots = [line for line in left.lines if line.get_linestyle() == "None" and line.get_marker() == "."]
    assert sum(len(line.get_ydata()) for line in dots) == len(result.histories)
    plotted = sorted(np.concatenate([line.get_ydata() for line in dots]).tolist())
    assert plotted == sorted(palindromes.test_accuracy(h) for h in result.histories.values())
    palindromes.plot_success_fraction(right, result)
    np.testing.assert_allclose(right.lines[0].get_ydata(), result.success_fractions("rnn"))
    runs = {f"seed {s}": result.histories[("lstm", 5, s)] for s in (0, 1)}
    assert len(palindromes.plot_accuracy_vs_step(left, runs)) == 2
    plt.close(fig)
    fig = palindromes.run_figure(result.histories[("lstm", 6, 0)])
    assert len(fig.axes) == 2
    plt.close(fig)
    with pytest.raises(TypeError, match="result"):
        palindromes.plot_test_accuracy(left, {"rnn": [0.5]})


def test_worker_processes_and_a_direct_call_give_the_same_runs(tmp_path):
    # The thread rule: `fit` trains on one torch thread, whatever the caller set, so a worker
    # process and a direct call with two threads give bit-identical numbers.
    configs = [{**TINY, "length": 5, "model": m, "seed": 0} for m in palindromes.MODELS]
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        here = palindromes.run_many(configs, cache_dir=tmp_path / "here")
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
    there = palindromes.run_many(configs, workers=2, cache_dir=tmp_path / "there")
    assert [h.loss for h in here] == [h.loss for h in there]
    assert [h.final for h in here] == [h.final for h in there]
    assert not any(h.from_cache for h in here + there)
    assert all(h.source == "trained" for h in here + there)
    again = palindromes.run_many(configs, workers=2, cache_dir=tmp_path / "there")
    assert all(h.from_cache for h in again)


@pytest.mark.parametrize("length", [3, 5, 6, 9, 40])
def test_the_three_splits_share_no_palindrome_and_held_out_sets_have_no_repeats(length):
    from helpers.data import held_out_size, palindrome_count, train_validation_test_palindromes

    data = train_validation_test_palindromes(length, 3000, 1000, 1000, seed=0, encoding="digits")
    assert shared_palindromes(data.train, data.validation) == 0
    assert shared_palindromes(data.train, data.test) == 0
    assert shared_palindromes(data.validation, data.test) == 0
    for held_out in (data.validation, data.test):
        assert len(held_out) == held_out_size(length, 1000) == min(1000, palindrome_count(length) // 4)
        assert len(np.unique(held_out.palindromes, axis=0)) == len(held_out)
    assert len(data.train) == 3000
    assert data.distinct_training_palindromes() == len(np.unique(data.train.palindromes, axis=0))
    free = palindrome_count(length) - 2 * len(data.validation)
    if free <= 500:   # small T: 3000 draws cover (almost) every free palindrome, about half of all
        assert free - 5 <= data.distinct_training_palindromes() <= free


def test_a_distinct_draw_larger_than_the_free_palindromes_is_refused():
    from helpers.data import PalindromeDataset

    with pytest.raises(ValueError, match="size"):
        PalindromeDataset(3, 101, seed=0, distinct=True)
    assert len(np.unique(PalindromeDataset(3, 100, seed=0, distinct=True).palindromes, axis=0)) == 100
