"""Notebook 05's experiment: predict the last digit of a palindrome from the first T - 1 digits.

One run (`train`) trains an Elman RNN or an LSTM (the from-scratch models of notebooks 02 and 03)
with cross-entropy on the last time step, gradient clipping and early stopping on the accuracy of a
**held-out** set (palindromes the training set never contains). `run` caches finished runs on disk,
`sweep` runs a grid of lengths x models x seeds (every run cached, optionally in parallel worker
processes), and the `plot_*` functions draw the results onto a given matplotlib `ax`.

A configuration is a dict of JSON values (`make_config` fills in the defaults and validates it):

    length          T, the palindrome length (inputs are the first T - 1 digits)
    model           "rnn" (`FastElmanRNN`) or "lstm" (`FastLSTM`), the fast twins of `ElmanRNN` and `LSTM`
    encoding        "one_hot" (10 features per step) or "digits" (the raw digit value, the sheet's)
    optimizer, lr   "sgd", "momentum", "rmsprop" or "adam" and its learning rate
    hidden_size, batch_size, max_steps (the step cap), max_norm (global gradient clipping)
    forget_bias     initial forget-gate bias of the LSTM (None for the RNN, which has no gates)
    seed            seeds the data, the initial weights and the batch order
    train_size, held_out_size   palindromes drawn for the two disjoint sets
    eval_every      steps between two held-out evaluations
    target_accuracy stop as soon as the held-out accuracy reaches it
    patience, min_delta, min_steps   stop after `patience` evaluations in a row without an
                    improvement of more than `min_delta` over the best so far, not before `min_steps`
"""
from __future__ import annotations

import atexit
import concurrent.futures
import multiprocessing
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from helpers import plots, validate
from helpers.data import DIGITS, PALINDROME_ENCODINGS, palindrome_splits
from helpers.torch_lstm import FastLSTM
from helpers.torch_rnn import FastElmanRNN
from helpers.training import (OPTIMIZERS, STOP_TARGET, EarlyStopping, History, cache_key, cached,
                              default_cache_dir, fit, make_optimizer)

MODELS = ("rnn", "lstm")
CHANCE = 1.0 / DIGITS
CHANCE_MARGIN = 0.05  # a mean accuracy below CHANCE + CHANCE_MARGIN counts as "at chance"
VERSION = 2  # bump when a change of this module changes what a run produces (invalidates the cache)

DEFAULTS = {
    "length": 10, "model": "lstm", "encoding": "one_hot", "optimizer": "rmsprop", "lr": 1e-3,
    "hidden_size": 128, "batch_size": 128, "max_steps": 3000, "max_norm": 10.0, "forget_bias": 1.0,
    "seed": 0, "train_size": 10_000, "held_out_size": 1000, "eval_every": 50,
    "target_accuracy": 0.995, "patience": 10, "min_delta": 0.01, "min_steps": 1000,
    "version": VERSION,
}


def make_config(**settings) -> dict:
    """The complete, validated configuration: `DEFAULTS` updated with `settings`.

    ValueError/TypeError naming the setting for unknown names and bad values.
    """
    unknown = sorted(set(settings) - set(DEFAULTS))
    if unknown:
        validate.fail("config", "settings among " + ", ".join(DEFAULTS), ", ".join(unknown))
    c = {**DEFAULTS, **settings}
    if c["version"] != VERSION:
        validate.fail("version", f"{VERSION} (this module's version)", c["version"])
    c["length"] = validate.integer("length", c["length"], minimum=3)
    validate.choice("model", c["model"], MODELS)
    validate.choice("encoding", c["encoding"], PALINDROME_ENCODINGS)
    validate.choice("optimizer", c["optimizer"], OPTIMIZERS)
    c["lr"] = validate.positive("lr", c["lr"])
    for name in ("hidden_size", "batch_size", "max_steps", "train_size", "held_out_size",
                 "eval_every", "patience"):
        c[name] = validate.positive_int(name, c[name])
    c["max_norm"] = validate.positive("max_norm", c["max_norm"])
    c["forget_bias"] = None if c["model"] == "rnn" else validate.real("forget_bias", c["forget_bias"])
    c["seed"] = validate.non_negative_int("seed", c["seed"])
    c["target_accuracy"] = validate.probability("target_accuracy", c["target_accuracy"])
    c["min_delta"] = validate.real("min_delta", c["min_delta"], low=0.0)
    c["min_steps"] = validate.non_negative_int("min_steps", c["min_steps"])
    return c


