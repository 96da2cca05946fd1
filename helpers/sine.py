"""Sine continuation (sheet 001), the experiment of notebooks 02 and 03.

A recurrent model reads a sine curve of unknown frequency and predicts the next sample at every
step (MSE over the sequence). After training it is warmed up on the first WARMUP = 30 samples of
held-out curves and then generates the next CONTINUATION = 100 samples from its own predictions.

The protocol (one for every experiment of the workbook):
- data: training batches are drawn fresh at every step from a generator seeded with config.seed;
  the *validation* curves (seed VALIDATION_SEED) pick the best step of a run and the learning rate
  of a model; the *test* curves (seed TEST_SEED) give the reported numbers. Frequencies and starts
  are continuous draws, so no curve of one set appears in another.
- budget: every run trains `max_steps` steps (there is no target to stop at); the parameters of
  the validation evaluation with the lowest continuation MSE are restored at the end (`History.chosen_step`).
- learning rate: `choose_lr` trains a model at every rate of LR_GRID with the same budget and keeps
  the one with the lowest validation continuation MSE; models compared each get their own rate.

Two ways to train (config.teacher_steps):
- None, teacher forcing: the input of every step is the true previous sample (`sequence_loss`). The
  model never sees its own predictions during training (exposure bias).
- tau (default WARMUP), closed loop: the model reads tau true samples, then its own predictions, and
  the gradient flows back through them (`closed_loop_loss`). A curriculum (config.ramp) starts
  with teacher forcing and lowers the number of true samples linearly to tau (`teacher_steps_at`).

The experiment API (shared with `helpers.memory` and `helpers.palindromes`):

    c = config(model="lstm", hidden_size=16)      # checked once, immutable
    model = build_model(c)                        # seeded initialisation
    history = train(c)                            # History; final holds the test numbers
    history = run(c)                              # cached (run cache, committed results/sine)
    model, history = run_model(c)                 # the same, with the trained model
    runs, best = choose_lr(c)                     # every rate of LR_GRID, the best on validation
    plot_continuation(ax, history.final["continuation"])

Models: "rnn" is `helpers.torch_rnn.FastElmanRNN`, "lstm" is `helpers.torch_lstm.FastLSTM` (the fast
twins of `ElmanRNN` and `LSTM`, same parameters and function); both map x (B, T, 1) and a state to
(p (B, T, 1), state).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

import ipywidgets as widgets
import numpy as np
import torch

from helpers import plots, validate
from helpers.checked import checked
from helpers.data import sine_waves
from helpers.history import History
from helpers.run_cache import cached
from helpers.torch_lstm import FastLSTM
from helpers.torch_rnn import FastElmanRNN
from helpers.training import OPTIMIZERS, fit, make_optimizer, parameter_count, single_threaded
from helpers.widgets import panel, show_figure

EXPERIMENT = "sine"
VERSION = 5          # bumped when the code changes what a run produces (part of every cache key)
MODELS = {"rnn": FastElmanRNN, "lstm": FastLSTM}
WARMUP = 30          # true samples the model reads before generating
CONTINUATION = 100   # samples it generates from its own predictions
VALIDATION_SEED = 2017  # the validation curves: best step and learning rate
TEST_SEED = 2018     # the test curves: the reported numbers, never used for a choice
TEST_CURVES = 64
SHOWN_CURVES = 3
SHORT_HORIZON = 20   # generated samples of the short-horizon continuation error
LR_GRID = (1e-3, 3e-3, 1e-2)
LR_SCHEDULES = ("constant", "cosine")
FREQUENCY_GRID = np.linspace(0.25, 3.0, 2751)  # candidate frequencies of `fit_sines`, spacing 1e-3
SELECTION_METRIC = "continuation_mse"           # validation metric that picks the step and the rate


@dataclass(frozen=True)
class SineConfig:
    """One sine run; build it with `config(**overrides)`, which checks every field."""

    model: str = "rnn"
    hidden_size: int = 32
    lr: float = 3e-3
    max_steps: int = 2000
    batch_size: int = 128
    bptt_length: int | None = None     # None: full BPTT
    max_norm: float | None = 5.0       # global gradient norm clipped to this; None: no clipping
    optimizer: str = "adam"
    seed: int = 0
    eval_every: int = 100
    teacher_steps: int | None = WARMUP  # None: teacher forcing at every step
    ramp: float = 0.5
    lr_schedule: str = "cosine"

    def as_dict(self) -> dict:
        """The JSON form stored with a run: every field plus "experiment" and "version"."""
        return {**asdict(self), "experiment": EXPERIMENT, "version": VERSION}


def config(**overrides) -> SineConfig:
    """The defaults of `SineConfig` updated with `overrides`, every entry checked.

    A stored config (`SineConfig.as_dict()`) is accepted as it is: its "experiment" must be "sine"
    and its "version" this module's VERSION — the version is a constant of the code, not a setting.
    """
    overrides = dict(overrides)
    if "experiment" in overrides and overrides.pop("experiment") != EXPERIMENT:
        validate.fail("experiment", repr(EXPERIMENT), overrides.get("experiment"))
    if "version" in overrides:
        version = overrides.pop("version")
        if version != VERSION or isinstance(version, bool):
            validate.fail("version", f"{VERSION} (the module's VERSION, not a setting)", version)
    fields = SineConfig.__dataclass_fields__
    unknown = sorted(set(overrides) - set(fields))
    if unknown:
        validate.fail("overrides", "keys among " + ", ".join(fields), unknown)
    c = {**asdict(SineConfig()), **overrides}
    validate.choice("model", c["model"], tuple(MODELS))
    for key in ("hidden_size", "max_steps", "batch_size", "eval_every"):
        c[key] = validate.positive_int(key, c[key])
    c["lr"] = validate.positive("lr", c["lr"])
    for key in ("bptt_length", "teacher_steps"):
        if c[key] is not None:
            c[key] = validate.positive_int(key, c[key])
    c["ramp"] = validate.real("ramp", c["ramp"], low=0.0, high=1.0)
    validate.choice("lr_schedule", c["lr_schedule"], LR_SCHEDULES)
    if c["max_norm"] is not None:
        c["max_norm"] = validate.positive("max_norm", c["max_norm"])
    validate.choice("optimizer", c["optimizer"], OPTIMIZERS)
    c["seed"] = validate.seed("seed", c["seed"])
    return SineConfig(**c)


def _as_config(value) -> SineConfig:
    """A SineConfig as it is, or a dict of overrides / a stored config checked by `config`."""
    if isinstance(value, SineConfig):
        return value
    if not isinstance(value, dict):
        validate.fail("config", "a SineConfig or a dict of its fields", value, TypeError)
    return config(**value)


def build_model(c) -> torch.nn.Module:
    """The model of config `c` (input and output size 1), initialised from torch's generator seeded by c.seed."""
    c = _as_config(c)
    torch.manual_seed(c.seed)
    return MODELS[c.model](1, c.hidden_size, 1)


