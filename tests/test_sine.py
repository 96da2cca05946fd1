"""helpers.sine: configuration, truncated sequence loss, closed-loop loss and continuation, learning-rate
schedule, training, plots, panel."""
from __future__ import annotations

import dataclasses
import re

import matplotlib
import numpy as np
import pytest
import torch

from helpers import sine, training
from helpers.data import sine_waves
from helpers.gradcheck import check, numerical_gradient

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

TINY = {"hidden_size": 8, "batch_size": 8, "max_steps": 20, "eval_every": 10}


@pytest.fixture(autouse=True)
def single_thread():
    """Tiny models: torch's intra-op threads only slow them down on a busy machine."""
    with training.single_threaded():
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


def test_config_defaults_overrides_and_immutability():
    config = sine.config(hidden_size=16, bptt_length=10)
    assert config == dataclasses.replace(sine.SineConfig(), hidden_size=16, bptt_length=10)
    defaults = sine.config()
    assert defaults.max_norm == 5.0 and defaults.bptt_length is None and defaults.ramp == 0.5
    assert defaults.teacher_steps == sine.WARMUP and defaults.lr_schedule == "cosine"
    assert sine.config(teacher_steps=None).teacher_steps is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.lr = 1.0
    stored = config.as_dict()
    assert stored["experiment"] == "sine" and stored["version"] == sine.VERSION
    assert sine.config(**stored) == config  # a stored config is read back as it is


@pytest.mark.parametrize("version", [1, sine.VERSION + 1, True, "3"])
def test_the_version_is_a_constant_not_a_setting(version):
    with pytest.raises(ValueError, match="version: expected .*not a setting"):
        sine.config(version=version)
    with pytest.raises(ValueError, match="experiment"):
        sine.config(experiment="memory")


@pytest.mark.parametrize("overrides, name, error", [
    ({"model": "gru"}, "model", ValueError), ({"hidden_size": 0}, "hidden_size", ValueError),
    ({"lr": -1.0}, "lr", ValueError), ({"max_steps": 1.5}, "max_steps", TypeError),
    ({"bptt_length": 0}, "bptt_length", ValueError), ({"max_norm": 0.0}, "max_norm", ValueError),
    ({"optimizer": "lbfgs"}, "optimizer", ValueError), ({"seed": -1}, "seed", ValueError),
    ({"teacher_steps": 0}, "teacher_steps", ValueError), ({"teacher_steps": 2.5}, "teacher_steps", TypeError),
    ({"lr_schedule": "step"}, "lr_schedule", ValueError), ({"ramp": 1.5}, "ramp", ValueError),
    ({"seed": 2 ** 64}, "seed", ValueError), ({"hiden_size": 8}, "overrides", ValueError)])
def test_config_rejects_bad_entries(overrides, name, error):
    with pytest.raises(error, match=name):
        sine.config(**overrides)


@pytest.mark.parametrize("loss", ["sequence", "closed loop"])
def test_losses_reject_targets_of_another_shape_and_nan(loss):
    model = float64_model()
    inputs, targets = waves()
    compute = ((lambda x, y: sine.sequence_loss(model, x, y)) if loss == "sequence"
               else (lambda x, y: sine.closed_loop_loss(model, x, y, 3)))
    with pytest.raises(ValueError, match="targets: expected the shape of inputs"):
        compute(inputs, targets[:, :1])                    # would broadcast silently
    with pytest.raises(ValueError, match="targets: expected finite"):
        compute(inputs, torch.where(targets > 0.5, torch.nan, targets))
    with pytest.raises(ValueError, match="inputs"):
        compute(inputs[0], targets[0])


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


