"""Notebook 04's check cells reject plausible bugs (mutation test, see tests/check_mutation.py)."""
from __future__ import annotations

from check_mutation import Bug, mutation_tests
from conftest import ROOT

NOTEBOOK = ROOT / "notebooks" / "04_memory_task.ipynb"
TASK = "helpers.data.memory_task"
NUMPY = "helpers.memory_numpy."
NORMS = "helpers.memory.hidden_state_gradient_norms"
ALL_GRADIENTS = r"gradient check failed for '(Wx|Wh|b|Wy|by|h0)'"

BUGS = [
    # check:task: the generator against the formula of section 1, the recall accuracy, chance 1/K
    Bug("delimiter one step early", "inputs[:, k + gap] = delimiter", "inputs[:, k + gap - 1] = delimiter",
        "task", "input row vs. formula", target=TASK),
    Bug("recall starts at the delimiter", ("targets[:, -k:] = symbols", "mask[:, -k:] = True"),
        ("targets[:, -k - 1:-1] = symbols", "mask[:, -k - 1:-1] = True"), "task", "formula", target=TASK),
    Bug("k - 1 blanks after the delimiter (the old formula)", "length = 2 * k + gap + 1", "length = 2 * k + gap",
        "task", "sequence length T", target=TASK),
    Bug("symbols 0..K-2", "generator.integers(0, num_symbols, size=(n, k), dtype=np.int64)",
        "generator.integers(0, num_symbols - 1, size=(n, k), dtype=np.int64)", "task", "alphabet", target=TASK),
    Bug("recalled in reverse order", "targets[:, -k:] = symbols", "targets[:, -k:] = symbols[:, ::-1]",
        "task", "target row vs. formula", target=TASK),
    Bug("recall mask one step early", "mask[:, -k:] = True", "mask[:, -k - 1:-1] = True", "task", "recall mask",
        target=TASK),
    Bug("recall accuracy over all positions", "np.mean(predictions[mask] == targets[mask])",
        "np.mean(predictions == targets)", "task", "blanks never count"),
    Bug("recall accuracy by arg-min", "predictions.argmax(axis=-1)", "predictions.argmin(axis=-1)", "task",
        "arg-max of the logits"),
    Bug("recall accuracy counts the masked positions as wrong", "predictions[mask] == targets[mask]",
        "predictions[~mask] == targets[~mask]", "task", "blanks never count|all positions"),
    Bug("chance counts the blank as a symbol", 'return 1.0 / validate.positive_int("num_symbols", num_symbols)',
        'return 1.0 / (validate.positive_int("num_symbols", num_symbols) + 1)', "task", "chance level",
        target="helpers.data.memory_chance_level"),
    # check:gradients: the whole NumPy model against finite differences (teaching copy of cell 10)
    Bug("softmax gradient not divided by N T", "dz /= N * T", "dz /= N", "gradients", ALL_GRADIENTS),
    Bug("softmax gradient with the one-hot added", "targets.ravel()] -= 1.0", "targets.ravel()] += 1.0",
        "gradients", ALL_GRADIENTS),
    Bug("read-out bias gradient averaged over time", '"by": dz.sum(axis=(0, 1))', '"by": dz.sum(axis=(0, 1)) / T',
        "gradients", "failed for 'by'"),
    Bug("read-out columns permuted in the backward only", 'rnn_backward(dz @ params["Wy"].T, cache)',
        'rnn_backward(dz @ params["Wy"][:, ::-1].T, cache)', "gradients", ALL_GRADIENTS),
    Bug("loss summed over time, gradient averaged", "loss = float(-np.mean(np.log(picked)))",
        "loss = float(-np.sum(np.log(picked)) / N)", "gradients", ALL_GRADIENTS),
    Bug("recurrent weights not transposed in BPTT", "da @ Wh.T, x.T @ da", "da @ Wh, x.T @ da", "gradients",
        ALL_GRADIENTS, target="helpers.numpy_rnn.rnn_step_backward"),
    # check:training: the NumPy RNN learns (loss falls, recall above twice chance)
    Bug("SGD step uphill", "        params[name] -= lr * grads[name]", "        params[name] += lr * grads[name]", "training",
        "loss did not fall|2 x chance", target=NUMPY + "sgd_step"),
    Bug("learning rate a hundred times too small", "        params[name] -= lr * grads[name]",
        "        params[name] -= 0.01 * lr * grads[name]", "training", "loss did not fall|2 x chance",
        target=NUMPY + "sgd_step"),
    Bug("per-parameter clipping to zero", "g * min(1.0, max_norm", "g * min(0.0, max_norm", "training",
        "loss did not fall|2 x chance", target=NUMPY + "clip_per_parameter"),
    Bug("no recurrence in the forward pass", 'rnn_forward(x, h0, params["Wx"], params["Wh"], params["b"])',
        'rnn_forward(x, h0, params["Wx"], 0 * params["Wh"], params["b"])', "training", "2 x chance",
        target=NUMPY + "forward"),
    Bug("training targets one step late", "x, y, _ = _memory_batch(batch_size, k, gap, K, data_rng)",
        "x, y, _ = _memory_batch(batch_size, k, gap, K, data_rng)\n        y = np.roll(y, 1, axis=1)", "training",
        "2 x chance", target=NUMPY + "train_memory_rnn"),
    # check:exploding: growth with the length, bounded by clipping (scales, hidden sizes, vocabularies)
    Bug("recurrent scale ignored", 'params["Wh"] *= scale', 'params["Wh"] *= 1.0', "exploding", "scale 3",
        target=NUMPY + "mean_abs_gradients"),
    Bug("scale applied to the input weights", 'params["Wh"] *= scale', 'params["Wx"] *= scale', "exploding",
        "scale 3", target=NUMPY + "mean_abs_gradients"),
    Bug("clipped gradients computed but not used", "grads = clip_per_parameter(grads, clip_norm)",
        "clipped = clip_per_parameter(grads, clip_norm)", "exploding", "bound", target=NUMPY + "mean_abs_gradients"),
    Bug("clipped at ten times the threshold", "grads = clip_per_parameter(grads, clip_norm)",
        "grads = clip_per_parameter(grads, 10 * clip_norm)", "exploding", "bound",
        target=NUMPY + "mean_abs_gradients"),
    Bug("clipping scales up instead of down", "g * min(1.0, max_norm", "g * max(1.0, max_norm", "exploding",
        "bound", target=NUMPY + "clip_per_parameter"),
    Bug("recurrent path dropped in BPTT", "da @ Wh.T, x.T @ da", "0 * da @ Wh.T, x.T @ da", "exploding",
        "scale 3|explosion", target="helpers.numpy_rnn.rnn_step_backward"),
    # check:clipping: exact norms, directions and scale factors (teaching copy of cell 14)
    Bug("per-parameter clipping by the joint norm", "max_norm / max(np.linalg.norm(g), 1e-300)",
        "max_norm / max(global_norm(grads), 1e-300)", "clipping", "per-parameter norm of"),
    Bug("per-parameter clipping scales small gradients up", "g * min(1.0, max_norm / max(np.linalg.norm(g), 1e-300))",
        "g * (max_norm / max(np.linalg.norm(g), 1e-300))", "clipping", "per-parameter norm of (Wy|by)"),
    Bug("per-parameter clipping at half the threshold", "min(1.0, max_norm / max(np.linalg.norm(g), 1e-300))",
        "min(1.0, 0.5 * max_norm / max(np.linalg.norm(g), 1e-300))", "clipping", "per-parameter norm of"),
    Bug("global clipping by the squared norm", "scale = min(1.0, max_norm / total) if total > 0 else 1.0",
        "scale = min(1.0, max_norm / total ** 2) if total > 0 else 1.0", "clipping", "global scale of"),
    Bug("joint norm as a sum of norms", "return float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))",
        "return float(sum(np.linalg.norm(g) for g in grads.values()))", "clipping", "global scale of"),
    Bug("global clipping done per parameter", "return {name: g * scale for name, g in grads.items()}",
        "return {name: g * min(1.0, max_norm / np.linalg.norm(g)) for name, g in grads.items()}", "clipping",
        "global scale of"),
    # check:counts: parameter counts of eq. (8) and the matched RNN size
    Bug("RNN count without the recurrent bias", "return H * (D + H + 1) + O * (H + 1)",
        "return H * (D + H) + O * (H + 1)", "counts", "RNN parameter count"),
    Bug("RNN count without the read-out bias", "return H * (D + H + 1) + O * (H + 1)",
        "return H * (D + H + 1) + O * H", "counts", "RNN parameter count"),
    Bug("LSTM counted with three gate blocks", "return 4 * H * (D + H + 1) + O * (H + 1)",
        "return 3 * H * (D + H + 1) + O * (H + 1)", "counts", "LSTM parameter count"),
    Bug("matched size: the farther candidate", "return min(candidates, key=", "return max(candidates, key=",
        "counts", "neighbouring RNN size is closer", target="helpers.parameter_counts.matching_rnn_hidden_size"),
    Bug("matched size: root of the wrong equation", "root = (-b + math.sqrt(b * b - 4 * (O - target))) / 2",
        "root = (-b + math.sqrt(b * b - 4 * (O - target))) / 2 - 3", "counts", "neighbouring RNN size is closer",
        target="helpers.parameter_counts.matching_rnn_hidden_size"),
    Bug("LSTM built without the delimiter input", "FastLSTM(K + 2, H, K + 1, forget_bias=cfg.forget_bias)",
        "FastLSTM(K + 1, H, K + 1, forget_bias=cfg.forget_bias)", "counts", "LSTM parameter count",
        target="helpers.memory.build_model"),
    # check:vanishing: autograd norms of dh_T/dh_t against the ordered product (7)
    Bug("distances in reverse order", "return np.array(norms)", "return np.array(norms[::-1])", "vanishing",
        r"J_T", target=NORMS),
    Bug("suffix one step too long", "suffix = x[:, t + 1:].repeat_interleave(H, dim=0)",
        "suffix = x[:, t:].repeat_interleave(H, dim=0)", "vanishing", r"J_T", target=NORMS),
    Bug("state taken one step late", "_state_after(model, x[:, :t + 1], is_lstm)",
        "_state_after(model, x[:, :t + 2], is_lstm)", "vanishing", r"J_T", target=NORMS),
    Bug("root of the mean square instead of the mean norm", ".pow(2).sum(dim=(1, 2)).sqrt().mean()",
        ".pow(2).sum(dim=(1, 2)).mean().sqrt()", "vanishing", r"J_T", target=NORMS),
    Bug("upstream gradient all ones instead of one unit", "eye = torch.eye(H, dtype=dtype).repeat(N, 1)",
        "eye = torch.ones(H, H, dtype=dtype).repeat(N, 1)", "vanishing", r"J_T", target=NORMS),
]


outcomes, test_check_catches_bug, test_every_check_is_tried_with_five_bugs = mutation_tests(NOTEBOOK, BUGS)


def test_every_check_of_notebook_04_is_tried():
    assert {bug.check for bug in BUGS} == {"task", "gradients", "training", "exploding", "clipping", "counts",
                                           "vanishing"}