def _sequences(inputs, targets) -> tuple[torch.Tensor, torch.Tensor]:
    """inputs and targets as tensors of one shape (B, T), finite."""
    x = torch.as_tensor(validate.array("inputs", inputs, ndim=2) if not torch.is_tensor(inputs) else inputs)
    y = torch.as_tensor(validate.array("targets", targets, ndim=2) if not torch.is_tensor(targets) else targets)
    for name, value in (("inputs", x), ("targets", y)):
        if value.ndim != 2:
            validate.fail(name, "a (B, T) tensor", value)
        if not bool(torch.isfinite(value).all()):
            validate.fail(name, "finite values", value)
    if y.shape != x.shape:
        validate.fail("targets", f"the shape of inputs {tuple(x.shape)}", y)
    return x, y


def loss_arguments(model, inputs, targets, bptt_length=None) -> dict:
    """Checked arguments of `sequence_loss`: inputs and targets (B, T) of one shape, finite; k >= 1 or None."""
    inputs, targets = _sequences(inputs, targets)
    if bptt_length is not None:
        bptt_length = validate.positive_int("bptt_length", bptt_length)
    return {"model": model, "inputs": inputs, "targets": targets, "bptt_length": bptt_length}


def closed_loop_arguments(model, inputs, targets, teacher_steps, bptt_length=None) -> dict:
    """Checked arguments of `closed_loop_loss`: those of `sequence_loss` and teacher_steps >= 1."""
    return {**loss_arguments(model, inputs, targets, bptt_length),
            "teacher_steps": validate.positive_int("teacher_steps", teacher_steps)}


def schedule_arguments(c, step) -> dict:
    """Checked arguments of `learning_rate`: a config and a step >= 1."""
    return {"c": _as_config(c), "step": validate.positive_int("step", step)}