@pytest.mark.parametrize("kind", ["rnn", "lstm"])
def test_closed_loop_loss_runs_the_model_on_its_own_predictions(kind):
    model = float64_model(kind, seed=6)
    inputs, targets = waves(seed=7, length=15)
    W = 6
    with torch.no_grad():
        teacher_forced, _ = model(inputs[:, :W, None])
        loss = sine.closed_loop_loss(model, inputs, targets, W)
    # Predictions 1..W-1 see true inputs; from the W-th on they are `continue_sine`'s generated samples.
    generated = sine.continue_sine(model, inputs[:, :W].numpy(), n=inputs.shape[1] - W + 1)
    predictions = np.concatenate([teacher_forced[:, :W - 1, 0].numpy(), generated], axis=1)
    expected = np.mean((predictions - targets.numpy()) ** 2)
    check({"closed-loop loss": (np.array([loss.item()]), np.array([expected]))}, 1e-12)
    # The true inputs after the first W never enter the closed-loop loss (teacher forcing reads them).
    scrambled = inputs.clone()
    scrambled[:, W:] = torch.from_numpy(np.random.default_rng(8).standard_normal((inputs.shape[0], inputs.shape[1] - W)))
    with torch.no_grad():
        assert sine.closed_loop_loss(model, scrambled, targets, W).item() == loss.item()
        assert sine.sequence_loss(model, scrambled, targets).item() != sine.sequence_loss(model, inputs, targets).item()


@pytest.mark.parametrize("kind", ["rnn", "lstm"])
def test_closed_loop_loss_equals_teacher_forcing_when_every_input_is_true(kind):
    model = float64_model(kind, seed=9)
    inputs, targets = waves(seed=10, length=10)
    for teacher_steps in (10, 25):
        for k in (None, 4):
            tf = parameter_gradients(model, sine.sequence_loss(model, inputs, targets, k))
            cl = parameter_gradients(model, sine.closed_loop_loss(model, inputs, targets, teacher_steps, k))
            check({name: (cl[name], tf[name]) for name in tf}, 1e-12)


@pytest.mark.parametrize("kind", ["rnn", "lstm"])
def test_closed_loop_gradient_flows_through_the_fed_back_predictions(kind):
    """Every parameter's gradient against central differences (float64, step 1e-5): the feedback path
    is part of the loss, so detaching the fed-back predictions would fail this check."""
    model = float64_model(kind, seed=11)
    inputs, targets = waves(seed=12, batch=3, length=9)
    W = 3
    analytic = parameter_gradients(model, sine.closed_loop_loss(model, inputs, targets, W))

    def loss():
        with torch.no_grad():
            return sine.closed_loop_loss(model, inputs, targets, W).item()

    numeric = {name: numerical_gradient(loss, p.data.numpy()) for name, p in model.named_parameters()}
    check({name: (analytic[name], numeric[name]) for name in analytic}, 1e-7)

    # The same loss with the predictions detached before they are fed back has a different gradient.
    detached_model = float64_model(kind, seed=11)
    p, state = detached_model(inputs[:, :W, None])
    predictions, fed = [p[..., 0]], p[:, -1:, 0]
    for _ in range(W, inputs.shape[1]):
        p, state = detached_model(fed.detach()[..., None], state)
        fed = p[..., 0]
        predictions.append(fed)
    cut = parameter_gradients(detached_model, torch.mean((torch.cat(predictions, 1) - targets) ** 2))
    assert any(not np.allclose(cut[name], analytic[name]) for name in analytic)


@pytest.mark.parametrize("kind", ["rnn", "lstm"])
def test_truncated_closed_loop_loss_keeps_the_value_and_cuts_the_gradient(kind):
    model = float64_model(kind, seed=13)
    inputs, targets = waves(seed=14, length=12)
    W, k = 5, 4
    full = sine.closed_loop_loss(model, inputs, targets, W)
    truncated = sine.closed_loop_loss(model, inputs, targets, W, k)
    assert truncated.item() == pytest.approx(full.item(), rel=1e-14)
    # Brute force: run every chunk of k steps from the state (and fed-back prediction) the full
    # pass reached at its start, held constant; the gradient of the sum is the truncated gradient.
    T = inputs.shape[1]
    with torch.no_grad():
        starts, state, fed = {}, None, None
        for t in range(T):
            if t % k == 0:
                starts[t] = (state, fed)
            p, state = model((inputs[:, t:t + 1] if t < W else fed)[..., None], state)
            fed = p[..., 0]
    errors = 0.0
    for begin, (state, fed) in starts.items():
        for t in range(begin, min(begin + k, T)):
            p, state = model((inputs[:, t:t + 1] if t < W else fed)[..., None], state)
            fed = p[..., 0]
            errors = errors + ((fed - targets[:, t:t + 1]) ** 2).sum()
    brute = parameter_gradients(model, errors / targets.numel())
    cut = parameter_gradients(model, sine.closed_loop_loss(model, inputs, targets, W, k))
    whole = parameter_gradients(model, sine.closed_loop_loss(model, inputs, targets, W))
    check({name: (cut[name], brute[name]) for name in brute}, 1e-12)
    assert any(not np.allclose(cut[name], whole[name]) for name in whole)


