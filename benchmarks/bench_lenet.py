"""One LeNet training step (forward, backward, Adam update) on a batch of 64 digits: the NumPy framework
(`helpers.framework.LeNet.build()`, float64) against the same network in `torch.nn` (float32).

    .venv/bin/python benchmarks/bench_lenet.py [--rounds 5] [--seconds 0.5] [--clock cpu|wall]

Both run on one thread (NumPy's BLAS via threadpoolctl, torch via `set_num_threads`): on these small
matrices more threads only wait for each other, and one thread is what the notebook trains with.
The two steps are timed in interleaved rounds; each keeps its fastest round. The default clock is the
process's CPU time, which other processes on a shared machine disturb much less than wall time.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from threadpoolctl import threadpool_limits
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from helpers import digits  # noqa: E402
from helpers.framework import LeNet  # noqa: E402
from timing import CLOCKS, time_per_call  # noqa: E402

BATCH = 64


class FixedBatch:
    """The framework's data layer protocol, always returning the same batch."""

    def __init__(self, images: np.ndarray, one_hot: np.ndarray):
        self.images, self.one_hot = images, one_hot

    def next(self):
        return self.images, self.one_hot


def batch() -> tuple[np.ndarray, np.ndarray]:
    """64 training digits (B, 1, 8, 8) and their integer labels."""
    train = digits.load_splits()["train"]
    return train.images[:BATCH], train.labels[:BATCH]


def numpy_step():
    images, labels = batch()
    np.random.seed(0)
    net = LeNet.build()
    net.data_layer = FixedBatch(images, np.eye(10)[labels])
    return lambda: net.train(1)


def torch_lenet() -> nn.Module:
    """The same architecture: 3x3 "same" convolutions, ReLU, 2x2 max pooling, 120 / 84 / 10 units."""
    return nn.Sequential(nn.Conv2d(1, 6, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(6, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(64, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def torch_step():
    images, labels = batch()
    torch.manual_seed(0)
    model = torch_lenet()
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-4, weight_decay=0.0)
    x, y = torch.tensor(images, dtype=torch.float32), torch.tensor(labels)

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = nn.functional.cross_entropy(model(x), y, reduction="sum")
        loss.backward()
        optimizer.step()
    return step


def lenet_rows(rounds: int = 5, seconds: float = 0.5, clock: str = "cpu") -> dict[str, float]:
    """name -> fastest ms per training step over `rounds` interleaved rounds (one thread each)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(1):
            steps = {"NumPy framework LeNet (float64)": numpy_step(), "torch.nn LeNet (float32)": torch_step()}
            for step in steps.values():
                step()
                step()
            best = {name: float("inf") for name in steps}
            for _ in range(rounds):
                for name, step in steps.items():
                    best[name] = min(best[name], 1e3 * time_per_call(step, seconds, CLOCKS[clock]))
    finally:
        torch.set_num_threads(threads)
    return best


def markdown(rows: dict[str, float]) -> str:
    reference = rows["torch.nn LeNet (float32)"]
    lines = ["| implementation | ms per step | ratio to torch.nn |", "| --- | --- | --- |"]
    lines += [f"| {name} | {ms:.2f} | {ms / reference:.2f}x |" for name, ms in rows.items()]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=0.5)
    parser.add_argument("--clock", choices=tuple(CLOCKS), default="cpu")
    args = parser.parse_args(argv)
    print(f"LeNet training step (forward, backward, Adam), batch {BATCH} of 8x8 digits, one thread, "
          f"{args.clock} time; fastest of {args.rounds} interleaved rounds:\n")
    print(markdown(lenet_rows(args.rounds, args.seconds, args.clock)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