def ramp_arguments(c, step, length) -> dict:
    """Checked arguments of `teacher_steps_at`: a config, a step >= 1 and a sequence length >= 1."""
    return {**schedule_arguments(c, step), "length": validate.positive_int("length", length)}


def _detached(state):
    """The state with its history cut: a tensor h, or a pair (h, c)."""
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()


@checked(loss_arguments)
def sequence_loss(model, inputs, targets, bptt_length: int | None = None) -> torch.Tensor:
    """MSE over every step of inputs (B, T) against targets (B, T).

    With `bptt_length` k the sequence is read in chunks of k steps and the state is detached between
    chunks (truncated BPTT): the gradient of the output at step t reaches back to the start of its
    chunk, between 1 and k steps. None: the gradient reaches back to step 1.
    """
    ### BEGIN SOLUTION implement sequence_loss: the model over chunks of k steps, the state detached between chunks, MSE of all predictions (eq. 4a)
    x = inputs[..., None]
    k = bptt_length or x.shape[1]
    predictions, state = [], None
    for chunk in x.split(k, dim=1):
        p, state = model(chunk, None if state is None else _detached(state))
        predictions.append(p[..., 0])
    return torch.mean((torch.cat(predictions, dim=1) - targets.to(p.dtype)) ** 2)
    ### END SOLUTION


@checked(closed_loop_arguments)
def closed_loop_loss(model, inputs, targets, teacher_steps: int, bptt_length: int | None = None) -> torch.Tensor:
    """MSE over every step of inputs (B, T) against targets (B, T) when the model reads only the first
    `teacher_steps` true inputs and then, at every later step t, its own prediction of sample t.

    The gradient flows back through the fed-back predictions: the loss of a generated sample also
    trains the steps that produced its inputs. With `bptt_length` k the state and the fed-back
    prediction are detached every k steps (as in `sequence_loss`). teacher_steps >= T: `sequence_loss`.
    """
    x = inputs[..., None]
    T = x.shape[1]
    tau = min(teacher_steps, T)
    k = bptt_length or T
    predictions, state = [], None
    for chunk in x[:, :tau].split(k, dim=1):  # teacher-forced part: the true samples
        p, state = model(chunk, None if state is None else _detached(state))
        predictions.append(p[..., 0])
    fed = predictions[-1][:, -1:]  # the prediction of sample tau, (B, 1)
    for t in range(tau, T):  # closed loop: the prediction of sample t is the input of step t
        if t % k == 0:
            state, fed = _detached(state), fed.detach()
        p, state = model(fed[..., None], state)
        fed = p[..., 0]
        predictions.append(fed)
    return torch.mean((torch.cat(predictions, dim=1) - targets.to(p.dtype)) ** 2)


@checked(ramp_arguments)
def teacher_steps_at(c: SineConfig, step: int, length: int) -> int:
    """True inputs per sequence of `length` at training step 1 … max_steps (closed-loop training):
    `length` (teacher forcing) at the start, falling linearly to c.teacher_steps at step
    ramp * max_steps and staying there; ramp 0: c.teacher_steps from the first step."""
    final = min(c.teacher_steps, length)
    progress = 1.0 if c.ramp == 0 else min(1.0, step / (c.ramp * c.max_steps))
    return round(length - (length - final) * progress)


@checked(schedule_arguments)
def learning_rate(c: SineConfig, step: int) -> float:
    """The learning rate of training step 1 … max_steps: c.lr throughout ("constant"), or decayed
    from lr to 0 along a half cosine, lr (1 + cos(pi (step - 1) / max_steps)) / 2 ("cosine")."""
    if c.lr_schedule == "constant":
        return c.lr
    return c.lr * 0.5 * (1.0 + math.cos(math.pi * (step - 1) / c.max_steps))


def continuation_arguments(model, warmup, n=CONTINUATION) -> dict:
    """Checked arguments of `continue_sine`: a torch model, warmup (N, W) finite, n >= 1."""
    if not isinstance(model, torch.nn.Module):
        validate.fail("model", "a torch.nn.Module such as FastElmanRNN(1, H, 1)", model, TypeError)
    return {"model": model, "warmup": validate.array("warmup", warmup, ndim=2), "n": validate.positive_int("n", n)}


