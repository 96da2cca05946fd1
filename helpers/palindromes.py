"""Notebook 05's experiment: predict the last digit of a palindrome from the first T - 1 digits.

The protocol (one for every training experiment of the workbook):

- data: three disjoint sets of palindromes (`helpers.data.train_validation_test_palindromes`);
  training sees `train` only, every choice is made on `validation`, reported numbers come from `test`;
- budget: `max_steps` steps per run; a run stops early only when its validation accuracy reaches
  `target_accuracy` (no plateau rule); the parameters of the best validation evaluation are
  restored at the end, and their test accuracy is `history.final["test_accuracy"]`;
- fairness: each model gets its learning rate from the same grid (`LR_GRID`), chosen on validation
  with the same budget (`choose_lr`); the LSTM's forget-gate bias is part of its definition
  (`FORGET_BIAS`, ablated in the notebook);
- seeds: a seed fixes data, initial weights and batch order; sweeps run many seeds per point and
  report every seed, the fraction that reached the target, and the mean with a 95 % bootstrap interval.

API (shared with `sine` and `memory`): `config(**overrides)` -> a validated, frozen `Config`;
`build_model(config)`; `train(config) -> History`; `run(config)` (through the run cache and the
committed results); `run_many` / `sweep`; `plot_*(ax, data, ...)`.
"""
from __future__ import annotations

import dataclasses
import functools
import time
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from helpers import parallel, plots, validate
from helpers.checked import checked
from helpers.data import DIGITS, PALINDROME_ENCODINGS, train_validation_test_palindromes
from helpers.history import STOP_TARGET, History
from helpers.memory import bootstrap_interval, intervals_apart  # noqa: F401  (one bootstrap for both sweeps)
from helpers.run_cache import cached, is_cached
from helpers.torch_lstm import FastLSTM
from helpers.torch_rnn import FastElmanRNN, checked_sequence
from helpers.training import OPTIMIZERS, EarlyStopping, fit, make_optimizer, single_threaded

EXPERIMENT = "palindromes"
VERSION = 4  # bump when a change of this module changes what a run produces (invalidates stored runs)
MODELS = ("rnn", "lstm")
MODEL_NAMES = {"rnn": "Elman RNN", "lstm": "LSTM"}
ENCODING_NAMES = {"digits": "raw digit (the sheet's)", "one_hot": "one-hot"}
CHANCE = 1.0 / DIGITS
FORGET_BIAS = 1.0          # the LSTM's initial forget-gate bias: part of its definition here
LR_GRID = (3e-4, 1e-3, 3e-3)


@dataclass(frozen=True)
class Config:
    """One run. Build it with `config(**overrides)` (validated); the defaults are the sheet's setting.

    length            T, the palindrome length (inputs are the first T - 1 digits)
    model             "rnn" (`FastElmanRNN`) or "lstm" (`FastLSTM`)
    encoding          "digits" (the raw digit value, one feature: the sheet's) or "one_hot" (10 features)
    optimizer, lr     "sgd", "momentum", "rmsprop" or "adam" and its learning rate
    hidden_size, batch_size, max_steps (the budget), max_norm (global gradient clipping)
    forget_bias       the LSTM's initial forget-gate bias (None for the RNN, which has no gates)
    seed              seeds the data, the initial weights and the batch order
    train_size, validation_size, test_size   palindromes in the three disjoint sets (see
                      `helpers.data.held_out_size` for the cap at small T)
    eval_every        steps between two validation evaluations
    target_accuracy   the run stops when the validation accuracy reaches it
    """

    length: int = 10
    model: str = "lstm"
    encoding: str = "digits"
    optimizer: str = "rmsprop"
    lr: float = 1e-3
    hidden_size: int = 128
    batch_size: int = 128
    max_steps: int = 3000
    max_norm: float = 10.0
    forget_bias: float | None = FORGET_BIAS
    seed: int = 0
    train_size: int = 10_000
    validation_size: int = 1000
    test_size: int = 1000
    eval_every: int = 50
    target_accuracy: float = 0.995
    experiment: str = EXPERIMENT
    version: int = VERSION

    def replace(self, **overrides) -> "Config":
        """A validated copy with some entries changed."""
        return config(**{**self.overrides(), **overrides})

    def overrides(self) -> dict:
        """The entries a user may set (everything but experiment and version)."""
        return {k: v for k, v in dataclasses.asdict(self).items() if k not in ("experiment", "version")}

    def to_dict(self) -> dict:
        """All entries as JSON values (the run cache's key source)."""
        return dataclasses.asdict(self)


