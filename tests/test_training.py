"""helpers.training: the training loop, clipping, stopping rules, best step, divergence, threads."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from fit_doubles import Regression, Scalar, regression_problem, scalar_loss, scripted, sgd
from helpers import training
from helpers.training import Divergence, EarlyStopping, fit




# ----------------------------------------------------------------------------------------------
# fit
# ----------------------------------------------------------------------------------------------

def test_fit_trains_a_regression_and_records_everything():
    next_batch, loss_fn, evaluate = regression_problem()
    model = Regression(3)
    seen_steps, modes, reports = [], [], []

    def recording_batch(step):
        seen_steps.append(step)
        return next_batch(step)

    def recording_evaluate(m):
        modes.append((m.training, torch.is_grad_enabled()))
        return evaluate(m)

    history = fit(model, sgd(model), recording_batch, loss_fn, steps=120, eval_every=50,
                  evaluate=recording_evaluate, on_step=lambda h: reports.append(h.steps[-1]),
                  progress=False, config={"lr": 0.1})
    assert seen_steps == list(range(1, 121))
    assert history.steps == seen_steps
    assert len(history.loss) == len(history.grad_norm) == 120
    assert history.loss[-1] < history.loss[0] / 100
    steps, mse = history.metric("mse")
    assert steps == [50, 100, 120] and reports == [50, 100, 120]
    assert mse[-1] < mse[0] and mse[-1] < 1e-3
    assert modes == [(False, False)] * 3 and model.training
    assert history.final == {"mse": mse[-1]}
    assert history.stopped == "steps" and not history.diverged
    assert history.config == {"lr": 0.1} and history.elapsed > 0 and not history.from_cache


def test_fit_records_the_gradient_norm_before_the_update():
    model = Scalar(3.0, dtype=torch.float64)
    history = fit(model, sgd(model, lr=0.25), lambda t: None, scalar_loss, steps=3, progress=False)
    # p <- p - 0.25 * 2p = p / 2; gradient 2p: 6, 3, 1.5; loss p^2: 9, 2.25, 0.5625
    assert history.grad_norm == pytest.approx([6.0, 3.0, 1.5], rel=1e-15)
    assert history.loss == pytest.approx([9.0, 2.25, 0.5625], rel=1e-15)


def test_on_step_runs_at_report_points_without_evaluate():
    model = Scalar()
    reports = []
    fit(model, sgd(model), lambda t: None, scalar_loss, steps=7, eval_every=3, progress=False,
        on_step=lambda h: reports.append(len(h.steps)))
    assert reports == [3, 6, 7]


@pytest.mark.parametrize("progress, environment, disabled", [
    (True, None, False), (False, None, True), (True, "1", True), (True, "true", True), (True, "0", False)])
def test_progress_bar_follows_progress_and_tqdm_disable(monkeypatch, progress, environment, disabled):
    built = []

    class Recorder:
        def __init__(self, **kwargs):
            self.kwargs, self.updates = kwargs, 0
            built.append(self)

        def update(self, n):
            self.updates += n

        def set_postfix(self, postfix, refresh):
            self.postfix = postfix

        def close(self):
            self.closed = True

    monkeypatch.setattr(training, "tqdm", Recorder)
    if environment is None:
        monkeypatch.delenv("TQDM_DISABLE", raising=False)
    else:
        monkeypatch.setenv("TQDM_DISABLE", environment)
    model = Scalar()
    fit(model, sgd(model), lambda t: None, scalar_loss, steps=5, desc="demo", progress=progress)
    [bar] = built
    assert bar.kwargs == {"total": 5, "desc": "demo", "disable": disabled}
    assert bar.updates == 5 and bar.closed and "loss" in bar.postfix


# ----------------------------------------------------------------------------------------------
# clipping
# ----------------------------------------------------------------------------------------------

# loss = <A, a> + <B, b>: the gradients are exactly A (norm 10) and B (norm 0.5)
GRAD_A = torch.tensor([[6.0, 0.0], [0.0, -8.0]], dtype=torch.float64)
GRAD_B = torch.tensor([0.3, -0.4], dtype=torch.float64)


class TwoBlocks(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = torch.nn.Parameter(torch.randn(2, 2, dtype=torch.float64))
        self.b = torch.nn.Parameter(torch.randn(2, dtype=torch.float64))


def linear_loss(model, batch):
    return (GRAD_A * model.a).sum() + (GRAD_B * model.b).sum()


def clipped_by_fit(clip, clip_norm):
    """The gradients left in the model after one fit step with lr 0 (fit keeps them after the step)."""
    model = TwoBlocks()
    history = fit(model, torch.optim.SGD(model.parameters(), lr=0.0), lambda t: None, linear_loss,
                  steps=1, clip=clip, clip_norm=clip_norm, progress=False)
    return model.a.grad, model.b.grad, history.grad_norm[0]


def test_global_clipping_scales_all_gradients_by_one_factor():
    total = math.sqrt(100.25)
    a, b, recorded = clipped_by_fit("global", 2.0)
    assert recorded == pytest.approx(total, rel=1e-15)
    joint = math.sqrt(float((a ** 2).sum() + (b ** 2).sum()))
    assert joint == pytest.approx(2.0, rel=1e-6)  # torch divides by (norm + 1e-6)
    scale = 2.0 / total
    assert torch.allclose(a, GRAD_A * scale, rtol=1e-6, atol=0)
    assert torch.allclose(b, GRAD_B * scale, rtol=1e-6, atol=0)


def test_per_parameter_clipping_clips_each_gradient_alone():
    a, b, recorded = clipped_by_fit("per-parameter", 2.0)
    assert recorded == pytest.approx(math.sqrt(100.25), rel=1e-15)  # measured before clipping
    assert float(torch.linalg.vector_norm(a)) == pytest.approx(2.0, rel=1e-14)
    assert torch.allclose(a, GRAD_A * 0.2, rtol=1e-14, atol=0)
    assert torch.equal(b, GRAD_B)  # norm 0.5 < 2: untouched


def test_no_clipping_leaves_the_gradients():
    a, b, recorded = clipped_by_fit("global", None)
    assert torch.equal(a, GRAD_A) and torch.equal(b, GRAD_B)
    assert recorded == pytest.approx(math.sqrt(100.25), rel=1e-15)


def test_clip_gradients_direct_and_zero_gradient():
    model = TwoBlocks()
    linear_loss(model, None).backward()
    model.b.grad.zero_()
    before = training.clip_gradients(model.parameters(), 1.0, "per-parameter")
    assert before == pytest.approx(10.0, rel=1e-15)
    assert torch.equal(model.b.grad, torch.zeros(2, dtype=torch.float64))  # no 0/0
    assert float(torch.linalg.vector_norm(model.a.grad)) == pytest.approx(1.0, rel=1e-14)


def test_global_grad_norm_matches_the_definition():
    model = TwoBlocks()
    linear_loss(model, None).backward()
    assert training.global_grad_norm(model.parameters()) == pytest.approx(math.sqrt(100.25), rel=1e-15)
    assert training.global_grad_norm([torch.nn.Parameter(torch.ones(2))]) == 0.0  # no .grad yet


# ----------------------------------------------------------------------------------------------
# early stopping
# ----------------------------------------------------------------------------------------------

def run_scripted(values, rule, steps=1000, eval_every=10):
    model = Scalar()
    return fit(model, sgd(model, lr=0.01), lambda t: None, scalar_loss, steps=steps,
               eval_every=eval_every, evaluate=scripted(values), early_stopping=rule, progress=False)


def test_early_stop_when_target_reached():
    history = run_scripted([0.5, 0.9, 0.996, 0.999], EarlyStopping("accuracy", target=0.995))
    assert history.stopped == "early stop (target reached)"
    assert history.steps[-1] == 30 and history.metric("accuracy")[0] == [10, 20, 30]
    assert "0.996" in history.message and "step 30" in history.message
    assert history.final == {"accuracy": 0.996}


def test_early_stop_when_no_improvement():
    rule = EarlyStopping("accuracy", target=0.995, patience=3)
    history = run_scripted([0.5, 0.6, 0.6, 0.59, 0.6, 0.9], rule)
    assert history.stopped == "early stop (no improvement)"
    assert history.steps[-1] == 50  # best 0.6 at step 20, then 3 evaluations without improvement
    assert "best 0.6 at step 20" in history.message


def test_min_delta_counts_small_gains_as_no_improvement():
    rule = EarlyStopping("accuracy", patience=2, min_delta=0.02)
    history = run_scripted([0.5, 0.6, 0.605, 0.61, 0.7], rule)
    assert history.stopped == "early stop (no improvement)" and history.steps[-1] == 40


def test_min_steps_postpones_the_patience_rule():
    rule = EarlyStopping("accuracy", patience=1, min_steps=45)
    history = run_scripted([0.5] * 10, rule)
    assert history.stopped == "early stop (no improvement)" and history.steps[-1] == 50


def test_mode_min_for_a_loss_metric():
    model = Scalar()
    losses = iter([1.0, 0.5, 0.01])
    history = fit(model, sgd(model), lambda t: None, scalar_loss, steps=100, eval_every=5,
                  evaluate=lambda m: {"held_out_loss": next(losses)}, progress=False,
                  early_stopping=EarlyStopping("held_out_loss", target=0.05, mode="min"))
    assert history.stopped == "early stop (target reached)" and history.steps[-1] == 15


def test_without_a_stopping_reason_all_steps_run():
    history = run_scripted(iter(np.linspace(0.1, 0.9, 10)), EarlyStopping("accuracy", 0.995, patience=2),
                           steps=100)
    assert history.stopped == "steps" and history.steps[-1] == 100


def test_the_plateau_rule_is_off_unless_patience_is_given():
    history = run_scripted([0.5] * 100, EarlyStopping("accuracy", target=0.995), steps=300)
    assert history.stopped == "steps" and history.steps[-1] == 300


# ----------------------------------------------------------------------------------------------
# best validation step
# ----------------------------------------------------------------------------------------------

def run_with_snapshots(values, **options):
    """A regression trained with scripted validation values; returns (history, model, {step: W})."""
    next_batch, loss_fn, _ = regression_problem()
    model = Regression(3)
    snapshots = {}
    history = fit(model, sgd(model), next_batch, loss_fn, steps=10 * len(values), eval_every=10,
                  evaluate=scripted(values), on_step=lambda h: snapshots.update(
                      {h.steps[-1]: model.W.detach().clone()}), progress=False, **options)
    return history, model, snapshots


def test_restore_best_loads_the_parameters_of_the_best_validation_step():
    history, model, snapshots = run_with_snapshots([0.2, 0.7, 0.9, 0.6, 0.5], best_metric="accuracy")
    assert history.chosen_step == 30 and history.chosen_by == "best validation accuracy (max)"
    assert torch.equal(model.W, snapshots[30]) and not torch.equal(snapshots[30], snapshots[50])
    assert history.final == {"accuracy": 0.9}
    assert history.stopped == "steps" and history.metric("accuracy")[0] == [10, 20, 30, 40, 50]


def test_without_restore_the_last_step_is_kept():
    history, model, snapshots = run_with_snapshots([0.2, 0.9, 0.5], best_metric="accuracy", restore_best=False)
    assert history.chosen_step == 30 and history.chosen_by == "last step"
    assert torch.equal(model.W, snapshots[30]) and history.final == {"accuracy": 0.5}


def test_best_step_ties_keep_the_earlier_step_and_nan_never_wins():
    history, model, snapshots = run_with_snapshots([0.4, 0.8, math.nan, 0.8, 0.1], best_metric="accuracy")
    assert history.chosen_step == 20 and torch.equal(model.W, snapshots[20])


def test_best_step_in_mode_min():
    history, model, snapshots = run_with_snapshots([0.5, 0.1, 0.3], best_metric="accuracy", best_mode="min")
    assert history.chosen_step == 20 and torch.equal(model.W, snapshots[20])
    assert history.chosen_by == "best validation accuracy (min)"


def test_without_best_metric_the_last_step_is_chosen():
    history, model, snapshots = run_with_snapshots([0.2, 0.9, 0.5])
    assert (history.chosen_step, history.chosen_by, history.final) == (30, "last step", {"accuracy": 0.5})


def test_entries_an_on_step_hook_adds_to_final_are_kept():
    model = Scalar()

    def hook(history):
        history.final["extra"] = history.steps[-1]

    history = fit(model, sgd(model), lambda t: None, scalar_loss, steps=30, eval_every=10, on_step=hook,
                  evaluate=scripted([0.2, 0.9, 0.5]), best_metric="accuracy", progress=False)
    assert history.final == {"extra": 30, "accuracy": 0.9}


def test_best_step_with_early_stop_on_target():
    history, _, _ = run_with_snapshots([0.2, 0.999, 0.1], best_metric="accuracy",
                                       early_stopping=EarlyStopping("accuracy", target=0.995))
    assert history.stopped == "early stop (target reached)" and history.chosen_step == 20


# ----------------------------------------------------------------------------------------------
# threads
# ----------------------------------------------------------------------------------------------

def regression_run_under(threads: int):
    """Numbers of one seeded regression run started by a caller that uses `threads` torch threads,
    and the thread counts the loss function saw."""
    next_batch, loss_fn, evaluate = regression_problem(D=64, N=256)
    seen = set()

    def recording_loss(model, batch):
        seen.add(torch.get_num_threads())
        return loss_fn(model, batch)

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        model = Regression(64)
        history = fit(model, sgd(model, lr=0.05), next_batch, recording_loss, steps=50, eval_every=10,
                      evaluate=evaluate, progress=False)
        assert torch.get_num_threads() == threads  # fit gives the caller's setting back
    finally:
        torch.set_num_threads(before)
    return history.loss, history.metric("mse")[1], model.W.detach().clone(), seen


def test_same_seed_same_numbers_whatever_the_callers_thread_count():
    loss_1, mse_1, w_1, seen_1 = regression_run_under(1)
    loss_2, mse_2, w_2, seen_2 = regression_run_under(2)
    assert seen_1 == seen_2 == {1}
    assert loss_1 == loss_2 and mse_1 == mse_2 and torch.equal(w_1, w_2)


# ----------------------------------------------------------------------------------------------
# divergence
# ----------------------------------------------------------------------------------------------

def test_nan_loss_stops_with_a_clear_message(capsys):
    model = Scalar(2.0)
    before_step_7 = {}

    def next_batch(step):
        if step == 7:
            before_step_7["p"] = model.p.detach().clone()
        return math.nan if step == 7 else 1.0

    history = fit(model, sgd(model), next_batch, lambda m, scale: scale * (m.p ** 2).sum(), steps=20,
                  progress=False, desc="nan demo")
    assert history.stopped == "diverged" and history.diverged
    assert history.steps == list(range(1, 8)) and math.isnan(history.loss[-1])
    assert history.message == ("training diverged at step 7: loss is nan; "
                               "the model keeps the parameters of step 6")
    assert torch.equal(model.p.detach(), before_step_7["p"])  # no update with the broken step
    assert "nan demo: training diverged at step 7: loss is nan" in capsys.readouterr().out


def test_infinite_gradient_with_finite_loss_stops():
    model = Scalar(1e-30)  # float32: loss p * 1e30 * 1e30 = 1e30 is finite, its gradient 1e60 is not
    history = fit(model, sgd(model), lambda t: None, lambda m, b: (m.p * 1e30 * 1e30).sum(),
                  steps=5, progress=False)
    assert history.diverged and history.steps == [1]
    assert history.message.startswith("training diverged at step 1: gradient norm is inf (loss 1e+30)")
    assert model.p.item() == pytest.approx(1e-30, rel=1e-6)


def test_an_update_that_makes_parameters_non_finite_is_undone():
    model = Scalar(1.0)
    history = fit(model, torch.optim.SGD(model.parameters(), lr=1e38), lambda t: None,
                  lambda m, b: (m.p * 1e18).sum(), steps=5, progress=False)
    assert history.diverged and history.steps == [1]
    assert history.message == ("training diverged at step 1: its update made parameters NaN/inf "
                               "(loss 1e+18, gradient norm 1e+18); the model keeps the parameters of step 0")
    assert model.p.item() == 1.0 and history.chosen_step == 0


@pytest.mark.parametrize("scale, message", [
    (1.0, "training diverged at step 2: loss is inf; the model keeps the parameters of step 1"),
    (100.0, "training diverged at step 1: its update made parameters NaN/inf (loss 6.071, gradient norm "
            "63.1); the model keeps the parameters of step 0")])
def test_the_fast_rnn_at_an_overflowing_learning_rate_keeps_finite_parameters(scale, message):
    from helpers.torch_rnn import FastElmanRNN
    torch.manual_seed(0)
    model = FastElmanRNN(1, 8, 1)
    initial = [p.detach().clone() for p in model.parameters()]
    x = torch.randn(4, 5, 1)

    def loss_fn(m, batch):
        return scale * (m(x)[0] ** 2).mean()

    history = fit(model, torch.optim.SGD(model.parameters(), lr=1e38), lambda t: None, loss_fn, steps=3,
                  evaluate=lambda m: {"loss": float(loss_fn(m, None))}, progress=False)
    assert history.diverged and history.message == message
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), initial)) == (history.chosen_step == 0)
    steps, values = history.metric("loss")  # the kept parameters are evaluated: `final` describes them
    assert steps == [history.chosen_step] and history.final == {"loss": values[0]}


def scripted_loss_run(levels, steps, eval_every=5, **options):
    """lr 0 keeps p = 1, so the loss of step t is exactly levels(t)."""
    model = Scalar(1.0)
    return fit(model, sgd(model, lr=0.0), levels, lambda m, level: level * (m.p ** 2).sum(), steps=steps,
               eval_every=eval_every, progress=False, **options)


def test_a_finite_loss_that_stays_above_ten_times_the_first_is_divergence():
    history = scripted_loss_run(lambda t: 1.0 if t == 1 else 20.0, steps=100)
    assert history.diverged and history.steps[-1] == 15  # three report points (5, 10, 15) above 10
    assert history.message == ("training diverged at step 15: the mean training loss stayed above 10 x the "
                               "step-1 loss (1) for 3 report points in a row (last 20); "
                               "the model keeps the parameters of step 15")


@pytest.mark.parametrize("levels", [
    lambda t: 1.0 if t == 1 else 9.9,                                   # high, but below 10 x
    lambda t: 1.0 if t == 1 else (20.0 if 5 < t <= 15 or t > 20 and t <= 25 else 2.0),  # never 3 in a row
])
def test_a_loss_below_the_rule_or_not_long_enough_above_it_trains_on(levels):
    history = scripted_loss_run(levels, steps=60)
    assert history.stopped == "steps"


def test_the_divergence_rule_can_be_changed_or_switched_off():
    levels = lambda t: 1.0 if t == 1 else 20.0  # noqa: E731
    assert scripted_loss_run(levels, steps=100, divergence=None).stopped == "steps"
    assert scripted_loss_run(levels, steps=100, divergence=Divergence(loss_factor=30.0)).stopped == "steps"
    assert scripted_loss_run(levels, steps=100, divergence=Divergence(patience=5)).steps[-1] == 25


def test_clipping_with_a_huge_learning_rate_is_reported_as_diverged():
    # loss p^2, lr 3, clip 10: p goes 1, -5, 25, -5, 25, ... (losses 25 and 625, finite for ever)
    model = Scalar(1.0, dtype=torch.float64)
    history = fit(model, sgd(model, lr=3.0), lambda t: None, scalar_loss, steps=1000, clip_norm=10.0,
                  eval_every=10, progress=False)
    assert history.diverged and history.steps[-1] == 30
    assert "stayed above 10 x the step-1 loss (1)" in history.message


def test_divergence_with_restore_best_keeps_the_best_step():
    values = iter([0.3, 0.8, 0.5, 0.4, 0.2])
    history = scripted_loss_run(lambda t: 1.0 if t <= 10 else 50.0, steps=100,
                                evaluate=lambda m: {"accuracy": next(values)}, best_metric="accuracy")
    assert history.diverged and history.chosen_step == 10
    assert history.message.endswith("the model keeps the parameters of step 10 "
                                    "(best validation accuracy (max))")


# ----------------------------------------------------------------------------------------------
# bad input
# ----------------------------------------------------------------------------------------------

def fit_with(**overrides):
    model = Scalar()
    arguments = dict(model=model, optimizer=sgd(model), next_batch=lambda t: None,
                     loss_fn=scalar_loss, steps=3, progress=False)
    arguments.update(overrides)
    return fit(**arguments)


@pytest.mark.parametrize("overrides, error, match", [
    ({"steps": 0}, ValueError, "steps"),
    ({"steps": -5}, ValueError, "steps"),
    ({"steps": 2.5}, TypeError, "steps"),
    ({"eval_every": 0}, ValueError, "eval_every"),
    ({"clip": "layerwise", "clip_norm": 1.0}, ValueError, "clip"),
    ({"clip": None, "clip_norm": 1.0}, ValueError, "clip"),
    ({"clip_norm": math.inf}, ValueError, "clip_norm"),
    ({"clip_norm": math.nan}, ValueError, "clip_norm"),
    ({"clip_norm": 0.0}, ValueError, "clip_norm"),
    ({"clip_norm": -1.0}, ValueError, "clip_norm"),
    ({"clip_norm": "5"}, TypeError, "clip_norm"),
    ({"model": "net"}, TypeError, "model"),
    ({"model": torch.nn.Module()}, ValueError, "model"),
    ({"optimizer": "adam"}, TypeError, "optimizer"),
    ({"next_batch": None}, TypeError, "next_batch"),
    ({"loss_fn": 3}, TypeError, "loss_fn"),
    ({"evaluate": "accuracy"}, TypeError, "evaluate"),
    ({"on_step": 1}, TypeError, "on_step"),
    ({"early_stopping": EarlyStopping("accuracy", target=0.9)}, ValueError, "evaluate"),
    ({"early_stopping": {"metric": "accuracy"}, "evaluate": lambda m: {"accuracy": 1.0}},
     TypeError, "early_stopping"),
    ({"loss_fn": lambda m, b: m.p * torch.ones(3)}, TypeError, "loss_fn"),
    ({"loss_fn": lambda m, b: 1.0}, TypeError, "loss_fn"),
    ({"evaluate": lambda m: 0.9}, TypeError, "evaluate"),
    ({"evaluate": lambda m: {}}, TypeError, "evaluate"),
    ({"evaluate": lambda m: {"acc": 0.5}, "early_stopping": EarlyStopping("accuracy", target=0.9)},
     ValueError, "early_stopping"),
    ({"best_metric": "accuracy"}, ValueError, "evaluate"),
    ({"best_metric": 3, "evaluate": lambda m: {"accuracy": 1.0}}, TypeError, "best_metric"),
    ({"best_metric": "acc", "evaluate": lambda m: {"accuracy": 1.0}}, ValueError, "best_metric"),
    ({"best_mode": "up"}, ValueError, "best_mode"),
    ({"restore_best": "yes"}, ValueError, "restore_best"),
    ({"divergence": 10.0}, TypeError, "divergence"),
])
def test_fit_rejects_bad_input(overrides, error, match):
    with pytest.raises(error, match=match):
        fit_with(**overrides)


@pytest.mark.parametrize("kwargs, match", [
    ({"metric": "accuracy"}, "target"),
    ({"metric": "accuracy", "patience": 0}, "patience"),
    ({"metric": "accuracy", "target": math.nan}, "target"),
    ({"metric": "accuracy", "target": 0.9, "mode": "up"}, "mode"),
    ({"metric": "accuracy", "patience": 2, "min_delta": -0.1}, "min_delta"),
    ({"metric": "accuracy", "patience": 2, "min_steps": -1}, "min_steps"),
    ({"metric": "", "target": 0.9}, "metric"),
])
def test_early_stopping_rejects_bad_rules(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        EarlyStopping(**kwargs)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"loss_factor": 1.0}, ValueError, "loss_factor"), ({"loss_factor": math.inf}, ValueError, "loss_factor"),
    ({"loss_factor": "10"}, TypeError, "loss_factor"), ({"patience": 0}, ValueError, "patience"),
    ({"patience": 1.5}, TypeError, "patience")])
def test_divergence_rejects_bad_rules(kwargs, error, match):
    with pytest.raises(error, match=match):
        Divergence(**kwargs)


@pytest.mark.parametrize("args, error, match", [
    ((0.0, "global"), ValueError, "max_norm"),
    ((math.inf, "global"), ValueError, "max_norm"),
    ((1.0, "per-layer"), ValueError, "kind"),
])
def test_clip_gradients_rejects_bad_input(args, error, match):
    with pytest.raises(error, match=match):
        training.clip_gradients(TwoBlocks().parameters(), *args)


# ----------------------------------------------------------------------------------------------
# optimizers, parameter count
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, kind, momentum", [
    ("sgd", torch.optim.SGD, 0), ("momentum", torch.optim.SGD, 0.9),
    ("rmsprop", torch.optim.RMSprop, 0), ("adam", torch.optim.Adam, None)])
def test_make_optimizer(name, kind, momentum):
    optimizer = training.make_optimizer(name, Regression(2).parameters(), lr=0.01)
    assert type(optimizer) is kind and optimizer.param_groups[0]["lr"] == 0.01
    if momentum is not None:
        assert optimizer.param_groups[0]["momentum"] == momentum


@pytest.mark.parametrize("args, match", [
    (("nesterov", 0.1), "name"), (("sgd", 0.0), "lr"), (("sgd", -1.0), "lr")])
def test_make_optimizer_rejects_bad_input(args, match):
    name, lr = args
    with pytest.raises(ValueError, match=match):
        training.make_optimizer(name, Regression(2).parameters(), lr)
    with pytest.raises(ValueError, match="parameters"):
        training.make_optimizer("adam", [], 0.1)


@pytest.mark.parametrize("call, error, match", [
    (lambda: training.parameter_count("net"), TypeError, "^model: expected a torch.nn.Module"),
    (lambda: training.parameter_count(Regression), TypeError, "^model: expected a torch.nn.Module"),
    (lambda: training.global_grad_norm(None), TypeError, "^parameters: expected an iterable of tensors"),
    (lambda: training.global_grad_norm("abc"), TypeError, "^parameters: expected an iterable of tensors"),
    (lambda: training.make_optimizer("sgd", 3, 0.1), TypeError, "^parameters: expected an iterable of tensors"),
    (lambda: EarlyStopping("accuracy", 0.9).check({"metrics": {}}), TypeError, "^history: expected a History"),
])
def test_helpers_name_their_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_one_tensor_counts_as_a_parameter_list():
    p = torch.nn.Parameter(torch.ones(3))
    (2 * p).sum().backward()
    assert training.global_grad_norm(p) == pytest.approx(math.sqrt(12.0))


def test_parameter_count():
    model = Regression(5)
    assert training.parameter_count(model) == 6
    model.b.requires_grad_(False)
    assert training.parameter_count(model) == 5
