"""Notebook 06's experiment: the course's LeNet (`helpers.framework.LeNet`) on scikit-learn's 8 x 8 digits.

Data: `load_splits` cuts the 1797 digits into disjoint, class-stratified train / validation / test sets
(60 / 20 / 20 %) from a fixed seed; `DigitsBatches` is the framework's data layer (`next()` returns a
shuffled batch and one-hot labels, one pass per epoch, from its own seed). A run (`config`, `train`,
`run`) trains for a fixed number of iterations, evaluates every `eval_every` steps on the validation
set and returns the network at its best validation accuracy (the step is chosen on validation only);
`run` caches the history and the parameters. `sweep` runs variants x learning rates x seeds;
`choose` picks each variant's learning rate and then the variant, both on validation accuracy.
Training uses one BLAS thread (`threadpoolctl`, installed with scikit-learn): on small matrices more
threads only wait for each other.
"""
from __future__ import annotations

import concurrent.futures
import functools
import multiprocessing
import time
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from helpers import validate
from helpers.framework import LeNet
from helpers.history import STOP_STEPS, History
from helpers.run_cache import cached, is_cached

VERSION = 1
EXPERIMENT = "digits"
SPLIT_SEED = 0
FRACTIONS = {"train": 0.6, "validation": 0.2, "test": 0.2}
NUM_CLASSES = 10
IMAGE_SIZE = 8
MAX_PIXEL = 16.0
SETTINGS = ("regularizer", "alpha", "keep_probability", "batch_norm", "learning_rate", "iterations",
            "batch_size", "eval_every", "train_size", "seed")


@dataclass(frozen=True)
class Split:
    """images (N, 1, 8, 8) in [0, 1], integer labels (N,) and their positions in `load_digits()` (N,)."""

    images: np.ndarray
    labels: np.ndarray
    index: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


@functools.lru_cache(maxsize=4)
def load_splits(seed: int = SPLIT_SEED) -> dict[str, Split]:
    """Disjoint class-stratified splits {"train", "validation", "test"} of the 1797 digits (60/20/20 %)."""
    from sklearn.datasets import load_digits

    seed = validate.seed("seed", seed)
    digits = load_digits()
    images = (digits.images / MAX_PIXEL)[:, None].astype(float)
    rng = np.random.default_rng(seed)
    parts = {name: [] for name in FRACTIONS}
    for digit in range(NUM_CLASSES):
        members = rng.permutation(np.flatnonzero(digits.target == digit))
        ends = np.round(np.cumsum(list(FRACTIONS.values())) * len(members)).astype(int)
        for name, chunk in zip(FRACTIONS, np.split(members, ends[:-1])):
            parts[name].append(chunk)
    splits = {}
    for name, chunks in parts.items():
        index = np.sort(np.concatenate(chunks))
        splits[name] = Split(images[index], digits.target[index].astype(int), index)
    return splits


class DigitsBatches:
    """The data layer: `next()` -> (images (b, 1, 8, 8), one-hot labels (b, 10)), shuffled per epoch."""

    def __init__(self, split: Split, batch_size: int, seed):
        self.split = split
        self.batch_size = validate.positive_int("batch_size", batch_size)
        self._rng = validate.rng("seed", seed)
        self._order = np.empty(0, dtype=int)

    def __len__(self) -> int:
        return len(self.split)

    def next(self) -> tuple[np.ndarray, np.ndarray]:
        if len(self._order) < self.batch_size:
            self._order = np.concatenate([self._order, self._rng.permutation(len(self.split))])
        batch, self._order = self._order[:self.batch_size], self._order[self.batch_size:]
        return self.split.images[batch], np.eye(NUM_CLASSES)[self.split.labels[batch]]