_FIXED = ("experiment", "version")


def config(**overrides) -> Config:
    """The validated `Config`: the defaults updated with `overrides`.

    ValueError/TypeError naming the entry for unknown names, bad values, and a user-set
    experiment or version (they belong to this module).
    """
    names = [f.name for f in dataclasses.fields(Config)]
    unknown = sorted(set(overrides) - set(names))
    if unknown:
        validate.fail("config", "entries among " + ", ".join(n for n in names if n not in _FIXED),
                      ", ".join(unknown))
    for name in _FIXED:
        if name in overrides:
            validate.fail(name, "not to be set (this module sets it)", overrides[name])
    c = {**{f.name: f.default for f in dataclasses.fields(Config)}, **overrides}
    c["length"] = validate.integer("length", c["length"], minimum=3)
    validate.choice("model", c["model"], MODELS)
    validate.choice("encoding", c["encoding"], PALINDROME_ENCODINGS)
    validate.choice("optimizer", c["optimizer"], OPTIMIZERS)
    c["lr"] = validate.positive("lr", c["lr"])
    for name in ("hidden_size", "batch_size", "max_steps", "train_size", "validation_size",
                 "test_size", "eval_every"):
        c[name] = validate.positive_int(name, c[name])
    c["max_norm"] = validate.positive("max_norm", c["max_norm"])
    if c["model"] == "rnn":
        c["forget_bias"] = None
    else:
        c["forget_bias"] = validate.real("forget_bias", FORGET_BIAS if c["forget_bias"] is None
                                         else c["forget_bias"])
    c["seed"] = validate.seed("seed", c["seed"])
    c["target_accuracy"] = validate.probability("target_accuracy", c["target_accuracy"])
    return Config(**c)


def as_config(value) -> Config:
    """A `Config` from a `Config` (returned as is), a dict of overrides, or a stored config (a dict
    that also carries this module's "experiment" and current "version"; an old version is refused)."""
    if isinstance(value, Config):
        return value
    if isinstance(value, dict):
        value = dict(value)
        for name, own in (("experiment", EXPERIMENT), ("version", VERSION)):
            if name in value and value[name] == own:
                del value[name]
        return config(**value)
    validate.fail("config", "a palindromes.Config or a dict of overrides", value, TypeError)


def build_model(cfg) -> torch.nn.Module:
    """The untrained model of a configuration, its weights drawn from `cfg.seed`.

    The global torch generator is left as it was (the draw happens inside `fork_rng`).
    """
    c = as_config(cfg)
    input_size = DIGITS if c.encoding == "one_hot" else 1
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(c.seed)
        if c.model == "rnn":
            return FastElmanRNN(input_size, c.hidden_size, DIGITS)
        return FastLSTM(input_size, c.hidden_size, DIGITS, forget_bias=c.forget_bias)


def splits(cfg):
    """The run's three disjoint `PalindromeDataset`s (train, validation, test), drawn from `cfg.seed`."""
    c = as_config(cfg)
    return train_validation_test_palindromes(c.length, c.train_size, c.validation_size, c.test_size,
                                             seed=c.seed, encoding=c.encoding)


MODEL_KIND = "a torch.nn.Module with last_step_output and input_size (e.g. build_model's)"


