"""The memory task in PyTorch (sheet 001 g-h): Elman RNN vs. LSTM at (nearly) equal parameter counts.

A run is described by a config dict (`default_config`) and trained by `train(config)`: Adam, global-norm
clipping at 5.0, cross-entropy over every position, early stopping on the recall accuracy of a
held-out set, and the finished run cached on disk by `helpers.training.cached` (weights included).
Shapes: N (batch), T (time), V = K + 2 input ids, H (hidden), C = K + 1 classes (symbols and blank).
"""
from __future__ import annotations

import math

import numpy as np
import torch

from helpers import plots, validate
from helpers.data import memory_chance_level, memory_task, recall_accuracy
from helpers.torch_lstm import LSTM, FastLSTM
from helpers.torch_rnn import FastElmanRNN
from helpers.training import EarlyStopping, History, cached, fit, make_optimizer, single_threaded

MODELS = ("rnn", "lstm")
VERSION = 2  # bump when the training code changes its results: cached runs are then retrained


def rnn_parameter_count(input_size: int, hidden_size: int, output_size: int) -> int:
    """H (D + H + 1) recurrent plus O (H + 1) read-out parameters of the Elman RNN."""
    D, H, O = input_size, hidden_size, output_size
    return H * (D + H + 1) + O * (H + 1)


def lstm_parameter_count(input_size: int, hidden_size: int, output_size: int) -> int:
    """4 H (D + H + 1) gate plus O (H + 1) read-out parameters of the LSTM."""
    D, H, O = input_size, hidden_size, output_size
    return 4 * H * (D + H + 1) + O * (H + 1)


def matching_rnn_hidden_size(lstm_hidden_size: int, input_size: int, output_size: int) -> int:
    """The RNN hidden size whose parameter count is closest to that of an LSTM with `lstm_hidden_size`.

    Solves H^2 + (D + O + 1) H + O = P for the LSTM's count P and rounds to the nearer integer count.
    """
    H = validate.positive_int("lstm_hidden_size", lstm_hidden_size)
    D = validate.positive_int("input_size", input_size)
    O = validate.positive_int("output_size", output_size)
    target = lstm_parameter_count(D, H, O)
    b = D + O + 1
    root = (-b + math.sqrt(b * b - 4 * (O - target))) / 2
    candidates = {max(1, math.floor(root)), math.floor(root) + 1}
    return min(candidates, key=lambda h: (abs(rnn_parameter_count(D, h, O) - target), h))


def default_config(**changes) -> dict:
    """The configuration of one run; keyword arguments replace entries (unknown keys are refused)."""
    config = {"model": "lstm", "to_remember_len": 1, "gap": 20, "num_symbols": 8, "hidden_size": 32,
              "forget_bias": 2.0, "lr": 0.02, "steps": 1000, "batch_size": 64, "clip": "global",
              "clip_norm": 5.0, "eval_every": 50, "patience": 6, "min_steps": 500, "target_accuracy": 0.99,
              "held_out_size": 500, "seed": 0, "version": VERSION}
    unknown = [key for key in changes if key not in config]
    if unknown:
        validate.fail("changes", f"keys among {', '.join(config)}", unknown)
    config.update(changes)
    return checked_config(config)


def checked_config(config: dict) -> dict:
    """Validate every entry of a run configuration; return it unchanged."""
    if not isinstance(config, dict):
        validate.fail("config", "a dict (see default_config)", config, TypeError)
    validate.choice("model", config.get("model"), MODELS)
    for key in ("to_remember_len", "num_symbols", "hidden_size", "steps", "batch_size", "eval_every",
                "patience", "held_out_size"):
        validate.positive_int(key, config.get(key))
    for key in ("gap", "min_steps", "seed"):
        validate.non_negative_int(key, config.get(key))
    validate.real("forget_bias", config.get("forget_bias"))
    validate.positive("lr", config.get("lr"))
    validate.choice("clip", config.get("clip"), ("global", "per-parameter"))
    validate.positive("clip_norm", config.get("clip_norm"))
    validate.probability("target_accuracy", config.get("target_accuracy"))
    return config


