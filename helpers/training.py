"""The PyTorch training loop of notebooks 02–05: clipping, optimizers, evaluation, stopping rules.

    history = fit(model, optimizer, next_batch, loss_fn, steps=3000, clip_norm=10.0,
                  evaluate=lambda m: {"accuracy": validation_accuracy(m)}, eval_every=50,
                  early_stopping=EarlyStopping("accuracy", target=0.995),
                  best_metric="accuracy")              # restore the best validation step at the end
    history.record_final(test_accuracy=test_accuracy(model))

Module map: `helpers.history.History` (and the STOP_* values), `helpers.run_cache.cached` /
`cache_key` / `default_cache_dir` / `is_cached` (run cache and committed `results/`),
`helpers.results` (the reproduction check of committed results). This module owns `fit`,
`EarlyStopping`, `Divergence`, `clip_gradients`, `make_optimizer`, `parameter_count` and
`single_threaded`.

The protocol `fit` implements:
- Steps are numbered 1 … `steps`: step t draws ``next_batch(t)``, records the loss of that batch and
  the gradient norm *before* clipping, then updates the parameters. Evaluations ("report points") on
  the caller's validation data happen every `eval_every` steps and after the last step.
- Stopping early: only on reaching a target (`EarlyStopping(metric, target=…)`); the plateau rule
  (`patience`) is an explicit opt-in and off by default.
- Best step: with `best_metric`, the parameters of the best validation evaluation are restored at
  the end (`restore_best=True`); `History.chosen_step` / `chosen_by` say which step the model holds,
  `History.final` holds that step's validation metrics, and the caller adds test numbers with
  `History.record_final`.
- Threads: `fit` always trains on one CPU thread (`single_threaded`), whatever the caller set, so a
  direct call and a worker process give the same numbers (the run cache keys on threads = 1).
- Divergence never raises and never leaves broken parameters behind: NaN/inf in the loss or the
  gradient norm skips the update; parameters that turn NaN/inf after an update are reset to their
  values before it (checked after every update); a run whose mean training loss stays above
  `Divergence.loss_factor` x its step-1 loss for `Divergence.patience` report points in a row (finite
  but useless weights, e.g. a huge learning rate with clipping) is stopped too. Each ends with
  ``stopped == "diverged"`` and a `message` naming the step, the value and the step whose
  parameters the model keeps (``assert not history.diverged, history.message`` makes it a failure).
"""
from __future__ import annotations

import math
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import torch
from tqdm.auto import tqdm

from helpers import validate
from helpers.history import CHOSEN_LAST, STOP_DIVERGED, STOP_NO_IMPROVEMENT, STOP_STEPS, STOP_TARGET, History

CLIP_KINDS = ("global", "per-parameter")
OPTIMIZERS = ("sgd", "momentum", "rmsprop", "adam")


# ----------------------------------------------------------------------------------------------
# Gradients, optimizers
# ----------------------------------------------------------------------------------------------

def parameter_count(model: torch.nn.Module) -> int:
    """Number of trainable scalars in `model`."""
    if not isinstance(model, torch.nn.Module):
        validate.fail("model", "a torch.nn.Module (an instance)", model, TypeError)
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def _tensor_list(name: str, parameters) -> list[torch.Tensor]:
    """`parameters` (an iterable of tensors, e.g. `model.parameters()`, or one tensor) as a list."""
    if isinstance(parameters, torch.Tensor):
        return [parameters]
    try:
        items = None if isinstance(parameters, (str, bytes)) else list(parameters)
    except TypeError:
        items = None
    if items is None or not all(isinstance(p, torch.Tensor) for p in items):
        validate.fail(name, "an iterable of tensors (e.g. model.parameters())", parameters, TypeError)
    return items


def global_grad_norm(parameters: Iterable[torch.Tensor]) -> float:
    """sqrt of the sum of squared gradient entries over all `parameters` (those without .grad skipped)."""
    parameters = _tensor_list("parameters", parameters)
    norms = [torch.linalg.vector_norm(p.grad.detach()) for p in parameters if p.grad is not None]
    return float(torch.linalg.vector_norm(torch.stack(norms))) if norms else 0.0


