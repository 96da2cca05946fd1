"""The PyTorch training loop of notebooks 02–05: clipping, evaluation, early stopping, history, caching.

    history = fit(model, optimizer, next_batch, loss_fn, steps=2000, clip_norm=5.0,
                  evaluate=held_out_accuracy, eval_every=50,
                  early_stopping=EarlyStopping("accuracy", target=0.995, patience=10))

Steps are numbered 1 … `steps`: step t draws ``next_batch(t)``, records the loss of that batch and
the gradient norm *before* clipping, then updates the parameters. Evaluations ("report points")
happen every `eval_every` steps and after the last step.

Divergence does not raise: when the loss or the gradient norm is NaN/inf at step t, `fit` skips the
update (the model keeps the last finite parameters), prints the message, and returns a `History`
with ``stopped == "diverged"`` and ``message`` naming the step and the value, so a notebook can
plot the curve up to that point and print the message (``assert not history.diverged, history.message``
turns it into a failure where one is wanted).

`cached(config, run)` stores finished runs as JSON under ``<repo>/.cache/runs`` (outside git;
the environment variable ``WORKBOOK_CACHE_DIR`` moves it) and reloads them instead of retraining.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
import torch
from tqdm.auto import tqdm

from helpers import validate
from helpers.workbook import REPO_ROOT

CLIP_KINDS = ("global", "per-parameter")
OPTIMIZERS = ("sgd", "momentum", "rmsprop", "adam")
STOP_STEPS = "steps"
STOP_TARGET = "early stop (target reached)"
STOP_NO_IMPROVEMENT = "early stop (no improvement)"
STOP_DIVERGED = "diverged"
CACHE_FORMAT = 1  # bump when the stored layout of a History changes: old files are then retrained


# ----------------------------------------------------------------------------------------------
# History
# ----------------------------------------------------------------------------------------------

@dataclass
class History:
    """What a training run produced; JSON round trip with `to_json` / `from_json`.

    config     the configuration the run was made with (for `cached`: the cache key's source)
    steps      step numbers t (1-based) of the recorded training steps
    loss       training loss of the batch at each recorded step
    grad_norm  global gradient norm before clipping at each recorded step
    metrics    name -> [(step, value), ...] from the evaluations
    stopped    why training ended: "steps", "early stop (target reached)",
               "early stop (no improvement)", "diverged" ("" while unfinished / hand-built)
    message    a sentence explaining `stopped` (names the step and the value)
    elapsed    wall-clock seconds of training (kept when the run is reloaded from the cache)
    from_cache True when `cached` loaded this run instead of training it
    final      results at the end: `fit` puts the metrics of the last evaluation here; callers
               may add their own JSON-serialisable entries before the run is cached
    """

    config: dict = field(default_factory=dict)
    steps: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    metrics: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    stopped: str = ""
    message: str = ""
    elapsed: float = 0.0
    from_cache: bool = False
    final: dict[str, Any] = field(default_factory=dict)

    @property
    def diverged(self) -> bool:
        """True when training stopped because the loss or the gradient norm was NaN/inf."""
        return self.stopped == STOP_DIVERGED

    def metric(self, name: str) -> tuple[list[int], list[float]]:
        """(steps, values) of the evaluated metric `name`."""
        validate.choice("name", name, tuple(self.metrics))
        pairs = self.metrics[name]
        return [step for step, _ in pairs], [value for _, value in pairs]

    def last(self, name: str) -> float:
        """The most recent value of metric `name`."""
        return self.metric(name)[1][-1]

    def best(self, name: str, mode: str = "max") -> float:
        """The largest (mode "max") or smallest (mode "min") value of metric `name`."""
        validate.choice("mode", mode, ("max", "min"))
        values = self.metric(name)[1]
        return max(values) if mode == "max" else min(values)

    def to_dict(self) -> dict:
        """A plain dict of JSON types (metric pairs become two-element lists)."""
        data = asdict(self)
        data["metrics"] = {name: [list(pair) for pair in pairs] for name, pairs in self.metrics.items()}
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "History":
        """Inverse of `to_dict`; ValueError when a field is missing or has the wrong type."""
        if not isinstance(data, dict):
            validate.fail("data", "a dict", data, TypeError)
        missing = [name for name in cls.__dataclass_fields__ if name not in data]
        if missing:
            raise ValueError(f"data: expected the History fields, got none for {', '.join(missing)}")
        steps, loss, grad_norm = list(data["steps"]), list(data["loss"]), list(data["grad_norm"])
        if not len(steps) == len(loss) == len(grad_norm):
            raise ValueError(f"data: expected steps, loss and grad_norm of equal length, got "
                             f"{len(steps)}, {len(loss)}, {len(grad_norm)}")
        metrics = {str(name): [(int(step), float(value)) for step, value in pairs]
                   for name, pairs in dict(data["metrics"]).items()}
        return cls(config=dict(data["config"]), steps=[int(s) for s in steps],
                   loss=[float(v) for v in loss], grad_norm=[float(v) for v in grad_norm],
                   metrics=metrics, stopped=str(data["stopped"]), message=str(data["message"]),
                   elapsed=float(data["elapsed"]), from_cache=bool(data["from_cache"]),
                   final=dict(data["final"]))

    def to_json(self) -> str:
        """The history as a JSON string (NaN/inf losses of a diverged run are kept)."""
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> "History":
        """Inverse of `to_json`."""
        return cls.from_dict(json.loads(text))


# ----------------------------------------------------------------------------------------------
# Gradients, optimizers
# ----------------------------------------------------------------------------------------------

def parameter_count(model: torch.nn.Module) -> int:
    """Number of trainable scalars in `model`."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def global_grad_norm(parameters: Iterable[torch.Tensor]) -> float:
    """sqrt of the sum of squared gradient entries over all `parameters` (those without .grad skipped)."""
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
    parameters = list(parameters)
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
    """When to stop before `steps`, judged on an evaluated metric after every evaluation.

    metric     key of the dict that `evaluate` returns (e.g. "accuracy")
    target     stop as soon as the metric reaches it (>= for mode "max", <= for mode "min")
    patience   stop when the metric has not improved by more than `min_delta` over the best
               value so far for `patience` evaluations in a row
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


def fit(model: torch.nn.Module, optimizer: torch.optim.Optimizer,
        next_batch: Callable[[int], Any], loss_fn: Callable[[torch.nn.Module, Any], torch.Tensor],
        steps: int, *, clip_norm: float | None = None, clip: str | None = "global",
        evaluate: Callable[[torch.nn.Module], dict[str, float]] | None = None, eval_every: int = 100,
        early_stopping: EarlyStopping | None = None, on_step: Callable[[History], None] | None = None,
        progress: bool = True, desc: str = "training", config: dict | None = None) -> History:
    """Train `model` for up to `steps` steps and return its `History`.

    next_batch(t)          the batch of step t (t = 1 … steps)
    loss_fn(model, batch)  a scalar loss tensor
    clip_norm, clip        clip the gradients to `clip_norm`, "global" or "per-parameter"
                           (see `clip_gradients`); clip_norm None: no clipping
    evaluate(model)        dict of metrics, run every `eval_every` steps and after the last step
                           in eval mode under `torch.no_grad()`
    early_stopping         an `EarlyStopping` on one of the evaluated metrics
    on_step(history)       called at every report point (every `eval_every` steps and at the end),
                           after the evaluation: the hook for live plots
    progress, desc         a `tqdm.auto` bar (switched off by progress=False or TQDM_DISABLE=1)
    config                 stored in `History.config`
    NaN/inf in the loss or the gradient norm ends training with ``stopped == "diverged"`` (module doc).
    """
    if not isinstance(model, torch.nn.Module):
        validate.fail("model", "a torch.nn.Module", model, TypeError)
    if not isinstance(optimizer, torch.optim.Optimizer):
        validate.fail("optimizer", "a torch.optim.Optimizer", optimizer, TypeError)
    _check_callable("next_batch", next_batch)
    _check_callable("loss_fn", loss_fn)
    _check_callable("evaluate", evaluate, optional=True)
    _check_callable("on_step", on_step, optional=True)
    steps = validate.positive_int("steps", steps)
    eval_every = validate.positive_int("eval_every", eval_every)
    validate.choice("clip", clip, CLIP_KINDS + (None,))
    if clip_norm is not None:
        clip_norm = validate.positive("clip_norm", clip_norm)
        if clip is None:
            validate.fail("clip", "'global' or 'per-parameter' when clip_norm is given", clip)
    if early_stopping is not None:
        if not isinstance(early_stopping, EarlyStopping):
            validate.fail("early_stopping", "an EarlyStopping or None", early_stopping, TypeError)
        if evaluate is None:
            validate.fail("evaluate", "a callable when early_stopping is given", evaluate)
    parameters = [p for p in model.parameters() if p.requires_grad]
    if not parameters:
        validate.fail("model", "a module with trainable parameters", model)

    history = History(config=dict(config or {}))
    start = time.perf_counter()
    model.train()
    bar = tqdm(total=steps, desc=desc, disable=not progress or progress_disabled_by_environment())
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
                what = f"loss is {loss_value}" if not math.isfinite(loss_value) else \
                    f"gradient norm is {grad_norm} (loss {loss_value:.4g})"
                history.stopped = STOP_DIVERGED
                history.message = (f"training diverged at step {step}: {what}; "
                                   f"the model keeps the parameters of step {step - 1}")
                bar.write(f"{desc}: {history.message}")
                break
            optimizer.step()
            bar.update(1)
            if step % eval_every and step != steps:
                continue
            postfix = {"loss": f"{loss_value:.4g}"}
            if evaluate is not None:
                metrics = _evaluate(model, evaluate)
                for name, value in metrics.items():
                    history.metrics.setdefault(name, []).append((step, value))
                history.final = dict(metrics)
                postfix.update({name: f"{value:.4g}" for name, value in metrics.items()})
            bar.set_postfix(postfix, refresh=False)
            if on_step is not None:
                on_step(history)
            decision = early_stopping.check(history) if early_stopping is not None else None
            if decision is not None:
                history.stopped, history.message = decision
                break
        else:
            history.stopped = STOP_STEPS
            history.message = f"trained for all {steps} steps"
    finally:
        bar.close()
        history.elapsed = time.perf_counter() - start
    return history


# ----------------------------------------------------------------------------------------------
# Caching finished runs
# ----------------------------------------------------------------------------------------------

def default_cache_dir() -> Path:
    """``$WORKBOOK_CACHE_DIR`` when set, else ``<repo>/.cache/runs`` (git-ignored)."""
    return Path(os.environ.get("WORKBOOK_CACHE_DIR") or REPO_ROOT / ".cache" / "runs")


def _json_value(value):
    if isinstance(value, np.generic):  # numpy scalars (np.int64, np.float32, np.bool_) as numbers
        return value.item()
    raise TypeError(f"config: expected JSON values (numbers, strings, booleans, None, lists, dicts), "
                    f"got a {type(value).__name__}: {value!r:.60}")


def canonical_config(config: dict) -> str:
    """The canonical JSON text of `config` (sorted keys, no spaces): what the cache key hashes.

    `config` must be a dict of JSON values (numpy scalars are converted, tuples become lists;
    NaN/inf are refused) and must contain a "version" entry that the caller bumps whenever the
    code behind the run changes its result.
    """
    if not isinstance(config, dict):
        validate.fail("config", "a dict", config, TypeError)
    if "version" not in config:
        validate.fail("config", "a 'version' entry (bump it when the training code changes)", config)
    try:
        return json.dumps(config, sort_keys=True, separators=(",", ":"), allow_nan=False,
                          default=_json_value)
    except ValueError as error:
        raise ValueError(f"config: expected finite numbers, got NaN or inf ({error})") from None


def cache_key(config: dict) -> str:
    """16 hex digits of the SHA-256 of the canonical config and the cache format."""
    text = f"{CACHE_FORMAT}:{canonical_config(config)}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _write_atomically(path: Path, write: Callable[[Any], None]) -> None:
    """Write through a temporary file in the same folder, then rename: no half-written files."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _read_cached(json_path: Path, key: str, config: dict) -> History:
    """The History stored under `key`; ValueError (with the reason) when it is unusable."""
    try:
        data = json.loads(json_path.read_text())
        history = History.from_dict(data["history"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ValueError(f"unreadable ({type(error).__name__}: {error})") from None
    if data.get("key") != key or history.config != config:
        raise ValueError("it belongs to a different configuration")
    return history


def cached(config: dict, run: Callable[[], History], cache_dir: str | Path | None = None, *,
           model: torch.nn.Module | None = None, verbose: bool = True) -> History:
    """Return the cached History of `config`, or call `run()` and cache what it returns.

    config     everything that changes the result, as JSON values: model kind and sizes, seed,
               steps, learning rate, optimizer, clipping, data parameters, early-stopping rule,
               and a "version" the caller bumps when the code changes (see `canonical_config`)
    run        trains and returns a History; called only on a cache miss. Its `config` is set to
               `config`. Diverged runs are cached like any other finished run.
    cache_dir  default `default_cache_dir()`; one ``<key>.json`` per run
    model      optional: the module `run` trains in place. Its state_dict is saved as ``<key>.pt``
               beside the JSON and, on a cache hit, loaded back into `model`.
    verbose    print a line when a cached run is reused or a broken cache file is replaced

    Unreadable or mismatching cache files are ignored, and the run is retrained and rewritten.
    """
    _check_callable("run", run)
    if model is not None and not isinstance(model, torch.nn.Module):
        validate.fail("model", "a torch.nn.Module or None", model, TypeError)
    key = cache_key(config)
    config = json.loads(canonical_config(config))
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    json_path, weights_path = folder / f"{key}.json", folder / f"{key}.pt"
    if json_path.exists():
        try:
            history = _read_cached(json_path, key, config)
            if model is not None:
                try:
                    model.load_state_dict(torch.load(weights_path, weights_only=True))
                except Exception as error:  # missing, truncated or mismatching weights: retrain
                    raise ValueError(f"its weights {weights_path.name} are unusable "
                                     f"({type(error).__name__})") from None
        except ValueError as problem:
            if verbose:
                print(f"ignored cached run {key}: {problem}; training again")
        else:
            history.from_cache = True
            if verbose:
                print(f"reused cached run {key} (trained in {history.elapsed:.1f} s, {history.stopped})")
            return history
    history = run()
    if not isinstance(history, History):
        validate.fail("run", "to return a History", history, TypeError)
    history.config, history.from_cache = config, False
    folder.mkdir(parents=True, exist_ok=True)
    if model is not None:
        _write_atomically(weights_path, lambda file: torch.save(model.state_dict(), file))
    record = {"key": key, "format": CACHE_FORMAT, "history": history.to_dict()}
    _write_atomically(json_path, lambda file: file.write(json.dumps(record, indent=1).encode()))
    return history