def test_closed_loop_loss_rejects_bad_arguments():
    model = float64_model()
    inputs, targets = waves()
    with pytest.raises(ValueError, match="teacher_steps"):
        sine.closed_loop_loss(model, inputs, targets, 0)
    with pytest.raises(TypeError, match="teacher_steps"):
        sine.closed_loop_loss(model, inputs, targets, None)
    with pytest.raises(ValueError, match="bptt_length"):
        sine.closed_loop_loss(model, inputs, targets, 3, bptt_length=0)


def test_teacher_steps_fall_from_the_whole_sequence_to_the_warmup():
    config = sine.config(max_steps=100, teacher_steps=30, ramp=0.5)
    counts = [sine.teacher_steps_at(config, step, 100) for step in range(1, 101)]
    assert counts[0] == 99 and counts[24] == 65 and counts[49:] == [30] * 51
    assert all(a >= b for a, b in zip(counts, counts[1:]))
    assert {sine.teacher_steps_at(sine.config(max_steps=100, ramp=0.0), step, 100) for step in (1, 50)} == {30}
    assert sine.teacher_steps_at(sine.config(teacher_steps=500), 1, 100) == 100


def test_learning_rate_schedules():
    cosine = sine.config(lr=0.01, max_steps=100)
    rates = [sine.learning_rate(cosine, step) for step in range(1, 101)]
    assert rates[0] == 0.01 and rates[50] == pytest.approx(0.005, rel=1e-12)
    assert all(a > b > 0 for a, b in zip(rates, rates[1:]))
    constant = sine.config(lr=0.01, max_steps=100, lr_schedule="constant")
    assert {sine.learning_rate(constant, step) for step in (1, 50, 100)} == {0.01}


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
    model = sine.build_model(sine.config(**TINY))
    history = sine.train(sine.config(**TINY), on_step=lambda h: reports.append(h.steps[-1]), model=model)
    assert isinstance(model, sine.MODELS["rnn"])
    assert history.steps == list(range(1, 21)) and len(history.loss) == 20 and history.stopped == "steps"
    assert reports == [10, 20]
    assert [step for step, _ in history.metrics["continuation_mse"]] == [10, 20]
    # the best validation step is restored; the reported numbers are those of the test curves
    validation = dict(history.metrics["continuation_mse"])
    assert history.chosen_step == min(validation, key=lambda step: (validation[step], step))
    assert history.final["continuation_mse"] == validation[history.chosen_step]
    record = history.final["continuation"]
    assert np.shape(record["warmup"]) == (sine.SHOWN_CURVES, sine.WARMUP)
    assert np.shape(record["truth"]) == np.shape(record["generated"]) == (sine.SHOWN_CURVES, sine.CONTINUATION)
    curves = sine.held_out_curves()
    squared_errors = (sine.continue_sine(model, curves.inputs[:, :sine.WARMUP]) - curves.inputs[:, sine.WARMUP:]) ** 2
    assert history.final["test_continuation_mse"] == pytest.approx(np.mean(squared_errors), rel=1e-6)
    assert history.final[f"test_continuation_mse_{sine.SHORT_HORIZON}"] == pytest.approx(
        np.mean(squared_errors[:, :sine.SHORT_HORIZON]), rel=1e-6)
    np.testing.assert_allclose(record["errors"], squared_errors.mean(axis=0), rtol=1e-6)
    again = sine.train(sine.config(**TINY).as_dict())   # a stored config trains the same run
    assert again.loss == history.loss


