"""helpers.memory: the task formula of notebook 04 against the generator, the config, disjoint splits,
parameter counts, dh_T/dh_t against finite differences of the NumPy models, the protocol (best step,
test numbers, learning rate chosen on validation), the bootstrap interval and its verdict rule, plots, bad input."""
from __future__ import annotations

import dataclasses
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from conftest import ROOT  # noqa: E402
from helpers import memory  # noqa: E402
from helpers.data import memory_chance_level, memory_task  # noqa: E402
from helpers.gradcheck import check, numerical_gradient_array  # noqa: E402
from helpers.history import History  # noqa: E402
from helpers.memory import build_model, config, hidden_state_gradient_norms  # noqa: E402
from helpers.parameter_counts import lstm_parameter_count, matching_rnn_hidden_size, rnn_parameter_count  # noqa: E402
from helpers.numpy_lstm import lstm_forward  # noqa: E402
from helpers.numpy_rnn import rnn_forward  # noqa: E402
from helpers.torch_lstm import fused_gate_weights  # noqa: E402
from helpers.training import parameter_count  # noqa: E402

TINY = dict(hidden_size=4, to_remember_len=2, gap=1, max_steps=4, eval_every=2, validation_size=20, test_size=20)


# --- the task: notebook 04's formula = the generator -------------------------------------------

def formula_brace_counts() -> list[str]:
    """The brace subscripts of the input and target rows in notebook 04 section 1, in order."""
    cells = nbformat.read(ROOT / "notebooks/04_memory_task.ipynb", 4).cells
    task_cell = next(c.source for c in cells if c.cell_type == "markdown" and c.source.startswith("## 1 · The task"))
    formula = re.search(r"\$\$(.*?)\$\$", task_cell, re.S).group(1)
    return [count.strip() for count in re.findall(r"\\underbrace\{[^}]*\}_\{([^}]*)\}", formula)]


@pytest.mark.parametrize("k, g", [(1, 0), (3, 5), (8, 5), (2, 20)])
def test_the_formula_of_notebook_04_matches_the_generator(k, g):
    braces = formula_brace_counts()
    assert len(braces) == 3, braces          # g blanks, k blanks after '#'; k + g + 1 blank targets
    between, after, target_blanks = (eval(b, {"k": k, "g": g}) for b in braces)
    task = memory_task(30, k, g, seed=k + g)
    blank, delimiter = task.blank, task.delimiter
    for inputs, targets in zip(task.inputs, task.targets):
        symbols = list(inputs[:k])
        assert list(inputs) == [*symbols, *[blank] * between, delimiter, *[blank] * after]
        assert list(targets) == [*[blank] * target_blanks, *symbols]
    assert task.inputs.shape[1] == 2 * k + g + 1


def test_symbols_are_the_sheets_zero_to_eight():
    task = memory_task(3000, 1, 0, seed=0)
    assert task.num_symbols == 9 and set(np.unique(task.inputs[:, 0])) == set(range(9))
    assert memory_chance_level() == pytest.approx(1 / 9)


# --- config ------------------------------------------------------------------------------------

