"""Sine continuation (sheet 001), the experiment of notebooks 02 and 03.

A recurrent model reads a sine curve of unknown frequency and predicts the next sample at every
step (MSE over the sequence). After training it is warmed up on the first 30 samples of held-out
curves and then generates the next 100 samples by feeding its own predictions back.

Two ways to train (config["teacher_steps"]):
- None, teacher forcing: the input of every step is the true previous sample (`sequence_loss`). The
  model never sees its own predictions during training, although the continuation runs on nothing
  else (exposure bias); a small error of the one-step predictor shifts the frequency of the
  self-fed oscillator, and the one-step loss hardly notices it.
- k (default WARMUP), closed loop: the model reads k true samples, then its own predictions, and the
  gradient flows back through them (`closed_loop_loss`): training optimises the continuation itself.
  A curriculum (config["ramp"]) starts with teacher forcing and lowers the number of true samples
  linearly to k over the first `ramp` fraction of the steps (`teacher_steps_at`).

    config = sine_config(model="rnn", hidden_size=32, steps=2000)
    model, history = train_sine_model(config)       # or: history = train_sine(config)
    fig = sine_figure(history)                       # loss curve and continuations

Models: "rnn" is `helpers.torch_rnn.FastElmanRNN`, "lstm" is `helpers.torch_lstm.FastLSTM` (the fast
twins of `ElmanRNN` and `LSTM`); both have the interface forward(x (B, T, 1), state=None) -> (p (B, T, 1), state).
"""
from __future__ import annotations

import math

import ipywidgets as widgets
import numpy as np
import torch

from helpers import plots, training, validate
from helpers.data import sine_waves
from helpers.torch_lstm import FastLSTM
from helpers.torch_rnn import FastElmanRNN
from helpers.widgets import panel, show_figure

MODELS = {"rnn": FastElmanRNN, "lstm": FastLSTM}
WARMUP = 30          # true samples the model reads before generating
CONTINUATION = 100   # samples it generates from its own predictions
TEST_SEED = 2018     # the held-out curves: the same for every run, never used for training
TEST_CURVES = 64
SHOWN_CURVES = 3
SHORT_HORIZON = 20   # generated samples of the short-horizon continuation error
LR_SCHEDULES = ("constant", "cosine")
FREQUENCY_GRID = np.linspace(0.25, 3.0, 2751)  # candidate frequencies of `fit_sines`, spacing 1e-3
DEFAULTS = {"model": "rnn", "hidden_size": 32, "lr": 3e-3, "steps": 2000, "batch_size": 128,
            "bptt_length": None, "clip_norm": 5.0, "optimizer": "adam", "seed": 0,
            "eval_every": 100, "teacher_steps": WARMUP, "ramp": 0.5, "lr_schedule": "cosine", "version": 2}


def sine_config(**overrides) -> dict:
    """`DEFAULTS` updated with `overrides`, every entry checked; bptt_length None = full BPTT,
    teacher_steps None = teacher forcing at every step."""
    unknown = sorted(set(overrides) - set(DEFAULTS))
    if unknown:
        validate.fail("overrides", "keys among " + ", ".join(DEFAULTS), unknown)
    config = {**DEFAULTS, **overrides}
    validate.choice("model", config["model"], tuple(MODELS))
    for key in ("hidden_size", "steps", "batch_size", "eval_every", "version"):
        config[key] = validate.positive_int(key, config[key])
    config["lr"] = validate.positive("lr", config["lr"])
    if config["bptt_length"] is not None:
        config["bptt_length"] = validate.positive_int("bptt_length", config["bptt_length"])
    if config["teacher_steps"] is not None:
        config["teacher_steps"] = validate.positive_int("teacher_steps", config["teacher_steps"])
    config["ramp"] = validate.real("ramp", config["ramp"], low=0.0, high=1.0)
    validate.choice("lr_schedule", config["lr_schedule"], LR_SCHEDULES)
    if config["clip_norm"] is not None:
        config["clip_norm"] = validate.positive("clip_norm", config["clip_norm"])
    validate.choice("optimizer", config["optimizer"], training.OPTIMIZERS)
    config["seed"] = validate.non_negative_int("seed", config["seed"])
    return config


def make_model(config: dict) -> torch.nn.Module:
    """The model of `config` (input and output size 1), initialised from torch's generator seeded by config["seed"]."""
    config = sine_config(**config)
    torch.manual_seed(config["seed"])
    return MODELS[config["model"]](1, config["hidden_size"], 1)


