"""Steps per second of one palindrome training run: the from-scratch LSTMs vs. the same loop on `nn.LSTM`.

    .venv/bin/python benchmarks/bench_palindrome.py [--length 20] [--steps 100] [--rounds 3]

`palindrome_rows()` returns the table rows (for `benchmarks/run.py`); run as a script it prints them
as a Markdown table. Every implementation trains with `helpers.palindromes.train` on the sheet's
settings (hidden 128, batch 128, RMSProp, clipping, held-out evaluation included); the rounds are
interleaved and each implementation keeps its fastest round, so a burst of load from another process
does not slow one implementation only.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402
from torch import nn  # noqa: E402

from helpers import palindromes  # noqa: E402
from helpers.data import DIGITS  # noqa: E402
from helpers.torch_lstm import LSTM, FastLSTM  # noqa: E402

BASELINE = "torch.nn.LSTM + read-out (baseline)"


class TorchLSTMClassifier(nn.Module):
    """The baseline: `torch.nn.LSTM` and a read-out with the call signature of the workbook's LSTM."""

    def __init__(self, input_size: int, hidden_size: int, output_size: int):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, batch_first=True)
        self.read_out = nn.Linear(hidden_size, output_size)

    def forward(self, x, state=None):
        hs, state = self.lstm(x, state)
        return self.read_out(hs), state


def palindrome_rows(length: int = 20, steps: int = 100, rounds: int = 3) -> list[dict]:
    """One row per implementation: name, steps per second (fastest round), ratio to the baseline."""
    config = palindromes.make_config(length=length, model="lstm", max_steps=steps,
                                     eval_every=max(1, steps // 2), target_accuracy=1.0,
                                     min_steps=steps, seed=0)
    builders = {
        "FastLSTM (from scratch, used for training)": lambda: FastLSTM(DIGITS, 128, DIGITS),
        "LSTM (from scratch, teaching copy)": lambda: LSTM(DIGITS, 128, DIGITS),
        BASELINE: lambda: TorchLSTMClassifier(DIGITS, 128, DIGITS),
    }
    best = {name: 0.0 for name in builders}
    for _ in range(rounds):
        for name, build in builders.items():
            history = palindromes.train(config, model=build())
            best[name] = max(best[name], len(history.steps) / history.elapsed)
    return [{"implementation": name, "length": length, "steps_per_s": rate,
             "ratio_to_baseline": rate / best[BASELINE]} for name, rate in best.items()]


def markdown(rows: list[dict]) -> str:
    lines = ["| implementation | T | steps/s | speed vs. nn.LSTM |", "| --- | --- | --- | --- |"]
    lines += [f"| {r['implementation']} | {r['length']} | {r['steps_per_s']:.1f} | {r['ratio_to_baseline']:.2f}x |"
              for r in rows]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=20)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    load = os.getloadavg()[0]
    rows = palindrome_rows(args.length, args.steps, args.rounds)
    print(f"Palindrome training run (B=128, H=128, one-hot, RMSProp, clipping, held-out evaluation), "
          f"torch {torch.__version__} ({torch.get_num_threads()} threads); load average (1 min) "
          f"{load:.1f} before, {os.getloadavg()[0]:.1f} after.\n")
    print(markdown(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