@torch.no_grad()
@checked(continuation_arguments)
def continue_sine(model, warmup, n: int = CONTINUATION) -> np.ndarray:
    """Read warmup (N, W) true samples, then generate n samples from the model's own predictions: (N, n)."""
    p, state = model(warmup[..., None])
    generated = [p[:, -1]]  # the prediction after the last true sample, (N, 1)
    for _ in range(n - 1):
        p, state = model(generated[-1][:, None], state)
        generated.append(p[:, -1])
    return torch.cat(generated, dim=1).cpu().numpy().astype(np.float64)


def held_out_curves(count: int = TEST_CURVES, seed: int = TEST_SEED):
    """Held-out `SineWaves` with WARMUP + CONTINUATION inputs each: the test curves (seed TEST_SEED)
    or, with seed=VALIDATION_SEED, the validation curves."""
    return sine_waves(validate.positive_int("count", count), length=WARMUP + CONTINUATION, seed=validate.seed("seed", seed))


def continuation_errors(model, curves=None) -> np.ndarray:
    """Squared error of each generated sample, averaged over the curves (default: test): (CONTINUATION,)."""
    curves = held_out_curves() if curves is None else curves
    generated = continue_sine(model, curves.inputs[:, :WARMUP], CONTINUATION)
    return np.mean((generated - curves.inputs[:, WARMUP:]) ** 2, axis=0)


def fit_sines(samples, step: float = 0.15, frequencies=FREQUENCY_GRID):
    """Least-squares fit of a sin(w t) + b cos(w t), t = 0, step, 2 step, ..., to each row of samples
    (N, L), w on the grid `frequencies`: the best w (N,) and the amplitude sqrt(a^2 + b^2) (N,)."""
    samples = validate.array("samples", samples, ndim=2)
    step = validate.positive("step", step)
    grid = validate.array("frequencies", frequencies, ndim=1)
    phases = grid[:, None] * step * np.arange(samples.shape[1])           # (F, L)
    basis = np.stack([np.sin(phases), np.cos(phases)], axis=1)           # (F, 2, L)
    gram = basis @ basis.transpose(0, 2, 1)                              # (F, 2, 2)
    coefficients = np.linalg.solve(gram[:, None], (basis @ samples.T).transpose(0, 2, 1)[..., None])[..., 0]
    explained = np.einsum("fnk,fkl,fnl->fn", coefficients, basis, samples[None])  # (F, N): fitted . samples
    best = np.argmax(explained, axis=0)                                  # least squares = most explained
    amplitude = np.linalg.norm(coefficients[best, np.arange(samples.shape[0])], axis=1)
    return grid[best], amplitude


def frequency_diagnosis(model, curves=None) -> dict:
    """Why a continuation fails: true frequency f (N,) of the test curves against the frequency
    and amplitude of a sine fitted to the model's CONTINUATION generated samples (`fit_sines`)."""
    curves = held_out_curves() if curves is None else curves
    frequency, amplitude = fit_sines(continue_sine(model, curves.inputs[:, :WARMUP], CONTINUATION), curves.step)
    return {"true": curves.frequencies.tolist(), "generated": frequency.tolist(), "amplitude": amplitude.tolist()}


@torch.no_grad()
def evaluate_sine(model, curves=None) -> dict:
    """On held-out curves (default: test): one-step MSE over all samples ("mse"), and the MSE of the
    generated continuation over its first SHORT_HORIZON and over all CONTINUATION samples."""
    curves = held_out_curves() if curves is None else curves
    p, _ = model(np.array(curves.inputs[..., None]))
    errors = continuation_errors(model, curves)
    return {"mse": float(np.mean((p[..., 0].cpu().numpy() - curves.targets) ** 2)),
            f"continuation_mse_{SHORT_HORIZON}": float(np.mean(errors[:SHORT_HORIZON])),
            "continuation_mse": float(np.mean(errors))}


def continuation_record(model, count: int = SHOWN_CURVES) -> dict:
    """JSON-ready lists for the plots: warmup, truth and generated samples of the first `count` test
    curves, and the per-sample continuation error over all test curves (`continuation_errors`)."""
    curves = held_out_curves(count)
    return {"warmup": curves.inputs[:, :WARMUP].tolist(), "truth": curves.inputs[:, WARMUP:].tolist(),
            "generated": continue_sine(model, curves.inputs[:, :WARMUP]).tolist(),
            "errors": continuation_errors(model).tolist()}


