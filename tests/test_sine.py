"""helpers.sine: configuration, truncated sequence loss, closed-loop continuation, training, plots, panel."""
from __future__ import annotations

import matplotlib
import numpy as np
import pytest
import torch

from helpers import sine
from helpers.gradcheck import check

matplotlib.use("Agg")
TINY = {"hidden_size": 8, "batch_size": 8, "steps": 20, "eval_every": 10}


@pytest.fixture(autouse=True)
def single_thread():
    """Tiny models: torch's intra-op threads only slow them down on a busy machine."""
    with sine.one_thread():
        yield


def float64_model(kind="rnn", seed=0):
    torch.manual_seed(seed)
    return sine.MODELS[kind](1, 6, 1).double()


def waves(seed=1, batch=4, length=12):
    """Sine inputs (B, T) and next-sample targets (B, T) as float64 tensors."""
    rng = np.random.default_rng(seed)
    times = rng.uniform(0, 4 * np.pi, (batch, 1)) + 0.15 * np.arange(length + 1)
    samples = np.sin(rng.uniform(1, 2, (batch, 1)) * times)
    return torch.from_numpy(samples[:, :-1]), torch.from_numpy(samples[:, 1:])


def test_config_defaults_and_overrides():
    config = sine.sine_config(hidden_size=16, bptt_length=10)
    assert config == {**sine.DEFAULTS, "hidden_size": 16, "bptt_length": 10}
    assert sine.DEFAULTS["clip_norm"] == 5.0 and sine.DEFAULTS["bptt_length"] is None


@pytest.mark.parametrize("overrides, name, error", [
    ({"model": "gru"}, "model", ValueError), ({"hidden_size": 0}, "hidden_size", ValueError),
    ({"lr": -1.0}, "lr", ValueError), ({"steps": 1.5}, "steps", TypeError),
    ({"bptt_length": 0}, "bptt_length", ValueError), ({"clip_norm": 0.0}, "clip_norm", ValueError),
    ({"optimizer": "lbfgs"}, "optimizer", ValueError), ({"seed": -1}, "seed", ValueError),
    ({"hiden_size": 8}, "overrides", ValueError)])
def test_config_rejects_bad_entries(overrides, name, error):
    with pytest.raises(error, match=name):
        sine.sine_config(**overrides)


def parameter_gradients(model, loss) -> dict:
    model.zero_grad()
    loss.backward()
    return {name: p.grad.clone().numpy() for name, p in model.named_parameters()}


@pytest.mark.parametrize("kind", ["rnn", "lstm"])
def test_truncated_loss_keeps_the_value_and_cuts_the_gradient_at_chunk_starts(kind):
    model = float64_model(kind)
    inputs, targets = waves()
    T, k = inputs.shape[1], 5
    full_loss = sine.sequence_loss(model, inputs, targets)
    truncated_loss = sine.sequence_loss(model, inputs, targets, k)
    plain, _ = model(inputs[..., None])
    assert full_loss.item() == pytest.approx(torch.mean((plain[..., 0] - targets) ** 2).item(), rel=1e-14)
    assert truncated_loss.item() == pytest.approx(full_loss.item(), rel=1e-14)

    # Brute force: each chunk starts from the state the full pass reached there, held constant.
    starts, state = [], None
    with torch.no_grad():
        for begin in range(0, T, k):
            starts.append(state)
            _, state = model(inputs[:, begin:begin + k, None], state)
    squared_errors = sum(((model(inputs[:, begin:begin + k, None], start)[0][..., 0]
                           - targets[:, begin:begin + k]) ** 2).sum()
                         for begin, start in zip(range(0, T, k), starts))
    brute = parameter_gradients(model, squared_errors / targets.numel())
    truncated = parameter_gradients(model, sine.sequence_loss(model, inputs, targets, k))
    full = parameter_gradients(model, sine.sequence_loss(model, inputs, targets))
    check({name: (truncated[name], brute[name]) for name in brute}, 1e-12)
    assert any(not np.allclose(truncated[name], full[name]) for name in full)
    whole = parameter_gradients(model, sine.sequence_loss(model, inputs, targets, T))
    assert all(np.array_equal(whole[name], full[name]) for name in full)