def build_model(config: dict) -> torch.nn.Module:
    """A `FastElmanRNN` or `FastLSTM` (forget-gate bias config["forget_bias"]) with V = K + 2 inputs and
    C = K + 1 outputs, initialised from torch's generator seeded with config["seed"]."""
    config = checked_config(config)
    K, H = config["num_symbols"], config["hidden_size"]
    torch.manual_seed(config["seed"])
    if config["model"] == "rnn":
        return FastElmanRNN(K + 2, H, K + 1)
    return FastLSTM(K + 2, H, K + 1, forget_bias=config["forget_bias"])


def task_tensors(batch_size: int, config: dict, seed):
    """A memory-task batch as torch tensors: x (N, T, V) float32, targets (N, T) int64, mask (N, T) bool."""
    task = memory_task(batch_size, config["to_remember_len"], config["gap"],
                       num_symbols=config["num_symbols"], seed=seed)
    return (torch.from_numpy(task.inputs_one_hot).float(), torch.from_numpy(task.targets.copy()),
            torch.from_numpy(task.mask.copy()))


def sequence_loss(model: torch.nn.Module, batch) -> torch.Tensor:
    """Mean cross-entropy over all N T positions (every output counts equally, sheet 001 g)."""
    x, targets, _ = batch
    logits, _ = model(x)
    return torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


def recall_per_position(logits, targets, mask) -> np.ndarray:
    """Accuracy at each of the k recall positions (k,) for logits (N, T, C): how well r_1, ..., r_k
    are recalled."""
    predictions = torch.as_tensor(logits).argmax(dim=-1)
    correct = (predictions == torch.as_tensor(targets))[torch.as_tensor(mask)]
    return correct.reshape(predictions.shape[0], -1).float().mean(dim=0).numpy()


def held_out_metrics(model: torch.nn.Module, x, targets, mask) -> dict[str, float]:
    """{"accuracy": recall accuracy, "r1": accuracy at recall position 1, ..., "rk": at position k}."""
    logits = model(x)[0]
    metrics = {"accuracy": recall_accuracy(logits, targets, mask)}
    metrics.update({f"r{i}": float(value) for i, value in
                    enumerate(recall_per_position(logits, targets, mask), start=1)})
    return metrics


def _train_uncached(config: dict, model: torch.nn.Module, on_step=None, progress: bool = True) -> History:
    rng = np.random.default_rng(config["seed"])
    train_rng, held_out_rng, test_rng = rng.spawn(3)
    held_out = task_tensors(config["held_out_size"], config, held_out_rng)
    test = task_tensors(config["held_out_size"], config, test_rng)
    optimizer = make_optimizer("adam", model.parameters(), config["lr"])
    stopping = EarlyStopping("accuracy", target=config["target_accuracy"], patience=config["patience"],
                             min_delta=0.02, min_steps=config["min_steps"])
    history = fit(model, optimizer, lambda step: task_tensors(config["batch_size"], config, train_rng),
                  sequence_loss, config["steps"], clip_norm=config["clip_norm"], clip=config["clip"],
                  evaluate=lambda m: held_out_metrics(m, *held_out),
                  eval_every=config["eval_every"], early_stopping=stopping, on_step=on_step,
                  progress=progress, desc=f"{config['model']} gap {config['gap']}", config=config)
    model.eval()
    with torch.no_grad():
        test_metrics = held_out_metrics(model, *test)
    positions = range(1, config["to_remember_len"] + 1)
    history.final.update({"test_accuracy": test_metrics["accuracy"],
                          "recall_per_position": [test_metrics[f"r{i}"] for i in positions],
                          "parameters": sum(p.numel() for p in model.parameters())})
    return history


def train(config: dict, on_step=None, *, progress: bool = True, use_cache: bool = True) -> History:
    """Train (or load from the cache) the run `config` and return its History (see `train_model`)."""
    return train_model(config, on_step, progress=progress, use_cache=use_cache)[1]


def train_model(config: dict, on_step=None, *, progress: bool = True, use_cache: bool = True):
    """Train (or load from the cache) the run `config`; return (model, History).

    History.metrics holds the held-out "accuracy" and the per-position "r1" ... "rk" of every
    evaluation; History.final the last of them plus "test_accuracy" and "recall_per_position" (on a
    separate test set) and "parameters". `on_step(history)` is called at every evaluation of a run
    that is trained (not for one loaded from the cache, whose weights are loaded into the model).
    """
    config = dict(checked_config(config))
    model = build_model(config)
    with single_threaded():
        if not use_cache:
            return model, _train_uncached(config, model, on_step, progress)
        history = cached(config, lambda: _train_uncached(config, model, on_step, progress), model=model,
                         verbose=False)
    return model, history