def train(c, on_step=None, model=None) -> History:
    """Train the model of config `c` on fresh sine batches (in place when `model` is given); its History.

    Each step draws `batch_size` curves (a generator seeded with c.seed), computes `sequence_loss`
    (teacher_steps None) or `closed_loop_loss` with `teacher_steps_at` true inputs, clips the global
    gradient norm to `max_norm` and updates with `optimizer` at the step's `learning_rate`. Every
    `eval_every` steps the validation metrics are recorded (then `on_step(history)` runs, with
    `history.final["continuation"]` of the current model for live plots); at the end the step with the
    lowest validation continuation MSE is restored, and `final` gets the test numbers ("test_mse",
    "test_continuation_mse_20", "test_continuation_mse") and the continuation record of the test curves.
    """
    c = _as_config(c)
    model = build_model(c) if model is None else model
    if on_step is not None and not callable(on_step):
        validate.fail("on_step", "a callable or None", on_step, TypeError)
    optimizer = make_optimizer(c.optimizer, model.parameters(), c.lr)
    generator = np.random.default_rng(c.seed)
    validation = held_out_curves(seed=VALIDATION_SEED)

    def next_batch(step):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(c, step)
        waves = sine_waves(c.batch_size, seed=generator)
        inputs, targets = (torch.tensor(a, dtype=torch.float32) for a in (waves.inputs, waves.targets))
        return inputs, targets, None if c.teacher_steps is None else teacher_steps_at(c, step, inputs.shape[1])

    def loss_fn(model, batch):
        inputs, targets, teacher_steps = batch
        if teacher_steps is None:
            return sequence_loss(model, inputs, targets, bptt_length=c.bptt_length)
        return closed_loop_loss(model, inputs, targets, teacher_steps, bptt_length=c.bptt_length)

    def report(history):
        if on_step is not None:
            history.final["continuation"] = continuation_record(model)
            on_step(history)

    history = fit(model, optimizer, next_batch, loss_fn, c.max_steps, clip_norm=c.max_norm,
                  evaluate=lambda m: evaluate_sine(m, validation), eval_every=c.eval_every,
                  best_metric=SELECTION_METRIC, best_mode="min", on_step=report,
                  desc=f"sine {c.model} lr {c.lr:g}", config=c.as_dict())
    with single_threaded():
        test = evaluate_sine(model)
        history.record_final(**{f"test_{name}": value for name, value in test.items()},
                             continuation=continuation_record(model))
    return history.round_numbers()   # stored runs: float32 precision


def run_model(c, retrain: bool | None = None, on_step=None) -> tuple[torch.nn.Module, History]:
    """(trained model, History) of config `c`: trained, or reloaded with its weights from the run cache
    or the committed results (`helpers.run_cache.cached`; quick mode never touches results/)."""
    c = _as_config(c)
    model = build_model(c)
    history = cached(c.as_dict(), lambda: train(c, on_step=on_step, model=model), model=model, retrain=retrain,
                     commit_weights=True)
    return model, history


def run(c, retrain: bool | None = None, on_step=None) -> History:
    """The History of config `c` (`run_model` without the model), like `memory.run` and `palindromes.run`."""
    return run_model(c, retrain, on_step)[1]


def choose_lr(c, grid=LR_GRID, retrain: bool | None = None, on_step=None):
    """Train config `c` at every learning rate of `grid` with the same budget: ({lr: (model, History)},
    the lr with the lowest validation continuation MSE at its chosen step)."""
    c = _as_config(c)
    rates = sorted({validate.positive("grid", lr) for lr in grid})
    if not rates:
        validate.fail("grid", "at least one learning rate", grid)
    runs = {lr: run_model(replace(c, lr=lr), retrain=retrain, on_step=on_step) for lr in rates}
    best = min(rates, key=lambda lr: runs[lr][1].final[SELECTION_METRIC])
    return runs, best


def rnn_hidden_matching(lstm_hidden: int) -> int:
    """The Elman RNN hidden size whose parameter count (read-out included) is closest to an LSTM's
    with `lstm_hidden` units (input and output size 1)."""
    target = parameter_count(FastLSTM(1, validate.positive_int("lstm_hidden", lstm_hidden), 1))
    return min(range(1, 8 * lstm_hidden), key=lambda n: abs(parameter_count(FastElmanRNN(1, n, 1)) - target))