def _detached(state):
    """The state with its history cut: a tensor h, or a pair (h, c)."""
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()


def sequence_loss(model, inputs, targets, bptt_length: int | None = None) -> torch.Tensor:
    """MSE over every step of inputs (B, T) against targets (B, T).

    With `bptt_length` k the sequence is read in chunks of k steps and the state is detached between
    chunks (truncated BPTT): the gradient of the output at step t reaches back to the start of its
    chunk, between 1 and k steps. None: the gradient reaches back to step 1.
    """
    x = torch.as_tensor(inputs)[..., None]
    k = x.shape[1] if bptt_length is None else validate.positive_int("bptt_length", bptt_length)
    predictions, state = [], None
    for chunk in x.split(k, dim=1):
        p, state = model(chunk, None if state is None else _detached(state))
        predictions.append(p[..., 0])
    return torch.mean((torch.cat(predictions, dim=1) - torch.as_tensor(targets, dtype=p.dtype)) ** 2)


def closed_loop_loss(model, inputs, targets, teacher_steps: int, bptt_length: int | None = None) -> torch.Tensor:
    """MSE over every step of inputs (B, T) against targets (B, T) when the model reads only the first
    `teacher_steps` true inputs and then, at every later step t, its own prediction of sample t.

    The gradient flows back through the fed-back predictions: the loss of a generated sample also
    trains the steps that produced its inputs. With `bptt_length` k the state and the fed-back
    prediction are detached every k steps (as in `sequence_loss`). teacher_steps >= T: `sequence_loss`.
    """
    x = torch.as_tensor(inputs)[..., None]
    T = x.shape[1]
    W = min(validate.positive_int("teacher_steps", teacher_steps), T)
    k = T if bptt_length is None else validate.positive_int("bptt_length", bptt_length)
    predictions, state = [], None
    for chunk in x[:, :W].split(k, dim=1):  # teacher-forced part: the true samples
        p, state = model(chunk, None if state is None else _detached(state))
        predictions.append(p[..., 0])
    fed = predictions[-1][:, -1:]  # the prediction of sample W, (B, 1)
    for t in range(W, T):  # closed loop: the prediction of sample t is the input of step t
        if t % k == 0:
            state, fed = _detached(state), fed.detach()
        p, state = model(fed[..., None], state)
        fed = p[..., 0]
        predictions.append(fed)
    return torch.mean((torch.cat(predictions, dim=1) - torch.as_tensor(targets, dtype=p.dtype)) ** 2)


def teacher_steps_at(config: dict, step: int, length: int) -> int:
    """True inputs per sequence of `length` at training step 1 … steps (closed-loop training): `length`
    (teacher forcing) at the start, falling linearly to config["teacher_steps"] at step ramp * steps
    and staying there; ramp 0: config["teacher_steps"] from the first step."""
    final = min(config["teacher_steps"], length)
    progress = 1.0 if config["ramp"] == 0 else min(1.0, step / (config["ramp"] * config["steps"]))
    return round(length - (length - final) * progress)


def learning_rate(config: dict, step: int) -> float:
    """The learning rate of training step 1 … steps: config["lr"] throughout ("constant"), or decayed
    from lr to 0 along a half cosine, lr (1 + cos(pi (step - 1) / steps)) / 2 ("cosine")."""
    if config["lr_schedule"] == "constant":
        return config["lr"]
    return config["lr"] * 0.5 * (1.0 + math.cos(math.pi * (step - 1) / config["steps"]))


@torch.no_grad()
def continue_sine(model, warmup, n: int = CONTINUATION) -> np.ndarray:
    """Read warmup (N, W) true samples, then generate n samples from the model's own predictions: (N, n)."""
    warmup = validate.array("warmup", warmup, ndim=2)
    n = validate.positive_int("n", n)
    p, state = model(warmup[..., None])
    generated = [p[:, -1]]  # the prediction after the last true sample, (N, 1)
    for _ in range(n - 1):
        p, state = model(generated[-1][:, None], state)
        generated.append(p[:, -1])
    return torch.cat(generated, dim=1).cpu().numpy().astype(np.float64)


def held_out_curves(count: int = TEST_CURVES):
    """The held-out curves: `SineWaves` with WARMUP + CONTINUATION inputs each (seed TEST_SEED)."""
    return sine_waves(count, length=WARMUP + CONTINUATION, seed=TEST_SEED)