def _checked_inputs(model, inputs) -> torch.Tensor:
    """`inputs` as a finite (N, T-1, D) tensor for `model` (a module with `last_step_output`, `input_size`)."""
    validate.instance("model", model, MODEL_KIND)
    if not (isinstance(model, torch.nn.Module) and callable(getattr(model, "last_step_output", None))
            and isinstance(getattr(model, "input_size", None), int)):
        validate.fail("model", MODEL_KIND, model, TypeError)
    return checked_sequence("inputs", inputs, model.input_size, next(model.parameters()))


def logits_arguments(model, inputs) -> dict:
    """Checked arguments of `last_step_logits`: model (see `_checked_inputs`), inputs (N, T-1, D)."""
    return {"model": model, "inputs": _checked_inputs(model, inputs)}


def accuracy_arguments(model, inputs, targets) -> dict:
    """Checked arguments of `accuracy`: inputs (N, T-1, D) and one digit label per sequence, targets (N,)."""
    inputs = _checked_inputs(model, inputs)
    labels = validate.labels("targets", targets, DIGITS)
    if labels.shape != (inputs.shape[0],):
        validate.fail("targets", f"one label per sequence, shape ({inputs.shape[0]},)", labels)
    return {"model": model, "inputs": inputs, "targets": torch.as_tensor(labels, dtype=torch.long)}