def compare_at_equal_size(c, grid=LR_GRID, retrain: bool | None = None, on_step=None) -> dict:
    """LSTM with c.hidden_size units and the Elman RNN of (nearly) equal parameter count, trained with
    the settings of `c` otherwise, each at its own best rate of `grid`:
    {"lstm" | "rnn": (runs {lr: (model, History)}, best lr)}."""
    c = _as_config(c)
    sizes = {"lstm": c.hidden_size, "rnn": rnn_hidden_matching(c.hidden_size)}
    return {kind: choose_lr(replace(c, model=kind, hidden_size=hidden), grid, retrain,
                            None if on_step is None else (lambda history, kind=kind: on_step(kind, history)))
            for kind, hidden in sizes.items()}


def plot_across_seeds(ax, scores: dict, *, ylabel: str):
    """One column per entry of `scores` (label -> one positive value per seed, e.g. a test MSE): every
    seed as a dot, the mean as a short horizontal line; log scale."""
    if not isinstance(scores, dict) or not scores:
        validate.fail("scores", "a non-empty dict of label -> one value per seed", scores, TypeError)
    ylabel = validate.text("ylabel", ylabel)
    for column, (label, values) in enumerate(scores.items()):
        values = validate.array(f"scores[{label!r}]", values, ndim=1).astype(float)
        if values.size == 0 or not np.all(values > 0):
            validate.fail(f"scores[{label!r}]", "at least one value, all positive (log scale)", values)
        ax.scatter(np.full(values.size, column), values, color=f"C{column}", alpha=0.7, zorder=3)
        ax.hlines(values.mean(), column - 0.25, column + 0.25, color=f"C{column}", linewidth=2)
    ax.set_xticks(range(len(scores)), [str(label) for label in scores])
    ax.set_xlim(-0.6, len(scores) - 0.4)
    ax.set_yscale("log")
    ax.set_ylabel(ylabel)


def plot_continuation(ax, record: dict, *, curves: int = SHOWN_CURVES):
    """The first `curves` test curves of a `continuation_record`: warm-up (black), truth (thick,
    pale) and generated samples (thin), each curve in its own colour; the legend explains the styles."""
    from matplotlib.lines import Line2D

    warmup, truth, generated = (np.asarray(record[key]) for key in ("warmup", "truth", "generated"))
    start = np.arange(warmup.shape[1])
    after = np.arange(warmup.shape[1], warmup.shape[1] + truth.shape[1])
    for i in range(min(curves, len(warmup))):
        ax.plot(start, warmup[i], color="black", linewidth=1)
        ax.plot(after, truth[i], color=f"C{i}", linewidth=4, alpha=0.3)
        ax.plot(after, generated[i], color=f"C{i}", linewidth=1.3)
    ax.axvline(warmup.shape[1] - 0.5, color="gray", linestyle=":", linewidth=1)
    ax.set_xlabel("sample index")
    ax.set_ylabel("value")
    ax.set_ylim(-2.0, 1.3)  # room for the legend below the curves
    styles = [Line2D([], [], color="black", linewidth=1), Line2D([], [], color="gray", linewidth=4, alpha=0.3),
              Line2D([], [], color="gray", linewidth=1.3)]
    ax.legend(styles, ["warm-up (true samples)", "truth (thick, pale)", "generated (thin)"],
              fontsize="small", loc="lower center", ncol=3, handlelength=1.5)


def plot_continuation_errors(ax, records: dict):
    """Squared error vs. generated sample (log scale), one line per run: `records` maps a label to a
    `continuation_record`."""
    for label, record in records.items():
        errors = np.asarray(record["errors"])
        ax.semilogy(np.arange(1, len(errors) + 1), errors, label=str(label))
    ax.axvline(SHORT_HORIZON, color="gray", linestyle=":", linewidth=1)
    ax.set_xlabel("generated sample")
    ax.set_ylabel("squared error (mean over test curves)")
    ax.legend(fontsize="small")


def plot_frequency_diagnosis(ax, diagnoses: dict):
    """Frequency of the generated continuation against the true frequency, one marker set per run:
    `diagnoses` maps a label to a `frequency_diagnosis`. On the diagonal the phase never drifts."""
    for label, diagnosis in diagnoses.items():
        ax.plot(diagnosis["true"], diagnosis["generated"], ".", label=str(label))
    ax.plot([1, 2], [1, 2], color="gray", linestyle=":", linewidth=1, label="generated = true")
    ax.set_xlabel("true frequency f")
    ax.set_ylabel("frequency of the continuation")
    ax.legend(fontsize="small")


