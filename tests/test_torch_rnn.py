"""helpers.torch_rnn: ElmanRNN equal to the NumPy code (forward and gradients) and to torch.nn.RNN, bad input;
FastElmanRNN equal to ElmanRNN and torch.nn.RNN (forward and gradients), its ElmanRecurrence to finite differences.

Tolerance: norm-relative error <= 1e-12 in float64 (DESIGN.md section 2).
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from helpers.gradcheck import check, rel_error
from helpers.numpy_rnn import rnn_backward, rnn_forward
from helpers.torch_rnn import ElmanRecurrence, ElmanRNN, FastElmanRNN

B, T, D, H, O = 3, 6, 4, 5, 2
TOLERANCE = 1e-12


def model_float64(seed=0) -> ElmanRNN:
    torch.manual_seed(seed)
    return ElmanRNN(D, H, O).double()


def inputs(seed=1):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((B, T, D)), rng.standard_normal((B, H))


def test_parameters_are_named_after_the_equations_and_nothing_else_is_inside():
    model = ElmanRNN(D, H, O)
    shapes = {name: tuple(p.shape) for name, p in model.named_parameters()}
    assert shapes == {"W_hx": (D, H), "W_hh": (H, H), "b_h": (H,), "W_ph": (H, O), "b_p": (O,)}
    assert list(model.children()) == []  # tensor ops only: no nn.RNN / nn.Linear inside


def test_initialisation_is_uniform_within_torch_bounds_and_seeded():
    torch.manual_seed(3)
    first = ElmanRNN(D, 64, O)
    torch.manual_seed(3)
    second = ElmanRNN(D, 64, O)
    bound = 1 / math.sqrt(64)
    for (name, a), b in zip(first.named_parameters(), second.parameters()):
        assert torch.equal(a, b), name
        assert a.abs().max() <= bound and a.abs().max() > 0.5 * bound, name


def test_forward_and_gradients_equal_the_numpy_code():
    model = model_float64()
    x_np, h0_np = inputs()
    dp = np.random.default_rng(2).standard_normal((B, T, O))
    x = torch.from_numpy(x_np).requires_grad_()
    h0 = torch.from_numpy(h0_np).requires_grad_()
    p, h_T = model(x, h0)
    p.backward(torch.from_numpy(dp))

    W = {name: param.detach().numpy() for name, param in model.named_parameters()}
    h, cache = rnn_forward(x_np, h0_np, W["W_hx"], W["W_hh"], W["b_h"])
    p_np = h @ W["W_ph"] + W["b_p"]
    dx, dh0, dWx, dWh, db = rnn_backward(dp @ W["W_ph"].T, cache)
    grads = {name: param.grad.numpy() for name, param in model.named_parameters()}
    check({"p": (p.detach().numpy(), p_np), "h_T": (h_T.detach().numpy(), h[:, -1]),
           "x": (x.grad.numpy(), dx), "h0": (h0.grad.numpy(), dh0),
           "W_hx": (grads["W_hx"], dWx), "W_hh": (grads["W_hh"], dWh), "b_h": (grads["b_h"], db),
           "W_ph": (grads["W_ph"], np.einsum("bth,bto->ho", h, dp)), "b_p": (grads["b_p"], dp.sum(axis=(0, 1)))},
          TOLERANCE)


def test_hidden_states_equal_torch_nn_rnn():
    model = model_float64(seed=4)
    oracle = torch.nn.RNN(D, H, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        oracle.weight_ih_l0.copy_(model.W_hx.T)
        oracle.weight_hh_l0.copy_(model.W_hh.T)
        oracle.bias_ih_l0.copy_(model.b_h)
        oracle.bias_hh_l0.zero_()
        x_np, h0_np = inputs(seed=5)
        x, h0 = torch.from_numpy(x_np), torch.from_numpy(h0_np)
        states, h_last = oracle(x, h0[None])
        p, h_T = model(x, h0)
        p_oracle = states @ model.W_ph + model.b_p
    check({"p": (p.numpy(), p_oracle.numpy()),
           "h_T": (h_T.numpy(), h_last[0].numpy())}, TOLERANCE)


def test_missing_initial_state_means_zeros_and_inputs_follow_the_parameters():
    model = model_float64(seed=6)
    x_np, _ = inputs(seed=7)
    p_default, h_default = model(x_np)  # NumPy input is accepted and converted
    p_zero, h_zero = model(torch.from_numpy(x_np), torch.zeros(B, H, dtype=torch.float64))
    assert p_default.dtype == torch.float64 and torch.equal(p_default, p_zero) and torch.equal(h_default, h_zero)
    model32 = model_float64(seed=6).float()
    p32, _ = model32(torch.from_numpy(x_np))  # float64 data meets a float32 model
    assert p32.dtype == torch.float32 and p32.shape == (B, T, O)
    assert torch.allclose(p32.double(), p_default, atol=1e-5)


def test_final_state_continues_the_sequence():
    model = model_float64(seed=8)
    x_np, h0_np = inputs(seed=9)
    x = torch.from_numpy(x_np)
    p_whole, h_whole = model(x, torch.from_numpy(h0_np))
    p_first, h_mid = model(x[:, :2], torch.from_numpy(h0_np))
    p_rest, h_end = model(x[:, 2:], h_mid)
    check({"p": (torch.cat([p_first, p_rest], 1).detach().numpy(), p_whole.detach().numpy()),
           "h_T": (h_end.detach().numpy(), h_whole.detach().numpy())}, TOLERANCE)


@pytest.mark.parametrize("arguments, name, error", [
    ((0, H, O), "input_size", ValueError), ((D, 2.0, O), "hidden_size", TypeError),
    ((D, H, -3), "output_size", ValueError)])
def test_constructor_rejects_bad_sizes(arguments, name, error):
    with pytest.raises(error, match=name):
        ElmanRNN(*arguments)


BAD_INPUTS = pytest.mark.parametrize("x, h0, name", [
    (torch.zeros(T, D), None, "x"), (torch.zeros(B, T, D + 1), None, "x"), (torch.zeros(B, 0, D), None, "x"),
    (torch.full((B, T, D), float("nan")), None, "x"), (torch.zeros(B, T, D), torch.zeros(B, H + 1), "h0"),
    (torch.zeros(B, T, D), torch.zeros(H), "h0"), (torch.zeros(B, T, D), torch.full((B, H), float("inf")), "h0")],
    ids=["2d x", "wrong D", "no steps", "nan x", "wrong H", "unbatched h0", "inf h0"])


@BAD_INPUTS
def test_forward_rejects_bad_input(x, h0, name):
    with pytest.raises(ValueError, match=name):
        ElmanRNN(D, H, O)(x, h0)


# FastElmanRNN: the training twin of ElmanRNN (hand-written backward pass in ElmanRecurrence).

def twin_models(seed=0, output_size=O):
    """A float64 ElmanRNN and a FastElmanRNN carrying the same parameters."""
    torch.manual_seed(seed)
    simple = ElmanRNN(D, H, output_size).double()
    fast = FastElmanRNN(D, H, output_size).double()
    fast.load_state_dict(simple.state_dict())
    return simple, fast


def outputs_and_gradients(model, x, h0, seed=2):
    """Backpropagate a random weighting of p and h_T through `model`.

    Returns {"p", "h_T"}, the gradients {"x", "h0" (None when they need no gradient), parameter names}
    as NumPy arrays, and the upstream gradients (dp, dh_T) as tensors.
    """
    model.zero_grad()
    p, h_T = model(x, h0)
    generator = torch.Generator().manual_seed(seed)
    dp, dh_T = (torch.randn(out.shape, generator=generator, dtype=out.dtype) for out in (p, h_T))
    ((p * dp).sum() + (h_T * dh_T).sum()).backward()
    grads = {"x": x.grad, "h0": None if h0 is None else h0.grad}
    grads.update({name: parameter.grad for name, parameter in model.named_parameters()})
    return ({"p": p.detach().numpy(), "h_T": h_T.detach().numpy()},
            {name: None if g is None else g.numpy() for name, g in grads.items()}, (dp, dh_T))


def test_fast_elman_rnn_has_the_parameters_of_elman_rnn():
    simple, fast = twin_models()
    assert [(n, p.shape) for n, p in fast.named_parameters()] == [(n, p.shape) for n, p in simple.named_parameters()]
    assert fast.state_dict().keys() == simple.state_dict().keys() and list(fast.children()) == []
    torch.manual_seed(3)
    drawn = FastElmanRNN(D, H, O)
    torch.manual_seed(3)
    assert all(torch.equal(a, b) for a, b in zip(drawn.parameters(), ElmanRNN(D, H, O).parameters()))


@pytest.mark.parametrize("steps", [1, 2, T])
def test_fast_elman_rnn_computes_the_same_function_and_gradients(steps):
    simple, fast = twin_models(seed=10)
    x_np, h0_np = inputs(seed=11)
    results = []
    for model in (simple, fast):
        x = torch.from_numpy(x_np[:, :steps].copy()).requires_grad_()
        h0 = torch.from_numpy(h0_np).requires_grad_()
        results.append(outputs_and_gradients(model, x, h0)[:2])
    (out_simple, grads_simple), (out_fast, grads_fast) = results
    check({**{name: (out_fast[name], out_simple[name]) for name in out_simple},
           **{name: (grads_fast[name], grads_simple[name]) for name in grads_simple}}, TOLERANCE)


def test_fast_elman_rnn_without_initial_state_or_input_gradient_matches_elman_rnn():
    """h0 None means zeros; x and h0 need no gradient (ElmanRecurrence skips dx and dh0)."""
    simple, fast = twin_models(seed=12)
    x = torch.from_numpy(inputs(seed=13)[0])
    out_simple, grads_simple, _ = outputs_and_gradients(simple, x, None)
    out_fast, grads_fast, _ = outputs_and_gradients(fast, x, None)
    assert grads_fast["x"] is None and grads_fast["h0"] is None
    p_zero, h_zero = fast(x, torch.zeros(B, H, dtype=torch.float64))
    assert np.array_equal(out_fast["p"], p_zero.detach().numpy())
    assert np.array_equal(out_fast["h_T"], h_zero.detach().numpy())
    names = [name for name, _ in fast.named_parameters()]
    check({**{name: (out_fast[name], out_simple[name]) for name in out_simple},
           **{name: (grads_fast[name], grads_simple[name]) for name in names}}, TOLERANCE)


def test_fast_elman_rnn_equals_torch_nn_rnn_forward_and_gradients():
    """With an identity read-out, p is the sequence of hidden states that nn.RNN returns."""
    _, fast = twin_models(seed=14, output_size=H)
    with torch.no_grad():
        fast.W_ph.copy_(torch.eye(H))
        fast.b_p.zero_()
    oracle = torch.nn.RNN(D, H, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        oracle.weight_ih_l0.copy_(fast.W_hx.T)
        oracle.weight_hh_l0.copy_(fast.W_hh.T)
        oracle.bias_ih_l0.copy_(fast.b_h)
        oracle.bias_hh_l0.zero_()
    x_np, h0_np = inputs(seed=15)
    x, h0 = (torch.from_numpy(a).requires_grad_() for a in (x_np, h0_np))
    outs, grads, (dp, dh_T) = outputs_and_gradients(fast, x, h0)
    x_o, h0_o = (torch.from_numpy(a).requires_grad_() for a in (x_np, h0_np))
    states, h_last = oracle(x_o, h0_o[None])
    ((states * dp).sum() + (h_last[0] * dh_T).sum()).backward()
    check({"p": (outs["p"], states.detach().numpy()), "h_T": (outs["h_T"], h_last[0].detach().numpy()),
           "x": (grads["x"], x_o.grad.numpy()), "h0": (grads["h0"], h0_o.grad.numpy()),
           "W_hx": (grads["W_hx"], oracle.weight_ih_l0.grad.T.numpy()),
           "W_hh": (grads["W_hh"], oracle.weight_hh_l0.grad.T.numpy()),
           "b_h (bias_ih)": (grads["b_h"], oracle.bias_ih_l0.grad.numpy()),
           "b_h (bias_hh)": (grads["b_h"], oracle.bias_hh_l0.grad.numpy())}, TOLERANCE)


def test_elman_recurrence_passes_torch_gradcheck():
    """torch.autograd.gradcheck: finite differences (float64) on x, h0, W_hx, W_hh and b_h."""
    generator = torch.Generator().manual_seed(16)
    steps, batch, inputs_, hidden = 3, 2, 2, 3   # small: gradcheck builds the full Jacobian
    shapes = ((steps, batch, inputs_), (batch, hidden), (inputs_, hidden), (hidden, hidden), (hidden,))
    args = [torch.randn(s, generator=generator, dtype=torch.float64).requires_grad_() for s in shapes]
    assert torch.autograd.gradcheck(ElmanRecurrence.apply, args, eps=1e-6, atol=1e-8, rtol=1e-6)


def test_fast_elman_rnn_inputs_follow_the_parameters_dtype():
    _, fast = twin_models(seed=17)
    x_np, h0_np = inputs(seed=18)
    p64, h64 = fast(x_np, h0_np)               # NumPy input is accepted and converted
    assert p64.dtype == torch.float64 and p64.shape == (B, T, O) and p64.is_contiguous() and h64.shape == (B, H)
    x32 = torch.from_numpy(x_np).float().requires_grad_()   # float32 data meets a float64 model
    p, _ = fast(x32)
    p.sum().backward()                         # autograd sees the conversion
    assert p.dtype == torch.float64 and x32.grad.dtype == torch.float32
    fast32 = fast.float()
    p32, h32 = fast32(torch.from_numpy(x_np), torch.from_numpy(h0_np))   # float64 data meets a float32 model
    assert p32.dtype == h32.dtype == torch.float32
    assert rel_error(p32.detach().double(), p64.detach()) < 1e-5


def test_fast_elman_rnn_final_state_continues_the_sequence():
    _, fast = twin_models(seed=19)
    x_np, h0_np = inputs(seed=20)
    x, h0 = torch.from_numpy(x_np), torch.from_numpy(h0_np)
    p_whole, h_whole = fast(x, h0)
    p_first, h_mid = fast(x[:, :2], h0)
    p_rest, h_end = fast(x[:, 2:], h_mid)
    check({"p": (torch.cat([p_first, p_rest], 1).detach().numpy(), p_whole.detach().numpy()),
           "h_T": (h_end.detach().numpy(), h_whole.detach().numpy())}, TOLERANCE)


@pytest.mark.parametrize("arguments, name, error", [
    ((0, H, O), "input_size", ValueError), ((D, 2.0, O), "hidden_size", TypeError),
    ((D, H, -3), "output_size", ValueError)])
def test_fast_elman_rnn_constructor_rejects_bad_sizes(arguments, name, error):
    with pytest.raises(error, match=name):
        FastElmanRNN(*arguments)


@BAD_INPUTS
def test_fast_elman_rnn_rejects_bad_input(x, h0, name):
    with pytest.raises(ValueError, match=name):
        FastElmanRNN(D, H, O)(x, h0)


@pytest.mark.parametrize("steps", [1, T])
def test_fast_elman_rnn_last_step_output_is_the_last_step_of_forward_with_its_gradients(steps):
    """The read-out of the last step only (a loss on the last step): same logits, state and gradients."""
    _, fast = twin_models(seed=14)
    x_np, h0_np = inputs(seed=15)
    generator = torch.Generator().manual_seed(16)
    weights = torch.randn(B, O, generator=generator, dtype=torch.float64)
    results = []
    for last_only in (False, True):
        x = torch.from_numpy(x_np[:, :steps].copy()).requires_grad_()
        h0 = torch.from_numpy(h0_np).requires_grad_()
        fast.zero_grad()
        p, h_T = fast.last_step_output(x, h0) if last_only else fast(x, h0)
        p_T = p if last_only else p[:, -1]
        (p_T * weights).sum().backward()
        results.append({"p_T": p_T.detach().numpy(), "h_T": h_T.detach().numpy(), "x": x.grad.numpy(),
                        "h0": h0.grad.numpy(), **{n: q.grad.numpy() for n, q in fast.named_parameters()}})
    full, last = results
    assert last["p_T"].shape == (B, O)
    check({name: (last[name], full[name]) for name in full}, TOLERANCE)
