"""The memory task with a hand-written NumPy RNN (sheet 002): BPTT, clipping, SGD, exploding gradients.

Model, row-vector convention (N batch, T time, V = K + 2 input ids, H hidden, C = K + 1 classes:
the K symbols and the blank):

    h_t = tanh(x_t @ Wx + h_{t-1} @ Wh + b)      (helpers.numpy_rnn)
    z_t = h_t @ Wy + by                          logits (N, T, C)
    L   = mean over all N T positions of -log softmax(z_t)[y_t]

Every position counts equally in the loss (sheet 001 g); only the recall window counts for the
accuracy. Parameters are a dict {"Wx" (V, H), "Wh" (H, H), "b" (H,), "Wy" (H, C), "by" (C,)}.
"""
from __future__ import annotations

import time

import numpy as np

from helpers import validate
from helpers.checked import checked, float_array
from helpers.data import MEMORY_NUM_SYMBOLS, memory_task, random_sequences, recall_accuracy
from helpers.numpy_rnn import rnn_backward, rnn_forward
from helpers.history import History

PARAMETER_NAMES = ("Wx", "Wh", "b", "Wy", "by")
CLIP_KINDS = ("per-parameter", "global")


# --- argument checks of the public entry points (kept out of the teaching code, see helpers.checked) ---

def glorot_arguments(shape, seed) -> dict:
    """Checked arguments of `glorot_uniform`: shape (fan_in, fan_out) of positive ints, seed -> Generator."""
    if not isinstance(shape, (tuple, list)) or len(shape) != 2:
        validate.fail("shape", "a pair (fan_in, fan_out)", shape, TypeError)
    shape = (validate.positive_int("shape[0]", shape[0]), validate.positive_int("shape[1]", shape[1]))
    return {"shape": shape, "seed": validate.rng("seed", seed)}


def init_arguments(input_size, hidden_size, num_classes, seed) -> dict:
    """Checked arguments of `init_parameters`: three positive sizes, seed -> Generator."""
    return {"input_size": validate.positive_int("input_size", input_size),
            "hidden_size": validate.positive_int("hidden_size", hidden_size),
            "num_classes": validate.positive_int("num_classes", num_classes), "seed": validate.rng("seed", seed)}


def softmax_arguments(z) -> dict:
    """Checked argument of `softmax`: a finite real array with at least one axis."""
    z = float_array("z", z)
    if z.ndim == 0:
        validate.fail("z", "an array with at least one axis", z)
    return {"z": z}


def checked_parameters(params: dict) -> dict:
    """Check that `params` is a dict with exactly the keys Wx, Wh, b, Wy, by of real arrays; return it."""
    if not isinstance(params, dict) or set(params) != set(PARAMETER_NAMES):
        validate.fail("params", f"a dict with the keys {', '.join(PARAMETER_NAMES)}", params, TypeError)
    return {name: validate.array(f"params[{name!r}]", params[name]) for name in PARAMETER_NAMES}


def forward_arguments(params, x, h0) -> dict:
    """Checked arguments of `forward`: the parameter dict, x (N, T, V), h0 (N, H) or None (-> zeros)."""
    params = checked_parameters(params)
    x = validate.array("x", x, ndim=3)
    H = params["Wh"].shape[0]
    h0 = np.zeros((x.shape[0], H)) if h0 is None else validate.array("h0", h0, ndim=2)
    return {"params": params, "x": x, "h0": h0}


def loss_arguments(params, x, targets, h0) -> dict:
    """Checked arguments of `loss_and_gradients`: as `forward`, and targets (N, T) class ids below C."""
    arguments = forward_arguments(params, x, h0)
    C = arguments["params"]["Wy"].shape[1]
    targets = validate.labels("targets", targets, C)
    arguments["targets"] = validate.shape("targets", targets, arguments["x"].shape[:2])
    return arguments


def gradients_arguments(grads) -> dict:
    """Checked argument of `global_norm`: a non-empty dict of name -> real array."""
    if not isinstance(grads, dict) or not grads:
        validate.fail("grads", "a non-empty dict of name -> gradient array", grads, TypeError)
    return {"grads": {name: validate.array(f"grads[{name!r}]", g) for name, g in grads.items()}}


def clip_arguments(grads, max_norm) -> dict:
    """Checked arguments of the clipping rules: the gradient dict and a positive threshold."""
    return {**gradients_arguments(grads), "max_norm": validate.positive("max_norm", max_norm)}


# --- the model (teaching copies in notebook 04) ---------------------------------------------------

@checked(glorot_arguments)
def glorot_uniform(shape: tuple[int, int], seed) -> np.ndarray:
    """Glorot/Xavier uniform weights: U(-a, a) with a = sqrt(6 / (fan_in + fan_out)), shape (fan_in, fan_out)."""
    fan_in, fan_out = shape
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return seed.uniform(-limit, limit, size=(fan_in, fan_out))