def plot_gradient_norms(ax, history: History, max_norm: float | None, *, label: str | None = None):
    """The global gradient norm before clipping at every training step (log scale) and the clip
    threshold: the steps above the line are the ones clipping rescaled."""
    steps, norms = np.asarray(history.steps), np.asarray(history.grad_norm, dtype=float)
    ax.semilogy(steps, norms, linewidth=0.6, label=label or "gradient norm before clipping")
    if max_norm is not None:
        ax.axhline(max_norm, color="black", linestyle="--", linewidth=1, label=f"clip norm {max_norm:g}")
    ax.set_xlabel("training step")
    ax.set_ylabel("global gradient norm")
    ax.legend(fontsize="small")


def plot_lr_choice(ax, runs: dict, best: float, *, label: str = ""):
    """Validation continuation MSE at the chosen step for every learning rate of a `choose_lr` result
    (log-log); the chosen rate circled."""
    rates = sorted(runs)
    values = [runs[lr][1].final[SELECTION_METRIC] for lr in rates]
    line, = ax.loglog(rates, values, marker="o", label=label or None)
    ax.loglog([best], [runs[best][1].final[SELECTION_METRIC]], marker="o", markersize=12, fillstyle="none",
              color=line.get_color())
    ax.set_xlabel("learning rate")
    ax.set_ylabel("validation continuation MSE")
    if label:
        ax.legend(fontsize="small")


def sine_figure(history: History, title: str | None = None):
    """Loss curves, continuations of three test curves, and the continuation error per generated
    sample, of a finished or running training."""
    fig, (loss_ax, curve_ax, error_ax) = plots.new_figure(3, width=4.6)
    mode = "teacher forcing" if history.config.get("teacher_steps", WARMUP) is None else "closed loop"
    plots.plot_loss(loss_ax, history, label=f"training ({mode})", smooth=10)
    if "mse" in history.metrics:
        steps, values = history.metric("mse")
        loss_ax.plot(steps, values, marker=".", label="validation (one step)")
        loss_ax.legend()
    loss_ax.set_ylabel("MSE")
    plot_continuation(curve_ax, history.final["continuation"])
    curve_ax.set_title("continuation (after the dotted line)")
    plot_continuation_errors(error_ax, {f"step {history.chosen_step or history.steps[-1]}": history.final["continuation"]})
    error_ax.set_title("error per generated sample")
    if title:
        fig.suptitle(title)
    return fig


def sine_panel(**defaults) -> widgets.VBox:
    """Widget panel: training mode (teacher forcing or closed loop) and its ramp, hidden size, learning
    rate, steps, bptt_length (0 = full), clip norm, seed -> Run -> live loss and continuation plot.
    `defaults` override the `SineConfig` defaults (e.g. model="lstm")."""
    base = config(**defaults)
    modes = [("teacher forcing", None), (f"closed loop after {WARMUP} true samples", WARMUP)]
    if base.teacher_steps not in (None, WARMUP):
        modes.append((f"closed loop after {base.teacher_steps} true samples", base.teacher_steps))
    controls = {
        "teacher_steps": widgets.Dropdown(options=modes, value=base.teacher_steps, description="training"),
        "ramp": widgets.FloatSlider(base.ramp, min=0.0, max=1.0, step=0.05, description="ramp"),
        "hidden_size": widgets.IntSlider(base.hidden_size, 4, 128, description="hidden size"),
        "lr": widgets.FloatLogSlider(base.lr, base=10, min=-4, max=-1, description="learning rate"),
        "max_steps": widgets.IntSlider(base.max_steps, 100, 5000, step=100, description="steps"),
        "bptt_length": widgets.IntSlider(base.bptt_length or 0, 0, 100, description="bptt length"),
        "max_norm": widgets.FloatSlider(base.max_norm or 5.0, min=0.5, max=20.0, step=0.5, description="clip norm"),
        "seed": widgets.IntText(base.seed, description="seed"),
    }

    def on_run(values, output):
        c = replace(base, **{**values, "bptt_length": values["bptt_length"] or None})
        run(config(**asdict(c)), on_step=lambda history: show_figure(sine_figure(history), output))

    return panel(f"Sine continuation ({base.model})", controls, on_run)