def config(**overrides) -> dict:
    """The settings of one run (validated): LeNet options, Adam's learning rate, budget and seed.

    regularizer "none" | "l2" | "l1" with weight `alpha`; `keep_probability` None (no dropout) or the
    dropout keep probability; `batch_norm`; `iterations` training steps of `batch_size` images,
    validation every `eval_every` steps; `train_size` None (the whole training split) or the first
    that many training images (a small training set); `seed` for the weights, batches and masks.
    """
    unknown = sorted(set(overrides) - set(SETTINGS))
    if unknown:
        validate.fail("overrides", f"settings among {', '.join(SETTINGS)}", unknown)
    c = dict(experiment=EXPERIMENT, version=VERSION, regularizer="none", alpha=4e-4, keep_probability=None,
             batch_norm=False, learning_rate=5e-4, iterations=1000, batch_size=64, eval_every=50,
             train_size=None, seed=0)
    c.update(overrides)
    validate.choice("regularizer", c["regularizer"], tuple(LeNet.REGULARIZERS))
    c["alpha"] = validate.real("alpha", c["alpha"], low=0.0)
    if c["keep_probability"] is not None:
        c["keep_probability"] = validate.probability("keep_probability", c["keep_probability"])
    if not isinstance(c["batch_norm"], bool):
        validate.fail("batch_norm", "a bool", c["batch_norm"], TypeError)
    c["learning_rate"] = validate.positive("learning_rate", c["learning_rate"])
    for name in ("iterations", "batch_size", "eval_every"):
        c[name] = validate.positive_int(name, c[name])
    if c["train_size"] is not None:
        c["train_size"] = validate.integer("train_size", c["train_size"], minimum=NUM_CLASSES)
    c["seed"] = validate.seed("seed", c["seed"])
    return c


def checked_config(c) -> dict:
    """`c` (a dict made by `config`) validated again: the settings of a run."""
    if not isinstance(c, dict):
        validate.fail("config", "a dict made by digits.config()", c, TypeError)
    return config(**{name: c[name] for name in SETTINGS if name in c})


def build_network(c: dict):
    """LeNet for the digits with the options of config `c`, its weights drawn from `c["seed"]`."""
    c = checked_config(c)
    np.random.seed(c["seed"])
    return LeNet.build(image_size=IMAGE_SIZE, kernel_size=3, learning_rate=c["learning_rate"],
                       regularizer=c["regularizer"], alpha=c["alpha"], keep_probability=c["keep_probability"],
                       batch_norm=c["batch_norm"])


def training_split(c: dict) -> Split:
    """The training split, or its first `train_size` images taken class by class in turn (balanced)."""
    train = load_splits()["train"]
    if c["train_size"] is None or c["train_size"] >= len(train):
        return train
    rank = np.empty(len(train), dtype=int)
    for digit in range(NUM_CLASSES):
        members = np.flatnonzero(train.labels == digit)
        rank[members] = np.arange(len(members))
    chosen = np.sort(np.lexsort((train.labels, rank))[:c["train_size"]])
    return Split(train.images[chosen], train.labels[chosen], train.index[chosen])


def parameters(net) -> dict[str, np.ndarray]:
    """Every trained array of `net` by name ("3.weights", "3.moving_mean", ...): what a run stores."""
    arrays = {}
    for index, layer in enumerate(net.layers):
        for name in ("weights", "bias", "moving_mean", "moving_var"):
            value = getattr(layer, name, None) if getattr(layer, "trainable", False) else None
            if name.startswith("moving") and hasattr(layer, name):
                value = np.zeros(layer.channels) if value is None else value
            if value is not None:
                arrays[f"{index}.{name}"] = np.array(value, dtype=float)
    return arrays


def set_parameters(net, arrays: dict[str, np.ndarray]) -> None:
    """Put arrays from `parameters` back into `net` (the same architecture)."""
    for key, value in arrays.items():
        index, name = key.split(".")
        setattr(net.layers[int(index)], name, value.copy())