@checked(logits_arguments)
def last_step_logits(model: torch.nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    """Logits of the last time step only: inputs (N, T-1, D) -> p^(T-1) (N, 10)."""
    ### BEGIN SOLUTION implement last_step_logits: the read-out p^(T-1) of the last step only, (N, 10) (eq. 2)
    return model.last_step_output(inputs)[0]
    ### END SOLUTION


@checked(accuracy_arguments)
def accuracy(model: torch.nn.Module, inputs: torch.Tensor, targets: torch.Tensor) -> float:
    """Fraction of sequences whose last digit the model predicts (arg-max of the last logits)."""
    with torch.no_grad():
        ### BEGIN SOLUTION implement accuracy: the fraction of sequences with arg-max of p^(T-1) equal to y = d_T (eq. 2)
        return float((last_step_logits(model, inputs).argmax(dim=1) == targets).float().mean())
        ### END SOLUTION


def train(cfg, on_step=None, progress: bool = False, model: torch.nn.Module | None = None) -> History:
    """Train one model on palindromes of length T and return its `History`.

    Loss: cross-entropy of the last time step (sheet eq. 3). Every `eval_every` steps the validation
    accuracy is measured (metric "accuracy"); training stops when it reaches `target_accuracy` or
    after `max_steps`. The parameters of the best validation evaluation are restored, and
    `history.final` holds their validation "accuracy" and "test_accuracy". The History keeps one
    training entry per evaluation window (`per_window`).
    `on_step(history)` is called after every evaluation (live plots). `model` (optional): an
    untrained module with `last_step_output(x) -> (p (N, 10), state)` to train instead of
    `build_model(cfg)` (the benchmark passes `torch.nn` baselines this way).
    """
    c = as_config(cfg)
    data = splits(c)
    inputs, targets = data.train.tensors()
    validation_inputs, validation_targets = data.validation.tensors()
    if model is None:
        model = build_model(c)
    elif not isinstance(model, torch.nn.Module):
        validate.fail("model", "a torch.nn.Module or None", model, TypeError)
    optimizer = make_optimizer(c.optimizer, model.parameters(), c.lr)
    order = torch.Generator().manual_seed(c.seed)

    def next_batch(step):
        index = torch.randint(len(inputs), (c.batch_size,), generator=order)
        return inputs[index], targets[index]

    def loss_fn(model, batch):
        ### BEGIN SOLUTION implement the training loss: mean cross-entropy of the last step's logits, -log softmax(p^(T-1))[d_T] (eq. 2)
        return F.cross_entropy(last_step_logits(model, batch[0]), batch[1])
        ### END SOLUTION

    history = fit(model, optimizer, next_batch, loss_fn, c.max_steps, clip_norm=c.max_norm,
                  evaluate=lambda m: {"accuracy": accuracy(m, validation_inputs, validation_targets)},
                  eval_every=c.eval_every, early_stopping=EarlyStopping("accuracy", target=c.target_accuracy),
                  best_metric="accuracy", on_step=on_step, progress=progress,
                  desc=f"{c.model} T={c.length} seed {c.seed}", config=c.to_dict())
    with single_threaded():
        history.record_final(test_accuracy=accuracy(model, *data.test.tensors()))
    return per_window(history, c.eval_every, c.max_norm).round_numbers()   # stored runs: float32 precision


def per_window(history: History, window: int, max_norm: float) -> History:
    """Keep one training entry per `window` steps so that a stored run stays small (committed
    results: a few kB per run): at the last step of each window, the mean training loss and the
    largest gradient norm of the window. The gradient statistics of every step go into `final`:
    "clipped_steps" (norm above `max_norm`), "median_grad_norm", "max_grad_norm"."""
    norms = np.array(history.grad_norm)
    finite = norms[np.isfinite(norms)]
    history.record_final(clipped_steps=int(np.sum(finite > max_norm)),
                         median_grad_norm=float(np.median(finite)) if finite.size else float("nan"),
                         max_grad_norm=float(finite.max()) if finite.size else float("nan"))
    ends = list(range(window, len(history.steps), window)) + [len(history.steps)]
    starts = [0] + ends[:-1]
    history.loss = [float(np.mean(history.loss[a:b])) for a, b in zip(starts, ends)]
    history.grad_norm = [float(np.max(norms[a:b])) for a, b in zip(starts, ends)]
    history.steps = [history.steps[b - 1] for b in ends]
    return history


def reached_target(history: History) -> bool:
    """True when the run's validation accuracy reached its target (the run stopped on success)."""
    return history.stopped == STOP_TARGET


def steps_to_target(history: History) -> int | None:
    """The step at which the run reached its target accuracy, or None when it never did."""
    return history.steps[-1] if reached_target(history) else None


def test_accuracy(history: History) -> float:
    """Test accuracy of the run's chosen (best validation) parameters."""
    return float(history.final["test_accuracy"])


def input_gradient_norms(cfg, batch_size: int = 256) -> np.ndarray:
    """How much of the loss gradient reaches each input step, for the *untrained* model.

    Returns (T-1,): the mean over `batch_size` validation palindromes of ||dL/dx_t|| for t = 1 … T-1,
    with L the last-step cross-entropy (the first entry is the step that carries the answer).
    """
    c = as_config(cfg)
    batch_size = validate.positive_int("batch_size", batch_size)
    inputs, targets = splits(c).validation.tensors()
    inputs = inputs[:batch_size].clone().requires_grad_(True)
    model = build_model(c)
    F.cross_entropy(last_step_logits(model, inputs), targets[:batch_size], reduction="sum").backward()
    return inputs.grad.norm(dim=2).mean(dim=0).numpy()


def run(cfg, cache_dir=None, verbose: bool = True) -> History:
    """`train(cfg)` through the run cache and the committed results: a stored run is loaded."""
    c = as_config(cfg)
    return cached(c.to_dict(), lambda: train(c), cache_dir, verbose=verbose)


def run_many(configs, *, workers: int = 1, cache_dir=None) -> list[History]:
    """`run` for every configuration, in order. Runs not stored yet train in `workers` processes
    when `workers` > 1 (`helpers.parallel.run_many`); every run trains on one torch thread either
    way (`fit`'s rule), so a worker and a direct call give the same numbers. `from_cache` is True only
    for the runs that were already stored before this call."""
    quiet_run = functools.partial(run, cache_dir=cache_dir, verbose=False)   # picklable: the workers run it too
    return parallel.run_many(quiet_run, quiet_run, [as_config(c) for c in configs], workers=workers,
                             stored=lambda c: is_cached(c.to_dict(), cache_dir))


# ----------------------------------------------------------------------------------------------
# Learning rate on validation, sweeps over the length
# ----------------------------------------------------------------------------------------------

def selection_score(history: History) -> tuple[float, float]:
    """What `choose_lr` maximises per run: (best validation accuracy, -steps to the target or budget)."""
    steps = steps_to_target(history) or history.config["max_steps"]
    return history.best("accuracy"), -float(steps)


@dataclass
class LRChoice:
    """The learning rate chosen on validation for one model: `lr`, and per grid value the runs."""

    model: str
    lr: float
    histories: dict = field(default_factory=dict)   # lr -> [History per seed]

    def table(self) -> list[tuple[float, float, float, int]]:
        """Per grid value: (lr, mean best validation accuracy, mean steps to target or budget,
        seeds that reached the target)."""
        rows = []
        for lr, runs in self.histories.items():
            scores = np.array([selection_score(h) for h in runs])
            rows.append((lr, float(scores[:, 0].mean()), float(-scores[:, 1].mean()),
                         sum(reached_target(h) for h in runs)))
        return rows


def choose_lr(base, models=MODELS, grid=LR_GRID, seeds=(0, 1, 2), *, workers: int = 1,
              cache_dir=None) -> dict[str, LRChoice]:
    """For each model, the learning rate of `grid` with the highest mean best validation accuracy
    over `seeds` (ties within 0.005: fewer mean steps to the target), every run with `base`'s
    other settings and budget. Test data plays no part. Returns model -> `LRChoice`."""
    base = as_config(base)
    grid = [validate.positive(f"grid[{i}]", lr) for i, lr in enumerate(grid)]
    seeds = [validate.non_negative_int("seeds", s) for s in seeds]
    if not grid or not seeds:
        validate.fail("grid" if not grid else "seeds", "at least one entry", grid if not grid else seeds)
    keys = [(m, lr, s) for m in models for lr in grid for s in seeds]
    runs = run_many([base.replace(model=m, lr=lr, seed=s) for m, lr, s in keys], workers=workers,
                    cache_dir=cache_dir)
    choices = {}
    for m in models:
        per_lr = {lr: [h for (mm, ll, _), h in zip(keys, runs) if mm == m and ll == lr] for lr in grid}
        means = {lr: np.mean([selection_score(h) for h in hs], axis=0) for lr, hs in per_lr.items()}
        top = max(score[0] for score in means.values())
        close = [lr for lr in grid if means[lr][0] >= top - 0.005]
        choices[m] = LRChoice(m, max(close, key=lambda lr: means[lr][1]), per_lr)
    return choices


@dataclass
class SweepResult:
    """The runs of a sweep, `histories[(model, length, seed)]`, and its wall time in seconds."""

    models: list[str]
    seeds: list[int]
    histories: dict = field(default_factory=dict)
    elapsed: float = 0.0
    not_stored: dict = field(default_factory=dict)   # model -> first length left out: runs not stored

    def lengths(self, model: str) -> list[int]:
        """The lengths run for `model` (the sweep stops a model after a length at chance)."""
        validate.choice("model", model, tuple(self.models))
        return sorted({T for m, T, _ in self.histories if m == model})

    def runs(self, model: str, length: int) -> list[History]:
        """The runs of one point, in seed order."""
        return [self.histories[(model, length, s)] for s in self.seeds]

    def test_accuracies(self, model: str) -> list[np.ndarray]:
        """Test accuracy of every seed, one array per length of `lengths(model)`."""
        return [np.array([test_accuracy(h) for h in self.runs(model, T)]) for T in self.lengths(model)]

    def success_fractions(self, model: str) -> np.ndarray:
        """Fraction of seeds whose validation accuracy reached the target, per length."""
        return np.array([np.mean([reached_target(h) for h in self.runs(model, T)])
                         for T in self.lengths(model)])

    def at_chance(self, model: str, length: int) -> bool:
        """No seed reached the target and the mean test accuracy is below `CHANCE_LEVEL`."""
        runs = self.runs(model, length)
        return (not any(reached_target(h) for h in runs)
                and np.mean([test_accuracy(h) for h in runs]) < CHANCE_LEVEL)

    @property
    def reused(self) -> int:
        """How many runs were loaded (run cache or committed results) instead of trained."""
        return sum(h.from_cache for h in self.histories.values())

    def summary(self) -> str:
        """One line: runs, how many were loaded, wall time."""
        return (f"{len(self.histories)} runs ({self.reused} loaded, "
                f"{len(self.histories) - self.reused} trained) in {self.elapsed:.0f} s")


CHANCE_LEVEL = CHANCE + 0.05  # a mean test accuracy below this, with no seed at the target, is "at chance"


def sweep(lengths, seeds=(0, 1, 2), *, base=None, lrs: dict | None = None, models=MODELS,
          stop_at_chance: bool = True, trained_up_to: int | None = None, workers: int = 1, cache_dir=None,
          progress: bool = True) -> SweepResult:
    """Train every (model, length, seed) through `run_many`, lengths in increasing order.

    base            the `Config` (or dict of overrides) shared by every run
    lrs             model -> learning rate (e.g. from `choose_lr`); default: `base`'s
    stop_at_chance  a model `at_chance` at a length is not run at longer lengths (they are harder
                    still); the sweep ends when no model is left
    trained_up_to   None: train every length. A length: longer lengths are only loaded; a model
                    whose runs at such a length are not all stored (run cache or committed results)
                    stops there, and `result.not_stored[model]` says where
    """
    lengths = sorted(validate.integer(f"lengths[{i}]", T, minimum=3) for i, T in enumerate(lengths))
    if trained_up_to is not None:
        trained_up_to = validate.integer("trained_up_to", trained_up_to, minimum=3)
    models = [validate.choice("models", m, MODELS) for m in models]
    seeds = [validate.non_negative_int("seeds", s) for s in seeds]
    for name, value in (("lengths", lengths), ("models", models), ("seeds", seeds)):
        if not value:
            validate.fail(name, "at least one entry", value)
    base = as_config(base if base is not None else {})
    lrs = dict(lrs or {})
    for m in lrs:
        validate.choice("lrs", m, tuple(models))
    result = SweepResult(models, seeds)
    start = time.perf_counter()
    active = list(models)
    with tqdm(total=len(lengths) * len(models) * len(seeds), desc="sweep", disable=not progress) as bar:
        for T in lengths:
            configs = {m: [base.replace(length=T, model=m, seed=s, lr=lrs.get(m, base.lr)) for s in seeds]
                       for m in active}
            if trained_up_to is not None and T > trained_up_to:
                for m in [m for m in active if not all(is_cached(c.to_dict(), cache_dir) for c in configs[m])]:
                    result.not_stored[m] = T
                    active.remove(m)
                if not active:
                    break
            keys = [(m, T, s) for m in active for s in seeds]
            runs = run_many([c for m in active for c in configs[m]], workers=workers, cache_dir=cache_dir)
            result.histories.update(zip(keys, runs))
            bar.update(len(keys))
            if stop_at_chance:
                active = [m for m in active if not result.at_chance(m, T)]
                if not active:
                    break
    result.elapsed = time.perf_counter() - start
    return result


# ----------------------------------------------------------------------------------------------
# Plots: plot_*(ax, data, ...)
# ----------------------------------------------------------------------------------------------

COLORS = {"rnn": "tab:blue", "lstm": "tab:orange"}


def plot_test_accuracy(ax, result: SweepResult, title: str | None = None):
    """Test accuracy vs. T per model: every seed as a dot (jittered sideways), the mean over seeds
    as a line with its 95 % bootstrap interval as error bars; chance level dashed."""
    if not isinstance(result, SweepResult):
        validate.fail("result", "a SweepResult", result, TypeError)
    jitter = np.linspace(-0.6, 0.6, len(result.seeds))
    for k, m in enumerate(result.models):
        lengths, accs = result.lengths(m), result.test_accuracies(m)
        shift = (k - (len(result.models) - 1) / 2) * 0.9
        for T, acc in zip(lengths, accs):
            ax.plot(T + shift + jitter, acc, ".", color=COLORS[m], alpha=0.45, markersize=5)
        means = np.array([a.mean() for a in accs])
        bounds = np.array([bootstrap_interval(a) for a in accs])
        ax.errorbar(np.array(lengths) + shift, means, yerr=[means - bounds[:, 0], bounds[:, 1] - means],
                    color=COLORS[m], marker="o", capsize=3,
                    label=f"{MODEL_NAMES[m]}: mean of {len(result.seeds)} seeds, 95 % bootstrap CI")
    plots.mark_level(ax, CHANCE, "chance (1/10)")
    ax.set_xlabel("palindrome length T")
    ax.set_ylabel("test accuracy (best validation step)")
    ax.set_ylim(-0.02, 1.03)
    ax.legend(loc="lower left", fontsize=8)
    if title:
        ax.set_title(title)


def plot_success_fraction(ax, result: SweepResult, title: str | None = None):
    """Fraction of seeds whose validation accuracy reached the target, vs. T, per model."""
    if not isinstance(result, SweepResult):
        validate.fail("result", "a SweepResult", result, TypeError)
    for m in result.models:
        ax.plot(result.lengths(m), result.success_fractions(m), marker="o", color=COLORS[m],
                label=MODEL_NAMES[m])
    ax.set_xlabel("palindrome length T")
    ax.set_ylabel(f"fraction of {len(result.seeds)} seeds reaching the target")
    ax.set_ylim(-0.03, 1.03)
    ax.legend(loc="lower left", fontsize=8)
    if title:
        ax.set_title(title)


def plot_accuracy_vs_step(ax, histories: dict, title: str | None = None):
    """Validation accuracy vs. step for several runs, labelled by the keys of `histories`."""
    lines = plots.plot_runs(ax, histories, "accuracy")
    plots.mark_level(ax, CHANCE, "chance (1/10)")
    ax.set_ylabel("validation accuracy")
    ax.set_ylim(0.0, 1.03)
    if title:
        ax.set_title(title)
    return lines


def plot_run(axes, history: History):
    """Training loss (axes[0], mean of 10 steps) and validation accuracy (axes[1]) of one run."""
    if len(axes) != 2:
        validate.fail("axes", "two axes", axes)
    plots.plot_loss(axes[0], history, smooth=min(10, max(1, len(history.loss))))
    plots.plot_metric(axes[1], history, "accuracy", ylabel="validation accuracy")
    plots.mark_level(axes[1], CHANCE, "chance (1/10)")
    axes[1].set_ylim(0.0, 1.03)


def run_figure(history: History):
    """A new two-panel figure of `plot_run`, titled with the run's model, T and how it ended."""
    fig, axes = plots.new_figure(2, titles=["training loss", "validation accuracy"], width=4.5, height=3.2)
    plot_run(axes, history)
    c = history.config
    test = history.final.get("test_accuracy")
    fig.suptitle(f"{MODEL_NAMES[c['model']]}, T = {c['length']}, {c['optimizer']} lr {c['lr']:g}: "
                 f"{history.stopped}" + (f", test accuracy {test:.3f}" if test is not None else ""))
    return fig


def train_live(cfg, output) -> History:
    """`train(cfg)` that redraws `run_figure` inside the ipywidgets `output` after every
    evaluation (the widget panel's Run)."""
    from helpers.widgets import show_figure

    return train(cfg, on_step=lambda history: show_figure(run_figure(history), output))