def clip_gradients(parameters: Iterable[torch.Tensor], max_norm: float, kind: str = "global") -> float:
    """Clip the gradients in place; return the global gradient norm measured before clipping.

    "global":        all gradients scaled by one factor so that their joint norm is <= max_norm
                     (`torch.nn.utils.clip_grad_norm_`; the direction of the full gradient is kept).
    "per-parameter": each parameter's gradient with norm above max_norm is scaled to norm max_norm
                     on its own (directions of the single gradients are kept, the joint one is not).
    """
    max_norm = validate.positive("max_norm", max_norm)
    validate.choice("kind", kind, CLIP_KINDS)
    parameters = [p for p in parameters if p.grad is not None]
    if kind == "global":
        return float(torch.nn.utils.clip_grad_norm_(parameters, max_norm))
    before = global_grad_norm(parameters)
    for p in parameters:
        scale = (max_norm / torch.linalg.vector_norm(p.grad.detach())).clamp(max=1.0)  # norm 0 -> inf -> 1
        p.grad.detach().mul_(scale)
    return before


@contextmanager
def single_threaded():
    """Run torch on one CPU thread inside the block, then restore the previous setting.

    The workbook's models are small (a few 128 x 128 products per step): a second intra-op thread
    only adds synchronisation, and on a busy 2-core machine its spin-waiting slowed training down
    by 10-30x.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def make_optimizer(name: str, parameters: Iterable[torch.Tensor], lr: float,
                   momentum: float = 0.9) -> torch.optim.Optimizer:
    """"sgd", "momentum" (SGD with `momentum`), "rmsprop" or "adam" (torch defaults otherwise)."""
    validate.choice("name", name, OPTIMIZERS)
    lr = validate.positive("lr", lr)
    momentum = validate.real("momentum", momentum, low=0.0, high=1.0, high_open=True)
    parameters = _tensor_list("parameters", parameters)
    if not parameters:
        validate.fail("parameters", "at least one parameter", parameters)
    if name == "sgd":
        return torch.optim.SGD(parameters, lr=lr)
    if name == "momentum":
        return torch.optim.SGD(parameters, lr=lr, momentum=momentum)
    if name == "rmsprop":
        return torch.optim.RMSprop(parameters, lr=lr)
    return torch.optim.Adam(parameters, lr=lr)


# ----------------------------------------------------------------------------------------------
# Early stopping
# ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class EarlyStopping:
    """When to stop before `steps`, judged on an evaluated (validation) metric after every evaluation.

    The workbook's protocol stops only on success: ``EarlyStopping("accuracy", target=0.995)``.
    The plateau rule is an explicit opt-in (`patience`, default None = off): it ends runs that
    would still learn after a long plateau, so an experiment that uses it must justify its length.

    metric     key of the dict that `evaluate` returns (e.g. "accuracy")
    target     stop as soon as the metric reaches it (>= for mode "max", <= for mode "min")
    patience   opt-in plateau rule: stop when the metric has not improved by more than
               `min_delta` over the best value so far for `patience` evaluations in a row
    min_delta  the smallest change that counts as an improvement
    mode       "max" (accuracy) or "min" (a loss)
    min_steps  the no-improvement rule is not applied before this step (slow starters get time)
    """

    metric: str
    target: float | None = None
    patience: int | None = None
    min_delta: float = 0.0
    mode: str = "max"
    min_steps: int = 0

    def __post_init__(self):
        if not isinstance(self.metric, str) or not self.metric:
            validate.fail("metric", "a metric name", self.metric, TypeError)
        if self.target is None and self.patience is None:
            validate.fail("target", "a target or a patience (at least one)", self.target)
        if self.target is not None:
            validate.real("target", self.target)
        if self.patience is not None:
            validate.positive_int("patience", self.patience)
        validate.real("min_delta", self.min_delta, low=0.0)
        validate.choice("mode", self.mode, ("max", "min"))
        validate.non_negative_int("min_steps", self.min_steps)

    def check(self, history: History) -> tuple[str, str] | None:
        """(stopped, message) when `history` says stop now, else None."""
        if not isinstance(history, History):
            validate.fail("history", "a History", history, TypeError)
        if self.metric not in history.metrics:
            raise ValueError(f"early_stopping: expected the metric {self.metric!r} among the evaluated "
                             f"ones, got {', '.join(map(repr, history.metrics)) or 'none'}")
        steps, values = history.metric(self.metric)
        sign = 1.0 if self.mode == "max" else -1.0
        relation = ">=" if self.mode == "max" else "<="
        if self.target is not None and sign * values[-1] >= sign * self.target:
            return STOP_TARGET, (f"{self.metric} {values[-1]:.4g} {relation} target {self.target:g} "
                                 f"at step {steps[-1]}")
        if self.patience is None or steps[-1] < self.min_steps:
            return None
        best, best_step, since = values[0], steps[0], 0
        for step, value in zip(steps[1:], values[1:]):
            if sign * (value - best) > self.min_delta:
                best, best_step, since = value, step, 0
            else:
                since += 1
        if since >= self.patience:
            return STOP_NO_IMPROVEMENT, (
                f"{self.metric} has not improved by more than {self.min_delta:g} for {since} "
                f"evaluations (best {best:.4g} at step {best_step}); stopped at step {steps[-1]}")
        return None


@dataclass(frozen=True)
class Divergence:
    """When a run whose numbers stay finite still counts as diverged (checked at each report point).

    The reference is the training loss of step 1 (the untrained model's loss). When the mean
    training loss of the steps since the previous report point exceeds `loss_factor` x reference
    at `patience` report points in a row, training stops with ``stopped == "diverged"``. A run whose
    step-1 loss is 0 (or negative) is not judged by this rule. NaN/inf in the loss, the gradient norm
    or the parameters stops training at once, whatever this rule says. ``fit(divergence=None)``
    switches the rule off.

    Why 10 x and 3 report points (measured here): learning runs stay below their step-1 loss in
    every window (sine, default config, 2000 steps: at most 0.40 x for the RNN, 0.20 x for the LSTM;
    palindromes, H=128, RMSProp 1e-3, clip 10, 600 steps, windows of 50: at most 0.48 x (RNN) and
    0.65 x (LSTM) at T=10 one-hot, 0.99 x for the RNN at T=20 with raw digits; single batches up to
    1.27 x), while runs at a far too large learning rate with clipping at 10 (palindromes T=10, H=64:
    RMSProp or SGD at lr 1e3, Adam at lr 1) sit at 23-12,500 x it and are stopped at the third report
    point. Three points in a row keep one noisy window from ending a run.
    """

    loss_factor: float = 10.0
    patience: int = 3

    def __post_init__(self):
        validate.real("loss_factor", self.loss_factor, low=1.0, low_open=True)
        validate.positive_int("patience", self.patience)

    def exploded(self, window_means: list[float], reference: float) -> bool:
        """True when the last `patience` window means all exceed `loss_factor` x `reference`."""
        if reference <= 0 or len(window_means) < self.patience:
            return False
        limit = self.loss_factor * reference
        return all(mean > limit for mean in window_means[-self.patience:])


# ----------------------------------------------------------------------------------------------
# The training loop
# ----------------------------------------------------------------------------------------------

def progress_disabled_by_environment() -> bool:
    """True when TQDM_DISABLE is 1/true/yes (set by the notebook tests and the PDF export)."""
    return os.environ.get("TQDM_DISABLE", "").strip().lower() in {"1", "true", "yes"}


def _check_callable(name: str, value, optional: bool = False) -> None:
    if (value is None and not optional) or (value is not None and not callable(value)):
        validate.fail(name, "a callable" + (" or None" if optional else ""), value, TypeError)


def _loss_value(loss, step: int) -> float:
    if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
        validate.fail("loss_fn", f"to return a scalar tensor (step {step})", loss, TypeError)
    return float(loss.detach())


def _evaluate(model: torch.nn.Module, evaluate: Callable) -> dict[str, float]:
    """Run `evaluate(model)` in eval mode without gradients; return its metrics as floats."""
    model.eval()
    try:
        with torch.no_grad():
            metrics = evaluate(model)
    finally:
        model.train()
    if not isinstance(metrics, dict) or not metrics:
        validate.fail("evaluate", "to return a non-empty dict of metric name -> number", metrics, TypeError)
    return {str(name): float(value) for name, value in metrics.items()}


def _all_finite(parameters: list[torch.Tensor]) -> bool:
    return bool(torch.stack([torch.isfinite(p).all() for p in parameters]).all())


class _BestStep:
    """The best validation evaluation so far: its step, metrics and a copy of the model's state.

    Ties keep the earlier step; NaN never counts as better."""

    def __init__(self, metric: str, mode: str):
        self.metric, self.mode = metric, mode
        self.step: int | None = None
        self.value = math.nan
        self.metrics: dict[str, float] = {}
        self.state: dict[str, torch.Tensor] = {}

    def offer(self, step: int, metrics: dict[str, float], model: torch.nn.Module) -> None:
        if self.metric not in metrics:
            raise ValueError(f"best_metric: expected one of the evaluated metrics "
                             f"{', '.join(map(repr, metrics))}, got {self.metric!r}")
        value = metrics[self.metric]
        better = value > self.value if self.mode == "max" else value < self.value
        if not math.isnan(value) and (self.step is None or better):
            self.step, self.value, self.metrics = step, value, dict(metrics)
            self.state = {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}


def _check_fit_arguments(model, optimizer, next_batch, loss_fn, evaluate, on_step, clip, clip_norm,
                         early_stopping, best_metric, best_mode, divergence) -> None:
    if not isinstance(model, torch.nn.Module):
        validate.fail("model", "a torch.nn.Module", model, TypeError)
    if not isinstance(optimizer, torch.optim.Optimizer):
        validate.fail("optimizer", "a torch.optim.Optimizer", optimizer, TypeError)
    _check_callable("next_batch", next_batch)
    _check_callable("loss_fn", loss_fn)
    _check_callable("evaluate", evaluate, optional=True)
    _check_callable("on_step", on_step, optional=True)
    validate.choice("clip", clip, CLIP_KINDS + (None,))
    if clip_norm is not None and clip is None:
        validate.fail("clip", "'global' or 'per-parameter' when clip_norm is given", clip)
    if early_stopping is not None:
        if not isinstance(early_stopping, EarlyStopping):
            validate.fail("early_stopping", "an EarlyStopping or None", early_stopping, TypeError)
        if evaluate is None:
            validate.fail("evaluate", "a callable when early_stopping is given", evaluate)
    if best_metric is not None:
        if not isinstance(best_metric, str) or not best_metric:
            validate.fail("best_metric", "a metric name or None", best_metric, TypeError)
        if evaluate is None:
            validate.fail("evaluate", "a callable when best_metric is given", evaluate)
    validate.choice("best_mode", best_mode, ("max", "min"))
    if divergence is not None and not isinstance(divergence, Divergence):
        validate.fail("divergence", "a Divergence or None", divergence, TypeError)


def fit(model: torch.nn.Module, optimizer: torch.optim.Optimizer,
        next_batch: Callable[[int], Any], loss_fn: Callable[[torch.nn.Module, Any], torch.Tensor],
        steps: int, *, clip_norm: float | None = None, clip: str | None = "global",
        evaluate: Callable[[torch.nn.Module], dict[str, float]] | None = None, eval_every: int = 100,
        early_stopping: EarlyStopping | None = None, best_metric: str | None = None,
        best_mode: str = "max", restore_best: bool = True,
        divergence: Divergence | None = Divergence(), on_step: Callable[[History], None] | None = None,
        progress: bool = True, desc: str = "training", config: dict | None = None) -> History:
    """Train `model` for up to `steps` steps on one CPU thread and return its `History`.

    next_batch(t)          the batch of step t (t = 1 … steps)
    loss_fn(model, batch)  a scalar loss tensor
    clip_norm, clip        clip the gradients to `clip_norm`, "global" or "per-parameter"
                           (see `clip_gradients`); clip_norm None: no clipping
    evaluate(model)        dict of validation metrics, run every `eval_every` steps and after the
                           last step, in eval mode under `torch.no_grad()`
    early_stopping         an `EarlyStopping` on one of the evaluated metrics (target; plateau opt-in)
    best_metric, best_mode the evaluated metric that picks the best step, "max" or "min"
    restore_best           with `best_metric`: load the parameters of the best evaluation at the end
                           (History.chosen_step); False keeps the last parameters
    divergence             the rule for finite but exploding runs (`Divergence`; None: off)
    on_step(history)       called at every report point, after the evaluation (live plots); entries
                           it adds to `history.final` are kept
    progress, desc         a `tqdm.auto` bar (switched off by progress=False or TQDM_DISABLE=1)
    config                 stored in `History.config`
    Divergence ends training with ``stopped == "diverged"`` (module docstring); it never raises.
    """
    _check_fit_arguments(model, optimizer, next_batch, loss_fn, evaluate, on_step, clip, clip_norm,
                         early_stopping, best_metric, best_mode, divergence)
    steps = validate.positive_int("steps", steps)
    eval_every = validate.positive_int("eval_every", eval_every)
    if clip_norm is not None:
        clip_norm = validate.positive("clip_norm", clip_norm)
    validate.choice("restore_best", restore_best, (True, False))
    parameters = [p for p in model.parameters() if p.requires_grad]
    if not parameters:
        validate.fail("model", "a module with trainable parameters", model)

    history = History(config=dict(config or {}), source="trained")
    best = _BestStep(best_metric, best_mode) if best_metric is not None else None
    before_update = [p.detach().clone() for p in parameters]
    window_start, window_means = 0, []
    last_good, evaluated = 0, {}  # the last step whose parameters are finite; step -> its metrics
    with single_threaded():
        model.train()
        bar = tqdm(total=steps, desc=desc, disable=not progress or progress_disabled_by_environment())
        start = time.perf_counter()
        try:
            for step in range(1, steps + 1):
                optimizer.zero_grad(set_to_none=True)
                loss = loss_fn(model, next_batch(step))
                loss_value = _loss_value(loss, step)
                grad_norm = math.nan
                if math.isfinite(loss_value):
                    loss.backward()
                    grad_norm = (clip_gradients(parameters, clip_norm, clip) if clip_norm is not None
                                 else global_grad_norm(parameters))
                history.steps.append(step)
                history.loss.append(loss_value)
                history.grad_norm.append(grad_norm)
                if not (math.isfinite(loss_value) and math.isfinite(grad_norm)):
                    what = (f"loss is {loss_value}" if not math.isfinite(loss_value) else
                            f"gradient norm is {grad_norm} (loss {loss_value:.4g})")
                    history.stopped, history.message = STOP_DIVERGED, f"training diverged at step {step}: {what}"
                    break
                with torch.no_grad():
                    torch._foreach_copy_(before_update, parameters)
                    optimizer.step()
                    if not _all_finite(parameters):
                        torch._foreach_copy_(parameters, before_update)  # back to the last finite values
                        history.stopped, history.message = STOP_DIVERGED, (
                            f"training diverged at step {step}: its update made parameters NaN/inf "
                            f"(loss {loss_value:.4g}, gradient norm {grad_norm:.4g})")
                        break
                last_good = step
                bar.update(1)
                if step % eval_every and step != steps:
                    continue
                window_means.append(sum(history.loss[window_start:]) / (len(history.loss) - window_start))
                window_start = len(history.loss)
                postfix = {"loss": f"{loss_value:.4g}"}
                if evaluate is not None:
                    evaluated[step] = _evaluate(model, evaluate)
                    for name, value in evaluated[step].items():
                        history.metrics.setdefault(name, []).append((step, value))
                    history.final.update(evaluated[step])
                    if best is not None:
                        best.offer(step, evaluated[step], model)
                    postfix.update({name: f"{value:.4g}" for name, value in evaluated[step].items()})
                bar.set_postfix(postfix, refresh=False)
                if on_step is not None:
                    on_step(history)
                decision = early_stopping.check(history) if early_stopping is not None else None
                if decision is not None:
                    history.stopped, history.message = decision
                    break
                if divergence is not None and divergence.exploded(window_means, history.loss[0]):
                    history.stopped, history.message = STOP_DIVERGED, (
                        f"training diverged at step {step}: the mean training loss stayed above "
                        f"{divergence.loss_factor:g} x the step-1 loss ({history.loss[0]:.4g}) for "
                        f"{divergence.patience} report points in a row (last {window_means[-1]:.4g})")
                    break
            else:
                history.stopped, history.message = STOP_STEPS, f"trained for all {steps} steps"
            _choose_step(history, model, best if restore_best else None, last_good, evaluated, evaluate)
        finally:
            bar.close()
            history.elapsed = time.perf_counter() - start
    if history.diverged:
        bar.write(f"{desc}: {history.message}")
    return history


def _choose_step(history: History, model: torch.nn.Module, best: _BestStep | None, last_good: int,
                 evaluated: dict[int, dict[str, float]], evaluate: Callable | None) -> None:
    """Leave the model at the chosen step and record it: the best validation step when `best` has
    one, else the last step with finite parameters. The evaluated metrics in `final` become those
    of the chosen step (evaluated now when it was not, e.g. after a divergence between two report
    points); other entries that an `on_step` hook put into `final` are kept as they are."""
    if best is not None and best.step is not None:
        model.load_state_dict(best.state)
        history.chosen_step, history.chosen_by = best.step, f"best validation {best.metric} ({best.mode})"
        chosen = best.metrics
    else:
        history.chosen_step, history.chosen_by = last_good, CHOSEN_LAST
        if evaluate is not None and last_good not in evaluated:
            evaluated[last_good] = _evaluate(model, evaluate)
            for name, value in evaluated[last_good].items():
                history.metrics.setdefault(name, []).append((last_good, value))
        chosen = evaluated.get(last_good, {})
    history.final = {**{name: value for name, value in history.final.items() if name not in history.metrics},
                     **chosen}
    if history.diverged:
        history.message += f"; the model keeps the parameters of step {history.chosen_step}"
        if history.chosen_by != CHOSEN_LAST:
            history.message += f" ({history.chosen_by})"