def probabilities(net, images: np.ndarray, batch: int = 512) -> np.ndarray:
    """SoftMax outputs (N, 10) of `net` in the testing phase for images (N, 1, 8, 8), `batch` at a time."""
    images = validate.shape("images", validate.array("images", images, ndim=4), (None, 1, IMAGE_SIZE, IMAGE_SIZE))
    batch = validate.positive_int("batch", batch)
    if not len(images):
        return np.empty((0, NUM_CLASSES))
    return np.concatenate([net.test(images[start:start + batch]) for start in range(0, len(images), batch)])


def evaluate(net, split: Split) -> tuple[float, float]:
    """(accuracy, mean cross-entropy per image) of `net` on `split`, in the testing phase."""
    p = probabilities(net, split.images)
    picked = p[np.arange(len(split)), split.labels]
    return float(np.mean(p.argmax(axis=1) == split.labels)), float(-np.mean(np.log(picked + 1e-300)))


def _gradient_norm(net) -> float:
    total = 0.0
    for layer in net.layers:
        for name in ("gradient_weights", "gradient_bias"):
            value = getattr(layer, name, None)
            if value is not None:
                total += float(np.sum(value * value))
    return float(np.sqrt(total))


def train(c: dict, on_step=None):
    """Train one run of config `c`; returns (net at its best validation accuracy, History).

    History: the framework's batch loss (summed cross-entropy plus the penalty) per step and the
    metrics "train accuracy", "train loss", "validation accuracy", "validation loss" every
    `eval_every` steps and after the last. `on_step(history)` is called after each evaluation.
    """
    c = checked_config(c)
    net = build_network(c)
    train_split, validation = training_split(c), load_splits()["validation"]
    net.data_layer = DigitsBatches(train_split, c["batch_size"], seed=c["seed"])
    history = History(config=c)
    start = time.perf_counter()

    def record(step):
        for name, split in (("train", train_split), ("validation", validation)):
            accuracy, loss = evaluate(net, split)
            history.metrics.setdefault(f"{name} accuracy", []).append((step, accuracy))
            history.metrics.setdefault(f"{name} loss", []).append((step, loss))
        if on_step is not None:
            on_step(history)

    with threadpool_limits(1):
        best_step, best_accuracy, best = 0, -1.0, None
        for step in range(1, c["iterations"] + 1):
            net.train(1)
            history.steps.append(step)
            history.loss.append(float(net.loss[-1]))
            history.grad_norm.append(_gradient_norm(net))
            if step % c["eval_every"] == 0 or step == c["iterations"]:
                record(step)
                if history.last("validation accuracy") > best_accuracy:
                    best_step, best_accuracy, best = step, history.last("validation accuracy"), parameters(net)
    set_parameters(net, best)
    history.elapsed = time.perf_counter() - start
    history.stopped, history.chosen_step = STOP_STEPS, best_step
    history.chosen_by = "best validation accuracy (max)"
    history.message = (f"trained {c['iterations']} steps; best validation accuracy {best_accuracy:.3f} "
                       f"at step {best_step}")
    history.final = {"validation accuracy": best_accuracy}
    return net, history


def run(c: dict, cache_dir=None, verbose: bool = False):
    """`train` through the local run cache (history and parameters; never the committed `results/`):
    (net at its chosen step, History). A cached run is loaded, not retrained."""
    c = checked_config(c)
    net = build_network(c)
    arrays = parameters(net)
    trained = {}

    def fresh():
        trained["net"], history = train(c)
        arrays.update(parameters(trained["net"]))
        return history

    history = cached(c, fresh, cache_dir, model=arrays, verbose=verbose, results=False)
    if "net" not in trained:
        set_parameters(net, arrays)
        trained["net"] = net
    return trained["net"], history


def _train_in_worker(c: dict, cache_dir) -> None:
    run(c, cache_dir)


