"""The memory task in PyTorch (sheet 001 g-h): Elman RNN vs. LSTM at (nearly) equal parameter counts.

One protocol (README, notebook 04 section 4):
- data: validation and test sets drawn once per run from streams of their own; when the task has
  enough distinct sequences (K^k >= `DISJOINT_FACTOR` x their size) test excludes validation and
  training excludes both, so the three splits are disjoint;
- training: Adam, global-norm clipping, the mean cross-entropy over every position, a fixed step
  budget; the only early stop is reaching the target recall accuracy on validation; the parameters of
  the best validation evaluation are restored at the end;
- choices: each model's learning rate from the same grid `LR_GRID`, chosen on validation
  (`choose_learning_rate`); reported numbers (recall accuracy, loss) on test.

API: `config(**overrides)` -> a frozen `MemoryConfig`, `build_model(config)`, `train(config)` -> History,
`run(config)` (cached; committed results), `plot_*(ax, ...)`.
Shapes: N (batch), T (time), V = K + 2 input ids, H (hidden), C = K + 1 classes (symbols and blank).
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import torch

from helpers import parallel, parameter_counts, plots, validate
from helpers.checked import checked, float_array
from helpers.data import MEMORY_NUM_SYMBOLS, memory_chance_level, memory_task, recall_accuracy
from helpers.history import History
from helpers.memory_numpy import glorot_uniform
from helpers.run_cache import cached, is_cached
from helpers.torch_lstm import LSTM, FastLSTM
from helpers.torch_rnn import FastElmanRNN
from helpers.training import EarlyStopping, fit, make_optimizer, single_threaded

MODELS = ("rnn", "lstm")
INITS = ("torch", "glorot")        # PyTorch's default initialisation, or the NumPy RNN's (RNN only)
OPTIMIZERS = ("adam", "sgd")
CLIP_KINDS = ("global", "per-parameter")
LR_GRID = (0.001, 0.003, 0.01, 0.03)  # Adam learning rates every model chooses from (on validation)
DISJOINT_FACTOR = 4                 # splits are made disjoint when K^k >= 4 x (validation + test size)
EXPERIMENT = "memory"               # the folder of the committed results: results/memory/
VERSION = 4                         # set by this module; bump when training changes its results
CURVE_EVERY = 10                    # stored runs keep the training loss and gradient norm of every 10th step


@dataclass(frozen=True)
class MemoryConfig:
    """One run of the memory task; build it with `config(**overrides)` (validated, immutable).

    model            "rnn" (`FastElmanRNN`) or "lstm" (`FastLSTM`)
    to_remember_len  k, symbols to remember;  gap: g, blanks between them and the delimiter
    num_symbols      K (symbols 0 .. K-1; sheet 001: {0, ..., 8}, K = 9)
    hidden_size      H of this model (`compared_configs` gives the RNN the LSTM's parameter count)
    forget_bias      the LSTM's forget-gate bias at initialisation (part of its definition; unused by the RNN)
    init             "torch" (PyTorch's default) or, for the RNN, "glorot" (the NumPy RNN's: Glorot-uniform
                     weights, zero biases)
    optimizer, lr    "adam" or "sgd" and its learning rate
    clip, max_norm   "global" or "per-parameter" gradient clipping at `max_norm`
    max_steps        the step budget; eval_every: validation evaluations every so many steps
    target_accuracy  stop early when the validation recall accuracy reaches it
    validation_size, test_size  sequences in the validation and test sets
    experiment, version  set by the module ("memory", `VERSION`), not by the caller
    """

    model: str = "lstm"
    to_remember_len: int = 1
    gap: int = 20
    num_symbols: int = MEMORY_NUM_SYMBOLS
    hidden_size: int = 32
    forget_bias: float = 2.0
    init: str = "torch"
    optimizer: str = "adam"
    lr: float = 0.01
    clip: str = "global"
    max_norm: float = 5.0
    max_steps: int = 1000
    batch_size: int = 64
    eval_every: int = 50
    target_accuracy: float = 0.99
    validation_size: int = 500
    test_size: int = 1000
    seed: int = 0
    experiment: str = EXPERIMENT
    version: int = VERSION

    def __post_init__(self):
        validate.choice("model", self.model, MODELS)
        for key in ("to_remember_len", "num_symbols", "hidden_size", "max_steps", "batch_size", "eval_every",
                    "validation_size", "test_size"):
            validate.positive_int(key, getattr(self, key))
        validate.non_negative_int("gap", self.gap)
        validate.seed("seed", self.seed)
        validate.real("forget_bias", self.forget_bias)
        validate.choice("optimizer", self.optimizer, OPTIMIZERS)
        validate.choice("init", self.init, INITS)
        if self.init == "glorot" and self.model != "rnn":
            validate.fail("init", "'torch' for the LSTM ('glorot' is the NumPy RNN's initialisation)", self.init)
        validate.positive("lr", self.lr)
        validate.choice("clip", self.clip, CLIP_KINDS)
        validate.positive("max_norm", self.max_norm)
        validate.probability("target_accuracy", self.target_accuracy)
        if self.experiment != EXPERIMENT:
            validate.fail("experiment", f"{EXPERIMENT!r} (set by helpers.memory, not by the caller)", self.experiment)
        if self.version != VERSION:
            validate.fail("version", f"{VERSION} (set by helpers.memory, not by the caller)", self.version)

    def replace(self, **overrides) -> "MemoryConfig":
        """A validated copy with some entries changed."""
        return config(**{**self.overrides(), **overrides})

    def overrides(self) -> dict:
        """The entries a caller may set (everything but experiment and version)."""
        return {key: value for key, value in dataclasses.asdict(self).items() if key not in _MODULE_SET}

    def to_dict(self) -> dict:
        """All entries as JSON values (the run cache's key source). `init` came after the stored runs of
        version 3: at its default it stays out of the dict, so their keys stay valid."""
        data = dataclasses.asdict(self)
        if data["init"] == "torch":
            del data["init"]
        return data


_MODULE_SET = ("experiment", "version")
_FIELDS = tuple(field.name for field in dataclasses.fields(MemoryConfig))
_SETTABLE = tuple(name for name in _FIELDS if name not in _MODULE_SET)


def config(**overrides) -> MemoryConfig:
    """The run's configuration: the defaults of `MemoryConfig` with `overrides`.

    Unknown keys and a caller-set `experiment` or `version` are refused with a ValueError naming them."""
    for key in _MODULE_SET:
        if key in overrides:
            validate.fail(key, "not set by the caller (helpers.memory sets it)", overrides[key])
    unknown = [key for key in overrides if key not in _FIELDS]
    if unknown:
        validate.fail("overrides", f"keys among {', '.join(_SETTABLE)}", ", ".join(unknown))
    return MemoryConfig(**overrides)


def checked_config(value) -> MemoryConfig:
    """A `MemoryConfig` as is, or a dict of its fields (e.g. a stored `History.config`) with this
    module's experiment and version; anything else raises naming the key."""
    if isinstance(value, MemoryConfig):
        return value
    if not isinstance(value, dict):
        validate.fail("config", "a MemoryConfig (see helpers.memory.config) or a dict of its fields", value,
                      TypeError)
    unknown = [key for key in value if key not in _FIELDS]
    if unknown:
        validate.fail("config", f"keys among {', '.join(_FIELDS)}", ", ".join(map(str, unknown)))
    return MemoryConfig(**value)


def compared_configs(**overrides) -> dict[str, MemoryConfig]:
    """{"rnn": ..., "lstm": ...} for one task: `hidden_size` (default 32) is the LSTM's, the RNN gets the
    hidden size with the nearest parameter count (`parameter_counts.matching_rnn_hidden_size`)."""
    lstm = config(**{**overrides, "model": "lstm"})
    K = lstm.num_symbols
    rnn_hidden = parameter_counts.matching_rnn_hidden_size(lstm.hidden_size, K + 2, K + 1)
    return {"rnn": lstm.replace(model="rnn", hidden_size=rnn_hidden), "lstm": lstm}


def build_model(cfg: MemoryConfig) -> torch.nn.Module:
    """A `FastElmanRNN` or `FastLSTM` (forget-gate bias `cfg.forget_bias`) with V = K + 2 inputs and
    C = K + 1 outputs, initialised from torch's generator seeded with `cfg.seed` (`init` "glorot": the
    RNN's weights Glorot-uniform from NumPy's generator seeded with it, biases zero)."""
    cfg = checked_config(cfg)
    K, H = cfg.num_symbols, cfg.hidden_size
    torch.manual_seed(cfg.seed)
    if cfg.model == "lstm":
        return FastLSTM(K + 2, H, K + 1, forget_bias=cfg.forget_bias)
    model = FastElmanRNN(K + 2, H, K + 1)
    if cfg.init == "glorot":
        rng = np.random.default_rng(cfg.seed)
        with torch.no_grad():
            for parameter in model.parameters():      # W_hx, W_hh, b_h, W_ph, b_p as in init_parameters
                parameter.copy_(torch.from_numpy(glorot_uniform(tuple(parameter.shape), rng)) if parameter.dim() == 2
                                else torch.zeros_like(parameter))
    return model


# --- data: disjoint validation, test and training ------------------------------------------------

def codes_arguments(symbols, num_symbols) -> dict:
    """Checked arguments of `sequence_codes`: symbols (N, k) in [0, K), K a positive int (K^k < 2^63)."""
    num_symbols = validate.positive_int("num_symbols", num_symbols)
    symbols = validate.labels("symbols", validate.array("symbols", symbols, ndim=2), num_symbols).astype(np.int64)
    if symbols.shape[1] * math.log2(max(num_symbols, 2)) >= 63:
        validate.fail("symbols", f"at most {int(63 / math.log2(max(num_symbols, 2)))} columns (codes fit int64)", symbols)
    return {"symbols": symbols, "num_symbols": num_symbols}


@checked(codes_arguments)
def sequence_codes(symbols: np.ndarray, num_symbols: int) -> np.ndarray:
    """One integer per row of symbols (N, k): the row read as a base-K number."""
    return symbols @ (num_symbols ** np.arange(symbols.shape[1], dtype=np.int64))


def splits_can_be_disjoint(cfg: MemoryConfig) -> bool:
    """True when K^k >= DISJOINT_FACTOR x (validation + test size): then no sequence is shared."""
    return cfg.num_symbols ** cfg.to_remember_len >= DISJOINT_FACTOR * (cfg.validation_size + cfg.test_size)


def _tensors(inputs: np.ndarray, targets: np.ndarray, mask: np.ndarray, num_symbols: int):
    x = torch.nn.functional.one_hot(torch.from_numpy(inputs.copy()), num_symbols + 2).float()
    return x, torch.from_numpy(targets.copy()), torch.from_numpy(mask.copy())


def _draw(size: int, cfg: MemoryConfig, rng, excluded: np.ndarray | None):
    """(inputs, targets, mask) of `size` sequences whose symbol rows are not in `excluded` (codes)."""
    task = memory_task(size, cfg.to_remember_len, cfg.gap, num_symbols=cfg.num_symbols, seed=rng)
    keep = np.ones(size, dtype=bool) if excluded is None else \
        ~np.isin(sequence_codes(task.inputs[:, :cfg.to_remember_len], cfg.num_symbols), excluded)
    return task.inputs[keep], task.targets[keep], task.mask[keep]


def data_splits(cfg: MemoryConfig):
    """(validation, test, next_training_batch) of the run: (x (N, T, V), targets (N, T), mask (N, T))
    tensors for the two sets, and a function step -> a training batch of at most `batch_size` rows.

    Three streams spawned from `cfg.seed`. When `splits_can_be_disjoint`, test drops the sequences of
    validation and every training batch drops those of both (a dropped row is not replaced: batches
    lose about (validation + test) / K^k of their rows)."""
    cfg = checked_config(cfg)
    train_rng, validation_rng, test_rng = np.random.default_rng(cfg.seed).spawn(3)
    disjoint = splits_can_be_disjoint(cfg)
    validation = _draw(cfg.validation_size, cfg, validation_rng, None)
    held = sequence_codes(validation[0][:, :cfg.to_remember_len], cfg.num_symbols) if disjoint else None
    test = _draw(cfg.test_size, cfg, test_rng, held)
    if disjoint:
        held = np.concatenate([held, sequence_codes(test[0][:, :cfg.to_remember_len], cfg.num_symbols)])

    def next_training_batch(step):
        return _tensors(*_draw(cfg.batch_size, cfg, train_rng, held), cfg.num_symbols)

    return _tensors(*validation, cfg.num_symbols), _tensors(*test, cfg.num_symbols), next_training_batch


def task_tensors(batch_size: int, cfg: MemoryConfig, seed):
    """A memory-task batch as torch tensors: x (N, T, V) float32, targets (N, T) int64, mask (N, T) bool."""
    cfg = checked_config(cfg)
    return _tensors(*_draw(batch_size, cfg, validate.rng("seed", seed), None), cfg.num_symbols)


# --- training ------------------------------------------------------------------------------------

def sequence_loss(model: torch.nn.Module, batch) -> torch.Tensor:
    """Mean cross-entropy over all N T positions (every output counts equally, sheet 001 g)."""
    x, targets, _ = batch
    logits, _ = model(x)
    return torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


def _numpy(value):
    return value.detach().cpu().numpy() if isinstance(value, torch.Tensor) and not value.requires_grad else value


def recall_arguments(logits, targets, mask) -> dict:
    """Checked arguments of `recall_per_position`: logits (N, T, C) real, targets (N, T) ids below C,
    mask (N, T) bool with the same number k of True entries in every row."""
    targets = validate.array("targets", _numpy(targets), ndim=2)
    mask = validate.shape("mask", validate.array("mask", _numpy(mask)), targets.shape)
    logits = validate.shape("logits", float_array("logits", _numpy(logits), ndim=3), (*targets.shape, None))
    targets = validate.labels("targets", targets, logits.shape[2])
    if mask.dtype != bool or not mask.any() or len(set(mask.sum(axis=1))) != 1:
        validate.fail("mask", "a boolean (N, T) mask with the same positive count in every row", mask)
    return {"logits": logits, "targets": targets, "mask": mask}


@checked(recall_arguments)
def recall_per_position(logits, targets, mask) -> np.ndarray:
    """Accuracy at each of the k recall positions (k,) for logits (N, T, C): how well r_1, ..., r_k
    are recalled."""
    predictions = torch.as_tensor(logits).argmax(dim=-1)
    correct = (predictions == torch.as_tensor(targets))[torch.as_tensor(mask)]
    return correct.reshape(predictions.shape[0], -1).float().mean(dim=0).numpy()


def evaluation(model: torch.nn.Module, batch) -> dict[str, float]:
    """{"accuracy": recall accuracy, "loss": mean cross-entropy over all positions, "r1" … "rk":
    accuracy at each recall position} of `model` on one (x, targets, mask) set."""
    x, targets, mask = batch
    logits = model(x)[0]
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
    metrics = {"accuracy": recall_accuracy(logits, targets, mask), "loss": float(loss)}
    metrics.update({f"r{i}": float(value) for i, value in
                    enumerate(recall_per_position(logits, targets, mask), start=1)})
    return metrics


def train(cfg: MemoryConfig, on_step=None, *, model: torch.nn.Module | None = None,
          progress: bool = False) -> History:
    """Train one run (no cache) and return its History.

    History.metrics: the validation "accuracy", "loss", "r1" … "rk" of every evaluation; the model
    ends with the parameters of the best validation accuracy (History.chosen_step). History.final adds
    the test numbers of those parameters: "test_accuracy", "test_loss", "test_recall_per_position",
    and "reached_target" (validation reached `target_accuracy`) and "parameters".
    `model` (from `build_model(cfg)`) is trained in place when given. `on_step(history)` is called at
    every evaluation."""
    cfg = checked_config(cfg)
    model = build_model(cfg) if model is None else model
    validation, test, next_batch = data_splits(cfg)
    with single_threaded():
        history = fit(model, make_optimizer(cfg.optimizer, model.parameters(), cfg.lr), next_batch,
                      sequence_loss, cfg.max_steps, clip_norm=cfg.max_norm, clip=cfg.clip,
                      evaluate=lambda m: evaluation(m, validation), eval_every=cfg.eval_every,
                      early_stopping=EarlyStopping("accuracy", target=cfg.target_accuracy),
                      best_metric="accuracy", on_step=on_step, progress=progress,
                      desc=f"{cfg.model} k {cfg.to_remember_len} gap {cfg.gap}", config=cfg.to_dict())
        model.eval()
        with torch.no_grad():
            tested = evaluation(model, test)
    thin_training_curve(history, CURVE_EVERY)
    k = cfg.to_remember_len
    history.record_final(test_accuracy=tested["accuracy"], test_loss=tested["loss"],
                         test_recall_per_position=[tested[f"r{i}"] for i in range(1, k + 1)],
                         reached_target=bool(history.best("accuracy") >= cfg.target_accuracy),
                         parameters=sum(p.numel() for p in model.parameters()))
    return history.round_numbers()   # stored runs: float32 precision


def thin_training_curve(history: History, every: int) -> None:
    """In place: keep the per-step loss and gradient norm of every `every`-th step and of the last step
    (stored runs stay small; the validation metrics are kept whole)."""
    every = validate.positive_int("every", every)
    last = len(history.steps) - 1
    keep = [i for i, step in enumerate(history.steps) if step % every == 0 or i == last]
    history.steps = [history.steps[i] for i in keep]
    history.loss = [history.loss[i] for i in keep]
    history.grad_norm = [history.grad_norm[i] for i in keep]


def run_model(cfg: MemoryConfig, on_step=None, *, commit_weights: bool = False) -> tuple[torch.nn.Module, History]:
    """(trained model, History) of `cfg`: loaded from the run cache or the committed results, else
    trained and stored. The run cache keeps the weights; the committed results keep (and give back)
    them only with `commit_weights`: pass it when storing and when loading the few runs a figure needs."""
    cfg = checked_config(cfg)
    model = build_model(cfg)
    history = cached(cfg.to_dict(), lambda: train(cfg, on_step, model=model), model=model, verbose=False,
                     commit_weights=commit_weights)
    return model, history


def run(cfg: MemoryConfig, on_step=None) -> History:
    """The History of `cfg` (see `train` for what it holds): loaded from the run cache or the committed
    results, else trained and stored (no weights: `run_model` when the trained model is needed)."""
    cfg = checked_config(cfg)
    return cached(cfg.to_dict(), lambda: train(cfg, on_step), verbose=False)


def run_many(configs, *, workers: int = 1) -> list[History]:
    """`run` for every configuration, in order; the runs not stored yet train in `workers` processes
    when `workers` > 1 (`helpers.parallel.run_many`: the same numbers as a direct call)."""
    return parallel.run_many(run, run, [checked_config(c) for c in configs], workers=workers,
                             stored=lambda c: is_cached(c.to_dict()))


# --- experiments ---------------------------------------------------------------------------------

def choose_learning_rate(cfg: MemoryConfig, seeds, grid=LR_GRID, *, workers: int = 1) -> tuple[float, dict]:
    """The learning rate of `grid` with the best mean validation recall accuracy over `seeds` (ties:
    the lower mean validation loss at the chosen steps) for the model and task of `cfg`; the runs
    train in `workers` processes (`run_many`).

    Returns (lr, {lr: (mean validation accuracy, mean validation loss)}). Uses no test number."""
    cfg = checked_config(cfg)
    seeds = [validate.seed("seeds[i]", seed) for seed in seeds]
    if not seeds:
        validate.fail("seeds", "at least one seed", seeds)
    histories = run_many([cfg.replace(lr=lr, seed=seed) for lr in grid for seed in seeds], workers=workers)
    scores = {}
    for k, lr in enumerate(grid):
        finals = [h.final for h in histories[k * len(seeds):(k + 1) * len(seeds)]]
        scores[lr] = (float(np.mean([f["accuracy"] for f in finals])), float(np.mean([f["loss"] for f in finals])))
    best = max(scores, key=lambda lr: (scores[lr][0], -scores[lr][1]))
    return best, scores


@dataclass(frozen=True)
class SweepResult:
    """Test numbers of a sweep, arrays (P values, S seeds) per model: "test_accuracy", "test_loss",
    "reached_target" (bool)."""

    name: str
    values: tuple
    seeds: tuple
    numbers: dict

    def of(self, model: str, key: str) -> np.ndarray:
        return self.numbers[model][key]


def sweep(name: str, values, seeds, configs: dict[str, MemoryConfig], *, workers: int = 1) -> SweepResult:
    """Run every model of `configs` ({model: base config}) at each value of the config entry `name` and
    each seed (stored runs are loaded; the others train in `workers` processes, `run_many`)."""
    validate.choice("name", name, _SETTABLE)
    seeds = tuple(validate.seed("seeds[i]", seed) for seed in seeds)
    grid = {model: [[checked_config(base).replace(**{name: value, "seed": seed}) for seed in seeds] for value in values]
            for model, base in configs.items()}
    histories = iter(run_many([c for rows in grid.values() for row in rows for c in row], workers=workers))
    numbers = {}
    for model, rows in grid.items():
        finals = [[next(histories).final for _ in row] for row in rows]
        numbers[model] = {key: np.array([[f[key] for f in row] for row in finals])
                          for key in ("test_accuracy", "test_loss", "reached_target")}
    return SweepResult(name, tuple(values), seeds, numbers)


def bootstrap_interval(values, *, level: float = 0.95, resamples: int = 2000, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of `values` (S,): resample the seeds with replacement."""
    values = validate.array("values", values, ndim=1).astype(float)
    if values.size == 0:
        validate.fail("values", "at least one value", values)
    level = validate.probability("level", level)
    resamples = validate.positive_int("resamples", resamples)
    seed = validate.seed("seed", seed)
    means = np.random.default_rng(seed).choice(values, size=(resamples, values.size)).mean(axis=1)
    return float(np.quantile(means, (1 - level) / 2)), float(np.quantile(means, (1 + level) / 2))


def intervals_apart(values, others) -> bool:
    """True when `values` (S,) are ahead of `others` (S',): the lower end of their 95 % bootstrap interval
    of the mean (`bootstrap_interval`) lies above the upper end of the others'. The verdict rule of the
    model comparisons in notebooks 04 and 05."""
    for name, group in (("values", values), ("others", others)):
        if validate.array(name, group, ndim=1).size == 0:
            validate.fail(name, "at least one value", group)
    return bootstrap_interval(values)[0] > bootstrap_interval(others)[1]


def sweep_table(result: SweepResult, lrs: dict | None = None) -> str:
    """One line per model and value: fraction of seeds reaching the target, mean test recall with its
    95 % bootstrap interval, mean test loss (and the model's learning rate when `lrs` is given)."""
    lines = [f"{'model':<5} {result.name:>15} {'reached':>8} {'test recall (95% CI)':>24} {'test loss':>10}"
             + (f" {'lr':>6}" if lrs else "")]
    for model in result.numbers:
        for i, value in enumerate(result.values):
            accuracy = result.of(model, "test_accuracy")[i]
            low, high = bootstrap_interval(accuracy)
            reached = result.of(model, "reached_target")[i]
            lines.append(f"{model.upper():<5} {value!s:>15} {reached.sum():>4}/{reached.size:<3} "
                         f"{accuracy.mean():>8.3f} [{low:.3f}, {high:.3f}] "
                         f"{result.of(model, 'test_loss')[i].mean():>10.4f}"
                         + (f" {lrs[model]:>6g}" if lrs else ""))
    return "\n".join(lines)


# --- plots ---------------------------------------------------------------------------------------

COLORS = {"rnn": "tab:blue", "lstm": "tab:orange"}


def plot_sweep(ax, result: SweepResult, *, xlabel: str, num_symbols: int = MEMORY_NUM_SYMBOLS):
    """Test recall accuracy vs. the swept value: every seed a dot (jittered sideways), the mean with its
    95 % bootstrap interval as error bars, chance 1/K dashed."""
    x = np.asarray(result.values, dtype=float)
    width = 0.15 * (np.min(np.diff(x)) if x.size > 1 else 1.0)
    for offset, model in zip((-1, 1), result.numbers):
        accuracy = result.of(model, "test_accuracy")
        color = COLORS.get(model)
        jitter = np.random.default_rng(0).uniform(-0.5, 0.5, accuracy.shape) * width
        ax.scatter((x[:, None] + offset * width + jitter).ravel(), accuracy.ravel(), s=12, alpha=0.5,
                   color=color)
        intervals = np.array([bootstrap_interval(row) for row in accuracy])
        mean = accuracy.mean(axis=1)
        ax.errorbar(x + offset * width, mean, yerr=[mean - intervals[:, 0], intervals[:, 1] - mean],
                    marker="o", capsize=3, color=color,
                    label=f"{model.upper()}: mean, 95 % bootstrap CI (dots: {accuracy.shape[1]} seeds)")
    plots.mark_level(ax, memory_chance_level(num_symbols), "chance (1/K)")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("test recall accuracy")
    ax.set_ylim(-0.02, 1.05)
    ax.set_xticks(x)


def plot_reached(ax, result: SweepResult, *, xlabel: str):
    """Fraction of seeds whose validation recall reached the target vs. the swept value (bars)."""
    x = np.arange(len(result.values))
    for offset, model in zip((-0.2, 0.2), result.numbers):
        ax.bar(x + offset, result.of(model, "reached_target").mean(axis=1), width=0.4, color=COLORS.get(model),
               label=model.upper())
    ax.set_xticks(x, [str(v) for v in result.values])
    ax.set_xlabel(xlabel)
    ax.set_ylabel("fraction of seeds reaching the target")
    ax.set_ylim(0, 1.05)
    ax.legend()


def plot_recall_per_position(ax, history: History):
    """Validation accuracy at each recall position r_1 ... r_k vs. training step, chance level dashed."""
    for i in range(1, history.config["to_remember_len"] + 1):
        plots.plot_metric(ax, history, f"r{i}", label=f"$r_{{{i}}}$")
    ax.set_ylabel("validation recall accuracy")
    ax.set_ylim(0, 1.05)
    plots.mark_level(ax, memory_chance_level(history.config["num_symbols"]), "chance (1/K)")


def plot_run(axes, history: History) -> None:
    """The panel's figure: training loss (left) and per-position validation recall accuracy (right)."""
    plots.plot_loss(axes[0], history, smooth=10)
    plot_recall_per_position(axes[1], history)


# --- gradients through time ----------------------------------------------------------------------

def norms_arguments(model, x) -> dict:
    """Checked arguments of `hidden_state_gradient_norms`: a torch RNN/LSTM and x (N, T, V), T >= 2, as a
    tensor of the model's dtype."""
    if not isinstance(model, torch.nn.Module) or not hasattr(model, "hidden_size"):
        validate.fail("model", "a recurrent torch model (build_model)", model, TypeError)
    x = validate.array("x", _numpy(x), ndim=3)
    if x.shape[0] < 1 or x.shape[1] < 2:
        validate.fail("x", "a (N, T, V) sequence batch with N >= 1 and T >= 2", x)
    return {"model": model, "x": torch.as_tensor(x, dtype=next(model.parameters()).dtype)}


@checked(norms_arguments)
def hidden_state_gradient_norms(model: torch.nn.Module, x) -> np.ndarray:
    """Frobenius norm of dh_T/dh_t averaged over the batch, by distance d = 1 ... T-1: shape (T-1,).

    The sequence is run once; then, for each t, the suffix x[:, t+1:] is run again from h_t (and, for
    an LSTM, the cell state c_t held fixed) and the full H x H Jacobian is taken by autograd, with one
    copy of each sequence per output unit. Entry d - 1 is the norm for h_T and the state d steps before.
    """
    dtype = x.dtype
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