def test_validation_and_test_curves_are_disjoint():
    validation, test = sine.held_out_curves(seed=sine.VALIDATION_SEED), sine.held_out_curves()
    assert not set(validation.frequencies.tolist()) & set(test.frequencies.tolist())


def test_choose_lr_trains_every_rate_with_the_same_budget_and_picks_on_validation(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBOOK_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("WORKBOOK_QUICK", "1")
    runs, best = sine.choose_lr(sine.config(**TINY), grid=(1e-2, 1e-3))
    assert sorted(runs) == [1e-3, 1e-2]
    assert {len(history.steps) for _, history in runs.values()} == {TINY["max_steps"]}
    assert best == min(runs, key=lambda lr: runs[lr][1].final["continuation_mse"])
    model, history = sine.run_model(sine.config(**TINY, lr=1e-2))   # the cached run, weights included
    assert history.from_cache and history.loss == runs[1e-2][1].loss
    assert sine.run(sine.config(**TINY, lr=1e-2)).loss == history.loss
    for name, parameter in model.state_dict().items():
        assert torch.equal(parameter, runs[1e-2][0].state_dict()[name])


def test_rnn_hidden_matching_gives_the_nearest_parameter_count():
    lstm = training.parameter_count(sine.MODELS["lstm"](1, 16, 1))
    hidden = sine.rnn_hidden_matching(16)
    counts = {n: training.parameter_count(sine.MODELS["rnn"](1, n, 1)) for n in (hidden - 1, hidden, hidden + 1)}
    assert all(abs(counts[hidden] - lstm) <= abs(count - lstm) for count in counts.values())


def test_training_lowers_the_loss_for_both_models():
    for kind in ("rnn", "lstm"):
        history = sine.train(sine.config(**{**TINY, "max_steps": 60, "eval_every": 60, "lr": 1e-2}, model=kind,
                                         teacher_steps=None, lr_schedule="constant"))
        assert np.mean(history.loss[-10:]) < 0.5 * np.mean(history.loss[:10]), kind


def test_training_uses_the_closed_loop_loss_and_the_schedule():
    config = sine.config(**{**TINY, "eval_every": 20}, teacher_steps=40, ramp=0.5)
    model = sine.build_model(config)
    history = sine.train(config, model=model)
    assert history.chosen_step == 20  # the last evaluation: compare the parameters after every step
    # Replay: the same batches and learning rates with the closed-loop loss give the same losses.
    replay = sine.build_model(config)
    optimizer = torch.optim.Adam(replay.parameters(), lr=config.lr)
    generator = np.random.default_rng(config.seed)
    losses = []
    for step in range(1, config.max_steps + 1):
        for group in optimizer.param_groups:
            group["lr"] = sine.learning_rate(config, step)
        curves = sine_waves(config.batch_size, seed=generator)
        optimizer.zero_grad()
        teacher_steps = round(100 - 60 * min(1.0, step / 10))   # the ramp: 100 true inputs down to 40 at step 10
        loss = sine.closed_loop_loss(replay, torch.tensor(curves.inputs, dtype=torch.float32),
                                     torch.tensor(curves.targets, dtype=torch.float32), teacher_steps)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(replay.parameters(), config.max_norm)
        optimizer.step()
        losses.append(loss.item())
    np.testing.assert_allclose(history.loss, losses, rtol=1e-5)
    for name, parameter in model.state_dict().items():
        np.testing.assert_allclose(parameter.numpy(), replay.state_dict()[name].numpy(), rtol=1e-4, atol=1e-6)


def test_truncated_training_runs():
    history = sine.train(sine.config(**TINY, bptt_length=7, max_norm=None))
    assert history.config["bptt_length"] == 7 and np.all(np.isfinite(history.loss))


def test_figure_and_panel():
    history = sine.train(sine.config(**TINY))
    fig = sine.sine_figure(history, title="tiny")
    loss_ax, curve_ax, error_ax = fig.axes
    assert curve_ax.get_xlabel() == "sample index" and len(curve_ax.lines) == 3 * sine.SHOWN_CURVES + 1
    assert loss_ax.get_ylabel() == "MSE" and error_ax.get_xlabel() == "generated sample"
    np.testing.assert_allclose(error_ax.lines[0].get_ydata(), history.final["continuation"]["errors"])
    box = sine.sine_panel(hidden_size=4, batch_size=4, max_steps=100, eval_every=50, teacher_steps=None)
    training_mode = box.children[1]
    assert [value for _, value in training_mode.options] == [None, sine.WARMUP] and training_mode.value is None
    box.run()
    status = box.children[-2].children[1]
    assert status.value == "done"  # a failing run would say "failed" (widgets.panel)


def test_fit_sines_recovers_frequency_and_amplitude():
    rng = np.random.default_rng(15)
    frequencies, amplitudes, phases = rng.uniform(1, 2, 6), rng.uniform(0.5, 1.5, 6), rng.uniform(0, 2 * np.pi, 6)
    samples = amplitudes[:, None] * np.sin(frequencies[:, None] * 0.15 * np.arange(100) + phases[:, None])
    fitted, amplitude = sine.fit_sines(samples)
    np.testing.assert_allclose(fitted, frequencies, atol=0.5e-3)  # the grid spacing is 1e-3
    np.testing.assert_allclose(amplitude, amplitudes, rtol=1e-3)
    with pytest.raises(ValueError, match="samples"):
        sine.fit_sines(np.zeros(5))
    with pytest.raises(ValueError, match="step"):
        sine.fit_sines(samples, step=0.0)


def test_frequency_diagnosis_fits_the_generated_continuation():
    model = float64_model("lstm", seed=16)
    curves = sine.held_out_curves(5)
    diagnosis = sine.frequency_diagnosis(model, curves)
    fitted, amplitude = sine.fit_sines(sine.continue_sine(model, curves.inputs[:, :sine.WARMUP]))
    assert diagnosis == {"true": curves.frequencies.tolist(), "generated": fitted.tolist(),
                         "amplitude": amplitude.tolist()}


def test_brief_closed_loop_training_continues_better_than_zero():
    """A small LSTM, 100 closed-loop steps (ramp from teacher forcing): its 100 generated samples
    beat the continuation 0, and its first 20 are far better than 0."""
    history = sine.train(sine.config(model="lstm", hidden_size=16, batch_size=32, max_steps=100,
                                               lr=1e-2, eval_every=100))
    zero = np.mean(sine.held_out_curves().inputs[:, sine.WARMUP:] ** 2, axis=0)
    assert history.final["test_continuation_mse"] < 0.9 * np.mean(zero)
    assert history.final[f"test_continuation_mse_{sine.SHORT_HORIZON}"] < 0.25 * np.mean(zero[:sine.SHORT_HORIZON])


def test_plot_across_seeds_draws_every_seed_and_the_mean():
    from matplotlib.collections import LineCollection, PathCollection

    fig, ax = plt.subplots()
    sine.plot_across_seeds(ax, {"a": [0.1, 0.2, 0.4], "b": [0.01]}, ylabel="test continuation MSE")
    dots = [c.get_offsets() for c in ax.collections if isinstance(c, PathCollection)]
    means = [c.get_segments()[0] for c in ax.collections if isinstance(c, LineCollection)]
    assert [len(d) for d in dots] == [3, 1] and np.allclose(dots[0][:, 0], 0) and np.allclose(dots[1][:, 0], 1)
    assert np.allclose([m[0][1] for m in means], [0.7 / 3, 0.01])
    assert ax.get_yscale() == "log" and [t.get_text() for t in ax.get_xticklabels()] == ["a", "b"]
    plt.close(fig)


@pytest.mark.parametrize("scores, error, name", [
    ({}, TypeError, "scores"), ([0.1], TypeError, "scores"), ({"a": []}, ValueError, "scores['a']"),
    ({"a": [0.1, 0.0]}, ValueError, "scores['a']"), ({"a": [[0.1]]}, ValueError, "scores['a']"),
])
def test_plot_across_seeds_rejects_bad_scores(scores, error, name):
    fig, ax = plt.subplots()
    with pytest.raises(error, match=re.escape(name)):
        sine.plot_across_seeds(ax, scores, ylabel="MSE")
    plt.close(fig)
