"""helpers.training: the training loop, clipping, early stopping, divergence, history and run cache."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from helpers import training
from helpers.training import EarlyStopping, History, cached, fit

ROOT = Path(__file__).resolve().parent.parent


class Regression(torch.nn.Module):
    """y = x @ W + b with nn.Parameter (D inputs, one output)."""

    def __init__(self, D: int, seed: int = 0, dtype=torch.float32):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.W = torch.nn.Parameter(0.1 * torch.randn(D, 1, generator=g, dtype=dtype))
        self.b = torch.nn.Parameter(torch.zeros(1, dtype=dtype))

    def forward(self, x):
        return x @ self.W + self.b


class Scalar(torch.nn.Module):
    """One trainable scalar p; the loss functions below decide what it means."""

    def __init__(self, value: float = 1.0, dtype=torch.float32):
        super().__init__()
        self.p = torch.nn.Parameter(torch.tensor([value], dtype=dtype))


def regression_problem(D=3, N=64, seed=0):
    """Batches of a noisy linear map: next_batch(t) is deterministic in t."""
    rng = np.random.default_rng(seed)
    w_true = torch.tensor(rng.normal(size=(D, 1)), dtype=torch.float32)

    def next_batch(step):
        g = torch.Generator().manual_seed(step)
        x = torch.randn(N, D, generator=g)
        return x, x @ w_true + 0.01 * torch.randn(N, 1, generator=g)

    def loss_fn(model, batch):
        x, y = batch
        return ((model(x) - y) ** 2).mean()

    held_out = next_batch(10_000)

    def evaluate(model):
        return {"mse": float(loss_fn(model, held_out))}

    return next_batch, loss_fn, evaluate


def scalar_loss(model, batch):
    return (model.p ** 2).sum()


def scripted(values):
    """An `evaluate` returning the given accuracies one after another."""
    calls = iter(values)
    return lambda model: {"accuracy": next(calls)}


def sgd(model, lr=0.1):
    return torch.optim.SGD(model.parameters(), lr=lr)


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


def test_parameter_count():
    model = Regression(5)
    assert training.parameter_count(model) == 6
    model.b.requires_grad_(False)
    assert training.parameter_count(model) == 5


# ----------------------------------------------------------------------------------------------
# History
# ----------------------------------------------------------------------------------------------

def sample_history():
    return History(config={"seed": 1}, steps=[1, 2, 3], loss=[2.0, math.nan, math.inf],
                   grad_norm=[1.0, 0.5, math.nan], metrics={"accuracy": [(2, 0.5), (3, 0.75)]},
                   stopped="diverged", message="training diverged at step 3: loss is inf",
                   elapsed=1.25, final={"accuracy": 0.75, "per_position": [1.0, 0.5]})


def test_history_json_round_trip_keeps_nan_and_pairs():
    history = sample_history()
    again = History.from_json(history.to_json())
    assert again.metrics == {"accuracy": [(2, 0.5), (3, 0.75)]}
    assert math.isnan(again.loss[1]) and again.loss[2] == math.inf and math.isnan(again.grad_norm[2])
    assert (again.config, again.steps, again.stopped, again.message, again.elapsed, again.final) == \
           (history.config, history.steps, history.stopped, history.message, 1.25, history.final)
    assert again.diverged


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


# ----------------------------------------------------------------------------------------------
# caching
# ----------------------------------------------------------------------------------------------

CONFIG = {"version": 1, "model": "rnn", "hidden": 8, "seed": 0, "steps": 30, "lr": 0.01,
          "data": {"T": 5, "one_hot": True}}


class CountingRun:
    """A run function that trains a Regression model and counts its calls."""

    def __init__(self, model=None):
        self.calls = 0
        self.model = model if model is not None else Regression(3)

    def __call__(self):
        self.calls += 1
        next_batch, loss_fn, evaluate = regression_problem()
        return fit(self.model, sgd(self.model), next_batch, loss_fn, steps=30, eval_every=10,
                   evaluate=evaluate, progress=False)


def test_cache_round_trip_runs_once(tmp_path, capsys):
    run = CountingRun()
    first = cached(CONFIG, run, tmp_path)
    assert run.calls == 1 and not first.from_cache and first.config == CONFIG
    assert capsys.readouterr().out == ""
    second = cached(dict(reversed(list(CONFIG.items()))), run, tmp_path)  # key order is irrelevant
    assert run.calls == 1 and second.from_cache
    key = training.cache_key(CONFIG)
    assert capsys.readouterr().out == (f"reused cached run {key} "
                                       f"(trained in {first.elapsed:.1f} s, steps)\n")
    assert second.to_dict() == {**first.to_dict(), "from_cache": True}
    assert [p.name for p in tmp_path.iterdir()] == [f"{key}.json"]


@pytest.mark.parametrize("change", [
    {"version": 2}, {"model": "lstm"}, {"hidden": 9}, {"seed": 1}, {"steps": 31}, {"lr": 0.011},
    {"data": {"T": 6, "one_hot": True}}, {"data": {"T": 5, "one_hot": False}}, {"clip": 5.0}])
def test_any_config_change_retrains(tmp_path, change):
    run = CountingRun()
    cached(CONFIG, run, tmp_path)
    cached({**CONFIG, **change}, run, tmp_path, verbose=False)
    assert run.calls == 2
    cached({**CONFIG, **change}, run, tmp_path, verbose=False)
    cached(CONFIG, run, tmp_path, verbose=False)  # both runs stay cached side by side
    assert run.calls == 2
    assert training.cache_key({**CONFIG, **change}) != training.cache_key(CONFIG)


def test_numpy_scalars_give_the_same_key():
    config = {**CONFIG, "hidden": np.int64(8), "lr": np.float64(0.01)}
    assert training.cache_key(config) == training.cache_key(CONFIG)


@pytest.mark.parametrize("content", ["{not json", "", json.dumps({"key": "x"}), "[1, 2]"])
def test_corrupt_cache_file_is_ignored_and_rewritten(tmp_path, capsys, content):
    key = training.cache_key(CONFIG)
    (tmp_path / f"{key}.json").write_text(content)
    run = CountingRun()
    history = cached(CONFIG, run, tmp_path)
    assert run.calls == 1 and not history.from_cache
    assert f"ignored cached run {key}" in capsys.readouterr().out
    assert cached(CONFIG, run, tmp_path).from_cache and run.calls == 1


def test_cache_file_of_another_config_is_not_used(tmp_path, capsys):
    run = CountingRun()
    cached(CONFIG, run, tmp_path)
    path = tmp_path / f"{training.cache_key(CONFIG)}.json"
    record = json.loads(path.read_text())
    record["history"]["config"]["hidden"] = 99
    path.write_text(json.dumps(record))
    assert not cached(CONFIG, run, tmp_path).from_cache and run.calls == 2
    assert "different configuration" in capsys.readouterr().out


def test_cached_weights_are_saved_and_loaded(tmp_path):
    run = CountingRun(Regression(3, seed=0))
    cached(CONFIG, run, tmp_path, model=run.model)
    key = training.cache_key(CONFIG)
    assert (tmp_path / f"{key}.pt").exists()
    fresh = Regression(3, seed=5)
    assert not torch.equal(fresh.W, run.model.W)
    history = cached(CONFIG, run, tmp_path, model=fresh, verbose=False)
    assert history.from_cache and run.calls == 1
    assert torch.equal(fresh.W, run.model.W) and torch.equal(fresh.b, run.model.b)


def test_missing_weights_mean_retraining(tmp_path):
    run = CountingRun()
    cached(CONFIG, run, tmp_path)  # cached without a model: no weights stored
    history = cached(CONFIG, run, tmp_path, model=run.model, verbose=False)
    assert not history.from_cache and run.calls == 2
    assert (tmp_path / f"{training.cache_key(CONFIG)}.pt").exists()


def test_diverged_runs_are_cached(tmp_path):
    def diverging():
        model = Scalar()
        return fit(model, sgd(model), lambda t: None, lambda m, b: m.p.sum() * math.inf, steps=3,
                   progress=False)

    first = cached(CONFIG, diverging, tmp_path)
    again = cached(CONFIG, lambda: pytest.fail("retrained a cached run"), tmp_path, verbose=False)
    assert first.diverged and again.diverged and again.message == first.message


def test_cache_dir_default_and_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("WORKBOOK_CACHE_DIR", raising=False)
    assert training.default_cache_dir() == ROOT / ".cache" / "runs"
    monkeypatch.setenv("WORKBOOK_CACHE_DIR", str(tmp_path / "elsewhere"))
    assert training.default_cache_dir() == tmp_path / "elsewhere"
    run = CountingRun()
    cached(CONFIG, run)
    assert (tmp_path / "elsewhere" / f"{training.cache_key(CONFIG)}.json").exists()


@pytest.mark.parametrize("config, error, match", [
    ({"seed": 0}, ValueError, "version"),
    ({"version": 1, "lr": math.nan}, ValueError, "config"),
    ({"version": 1, "model": object()}, TypeError, "config"),
    ({"version": 1, "weights": torch.ones(2)}, TypeError, "config"),
    ([("version", 1)], TypeError, "config"),
])
def test_cached_rejects_bad_configs(tmp_path, config, error, match):
    with pytest.raises(error, match=match):
        cached(config, CountingRun(), tmp_path)


def test_cached_rejects_bad_run_and_model(tmp_path):
    with pytest.raises(TypeError, match="run"):
        cached(CONFIG, lambda: {"loss": [1.0]}, tmp_path)
    with pytest.raises(TypeError, match="run"):
        cached(CONFIG, None, tmp_path)
    with pytest.raises(TypeError, match="model"):
        cached(CONFIG, CountingRun(), tmp_path, model="weights.pt")
    assert list(tmp_path.iterdir()) == []


def test_single_threaded_restores_the_thread_count():
    before = torch.get_num_threads()
    with training.single_threaded():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