def continuation_errors(model, curves=None) -> np.ndarray:
    """Squared error of each generated sample, averaged over the held-out curves: (CONTINUATION,)."""
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
    """Why a continuation fails: true frequency f (N,) of the held-out curves against the frequency
    and amplitude of a sine fitted to the model's CONTINUATION generated samples (`fit_sines`)."""
    curves = held_out_curves() if curves is None else curves
    frequency, amplitude = fit_sines(continue_sine(model, curves.inputs[:, :WARMUP], CONTINUATION), curves.step)
    return {"true": curves.frequencies.tolist(), "generated": frequency.tolist(), "amplitude": amplitude.tolist()}


@torch.no_grad()
def evaluate_sine(model, curves=None) -> dict:
    """On held-out curves: one-step MSE over all samples, and MSE of the generated continuation over
    its first SHORT_HORIZON and over all CONTINUATION samples."""
    curves = held_out_curves() if curves is None else curves
    p, _ = model(np.array(curves.inputs[..., None]))
    errors = continuation_errors(model, curves)
    return {"test_mse": float(np.mean((p[..., 0].cpu().numpy() - curves.targets) ** 2)),
            f"continuation_mse_{SHORT_HORIZON}": float(np.mean(errors[:SHORT_HORIZON])),
            "continuation_mse": float(np.mean(errors))}


def continuation_record(model, count: int = SHOWN_CURVES) -> dict:
    """JSON-ready lists for the plots: warmup, truth and generated samples of the first `count` held-out
    curves, and the per-sample continuation error over all held-out curves (`continuation_errors`)."""
    curves = held_out_curves(count)
    return {"warmup": curves.inputs[:, :WARMUP].tolist(), "truth": curves.inputs[:, WARMUP:].tolist(),
            "generated": continue_sine(model, curves.inputs[:, :WARMUP]).tolist(),
            "errors": continuation_errors(model).tolist()}


def train_sine_model(config: dict, on_step=None):
    """Train the model of `config` on fresh sine batches; return (model, History).

    Each step draws `batch_size` curves (a generator seeded with config["seed"]), computes
    `sequence_loss` (teacher_steps None) or `closed_loop_loss` with `teacher_steps_at` true inputs,
    clips the global gradient norm to `clip_norm` and updates with `optimizer` at the step's
    `learning_rate`. Every `eval_every` steps the held-out metrics are recorded and
    `history.final["continuation"]` is refreshed; then `on_step(history)` runs. Training runs on one
    CPU thread (`training.single_threaded`).
    """
    config = sine_config(**config)
    model = make_model(config)
    optimizer = training.make_optimizer(config["optimizer"], model.parameters(), config["lr"])
    generator = np.random.default_rng(config["seed"])
    if on_step is not None and not callable(on_step):
        validate.fail("on_step", "a callable or None", on_step, TypeError)

    def next_batch(step):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(config, step)
        waves = sine_waves(config["batch_size"], seed=generator)
        inputs, targets = (torch.tensor(a, dtype=torch.float32) for a in (waves.inputs, waves.targets))
        closed_loop = config["teacher_steps"] is not None
        return inputs, targets, teacher_steps_at(config, step, inputs.shape[1]) if closed_loop else None

    def loss_fn(model, batch):
        inputs, targets, teacher_steps = batch
        if teacher_steps is None:
            return sequence_loss(model, inputs, targets, bptt_length=config["bptt_length"])
        return closed_loop_loss(model, inputs, targets, teacher_steps, bptt_length=config["bptt_length"])

    def report(history):
        history.final["continuation"] = continuation_record(model)
        if on_step is not None:
            on_step(history)

    with training.single_threaded():
        history = training.fit(model, optimizer, next_batch, loss_fn, config["steps"], clip_norm=config["clip_norm"],
                               evaluate=evaluate_sine, eval_every=config["eval_every"], on_step=report,
                               desc=f"sine {config['model']}", config=config)
    return model, history


def train_sine(config: dict, on_step=None) -> training.History:
    """`train_sine_model` without the model: the History holds the metrics and the continuations."""
    return train_sine_model(config, on_step)[1]