def sweep(name: str, values, models=MODELS, seeds=(0, 1, 2), *, progress: bool = True, **base) -> dict:
    """Test recall accuracy for every model, value of config entry `name` and seed.

    Returns {model: array (len(values), len(seeds))}. `base` changes the other config entries;
    the LSTM uses `hidden_size` (from `base` or the default) and the RNN the hidden size with the
    nearest parameter count (`matching_rnn_hidden_size`).
    """
    lstm = default_config(**base)
    rnn_hidden = matching_rnn_hidden_size(lstm["hidden_size"], lstm["num_symbols"] + 2, lstm["num_symbols"] + 1)
    results = {}
    for model in models:
        validate.choice("models", model, MODELS)
        hidden = lstm["hidden_size"] if model == "lstm" else rnn_hidden
        results[model] = np.array([[train(dict(lstm, model=model, hidden_size=hidden, seed=seed, **{name: value}),
                                          progress=progress).final["test_accuracy"]
                                    for seed in seeds] for value in values])
    return results


def plot_sweep(ax, values, results: dict, xlabel: str, num_symbols: int = 8):
    """Mean test recall accuracy over seeds (dots: single seeds) vs. the swept values, chance dashed."""
    for model, accuracies in results.items():
        plots.plot_mean_spread(ax, values, accuracies, label=model.upper(), spread="minmax")
    plots.mark_level(ax, memory_chance_level(num_symbols), "chance (1/K)")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("test recall accuracy")
    ax.set_ylim(0, 1.05)


def plot_recall_per_position(ax, history: History):
    """Held-out accuracy at each recall position r_1 ... r_k vs. training step, chance level dashed."""
    for i in range(1, history.config["to_remember_len"] + 1):
        plots.plot_metric(ax, history, f"r{i}", label=f"$r_{{{i}}}$")
    ax.set_ylabel("held-out recall accuracy")
    ax.set_ylim(0, 1.05)
    plots.mark_level(ax, memory_chance_level(history.config["num_symbols"]), "chance (1/K)")


def plot_run(history: History, axes) -> None:
    """The panel's figure: training loss (left) and per-position recall accuracy (right)."""
    plots.plot_loss(axes[0], history, smooth=10)
    plot_recall_per_position(axes[1], history)


def hidden_state_gradient_norms(model: torch.nn.Module, x) -> np.ndarray:
    """Frobenius norm of dh_T/dh_t averaged over the batch, by distance d = 1 ... T-1: shape (T-1,).

    The sequence is run once; then, for each t, the suffix x[:, t+1:] is run again from h_t (and, for
    an LSTM, the cell state c_t held fixed) and the full H x H Jacobian is taken by autograd, with one
    copy of each sequence per output unit. Entry d - 1 is the norm for h_T and the state d steps before.
    """
    dtype = next(model.parameters()).dtype
    x = torch.as_tensor(x, dtype=dtype)
    if x.dim() != 3 or x.shape[1] < 2:
        validate.fail("x", "a (N, T, V) sequence batch with T >= 2", x)
    N, T, _ = x.shape
    H = model.hidden_size
    is_lstm = isinstance(model, LSTM)
    eye = torch.eye(H, dtype=dtype).repeat(N, 1)    # (N H, H): one upstream one-hot per copy
    norms = []
    with single_threaded():
        with torch.no_grad():
            states = [_state_after(model, x[:, :t + 1], is_lstm) for t in range(T - 1)]
        for t in reversed(range(T - 1)):
            h, c = states[t]
            h = h.repeat_interleave(H, dim=0).requires_grad_(True)
            suffix = x[:, t + 1:].repeat_interleave(H, dim=0)
            if is_lstm:
                _, (h_T, _) = model(suffix, (h, c.repeat_interleave(H, dim=0)))
            else:
                _, h_T = model(suffix, h)
            (jacobian,) = torch.autograd.grad(h_T, h, grad_outputs=eye)
            norms.append(float(jacobian.reshape(N, H, H).pow(2).sum(dim=(1, 2)).sqrt().mean()))
    return np.array(norms)


def _state_after(model, x, is_lstm):
    """(h, c) after reading x (c is None for the RNN)."""
    if is_lstm:
        _, (h, c) = model(x)
        return h, c
    return model(x)[1], None
