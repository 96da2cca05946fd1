"""Sine continuation (sheet 001), the experiment of notebooks 02 and 03.

A recurrent model reads a sine curve of unknown frequency and predicts the next sample at every
step (MSE over the sequence). After training it is warmed up on the first 30 samples of held-out
curves and then generates the next 100 samples by feeding its own predictions back.

    config = sine_config(model="rnn", hidden_size=32, steps=2000)
    model, history = train_sine_model(config)       # or: history = train_sine(config)
    fig = sine_figure(history)                       # loss curve and continuations

Models: "rnn" is `helpers.torch_rnn.ElmanRNN`, "lstm" is `helpers.torch_lstm.FastLSTM` (the fast twin
of `LSTM`); both have the interface forward(x (B, T, 1), state=None) -> (p (B, T, 1), state).
"""
from __future__ import annotations

from contextlib import contextmanager

import ipywidgets as widgets
import numpy as np
import torch

from helpers import plots, training, validate
from helpers.data import sine_waves
from helpers.torch_lstm import FastLSTM
from helpers.torch_rnn import ElmanRNN
from helpers.widgets import panel, show_figure

MODELS = {"rnn": ElmanRNN, "lstm": FastLSTM}
WARMUP = 30          # true samples the model reads before generating
CONTINUATION = 100   # samples it generates from its own predictions
TEST_SEED = 2018     # the held-out curves: the same for every run, never used for training
TEST_CURVES = 64
SHOWN_CURVES = 3
SHORT_HORIZON = 20   # generated samples of the short-horizon continuation error
DEFAULTS = {"model": "rnn", "hidden_size": 32, "lr": 1e-2, "steps": 2000, "batch_size": 128,
            "bptt_length": None, "clip_norm": 5.0, "optimizer": "adam", "seed": 0,
            "eval_every": 100, "version": 1}


def sine_config(**overrides) -> dict:
    """`DEFAULTS` updated with `overrides`, every entry checked; bptt_length None = full BPTT."""
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


@contextmanager
def one_thread():
    """Run torch on one CPU thread inside the block, then restore the previous setting.

    The sine models are tiny (64 x 32 matrices per step); intra-op threads only add synchronisation,
    and on a busy 2-core machine that made training 20x slower than on one thread.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def train_sine_model(config: dict, on_step=None):
    """Train the model of `config` on fresh sine batches; return (model, History).

    Each step draws `batch_size` curves (a generator seeded with config["seed"]), clips the global
    gradient norm to `clip_norm` and updates with `optimizer`. Every `eval_every` steps the held-out
    metrics are recorded and `history.final["continuation"]` is refreshed; then `on_step(history)` runs.
    Training runs on one CPU thread (`one_thread`).
    """
    config = sine_config(**config)
    model = make_model(config)
    optimizer = training.make_optimizer(config["optimizer"], model.parameters(), config["lr"])
    generator = np.random.default_rng(config["seed"])
    if on_step is not None and not callable(on_step):
        validate.fail("on_step", "a callable or None", on_step, TypeError)

    def next_batch(_step):
        waves = sine_waves(config["batch_size"], seed=generator)
        return torch.tensor(waves.inputs, dtype=torch.float32), torch.tensor(waves.targets, dtype=torch.float32)

    def loss_fn(model, batch):
        return sequence_loss(model, *batch, bptt_length=config["bptt_length"])

    def report(history):
        history.final["continuation"] = continuation_record(model)
        if on_step is not None:
            on_step(history)

    with one_thread():
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


def sine_figure(history: training.History, title: str | None = None):
    """Loss curves, continuations of three held-out curves, and the continuation error per generated
    sample, of a finished or running training."""
    fig, (loss_ax, curve_ax, error_ax) = plots.new_figure(3, width=4.6)
    plots.plot_loss(loss_ax, history, label="training", smooth=10)
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
    """Widget panel: hidden size, learning rate, steps, bptt_length (0 = full), clip norm, seed -> Run ->
    live loss and continuation plot. `defaults` override `DEFAULTS` (e.g. model="lstm")."""
    base = sine_config(**defaults)
    controls = {
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