def plot_continuation(ax, record: dict, *, curves: int = SHOWN_CURVES):
    """The first `curves` held-out curves of a `continuation_record`: warm-up (black), truth (thick,
    faint) and generated samples (thin), each curve in its own colour."""
    warmup, truth, generated = (np.asarray(record[key]) for key in ("warmup", "truth", "generated"))
    start = np.arange(warmup.shape[1])
    after = np.arange(warmup.shape[1], warmup.shape[1] + truth.shape[1])
    for i in range(min(curves, len(warmup))):
        first = i == 0
        ax.plot(start, warmup[i], color="black", linewidth=1, label="warm-up (true samples)" if first else None)
        ax.plot(after, truth[i], color=f"C{i}", linewidth=4, alpha=0.3, label="truth (thick)" if first else None)
        ax.plot(after, generated[i], color=f"C{i}", linewidth=1.3, label="generated (thin)" if first else None)
    ax.axvline(warmup.shape[1] - 0.5, color="gray", linestyle=":", linewidth=1)
    ax.set_xlabel("sample index")
    ax.set_ylabel("value")
    ax.set_ylim(-2.0, 1.3)  # room for the legend below the curves
    ax.legend(fontsize="small", loc="lower center", ncol=3, handlelength=1.5)


def plot_continuation_errors(ax, records: dict):
    """Squared error vs. generated sample (log scale), one line per run: `records` maps a label to a
    `continuation_record`."""
    for label, record in records.items():
        errors = np.asarray(record["errors"])
        ax.semilogy(np.arange(1, len(errors) + 1), errors, label=str(label))
    ax.axvline(SHORT_HORIZON, color="gray", linestyle=":", linewidth=1)
    ax.set_xlabel("generated sample")
    ax.set_ylabel("squared error (mean over held-out curves)")
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


def sine_figure(history: training.History, title: str | None = None):
    """Loss curves, continuations of three held-out curves, and the continuation error per generated
    sample, of a finished or running training."""
    fig, (loss_ax, curve_ax, error_ax) = plots.new_figure(3, width=4.6)
    mode = "teacher forcing" if history.config.get("teacher_steps", WARMUP) is None else "closed loop"
    plots.plot_loss(loss_ax, history, label=f"training ({mode})", smooth=10)
    if "test_mse" in history.metrics:
        steps, values = history.metric("test_mse")
        loss_ax.plot(steps, values, marker=".", label="held-out (one step)")
        loss_ax.legend()
    loss_ax.set_ylabel("MSE")
    plot_continuation(curve_ax, history.final["continuation"])
    curve_ax.set_title("continuation (after the dotted line)")
    plot_continuation_errors(error_ax, {f"step {history.steps[-1]}": history.final["continuation"]})
    error_ax.set_title("error grows with the horizon")
    if title:
        fig.suptitle(title)
    return fig


def sine_panel(**defaults) -> widgets.VBox:
    """Widget panel: training mode (teacher forcing or closed loop) and its ramp, hidden size, learning
    rate, steps, bptt_length (0 = full), clip norm, seed -> Run -> live loss and continuation plot.
    `defaults` override `DEFAULTS` (e.g. model="lstm")."""
    base = sine_config(**defaults)
    modes = [("teacher forcing", None), (f"closed loop after {WARMUP} true samples", WARMUP)]
    if base["teacher_steps"] not in (None, WARMUP):
        modes.append((f"closed loop after {base['teacher_steps']} true samples", base["teacher_steps"]))
    controls = {
        "teacher_steps": widgets.Dropdown(options=modes, value=base["teacher_steps"], description="training"),
        "ramp": widgets.FloatSlider(base["ramp"], min=0.0, max=1.0, step=0.05, description="ramp"),
        "hidden_size": widgets.IntSlider(base["hidden_size"], 4, 128, description="hidden size"),
        "lr": widgets.FloatLogSlider(base["lr"], base=10, min=-4, max=-1, description="learning rate"),
        "steps": widgets.IntSlider(base["steps"], 100, 5000, step=100, description="steps"),
        "bptt_length": widgets.IntSlider(base["bptt_length"] or 0, 0, 100, description="bptt length"),
        "clip_norm": widgets.FloatSlider(base["clip_norm"] or 5.0, min=0.5, max=20.0, step=0.5, description="clip norm"),
        "seed": widgets.IntText(base["seed"], description="seed"),
    }

    def on_run(values, output):
        config = {**base, **values, "bptt_length": values["bptt_length"] or None}
        train_sine(config, on_step=lambda history: show_figure(sine_figure(history), output))

    return panel(f"Sine continuation ({base['model']})", controls, on_run)