@checked(init_arguments)
def init_parameters(input_size: int, hidden_size: int, num_classes: int, *, seed) -> dict:
    """Glorot-uniform weight matrices and zero biases: {"Wx" (V, H), "Wh" (H, H), "b", "Wy" (H, C), "by"}."""
    V, H, C = input_size, hidden_size, num_classes
    return {"Wx": glorot_uniform((V, H), seed), "Wh": glorot_uniform((H, H), seed), "b": np.zeros(H),
            "Wy": glorot_uniform((H, C), seed), "by": np.zeros(C)}


@checked(softmax_arguments)
def softmax(z: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, shifted by the maximum so that exp never overflows."""
    ### BEGIN SOLUTION implement softmax: exp(z - max z) / sum exp(z - max z) over the last axis (eq. 2)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
    ### END SOLUTION


@checked(forward_arguments)
def forward(params: dict, x, h0=None):
    """x (N, T, V), h0 (N, H) or None (zeros) -> logits (N, T, C) and (h (N, T, H), the RNN cache)."""
    ### BEGIN SOLUTION implement forward: h_t by rnn_forward (eq. 1), then the logits p_t = h_t Wy + by (eq. 2)
    h, cache = rnn_forward(x, h0, params["Wx"], params["Wh"], params["b"])
    return h @ params["Wy"] + params["by"], (h, cache)
    ### END SOLUTION


@checked(loss_arguments)
def loss_and_gradients(params: dict, x, targets, h0=None) -> tuple[float, dict]:
    """Mean cross-entropy over all N T positions and its gradients by BPTT.

    x (N, T, V) inputs, targets (N, T) class ids, h0 (N, H) or None (zeros).
    Returns (loss, grads) with grads[name] shaped like params[name] plus grads["h0"] (N, H).
    """
    logits, (h, cache) = forward(params, x, h0)
    N, T, C = logits.shape
    ### BEGIN SOLUTION implement loss_and_gradients: the mean cross-entropy, dL/dp = (softmax - one-hot) / (N T), the read-out gradients, rnn_backward for the rest (eq. 3-4)
    probs = softmax(logits)
    picked = probs.reshape(N * T, C)[np.arange(N * T), targets.ravel()]
    loss = float(-np.mean(np.log(picked)))
    dz = probs.copy()                                  # dL/dz = (softmax - one_hot) / (N T)
    dz.reshape(N * T, C)[np.arange(N * T), targets.ravel()] -= 1.0
    dz /= N * T
    grads = {"Wy": h.reshape(N * T, -1).T @ dz.reshape(N * T, C), "by": dz.sum(axis=(0, 1))}
    _, grads["h0"], grads["Wx"], grads["Wh"], grads["b"] = rnn_backward(dz @ params["Wy"].T, cache)
    ### END SOLUTION
    return loss, grads


@checked(clip_arguments)
def clip_per_parameter(grads: dict, max_norm: float) -> dict:
    """Scale each gradient whose own norm exceeds `max_norm` down to norm `max_norm` (new dict)."""
    ### BEGIN SOLUTION implement clip_per_parameter: each gradient times min(1, max_norm / its own norm) (eq. 5)
    return {name: g * min(1.0, max_norm / max(np.linalg.norm(g), 1e-300)) for name, g in grads.items()}
    ### END SOLUTION


@checked(clip_arguments)
def clip_global(grads: dict, max_norm: float) -> dict:
    """Scale all gradients by one factor so that their joint norm is at most `max_norm` (new dict)."""
    ### BEGIN SOLUTION implement clip_global: every gradient times min(1, max_norm / their joint norm) (eq. 6)
    total = global_norm(grads)
    scale = min(1.0, max_norm / total) if total > 0 else 1.0
    return {name: g * scale for name, g in grads.items()}
    ### END SOLUTION


@checked(gradients_arguments)
def global_norm(grads: dict) -> float:
    """sqrt of the sum of all squared gradient entries."""
    ### BEGIN SOLUTION implement global_norm: the joint norm, sqrt of the sum of all squared entries (eq. 6)
    return float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))
    ### END SOLUTION


def sgd_step(params: dict, grads: dict, lr: float) -> None:
    """In place: params[name] -= lr * grads[name] for every parameter."""
    lr = validate.positive("lr", lr)
    for name in PARAMETER_NAMES:
        params[name] -= lr * grads[name]


def _memory_batch(batch_size, to_remember_len, gap, num_symbols, seed):
    task = memory_task(batch_size, to_remember_len, gap, num_symbols=num_symbols, seed=seed)
    return task.inputs_one_hot, task.targets, task.mask


def predict(params: dict, x) -> np.ndarray:
    """Predicted class ids (N, T) for inputs x (N, T, V)."""
    return forward(params, x)[0].argmax(axis=-1)


def train_memory_rnn(*, to_remember_len: int = 3, gap: int = 5, num_symbols: int = MEMORY_NUM_SYMBOLS,
                     hidden_size: int = 50, lr: float = 0.5, steps: int = 600, batch_size: int = 32,
                     clip: str | None = "per-parameter", clip_norm: float = 1.0, eval_every: int = 100,
                     held_out_size: int = 500, seed=0, on_step=None) -> tuple[dict, History]:
    """Train the NumPy RNN on the memory task with SGD; return (params, History).

    The History records the loss and the gradient norm (before clipping) of every step and, every
    `eval_every` steps, the recall accuracy ("accuracy") on a held-out set drawn from its own seed.
    `clip` is "per-parameter", "global" or None. `on_step(history)` is called after each evaluation.
    """
    k = validate.positive_int("to_remember_len", to_remember_len)
    gap = validate.non_negative_int("gap", gap)
    K = validate.positive_int("num_symbols", num_symbols)
    steps = validate.positive_int("steps", steps)
    eval_every = validate.positive_int("eval_every", eval_every)
    validate.choice("clip", clip, CLIP_KINDS + (None,))
    lr, clip_norm = validate.positive("lr", lr), validate.positive("clip_norm", clip_norm)
    rng = validate.rng("seed", seed)
    data_rng, held_out_rng = rng.spawn(2)
    params = init_parameters(K + 2, hidden_size, K + 1, seed=rng)
    x_held, y_held, mask_held = _memory_batch(held_out_size, k, gap, K, held_out_rng)
    history = History(config={"to_remember_len": k, "gap": gap, "num_symbols": K, "hidden_size": hidden_size,
                              "lr": lr, "steps": steps, "batch_size": batch_size, "clip": clip,
                              "clip_norm": clip_norm})
    start = time.perf_counter()
    for step in range(1, steps + 1):
        x, y, _ = _memory_batch(batch_size, k, gap, K, data_rng)
        loss, grads = loss_and_gradients(params, x, y)
        del grads["h0"]
        norm = global_norm(grads)
        history.steps.append(step)
        history.loss.append(loss)
        history.grad_norm.append(norm)
        if not np.isfinite(loss) or not np.isfinite(norm):
            history.stopped, history.message = "diverged", f"loss {loss} / gradient norm {norm} at step {step}"
            break
        if clip == "per-parameter":
            grads = clip_per_parameter(grads, clip_norm)
        elif clip == "global":
            grads = clip_global(grads, clip_norm)
        sgd_step(params, grads, lr)
        if step % eval_every == 0 or step == steps:
            accuracy = recall_accuracy(predict(params, x_held), y_held, mask_held)
            history.metrics.setdefault("accuracy", []).append((step, accuracy))
            history.final = {"accuracy": accuracy}
            if on_step is not None:
                on_step(history)
    else:
        history.stopped, history.message = "steps", f"trained for all {steps} steps"
    history.elapsed = time.perf_counter() - start
    return params, history


def mean_abs_gradients(seq_lens, *, vocab_size: int = 10, hidden_size: int = 50, batch_size: int = 16,
                       recurrent_scale: float = 1.0, clip_norm: float | None = None,
                       repeats: int = 5, seed=0) -> np.ndarray:
    """Mean absolute entry of dL/dWh for random one-hot sequences of each length in `seq_lens`.

    Fresh Glorot parameters per repeat, with Wh multiplied by `recurrent_scale` (values above 1 push
    the RNN into the regime where gradients explode); random targets over the vocabulary. With
    `clip_norm`, the gradients are clipped per parameter first. Returns (len(seq_lens), repeats).
    """
    seq_lens = [validate.positive_int("seq_lens[i]", T) for T in seq_lens]
    scale = validate.positive("recurrent_scale", recurrent_scale)
    repeats = validate.positive_int("repeats", repeats)
    rng = validate.rng("seed", seed)
    result = np.empty((len(seq_lens), repeats))
    for r in range(repeats):
        params = init_parameters(vocab_size, hidden_size, vocab_size, seed=rng)
        params["Wh"] *= scale
        for i, T in enumerate(seq_lens):
            data = random_sequences(batch_size, T, vocab_size, seed=rng)
            _, grads = loss_and_gradients(params, data.inputs, data.targets)
            if clip_norm is not None:
                grads = clip_per_parameter(grads, clip_norm)
            result[i, r] = np.mean(np.abs(grads["Wh"]))
    return result