def sweep(variants: dict[str, dict], learning_rates, seeds, cache_dir=None, workers: int = 1, **settings) -> dict:
    """{(variant, learning rate): [History per seed]} for every variant (name -> config overrides).

    With `workers` > 1 the runs not cached yet are first trained in that many worker processes
    (each writes the run cache); the histories are then read from the cache in order.
    """
    workers = validate.positive_int("workers", workers)
    configs = {(name, lr): [config(**overrides, **settings, learning_rate=lr, seed=seed) for seed in seeds]
               for name, overrides in variants.items() for lr in learning_rates}
    missing = [c for group in configs.values() for c in group if not is_cached(c, cache_dir, results=False)]
    if workers > 1 and len(missing) > 1:
        context = multiprocessing.get_context("fork")
        with concurrent.futures.ProcessPoolExecutor(min(workers, len(missing)), mp_context=context) as pool:
            list(pool.map(_train_in_worker, missing, [cache_dir] * len(missing)))
    return {key: [run(c, cache_dir)[1] for c in group] for key, group in configs.items()}


def validation_accuracies(histories) -> np.ndarray:
    """The chosen-step validation accuracy of each run."""
    return np.array([h.final["validation accuracy"] for h in histories])


def choose(results: dict) -> tuple[dict[str, float], str]:
    """Each variant's learning rate (highest mean validation accuracy over seeds), then the best variant."""
    learning_rate = {}
    for (name, lr), histories in results.items():
        mean = validation_accuracies(histories).mean()
        if name not in learning_rate or mean > validation_accuracies(results[name, learning_rate[name]]).mean():
            learning_rate[name] = lr
    best = max(learning_rate, key=lambda name: validation_accuracies(results[name, learning_rate[name]]).mean())
    return learning_rate, best


def _digit_labels(name: str, value) -> np.ndarray:
    """(N,) digits 0..9; whole-numbered floats convert to int."""
    result = validate.array(name, value, ndim=1)
    if np.issubdtype(result.dtype, np.floating) and np.all(result == np.round(result)):
        result = result.astype(int)
    return validate.labels(name, result, NUM_CLASSES)


def confusion_matrix(labels, predicted) -> np.ndarray:
    """(10, 10) counts for labels and predicted digits (N,): row = true digit, column = predicted digit."""
    labels, predicted = _digit_labels("labels", labels), _digit_labels("predicted", predicted)
    validate.shape("predicted", predicted, labels.shape)
    matrix = np.zeros((NUM_CLASSES, NUM_CLASSES), dtype=int)
    np.add.at(matrix, (labels, predicted), 1)
    return matrix


def plot_curves(axes, histories: dict, metric: str = "accuracy") -> None:
    """Train (dashed) and validation (solid) `metric` over the steps, one color per named history."""
    import matplotlib.pyplot as plt

    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for color, (label, history) in zip(colors, histories.items()):
        for split, style in (("train", "--"), ("validation", "-")):
            steps, values = history.metric(f"{split} {metric}")
            axes.plot(steps, values, style, color=color, label=f"{label}, {split}")
    axes.set_xlabel("training step")
    axes.set_ylabel(metric)
    axes.legend(fontsize="small")


def plot_confusion(ax, matrix: np.ndarray) -> None:
    ax.imshow(matrix, cmap="Blues")
    for (row, col), count in np.ndenumerate(matrix):
        if count:
            ax.text(col, row, str(count), ha="center", va="center",
                    color="white" if count > matrix.max() / 2 else "black", fontsize=8)
    ax.set_xticks(range(NUM_CLASSES))
    ax.set_yticks(range(NUM_CLASSES))
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("true digit")


def plot_digits(axes, images: np.ndarray, titles) -> None:
    """One 8 x 8 image per axis, in gray, with its title."""
    for ax, image, title in zip(np.ravel(axes), images, titles):
        ax.imshow(image.reshape(IMAGE_SIZE, IMAGE_SIZE), cmap="gray_r", vmin=0, vmax=1)
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in np.ravel(axes)[len(images):]:
        ax.axis("off")


__all__ = ["Split", "load_splits", "DigitsBatches", "config", "build_network", "train", "run", "sweep", "choose",
           "evaluate", "probabilities", "parameters", "set_parameters", "confusion_matrix", "plot_curves",
           "plot_confusion", "plot_digits"]
