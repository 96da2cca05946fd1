"""Test doubles for the training loop and the run cache: tiny torch models and scripted problems."""
from __future__ import annotations

import numpy as np
import torch


class Regression(torch.nn.Module):
    """y = x @ W + b with nn.Parameter (D inputs, one output)."""

    def __init__(self, D: int, seed: int = 0, dtype=torch.float32):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.W = torch.nn.Parameter(0.1 * torch.randn(D, 1, generator=g, dtype=dtype))
        self.b = torch.nn.Parameter(torch.zeros(1, dtype=dtype))

    def forward(self, x):
        return x @ self.W + self.b


class Scalar(torch.nn.Module):
    """One trainable scalar p; the loss functions below decide what it means."""

    def __init__(self, value: float = 1.0, dtype=torch.float32):
        super().__init__()
        self.p = torch.nn.Parameter(torch.tensor([value], dtype=dtype))


def regression_problem(D=3, N=64, seed=0):
    """Batches of a noisy linear map: next_batch(t) is deterministic in t."""
    rng = np.random.default_rng(seed)
    w_true = torch.tensor(rng.normal(size=(D, 1)), dtype=torch.float32)

    def next_batch(step):
        g = torch.Generator().manual_seed(step)
        x = torch.randn(N, D, generator=g)
        return x, x @ w_true + 0.01 * torch.randn(N, 1, generator=g)

    def loss_fn(model, batch):
        x, y = batch
        return ((model(x) - y) ** 2).mean()

    held_out = next_batch(10_000)

    def evaluate(model):
        return {"mse": float(loss_fn(model, held_out))}

    return next_batch, loss_fn, evaluate


def scalar_loss(model, batch):
    return (model.p ** 2).sum()


def scripted(values):
    """An `evaluate` returning the given accuracies one after another."""
    calls = iter(values)
    return lambda model: {"accuracy": next(calls)}


def sgd(model, lr=0.1):
    return torch.optim.SGD(model.parameters(), lr=lr)