def build_model(config: dict) -> torch.nn.Module:
    """The untrained model of a configuration, its weights drawn from `config["seed"]`.

    The global torch generator is left as it was (the draw happens inside `fork_rng`).
    """
    c = make_config(**config)
    input_size = DIGITS if c["encoding"] == "one_hot" else 1
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(c["seed"])
        if c["model"] == "rnn":
            return FastElmanRNN(input_size, c["hidden_size"], DIGITS)
        return FastLSTM(input_size, c["hidden_size"], DIGITS, forget_bias=c["forget_bias"])


def last_step_logits(model: torch.nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    """Logits of the last time step: inputs (N, T-1, D) -> (N, 10)."""
    return model(inputs)[0][:, -1]


def accuracy(model: torch.nn.Module, inputs: torch.Tensor, targets: torch.Tensor) -> float:
    """Fraction of sequences whose last digit the model predicts (arg-max of the last logits)."""
    with torch.no_grad():
        return float((last_step_logits(model, inputs).argmax(dim=1) == targets).float().mean())


def train(config: dict, on_step=None, progress: bool = False, model: torch.nn.Module | None = None) -> History:
    """Train one model on palindromes of length T and return its `History`.

    Loss: cross-entropy of the last time step (sheet eq. 3). Every `eval_every` steps the held-out
    accuracy is measured (metric "accuracy"; never on a training batch); training stops at
    `target_accuracy`, after `patience` evaluations without improvement, or at `max_steps`.
    `history.final["accuracy"]` is the held-out accuracy of the model as training left it.
    `on_step(history)` is called after every evaluation (live plots). `model` (optional) is an
    untrained module to train instead of `build_model(config)`, with the same call signature
    (the benchmark passes a `torch.nn.LSTM` baseline this way).
    """
    c = make_config(**config)
    train_set, held_out = palindrome_splits(c["length"], c["train_size"], c["held_out_size"],
                                            seed=c["seed"], encoding=c["encoding"])
    inputs, targets = train_set.tensors()
    held_inputs, held_targets = held_out.tensors()
    if model is None:
        model = build_model(c)
    elif not isinstance(model, torch.nn.Module):
        validate.fail("model", "a torch.nn.Module or None", model, TypeError)
    optimizer = make_optimizer(c["optimizer"], model.parameters(), c["lr"])
    order = torch.Generator().manual_seed(c["seed"])

    def next_batch(step):
        index = torch.randint(len(inputs), (c["batch_size"],), generator=order)
        return inputs[index], targets[index]

    def loss_fn(model, batch):
        return F.cross_entropy(last_step_logits(model, batch[0]), batch[1])

    stopping = EarlyStopping("accuracy", target=c["target_accuracy"], patience=c["patience"],
                             min_delta=c["min_delta"], min_steps=c["min_steps"])
    desc = f"{c['model']} T={c['length']} seed {c['seed']}"
    return fit(model, optimizer, next_batch, loss_fn, c["max_steps"], clip_norm=c["max_norm"],
               evaluate=lambda m: {"accuracy": accuracy(m, held_inputs, held_targets)},
               eval_every=c["eval_every"], early_stopping=stopping, on_step=on_step,
               progress=progress, desc=desc, config=c)


def steps_to_target(history: History) -> int | None:
    """The step at which the run reached its target accuracy, or None when it never did."""
    return history.steps[-1] if history.stopped == STOP_TARGET else None


def input_gradient_norms(config: dict, batch_size: int = 256) -> np.ndarray:
    """How much of the loss gradient reaches each input step, for the *untrained* model.

    Returns (T-1,): the mean over `batch_size` held-out palindromes of ||dL/dx_t|| for t = 1 … T-1,
    with L the last-step cross-entropy (the first entry is the step that carries the answer).
    """
    c = make_config(**config)
    batch_size = validate.positive_int("batch_size", batch_size)
    _, held_out = palindrome_splits(c["length"], 1, batch_size, seed=c["seed"], encoding=c["encoding"])
    inputs, targets = held_out.tensors()
    inputs = inputs.clone().requires_grad_(True)
    model = build_model(c)
    F.cross_entropy(last_step_logits(model, inputs), targets, reduction="sum").backward()
    return inputs.grad.norm(dim=2).mean(dim=0).numpy()


def run(config: dict, cache_dir=None, verbose: bool = True) -> History:
    """`train(config)` through the run cache: a finished run with the same config is loaded."""
    c = make_config(**config)
    return cached(c, lambda: train(c), cache_dir, verbose=verbose)


def is_cached(config: dict, cache_dir=None) -> bool:
    """True when `run(config, cache_dir)` would load a finished run instead of training."""
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    return (folder / f"{cache_key(make_config(**config))}.json").exists()


def _run_in_worker(config: dict, cache_dir) -> None:
    torch.set_num_threads(1)  # two workers on two cores: one thread each
    run(config, cache_dir, verbose=False)


_pools: dict[int, concurrent.futures.ProcessPoolExecutor] = {}


def _pool(workers: int) -> concurrent.futures.ProcessPoolExecutor:
    """The process pool with `workers` workers, started on first use and kept for later calls
    (starting a worker imports torch: seconds that a sweep would otherwise pay at every length)."""
    if workers not in _pools:
        _pools[workers] = concurrent.futures.ProcessPoolExecutor(
            workers, mp_context=multiprocessing.get_context("spawn"))
    return _pools[workers]


@atexit.register
def _shut_pools_down() -> None:
    """Stop the worker processes before the interpreter tears its modules down."""
    for pool in _pools.values():
        pool.shutdown(wait=True, cancel_futures=True)
    _pools.clear()


def run_many(configs, *, workers: int = 1, cache_dir=None) -> list[History]:
    """`run` for every configuration, in order; the runs not cached yet are trained in `workers`
    processes (one torch thread each) when `workers` > 1. `from_cache` is True only for the runs
    that were already cached before this call."""
    configs = [make_config(**c) for c in configs]
    workers = validate.positive_int("workers", workers)
    to_train = [c for c in configs if not is_cached(c, cache_dir)]
    if workers > 1 and len(to_train) > 1:
        try:
            list(_pool(workers).map(_run_in_worker, to_train, [cache_dir] * len(to_train)))
        except concurrent.futures.process.BrokenProcessPool:
            del _pools[workers]  # a worker died: start a fresh pool next time
            raise
    histories = [run(c, cache_dir, verbose=False) for c in configs]  # loads what the workers made
    for history, c in zip(histories, configs):
        history.from_cache = history.from_cache and c not in to_train
    return histories


@dataclass
class SweepResult:
    """The runs of a sweep, `histories[(model, length, seed)]`, and its wall time in seconds."""

    models: list[str]
    seeds: list[int]
    histories: dict = field(default_factory=dict)
    elapsed: float = 0.0

    def lengths(self, model: str) -> list[int]:
        """The lengths run for `model` (the sweep stops a model after a length at chance)."""
        validate.choice("model", model, tuple(self.models))
        return sorted({T for m, T, _ in self.histories if m == model})

    def accuracies(self, model: str) -> list[np.ndarray]:
        """Final held-out accuracy of every seed, one array per length of `lengths(model)`."""
        return [np.array([self.histories[(model, T, s)].final["accuracy"] for s in self.seeds])
                for T in self.lengths(model)]

    def mean_accuracy(self, model: str, length: int) -> float:
        """Mean final held-out accuracy over the seeds at one length."""
        return float(np.mean([self.histories[(model, length, s)].final["accuracy"] for s in self.seeds]))

    @property
    def reused(self) -> int:
        """How many runs came from the cache."""
        return sum(h.from_cache for h in self.histories.values())

    def summary(self) -> str:
        """One line: runs, how many were reused from the cache, wall time."""
        return (f"{len(self.histories)} runs ({self.reused} reused from the cache, "
                f"{len(self.histories) - self.reused} trained) in {self.elapsed:.0f} s")


def sweep(lengths, models=MODELS, seeds=(0, 1, 2), *, settings: dict | None = None,
          stop_at_chance: bool = True, workers: int = 1, cache_dir=None,
          progress: bool = True) -> SweepResult:
    """Train every (model, length, seed) through the cache, lengths in increasing order.

    settings        further configuration entries shared by every run (e.g. max_steps)
    stop_at_chance  a model whose mean accuracy at a length is below CHANCE + CHANCE_MARGIN is not
                    run at longer lengths (they are harder still); the sweep ends when no model is left
    workers         see `run_many` (the runs of one length train in parallel)
    """
    lengths = sorted(validate.integer(f"lengths[{i}]", T, minimum=3) for i, T in enumerate(lengths))
    models = [validate.choice("models", m, MODELS) for m in models]
    seeds = [validate.non_negative_int("seeds", s) for s in seeds]
    for name, value in (("lengths", lengths), ("models", models), ("seeds", seeds)):
        if not value:
            validate.fail(name, "at least one entry", value)
    workers = validate.positive_int("workers", workers)
    settings = dict(settings or {})
    for name in ("length", "model", "seed"):
        if name in settings:
            validate.fail("settings", f"no {name!r} entry (the sweep sets it)", settings)
    result = SweepResult(models, seeds)
    start = time.perf_counter()
    active = list(models)
    with tqdm(total=len(lengths) * len(models) * len(seeds), desc="sweep", disable=not progress) as bar:
        for T in lengths:
            keys = [(m, T, s) for m in active for s in seeds]
            configs = [{**settings, "length": T, "model": m, "seed": s} for m, T, s in keys]
            result.histories.update(zip(keys, run_many(configs, workers=workers, cache_dir=cache_dir)))
            bar.update(len(keys))
            if stop_at_chance:
                active = [m for m in active if result.mean_accuracy(m, T) >= CHANCE + CHANCE_MARGIN]
                if not active:
                    break
    result.elapsed = time.perf_counter() - start
    return result

MODEL_NAMES = {"rnn": "Elman RNN", "lstm": "LSTM"}


def plot_accuracy_vs_length(ax, result: SweepResult):
    """Held-out accuracy vs. T per model: mean over seeds, shaded from the lowest to the highest
    seed, every seed as a dot; chance level dashed."""
    if not isinstance(result, SweepResult):
        validate.fail("result", "a SweepResult", result, TypeError)
    lines = [plots.plot_mean_spread(ax, result.lengths(m), result.accuracies(m), spread="minmax",
                                    label=f"{MODEL_NAMES[m]} (mean, min-max of {len(result.seeds)} seeds)")
             for m in result.models]
    plots.mark_level(ax, CHANCE, "chance (1/10)")
    ax.legend(loc="lower left")
    ax.set_xlabel("palindrome length T")
    ax.set_ylabel("held-out accuracy after training")
    ax.set_ylim(0.0, 1.03)
    return lines


def plot_accuracy_vs_step(ax, histories: dict):
    """Held-out accuracy vs. step for several runs, labelled by the keys of `histories`."""
    lines = plots.plot_runs(ax, histories, "accuracy")
    plots.mark_level(ax, CHANCE, "chance (1/10)")
    ax.set_ylabel("held-out accuracy")
    ax.set_ylim(0.0, 1.03)
    return lines


def plot_run(axes, history: History):
    """Training loss (axes[0], mean of 10 steps) and held-out accuracy (axes[1]) of one run."""
    if len(axes) != 2:
        validate.fail("axes", "two axes", axes)
    plots.plot_loss(axes[0], history, smooth=min(10, max(1, len(history.loss))))
    plots.plot_metric(axes[1], history, "accuracy", ylabel="held-out accuracy")
    plots.mark_level(axes[1], CHANCE, "chance (1/10)")
    axes[1].set_ylim(0.0, 1.03)


def run_figure(history: History):
    """A new two-panel figure of `plot_run`, titled with the run's model, T and how it ended."""
    fig, axes = plots.new_figure(2, titles=["training loss", "held-out accuracy"], width=4.5, height=3.2)
    plot_run(axes, history)
    c = history.config
    fig.suptitle(f"{MODEL_NAMES[c['model']]}, T = {c['length']}, {c['optimizer']} lr {c['lr']:g}: "
                 f"{history.stopped}, accuracy {history.final['accuracy']:.3f}")
    return fig


def train_live(config: dict, output) -> History:
    """`train(config)` that redraws `run_figure` inside the ipywidgets `output` after every
    evaluation (the widget panel's Run)."""
    from helpers.widgets import show_figure

    return train(config, on_step=lambda history: show_figure(run_figure(history), output))