@pytest.mark.parametrize("kind", ["rnn", "lstm"])
def test_continuation_feeds_each_prediction_back_as_the_next_input(kind):
    model = float64_model(kind, seed=2)
    inputs, _ = waves(seed=3, length=10)
    warmup = inputs.numpy()[:, :6]
    generated = sine.continue_sine(model, warmup, n=7)
    assert generated.shape == (4, 7) and generated.dtype == np.float64
    # Teacher forcing on the model's own outputs reproduces them: p_t is the prediction of sample t + 1.
    with torch.no_grad():
        p, _ = model(np.concatenate([warmup, generated[:, :-1]], axis=1)[..., None])
    check({"generated": (generated, p[:, warmup.shape[1] - 1:, 0].numpy())}, 1e-12)


def test_continuation_rejects_bad_arguments():
    model = float64_model()
    with pytest.raises(ValueError, match="warmup"):
        sine.continue_sine(model, np.zeros(5))
    with pytest.raises(ValueError, match="warmup"):
        sine.continue_sine(model, np.full((2, 5), np.nan))
    with pytest.raises(ValueError, match="n"):
        sine.continue_sine(model, np.zeros((2, 5)), n=0)


def test_training_records_loss_metrics_and_continuations_and_is_reproducible():
    reports = []
    model, history = sine.train_sine_model(sine.sine_config(**TINY), on_step=lambda h: reports.append(h.steps[-1]))
    assert isinstance(model, sine.MODELS["rnn"])
    assert history.steps == list(range(1, 21)) and len(history.loss) == 20 and history.stopped == "steps"
    assert reports == [10, 20]
    assert [step for step, _ in history.metrics["continuation_mse"]] == [10, 20]
    record = history.final["continuation"]
    assert np.shape(record["warmup"]) == (sine.SHOWN_CURVES, sine.WARMUP)
    assert np.shape(record["truth"]) == np.shape(record["generated"]) == (sine.SHOWN_CURVES, sine.CONTINUATION)
    curves = sine.held_out_curves()
    squared_errors = (sine.continue_sine(model, curves.inputs[:, :sine.WARMUP]) - curves.inputs[:, sine.WARMUP:]) ** 2
    assert history.final["continuation_mse"] == pytest.approx(np.mean(squared_errors), rel=1e-6)
    assert history.final[f"continuation_mse_{sine.SHORT_HORIZON}"] == pytest.approx(
        np.mean(squared_errors[:, :sine.SHORT_HORIZON]), rel=1e-6)
    np.testing.assert_allclose(record["errors"], squared_errors.mean(axis=0), rtol=1e-6)
    again = sine.train_sine(sine.sine_config(**TINY))
    assert again.loss == history.loss


def test_training_lowers_the_loss_for_both_models():
    for kind in ("rnn", "lstm"):
        history = sine.train_sine(sine.sine_config(**{**TINY, "steps": 60, "eval_every": 60, "lr": 1e-2}, model=kind))
        assert np.mean(history.loss[-10:]) < 0.5 * np.mean(history.loss[:10]), kind


def test_truncated_training_runs():
    history = sine.train_sine(sine.sine_config(**TINY, bptt_length=7, clip_norm=None))
    assert history.config["bptt_length"] == 7 and np.all(np.isfinite(history.loss))


def test_figure_and_panel():
    history = sine.train_sine(sine.sine_config(**TINY))
    fig = sine.sine_figure(history, title="tiny")
    loss_ax, curve_ax, error_ax = fig.axes
    assert curve_ax.get_xlabel() == "sample index" and len(curve_ax.lines) == 3 * sine.SHOWN_CURVES + 1
    assert loss_ax.get_ylabel() == "MSE" and error_ax.get_xlabel() == "generated sample"
    np.testing.assert_allclose(error_ax.lines[0].get_ydata(), history.final["continuation"]["errors"])
    box = sine.sine_panel(hidden_size=4, batch_size=4, steps=100, eval_every=50)
    box.run()
    status = box.children[-2].children[1]
    assert status.value == "done"  # a failing run would say "failed" (widgets.panel)


def test_one_thread_restores_the_thread_count():
    before = torch.get_num_threads()
    with sine.one_thread():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
