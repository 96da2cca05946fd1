"""helpers.torch_lstm: the from-scratch LSTM against NumPy, torch.nn.LSTM, finite differences, and its fast twin."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers.gradcheck import check, rel_error
from helpers.numpy_lstm import lstm_backward, lstm_forward
from helpers.torch_lstm import LSTM, FastLSTM, LSTMRecurrence, fused_gate_weights, nn_lstm_weights

B, T, D, H, O = 3, 5, 4, 6, 2


def models(output_size=O, forget_bias=1.0, seed=0):
    """A float64 teaching LSTM and a FastLSTM carrying the same parameters."""
    torch.manual_seed(seed)
    simple = LSTM(D, H, output_size, forget_bias=forget_bias).double()
    fast = FastLSTM(D, H, output_size, forget_bias=forget_bias).double()
    fast.load_state_dict(simple.state_dict())
    return simple, fast


def inputs(seed=1):
    """x (B, T, D), h0 and c0 (B, H), float64, drawn from a seeded generator."""
    generator = torch.Generator().manual_seed(seed)
    return [torch.randn(shape, generator=generator, dtype=torch.float64) for shape in ((B, T, D), (B, H), (B, H))]


def all_gradients(model, x, h0, c0, seed=2, use_c_T=True):
    """Backpropagate a random weighting of p, h_T (and c_T) through `model`.

    Returns the gradients of x, h0, c0 and every parameter (NumPy), the outputs (p, h_T, c_T) and
    the upstream gradients (dp, dh_T, dc_T).
    """
    generator = torch.Generator().manual_seed(seed)
    x, h0, c0 = (t.clone().requires_grad_() for t in (x, h0, c0))
    model.zero_grad()
    p, (h, c) = model(x, (h0, c0))
    upstream = [torch.randn(out.shape, generator=generator, dtype=out.dtype) for out in (p, h, c)]
    if not use_c_T:
        upstream[2].zero_()
    sum((out * up).sum() for out, up in zip((p, h, c), upstream)).backward()
    grads = {"x": x.grad, "h0": h0.grad, "c0": c0.grad}
    grads.update({name: parameter.grad.clone() for name, parameter in model.named_parameters()})
    return ({name: g.numpy() for name, g in grads.items()}, [t.detach() for t in (p, h, c)],
            [u.numpy() for u in upstream])


def fused_numpy(source, order="ifgo"):
    """Wx (D, 4H), Wh (H, 4H), b (4H,) as NumPy arrays, from a model or from a gradient dict."""
    if isinstance(source, LSTM):
        return [t.detach().numpy() for t in fused_gate_weights(source, order)]
    return [np.concatenate([source[f"{prefix}{k}{suffix}"] for k in order], axis=-1)
            for prefix, suffix in (("W_", "x"), ("W_", "h"), ("b_", ""))]


@pytest.mark.parametrize("model_class", [LSTM, FastLSTM])
def test_shapes_and_default_state(model_class):
    torch.manual_seed(0)
    model = model_class(D, H, O)
    x = torch.randn(B, T, D)
    p, (h, c) = model(x)
    assert p.shape == (B, T, O) and h.shape == (B, H) and c.shape == (B, H)
    p_zero, _ = model(x, (torch.zeros(B, H), torch.zeros(B, H)))
    assert torch.equal(p, p_zero)


def test_parameter_count_is_4_dn_n2_n_plus_readout():
    counted = sum(parameter.numel() for parameter in LSTM(D, H, O).parameters())
    assert counted == 4 * (D * H + H * H + H) + (H * O + O)
    assert sum(p.numel() for p in FastLSTM(D, H, O).parameters()) == counted
    # nn.LSTM keeps two bias vectors per gate: 4n more parameters for the same function
    assert sum(p.numel() for p in torch.nn.LSTM(D, H).parameters()) == 4 * (D * H + H * H + 2 * H)


def test_forget_bias_sets_the_forget_gate_bias():
    for value in (0.0, 1.0):
        model = LSTM(D, H, O, forget_bias=value)
        assert torch.equal(model.b_f, torch.full((H,), value))
        assert not torch.equal(model.b_i, torch.full((H,), value))


def test_teaching_lstm_equals_numpy_forward_and_gradients():
    simple, _ = models()
    x, h0, c0 = inputs()
    grads, (p, h, c), (dp, dh_T, _) = all_gradients(simple, x, h0, c0, use_c_T=False)

    Wx, Wh, b = fused_numpy(simple)
    W_ph, b_p = simple.W_ph.detach().numpy(), simple.b_p.detach().numpy()
    hs, cache = lstm_forward(x.numpy(), h0.numpy(), Wx, Wh, b, c0.numpy())
    assert rel_error(hs @ W_ph + b_p, p) <= 1e-12
    assert rel_error(hs[:, -1], h) <= 1e-12 and rel_error(cache[-1], c) <= 1e-12

    dhs = dp @ W_ph.T           # p_t = h_t W_ph + b_p, and h_T is the last hidden state
    dhs[:, -1] += dh_T
    dx, dh0, dWx, dWh, db, dc0 = lstm_backward(dhs, cache)
    Wx_grad, Wh_grad, b_grad = fused_numpy(grads)
    check({"x": (grads["x"], dx), "h0": (grads["h0"], dh0), "c0": (grads["c0"], dc0),
           "Wx": (Wx_grad, dWx), "Wh": (Wh_grad, dWh), "b": (b_grad, db),
           "W_ph": (grads["W_ph"], hs.reshape(-1, H).T @ dp.reshape(-1, O)),
           "b_p": (grads["b_p"], dp.sum(axis=(0, 1)))}, tolerance=1e-12)


@pytest.mark.parametrize("model_class", [LSTM, FastLSTM])
def test_equals_torch_nn_lstm_with_copied_weights(model_class):
    """With an identity read-out, p is the sequence of hidden states that nn.LSTM returns."""
    simple, fast = models(output_size=H, seed=3)
    model = simple if model_class is LSTM else fast
    with torch.no_grad():
        model.W_ph.copy_(torch.eye(H))
        model.b_p.zero_()
    x, h0, c0 = inputs(4)
    grads, (p, h, c), (dp, dh_T, dc_T) = all_gradients(model, x, h0, c0)

    lstm = torch.nn.LSTM(D, H, batch_first=True).double()
    lstm.load_state_dict(nn_lstm_weights(model))
    xs, h0s, c0s = (t.clone().requires_grad_() for t in (x, h0, c0))
    out, (h_n, c_n) = lstm(xs, (h0s.unsqueeze(0), c0s.unsqueeze(0)))
    ((out * torch.from_numpy(dp)).sum() + (h_n[0] * torch.from_numpy(dh_T)).sum()
     + (c_n[0] * torch.from_numpy(dc_T)).sum()).backward()

    assert rel_error(p, out.detach()) <= 1e-12
    assert rel_error(h, h_n[0].detach()) <= 1e-12 and rel_error(c, c_n[0].detach()) <= 1e-12
    Wx_grad, Wh_grad, b_grad = fused_numpy(grads)
    check({"x": (grads["x"], xs.grad.numpy()), "h0": (grads["h0"], h0s.grad.numpy()),
           "c0": (grads["c0"], c0s.grad.numpy()),
           "Wx": (Wx_grad, lstm.weight_ih_l0.grad.T.numpy()), "Wh": (Wh_grad, lstm.weight_hh_l0.grad.T.numpy()),
           "b (bias_ih)": (b_grad, lstm.bias_ih_l0.grad.numpy()),
           "b (bias_hh)": (b_grad, lstm.bias_hh_l0.grad.numpy())}, tolerance=1e-12)


def test_fast_lstm_computes_the_same_function_and_gradients():
    simple, fast = models(seed=5)
    x, h0, c0 = inputs(6)
    grads_simple, outs_simple, _ = all_gradients(simple, x, h0, c0)
    grads_fast, outs_fast, _ = all_gradients(fast, x, h0, c0)
    for a, b in zip(outs_simple, outs_fast):
        assert rel_error(a, b) <= 1e-12
    check({name: (grads_fast[name], grads_simple[name]) for name in grads_simple}, tolerance=1e-12)


def test_fast_lstm_float32_matches_float64():
    simple, fast = models(seed=7)
    x, h0, c0 = inputs(8)
    p64, _ = fast(x, (h0, c0))
    p32, _ = fast.float()(x.float(), (h0.float(), c0.float()))
    assert p32.dtype == torch.float32 and rel_error(p32.detach(), p64.detach()) < 1e-5


def test_hand_written_backward_passes_torch_gradcheck():
    """torch.autograd.gradcheck: finite differences (float64) on x, h0, c0, Wx, Wh and b, both outputs."""
    generator = torch.Generator().manual_seed(9)
    steps, batch, inputs_, hidden = 3, 2, 2, 3   # small: gradcheck builds the full Jacobian
    shapes = ((steps, batch, inputs_), (batch, hidden), (batch, hidden), (inputs_, 4 * hidden),
              (hidden, 4 * hidden), (4 * hidden,))
    args = [torch.randn(s, generator=generator, dtype=torch.float64).requires_grad_() for s in shapes]
    assert torch.autograd.gradcheck(LSTMRecurrence.apply, args, eps=1e-6, atol=1e-8, rtol=1e-6)


def test_gate_activity_replays_the_forward_pass():
    simple, _ = models(seed=10)
    x, h0, c0 = inputs(11)
    trace = simple.gate_activity(x, (h0, c0))
    p, (h, c) = simple(x, (h0, c0))
    assert set(trace) == {"g", "i", "f", "o", "c", "h"}
    assert all(value.shape == (B, T, H) for value in trace.values())
    assert rel_error(trace["h"] @ simple.W_ph.detach() + simple.b_p.detach(), p.detach()) <= 1e-12
    assert torch.equal(trace["c"][:, -1], c.detach())
    assert float(trace["i"].min()) > 0 and float(trace["f"].max()) < 1


@pytest.mark.parametrize("kwargs, error, name", [
    ({"input_size": 0}, ValueError, "input_size"),
    ({"hidden_size": 2.5}, TypeError, "hidden_size"),
    ({"output_size": -1}, ValueError, "output_size"),
    ({"forget_bias": float("nan")}, ValueError, "forget_bias"),
    ({"forget_bias": "1"}, TypeError, "forget_bias"),
])
def test_constructor_rejects_bad_arguments(kwargs, error, name):
    arguments = {"input_size": D, "hidden_size": H, "output_size": O, **kwargs}
    with pytest.raises(error, match=name):
        FastLSTM(**arguments)


@pytest.mark.parametrize("model_class", [LSTM, FastLSTM])
def test_forward_rejects_bad_input(model_class):
    model = model_class(D, H, O)
    x = torch.randn(B, T, D)
    with pytest.raises(ValueError, match="x"):
        model(torch.randn(B, T, D + 1))
    with pytest.raises(ValueError, match="x"):
        model(torch.randn(B, 0, D))
    with pytest.raises(ValueError, match="x"):
        model(torch.full((B, T, D), float("nan")))
    with pytest.raises(TypeError, match="state"):
        model(x, torch.zeros(B, H))
    with pytest.raises(ValueError, match="h0"):
        model(x, (torch.zeros(B + 1, H), torch.zeros(B, H)))
    with pytest.raises(ValueError, match="c0"):
        model(x, (torch.zeros(B, H), torch.zeros(B, H + 1)))


def test_fused_gate_weights_rejects_unknown_order():
    with pytest.raises(ValueError, match="order"):
        fused_gate_weights(LSTM(D, H, O), "gifo")


def test_fast_lstm_last_step_output_is_the_last_step_of_forward_with_its_gradients():
    """The read-out of the last step only (a loss on the last step): same logits, state and gradients."""
    _, fast = models(seed=11)
    x0, h00, c00 = inputs(12)
    weights = torch.randn(B, O, generator=torch.Generator().manual_seed(13), dtype=torch.float64)
    results = []
    for last_only in (False, True):
        x, h0, c0 = (t.clone().requires_grad_() for t in (x0, h00, c00))
        fast.zero_grad()
        p, (h, c) = fast.last_step_output(x, (h0, c0)) if last_only else fast(x, (h0, c0))
        p_T = p if last_only else p[:, -1]
        (p_T * weights).sum().backward()
        results.append({"p_T": p_T, "h_T": h, "c_T": c, "x": x.grad, "h0": h0.grad, "c0": c0.grad,
                        **{n: q.grad.clone() for n, q in fast.named_parameters()}})
    full, last = results
    assert last["p_T"].shape == (B, O)
    check({name: (last[name].detach().numpy(), full[name].detach().numpy()) for name in full}, tolerance=1e-12)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("steps", [1, 2, 7])
def test_fast_lstm_evaluation_without_gradients_gives_bit_identical_outputs(dtype, steps):
    """Under torch.no_grad() LSTMRecurrence keeps no gates for backward and reuses one buffer per step
    (two for c): the outputs, states and last-step logits must equal the training pass's bit for bit."""
    _, fast = models(seed=14)
    fast = fast.to(dtype)
    generator = torch.Generator().manual_seed(15)
    x, h0, c0 = (3 * torch.randn(shape, generator=generator, dtype=dtype) for shape in ((B, steps, D), (B, H), (B, H)))
    training = [fast(x, (h0, c0)), fast.last_step_output(x, (h0, c0))]
    with torch.no_grad():
        evaluation = [fast(x, (h0, c0)), fast.last_step_output(x, (h0, c0))]
    for (p_train, (h_train, c_train)), (p_eval, (h_eval, c_eval)) in zip(training, evaluation):
        assert p_train.requires_grad and not p_eval.requires_grad
        for trained, evaluated in ((p_train, p_eval), (h_train, h_eval), (c_train, c_eval)):
            assert torch.equal(trained, evaluated)
