"""helpers.memory: parameter counts, dh_T/dh_t against finite differences of the NumPy models,
training above chance, the run cache, bad input."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from helpers.data import memory_chance_level  # noqa: E402
from helpers.gradcheck import check, numerical_gradient_array  # noqa: E402
from helpers.memory import (build_model, default_config, hidden_state_gradient_norms,  # noqa: E402
                            lstm_parameter_count, matching_rnn_hidden_size, plot_run, plot_sweep,
                            rnn_parameter_count, sweep, train, train_model)
from helpers.numpy_lstm import lstm_forward  # noqa: E402
from helpers.numpy_rnn import rnn_forward  # noqa: E402
from helpers.torch_lstm import fused_gate_weights  # noqa: E402
from helpers.training import parameter_count  # noqa: E402


@pytest.mark.parametrize("model, hidden", [("rnn", 7), ("lstm", 5), ("rnn", 67), ("lstm", 32)])
def test_parameter_count_formulas_match_the_models(model, hidden):
    config = default_config(model=model, hidden_size=hidden, num_symbols=8)
    formula = (rnn_parameter_count if model == "rnn" else lstm_parameter_count)(10, hidden, 9)
    assert parameter_count(build_model(config)) == formula


@pytest.mark.parametrize("lstm_hidden, D, O", [(32, 10, 9), (8, 6, 5), (50, 3, 2), (1, 1, 1)])
def test_matching_rnn_hidden_size_is_the_closest_count(lstm_hidden, D, O):
    target = lstm_parameter_count(D, lstm_hidden, O)
    best = min(range(1, 400), key=lambda h: (abs(rnn_parameter_count(D, h, O) - target), h))
    assert matching_rnn_hidden_size(lstm_hidden, D, O) == best


def numpy_final_state(model, x, h, c):
    """h_T of the independent NumPy implementation with the torch model's weights, from state (h, c)."""
    w = {name: p.detach().numpy() for name, p in model.named_parameters()}
    if c is None:
        return rnn_forward(x, h, w["W_hx"], w["W_hh"], w["b_h"])[0][:, -1]
    Wx, Wh, b = (t.detach().numpy() for t in fused_gate_weights(model, "ifgo"))
    return lstm_forward(x, h, Wx, Wh, b, c0=c)[0][:, -1]


@pytest.mark.parametrize("kind", ["rnn", "lstm"])
def test_hidden_state_gradient_norms_match_finite_differences(kind):
    model = build_model(default_config(model=kind, hidden_size=4, num_symbols=2, seed=3)).double()
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


def test_training_an_easy_setting_beats_chance():
    config = default_config(model="rnn", hidden_size=32, to_remember_len=1, gap=1, steps=200, eval_every=50,
                            held_out_size=200, min_steps=200)
    seen = []
    history = train(config, on_step=lambda h: seen.append((h.steps[-1], h.config["gap"])), progress=False,
                    use_cache=False)
    assert seen == [(step, 1) for step in range(50, history.steps[-1] + 1, 50)]  # with the run's config
    assert history.final["test_accuracy"] > 3 * memory_chance_level(8)
    assert len(history.final["recall_per_position"]) == 1


def test_finished_runs_are_cached_with_their_weights(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBOOK_CACHE_DIR", str(tmp_path))
    config = default_config(model="lstm", hidden_size=4, to_remember_len=2, gap=1, steps=4, eval_every=2,
                            held_out_size=20)
    model, first = train_model(config, progress=False)
    again_model, again = train_model(config, progress=False)
    assert not first.from_cache and again.from_cache
    assert again.final == first.final
    for a, b in zip(model.parameters(), again_model.parameters()):
        assert torch.equal(a, b)
    results = sweep("gap", [1], models=("lstm",), seeds=(0,), progress=False, hidden_size=4,
                    to_remember_len=2, steps=4, eval_every=2, held_out_size=20)
    assert results["lstm"].shape == (1, 1) and results["lstm"][0, 0] == first.final["test_accuracy"]

    fig, axes = plt.subplots(1, 3)
    plot_run(first, axes[:2])
    assert [line.get_label() for line in axes[1].get_lines()] == ["$r_{1}$", "$r_{2}$", "chance (1/K)"]
    plot_sweep(axes[2], [1], results, "gap")
    assert axes[2].get_lines()[0].get_ydata()[0] == results["lstm"][0, 0]
    plt.close(fig)


@pytest.mark.parametrize("call, name", [
    (lambda: default_config(model="gru"), "model"),
    (lambda: default_config(hidden_units=3), "changes"),
    (lambda: default_config(hidden_size=0), "hidden_size"),
    (lambda: default_config(lr=-0.1), "lr"),
    (lambda: default_config(gap=-1), "gap"),
    (lambda: default_config(target_accuracy=1.5), "target_accuracy"),
    (lambda: matching_rnn_hidden_size(0, 10, 9), "lstm_hidden_size"),
    (lambda: train("lstm"), "config"),
    (lambda: hidden_state_gradient_norms(build_model(default_config(hidden_size=3)), np.zeros((2, 1, 10))), "x"),
])
def test_bad_input_names_the_argument(call, name):
    with pytest.raises((ValueError, TypeError), match=name):
        call()