def test_config_is_frozen_and_validated_once():
    cfg = config(model="rnn", gap=3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.gap = 4
    assert cfg.replace(gap=4).gap == 4 and cfg.gap == 3
    assert memory.checked_config(cfg) is cfg
    stored = cfg.to_dict()                                    # what a stored History holds
    assert stored["experiment"] == "memory" and stored["version"] == memory.VERSION
    assert memory.checked_config(stored) == cfg and cfg.overrides().keys() - {"init"} == stored.keys() - {"experiment", "version"}


@pytest.mark.parametrize("call, message", [
    (lambda: config(hidden_units=3), "overrides: expected keys among .*got 'hidden_units'"),
    (lambda: config(version=1), "version: expected not set by the caller"),
    (lambda: config(version=memory.VERSION), "version"),
    (lambda: config(experiment="sine"), "experiment: expected not set by the caller"),
    (lambda: memory.checked_config({**dataclasses.asdict(config()), "version": 1}), f"version: expected {memory.VERSION}"),
    (lambda: memory.checked_config({**dataclasses.asdict(config()), "extra": 1}), "config: expected keys.*got 'extra'"),
    (lambda: memory.checked_config({**dataclasses.asdict(config()), "experiment": "sine"}), "experiment: expected 'memory'"),
    (lambda: memory.checked_config("lstm"), "config: expected a MemoryConfig"),
    (lambda: config(model="gru"), "model"),
    (lambda: config(hidden_size=0), "hidden_size"),
    (lambda: config(lr=-0.1), "lr"),
    (lambda: config(gap=-1), "gap"),
    (lambda: config(seed=2 ** 64), "seed"),
    (lambda: config(target_accuracy=1.5), "target_accuracy"),
    (lambda: config(optimizer="rmsprop"), "optimizer"),
    (lambda: config().replace(clip="none"), "clip"),
    (lambda: memory.train("lstm"), "config"),
    (lambda: memory.bootstrap_interval([]), "values"),
    (lambda: memory.intervals_apart([], [1.0]), "values"),
    (lambda: memory.intervals_apart([1.0], []), "others"),
    (lambda: memory.intervals_apart([1.0], np.ones((2, 2))), "others"),
    (lambda: memory.sweep("width", [1], [0], {"lstm": config()}), "name"),
    (lambda: hidden_state_gradient_norms(build_model(config(hidden_size=3)), np.zeros((2, 1, 11))), "x"),
])
def test_bad_input_names_the_argument(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


# --- parameter counts and gradients through time ----------------------------------------------

@pytest.mark.parametrize("model, hidden", [("rnn", 7), ("lstm", 5), ("rnn", 67), ("lstm", 32)])
def test_parameter_count_formulas_match_the_models(model, hidden):
    cfg = config(model=model, hidden_size=hidden)
    formula = (rnn_parameter_count if model == "rnn" else lstm_parameter_count)(11, hidden, 10)
    assert parameter_count(build_model(cfg)) == formula


def test_compared_configs_give_the_rnn_the_lstms_parameter_count():
    pair = memory.compared_configs(hidden_size=32, gap=7)
    assert (pair["rnn"].model, pair["lstm"].model, pair["rnn"].gap) == ("rnn", "lstm", 7)
    assert pair["rnn"].hidden_size == matching_rnn_hidden_size(32, 11, 10) == 67


def numpy_final_state(model, x, h, c):
    """h_T of the independent NumPy implementation with the torch model's weights, from state (h, c)."""
    w = {name: p.detach().numpy() for name, p in model.named_parameters()}
    if c is None:
        return rnn_forward(x, h, w["W_hx"], w["W_hh"], w["b_h"])[0][:, -1]
    Wx, Wh, b = (t.detach().numpy() for t in fused_gate_weights(model, "ifgo"))
    return lstm_forward(x, h, Wx, Wh, b, c0=c)[0][:, -1]


@pytest.mark.parametrize("kind", ["rnn", "lstm"])
def test_hidden_state_gradient_norms_match_finite_differences(kind):
    model = build_model(config(model=kind, hidden_size=4, num_symbols=2, seed=3)).double()
    x = np.random.default_rng(0).standard_normal((2, 5, 4))
    norms = hidden_state_gradient_norms(model, x)
    assert norms.shape == (4,)
    expected = []
    for distance in range(1, 5):
        t = 4 - distance                       # h_t after reading x[:, :t + 1]
        with torch.no_grad():
            prefix = model(torch.tensor(x[:, :t + 1]))
        h, c = (prefix[1], None) if kind == "rnn" else prefix[1]
        h = h.numpy().copy()
        c = None if c is None else c.numpy()
        # The sequences are independent, so upstream unit j on every row gives row j of each Jacobian.
        rows = np.stack([numerical_gradient_array(lambda: numpy_final_state(model, x[:, t + 1:], h, c), h,
                                                  np.tile(np.eye(4)[j], (2, 1))) for j in range(4)], axis=1)
        expected.append(np.linalg.norm(rows, axis=(1, 2)).mean())
    check({"norms": (norms, np.array(expected))}, tolerance=1e-7)


# --- data splits -------------------------------------------------------------------------------

def codes(batch, cfg):
    return set(memory.sequence_codes(batch[0].argmax(-1)[:, :cfg.to_remember_len].numpy(), cfg.num_symbols))


def test_splits_are_disjoint_when_the_task_has_enough_sequences():
    cfg = config(to_remember_len=5, gap=2, validation_size=200, test_size=300, batch_size=256)
    assert memory.splits_can_be_disjoint(cfg)                  # 9^5 = 59049 >= 4 x 500
    validation, test, next_batch = memory.data_splits(cfg)
    held = codes(validation, cfg) | codes(test, cfg)
    assert not codes(validation, cfg) & codes(test, cfg)
    for step in range(1, 30):
        batch = next_batch(step)
        assert 0 < batch[0].shape[0] <= 256 and not codes(batch, cfg) & held
    again = memory.data_splits(cfg)
    assert torch.equal(again[0][0], validation[0]) and torch.equal(again[1][1], test[1])   # same seed, same sets


def test_small_tasks_are_not_split_and_say_so():
    cfg = config(to_remember_len=3)                           # 9^3 = 729 < 4 x 1500
    assert not memory.splits_can_be_disjoint(cfg)
    validation, test, next_batch = memory.data_splits(cfg)
    assert validation[0].shape[0] == 500 and test[0].shape[0] == 1000 and next_batch(1)[0].shape[0] == 64


# --- training under the protocol ---------------------------------------------------------------

def test_training_an_easy_setting_reaches_the_target_and_reports_test_numbers():
    cfg = config(model="rnn", hidden_size=32, to_remember_len=1, gap=1, max_steps=400, eval_every=50,
                 validation_size=200, test_size=200, lr=0.01)
    seen = []
    history = memory.train(cfg, on_step=lambda h: seen.append(h.steps[-1]))
    assert seen[0] == 50 and seen == sorted(seen)
    assert history.final["reached_target"] and history.stopped == "early stop (target reached)"
    assert history.final["test_accuracy"] > 5 * memory_chance_level()
    assert history.final["test_loss"] > 0 and len(history.final["test_recall_per_position"]) == 1
    assert history.chosen_step == max(history.metric("accuracy")[0],
                                      key=lambda s: dict(history.metrics["accuracy"])[s])


def test_the_best_validation_step_is_kept():
    history = memory.train(config(model="lstm", hidden_size=8, gap=3, max_steps=120, eval_every=20,
                                  validation_size=100, test_size=100))
    steps, accuracies = history.metric("accuracy")
    assert history.final["accuracy"] == max(accuracies)
    assert history.chosen_step == steps[accuracies.index(max(accuracies))]


def test_stored_curves_are_thinned_but_keep_the_last_step():
    history = memory.train(config(model="rnn", hidden_size=8, gap=1, max_steps=35, eval_every=10,
                                  validation_size=20, test_size=20, target_accuracy=1.0))
    assert history.steps[-1] == 35 and all(s % memory.CURVE_EVERY == 0 for s in history.steps[:-1])
    assert len(history.loss) == len(history.grad_norm) == len(history.steps)


def test_runs_are_stored_with_their_weights_and_train_accepts_the_stored_config(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBOOK_CACHE_DIR", str(tmp_path))
    cfg = config(model="lstm", **TINY)
    model, first = memory.run_model(cfg)
    again_model, again = memory.run_model(cfg)
    assert not first.from_cache and again.from_cache
    assert again.final == first.final
    for a, b in zip(model.parameters(), again_model.parameters()):
        assert torch.equal(a, b)
    assert first.config["experiment"] == "memory" and first.config["version"] == memory.VERSION
    retrained = memory.train(first.config)                     # the reproduce contract
    assert retrained.loss == first.loss and retrained.final == first.final
    result = memory.sweep("gap", [1, 2], [0, 1], {"lstm": cfg})
    assert result.of("lstm", "test_accuracy").shape == (2, 2)
    assert result.of("lstm", "test_accuracy")[0, 0] == first.final["test_accuracy"]


def test_the_learning_rate_is_chosen_on_validation_only(monkeypatch):
    # validation accuracy favours 0.01, the test numbers favour 0.03: the choice must follow validation
    validation = {0.003: (0.5, 0.2), 0.01: (0.9, 0.3), 0.03: (0.9, 0.1), 0.1: (0.2, 0.1)}

    def fake_run(cfg):
        accuracy, loss = validation[cfg.lr]
        return History(final={"accuracy": accuracy, "loss": loss + 0.01 * cfg.seed,
                              "test_accuracy": 1.0 if cfg.lr == 0.003 else 0.0})

    monkeypatch.setattr(memory, "run", fake_run)
    lr, scores = memory.choose_learning_rate(config(), seeds=(0, 1), grid=(0.003, 0.01, 0.03, 0.1))
    assert lr == 0.03                                          # tie on accuracy, lower validation loss
    assert scores[0.01] == pytest.approx((0.9, 0.305))


# --- statistics and plots ----------------------------------------------------------------------

def test_bootstrap_interval_covers_the_mean_and_collapses_for_equal_values():
    values = np.array([0.1, 0.1, 1.0, 1.0, 1.0, 0.1, 1.0, 1.0, 0.1, 1.0])
    low, high = memory.bootstrap_interval(values)
    assert low < values.mean() < high and 0.1 <= low and high <= 1.0
    assert memory.bootstrap_interval(np.full(10, 0.4)) == (pytest.approx(0.4), pytest.approx(0.4))
    assert memory.bootstrap_interval(values) == (low, high)      # seeded


def test_intervals_apart_only_when_the_bootstrap_intervals_do_not_overlap():
    learned, failed = np.array([1.0, 0.99, 1.0, 0.98, 1.0]), np.array([0.1, 0.12, 0.09, 0.11, 0.1])
    assert memory.intervals_apart(learned, failed) and not memory.intervals_apart(failed, learned)
    mostly_learned, once_learned = np.array([1.0, 0.1, 1.0, 0.1, 1.0]), np.array([0.1, 0.1, 0.1, 0.1, 1.0])
    assert not memory.intervals_apart(learned, mostly_learned)     # its interval reaches up to 1
    assert not memory.intervals_apart(once_learned, failed)        # its interval reaches down to 0.1
    assert not memory.intervals_apart(learned, learned)           # equal intervals: not apart
    low, high = memory.bootstrap_interval(failed)
    assert memory.intervals_apart(np.full(3, high + 0.01), failed) and not memory.intervals_apart(np.full(3, low), failed)


def fake_result():
    accuracy = {"rnn": np.array([[1.0, 1.0, 0.9], [0.1, 0.2, 1.0]]), "lstm": np.array([[1.0] * 3, [1.0, 0.9, 1.0]])}
    return memory.SweepResult("gap", (0, 10), (0, 1, 2), {
        model: {"test_accuracy": a, "test_loss": 1 - a, "reached_target": a >= 0.99} for model, a in accuracy.items()})


def test_plot_sweep_shows_every_seed_and_the_mean_with_its_interval():
    result = fake_result()
    fig, axes = plt.subplots(1, 2)
    memory.plot_sweep(axes[0], result, xlabel="gap")
    dots = [c for c in axes[0].collections if c.get_offsets().shape[0] == 6]
    assert len(dots) == 2                                       # one dot per seed and value, per model
    np.testing.assert_allclose(sorted(dots[0].get_offsets()[:, 1]), sorted(result.of("rnn", "test_accuracy").ravel()))
    means = [line.get_ydata() for line in axes[0].get_lines() if len(line.get_ydata()) == 2]
    np.testing.assert_allclose(means[0], result.of("rnn", "test_accuracy").mean(axis=1))
    memory.plot_reached(axes[1], result, xlabel="gap")
    heights = [bar.get_height() for bar in axes[1].patches]
    np.testing.assert_allclose(heights, [2 / 3, 1 / 3, 1.0, 2 / 3])
    plt.close(fig)
    table = memory.sweep_table(result, {"rnn": 0.01, "lstm": 0.03})
    assert "RNN                 0    2/3" in table and "0.03" in table


def test_plot_run_draws_the_loss_and_each_recall_position():
    history = memory.train(config(model="lstm", **TINY))
    fig, axes = plt.subplots(1, 2)
    memory.plot_run(axes, history)
    assert [line.get_label() for line in axes[1].get_lines()] == ["$r_{1}$", "$r_{2}$", "chance (1/K)"]
    plt.close(fig)


def test_a_student_loads_the_committed_results_without_training(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBOOK_QUICK", "0")                       # a declared full-mode run writes results/
    monkeypatch.setenv("WORKBOOK_RESULTS_DIR", str(tmp_path / "results"))
    monkeypatch.setenv("WORKBOOK_CACHE_DIR", str(tmp_path / "cache_of_the_author"))
    cfg = config(model="rnn", **TINY)
    trained = memory.run(cfg)
    model, with_weights = memory.run_model(cfg.replace(seed=1), commit_weights=True)
    monkeypatch.setenv("WORKBOOK_CACHE_DIR", str(tmp_path / "empty_cache_of_a_student"))
    monkeypatch.setattr(memory, "train", lambda *args, **kwargs: pytest.fail("trained instead of loading"))
    loaded = memory.run(cfg)
    assert loaded.source == "committed results" and loaded.final == trained.final
    loaded_model, again = memory.run_model(cfg.replace(seed=1), commit_weights=True)
    assert again.source == "committed results"
    for a, b in zip(model.parameters(), loaded_model.parameters()):
        assert torch.equal(a, b)


def test_glorot_initialisation_of_the_pytorch_rnn_matches_the_numpy_rnn():
    model = build_model(config(model="rnn", hidden_size=50, init="glorot", seed=3))
    weights = {name: p.detach().numpy() for name, p in model.named_parameters()}
    assert np.abs(weights["W_hh"]).max() <= np.sqrt(6 / 100) and not weights["b_h"].any() and not weights["b_p"].any()
    assert 0.9 * np.sqrt(1 / 50) < weights["W_hh"].std() < 1.1 * np.sqrt(1 / 50)     # variance 1/H
    default = build_model(config(model="rnn", hidden_size=50, seed=3)).W_hh.detach().numpy()
    assert 0.9 * np.sqrt(1 / 150) < default.std() < 1.1 * np.sqrt(1 / 150)            # PyTorch: 1/(3H)
    assert "init" not in config().to_dict() and config(init="glorot", model="rnn").to_dict()["init"] == "glorot"
    with pytest.raises(ValueError, match="init: expected 'torch' for the LSTM"):
        config(model="lstm", init="glorot")


def test_worker_processes_and_a_direct_call_give_the_same_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBOOK_CACHE_DIR", str(tmp_path / "here"))
    configs = [config(model=m, seed=s, **TINY) for m in ("rnn", "lstm") for s in (0, 1)]
    here = memory.run_many(configs)
    monkeypatch.setenv("WORKBOOK_CACHE_DIR", str(tmp_path / "there"))   # inherited by the workers
    there = memory.run_many(configs, workers=2)
    assert [h.loss for h in here] == [h.loss for h in there] and [h.final for h in here] == [h.final for h in there]
    assert not any(h.from_cache for h in here + there) and {h.source for h in here + there} == {"trained"}
    again = memory.sweep("seed", [0, 1], [0], {m: config(model=m, **TINY) for m in ("rnn", "lstm")}, workers=2)
    assert again.of("lstm", "test_accuracy")[:, 0].tolist() == [h.final["test_accuracy"] for h in there[2:]]
