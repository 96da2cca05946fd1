"""helpers.memory_numpy: the full NumPy memory-task model (softmax + cross-entropy) against finite
differences and torch autograd, clipping, SGD training above chance, exploding gradients, bad input."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers.data import memory_chance_level
from helpers.gradcheck import check, numerical_gradient
from helpers.memory_numpy import (clip_global, clip_per_parameter, global_norm, init_parameters,
                                  loss_and_gradients, mean_abs_gradients, predict, softmax, train_memory_rnn)

N, T, V, H, C = 3, 7, 6, 5, 5


def problem(seed=0):
    """Non-symmetric float64 parameters (biases too), a random h0, inputs and targets."""
    rng = np.random.default_rng(seed)
    params = {"Wx": rng.standard_normal((V, H)), "Wh": 0.5 * rng.standard_normal((H, H)),
              "b": 0.3 * rng.standard_normal(H), "Wy": rng.standard_normal((H, C)),
              "by": 0.3 * rng.standard_normal(C)}
    return params, rng.standard_normal((N, T, V)), rng.integers(0, C, (N, T)), rng.standard_normal((N, H))


def test_full_model_gradients_match_finite_differences():
    params, x, targets, h0 = problem()
    _, grads = loss_and_gradients(params, x, targets, h0)
    arrays = dict(params, h0=h0)

    def loss():
        return loss_and_gradients(params, x, targets, h0)[0]

    rows = check({name: (grads[name], numerical_gradient(loss, array)) for name, array in arrays.items()},
                 tolerance=1e-7)
    assert [row.name for row in rows] == ["Wx", "Wh", "b", "Wy", "by", "h0"]


def test_loss_and_gradients_match_torch_autograd():
    params, x, targets, h0 = problem(1)
    loss, grads = loss_and_gradients(params, x, targets, h0)
    p = {name: torch.tensor(value, requires_grad=True) for name, value in dict(params, h0=h0).items()}
    h, hs = p["h0"], []
    for t in range(T):
        h = torch.tanh(torch.tensor(x[:, t]) @ p["Wx"] + h @ p["Wh"] + p["b"])
        hs.append(h)
    logits = torch.stack(hs, dim=1) @ p["Wy"] + p["by"]
    reference = torch.nn.functional.cross_entropy(logits.reshape(-1, C), torch.tensor(targets).reshape(-1))
    reference.backward()
    assert abs(loss - reference.item()) <= 1e-12 * abs(loss)
    check({name: (grads[name], p[name].grad.numpy()) for name in p}, tolerance=1e-12)


def test_softmax_is_stable_for_huge_logits():
    probs = softmax(np.array([[1000.0, 0.0, -1000.0], [5.0, 5.0, 5.0]]))
    assert np.all(np.isfinite(probs))
    np.testing.assert_allclose(probs.sum(axis=-1), 1.0)
    np.testing.assert_allclose(probs[0], [1.0, 0.0, 0.0])


def gradients(seed=0):
    rng = np.random.default_rng(seed)
    return {"Wx": 10 * rng.standard_normal((4, 3)), "Wh": 0.1 * rng.standard_normal((3, 3)),
            "b": 3 * rng.standard_normal(3)}


def test_per_parameter_clipping_bounds_each_norm_and_keeps_each_direction():
    grads = gradients()
    clipped = clip_per_parameter(grads, 1.0)
    for name, g in grads.items():
        norm = np.linalg.norm(g)
        assert np.linalg.norm(clipped[name]) == pytest.approx(min(norm, 1.0))
        np.testing.assert_allclose(clipped[name] / np.linalg.norm(clipped[name]), g / norm)
    np.testing.assert_array_equal(clipped["Wh"], grads["Wh"])  # already below the threshold


def test_global_clipping_keeps_the_joint_direction_and_per_parameter_does_not():
    grads = gradients()
    flat = np.concatenate([g.ravel() for g in grads.values()])
    by_global = np.concatenate([g.ravel() for g in clip_global(grads, 1.0).values()])
    by_parameter = np.concatenate([g.ravel() for g in clip_per_parameter(grads, 1.0).values()])
    cosine = lambda a, b: a @ b / np.linalg.norm(a) / np.linalg.norm(b)  # noqa: E731
    assert global_norm(clip_global(grads, 1.0)) == pytest.approx(1.0)
    assert cosine(flat, by_global) == pytest.approx(1.0, abs=1e-12)
    assert cosine(flat, by_parameter) < 0.99
    unchanged = clip_global(grads, 2 * global_norm(grads))
    for name in grads:
        np.testing.assert_array_equal(unchanged[name], grads[name])


def test_glorot_initialisation_has_the_right_range_and_zero_biases():
    params = init_parameters(10, 50, 9, seed=0)
    limit = np.sqrt(6 / (50 + 50))
    assert np.abs(params["Wh"]).max() <= limit and np.abs(params["Wh"]).max() > 0.9 * limit
    assert not params["b"].any() and not params["by"].any()
    for name, value in init_parameters(10, 50, 9, seed=0).items():
        np.testing.assert_array_equal(value, params[name])


def test_sgd_training_on_an_easy_setting_beats_chance():
    _, history = train_memory_rnn(to_remember_len=2, gap=2, hidden_size=32, steps=150, eval_every=50,
                                  held_out_size=200, seed=0)
    chance = memory_chance_level()
    assert history.stopped == "steps"
    assert history.last("accuracy") > 4 * chance
    assert np.mean(history.loss[-20:]) < np.mean(history.loss[:20])
    _, again = train_memory_rnn(to_remember_len=2, gap=2, hidden_size=32, steps=150, eval_every=50,
                                held_out_size=200, seed=0)
    assert again.loss == history.loss


def test_gradients_explode_with_length_and_clipping_bounds_them():
    lengths = [2, 16, 64]
    raw = mean_abs_gradients(lengths, recurrent_scale=3.0, repeats=2, hidden_size=20)
    clipped = mean_abs_gradients(lengths, recurrent_scale=3.0, repeats=2, hidden_size=20, clip_norm=1.0)
    assert raw[-1].min() > 1e3 * raw[0].max()
    assert clipped.max() <= 1.0 / np.sqrt(20 * 20)  # mean |g| <= ||g|| / sqrt(size) <= clip / sqrt(size)


@pytest.mark.parametrize("call, name", [
    (lambda p, x, y: loss_and_gradients({"Wx": p["Wx"]}, x, y), "params"),
    (lambda p, x, y: predict([p["Wx"]], x), "params"),
    (lambda p, x, y: loss_and_gradients(p, x, y + C), "targets"),
    (lambda p, x, y: loss_and_gradients(p, x[0], y), "x"),
    (lambda p, x, y: loss_and_gradients(p, x * np.nan, y), "x"),
    (lambda p, x, y: clip_per_parameter(p, 0.0), "max_norm"),
    (lambda p, x, y: clip_global(p, -1.0), "max_norm"),
    (lambda p, x, y: init_parameters(6, 0, 5, seed=0), "hidden_size"),
    (lambda p, x, y: train_memory_rnn(steps=0), "steps"),
    (lambda p, x, y: train_memory_rnn(clip="elementwise"), "clip"),
    (lambda p, x, y: train_memory_rnn(gap=-1), "gap"),
    (lambda p, x, y: train_memory_rnn(lr=0.0), "lr"),
    (lambda p, x, y: train_memory_rnn(clip_norm=-1.0), "clip_norm"),
    (lambda p, x, y: mean_abs_gradients([4], recurrent_scale=0.0), "recurrent_scale"),
])
def test_bad_input_names_the_argument(call, name):
    params, x, targets, _ = problem()
    with pytest.raises((ValueError, TypeError), match=name):
        call(params, x, targets)
